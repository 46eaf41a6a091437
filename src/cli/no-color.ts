/**
 * NO_COLOR (https://no-color.org): when it is set to a non-empty value, no ANSI colour. Ink colours through chalk,
 * whose colour support is decided from FORCE_COLOR when chalk is first loaded, and chalk itself does not read NO_COLOR;
 * so the CLI entry turns NO_COLOR into FORCE_COLOR=0 before any command (and Ink) loads. An explicit FORCE_COLOR is
 * the user's own choice and is left alone.
 */
export function applyNoColor(env: NodeJS.ProcessEnv = process.env): void {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '' && env.FORCE_COLOR === undefined) env.FORCE_COLOR = '0';
}
