import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, toArray } from 'rxjs';
import type { ModelFile, Regime, WindowClassifier } from '../../src/models/model-file.ts';
import { createSampleMonitor, monitor } from '../../src/online/monitor.ts';
import type { MonitorEvent } from '../../src/online/monitor-events.ts';
import { recordsToCsv, recordToJsonl, recordColumns } from '../../src/online/record-writers.ts';
import { readCsvFrame } from '../../src/offline/table/read-csv.ts';
import type { StreamEvent, TokenEvent } from '../../src/stream/token-event.ts';

/** Risk = σ(10·(nll_mean − 1)): high for NLL ≫ 1, low for NLL ≪ 1. */
function classifier(window: number | 'full', feature: string, threshold: number | null = 0.5): WindowClassifier {
  return {
    window, featureNames: [feature], fill: [1], mean: [1], scale: [1], coef: [10], intercept: 0,
    oof: { prauc: 0.8, auroc: 0.8 }, stop: { threshold, targetPrecision: 0.9, precision: 0.9, recall: 0.4 },
  };
}

function model(regime: Regime, opts: { prefinal?: boolean; topK?: number; commitmentPoint?: number | null } = {}): ModelFile {
  const sfx = opts.prefinal ? '_prefinal' : '';
  return {
    format: 'failmode-model', version: 1, createdAt: '2026-01-01T00:00:00Z',
    signal: { topK: opts.topK ?? 3, nucleusP: 0.7, tieDelta: 0.5 },
    prefinal: opts.prefinal ?? false, profile: opts.prefinal ? 'final-answer' : null,
    windows: [4, 8, 16],
    classifiers: [classifier(4, `nll_mean${sfx}_w4`), classifier(8, `nll_mean${sfx}_w8`), classifier(16, `nll_mean${sfx}_w16`), classifier('full', `nll_mean${sfx}`)],
    regime, commitmentPoint: opts.commitmentPoint === undefined ? (regime === 'persistent' ? null : 8) : opts.commitmentPoint,
    training: { name: 'hand-made', n: 100, failures: 30, failureRate: 0.3 },
  };
}

function tokens(sampleId: string, n: number, nll: number, k = 3, text = (i: number) => `w${i} `): StreamEvent[] {
  const out: StreamEvent[] = [{ type: 'start', sampleId, t: 0 }];
  for (let i = 0; i < n; i++) {
    const top = Array.from({ length: k }, (_, j) => ({ token: `a${j}`, logprob: -0.1 - j }));
    out.push({ type: 'token', sampleId, index: i, token: text(i), logprob: -nll, top, channel: 'content', t: i });
  }
  out.push({ type: 'end', sampleId, finishReason: 'stop', t: n });
  return out;
}

function run(events: StreamEvent[], opts: Parameters<typeof createSampleMonitor>[0]): MonitorEvent[] {
  const out: MonitorEvent[] = [];
  const m = createSampleMonitor({ now: () => 0, ...opts }, (e) => out.push(e));
  for (const e of events) m.push(e);
  m.end();
  return out;
}

test('committed regime: exactly one committed_failure, at the first window ≥ T* with risk ≥ threshold', () => {
  const events = [...tokens('bad:0', 30, 3), ...tokens('good:0', 30, 0.1)];
  const out = run(events, { model: model('committed') });
  const flags = out.filter((e) => e.type === 'committed_failure');
  assert.equal(flags.length, 1);
  const f = flags[0]!;
  assert.ok(f.type === 'committed_failure');
  assert.equal(f.sampleId, 'bad:0');
  assert.equal(f.T, 8);
  assert.equal(f.regime, 'committed');
  assert.ok(f.risk > 0.99);
  assert.equal(f.features.nll_mean_w8, 3);
  // Risk at each window for both samples, plus 'full' at the end.
  const risks = out.filter((e) => e.type === 'risk' && e.sampleId === 'bad:0').map((e) => (e as { T: number | 'full' }).T);
  assert.deepEqual(risks, [4, 8, 16, 'full']);
  const good = out.filter((e) => e.type === 'risk' && e.sampleId === 'good:0');
  assert.ok(good.every((e) => e.type === 'risk' && e.risk < 0.01));
  assert.equal(out.filter((e) => e.type === 'final').length, 2);
});

