import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import { render, type Instance } from 'ink';
import { from, Subject } from 'rxjs';
import type { MonitorEvent } from '../../src/online/monitor-events.ts';
import { WatchApp } from '../../src/tui/watch-app.tsx';
import { watchSnapshots } from '../../src/tui/watch-snapshots.ts';
import type { WatchHeaderInfo } from '../../src/tui/watch-header.ts';
import { FakeStdin, FakeStdout, KEYS, waitFor } from '../fixtures/tui-terminal.ts';
import { scriptSession, SCENE } from '../fixtures/tui-script.ts';

const HEADER: WatchHeaderInfo = {
  endpoint: 'http://127.0.0.1:4000/v1', model: 'sim-reasoner',
  classifier: { name: 'gpqa_gpt4o', regime: 'committed', commitmentPoint: 400 },
};

let mounted: Instance[] = [];
afterEach(() => {
  for (const m of mounted) m.unmount();
  mounted = [];
});

function mount(events: MonitorEvent[] | Subject<MonitorEvent>, opts: { columns?: number; rows?: number; header?: WatchHeaderInfo; onStopSample?: (id: string) => void } = {}) {
  const stdout = new FakeStdout(opts.columns ?? 80, opts.rows ?? 24);
  const stdin = new FakeStdin();
  const source = Array.isArray(events) ? from(events) : events.asObservable();
  const app = render(
    React.createElement(WatchApp, { snapshots$: watchSnapshots(source, { intervalMs: 1 }), header: opts.header ?? HEADER, onStopSample: opts.onStopSample, earlyStop: true }),
    { stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, debug: true, patchConsole: false, exitOnCtrlC: false },
  );
  mounted.push(app);
  const frame = () => stdout.lastFrame();
  const until = (check: (f: string) => boolean) => waitFor(() => check(frame()), frame);
  const press = async (key: string) => {
    const before = stdout.frames.length;
    stdin.write(key);
    await new Promise((r) => setTimeout(r, 20));
    return stdout.frames.length > before;
  };
  return { app, stdout, stdin, frame, until, press };
}

test('80×24: fits the terminal and reads header, risks, states and the vote', async () => {
  const ui = mount(scriptSession(SCENE));
  await ui.until((f) => f.includes('all 4 ended'));
  const f = ui.frame();
  const lines = f.split('\n');
  assert.equal(lines.length, 23, 'one row less than the terminal, so Ink redraws in place');
  for (const line of lines) assert.ok(Array.from(line).length <= 80, `too wide: ${line}`);
  assert.match(lines[0]!, /failmode http:\/\/127\.0\.0\.1:4000\/v1 · sim-reasoner/);
  assert.match(lines[0]!, /tok\/s$/);
  assert.match(lines[1]!, /classifier gpqa_gpt4o · committed · T\*=400 · early stop on/);
  assert.match(lines[1]!, /samples 1–3 of 4/);
  assert.match(f, /▶ {2}r1:0 {2}700 tok {2}risk 0\.10/);
  assert.match(f, /✓ finished: B \(correct\)/);
  assert.match(f, /r2:0 {2}400 tok {2}risk 0\.83 ████████▎░ @T=400/, 'a stopped sample shows the risk that flagged it, not the cut trace’s full risk');
  assert.match(f, /w400 H .*\n {3}r3:0/, 'its features are those of the last window it reached');
  assert.match(f, /■ stopped early at 400 tok · ⚑ T=400 risk 0\.83/);
  assert.match(f, /answers B×2 C×1 → majority B \(2 of 3\)/);
  assert.match(f, /⚑ flagged 1 · ■ stopped 1 · ✓ finished 3 · 0 streaming · ≈250 tokens saved/);
  assert.match(lines[22]!, /q quit$/);
});

test('long endpoint and classifier names are cut, never wrapped: the view keeps its 23 rows at 80×24', async () => {
  const header: WatchHeaderInfo = {
    endpoint: 'http://127.0.0.1:39447/v1 (simulator) with a very long description that cannot fit', model: 'failmode-sim-with-a-long-name',
    classifier: { name: 'simulator (demo mix, seed 99) trained on many many traces', regime: 'near-committed', commitmentPoint: 1024 },
  };
  const ui = mount(scriptSession(SCENE), { header });
  await ui.until((f) => f.includes('all 4 ended'));
  const lines = ui.frame().split('\n');
  assert.equal(lines.length, 23);
  for (const line of lines) assert.ok(Array.from(line).length <= 80, `too wide: ${line}`);
  assert.match(lines[0]!, /^failmode http:\/\/127\.0\.0\.1:39447.*… 2\.3 s · 1,000 tok\/s$/);
  assert.match(lines[1]!, /^classifier simulator .*… samples 1–3 of 4$/);
  assert.match(lines[2]!, /r1:0/);
});

