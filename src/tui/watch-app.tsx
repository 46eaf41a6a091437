import React, { useMemo, useRef, useState } from 'react';
import { Box, Text, useApp, useInput } from 'ink';
import type { Observable } from 'rxjs';
import { DetailView } from './detail-view.tsx';
import { FooterBar } from './footer-bar.tsx';
import { HeaderBar } from './header-bar.tsx';
import { computeLayout, scrollTo } from './layout.ts';
import { SamplePanel } from './sample-panel.tsx';
import type { SparkSignal } from './spark-buffer.ts';
import { summarizeWatch } from './summarize-watch.ts';
import { useSnapshot } from './use-snapshot.ts';
import { useTerminalSize } from './use-terminal-size.ts';
import { INITIAL_SNAPSHOT, type WatchSnapshot } from './watch-snapshots.ts';
import type { WatchHeaderInfo } from './watch-header.ts';

type Props = {
  /** Throttled snapshots of the reduced monitor events (see watchSnapshots). */
  readonly snapshots$: Observable<WatchSnapshot>;
  readonly header: WatchHeaderInfo;
  /** Called with the selected sample's id when the user presses s (only for samples still streaming). */
  readonly onStopSample?: (sampleId: string) => void;
  /** Flagged samples are stopped automatically (shown in the header). */
  readonly earlyStop?: boolean;
};

/**
 * The live watch view: header, one panel per sample (grid on wide terminals, scrolling when they do not all fit),
 * a detail view for the selected sample, and a footer with the vote and the keys. q exits the Ink app.
 */
export function WatchApp({ snapshots$, header, onStopSample, earlyStop = false }: Props) {
  const { exit } = useApp();
  const size = useTerminalSize();
  const [selected, setSelected] = useState(0);
  const [detail, setDetail] = useState(false);
  const [signal, setSignal] = useState<SparkSignal>('entropy');
  const [paused, setPaused] = useState(false);
  const [stopRequested, setStopRequested] = useState<ReadonlySet<string>>(new Set());
  const [viewError, setViewError] = useState<string | null>(null);
  const snapshot = useSnapshot(snapshots$, INITIAL_SNAPSHOT, {
    isActive: !paused,
    onError: (err) => setViewError(`display error: ${err instanceof Error ? err.message : String(err)}`),
  });
  const { state } = snapshot;
  const summary = useMemo(() => summarizeWatch(state), [state]);
  const layout = computeLayout({ columns: size.columns, rows: size.rows, samples: state.samples.length });
  const count = state.samples.length;
  const current = Math.min(selected, Math.max(0, count - 1));
  const firstRow = useRef(0);
  firstRow.current = scrollTo(firstRow.current, Math.floor(current / layout.gridColumns), layout.visibleRows, layout.totalRows);

  // Keys read the latest render through a ref: Ink re-registers the handler in an effect, which may run after a
  // frame is already on screen, and a key pressed in between must act on what the user sees.
  const view = useRef({ state, current, count, gridColumns: layout.gridColumns, detail, stopRequested, onStopSample });
  view.current = { state, current, count, gridColumns: layout.gridColumns, detail, stopRequested, onStopSample };
  useInput((input, key) => {
    const v = view.current;
    if (input === 'q') {
      exit();
      return;
    }
    if (input === 'p') setPaused((p) => !p);
    else if (input === 'e') setSignal((s) => (s === 'entropy' ? 'nll' : 'entropy'));
    else if (key.return) setDetail((d) => (v.count > 0 ? !d : false));
    else if (key.escape) setDetail(false);
    else if (input === 's') {
      const sample = v.state.samples[v.current];
      if (sample && !sample.end && !v.stopRequested.has(sample.id)) {
        const next = new Set([...v.stopRequested, sample.id]);
        v.stopRequested = next;
        setStopRequested(next);
        v.onStopSample?.(sample.id);
      }
    } else if (v.count > 0) {
      const step = key.leftArrow || key.rightArrow || v.detail ? 1 : v.gridColumns;
      let next = v.current;
      if (key.leftArrow || key.upArrow) next = Math.max(0, v.current - step);
      else if (key.rightArrow || key.downArrow) next = Math.min(v.count - 1, v.current + step);
      v.current = next;
      setSelected(next);
    }
  });

  const elapsedMs = state.startT !== null && state.lastT !== null ? state.lastT - state.startT : 0;
  const rate = summary.allEnded && elapsedMs > 0 ? (state.totalTokens * 1000) / elapsedMs : state.tokensPerSecond;
  const firstShown = firstRow.current * layout.gridColumns;
  const lastShown = Math.min(count, (firstRow.current + layout.visibleRows) * layout.gridColumns);
  const range = count === 0 ? '' : detail ? `sample ${current + 1} of ${count}` : `samples ${firstShown + 1}–${lastShown} of ${count}`;
  const commitmentPoint = header.classifier?.commitmentPoint ?? null;
  const selectedSample = state.samples[current];

  const rows: React.ReactNode[] = [];
  if (!detail) {
    for (let r = firstRow.current; r < Math.min(layout.totalRows, firstRow.current + layout.visibleRows); r++) {
      const cells: React.ReactNode[] = [];
      for (let c = 0; c < layout.gridColumns; c++) {
        const i = r * layout.gridColumns + c;
        const s = state.samples[i];
        if (!s) break;
        cells.push(
          <SamplePanel key={s.id} sample={s} width={layout.panelWidth} height={layout.panelRows} selected={i === current}
            signal={signal} commitmentPoint={commitmentPoint} stopRequested={stopRequested.has(s.id) && !s.end} />,
        );
      }
      rows.push(<Box key={`row${r}`} flexDirection="row">{cells}</Box>);
    }
  }

  return (
    <Box flexDirection="column" width={layout.width} height={layout.height}>
      <HeaderBar info={header} width={layout.width} elapsedMs={elapsedMs} tokensPerSecond={rate} earlyStop={earlyStop} range={range} />
      <Box flexDirection="column" height={layout.areaRows} overflow="hidden">
        {count === 0 ? <Text color="gray">  waiting for the first tokens…</Text>
          : detail && selectedSample ? (
            <DetailView sample={selectedSample} width={layout.width} height={layout.areaRows} signal={signal}
              commitmentPoint={commitmentPoint} stopRequested={stopRequested.has(selectedSample.id) && !selectedSample.end} />
          ) : rows}
      </Box>
      <FooterBar summary={summary} width={layout.width} paused={paused} streamStatus={snapshot.status}
        error={snapshot.error ?? viewError} notice={state.warnings[state.warnings.length - 1] ?? null} detail={detail} />
    </Box>
  );
}
