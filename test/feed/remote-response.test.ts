import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryBudget, MAX_UNTAKEN_CHARS, RemoteResponse } from '../../src/feed/workers/remote-response.ts';
import type { FromWorker } from '../../src/feed/workers/worker-messages.ts';

describe('RemoteResponse: a worker\'s side of a caller\'s response', () => {
  it('forwards the calls in order and waits for the caller past its allowance', () => {
    const sent: FromWorker[] = [];
    const res = new RemoteResponse(7, (m) => sent.push(m), new DeliveryBudget());
    let drains = 0;
    res.on('drain', () => drains++);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    assert.equal(res.write('x'.repeat(MAX_UNTAKEN_CHARS)), true);
    assert.equal(res.write('y'), false, 'one character over the allowance');
    assert.equal(res.writableNeedDrain, true);
    res.taken(10);
    assert.equal(drains, 1, 'room again once the caller took some');
    assert.equal(res.writableNeedDrain, false);
    res.end('z');
    assert.deepEqual(sent.map((m) => m.type), ['head', 'write', 'write', 'end']);
    assert.equal(res.writableFinished, true);
  });

  it('every response of a worker waits while the main thread is behind on the worker\'s writes, and goes on when it catches up', () => {
    const budget = new DeliveryBudget(100);
    const a = new RemoteResponse(1, () => undefined, budget);
    const b = new RemoteResponse(2, () => undefined, budget);
    const drained: number[] = [];
    a.on('drain', () => drained.push(1));
    b.on('drain', () => drained.push(2));
    a.write('a'.repeat(80));
    assert.equal(b.write('b'.repeat(40)), false, '120 characters on their way, 100 allowed');
    assert.equal(a.writableNeedDrain, true);
    budget.deliveredUpTo(10); // still 110 on their way
    assert.deepEqual(drained, []);
    budget.deliveredUpTo(40);
    assert.deepEqual(drained.sort(), [1, 2]);
    assert.equal(a.writableNeedDrain, false);
  });

  it('a caller that went away is told once, as a `close`', () => {
    const res = new RemoteResponse(1, () => undefined, new DeliveryBudget());
    let closes = 0;
    res.on('close', () => closes++);
    res.callerClosed();
    res.callerClosed();
    assert.equal(closes, 1);
    assert.equal(res.destroyed, true);
  });
});
