import { rename, unlink, writeFile } from 'node:fs/promises';
import { FailmodeError } from '../errors.ts';
import { readInputFile } from '../read-input-file.ts';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelFile, type Regime, type StopRuleGuarantee, type WindowClassifier } from './model-file.ts';

/**
 * Reading, validating and writing model files (docs/model-format.md). Validation checks every field — format and
 * version, types, finite numbers, consistent array lengths, the regime, the windows — and reports the first problem
 * as one FailmodeError line naming the file and the field, e.g.
 * `model.json: classifiers[2].coef has 10 entries, expected 11 (featureNames)`.
 */

export const MODEL_ERROR_CODE = 'FAILMODE_ERR_MODEL';
const REGIMES: readonly Regime[] = ['committed', 'near-committed', 'persistent'];

/** Reads and validates a model file. Unreadable file, bad JSON or an invalid model → FailmodeError (exit 2). */
export async function loadModelFile(path: string): Promise<ModelFile> {
  const text = await readInputFile(path, { what: 'model file', code: MODEL_ERROR_CODE, encoding: 'utf8' });
  return parseModelFile(text, path);
}

/** Parses JSON text and validates it. */
export function parseModelFile(text: string, source = 'model file'): ModelFile {
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    // JSON.parse quotes the text near the error: for a binary file that holds newlines and control bytes.
    if (/[\u0000\ufffd]/.test(text.slice(0, 4096))) throw modelError(`${source}: not a model file (binary data; expected JSON)`);
    throw modelError(`${source}: not valid JSON (${(err as Error).message.replace(/[\u0000-\u001f\u007f]+/g, ' ')})`);
  }
  return validateModelFile(json, source);
}

/** Validates, then writes the model as indented JSON (via a temporary file, so a crash never leaves half a model). */
export async function saveModelFile(path: string, model: ModelFile): Promise<void> {
  const valid = validateModelFile(model, path);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, serializeModelFile(valid));
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new FailmodeError(`cannot write model file ${path}: ${why}`, 'FAILMODE_ERR_OUTPUT', 2);
  }
}

/** The file's text: 2-space indented JSON, number arrays on one line so a model stays readable. */
export function serializeModelFile(model: ModelFile): string {
  const text = JSON.stringify(model, (_key, value: unknown) => {
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number')) return `\u0000${JSON.stringify(value)}\u0000`;
    return value;
  }, 2);
  return `${text.replace(/"\\u0000(\[[^\]]*\])\\u0000"/g, '$1')}\n`;
}

/**
 * Checks that `json` is a valid version-1 model and returns it as a ModelFile (a clean copy: unknown fields are
 * dropped). Throws FailmodeError (exit 2) with a precise message otherwise.
 */
