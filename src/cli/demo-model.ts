import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { FailmodeError } from '../errors.ts';
import type { ModelFile } from '../models/model-file.ts';

/** The paper table the simulator's multiple-choice traces are calibrated on: the fallback training data. */
const FALLBACK_TABLE = 'gpqa_gemma4-31b.final.xlsx';
/** Bootstrap resamples of the on-the-fly training (its regime verdict); small so the demo starts in about a second. */
const FALLBACK_NBOOT = 200;

const REPO = new URL('../../', import.meta.url);

/** The classifier of `failmode demo` and `failmode watch --demo` (one choice, so both show the same thing). */
export interface LoadedModel {
  readonly model: ModelFile;
  /** How it was found, for the header and the headless banner. */
  readonly source: string;
}

/**
 * The demo's classifier: --model-file; else the best model in results/models/ (one trained on simulator traces first —
 * "simulator" or "demo" in its name —, then one that can flag committed failures, then a name containing "general",
 * then top-k 20); else one trained now on the paper table the simulator is calibrated on; else none.
 */
export async function loadDemoModel(modelFile: string | undefined, note: (line: string) => void, commandName = 'demo'): Promise<LoadedModel | null> {
  const { loadModelFile } = await import('../models/model-io.ts');
  if (modelFile !== undefined) return { model: await loadModelFile(modelFile), source: modelFile };

  const dir = fileURLToPath(new URL('results/models/', REPO));
  const names = await readdir(dir).then((n) => n.filter((f) => f.endsWith('.json')).sort(), () => [] as string[]);
  let best: { model: ModelFile; path: string; score: number } | null = null;
  for (const name of names) {
    const path = `${dir}${name}`;
    let model: ModelFile;
    try {
      model = await loadModelFile(path);
    } catch (err) {
      note(`failmode ${commandName}: skipping ${path}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    const label = `${name} ${model.training.name}`;
    const score = (/simulator|demo/i.test(label) ? 16 : 0) + (canFlag(model) ? 8 : 0) + (/general/i.test(label) ? 4 : 0) + (model.signal.topK === 20 ? 2 : 0);
    if (!best || score > best.score) best = { model, path, score };
  }
  if (best) return { model: best.model, source: best.path };

  const table = fileURLToPath(new URL(`../shared/paper/results/${FALLBACK_TABLE}`, REPO));
  try {
    const { loadTable } = await import('../offline/load-table.ts');
    const { trainModel } = await import('../training/train.ts');
    note(`failmode ${commandName}: no model in ${dir}; training one on ${table} (${FALLBACK_NBOOT} bootstrap resamples)…`);
    const { model } = trainModel(await loadTable(table), { file: table, prefinal: true, nBoot: FALLBACK_NBOOT });
    return { model, source: 'trained' };
  } catch (err) {
    if (err instanceof FailmodeError || (err as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND') {
      note(`failmode ${commandName}: no classifier (${err instanceof Error ? err.message : String(err)}); showing features only`);
      return null;
    }
    throw err;
  }
}

/** A model that can emit committed_failure: a committing regime, a T*, and a stop threshold at some window ≥ T*. */
function canFlag(m: ModelFile): boolean {
  if (m.regime === 'persistent' || m.commitmentPoint === null) return false;
  return m.classifiers.some((c) => typeof c.window === 'number' && c.window >= m.commitmentPoint! && c.stop.threshold !== null);
}
