import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startServe, type ServeHandle } from '../../src/feed/serve-server.ts';
import type { StopMessage } from '../../src/feed/protocol.ts';
import { loadModelFile } from '../../src/models/model-io.ts';
import type { ModelFile } from '../../src/models/model-file.ts';
import type { Question } from '../../src/sampler/load-questions.ts';
import { ResultsLog, type QuestionLine, type ResultLine, type SampleLine } from '../../src/sampler/results-log.ts';
import { runSelfConsistency, type SamplerOptions } from '../../src/sampler/self-consistency.ts';
import { startSimulator, type Simulator } from '../../src/stream/simulator/index.ts';
import { FeedClient } from '../feed/feed-helpers.ts';

const bin = fileURLToPath(new URL('../../bin/failmode', import.meta.url));
const modelPath = fileURLToPath(new URL('../../results/models/simulator-demo.json', import.meta.url));
const questions: Question[] = Array.from({ length: 8 }, (_, i) => ({ id: `q${i}`, prompt: `Shadow item ${i}: which option?\n(A) a\n(B) b\n(C) c\n(D) d`, answer: 'B' }));

const cli = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
const readLines = async (p: string) => (await readFile(p, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as ResultLine);

/** Plurality with ties to the lowest completion index, written out for the hand count. */
function plurality(answers: Array<string | null>): string | null {
  const counts = new Map<string, number>();
  for (const a of answers) if (a !== null) counts.set(a, (counts.get(a) ?? 0) + 1);
  let best: string | null = null;
  for (const [a, c] of counts) if (best === null || c > counts.get(best)!) best = a;
  return best;
}

describe('shadow mode end to end: simulator + serve --shadow + sample --shadow + shadow-report', () => {
  let sim: Simulator;
  let serve: ServeHandle;
  let model: ModelFile;
  let dir: string;
  const serveLog: string[] = [];
  let feed: FeedClient;
  let real: SampleLine[];
  let shadowPath: string;
  let abortedDuringShadow = -1;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'failmode-shadow-'));
    model = await loadModelFile(modelPath);
    sim = await startSimulator({ seed: 31 });
    serve = await startServe({ port: 0, upstream: sim.url, model, shadow: true, log: (l) => serveLog.push(l) });
    feed = await new FeedClient(`${serve.url.replace(/^http/, 'ws')}/feed`).open();
    feed.send({ type: 'subscribe', run: 'all' });
    await feed.waitFor((m) => m.type === 'subscribed');

    const base: SamplerOptions = {
      baseURL: sim.url, model: 'sim', n: 6, earlyStop: true, monitorModel: model, profile: 'final-answer', vote: 'majority',
      concurrency: 6, seed: 1, minKeep: 0, extraBody: { failmode_sim: { reference: 'B' } },
    };
    // The run that really stops (straight to the engine), then the shadow run through serve --shadow, same seed.
    const realLog = await ResultsLog.open(join(dir, 'real.jsonl'));
    await runSelfConsistency(questions, realLog, base);
    await realLog.close();
    real = (await readLines(join(dir, 'real.jsonl'))).filter((l): l is SampleLine => l.kind === 'sample');
    shadowPath = join(dir, 'shadow.jsonl');
    const aborted0 = sim.stats().aborted;
    const log = await ResultsLog.open(shadowPath);
    await runSelfConsistency(questions, log, { ...base, baseURL: `${serve.url}/v1`, shadow: true, runTag: 'shadow-run' });
    await log.close();
    abortedDuringShadow = sim.stats().aborted - aborted0;
  });
  after(async () => {
    feed?.ws.close();
    await serve?.close();
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('no upstream request was aborted; every sample ran to its end', async () => {
    assert.equal(abortedDuringShadow, 0);
    const lines = (await readLines(shadowPath)).filter((l): l is SampleLine => l.kind === 'sample');
    assert.equal(lines.length, 48);
    for (const s of lines) {
      assert.equal(s.stopped, false);
      assert.notEqual(s.finish_reason, 'failmode_stop');
      assert.ok('shadow_stop' in s);
    }
  });

  it('shadow_stop sits on exactly the samples the stopping run stopped, with the same T, risk and reason', async () => {
    const shadow = (await readLines(shadowPath)).filter((l): l is SampleLine => l.kind === 'sample');
    const key = (s: SampleLine) => `${s.question_id}#${s.completion_idx}`;
    const realBy = new Map(real.map((s) => [key(s), s]));
    let stops = 0;
    for (const s of shadow) {
      const r = realBy.get(key(s))!;
      if (r.stopped) {
        stops++;
        assert.deepEqual(s.shadow_stop, { T: r.stop_T, risk: r.stop_risk, reason: r.stop_reason, tokens_at_stop: r.stop_T }, key(s));
        assert.ok(s.tokens > s.shadow_stop!.tokens_at_stop, 'it ran on past the decision');
      } else {
        assert.equal(s.shadow_stop, null, key(s));
        assert.equal(s.tokens, r.tokens, 'same seed, same trace');
        assert.equal(s.answer, r.answer);
      }
    }
    assert.ok(stops >= 4 && stops < shadow.length, `a mix of stopped and kept samples (${stops})`);
  });

  it('serve --shadow decided the same stops: feed `stop` messages with shadow: true and one log line each', async () => {
    const shadow = (await readLines(shadowPath)).filter((l): l is SampleLine => l.kind === 'sample');
    // The feed is asynchronous: wait until every sample's sample_finished has arrived (generous bound, not a pace).
    const deadline = Date.now() + 60_000;
    while (feed.messages.filter((m) => m.type === 'sample_finished' && m.run === 'shadow-run').length < 48) {
      assert.ok(Date.now() < deadline, 'every sample_finished arrives');
      await new Promise((r) => setTimeout(r, 20));
    }
    const stops = feed.messages.filter((m): m is StopMessage => m.type === 'stop' && m.run === 'shadow-run');
    assert.ok(stops.every((m) => m.shadow === true));
    assert.equal(stops.length, shadow.filter((s) => s.shadow_stop).length);
    assert.equal(serveLog.filter((l) => l.startsWith('shadow stop ') && l.includes('"run":"shadow-run"')).length, stops.length);
    // Per question: the server's decisions are the sampler's.
    for (const q of questions) {
      const fromLog = serveLog.filter((l) => l.includes('"run":"shadow-run"') && l.includes(`"question":"${q.id}"`)).map((l) => JSON.parse(l.slice('shadow stop '.length)) as { T: number; reason: string });
      const mine = shadow.filter((s) => s.question_id === q.id && s.shadow_stop);
      assert.deepEqual(fromLog.map((x) => `${x.reason}@${x.T}`).sort(), mine.map((s) => `${s.shadow_stop!.reason}@${s.shadow_stop!.T}`).sort(), q.id);
    }
    const finished = feed.messages.filter((m) => m.type === 'sample_finished' && m.run === 'shadow-run');
    assert.ok(finished.every((m) => m.type === 'sample_finished' && !m.stopped));
  });

  it('shadow-report: every figure equals a hand count on the log', async () => {
    const out = join(dir, 'report.json');
    const res = cli(['shadow-report', shadowPath, '--model-file', modelPath, '--json', out]);
    assert.equal(res.status, 0, res.stderr);
    const r = JSON.parse(await readFile(out, 'utf8'));
    // --json - : the same JSON on stdout, the text report on stderr.
    const toStdout = cli(['shadow-report', shadowPath, '--model-file', modelPath, '--json', '-']);
    assert.equal(toStdout.status, 0, toStdout.stderr);
    assert.deepEqual(JSON.parse(toStdout.stdout), r);
    assert.match(toStdout.stderr, /^shadow report: /);
    const lines = await readLines(shadowPath);
    const samples = lines.filter((l): l is SampleLine => l.kind === 'sample');
    const correct = samples.filter((s) => s.correct === 1);
    const stopped = samples.filter((s) => s.shadow_stop);
    const fk = stopped.filter((s) => s.correct === 1).length;
    assert.equal(r.samples, 48);
    assert.equal(r.questions, 8);
    assert.equal(r.would_stop, stopped.length);
    assert.equal(r.false_kills, fk);
    assert.equal(r.false_kill, fk / correct.length);
    assert.equal(r.stop_precision, stopped.filter((s) => s.correct === 0).length / stopped.length);
    assert.equal(r.failure_recall, stopped.filter((s) => s.correct === 0).length / samples.filter((s) => s.correct === 0).length);
    const total = samples.reduce((a, s) => a + s.tokens, 0);
    assert.equal(r.tokens, total);
    assert.equal(r.tokens_saved, stopped.reduce((a, s) => a + s.tokens - s.shadow_stop!.tokens_at_stop, 0));
    assert.equal(r.tokens_saved_share, r.tokens_saved / total);
    let full = 0;
    let cut = 0;
    for (const q of questions) {
      const mine = samples.filter((s) => s.question_id === q.id).sort((a, b) => a.completion_idx - b.completion_idx);
      if (plurality(mine.map((s) => s.answer)) === 'B') full++;
      if (plurality(mine.map((s) => (s.shadow_stop ? null : s.answer))) === 'B') cut++;
      assert.equal(lines.find((l): l is QuestionLine => l.kind === 'question' && l.question_id === q.id)!.correct, plurality(mine.map((s) => s.answer)) === 'B' ? 1 : 0);
    }
    assert.equal(r.accuracy_full, full / 8);
    assert.equal(r.accuracy_with_stops, cut / 8);
    // 95 % Clopper–Pearson interval around the rate.
    assert.ok(r.false_kill_ci[0] <= r.false_kill && r.false_kill <= r.false_kill_ci[1]);
    // Per window: the windows' stops add up to the total.
    assert.equal(r.windows.reduce((a: number, w: { would_stop: number }) => a + w.would_stop, 0), stopped.length);
    for (const w of r.windows) assert.equal(w.would_stop, stopped.filter((s) => String(s.shadow_stop!.T) === w.window).length);
    // The demo model states a false-kill guarantee (α = 0.15 at 90 %): the report checks it on this traffic, counted by hand.
    assert.equal(r.guarantee.control, 'false-kill');
    assert.equal(r.guarantee.alpha, 0.15);
    assert.equal(r.guarantee.events, fk);
    assert.equal(r.guarantee.trials, correct.length);
    assert.equal(r.guarantee.realised, fk / correct.length);
    assert.match(res.stdout, /\| \*\*overall\*\* \|/);
  });

  it('--records-csv writes the completed runs\' sample records as a table failmode train reads', async () => {
    const csv = join(dir, 'records.csv');
    const res = cli(['shadow-report', shadowPath, '--records-csv', csv]);
    assert.equal(res.status, 0, res.stderr);
    const { loadTable } = await import('../../src/offline/load-table.ts');
    const frame = await loadTable(csv);
    assert.equal(frame.nRows, 48);
    assert.match(res.stderr, /48 sample records/);
  });

  it('a log without `correct` and without references: exit 2 and one line saying what is missing; --dataset fixes it', async () => {
    const stripped = join(dir, 'no-correct.jsonl');
    const lines = await readLines(shadowPath);
    await writeFile(stripped, lines.map((l) => JSON.stringify(l.kind === 'sample' ? { ...l, correct: null } : { ...l, reference: null, correct: null })).join('\n') + '\n');
    const res = cli(['shadow-report', stripped]);
    assert.equal(res.status, 2);
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    assert.match(res.stderr, /have no `correct` and their question no reference answer: give the references with --dataset/);
    const dataset = join(dir, 'dataset.jsonl');
    await writeFile(dataset, questions.map((q) => JSON.stringify(q)).join('\n') + '\n');
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    assert.equal(cli(['shadow-report', stripped, '--dataset', dataset, '--json', a]).status, 0);
    assert.equal(cli(['shadow-report', shadowPath, '--json', b]).status, 0);
    assert.deepEqual(JSON.parse(await readFile(a, 'utf8')), JSON.parse(await readFile(b, 'utf8')));
  });

  it('a log from several resumed runs: only each question\'s completed run counts', async () => {
    // A killed run before the completed one: real sample lines of another run (other seed) without its question lines.
    const killedPath = join(dir, 'killed.jsonl');
    const killedLog = await ResultsLog.open(killedPath);
    await runSelfConsistency(questions.slice(0, 3), killedLog, {
      baseURL: sim.url, model: 'sim', n: 6, earlyStop: true, monitorModel: model, profile: 'final-answer', vote: 'majority',
      concurrency: 6, seed: 1000, minKeep: 0, shadow: true, extraBody: { failmode_sim: { reference: 'B' } },
    });
    await killedLog.close();
    const killed = (await readFile(killedPath, 'utf8')).trim().split('\n').filter((l) => JSON.parse(l).kind === 'sample');
    const resumed = join(dir, 'resumed.jsonl');
    await writeFile(resumed, `${killed.join('\n')}\n${await readFile(shadowPath, 'utf8')}`);
    const a = join(dir, 'resumed.json');
    const b = join(dir, 'plain.json');
    const res = cli(['shadow-report', resumed, '--json', a]);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /18 sample line\(s\) of unfinished runs left out/);
    assert.equal(cli(['shadow-report', shadowPath, '--json', b]).status, 0);
    const ra = JSON.parse(await readFile(a, 'utf8'));
    const rb = JSON.parse(await readFile(b, 'utf8'));
    assert.equal(ra.discarded_samples, 18);
    assert.deepEqual({ ...ra, discarded_samples: 0 }, rb);
    // Counting every line instead would change the figures (the test can fail).
    assert.notEqual(ra.samples + 18, rb.samples);
  });

  it('bad input: a log that is not a shadow run, a missing file', async () => {
    const res = cli(['shadow-report', join(dir, 'real.jsonl')]);
    assert.equal(res.status, 2);
    assert.match(res.stderr, /no sample line has a `shadow_stop` field: record the run with `failmode sample --shadow`/);
    const missing = cli(['shadow-report', join(dir, 'nope.jsonl')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.jsonl: no such file/);
    assert.equal(cli(['shadow-report']).status, 2);
    assert.match(cli(['shadow-report', '--help']).stdout, /Usage[\s\S]*Options[\s\S]*Examples/);
  });
});
