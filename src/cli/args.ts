import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from '../errors.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses argv with node's `parseArgs` (strict), turning its exceptions into one-line usage errors (exit 2).
 * Every command adds `--help`/`-h`.
 */
export function parseCommandArgs<O extends OptionSpec>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // One line: node's messages for a value that starts with a dash span three.
    throw usageError(message.replace(/\. To specify a positional argument.*$/s, '').replace(/\s*\n\s*/g, ' '));
  }
}

/** Parses a numeric flag value, or throws "Expected --flag to be …, got `x`". */
export function numberOption(name: string, raw: string | undefined, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const kind = opts.integer ? 'an integer' : 'a number';
  const range = opts.min !== undefined && opts.max !== undefined ? ` from ${opts.min} to ${opts.max}`
    : opts.min !== undefined ? ` ≥ ${opts.min}` : opts.max !== undefined ? ` ≤ ${opts.max}` : '';
  if (raw.trim() === '' || !Number.isFinite(value) || (opts.integer && !Number.isInteger(value))
    || (opts.min !== undefined && value < opts.min) || (opts.max !== undefined && value > opts.max)) {
    throw usageError(`Expected --${name} to be ${kind}${range}, got \`${raw}\``);
  }
  return value;
}

/** Parses a repeatable list flag (`--windows 128 256` is given as repeated strings or comma lists). */
export function numberListOption(name: string, raw: string[] | undefined, opts: { integer?: boolean; min?: number } = {}): number[] | undefined {
  if (raw === undefined || raw.length === 0) return undefined;
  return raw.flatMap((r) => r.split(',')).filter((r) => r.trim() !== '').map((r) => numberOption(name, r, opts) as number);
}

/** Parses a choice flag; the error lists the allowed values. */
export function choiceOption<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw usageError(`Unknown value for --${name}: \`${raw}\`. Value must be one of: ${allowed.join(', ')}`);
  }
  return raw as T;
}

/**
 * Lets list flags take several values like the paper's argparse `nargs='+'`: `--windows 128 256 FILE` becomes
 * `--windows 128 --windows 256 FILE`. Only following tokens that look like numbers are taken, so a positional
 * file name after the list still works.
 */
export function expandNumericListFlags(argv: string[], flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    out.push(arg);
    if (!flags.some((f) => arg === `--${f}`)) continue;
    if (i + 1 < argv.length) out.push(argv[++i]!);
    while (i + 1 < argv.length && /^-?\d+(\.\d+)?(,\d+)*$/.test(argv[i + 1]!)) out.push(arg, argv[++i]!);
  }
  return out;
}