test('committed regime: a sample that ends before T* is never flagged', () => {
  const out = run(tokens('short:0', 6, 3), { model: model('committed') });
  assert.equal(out.filter((e) => e.type === 'committed_failure').length, 0);
  // It reached window 4 (risk), then windows 8 and 16 are emitted at the end with the whole trace's features.
  const windows = out.filter((e) => e.type === 'window').map((e) => (e as { T: number }).T);
  assert.deepEqual(windows, [4, 8, 16]);
  const w16 = out.find((e) => e.type === 'window' && e.T === 16)!;
  assert.ok(w16.type === 'window');
  assert.equal(w16.features.window_len_w16, 6);
});

test('persistent regime: no early flag, risk updates to the end (full)', () => {
  const out = run(tokens('bad:0', 30, 3), { model: model('persistent') });
  assert.equal(out.filter((e) => e.type === 'committed_failure').length, 0);
  const risks = out.filter((e) => e.type === 'risk');
  assert.equal(risks.length, 4);
  assert.equal(risks.at(-1)!.type === 'risk' && risks.at(-1)!.T, 'full');
});

test('top-k mismatch: one warning for the session, still scored', () => {
  const events = [...tokens('a:0', 10, 3, 5), ...tokens('b:0', 10, 3, 5)];
  const out = run(events, { model: model('committed', { topK: 20 }) });
  const warnings = out.filter((e) => e.type === 'warning');
  assert.equal(warnings.length, 1);
  assert.match((warnings[0] as { message: string }).message, /top-k 5.*top-k 20/);
  assert.ok(out.some((e) => e.type === 'risk'));
  // Matching top-k: no warning.
  assert.equal(run(tokens('c:0', 10, 3, 3), { model: model('committed', { topK: 3 }) }).filter((e) => e.type === 'warning').length, 0);
  // Requested top-k known up front.
  assert.equal(run([], { model: model('committed', { topK: 3 }), topK: 20 }).filter((e) => e.type === 'warning').length, 1);
});

test('prefinal model: before the marker the prefinal window is the running window; after it, the cut list', () => {
  // Tokens 0..5 NLL 3, then the marker line; window 8 is reached after the marker (cut after 6 tokens).
  const ev: StreamEvent[] = [];
  const texts = ['a', 'b', 'c', 'd', 'e', 'f\n', 'Final Answer: B', ' x', ' y', ' z'];
  texts.forEach((token, index) => ev.push({ type: 'token', sampleId: 's:0', index, token, logprob: index < 6 ? -3 : -0.01, top: [{ token, logprob: -0.1 }], channel: 'content', t: index }));
  ev.push({ type: 'end', sampleId: 's:0', finishReason: 'stop', t: 10 });
  const out = run(ev, { model: model('committed', { prefinal: true, topK: 1 }), profile: 'final-answer', reference: 'B' });
  const flags = out.filter((e) => e.type === 'committed_failure');
  assert.equal(flags.length, 1);
  const f = flags[0]!;
  assert.ok(f.type === 'committed_failure');
  assert.equal(f.T, 8);
  assert.equal(f.features.nll_mean_prefinal_w8, 3); // the cut list (6 tokens of NLL 3), not the running window
  const final = out.find((e) => e.type === 'final')!;
  assert.ok(final.type === 'final');
  assert.equal(final.record.prefinal_len, 6);
  assert.equal(final.record.predicted_answer, 'B');
  assert.equal(final.record.correct, 1);
});

