import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { vote } from '../../src/policy/vote.ts';
import { stopSignal } from '../../src/policy/stop-policy.ts';
import { parseQuestions } from '../../src/sampler/load-questions.ts';

describe('vote', () => {
  it('majority: plurality, ties to the first seen, agreement over voters', () => {
    const v = vote([{ answer: '5' }, { answer: '4' }, { answer: '4' }, { answer: '5' }, { answer: null }, { answer: '7' }]);
    assert.equal(v.majority, '5'); // 5 and 4 tie at 2; 5 came first
    assert.deepEqual(v.counts, { 5: 2, 4: 2, 7: 1 });
    assert.equal(v.voters, 5);
    assert.equal(v.agreement, 2 / 5);
  });

  it('stopped samples and missing answers do not vote; nobody voting gives null', () => {
    const v = vote([{ answer: 'A', stopped: true }, { answer: 'B' }, { answer: 'A', stopped: true }]);
    assert.equal(v.majority, 'B');
    assert.deepEqual(v.counts, { B: 1 });
    assert.equal(v.agreement, 1);
    const none = vote([{ answer: null }, { answer: 'A', stopped: true }]);
    assert.equal(none.majority, null);
    assert.equal(none.agreement, null);
    assert.equal(none.voters, 0);
  });

  it('weighted: each vote counts 1 − risk (clamped), missing risk counts 1', () => {
    // A: 1 − 0.9 + 1 − 0.8 = 0.3; B: 1 − 0.1 = 0.9 → B wins although A has more votes.
    const v = vote([{ answer: 'A', risk: 0.9 }, { answer: 'B', risk: 0.1 }, { answer: 'A', risk: 0.8 }], 'weighted');
    assert.equal(v.majority, 'B');
    assert.ok(Math.abs(v.weights.A! - 0.3) < 1e-12);
    assert.ok(Math.abs(v.weights.B! - 0.9) < 1e-12);
    assert.equal(v.agreement, 1 / 3); // by ballot count
    assert.equal(vote([{ answer: 'A', risk: 1.7 }, { answer: 'B', risk: null }], 'weighted').majority, 'B');
    assert.deepEqual(vote([{ answer: 'A', risk: -3 }], 'weighted').weights, { A: 1 });
  });
});

describe('stop policy', () => {
  const risk = (T: number | 'full', r: number, threshold: number | null) => ({ type: 'risk' as const, sampleId: 's', index: 0, T, risk: r, threshold, t: 0 });
  it('stops on a committed failure under both policies, on an early risk over threshold only under any-window', () => {
    const cf = { type: 'committed_failure' as const, sampleId: 's', T: 256, risk: 0.9, threshold: 0.7, regime: 'committed' as const, features: {}, t: 0 };
    assert.deepEqual(stopSignal(cf, 'commitment'), { reason: 'committed_failure', T: 256, risk: 0.9, threshold: 0.7 });
    assert.deepEqual(stopSignal(risk(128, 0.8, 0.7), 'any-window'), { reason: 'risk', T: 128, risk: 0.8, threshold: 0.7 });
    assert.equal(stopSignal(risk(128, 0.8, 0.7), 'commitment'), null);
    assert.equal(stopSignal(risk(128, 0.6, 0.7), 'any-window'), null);
    assert.equal(stopSignal(risk(128, 0.9, null), 'any-window'), null);
    assert.equal(stopSignal(risk('full', 0.99, 0.5), 'any-window'), null);
  });
});

describe('parseQuestions', () => {
  it('reads ids, prompts and answers, and says where a line is wrong', () => {
    assert.deepEqual(parseQuestions('{"id":1,"prompt":"p","answer":42}\n\n{"prompt":"q"}\n', 'd.jsonl'), [
      { id: '1', prompt: 'p', answer: '42' }, { id: '3', prompt: 'q', answer: null },
    ]);
    assert.throws(() => parseQuestions('{"id":"a","prompt":"p"}\n{"id":"a","prompt":"q"}', 'd.jsonl'), /d\.jsonl line 2: id `a` repeats line 1/);
    assert.throws(() => parseQuestions('{"id":"a"}', 'd.jsonl'), /d\.jsonl line 1: expected `prompt` to be a non-empty string/);
    assert.throws(() => parseQuestions('nope', 'd.jsonl'), /d\.jsonl line 1: expected a JSON object/);
    assert.throws(() => parseQuestions('\n\n', 'd.jsonl'), /has no questions/);
  });
});
