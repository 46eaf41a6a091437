/**
 * One error class for everything failmode reports to a person. `code` is machine-readable
 * (`FAILMODE_ERR_*`); `exitCode` is what the CLI exits with: 2 for bad input or usage, 1 for runtime failures.
 * Messages say what was expected and what was found, and where (file, line, column, chunk).
 */
export class FailmodeError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(message: string, code = 'FAILMODE_ERR_INPUT', exitCode = 2) {
    super(message);
    this.name = 'FailmodeError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A usage error (unknown flag, missing argument, bad value): exit code 2. */
export function usageError(message: string): FailmodeError {
  return new FailmodeError(message, 'FAILMODE_ERR_USAGE', 2);
}
