import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Observable, Subject } from 'rxjs';
import type { MonitorEvent } from '../../src/online/monitor-events.ts';
import { isInteractiveTerminal } from '../../src/tui/is-interactive-terminal.ts';
import { FakeStdin, FakeStdout, waitFor } from '../fixtures/tui-terminal.ts';
import { scriptSession, SCENE } from '../fixtures/tui-script.ts';

// Ink prints only the last frame when CI is set (is-in-ci reads the environment once, when Ink loads), and CI runs
// with CI=true; these tests read the live frames, so Ink is loaded only after those variables are gone.
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
const { runWatchTui } = await import('../../src/tui/run-watch-tui.tsx');

const HEADER = { endpoint: 'http://127.0.0.1:1/v1', model: 'm', classifier: { name: 'train', regime: 'committed', commitmentPoint: 400 } };

test('early stop: a committed_failure stops its sample at once (once), q quits, onQuit runs after unsubscribing', async () => {
  const live = new Subject<MonitorEvent>();
  let unsubscribed = false;
  const events$ = new Observable<MonitorEvent>((sub) => {
    const s = live.subscribe(sub);
    return () => { unsubscribed = true; s.unsubscribe(); };
  });
  const stdout = new FakeStdout(100, 30);
  const stdin = new FakeStdin();
  const stops: string[] = [];
  const order: string[] = [];
  const done = runWatchTui({
    events$, header: HEADER, earlyStop: true, altScreen: false, stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream,
    onStopSample: (id) => { stops.push(id); order.push('stop'); },
    onQuit: () => order.push(`quit(unsubscribed=${unsubscribed})`),
  });
  const events = scriptSession([{ ...SCENE[1]!, stopAfterFlag: false }]);
  const flagAt = events.findIndex((e) => e.type === 'committed_failure');
  for (const e of events.slice(0, flagAt + 1)) live.next(e);
  assert.deepEqual(stops, ['r2:0'], 'stopped synchronously on the event, before any redraw');
  for (const e of events.slice(flagAt + 1, flagAt + 30)) live.next(e);
  await waitFor(() => stdout.lastFrame().includes('⚑ committed failure'), () => stdout.lastFrame());
  stdin.write('s');
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(stops, ['r2:0'], 'a sample is stopped at most once');
  stdin.write('q');
  await done;
  assert.equal(unsubscribed, true);
  assert.deepEqual(order, ['stop', 'quit(unsubscribed=true)']);
  assert.ok(!stdout.frames.join('').includes('\u001b[?1049h'), 'altScreen: false keeps the normal screen');
});

test('without earlyStop nothing is stopped automatically; the alternate screen is entered and left', async () => {
  const live = new Subject<MonitorEvent>();
  const stdout = new FakeStdout(80, 24);
  const stdin = new FakeStdin();
  const stops: string[] = [];
  const done = runWatchTui({
    events$: live, header: HEADER, onStopSample: (id) => stops.push(id), // altScreen defaults to on for a TTY
    stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream,
  });
  for (const e of scriptSession([SCENE[1]!])) live.next(e);
  live.complete();
  await waitFor(() => stdout.lastFrame().includes('all 1 ended'), () => stdout.lastFrame());
  assert.match(stdout.lastFrame(), /early stop off/);
  assert.deepEqual(stops, []);
  stdin.write('q');
  await done;
  const all = stdout.frames.join('');
  assert.ok(all.startsWith('\u001b[?1049h'));
  assert.ok(all.endsWith('\u001b[?1049l'));
});

test('isInteractiveTerminal needs a TTY on both stdin and stdout', () => {
  assert.equal(isInteractiveTerminal({ isTTY: true }, { isTTY: true }), true);
  assert.equal(isInteractiveTerminal({ isTTY: false }, { isTTY: true }), false);
  assert.equal(isInteractiveTerminal({}, { isTTY: true }), false);
  assert.equal(isInteractiveTerminal({ isTTY: true }, {}), false);
});
