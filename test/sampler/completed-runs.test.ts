import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completedRuns } from '../../src/sampler/results-log.ts';

const sample = (run: string, q: string, idx: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ kind: 'sample', run_id: run, question_id: q, completion_idx: idx, sample_id: `${run}.${idx}:0`, answer: 'A', correct: 1, stopped: false, tokens: 10, ...extra });
const question = (run: string, q: string, n: number) => JSON.stringify({ kind: 'question', run_id: run, question_id: q, n, answer: 'A' });

describe('completedRuns: only each question\'s completed run counts', () => {
  it('the doc comment example: the killed run\'s sample is discarded', () => {
    const r = completedRuns([sample('a', 'q1', 0), sample('b', 'q1', 1), sample('b', 'q1', 0), question('b', 'q1', 2)].join('\n'));
    assert.deepEqual([...r.runs.keys()], ['q1']);
    const q1 = r.runs.get('q1')!;
    assert.equal(q1.question.run_id, 'b');
    assert.deepEqual(q1.samples.map((s) => [s.run_id, s.completion_idx]), [['b', 0], ['b', 1]], 'sorted by completion index');
    assert.equal(r.discardedSamples, 1);
    assert.equal(r.supersededRuns, 0);
  });

  it('three resumed runs interleaved: every question keeps exactly the samples of the run that completed it', () => {
    const lines = [
      // run a: q1 completed, q2 killed after one sample
      sample('a', 'q1', 0), sample('a', 'q2', 0), sample('a', 'q1', 1), question('a', 'q1', 2),
      // run b (resume): q2 killed again, q3 completed
      sample('b', 'q2', 1), sample('b', 'q3', 0), sample('b', 'q3', 1), question('b', 'q3', 2),
      // run c: q2 completed at last
      sample('c', 'q2', 0), sample('c', 'q2', 1), question('c', 'q2', 2),
      // a line nobody completes (run d killed on q4)
      sample('d', 'q4', 0),
    ];
    const r = completedRuns(`${lines.join('\n')}\n{"kind":"sample","run_id":"d","quest`);
    assert.deepEqual([...r.runs.keys()], ['q1', 'q3', 'q2']);
    for (const [id, run] of r.runs) {
      assert.equal(run.samples.length, 2, id);
      for (const s of run.samples) assert.equal(s.run_id, run.question.run_id, id);
    }
    assert.equal(r.runs.get('q2')!.question.run_id, 'c');
    assert.equal(r.discardedSamples, 3, 'q2 of run a and b, q4 of run d');
    assert.deepEqual(r.skippedLines, [lines.length + 1], 'the torn last line');
  });

  it('a question completed twice (logs appended together): the later run wins', () => {
    const r = completedRuns([sample('a', 'q1', 0), question('a', 'q1', 1), sample('b', 'q1', 0, { answer: 'B' }), question('b', 'q1', 1)].join('\n'));
    assert.equal(r.runs.get('q1')!.question.run_id, 'b');
    assert.equal(r.runs.get('q1')!.samples[0]!.answer, 'B');
    assert.equal(r.supersededRuns, 1);
    assert.equal(r.discardedSamples, 1);
  });

  it('blank lines are fine; junk lines and lines of unknown kind are reported by number', () => {
    const r = completedRuns(['', sample('a', 'q1', 0), 'not json', '{"kind":"other","question_id":"q1"}', '[1]', question('a', 'q1', 1), ''].join('\n'));
    assert.equal(r.runs.get('q1')!.samples.length, 1);
    assert.deepEqual(r.skippedLines, [3, 4, 5]);
  });
});