test('a malformed event becomes stream_error and the session goes on; source stream_error passes through', () => {
  const events: StreamEvent[] = [
    { type: 'stream_error', position: 'line 3', message: 'bad JSON', fatal: false, t: 1 },
    { type: 'token', sampleId: 'x:0', index: 0, token: 'a', logprob: -1, top: [{ token: 'a', logprob: Number.NaN }, null as never], channel: 'content', t: 1 },
    { type: 'bogus' } as never,
    ...tokens('y:0', 5, 1),
  ];
  const out = run(events, {});
  const errors = out.filter((e) => e.type === 'stream_error');
  assert.ok(errors.length >= 2, JSON.stringify(errors));
  assert.equal((errors[0] as { position: string }).position, 'line 3');
  assert.ok(out.some((e) => e.type === 'final' && e.sampleId === 'y:0'));
  // The bad token left its sample untouched.
  const x = out.find((e) => e.type === 'final' && e.sampleId === 'x:0');
  assert.ok(x && x.type === 'final');
  assert.equal(x.record.generated_len, 0);
});

test('tokens that arrived without logprobs are reported: one warning for the sample, before its final record', async () => {
  const { ChunkDecoder } = await import('../../src/stream/chunk-decoder.ts');
  const chunk = (delta: string, logprobs: unknown, finish: string | null = null) => JSON.stringify({ id: 'r', choices: [{ index: 0, delta: { content: delta }, logprobs, finish_reason: finish }] });
  const lp = (token: string) => ({ content: [{ token, logprob: -0.5, top_logprobs: [{ token, logprob: -0.5 }, { token: 'x', logprob: -1 }, { token: 'y', logprob: -2 }] }] });
  const stream: StreamEvent[] = [];
  const decoder = new ChunkDecoder((e) => stream.push(e), { requestId: 'q' });
  [chunk('a', lp('a')), chunk('b', null), chunk('c', null), chunk('d', lp('d'), 'stop')].forEach((c, i) => decoder.decodeData(c, `event ${i + 1}`));
  decoder.done();
  const out: MonitorEvent[] = [];
  const m = createSampleMonitor({ windows: [4] }, (e) => out.push(e));
  for (const e of stream) m.push(e);
  const warnings = out.filter((e) => e.type === 'warning');
  assert.equal(warnings.length, 1);
  assert.match((warnings[0] as { message: string }).message, /^2 tokens of q:0 arrived without logprobs/);
  assert.equal((warnings[0] as { sampleId?: string }).sampleId, 'q:0');
  assert.ok(out.indexOf(warnings[0]!) < out.findIndex((e) => e.type === 'final'));
  // A stream with logprobs on every token gets no such warning.
  const clean: MonitorEvent[] = [];
  const m2 = createSampleMonitor({ windows: [4] }, (e) => clean.push(e));
  for (const e of tokens('s', 5, 0.5)) m2.push(e);
  assert.equal(clean.filter((e) => e.type === 'warning').length, 0);
});

test('ticks carry entropy and NLL per token', () => {
  const out = run(tokens('t:0', 3, 2), { ticks: true });
  const ticks = out.filter((e) => e.type === 'token');
  assert.equal(ticks.length, 3);
  assert.ok(ticks.every((e) => e.type === 'token' && e.nll === 2 && e.entropy > 0));
});

test('monitor(): completes with the source; open samples are closed with finish_reason ""', async () => {
  const ev = tokens('open:0', 5, 1).slice(0, -1); // no end event
  const out = await lastValueFrom(monitor(from(ev), { windows: [2] }).pipe(toArray()));
  const final = out.find((e) => e.type === 'final');
  assert.ok(final && final.type === 'final');
  assert.equal(final.record.finish_reason, '');
  assert.equal(final.record.generated_len, 5);
});

test('records → CSV that the analysis loader reads back; JSONL with nulls', () => {
  const out = run([...tokens('q1:0', 5, 1), ...tokens('q1:1', 3, 2)], { windows: [2, 4], profile: 'final-answer', reference: 'A' });
  const records = out.filter((e) => e.type === 'final').map((e) => (e as { record: Record<string, number | string | null> }).record);
  const csv = recordsToCsv(records);
  const frame = readCsvFrame(new TextEncoder().encode(csv), 'mem.csv');
  assert.equal(frame.nRows, 2);
  const cols = recordColumns(records);
  assert.deepEqual(frame.columnNames, cols);
  assert.equal(cols[0], 'sample_id');
  assert.ok(cols.indexOf('nll_mean') < cols.indexOf('nll_mean_w2') && cols.indexOf('window_len_w4') < cols.indexOf('entropy_mean_prefinal'));
  assert.deepEqual([...frame.numeric('generated_len')!], [5, 3]);
  assert.deepEqual([...frame.numeric('correct')!], [0, 0]);
  assert.ok(Number.isNaN(frame.numeric('full_len_prefinal')![0]!));
  assert.equal(frame.numeric('nll_mean_w2')![1], 2);
  const line = JSON.parse(recordToJsonl(records[0]!));
  assert.equal(line.full_len_prefinal, null);
  assert.equal(line.question_id, 'q1');
});

