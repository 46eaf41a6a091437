import type { MonitorEvent } from '../online/monitor-events.ts';

/**
 * When a monitored sample should be stopped — the one rule shared by `failmode serve` (server-side early stopping)
 * and `failmode sample` (client-side aborts).
 *
 * - `commitment`: only on a `committed_failure` event (a committing model's sample passed its commitment point T*
 *   with risk ≥ the stop threshold; the monitor emits it at most once per sample).
 * - `any-window` (default): also on the first early-window `risk` event whose risk ≥ that window's stop threshold.
 *   Each window's threshold was chosen on out-of-fold scores for the model file's target precision, so every single
 *   window's rule has that precision on the training data; stopping at the first of several windows is their union,
 *   whose precision can be somewhat lower. The full-trace risk (`T: 'full'`) never stops: the sample is over.
 */
export type StopPolicy = 'commitment' | 'any-window';
export const STOP_POLICIES: readonly StopPolicy[] = ['commitment', 'any-window'];

export interface StopSignal {
  readonly reason: 'committed_failure' | 'risk';
  readonly T: number;
  readonly risk: number;
  readonly threshold: number;
}

export function stopSignal(event: MonitorEvent, policy: StopPolicy = 'any-window'): StopSignal | null {
  if (event.type === 'committed_failure') {
    return { reason: 'committed_failure', T: event.T, risk: event.risk, threshold: event.threshold };
  }
  if (policy === 'any-window' && event.type === 'risk' && typeof event.T === 'number'
    && event.threshold !== null && Number.isFinite(event.risk) && event.risk >= event.threshold) {
    return { reason: 'risk', T: event.T, risk: event.risk, threshold: event.threshold };
  }
  return null;
}
