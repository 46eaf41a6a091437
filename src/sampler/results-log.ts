import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { FailmodeError } from '../errors.ts';
import { completedRuns, type QuestionLine, type ResultLine } from '../offline/table/sample-log.ts';

// The log's line format and its completed-run reader live in offline/table/sample-log.ts (the offline readers use them too).
export { completedRuns, readCompletedRuns, type CompletedRun, type CompletedRuns, type QuestionLine, type ResultLine, type SampleLine, type ShadowStop } from '../offline/table/sample-log.ts';

/**
 * The append-only results file of `failmode sample`. Opening it reads the question lines already there, so a rerun
 * skips completed questions; a torn last line (a crash mid-write) is ignored and the file continues on a new line.
 */
export class ResultsLog {
  readonly path: string | null;
  /** Completed questions from earlier runs (and this one), by id. */
  readonly completed = new Map<string, QuestionLine>();
  /** Lines of the file that could not be read (reported, skipped). */
  readonly skippedLines: number[] = [];
  private stream: WriteStream | null = null;

  private constructor(path: string | null) {
    this.path = path;
  }

  static async open(path: string | null): Promise<ResultsLog> {
    const log = new ResultsLog(path);
    if (path === null) return log;
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new FailmodeError(`cannot read ${path}: ${code ?? (err as Error).message}`);
    }
    // The log's one reader: a question's last question line marks it completed.
    const earlier = completedRuns(text);
    for (const [id, run] of earlier.runs) log.completed.set(id, run.question);
    log.skippedLines.push(...earlier.skippedLines);
    log.stream = createWriteStream(path, { flags: 'a' });
    await new Promise<void>((resolve, reject) => {
      log.stream!.once('open', () => resolve());
      log.stream!.once('error', (err: NodeJS.ErrnoException) => reject(new FailmodeError(`cannot write ${path}: ${err.code ?? err.message}`)));
    });
    if (text !== '' && !text.endsWith('\n')) log.stream.write('\n');
    return log;
  }

  write(line: ResultLine): void {
    if (line.kind === 'question') this.completed.set(line.question_id, line);
    this.stream?.write(`${JSON.stringify(line)}\n`);
  }

  async close(): Promise<void> {
    const s = this.stream;
    if (!s) return;
    this.stream = null;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.end(() => resolve());
    });
  }
}