test('a hazard-model classifier reads the previous window\'s features too (docs/model-format.md)', () => {
  // Window 8's classifier: σ(10·(nll_mean_w8 − nll_mean_w4)) — the change since window 4. The sample's NLL jumps
  // from 0.1 (tokens 0–3) to 2.1 (tokens 4–7), so nll_mean_w4 = 0.1, nll_mean_w8 = 1.1: risk σ(10) at T = 8.
  const hazard8: WindowClassifier = {
    window: 8, featureNames: ['nll_mean_w8', 'nll_mean_w4'], fill: [0, 0], mean: [0, 0], scale: [1, 1], coef: [10, -10], intercept: 0,
    oof: { prauc: null, auroc: null }, stop: { threshold: 0.5, targetPrecision: 0.9, precision: null, recall: null },
  };
  const m: ModelFile = { ...model('committed', { commitmentPoint: 8 }), classifiers: [classifier(4, 'nll_mean_w4', null), hazard8, classifier(16, 'nll_mean_w16'), classifier('full', 'nll_mean')] };
  const events = tokens('s', 10, 0.1).map((e) => (e.type === 'token' && e.index >= 4 ? { ...e, logprob: -2.1 } : e));
  const out = run(events, { model: m });
  const r8 = out.find((e) => e.type === 'risk' && e.T === 8);
  assert.ok(r8 && r8.type === 'risk');
  assert.ok(Math.abs(r8.risk - 1 / (1 + Math.exp(-10))) < 1e-9, `risk ${r8.risk}`);
  const flag = out.find((e) => e.type === 'committed_failure');
  assert.ok(flag && flag.type === 'committed_failure', 'flagged at T = 8');
  assert.deepEqual(Object.keys(flag.features), ['nll_mean_w8', 'nll_mean_w4']);
});

test('a stream without logprobs: no risk (features missing, not median-filled), said once for the run', () => {
  /** A sample whose chunks carried no logprobs at all, as a server ignoring `logprobs: true` sends it. */
  const bare = (sampleId: string, n: number): StreamEvent[] => [
    { type: 'start', sampleId, t: 0 },
    ...Array.from({ length: n }, (_, i): StreamEvent => ({ type: 'token', sampleId, index: i, token: `w${i} `, logprob: Number.NaN, top: null, channel: 'content', t: i })),
    { type: 'end', sampleId, finishReason: 'stop', tokensWithoutLogprobs: n, t: n },
  ];
  for (const regime of ['committed', 'persistent'] as const) {
    const out = run([...bare('a:0', 30), ...bare('a:1', 30), ...bare('a:2', 5)], { model: model(regime) });
    assert.deepEqual(out.filter((e) => e.type === 'risk' || e.type === 'committed_failure'), [], regime);
    const warnings = out.filter((e) => e.type === 'warning');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match((warnings[0] as { message: string }).message, /a:0 arrived without logprobs: .*no risk is scored.*not filled with training medians/);
    const finals = out.filter((e) => e.type === 'final');
    assert.equal(finals.length, 3);
    for (const f of finals) assert.ok(f.type === 'final' && Number.isNaN(f.record['nll_mean']), 'the record says missing (NaN), not a median');
  }
  // A sample with logprobs in the same run is still scored, and a partly bare one is scored on what it has.
  const mixed = run([...bare('a:0', 30), ...tokens('b:0', 30, 3)], { model: model('persistent') });
  assert.deepEqual(mixed.filter((e) => e.type === 'risk').map((e) => e.type === 'risk' && e.sampleId), ['b:0', 'b:0', 'b:0', 'b:0']);
});
