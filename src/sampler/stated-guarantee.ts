import type { ModelFile } from '../models/model-file.ts';

/** The stop guarantee a model file states (`failmode train --max-false-kill α`): P(true rate ≤ alpha) ≥ 1 − delta. */
export interface StatedGuarantee {
  readonly control: 'false-kill' | 'precision';
  readonly alpha: number;
  readonly delta: number;
  /** The rule's common threshold; null = the model never stops (then nothing can be falsely killed). */
  readonly threshold: number | null;
}

/** The model file's stated guarantee (docs/model-format.md, `guarantee`), or null for a file without one. */
export function statedGuarantee(model: ModelFile): StatedGuarantee | null {
  const g = model.guarantee;
  if (!g) return null;
  return { control: g.control, alpha: g.alpha, delta: g.delta, threshold: g.threshold };
}