test('the header states the stop rule\'s guarantee after the early-stop mode', async () => {
  const header: WatchHeaderInfo = {
    endpoint: 'http://127.0.0.1:4000/v1', model: 'sim-reasoner',
    classifier: { name: 'gpqa_gpt4o', regime: 'committed', commitmentPoint: 400, stopRule: 'false kills ≤ 5% @90% conf. (n=108)' },
  };
  const ui = mount(scriptSession(SCENE), { header, columns: 120 });
  await ui.until((f) => f.includes('all 4 ended'));
  const lines = ui.frame().split('\n');
  assert.match(lines[1]!, /classifier gpqa_gpt4o · committed · T\*=400 · early stop on · false kills ≤ 5% @90% conf\. \(n=108\)/);
});

test('a sample flagged while streaming reads as a committed failure with its T and risk', async () => {
  const events = scriptSession([{ ...SCENE[1]!, stopAfterFlag: false }]);
  const cut = events.findIndex((e) => e.type === 'committed_failure');
  const ui = mount(events.slice(0, cut + 5));
  await ui.until((f) => f.includes('⚑ committed failure'));
  assert.match(ui.frame(), /⚑ committed failure at T=400 · risk 0\.83 ≥ 0\.60/);
  assert.match(ui.frame(), /⚑ flagged 1 · ■ stopped 0 · ✓ finished 0 · 1 streaming/);
  assert.match(ui.frame(), /w400 H /, 'the newest window’s features');
});

test('wide terminal: a grid of panels, all 8 samples visible at 100×30', async () => {
  const scene = [...SCENE, ...SCENE.map((s) => ({ ...s, id: s.id.replace('r', 'q') }))];
  const ui = mount(scriptSession(scene), { columns: 100, rows: 30 });
  await ui.until((f) => f.includes('all 8 ended'));
  const lines = ui.frame().split('\n');
  assert.equal(lines.length, 29);
  assert.ok(lines.some((l) => /r1:0 .* r2:0 /.test(l)), 'two panels side by side');
  assert.match(ui.frame(), /samples 1–8 of 8/);
  for (const id of ['r1:0', 'r4:0', 'q1:0', 'q4:0']) assert.ok(ui.frame().includes(id), id);
});

test('arrow keys move the selection and scroll; Enter opens the detail view, Esc closes it', async () => {
  const ui = mount(scriptSession(SCENE));
  await ui.until((f) => f.includes('all 4 ended'));
  await ui.press(KEYS.down);
  await ui.until((f) => f.includes('▶  r2:0'));
  await ui.press(KEYS.enter);
  await ui.until((f) => f.includes('NLLμ'));
  const f = ui.frame();
  assert.match(f, /sample 2 of 4/);
  assert.match(f, / {4}T {5}Hμ {3}Hmax {3}NLLμ NLLmax {2}margμ {2}nuclμ {3}tieμ {3}fork {4}len {3}risk/);
  assert.match(f, /^ {2}400 .* {3}400 {3}0\.83$/m, 'row of window 400 ends with its length and risk');
  assert.match(f, /\nrisk 128 0\.45 → 256 0\.58 → 400 0\.83 ⚑ → full\(cut\) 0\.10 · stop ≥ 0\.60 at T=400\n/);
  assert.match(f, /prefinal cut: no final-answer line found/);
  assert.match(f, /windows 512 not reached \(the trace ended at 400 tokens\)/);
  assert.ok(!/^ {2}512 /m.test(f), 'no table row for a window the trace never reached');
  await ui.press(KEYS.right);
  await ui.until((f2) => f2.includes('sample 3 of 4'));
  await ui.press(KEYS.escape);
  await ui.until((f2) => f2.includes('samples 1–3 of 4') && f2.includes('▶  r3:0'));
  await ui.press(KEYS.down);
  await ui.until((f2) => f2.includes('samples 2–4 of 4') && f2.includes('▶  r4:0'));
  for (let i = 0; i < 3; i++) await ui.press(KEYS.up);
  await ui.until((f2) => f2.includes('samples 1–3 of 4') && f2.includes('▶  r1:0'));
  await ui.press(KEYS.up);
  assert.match(ui.frame(), /▶ {2}r1:0/, 'the selection stops at the first sample');
});