export function validateModelFile(json: unknown, source = 'model file'): ModelFile {
  const v: Checker = new Checker(source);
  const root = v.object(json, '');
  const format = v.field(root, 'format', '');
  if (format !== MODEL_FORMAT) v.fail('format', `is ${describe(format)}, expected "${MODEL_FORMAT}" (not a failmode model file)`);
  const version = v.field(root, 'version', '');
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) v.fail('version', `is ${describe(version)}, expected the integer ${MODEL_FORMAT_VERSION}`);
  if (version > MODEL_FORMAT_VERSION) {
    throw modelError(`${source}: format version ${version} is newer than this failmode supports (${MODEL_FORMAT_VERSION}); upgrade failmode`);
  }

  const createdAt = v.string(v.field(root, 'createdAt', ''), 'createdAt');
  if (Number.isNaN(Date.parse(createdAt))) v.fail('createdAt', `is "${createdAt}", expected an ISO 8601 date-time`);

  const sig = v.object(v.field(root, 'signal', ''), 'signal');
  const signal = {
    topK: v.integer(v.field(sig, 'topK', 'signal'), 'signal.topK', 1),
    nucleusP: v.number(v.field(sig, 'nucleusP', 'signal'), 'signal.nucleusP', { gt: 0, max: 1 }),
    tieDelta: v.number(v.field(sig, 'tieDelta', 'signal'), 'signal.tieDelta', { min: 0 }),
  };
  const prefinal = v.boolean(v.field(root, 'prefinal', ''), 'prefinal');
  const profileRaw = v.field(root, 'profile', '');
  const profile = profileRaw === null ? null : v.string(profileRaw, 'profile');

  const windowsRaw = v.array(v.field(root, 'windows', ''), 'windows');
  const windows = windowsRaw.map((w, i) => v.integer(w, `windows[${i}]`, 1));
  for (let i = 1; i < windows.length; i++) {
    if (windows[i]! <= windows[i - 1]!) v.fail(`windows[${i}]`, `is ${windows[i]}, expected windows in increasing order without repeats (previous ${windows[i - 1]})`);
  }

  const classifiersRaw = v.array(v.field(root, 'classifiers', ''), 'classifiers');
  if (classifiersRaw.length === 0) v.fail('classifiers', 'is empty, expected at least one classifier');
  const hasGuarantee = root['guarantee'] !== undefined;
  const classifiers = classifiersRaw.map((c, i) => validateClassifier(v, c, `classifiers[${i}]`, windows, hasGuarantee));
  const seen = new Set<number | 'full'>();
  classifiers.forEach((c, i) => {
    if (seen.has(c.window)) v.fail(`classifiers[${i}].window`, `${c.window} appears twice, expected one classifier per window`);
    seen.add(c.window);
  });
  windows.forEach((T, i) => {
    if (!seen.has(T)) v.fail(`windows[${i}]`, `${T} has no classifier, expected one in classifiers`);
  });

  const regime = v.field(root, 'regime', '');
  if (typeof regime !== 'string' || !(REGIMES as readonly string[]).includes(regime)) {
    v.fail('regime', `is ${describe(regime)}, expected one of ${REGIMES.join(', ')}`);
  }
  const cpRaw = v.field(root, 'commitmentPoint', '');
  const commitmentPoint = cpRaw === null ? null : v.integer(cpRaw, 'commitmentPoint', 1);
  if (commitmentPoint !== null && !windows.includes(commitmentPoint)) {
    v.fail('commitmentPoint', `is ${commitmentPoint}, expected one of the windows (${windows.join(', ')}) or null`);
  }

  const tr = v.object(v.field(root, 'training', ''), 'training');
  const n = v.integer(v.field(tr, 'n', 'training'), 'training.n', 1);
  const failures = v.integer(v.field(tr, 'failures', 'training'), 'training.failures', 0);
  if (failures > n) v.fail('training.failures', `is ${failures}, more than training.n (${n})`);
  const failureRate = v.number(v.field(tr, 'failureRate', 'training'), 'training.failureRate', { min: 0, max: 1 });
  if (Math.abs(failureRate - failures / n) > 1e-9) v.fail('training.failureRate', `is ${failureRate}, expected failures / n = ${failures / n}`);
  const training: { -readonly [K in keyof ModelFile['training']]: ModelFile['training'][K] } = {
    name: v.string(v.field(tr, 'name', 'training'), 'training.name'), n, failures, failureRate,
  };
  if (tr['mode'] !== undefined) {
    if (tr['mode'] !== 'paper' && tr['mode'] !== 'corrected') v.fail('training.mode', `is ${describe(tr['mode'])}, expected "paper" or "corrected"`);
    training.mode = tr['mode'] as 'paper' | 'corrected';
  }
  if (tr['nBoot'] !== undefined) training.nBoot = v.integer(tr['nBoot'], 'training.nBoot', 1);
  classifiers.forEach((c, i) => {
    if (c.n !== undefined && c.n > n) v.fail(`classifiers[${i}].n`, `is ${c.n}, more than training.n (${n})`);
  });
  if (tr['fitOn'] !== undefined) {
    if (tr['fitOn'] !== 'all' && tr['fitOn'] !== 'running') v.fail('training.fitOn', `is ${describe(tr['fitOn'])}, expected "all" or "running"`);
    training.fitOn = tr['fitOn'] as 'all' | 'running';
  }
  if (tr['stopModel'] !== undefined) {
    if (tr['stopModel'] !== 'window' && tr['stopModel'] !== 'hazard') v.fail('training.stopModel', `is ${describe(tr['stopModel'])}, expected "window" or "hazard"`);
    training.stopModel = tr['stopModel'] as 'window' | 'hazard';
  }
  if (tr['insufficient'] !== undefined) {
    const x = v.object(tr['insufficient'], 'training.insufficient');
    if (x['forced'] !== true) v.fail('training.insufficient.forced', `is ${describe(x['forced'])}, expected true (a model below the support rule exists only when forced)`);
    const int = (k: string) => v.integer(v.field(x, k, 'training.insufficient'), `training.insufficient.${k}`, 0);
    training.insufficient = {
      forced: true, reason: v.string(v.field(x, 'reason', 'training.insufficient'), 'training.insufficient.reason'),
      n: int('n'), failures: int('failures'), correct: int('correct'), usableFeatures: int('usableFeatures'), minRows: int('minRows'), minClass: int('minClass'),
    };
  }

  const guarantee = hasGuarantee ? validateGuarantee(v, root['guarantee'], windows, classifiers) : undefined;

  const model: ModelFile = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    createdAt,
    signal,
    prefinal,
    profile,
    windows,
    classifiers,
    regime: regime as Regime,
    commitmentPoint,
    training,
    ...(guarantee !== undefined ? { guarantee } : {}),
    ...(root['description'] !== undefined ? { description: v.string(root['description'], 'description') } : {}),
  };
  return model;
}

