/**
 * The state line a person reads for one sample — shared by the panels, the detail view and headless output, so
 * every view words a state the same way.
 */
import { formatCount, formatRisk } from './format.ts';
import { sampleStatus, type SampleView } from './state.ts';

export interface SampleDescription {
  readonly text: string;
  readonly color: string;
}

export function describeSample(s: SampleView, { stopRequested = false }: { stopRequested?: boolean } = {}): SampleDescription {
  const flag = s.flag;
  const flagText = flag ? `⚑ committed failure at T=${flag.T} · risk ${formatRisk(flag.risk)} ≥ ${formatRisk(flag.threshold)}` : '';
  const errors = s.errors > 0 ? ` · ${s.errors} bad chunk${s.errors === 1 ? '' : 's'}` : '';
  switch (sampleStatus(s)) {
    case 'streaming':
      return stopRequested ? { text: `■ stopping…${errors}`, color: 'magenta' } : { text: `… streaming${errors}`, color: 'cyan' };
    case 'flagged':
      return { text: `${flagText}${stopRequested ? ' · stopping…' : ''}${errors}`, color: 'red' };
    case 'stopped':
      return flag
        ? { text: `■ stopped early at ${formatCount(s.tokens)} tok · ⚑ T=${flag.T} risk ${formatRisk(flag.risk)}${errors}`, color: 'magenta' }
        : { text: `■ stopped by user at ${formatCount(s.tokens)} tok${errors}`, color: 'magenta' };
    case 'failed':
      return { text: `✗ stream failed${s.lastError ? `: ${s.lastError}` : ''}`, color: 'red' };
    case 'finished': {
      const end = s.end!;
      const verdict = end.correct === true ? ' (correct)' : end.correct === false ? ' (wrong)' : '';
      const reason = end.finishReason && end.finishReason !== 'stop' ? ` [${end.finishReason}]` : '';
      const answer = end.answer !== null ? `✓ finished: ${end.answer}${verdict}` : '✓ finished: no answer found';
      const was = flag ? ` · was ⚑ at T=${flag.T} (${formatRisk(flag.risk)})` : '';
      return { text: `${answer}${reason}${was}${errors}`, color: flag ? 'yellow' : 'green' };
    }
  }
}