test('the detail view shows the prefinal cut of a finished sample', async () => {
  const ui = mount(scriptSession(SCENE));
  await ui.until((f) => f.includes('all 4 ended'));
  await ui.press(KEYS.enter);
  await ui.until((f) => f.includes('prefinal cut'));
  assert.match(ui.frame(), /prefinal cut: token 690 of 700/);
});

test('s stops the selected streaming sample once; ended samples cannot be stopped', async () => {
  const live = new Subject<MonitorEvent>();
  const stops: string[] = [];
  const ui = mount(live, { onStopSample: (id) => stops.push(id) });
  const events = scriptSession(SCENE).filter((e) => e.type === 'token' && e.index < 50);
  for (const e of events) live.next(e);
  await ui.until((f) => f.includes('r3:0  50 tok'));
  await ui.press(KEYS.down);
  await ui.press('s');
  await ui.press('s');
  assert.deepEqual(stops, ['r2:0']);
  await ui.until((f) => f.includes('■ stopping…'));
  live.next({ type: 'final', sampleId: 'r2:0', record: { finish_reason: 'abort', generated_len: 50 }, t: events.at(-1)!.t });
  await ui.until((f) => f.includes('■ stopped by user at 50 tok'));
  await ui.press('s');
  assert.deepEqual(stops, ['r2:0']);
});

test('p pauses rendering and resumes at the newest state; e switches the sparkline to NLL', async () => {
  const live = new Subject<MonitorEvent>();
  const ui = mount(live);
  const events = scriptSession([SCENE[0]!]);
  for (const e of events.slice(0, 100)) live.next(e);
  await ui.until((f) => f.includes('100 tok'));
  await ui.press('p');
  await ui.until((f) => f.includes('⏸ paused'));
  for (const e of events.slice(100, 300)) live.next(e);
  await new Promise((r) => setTimeout(r, 60));
  assert.match(ui.frame(), /100 tok/, 'no redraw of new tokens while paused');
  await ui.press('p');
  await ui.until((f) => /\d+ tok/.test(f) && !f.includes('100 tok') && !f.includes('⏸'));
  assert.match(ui.frame(), /r1:0 {2}2\d\d tok/);
  assert.match(ui.frame(), /\n {2}H [▁▂▃▄▅▆▇█]/);
  await ui.press('e');
  await ui.until((f) => /\n {2}N [▁▂▃▄▅▆▇█]/.test(f));
});

test('q exits the app', async () => {
  const ui = mount(scriptSession(SCENE));
  await ui.until((f) => f.includes('all 4 ended'));
  let exited = false;
  void ui.app.waitUntilExit().then(() => { exited = true; });
  await ui.press('q');
  await waitFor(() => exited, () => 'app did not exit');
});

test('without a classifier the header says so and risks read as missing', async () => {
  const events = scriptSession([SCENE[0]!]).filter((e) => e.type !== 'risk' && e.type !== 'committed_failure');
  const ui = mount(events, { header: { endpoint: 'http://x/v1', model: 'm', classifier: null } });
  await ui.until((f) => f.includes('all 1 ended'));
  assert.match(ui.frame(), /no classifier loaded: risk and failure flags are off/);
  assert.match(ui.frame(), /✓ finished 1 · 0 streaming\n/, 'no tokens-saved figure when nothing was stopped');
  assert.match(ui.frame(), /r1:0 {2}700 tok {2}risk {2}– {3}·/);
});

test('a stream error ends the session visibly instead of blanking it', async () => {
  const live = new Subject<MonitorEvent>();
  const ui = mount(live);
  for (const e of scriptSession([SCENE[0]!]).slice(0, 20)) live.next(e);
  live.error(new Error('connection refused (127.0.0.1:9)'));
  await ui.until((f) => f.includes('stream failed'));
  assert.match(ui.frame(), /1 streaming · ✗ connection refused/);
  assert.match(ui.frame(), /stream failed · .*q quit/);
  assert.match(ui.frame(), /r1:0 {2}20 tok/);
});
