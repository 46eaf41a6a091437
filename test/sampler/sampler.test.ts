import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServe, type ServeHandle } from '../../src/feed/serve-server.ts';
import type { Question } from '../../src/sampler/load-questions.ts';
import { ResultsLog, type QuestionLine, type ResultLine, type SampleLine } from '../../src/sampler/results-log.ts';
import { runSelfConsistency, type SamplerOptions } from '../../src/sampler/self-consistency.ts';
import { vote } from '../../src/policy/vote.ts';
import { startSimulator, type Simulator } from '../../src/stream/simulator/index.ts';
import { constantRiskModel } from '../feed/feed-helpers.ts';
import { waitUntil } from '../fixtures/token-gate.ts';

const questions: Question[] = ['q1', 'q2', 'q3'].map((id) => ({ id, prompt: `Question ${id}?\n(A) a\n(B) b\n(C) c\n(D) d`, answer: 'B' }));

describe('failmode sample: self-consistency on the simulator', () => {
  let sim: Simulator;
  let dir: string;
  before(async () => {
    sim = await startSimulator({ seed: 11 });
    dir = await mkdtemp(join(tmpdir(), 'failmode-sample-'));
  });
  after(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  const base = (over: Partial<SamplerOptions> = {}): SamplerOptions => ({
    baseURL: sim.url, model: 'sim', n: 5, earlyStop: false, monitorModel: null, profile: 'final-answer', vote: 'majority', concurrency: 4,
    // Every question's reference is B; correct samples answer B, failures another letter.
    extraBody: { failmode_sim: { reference: 'B', length: 400 } },
    ...over,
  });
  const readLines = async (path: string): Promise<ResultLine[]> => (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as ResultLine);

  it('votes per question from its samples, scores the vote against the reference, appends every line', async () => {
    const out = join(dir, 'plain.jsonl');
    const log = await ResultsLog.open(out);
    const summary = await runSelfConsistency(questions, log, base());
    await log.close();
    const lines = await readLines(out);
    const samples = lines.filter((l): l is SampleLine => l.kind === 'sample');
    const qs = lines.filter((l): l is QuestionLine => l.kind === 'question');
    assert.equal(samples.length, 15);
    assert.deepEqual(qs.map((q) => q.question_id).sort(), ['q1', 'q2', 'q3']);
    for (const q of qs) {
      const mine = samples.filter((s) => s.question_id === q.question_id).sort((a, b) => a.completion_idx - b.completion_idx);
      assert.deepEqual(mine.map((s) => s.completion_idx), [0, 1, 2, 3, 4]);
      for (const s of mine) {
        assert.match(s.answer ?? '', /^[ABCD]$/);
        assert.equal(s.correct, s.answer === 'B' ? 1 : 0);
        assert.equal(s.tokens, 400);
        assert.equal(s.record?.question_id, q.question_id);
      }
      const v = vote(mine.map((s) => ({ answer: s.answer })));
      assert.equal(q.answer, v.majority);
      assert.deepEqual(q.counts, v.counts);
      assert.equal(q.correct, q.answer === 'B' ? 1 : 0);
      assert.equal(q.tokens, 2000);
      assert.equal(q.stopped, 0);
    }
    assert.equal(summary.questions, 3);
    assert.equal(summary.correct, qs.filter((q) => q.correct === 1).length);
    assert.equal(summary.tokens, 6000);
  });

  it('resumes: a rerun skips completed questions and only requests the rest', async () => {
    const out = join(dir, 'resume.jsonl');
    const controller = new AbortController();
    const log1 = await ResultsLog.open(out);
    const first = await runSelfConsistency(questions, log1, base({ concurrency: 1, signal: controller.signal, onQuestion: () => controller.abort() }));
    await log1.close();
    assert.equal(first.questions, 1);
    assert.equal(first.unfinished, 2);
    const before = sim.stats().requests;
    const log2 = await ResultsLog.open(out);
    assert.deepEqual([...log2.completed.keys()], ['q1']);
    const second = await runSelfConsistency(questions, log2, base({ concurrency: 3 }));
    await log2.close();
    assert.equal(sim.stats().requests - before, 10, 'only q2 and q3 were sampled');
    assert.equal(second.questions, 3);
    assert.equal(second.resumed, 1);
    const qs = (await readLines(out)).filter((l) => l.kind === 'question');
    assert.deepEqual(qs.map((q) => q.question_id).sort(), ['q1', 'q2', 'q3']);
  });

  it('does not record a question whose samples failed, so a rerun retries it', async () => {
    const out = join(dir, 'failed.jsonl');
    const log = await ResultsLog.open(out);
    // The simulator rejects max_tokens 0 with HTTP 400 (not retried).
    const summary = await runSelfConsistency(questions, log, base({ n: 2, maxTokens: 0 as number }));
    await log.close();
    assert.equal(summary.failedQuestions, 3);
    assert.equal(summary.errors, 6);
    assert.equal(summary.questions, 0);
    assert.match(summary.firstError ?? '', /answered HTTP 400: Expected `max_tokens` to be an integer from 1/);
    const lines = await readLines(out);
    assert.equal(lines.filter((l) => l.kind === 'question').length, 0);
    assert.ok(lines.every((l) => l.kind === 'sample' && l.error !== null));
    const again = await ResultsLog.open(out);
    assert.equal(again.completed.size, 0);
    await again.close();
  });

  it('stops flagged samples itself (abort → the simulator stops), keeping min-keep samples per question', async () => {
    // Paced by tokens, not speed: every response holds at token 200 until the 12 stops (at 128) have all reached the
    // engine as aborts, so a stopped sample can never run on past 200 however slowly its abort travels; the kept ones
    // then finish.
    let allAborted: Promise<void> | null = null;
    const paced: Simulator = await startSimulator({
      seed: 12,
      pace: (produced) => (produced < 200 ? undefined : (allAborted ??= waitUntil(() => paced.stats().aborted >= 12, 600_000))),
    });
    // Closed in finally: a failed assertion must fail the test, not leave the simulator holding the process open.
    try {
      const out = join(dir, 'early.jsonl');
      const log = await ResultsLog.open(out);
      const summary = await runSelfConsistency(questions, log, base({
        baseURL: paced.url, concurrency: 8,
        earlyStop: true, monitorModel: constantRiskModel({ T: 128, intercept: 5 }), extraBody: { failmode_sim: { reference: 'B', length: 4000 } },
      }));
      await log.close();
      const lines = await readLines(out);
      const samples = lines.filter((l): l is SampleLine => l.kind === 'sample');
      for (const id of ['q1', 'q2', 'q3']) {
        const mine = samples.filter((s) => s.question_id === id);
        const stopped = mine.filter((s) => s.stopped);
        assert.equal(stopped.length, 4, 'all flagged, one kept (min-keep 1)');
        for (const s of stopped) {
          assert.equal(s.stop_T, 128);
          assert.equal(s.tokens, 128);
          assert.equal(s.answer, null);
          assert.equal(s.correct, null, 'a stopped sample\'s outcome is not observed: unlabelled, not a failure');
          assert.equal(s.finish_reason, 'failmode_stop');
          assert.equal(s.stop_reason, 'committed_failure');
        }
        const kept = mine.find((s) => !s.stopped)!;
        assert.equal(kept.tokens, 4000);
        const q = lines.find((l): l is QuestionLine => l.kind === 'question' && l.question_id === id)!;
        assert.equal(q.answer, kept.answer);
        assert.equal(q.voters, 1);
        assert.equal(q.stopped, 4);
      }
      assert.equal(summary.stopped, 12);
      await waitUntil(() => paced.stats().aborted === 12);
      const generated = paced.stats().tokensGenerated;
      // 3 full samples + 12 stopped at 128 (plus the tokens up to the hold at 200) instead of 15 × 4000.
      assert.ok(generated <= 3 * 4000 + 12 * 200, `the engine generated ${generated} tokens`);
    } finally {
      await paced.close();
    }
  });

  describe('through failmode serve (server-side early stop)', () => {
    let serve: ServeHandle;
    before(async () => {
      serve = await startServe({ port: 0, upstream: sim.url, model: constantRiskModel({ T: 128, intercept: 5 }) });
    });
    after(async () => serve.close());

    it('asks the server to stop (x-failmode-early-stop) and records its failmode_stop ends; the server keeps min-keep samples', async () => {
      const lines: SampleLine[] = [];
      const opts = base({
        baseURL: `${serve.url}/v1`, earlyStop: true, n: 3, extraBody: { failmode_sim: { reference: 'B', length: 3000 } },
        onQuestion: (_q, s) => lines.push(...s),
      });
      // min-keep 0: every flagged sample is stopped by the proxy.
      const all = await runSelfConsistency(questions.slice(0, 1), await ResultsLog.open(null), { ...opts, minKeep: 0 });
      assert.equal(all.stopped, 3);
      assert.ok(lines.every((s) => s.stopped && s.stop_reason === 'server' && s.finish_reason === 'failmode_stop' && s.tokens === 128));
      // Default min-keep 1 (sent as x-failmode-samples / x-failmode-min-keep): the server lets the last one finish.
      lines.length = 0;
      const kept = await runSelfConsistency(questions.slice(0, 1), await ResultsLog.open(null), opts);
      assert.equal(kept.stopped, 2);
      const survivor = lines.find((s) => !s.stopped)!;
      assert.equal(survivor.tokens, 3000);
      assert.match(survivor.answer ?? '', /^[ABCD]$/);
      assert.ok(serve.hub.stats().stopped >= 5);
    });
  });
});
