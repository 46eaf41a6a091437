import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FailmodeError } from '../../src/errors.ts';
import type { ModelFile } from '../../src/models/model-file.ts';
import { loadModelFile, parseModelFile, saveModelFile, serializeModelFile, validateModelFile } from '../../src/models/model-io.ts';

const dir = mkdtempSync(join(tmpdir(), 'failmode-model-io-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const BIN = new URL('../../bin/failmode', import.meta.url).pathname;

/** A small valid model: windows 128 and 256 plus the full trace, 2 features each. */
function model(): any {
  const clf = (window: number | 'full', suffix: string) => ({
    window,
    featureNames: [`entropy_mean_prefinal${suffix}`, `nll_max_prefinal${suffix}`],
    fill: [0.5, 3], mean: [0.49, 3.2], scale: [0.15, 1.1], coef: [0.8, -0.2], intercept: -0.1,
    oof: { prauc: 0.61, auroc: 0.66 },
    stop: { threshold: 0.82, targetPrecision: 0.9, precision: 0.93, recall: 0.12 },
  });
  return {
    format: 'failmode-model', version: 1, createdAt: '2026-01-02T03:04:05.000Z',
    signal: { topK: 20, nucleusP: 0.7, tieDelta: 0.5 },
    prefinal: true, profile: 'final-answer', windows: [128, 256],
    classifiers: [clf(128, '_w128'), clf(256, '_w256'), clf('full', '')],
    regime: 'committed', commitmentPoint: 256,
    training: { name: 'gpqa_test', n: 200, failures: 50, failureRate: 0.25, mode: 'paper', nBoot: 1000 },
    description: 'hand-made',
  };
}

function rejects(mutate: (m: any) => void, message: RegExp | string) {
  const m = model();
  mutate(m);
  assert.throws(() => validateModelFile(m, 'model.json'), (err: unknown) => {
    assert.ok(err instanceof FailmodeError, 'a FailmodeError');
    assert.equal(err.exitCode, 2);
    assert.equal(err.code, 'FAILMODE_ERR_MODEL');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

test('a valid model validates to an equal copy; unknown fields are dropped', () => {
  assert.deepEqual(validateModelFile(model()), model());
  const extra = { ...model(), somethingNew: 1 };
  assert.deepEqual(validateModelFile(extra), model());
  const { description: _d, ...noDesc } = model();
  const { mode: _m, nBoot: _n, ...oldTraining } = noDesc.training;
  assert.deepEqual(validateModelFile({ ...noDesc, training: oldTraining }), { ...noDesc, training: oldTraining }, 'optional fields may be absent');
});

test('save → load round trip is exact, and the file is readable JSON', async () => {
  const path = join(dir, 'm.json');
  await saveModelFile(path, model());
  const text = readFileSync(path, 'utf8');
  assert.deepEqual(JSON.parse(text), model());
  assert.deepEqual(await loadModelFile(path), model());
  assert.match(text, /"windows": \[128,256\]/, 'number arrays on one line');
  assert.equal(serializeModelFile(model()), text);
  // Full float precision survives
  const m = model();
  m.classifiers[0].coef = [0.1 + 0.2, -1 / 3];
  await saveModelFile(path, m);
  assert.deepEqual((await loadModelFile(path)).classifiers[0]!.coef, [0.1 + 0.2, -1 / 3]);
});

test('saving an invalid model throws and writes nothing', async () => {
  const path = join(dir, 'never.json');
  const m = model();
  m.classifiers[0].coef[0] = NaN;
  await assert.rejects(saveModelFile(path, m), /classifiers\[0\]\.coef\[0\] is NaN, expected a finite number/);
  assert.throws(() => readFileSync(path));
  await assert.rejects(saveModelFile(join(dir, 'no', 'such', 'dir.json'), model()), /cannot write model file .*its directory does not exist/);
});

test('every field is checked, with the field named in the message', () => {
  rejects((m) => { m.format = 'something-else'; }, 'model.json: format is "something-else", expected "failmode-model" (not a failmode model file)');
  rejects((m) => { delete m.format; }, 'model.json: missing field format');
  rejects((m) => { m.version = 2; }, 'model.json: format version 2 is newer than this failmode supports (1); upgrade failmode');
  rejects((m) => { m.version = 0; }, /version is 0, expected the integer 1/);
  rejects((m) => { m.version = '1'; }, /version is "1", expected the integer 1/);
  rejects((m) => { delete m.createdAt; }, 'model.json: missing field createdAt');
  rejects((m) => { m.createdAt = 'yesterday'; }, /createdAt is "yesterday", expected an ISO 8601 date-time/);
  rejects((m) => { delete m.signal; }, 'model.json: missing field signal');
  rejects((m) => { m.signal.topK = 0; }, /signal\.topK is 0, expected an integer ≥ 1/);
  rejects((m) => { m.signal.topK = 20.5; }, /signal\.topK is 20\.5, expected an integer/);
  rejects((m) => { delete m.signal.nucleusP; }, 'model.json: missing field signal.nucleusP');
  rejects((m) => { m.signal.nucleusP = 1.2; }, /signal\.nucleusP is 1\.2, expected a number ≤ 1/);
  rejects((m) => { m.signal.tieDelta = -1; }, /signal\.tieDelta is -1, expected a number ≥ 0/);
  rejects((m) => { m.prefinal = 'yes'; }, /prefinal is "yes", expected true or false/);
  rejects((m) => { m.profile = 3; }, /profile is 3, expected a string/);
  rejects((m) => { delete m.profile; }, 'model.json: missing field profile');
  rejects((m) => { m.windows = 128; }, /windows is 128, expected an array/);
  rejects((m) => { m.windows = [256, 128]; }, /windows\[1\] is 128, expected windows in increasing order/);
  rejects((m) => { m.windows = [128, 256, 512]; }, /windows\[2\] 512 has no classifier/);
  rejects((m) => { m.windows = [128, -256]; }, /windows\[1\] is -256, expected an integer ≥ 1/);
  rejects((m) => { m.classifiers = []; }, /classifiers is empty/);
  rejects((m) => { m.classifiers[1].window = 128; }, /classifiers\[1\]\.window 128 appears twice/);
  rejects((m) => { m.classifiers[1].window = 300; }, /classifiers\[1\]\.window is 300, not one of the model's windows \(128, 256\)/);
  rejects((m) => { m.classifiers[2].window = 'all'; }, /classifiers\[2\]\.window is "all", expected an integer/);
  rejects((m) => { m.classifiers[2].coef.push(1); }, 'model.json: classifiers[2].coef has 3 entries, expected 2 (featureNames)');
  rejects((m) => { m.classifiers[0].fill.pop(); }, 'model.json: classifiers[0].fill has 1 entries, expected 2 (featureNames)');
  rejects((m) => { m.classifiers[0].mean = [1]; }, /classifiers\[0\]\.mean has 1 entries, expected 2/);
  rejects((m) => { m.classifiers[0].scale[1] = 0; }, /classifiers\[0\]\.scale\[1\] is 0, expected a number > 0/);
  rejects((m) => { m.classifiers[0].coef[1] = null; }, /classifiers\[0\]\.coef\[1\] is null, expected a finite number/);
  rejects((m) => { m.classifiers[0].fill[0] = Infinity; }, /classifiers\[0\]\.fill\[0\] is Infinity, expected a finite number/);
  rejects((m) => { m.classifiers[0].intercept = NaN; }, /classifiers\[0\]\.intercept is NaN, expected a finite number/);
  rejects((m) => { delete m.classifiers[1].intercept; }, 'model.json: missing field classifiers[1].intercept');
  rejects((m) => { m.classifiers[0].featureNames = []; }, /featureNames is empty/);
  rejects((m) => { m.classifiers[0].featureNames[1] = m.classifiers[0].featureNames[0]; }, /featureNames lists "entropy_mean_prefinal_w128" twice/);
  rejects((m) => { m.classifiers[0].featureNames[1] = 7; }, /classifiers\[0\]\.featureNames\[1\] is 7, expected a string/);
  rejects((m) => { m.classifiers[0].oof.prauc = 1.5; }, /classifiers\[0\]\.oof\.prauc is 1\.5, expected a number ≤ 1/);
  rejects((m) => { delete m.classifiers[0].oof.auroc; }, 'model.json: missing field classifiers[0].oof.auroc');
  rejects((m) => { m.classifiers[0].stop.targetPrecision = 0; }, /stop\.targetPrecision is 0, expected a number > 0/);
  rejects((m) => { m.classifiers[0].stop.threshold = null; }, /stop has threshold, precision and recall partly null/);
  rejects((m) => { m.classifiers[0].stop.precision = 0.5; }, /stop\.precision is 0\.5, below targetPrecision 0\.9/);
  rejects((m) => { m.regime = 'unknown'; }, /regime is "unknown", expected one of committed, near-committed, persistent/);
  rejects((m) => { m.commitmentPoint = 512; }, /commitmentPoint is 512, expected one of the windows \(128, 256\) or null/);
  rejects((m) => { delete m.training; }, 'model.json: missing field training');
  rejects((m) => { m.training.n = 0; }, /training\.n is 0, expected an integer ≥ 1/);
  rejects((m) => { m.training.failures = 201; }, /training\.failures is 201, more than training\.n \(200\)/);
  rejects((m) => { m.training.failureRate = 0.3; }, /training\.failureRate is 0\.3, expected failures \/ n = 0\.25/);
  rejects((m) => { m.training.name = null; }, /training\.name is null, expected a string/);
  rejects((m) => { m.training.mode = 'fast'; }, /training\.mode is "fast", expected "paper" or "corrected"/);
  rejects((m) => { m.description = 1; }, /description is 1, expected a string/);
  assert.throws(() => validateModelFile([1, 2], 'model.json'), /model.json: the file is an array of 2, expected an object/);
  assert.throws(() => validateModelFile(null, 'model.json'), /the file is null, expected an object/);
  // a persistent model without a commitment point and a classifier without a stop threshold are valid
  const m = model();
  m.regime = 'persistent';
  m.commitmentPoint = null;
  m.classifiers[1].stop = { threshold: null, targetPrecision: 0.9, precision: null, recall: null };
  m.classifiers[1].oof = { prauc: null, auroc: null };
  m.profile = null;
  assert.deepEqual(validateModelFile(m), m);
});

test('bad JSON is one clear error', () => {
  assert.throws(() => parseModelFile('{"format": "failmode-model",', 'x.json'), /^FailmodeError: x\.json: not valid JSON \(/);
  assert.throws(() => parseModelFile('', 'x.json'), /x\.json: not valid JSON/);
  assert.throws(() => parseModelFile('NaN', 'x.json'), /x\.json: not valid JSON/);
  // a BOM is tolerated
  assert.deepEqual(parseModelFile(`\ufeff${JSON.stringify(model())}`), model());
});

test('a binary file or broken JSON with newlines near the error still gives a one-line message', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]).toString('utf8');
  assert.throws(() => parseModelFile(png, 'plot.png'), (err: Error) => err.message === 'plot.png: not a model file (binary data; expected JSON)');
  assert.throws(() => parseModelFile('{"format":\n\t\n}', 'x.json'), (err: Error) => /^x\.json: not valid JSON \(/.test(err.message) && !/[\n\t]/.test(err.message));
});

test('CLI: a corrupt model file gives one clear line on stderr and exit 2', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['badjson.json', '{"format": ', /^failmode train: .*badjson\.json: not valid JSON \(.*\)$/],
    ['wrongformat.json', JSON.stringify({ ...model(), format: 'other' }), /^failmode train: .*wrongformat\.json: format is "other", expected "failmode-model"/],
    ['newer.json', JSON.stringify({ ...model(), version: 2 }), /^failmode train: .*newer\.json: format version 2 is newer than this failmode supports \(1\); upgrade failmode$/],
    ['lengths.json', JSON.stringify((() => { const m = model(); m.classifiers[2].coef.push(0.1); return m; })()), /^failmode train: .*lengths\.json: classifiers\[2\]\.coef has 3 entries, expected 2 \(featureNames\)$/],
    ['missing.json', JSON.stringify((() => { const m = model(); delete m.regime; return m; })()), /^failmode train: .*missing\.json: missing field regime$/],
  ];
  for (const [name, text, expected] of cases) {
    const path = join(dir, name);
    writeFileSync(path, text);
    const r = spawnSync(process.execPath, [BIN, 'train', '--show', path], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${name}: exit code`);
    assert.equal(r.stdout, '', `${name}: nothing on stdout`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `${name}: one line, got ${JSON.stringify(r.stderr)}`);
    assert.match(lines[0]!, expected);
  }
  const missing = spawnSync(process.execPath, [BIN, 'train', '--show', join(dir, 'absent.json')], { encoding: 'utf8' });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^failmode train: cannot read model file .*absent\.json: no such file\n$/);
  // and a valid one prints its summary
  const ok = join(dir, 'ok.json');
  writeFileSync(ok, JSON.stringify(model()));
  const shown = spawnSync(process.execPath, [BIN, 'train', '--show', ok], { encoding: 'utf8' });
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /trained on gpqa_test \(prefinal features\): n=200 {2}failures=50 \(25\.0%\)/);
  assert.match(shown.stdout, /regime: committed {2}T\*=256/);
});

test('training.stopModel (optional): "hazard" loads, classifiers may read the previous window\'s columns; anything else is refused', () => {
  const m = model();
  m.training.stopModel = 'hazard';
  m.classifiers[1].featureNames = ['entropy_mean_prefinal_w256', 'entropy_mean_prefinal_w128'];
  assert.deepEqual(validateModelFile(m), m);
  rejects((x) => { x.training.stopModel = 'forest'; }, 'model.json: training.stopModel is "forest", expected "window" or "hazard"');
});
