/**
 * One human line per notable monitor event, for headless output (a pipe, a CI log): flags, ends, errors and warnings,
 * worded exactly as the live view words them. Token ticks, windows and risks give no line.
 */
import type { MonitorEvent } from '../online/monitor-events.ts';
import { describeSample } from './describe-sample.ts';
import { formatCount, formatRisk } from './format.ts';
import { sanitizeText } from './sanitize-text.ts';
import type { WatchState } from './state.ts';

/** `state` is the watch state AFTER reducing `event`. */
export function eventLogLine(event: MonitorEvent, state: WatchState): string | null {
  switch (event.type) {
    case 'committed_failure':
      return `${event.sampleId}  ⚑ committed failure at T=${event.T} · risk ${formatRisk(event.risk)} ≥ ${formatRisk(event.threshold)}`;
    case 'final': {
      const at = state.indexById.get(event.sampleId);
      const s = at === undefined ? undefined : state.samples[at];
      if (!s) return null;
      const status = describeSample(s).text;
      if (s.end?.finishReason === 'abort') return `${event.sampleId}  ${status}`;
      const risk = s.risk ? ` · risk ${formatRisk(s.risk.risk)}${s.risk.T === 'full' ? ' (full trace)' : ` at T=${s.risk.T}`}` : '';
      return `${event.sampleId}  ${status} · ${formatCount(s.tokens)} tok${risk}`;
    }
    case 'stream_error':
      return `${event.sampleId ?? '-'}  stream error at ${sanitizeText(event.position)}: ${sanitizeText(event.message)}`;
    case 'warning':
      return `${event.sampleId ?? '-'}  warning: ${sanitizeText(event.message)}`;
    default:
      return null;
  }
}