function validateClassifier(v: Checker, raw: unknown, at: string, windows: readonly number[], hasGuarantee: boolean): WindowClassifier {
  const c = v.object(raw, at);
  const wRaw = v.field(c, 'window', at);
  let window: number | 'full';
  if (wRaw === 'full') window = 'full';
  else {
    window = v.integer(wRaw, `${at}.window`, 1);
    if (!windows.includes(window)) v.fail(`${at}.window`, `is ${window}, not one of the model's windows (${windows.join(', ')})`);
  }
  const namesRaw = v.array(v.field(c, 'featureNames', at), `${at}.featureNames`);
  if (namesRaw.length === 0) v.fail(`${at}.featureNames`, 'is empty, expected at least one feature');
  const featureNames = namesRaw.map((s, j) => v.string(s, `${at}.featureNames[${j}]`));
  const dup = featureNames.find((s, j) => featureNames.indexOf(s) !== j);
  if (dup !== undefined) v.fail(`${at}.featureNames`, `lists "${dup}" twice`);
  const p = featureNames.length;
  const vector = (key: string, opts: { gt?: number } = {}) => {
    const arr = v.array(v.field(c, key, at), `${at}.${key}`);
    if (arr.length !== p) v.fail(`${at}.${key}`, `has ${arr.length} entries, expected ${p} (featureNames)`);
    return arr.map((x, j) => v.number(x, `${at}.${key}[${j}]`, opts));
  };
  const fill = vector('fill');
  const mean = vector('mean');
  const scale = vector('scale', { gt: 0 });
  const coef = vector('coef');
  const intercept = v.number(v.field(c, 'intercept', at), `${at}.intercept`);

  const nRows = c['n'] === undefined ? undefined : v.integer(c['n'], `${at}.n`, 1);
  const oofRaw = v.object(v.field(c, 'oof', at), `${at}.oof`);
  const unit = (x: unknown, path: string) => (x === null ? null : v.number(x, path, { min: 0, max: 1 }));
  const oof = { prauc: unit(v.field(oofRaw, 'prauc', `${at}.oof`), `${at}.oof.prauc`), auroc: unit(v.field(oofRaw, 'auroc', `${at}.oof`), `${at}.oof.auroc`) };

  const stopRaw = v.object(v.field(c, 'stop', at), `${at}.stop`);
  const sp = `${at}.stop`;
  // Under a model guarantee the threshold is the calibrated rule's and there is no per-window target (see below).
  const tpRaw = hasGuarantee ? stopRaw['targetPrecision'] : v.field(stopRaw, 'targetPrecision', sp);
  const targetPrecision = tpRaw === undefined ? undefined : v.number(tpRaw, `${sp}.targetPrecision`, { gt: 0, max: 1 });
  const stop = {
    threshold: unit(v.field(stopRaw, 'threshold', sp), `${sp}.threshold`),
    ...(targetPrecision !== undefined ? { targetPrecision } : {}),
    precision: unit(v.field(stopRaw, 'precision', sp), `${sp}.precision`),
    recall: unit(v.field(stopRaw, 'recall', sp), `${sp}.recall`),
  };
  if (hasGuarantee) {
    if (stop.precision !== null || stop.recall !== null) v.fail(sp, 'has a per-window precision or recall, expected null for both under a model guarantee (the figures are the whole rule\'s, in guarantee)');
    if (window === 'full' && stop.threshold !== null) v.fail(`${sp}.threshold`, `is ${stop.threshold}, expected null for the full-trace classifier under a model guarantee (a finished sample is not stopped)`);
  } else {
    const nulls = [stop.threshold, stop.precision, stop.recall].filter((x) => x === null).length;
    if (nulls !== 0 && nulls !== 3) v.fail(sp, 'has threshold, precision and recall partly null; expected all three set or all null');
    if (stop.precision !== null && stop.precision < targetPrecision! - 1e-12) {
      v.fail(`${sp}.precision`, `is ${stop.precision}, below targetPrecision ${targetPrecision}`);
    }
  }
  return { window, featureNames, fill, mean, scale, coef, intercept, ...(nRows !== undefined ? { n: nRows } : {}), oof, stop };
}

