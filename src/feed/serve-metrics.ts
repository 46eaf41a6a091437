import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServerMessage } from './protocol.ts';

/** What the metrics read from the feed server when scraped. */
export interface FeedCounters {
  readonly subscribers: number;
  readonly framesDropped: number;
  readonly laggedNotices: number;
}

/**
 * `failmode serve`'s Prometheus metrics (own prom-client registry, served at `GET /metrics`):
 *
 * | metric | type | what |
 * |---|---|---|
 * | `failmode_requests_total{api}` | counter | proxied requests (`chat`, `completions`) |
 * | `failmode_tokens_monitored_total` | counter | tokens of finished samples (proxied and pushed) |
 * | `failmode_samples_finished_total` | counter | samples finished |
 * | `failmode_samples_stopped_total{reason}` | counter | samples failmode stopped: `committed_failure`, `risk`, `client` |
 * | `failmode_tokens_saved_estimated_total` | counter | Σ over stopped proxied samples of (the request's max_tokens − tokens at the stop); samples whose request had no max_tokens are not counted |
 * | `failmode_tokens_saved_confirmed_total` | counter | the same, for requests whose abort the engine's /metrics confirmed (`--abort-grace`) |
 * | `failmode_risk{window}` | histogram | P(failure) at each window boundary (`window` = T or `full`) |
 * | `failmode_feed_subscribers` | gauge | WebSocket connections subscribed to a run |
 * | `failmode_feed_frames_dropped_total`, `failmode_feed_lagged_total` | counter | frames dropped for slow subscribers, `lagged` notices sent |
 * | `failmode_upstream_errors_total{kind}` | counter | `unreachable`, `http` (the upstream answered an error), `truncated` (the stream ended without finishing) |
 * | `failmode_aborts_checked_total{status}` | counter | abort checks: `confirmed`, `confirmed_after_explicit_abort`, `unconfirmed`, `unknown` |
 * | `failmode_aborts_unconfirmed_total` | counter | aborts the engine did not confirm within the grace period (explicit abort then sent) |
 */
export class ServeMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'failmode_requests_total', help: 'Proxied requests by API.', labelNames: ['api'] as const, registers: [this.registry] });
  private readonly tokens = new Counter({ name: 'failmode_tokens_monitored_total', help: 'Tokens of finished monitored samples.', registers: [this.registry] });
  private readonly finished = new Counter({ name: 'failmode_samples_finished_total', help: 'Monitored samples finished.', registers: [this.registry] });
  private readonly stopped = new Counter({ name: 'failmode_samples_stopped_total', help: 'Samples stopped by failmode, by reason.', labelNames: ['reason'] as const, registers: [this.registry] });
  private readonly savedEstimated = new Counter({ name: 'failmode_tokens_saved_estimated_total', help: "Stopped samples' remaining max_tokens budget.", registers: [this.registry] });
  private readonly savedConfirmed = new Counter({ name: 'failmode_tokens_saved_confirmed_total', help: 'Estimated tokens saved by requests whose abort the engine confirmed.', registers: [this.registry] });
  private readonly risk = new Histogram({
    name: 'failmode_risk', help: 'P(failure) at each window boundary.', labelNames: ['window'] as const,
    buckets: [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95], registers: [this.registry],
  });
  private readonly upstreamErrors = new Counter({ name: 'failmode_upstream_errors_total', help: 'Upstream failures by kind.', labelNames: ['kind'] as const, registers: [this.registry] });
  private readonly abortChecks = new Counter({ name: 'failmode_aborts_checked_total', help: 'Engine abort checks by result.', labelNames: ['status'] as const, registers: [this.registry] });
  private readonly unconfirmed = new Counter({ name: 'failmode_aborts_unconfirmed_total', help: 'Aborts the engine had not carried out after the grace period.', registers: [this.registry] });

  constructor(feed: () => FeedCounters | null) {
    const reg = [this.registry];
    new Gauge({ name: 'failmode_feed_subscribers', help: 'WebSocket connections subscribed to a run.', registers: reg, collect() { this.set(feed()?.subscribers ?? 0); } });
    new Counter({ name: 'failmode_feed_frames_dropped_total', help: 'Feed frames dropped for slow subscribers.', registers: reg, collect() { this.reset(); this.inc(feed()?.framesDropped ?? 0); } });
    new Counter({ name: 'failmode_feed_lagged_total', help: 'lagged notices sent to slow subscribers.', registers: reg, collect() { this.reset(); this.inc(feed()?.laggedNotices ?? 0); } });
  }

  /** Every feed message the hub publishes passes here (risk, stop, sample_finished are counted). */
  observe(msg: ServerMessage): void {
    if (msg.type === 'risk') this.risk.observe({ window: String(msg.T) }, msg.risk);
    else if (msg.type === 'stop') this.stopped.inc({ reason: msg.reason });
    else if (msg.type === 'sample_finished') { this.finished.inc(); this.tokens.inc(msg.tokens); }
  }

  request(api: string): void { this.requests.inc({ api }); }
  upstreamError(kind: 'unreachable' | 'http' | 'truncated'): void { this.upstreamErrors.inc({ kind }); }
  tokensSaved(estimated: number): void { if (estimated > 0) this.savedEstimated.inc(estimated); }
  abortChecked(status: string, estimatedSaved: number): void {
    this.abortChecks.inc({ status });
    if (status === 'unconfirmed' || status === 'confirmed_after_explicit_abort') this.unconfirmed.inc();
    if ((status === 'confirmed' || status === 'confirmed_after_explicit_abort') && estimatedSaved > 0) this.savedConfirmed.inc(estimatedSaved);
  }

  text(): Promise<string> { return this.registry.metrics(); }
  get contentType(): string { return this.registry.contentType; }
}
