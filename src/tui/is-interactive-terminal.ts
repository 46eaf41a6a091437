/**
 * Whether the watch UI can run: it needs a terminal on both ends (stdout to draw, stdin for keys). Callers fall back
 * to headless output otherwise (piped output, CI logs).
 */
export function isInteractiveTerminal(
  stdout: { readonly isTTY?: boolean } = process.stdout,
  stdin: { readonly isTTY?: boolean } = process.stdin,
): boolean {
  return stdout.isTTY === true && stdin.isTTY === true;
}