/**
 * The optional `guarantee` (docs/model-format.md): its fields, their consistency (counts add up, the bound reached is
 * ≤ alpha, a never-stopping rule stops nothing) and that every early classifier's threshold is the rule's common one.
 */
function validateGuarantee(v: Checker, raw: unknown, windows: readonly number[], classifiers: readonly WindowClassifier[]): StopRuleGuarantee {
  const at = 'guarantee';
  const g = v.object(raw, at);
  const method = v.field(g, 'method', at);
  if (method !== 'fixed-sequence-clopper-pearson') v.fail(`${at}.method`, `is ${describe(method)}, expected "fixed-sequence-clopper-pearson"`);
  const family = v.field(g, 'family', at);
  if (family !== 'common-threshold') v.fail(`${at}.family`, `is ${describe(family)}, expected "common-threshold"`);
  const control = v.field(g, 'control', at);
  if (control !== 'false-kill' && control !== 'precision') v.fail(`${at}.control`, `is ${describe(control)}, expected "false-kill" or "precision"`);
  const open01 = (key: string) => {
    const x = v.number(v.field(g, key, at), `${at}.${key}`, { gt: 0 });
    if (!(x < 1)) v.fail(`${at}.${key}`, `is ${x}, expected a number < 1`);
    return x;
  };
  const alpha = open01('alpha');
  const delta = open01('delta');
  const thRaw = v.field(g, 'threshold', at);
  const threshold = thRaw === null ? null : v.number(thRaw, `${at}.threshold`);
  const count = (key: string) => v.integer(v.field(g, key, at), `${at}.${key}`, 0);
  const calibrationN = count('calibrationN');
  const n = count('n');
  const failures = count('failures');
  if (calibrationN + failures !== n) v.fail(`${at}.n`, `is ${n}, expected calibrationN + failures = ${calibrationN + failures}`);
  const stops = count('stops');
  const falseKills = count('falseKills');
  const stoppedFailures = count('stoppedFailures');
  if (falseKills + stoppedFailures !== stops) v.fail(`${at}.stops`, `is ${stops}, expected falseKills + stoppedFailures = ${falseKills + stoppedFailures}`);
  if (falseKills > calibrationN) v.fail(`${at}.falseKills`, `is ${falseKills}, more than calibrationN (${calibrationN})`);
  if (stoppedFailures > failures) v.fail(`${at}.stoppedFailures`, `is ${stoppedFailures}, more than failures (${failures})`);
  const unitOrNull = (key: string) => {
    const x = v.field(g, key, at);
    return x === null ? null : v.number(x, `${at}.${key}`, { min: 0, max: 1 });
  };
  const bound = unitOrNull('bound');
  if (threshold !== null && (bound === null || bound > alpha + 1e-12)) v.fail(`${at}.bound`, `is ${bound === null ? 'null' : bound}, expected the bound reached (≤ alpha ${alpha}) when a threshold is set`);
  if (threshold === null && stops !== 0) v.fail(`${at}.stops`, `is ${stops}, expected 0 for a rule that never stops (threshold null)`);
  const perRaw = v.array(v.field(g, 'perWindow', at), `${at}.perWindow`);
  const perWindow = perRaw.map((p, i) => {
    const pa = `${at}.perWindow[${i}]`;
    const o = v.object(p, pa);
    const window = v.integer(v.field(o, 'window', pa), `${pa}.window`, 1);
    if (!windows.includes(window)) v.fail(`${pa}.window`, `is ${window}, not one of the model's windows (${windows.join(', ')})`);
    const s = v.integer(v.field(o, 'stops', pa), `${pa}.stops`, 0);
    const fk = v.integer(v.field(o, 'falseKills', pa), `${pa}.falseKills`, 0);
    if (fk > s) v.fail(`${pa}.falseKills`, `is ${fk}, more than its stops (${s})`);
    return { window, stops: s, falseKills: fk };
  });
  const sum = perWindow.reduce((a, p) => ({ stops: a.stops + p.stops, falseKills: a.falseKills + p.falseKills }), { stops: 0, falseKills: 0 });
  if (perWindow.length > 0 && (sum.stops !== stops || sum.falseKills !== falseKills)) {
    v.fail(`${at}.perWindow`, `adds up to ${sum.stops} stops / ${sum.falseKills} false kills, expected ${stops} / ${falseKills}`);
  }
  classifiers.forEach((c, i) => {
    // an early window takes the common threshold, or null when it had nothing to calibrate on (it never stops)
    if (c.window !== 'full' && c.stop.threshold !== threshold && c.stop.threshold !== null) {
      v.fail(`classifiers[${i}].stop.threshold`, `is ${c.stop.threshold}, expected the guarantee's common threshold ${threshold} (or null)`);
    }
    if (control === 'precision' && c.stop.targetPrecision !== undefined && Math.abs(c.stop.targetPrecision - (1 - alpha)) > 1e-12) {
      v.fail(`classifiers[${i}].stop.targetPrecision`, `is ${c.stop.targetPrecision}, expected 1 − guarantee.alpha = ${1 - alpha}`);
    }
  });
  return {
    method: 'fixed-sequence-clopper-pearson', family: 'common-threshold', control, alpha, delta, threshold, calibrationN, n, failures,
    stops, falseKills, stoppedFailures, bound,
    falseKillRate: unitOrNull('falseKillRate'), precision: unitOrNull('precision'), recall: unitOrNull('recall'), tokensSaved: unitOrNull('tokensSaved'),
    perWindow,
  };
}

