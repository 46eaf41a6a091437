import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MonitorEvent } from '../../src/online/monitor-events.ts';
import { initialWatchState, reduceWatchState } from '../../src/tui/state.ts';
import { summarizeWatch, tallyVote, voteLine } from '../../src/tui/summarize-watch.ts';
import { scriptSession, SCENE, T0 } from '../fixtures/tui-script.ts';

test('plurality vote, ties and the empty case', () => {
  assert.deepEqual(tallyVote(['B', 'C', 'B', 'D', 'B', 'C']), {
    answers: [{ answer: 'B', count: 3 }, { answer: 'C', count: 2 }, { answer: 'D', count: 1 }],
    majority: 'B', leaders: ['B'], topCount: 3, voters: 6,
  });
  const tie = tallyVote(['C', 'B', 'B', 'C']);
  assert.equal(tie.majority, null);
  assert.deepEqual(tie.leaders, ['C', 'B']);
  assert.equal(voteLine(tie), 'C×2 B×2 → tie C/B (2 each)');
  assert.equal(voteLine(tallyVote([])), 'none yet');
  assert.equal(voteLine(tallyVote(['B', 'B', 'C'])), 'B×2 C×1 → majority B (2 of 3)');
});

test('counts, vote and tokens saved of the scripted scene', () => {
  const s = summarizeWatch(scriptSession(SCENE).reduce(reduceWatchState, initialWatchState()));
  assert.equal(s.total, 4);
  assert.equal(s.flagged, 1);
  assert.equal(s.stopped, 1);
  assert.equal(s.stoppedByUser, 0);
  assert.equal(s.finished, 3);
  assert.equal(s.streaming, 0);
  assert.equal(s.allEnded, true);
  assert.equal(s.vote.majority, 'B');
  assert.equal(s.vote.voters, 3);
  // Finished lengths 700, 650, 600 → mean 650; the stopped sample ended at 400 → 250 tokens saved.
  assert.equal(s.referenceLength, 650);
  assert.equal(s.tokensSaved, 250);
});

test('tokens saved is unknown until a sample has finished on its own; flagged samples that finish leave the unflagged vote', () => {
  const fin = (sampleId: string, record: Record<string, number | string | null>): MonitorEvent => ({ type: 'final', sampleId, record, t: T0 });
  const cf: MonitorEvent = { type: 'committed_failure', sampleId: 'a:0', T: 400, risk: 0.9, threshold: 0.5, regime: 'committed', features: {}, t: T0 };
  let st = [cf, fin('a:0', { finish_reason: 'abort', generated_len: 400 })].reduce(reduceWatchState, initialWatchState());
  assert.equal(summarizeWatch(st).tokensSaved, null);
  const cf2: MonitorEvent = { ...cf, sampleId: 'b:0' };
  st = [cf2, fin('b:0', { finish_reason: 'stop', generated_len: 1000, predicted_answer: 'A' }), fin('c:0', { finish_reason: 'stop', generated_len: 1200, predicted_answer: 'C' })]
    .reduce(reduceWatchState, st);
  const s = summarizeWatch(st);
  assert.equal(s.tokensSaved, 700, 'mean finished length 1100 − 400');
  assert.equal(s.vote.majority, null, 'A and C tie');
  assert.equal(s.unflaggedVote.majority, 'C');
  assert.equal(s.flagged, 2);
  const byUser = summarizeWatch(reduceWatchState(st, fin('d:0', { finish_reason: 'abort', generated_len: 100 })));
  assert.equal(byUser.stopped, 2);
  assert.equal(byUser.stoppedByUser, 1);
  assert.equal(byUser.tokensSaved, 700 + 1000, 'a user stop saves tokens too: 1100 − 100');
});
