import type { ModelFile } from '../models/model-file.ts';

/** The stop guarantee a model file states (`failmode train --max-false-kill α`): P(true rate ≤ alpha) ≥ 1 − delta. */
export interface StatedGuarantee {
  readonly control: 'false-kill' | 'precision';
  readonly alpha: number;
  readonly delta: number;
}

/** The model file's stated guarantee, or null when it states none. */
export function statedGuarantee(model: ModelFile): StatedGuarantee | null {
  const m = model as unknown as Record<string, unknown>;
  const raw = (m.guarantee ?? (m.stopRule as Record<string, unknown> | undefined)?.guarantee ?? (m.riskControl as Record<string, unknown> | undefined)?.guarantee) as Record<string, unknown> | undefined;
  if (!raw || typeof raw !== 'object') return null;
  const control = raw.control === 'precision' ? 'precision' : raw.control === 'false-kill' ? 'false-kill' : null;
  if (control === null || typeof raw.alpha !== 'number' || typeof raw.delta !== 'number') return null;
  return { control, alpha: raw.alpha, delta: raw.delta };
}
