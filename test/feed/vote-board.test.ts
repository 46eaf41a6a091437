import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoteBoard } from '../../src/feed/vote-board.ts';
import { votePosterior } from '../../src/policy/vote-posterior.ts';

describe('VoteBoard: the feed\'s `vote` carries the posterior and `decided`', () => {
  it('with the question\'s sample count: posterior of the leader over the samples still to come', () => {
    const b = new VoteBoard();
    const total = 8;
    const m1 = b.add('r', 'q', 's0', 'A', false, 1, total);
    assert.equal(m1.posterior, votePosterior({ tallies: [1], abstained: 0, remaining: 7 }).probability);
    assert.equal(m1.decided, false);
    b.add('r', 'q', 's1', 'A', false, 2, total);
    b.add('r', 'q', 's2', null, false, 3, total); // no answer: abstains
    b.add('r', 'q', 's3', 'B', true, 4, total); // stopped: does not vote, but is no longer to come
    const m = b.add('r', 'q', 's4', 'A', false, 5, total);
    const want = votePosterior({ tallies: [3], abstained: 1, remaining: 3 }).probability;
    assert.equal(m.posterior, want);
    assert.equal(m.decided, want >= 0.95);
    assert.ok(m.decided, `3 of 3 votes with 3 to come: ${want}`);
  });

  it('the server\'s vote confidence decides; no sample left → decided; unknown count → posterior null', () => {
    const strict = new VoteBoard({ voteConfidence: 0.999 });
    strict.add('r', 'q', 's0', 'A', false, 0, 8);
    strict.add('r', 'q', 's1', 'A', false, 1, 8);
    const m = strict.add('r', 'q', 's2', 'A', false, 2, 8);
    assert.ok(Math.abs(m.posterior! - 0.9603174603) < 1e-9, 'the doc example: 3 votes, 5 to come');
    assert.equal(m.decided, false, 'below 0.999');
    assert.equal(new VoteBoard().add('r', 'x', 's', 'A', false, 0, 6).decided, false);
    const last = strict.add('r', 'q', 's3', 'B', false, 3, 4);
    assert.equal(last.decided, true, 'nothing left to come');
    const unknown = new VoteBoard().add('r', 'q2', 's0', 'A', false, 1);
    assert.equal(unknown.posterior, null);
    assert.equal(unknown.decided, false);
  });
});
