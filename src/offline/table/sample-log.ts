import { readInputFile } from '../../read-input-file.ts';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../../input-limits.ts';
import { jsonLines } from '../../json-lines.ts';

/**
 * The line format of a \`failmode sample --out\` results log and the one reader of it that every consumer uses
 * (\`shadow-report\`, and \`sc-triage\` / \`analyze\` / \`train\` / \`early-stop-eval\` / \`trajectory\` on a .jsonl log):
 * {@link completedRuns}. It sits in \`offline\` (below \`sampler\`, which writes the log) so the offline readers can
 * use it too (docs/architecture.md).
 */

/** One sample's line in the results JSONL. */
export interface SampleLine {
  readonly kind: 'sample';
  /** Invocation that wrote it: a rerun's lines of an unfinished question are told apart by it. */
  readonly run_id: string;
  readonly question_id: string;
  readonly completion_idx: number;
  readonly sample_id: string;
  readonly answer: string | null;
  /** 1 / 0 against the question's reference; null without one, and for a stopped sample (its outcome was not observed). */
  readonly correct: 0 | 1 | null;
  readonly stopped: boolean;
  /** `committed_failure` / `risk` / `deepconf` / `vote` / `vote+risk` (stopped here) or `server` (failmode serve ended it with failmode_stop). */
  readonly stop_reason: string | null;
  readonly stop_T: number | null;
  readonly stop_risk: number | null;
  /** Last failure risk the monitor reported (null without a model). */
  readonly risk: number | null;
  readonly tokens: number;
  readonly finish_reason: string;
  readonly latency_s: number;
  readonly error: string | null;
  /**
   * Only with an abort check (`--abort-grace`) on a sample this run stopped: true when the engine still ran the
   * request after the grace period (the explicit abort was then sent), false when it was seen to stop, null when it
   * could not be told (no /metrics). Absent otherwise.
   */
  readonly abort_unconfirmed?: boolean | null;
  /** The monitor's sample record (SPEC §1.4 columns, answer, correct…). */
  readonly record: Record<string, number | string | null> | null;
  /**
   * Shadow runs only (`--shadow`): the stop that WOULD have happened (null: none). The sample ran on, so `answer`,
   * `correct` and `tokens` are its full run's.
   */
  readonly shadow_stop?: ShadowStop | null;
}

/** A stop decision recorded instead of acted on (shadow mode). */
export interface ShadowStop {
  /** Window T of a risk stop; the token count of a DeepConf stop; null for a vote stop. */
  readonly T: number | null;
  /** The failure risk that triggered it (null for DeepConf and vote stops). */
  readonly risk: number | null;
  /** `committed_failure` | `risk` | `deepconf` | `vote` | `vote+risk`. */
  readonly reason: string;
  /** Tokens the sample had generated when the decision was taken (0: it would not have been started). */
  readonly tokens_at_stop: number;
  /** DeepConf stops: the group confidence that fell below the threshold. */
  readonly confidence?: number;
  /** Vote stops: P(the leader stays the plurality) when the vote was decided. */
  readonly posterior?: number;
}

/** One question's line: the vote and what it cost. */
export interface QuestionLine {
  readonly kind: 'question';
  readonly run_id: string;
  readonly question_id: string;
  readonly n: number;
  readonly vote: string;
  readonly answer: string | null;
  readonly counts: Readonly<Record<string, number>>;
  readonly agreement: number | null;
  readonly voters: number;
  readonly reference: string | null;
  readonly correct: 0 | 1 | null;
  readonly stopped: number;
  readonly tokens: number;
  readonly early_stop: boolean;
  /** Pruning rules in force (`risk`, `deepconf`, `vote`, `vote+risk`); absent in older logs. */
  readonly prune?: string | null;
  /** Whether the run only recorded its decisions (`--shadow`). */
  readonly shadow?: boolean;
  /** Vote pruning: whether (and at what posterior) the vote was decided before every sample had finished. */
  readonly vote_decided?: boolean;
  readonly vote_posterior?: number | null;
  /** Samples stopped (or, in shadow mode, that would have been) by the vote rule. */
  readonly vote_pruned?: number;
}

export type ResultLine = SampleLine | QuestionLine;

/** One question's completed run in a results log: its question line and the sample lines of the same run. */
export interface CompletedRun {
  readonly question: QuestionLine;
  /** The samples of that run (same `run_id` and `question_id`), by completion index. */
  readonly samples: readonly SampleLine[];
}

export interface CompletedRuns {
  /** Per question id, in the order the questions were completed. */
  readonly runs: ReadonlyMap<string, CompletedRun>;
  /** Sample lines left out: their (run, question) has no question line — a killed or failed run, redone later. */
  readonly discardedSamples: number;
  /** Question lines superseded by a later completed run of the same question (logs appended to one another). */
  readonly supersededRuns: number;
  /** 1-based numbers of lines that are not JSON objects with a known `kind` (a torn last line, say). */
  readonly skippedLines: readonly number[];
}

/**
 * The "completed run per question" view of a `failmode sample --out` log — the one reader every consumer uses
 * (shadow-report, and sc-triage / analyze / train on sample logs).
 *
 * A log keeps the lines of killed runs by design: a question interrupted mid-way has sample lines but no question
 * line under that `run_id`, and a rerun redoes it under a new `run_id`. Only a question's completed run counts: the
 * sample lines whose (`run_id`, `question_id`) has a question line. When a question was completed more than once
 * (several logs appended together), the last completed run in the file wins.
 *
 * ## Example
 * lines: sample(run a, q1, #0), sample(run b, q1, #0), sample(run b, q1, #1), question(run b, q1)
 * → q1: question of run b with its two samples; 1 discarded sample (run a was killed).
 */
export function completedRuns(text: string): CompletedRuns {
  const questions = new Map<string, QuestionLine>();
  const samplesByRun = new Map<string, SampleLine[]>();
  const skippedLines: number[] = [];
  let superseded = 0;
  let totalSamples = 0;
  const key = (run: unknown, question: string): string => `${typeof run === 'string' ? run : ''}\u0000${question}`;
  for (const l of jsonLines(text)) {
    const line = (l.ok ? l.value : null) as Partial<ResultLine> | null;
    if (line === null || typeof line !== 'object' || typeof line.question_id !== 'string') { skippedLines.push(l.lineNo); continue; }
    if (line.kind === 'question') {
      if (questions.has(line.question_id)) { superseded++; questions.delete(line.question_id); }
      questions.set(line.question_id, line as QuestionLine);
    } else if (line.kind === 'sample') {
      totalSamples++;
      const k = key(line.run_id, line.question_id);
      let list = samplesByRun.get(k);
      if (!list) samplesByRun.set(k, (list = []));
      list.push(line as SampleLine);
    } else {
      skippedLines.push(l.lineNo);
    }
  }
  const runs = new Map<string, CompletedRun>();
  let kept = 0;
  for (const [id, q] of questions) {
    const samples = [...(samplesByRun.get(key(q.run_id, id)) ?? [])].sort((a, b) => a.completion_idx - b.completion_idx);
    kept += samples.length;
    runs.set(id, { question: q, samples });
  }
  return { runs, discardedSamples: totalSamples - kept, supersededRuns: superseded, skippedLines };
}

/**
 * {@link completedRuns} of a file, read within the input limits; a missing or unreadable file (or one over a limit) is
 * a FailmodeError saying which.
 */
export async function readCompletedRuns(path: string, limits: InputLimits = DEFAULT_INPUT_LIMITS): Promise<CompletedRuns> {
  return completedRuns(await readInputFile(path, { encoding: 'utf8', maxBytes: limits.maxBytes }));
}
