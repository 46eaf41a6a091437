import type { Command } from '../main.ts';
import { choiceOption, parseCommandArgs } from '../args.ts';
import { FailmodeError, usageError } from '../../errors.ts';
import { checkOneStdoutOutput, isStdoutPath, toJsonText, writeOutput } from '../write-output.ts';
import type { ShadowReport } from '../../sampler/shadow-report.ts';

const HELP = `failmode shadow-report — what the stop rule recorded in shadow mode would have done on that traffic

Usage
  failmode shadow-report RUN.jsonl [--model-file M.json] [--dataset FILE.jsonl --profile P] [--json OUT]

  Reads a \`failmode sample --shadow --out RUN.jsonl\` log (only each question's completed run counts: lines of
  interrupted runs are left out) and reports, overall and per window (the window T of a risk stop; \`deepconf\`;
  \`vote\` for vote pruning): the realised false-kill rate (correct samples that would have been stopped / correct
  samples) with a 95 % Clopper–Pearson interval, the stop precision, the failure recall, the share of tokens that
  would have been saved, and the vote's accuracy with every sample and without the would-be stopped ones (a stopped
  sample does not vote). With --model-file it checks the guarantee the model file states (false-kill rate ≤ α, or
  stop precision ≥ 1 − α): holds (realised ≤ α), violated (even the 95 % lower bound is above α) or inconclusive.

  Correctness comes from each sample's \`correct\` (the run had references), else from --dataset's "answer" fields
  checked by the task profile; without either the report cannot count false kills (exit 2).

Options
  --model-file M.json   the model the shadow run used: its stated guarantee is checked on this traffic
  --dataset FILE.jsonl  reference answers ({"id", "prompt", "answer"} per line) for logs recorded without them
  --profile P           how to check answers against references: final-answer | boxed | final-boxed
                        (default: each record's profile)
  --json OUT            also write the report as JSON (false_kill, false_kill_ci, tokens_saved_share,
                        accuracy_full, accuracy_with_stops, samples, questions, windows[], guarantee …);
                        \`-\` writes it to stdout and the text report to stderr
  --records-csv OUT     also write the completed runs' sample records (every feature column, \`correct\`) as a
                        CSV that \`failmode train\` reads: a shadow run is a training set (\`-\`: stdout)
  -h, --help            show this help

Examples
  failmode sample --n 8 --dataset math.jsonl --base-url http://127.0.0.1:8787/v1 --model m --profile boxed \\
      --shadow --model-file model.json --out shadow.jsonl
  failmode shadow-report shadow.jsonl --model-file model.json --json shadow-report.json
  failmode shadow-report shadow.jsonl --records-csv shadow.csv && failmode train shadow.csv --prefinal --out m2.json
`;

const PROFILES = ['final-answer', 'boxed', 'final-boxed', 'code', 'none'] as const;

export const command: Command = {
  summary: 'what a stop rule recorded with sample --shadow would have done: false kills, tokens saved, accuracy',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      'model-file': { type: 'string' },
      dataset: { type: 'string' },
      profile: { type: 'string' },
      json: { type: 'string' },
      'records-csv': { type: 'string' },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw usageError(`Expected one RUN.jsonl (a failmode sample --shadow --out log), got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
    const file = positionals[0]!;
    checkOneStdoutOutput({ json: values.json, 'records-csv': values['records-csv'] });
    const profile = choiceOption('profile', values.profile, PROFILES);
    const { readCompletedRuns } = await import('../../sampler/results-log.ts');
    const { shadowReport } = await import('../../sampler/shadow-report.ts');
    const runs = await readCompletedRuns(file);
    let references: Map<string, string> | undefined;
    if (values.dataset !== undefined) {
      const { loadQuestions } = await import('../../sampler/load-questions.ts');
      references = new Map();
      for (const q of await loadQuestions(values.dataset)) if (q.answer !== null) references.set(q.id, q.answer);
    }
    let guarantee = null;
    let guaranteeNote: string | null = null;
    if (values['model-file'] !== undefined) {
      const { loadModelFile } = await import('../../models/model-io.ts');
      const { statedGuarantee } = await import('../../sampler/stated-guarantee.ts');
      const model = await loadModelFile(values['model-file']);
      guarantee = statedGuarantee(model);
      if (guarantee === null) guaranteeNote = `${values['model-file']} states no false-kill guarantee (train it with \`failmode train --max-false-kill α\`): nothing to check`;
    }
    const report = shadowReport(runs, {
      source: file, ...(references ? { references } : {}), ...(profile ? { profile } : {}), guarantee, guaranteeNote,
    });
    if (runs.skippedLines.length > 0) process.stderr.write(`failmode shadow-report: ${file}: skipped ${runs.skippedLines.length} unreadable line(s) (${runs.skippedLines.slice(0, 5).join(', ')})\n`);
    // With --json - (or --records-csv -) stdout carries that output alone; the text report moves to stderr.
    (isStdoutPath(values.json) || isStdoutPath(values['records-csv']) ? process.stderr : process.stdout).write(formatReport(report, file));
    if (values.json !== undefined) await writeOutput(values.json, toJsonText(report));
    if (values['records-csv'] !== undefined) {
      const { recordsToCsv } = await import('../../online/record-writers.ts');
      const records = [];
      for (const run of runs.runs.values()) for (const s of run.samples) if (s.record !== null && !s.stopped) records.push(s.record);
      if (records.length === 0) throw new FailmodeError(`${file}: no sample has a feature record to write to --records-csv`);
      await writeOutput(values['records-csv'], recordsToCsv(records));
      process.stderr.write(`failmode shadow-report: ${records.length} sample records → ${values['records-csv']} (a training set for failmode train)\n`);
    }
    return 0;
  },
};

function formatReport(r: ShadowReport, file: string): string {
  const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');
  const lines = [
    `shadow report: ${file}`,
    `${r.questions} questions, ${r.samples} samples (${r.correct_samples} correct, ${r.failures} failed); ${r.would_stop} would have been stopped`
      + `${r.discarded_samples ? `; ${r.discarded_samples} sample line(s) of unfinished runs left out` : ''}${r.excluded_stopped ? `; ${r.excluded_stopped} really stopped (outcome unknown) left out` : ''}`,
    '',
    '| window | would stop | false kills | false-kill rate (95% CI) | stop precision | failure recall | tokens saved | vote accuracy: all → with stops |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const row = (name: string, f: ShadowReport | ShadowReport['windows'][number]) => lines.push(
    `| ${name} | ${f.would_stop} | ${f.false_kills}/${f.correct_samples} | ${pct(f.false_kill)} (${pct(f.false_kill_ci[0])}–${pct(f.false_kill_ci[1])}) | ${pct(f.stop_precision)} | ${pct(f.failure_recall)} | ${pct(f.tokens_saved_share)} | ${pct(f.accuracy_full)} → ${pct(f.accuracy_with_stops)} |`,
  );
  for (const w of r.windows) row(/^\d+$/.test(w.window) ? `T=${w.window}` : w.window, w);
  row('**overall**', r);
  lines.push('');
  const g = r.guarantee;
  if (g) {
    const what = g.control === 'false-kill' ? 'false-kill rate' : '1 − stop precision';
    lines.push(`guarantee of the model file: ${what} ≤ ${g.alpha} (confidence ${1 - g.delta}) — on this traffic ${pct(g.realised)} (${g.events}/${g.trials}, 95% lower bound ${pct(g.lower95)}): ${g.verdict.toUpperCase()}`);
  } else if (r.guarantee_note) lines.push(`guarantee: ${r.guarantee_note}`);
  return `${lines.join('\n')}\n`;
}