/** Field-by-field checks with the dotted path in every message. */
class Checker {
  constructor(private readonly source: string) {}

  fail(path: string, what: string): never {
    throw modelError(`${this.source}: ${path || 'the file'} ${what}`);
  }

  field(obj: Record<string, unknown>, key: string, parent: string): unknown {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) {
      throw modelError(`${this.source}: missing field ${parent ? `${parent}.` : ''}${key}`);
    }
    return obj[key];
  }

  object(x: unknown, path: string): Record<string, unknown> {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) this.fail(path, `is ${describe(x)}, expected an object`);
    return x as Record<string, unknown>;
  }

  array(x: unknown, path: string): unknown[] {
    if (!Array.isArray(x)) this.fail(path, `is ${describe(x)}, expected an array`);
    return x;
  }

  string(x: unknown, path: string): string {
    if (typeof x !== 'string') this.fail(path, `is ${describe(x)}, expected a string`);
    return x;
  }

  boolean(x: unknown, path: string): boolean {
    if (typeof x !== 'boolean') this.fail(path, `is ${describe(x)}, expected true or false`);
    return x;
  }

  number(x: unknown, path: string, r: { min?: number; max?: number; gt?: number } = {}): number {
    if (typeof x !== 'number' || !Number.isFinite(x)) this.fail(path, `is ${describe(x)}, expected a finite number`);
    if (r.gt !== undefined && !(x > r.gt)) this.fail(path, `is ${x}, expected a number > ${r.gt}`);
    if (r.min !== undefined && x < r.min) this.fail(path, `is ${x}, expected a number ≥ ${r.min}`);
    if (r.max !== undefined && x > r.max) this.fail(path, `is ${x}, expected a number ≤ ${r.max}`);
    return x;
  }

  integer(x: unknown, path: string, min: number): number {
    if (typeof x !== 'number' || !Number.isInteger(x)) this.fail(path, `is ${describe(x)}, expected an integer`);
    if (x < min) this.fail(path, `is ${x}, expected an integer ≥ ${min}`);
    return x;
  }
}

/** How a JSON value is named in messages: its value for scalars, its type otherwise. */
function describe(x: unknown): string {
  if (x === undefined) return 'missing';
  if (x === null) return 'null';
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x);
  if (typeof x === 'number') return Number.isNaN(x) ? 'NaN' : String(x);
  if (typeof x === 'boolean') return String(x);
  if (Array.isArray(x)) return `an array of ${x.length}`;
  return typeof x === 'object' ? 'an object' : typeof x;
}

function modelError(message: string): FailmodeError {
  return new FailmodeError(message, MODEL_ERROR_CODE, 2);
}
