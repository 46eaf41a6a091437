import { FailmodeError } from '../errors.ts';
import { parseCommandArgs, type OptionSpec } from './args.ts';

/**
 * Option parsing for the scripts in scripts/, with the CLI's conventions: `--help`/`-h` prints `help` (Usage /
 * Options / Examples) and exits 0 before the script does anything; an unknown or malformed option is one line on
 * stderr and exit code 2 (`name: …`), never a stack trace.
 */
export function parseScriptArgs<O extends OptionSpec>(name: string, help: string, options: O, argv = process.argv.slice(2)) {
  try {
    const parsed = parseCommandArgs(argv, options);
    if ((parsed.values as { help?: boolean }).help) {
      process.stdout.write(help.endsWith('\n') ? help : `${help}\n`);
      process.exit(0);
    }
    return parsed;
  } catch (err) {
    if (!(err instanceof FailmodeError)) throw err;
    process.stderr.write(`${name}: ${err.message} (see --help)\n`);
    process.exit(err.exitCode);
  }
}
