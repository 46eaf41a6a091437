import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { KvStopCounter } from '../../src/feed/bus/kv-stop-counter.ts';
import { fromSubjectToken, parseRunSubject, runSubject, subjectToken } from '../../src/feed/bus/subject.ts';
import { skipWithoutNats, startNatsServer, type NatsServer } from './nats-server.ts';

describe('bus subjects', () => {
  it('escape ids into one subject token, reversibly and without collisions', () => {
    const ids = ['fm-1a2b:0', 'a.b', 'a~2eb', '*', '>', ' ', 'ü', 'x_y-Z9', '~', '', 'run/1'];
    const tokens = ids.map(subjectToken);
    for (const t of tokens) assert.match(t, /^[A-Za-z0-9_~-]*$/);
    assert.equal(new Set(tokens).size, ids.length);
    ids.forEach((id, i) => assert.equal(fromSubjectToken(tokens[i]!), id));
    assert.equal(subjectToken('fm-1a:0'), 'fm-1a~3a0');
    assert.deepEqual(parseRunSubject(runSubject('r.1', 's:2', 'risk')), { run: 'r.1', sampleId: 's:2', type: 'risk' });
    assert.deepEqual(parseRunSubject(runSubject('r', null, 'vote')), { run: 'r', sampleId: null, type: 'vote' });
    assert.equal(parseRunSubject('failmode.v1.stop.x'), null);
  });
});

describe('min-keep counter in NATS KV', { skip: skipWithoutNats() }, () => {
  let nats: NatsServer;
  const conns: NatsConnection[] = [];
  before(async () => { nats = await startNatsServer(); });
  after(async () => {
    for (const c of conns) await c.close();
    await nats?.close();
  });

  it('grants exactly `limit` stops when two instances race for them (compare-and-set)', async () => {
    for (let i = 0; i < 2; i++) conns.push(await connect({ servers: nats.url }));
    const [a, b] = await Promise.all(conns.map((c) => KvStopCounter.open(c)));
    const asks = Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? a! : b!).reserve('run', 'q1', 5));
    const granted = (await Promise.all(asks)).filter(Boolean).length;
    assert.equal(granted, 5);
    assert.equal(await a!.get('run', 'q1'), 5);
    assert.equal(await b!.reserve('run', 'q1', 5), false);
    // Another question has its own count; a release gives one back.
    assert.equal(await a!.reserve('run', 'q2', 1), true);
    b!.release('run', 'q1');
    // The release reaches the bucket asynchronously: wait for it (a generous outer bound, not a speed requirement).
    for (const deadline = Date.now() + 60_000; (await a!.get('run', 'q1')) !== 4 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await a!.get('run', 'q1'), 4);
    assert.equal(await a!.reserve('run', 'q1', 5), true);
  });
});
