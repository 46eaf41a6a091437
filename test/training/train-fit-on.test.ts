import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadModelFile, parseModelFile, saveModelFile, serializeModelFile } from '../../src/models/model-io.ts';
import { trainModel } from '../../src/training/train.ts';
import { Frame } from '../../src/offline/frame.ts';
import { loadTable } from '../../src/offline/load-table.ts';
import { failureLabels } from '../../src/offline/table/failure-labels.ts';
import { needsPaper, paperHas } from '../fixtures/requires.ts';

const GPT4O = new URL('../../../shared/paper/results/gpqa_gpt4o.final.csv', import.meta.url).pathname;
const BIN = new URL('../../bin/failmode', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'failmode-fit-on-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let paper: Frame;
before(async () => { if (paperHas('results/gpqa_gpt4o.final.csv')) paper = await loadTable(GPT4O); });

const WINDOWS = [64, 256, 2000];
const FEATURES = ['entropy_mean', 'nll_mean', 'margin_mean'];

/**
 * 200 rows: 80 short traces (length 100–199, all correct, high entropy — their window features are their whole
 * trace) and 120 long ones (length 400–999, half failures; failures have higher window entropy). Fitted on all rows,
 * the short correct high-entropy rows blur the signal; fitted on the rows running at T=256 (the long ones) they do not.
 */
function syntheticFrame(): Frame {
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const cols: Record<string, number[]> = { correct: [], generated_len: [] };
  for (const f of FEATURES) { cols[f] = []; for (const T of WINDOWS) cols[`${f}_w${T}`] = []; }
  for (let i = 0; i < 200; i++) {
    const short = i < 80;
    const fail = !short && i % 2 === 0;
    const len = short ? 100 + (i % 100) : 400 + ((i * 37) % 600);
    cols.correct!.push(fail ? 0 : 1);
    cols.generated_len!.push(len);
    const ent = short ? 2 + 0.3 * gauss() : (fail ? 1.5 : 0.8) + 0.4 * gauss();
    const nll = short ? 0.2 + 0.2 * gauss() : 0.5 + 0.3 * gauss();
    const margin = 1 + gauss();
    for (const T of WINDOWS) {
      cols[`entropy_mean_w${T}`]!.push(ent);
      cols[`nll_mean_w${T}`]!.push(nll);
      cols[`margin_mean_w${T}`]!.push(margin);
    }
    cols.entropy_mean!.push(ent);
    cols.nll_mean!.push(nll);
    cols.margin_mean!.push(margin);
  }
  return new Frame('synthetic.csv', Object.keys(cols), 200, (n) => cols[n]!);
}

test('train --fit-on running: a window whose running rows hold fewer than 5 correct gets no classifier (the support rule)', () => {
  // T=800 (copies of the T=256 features): of the rows still running at 800 all but 3 are made failures.
  const base = syntheticFrame();
  const len = base.numeric('generated_len')!;
  const correct = Float64Array.from(base.numeric('correct')!);
  let keptCorrect = 0;
  for (let i = 0; i < correct.length; i++) {
    if (len[i]! <= 800) continue;
    if (correct[i] === 1 && keptCorrect < 3) keptCorrect++;
    else correct[i] = 0;
  }
  assert.equal(keptCorrect, 3);
  const names = [...base.columnNames, ...FEATURES.map((f) => `${f}_w800`)];
  const frame = new Frame('synthetic.csv', names, base.nRows, (n) => [...(n === 'correct' ? correct : base.numeric(n.replace(/_w800$/, '_w256'))!)]);
  const run = trainModel(frame, { file: 'synthetic.csv', nBoot: 20, profile: null, windows: [64, 256, 800], fitOn: 'running' });
  assert.deepEqual(run.model.windows, [64, 256]);
  assert.match(run.notes.join('\n'), /T=800: \d+ rows still running: 3 correct \(need ≥ 5\); no classifier/);
});

test('train --fit-on running: each window\'s classifier is fitted on the rows still running at T', async () => {
  const frame = syntheticFrame();
  const opts = { file: 'synthetic.csv', nBoot: 20, profile: null, windows: WINDOWS };
  const all = trainModel(frame, opts);
  const run = trainModel(frame, { ...opts, fitOn: 'running' });
  assert.equal(all.model.training.fitOn, 'all');
  assert.equal(run.model.training.fitOn, 'running');

  // T=2000: nobody is running → no classifier, said in a note; T=64: every row is running → the all-rows fit.
  assert.deepEqual(all.model.windows, [64, 256, 2000]);
  assert.deepEqual(run.model.windows, [64, 256]);
  assert.match(run.notes.join('\n'), /T=2000: 0 rows still running: 0 failures \(need ≥ 5\), 0 correct \(need ≥ 5\); no classifier/);
  const by = (m: typeof all.model, T: number | 'full') => m.classifiers.find((c) => c.window === T)!;
  // the fit is the same; the stop threshold is the whole rule's, which differs with the other windows' classifiers
  const fit = (c: (typeof all.model.classifiers)[number]) => ({ ...c, stop: null });
  assert.deepEqual(fit(by(run.model, 64)), fit(by(all.model, 64)));
  assert.equal(by(run.model, 64).n, 200);
  assert.deepEqual(by(run.model, 'full'), by(all.model, 'full'), 'the full-trace classifier is unchanged (and never stops)');

  const len = frame.numeric('generated_len')!;
  const running256 = [...len].filter((l) => l > 256).length;
  assert.equal(running256, 120);
  const a = by(all.model, 256);
  const r = by(run.model, 256);
  assert.equal(a.n, 200);
  assert.equal(r.n, running256);
  // Fill medians are the running rows' medians.
  const ent = frame.numeric('entropy_mean_w256')!;
  const runEnt = [...ent].filter((_, i) => len[i]! > 256).sort((x, y) => x - y);
  assert.equal(r.fill[r.featureNames.indexOf('entropy_mean_w256')], (runEnt[59]! + runEnt[60]!) / 2);
  assert.notDeepEqual(r.coef, a.coef);
  assert.notEqual(r.intercept, a.intercept);
  // The running rows carry the signal alone: the refitted classifier separates them better out of fold.
  assert.ok(r.oof.auroc! > a.oof.auroc!, `running AUROC ${r.oof.auroc} vs all rows ${a.oof.auroc}`);

  const path = join(dir, 'running.json');
  await saveModelFile(path, run.model);
  assert.deepEqual(await loadModelFile(path), run.model);
});

test('train --fit-on running --prefinal: "running" is prefinal length > T on the prefinal working frame', needsPaper('results/gpqa_gpt4o.final.csv'), () => {
  const frame = failureLabels(paper).frame;
  const { model } = trainModel(frame, { file: GPT4O, prefinal: true, nBoot: 20, windows: [128, 512], fitOn: 'running' });
  assert.equal(model.prefinal, true);
  const plen = frame.numeric('prefinal_len')!;
  for (const T of [128, 512]) {
    let expected = 0;
    for (let i = 0; i < plen.length; i++) if (plen[i]! > 0 && plen[i]! > T) expected++;
    assert.equal(model.classifiers.find((c) => c.window === T)!.n, expected, `T=${T}`);
    if (T === 512) assert.ok(expected < model.training.n, `T=${T}: some prefinal rows reached the answer line by T (${expected})`);
  }
  assert.equal(model.classifiers.find((c) => c.window === 'full')!.n, model.training.n);
});

test('model file: training.fitOn and classifiers[i].n are validated', () => {
  const { model } = trainModel(syntheticFrame(), { file: 'synthetic.csv', nBoot: 20, profile: null, windows: [256], fitOn: 'running' });
  const json = JSON.parse(serializeModelFile(model));
  assert.deepEqual(parseModelFile(JSON.stringify(json)), model);
  json.training.fitOn = 'some';
  assert.throws(() => parseModelFile(JSON.stringify(json), 'm.json'), /m\.json: training\.fitOn is "some", expected "all" or "running"/);
  json.training.fitOn = 'running';
  json.classifiers[0].n = 201;
  assert.throws(() => parseModelFile(JSON.stringify(json), 'm.json'), /classifiers\[0\]\.n is 201, more than training\.n \(200\)/);
  json.classifiers[0].n = 1.5;
  assert.throws(() => parseModelFile(JSON.stringify(json), 'm.json'), /classifiers\[0\]\.n/);
  delete json.classifiers[0].n;
  delete json.training.fitOn;
  const old = parseModelFile(JSON.stringify(json));
  assert.equal(old.training.fitOn, undefined, 'files without the fields still load');
  assert.equal(old.classifiers[0]!.n, undefined);
});

test('CLI: --fit-on running is recorded; a bad value exits 2 with one line', async () => {
  const csv = join(dir, 'synthetic.csv');
  const f = syntheticFrame();
  writeFileSync(csv, [f.columnNames.join(','), ...Array.from({ length: f.nRows }, (_, i) => f.columnNames.map((c) => f.numeric(c)![i]).join(','))].join('\n') + '\n');
  const out = join(dir, 'cli.json');
  const r = spawnSync(process.execPath, [BIN, 'train', csv, '--windows', '256', '2000', '--n-boot', '20', '--fit-on', 'running', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /window classifiers fitted on the rows still running at T/);
  assert.match(r.stdout, /T=256 +120 +3 /);
  assert.match(r.stderr, /note: T=2000: 0 rows still running/);
  const m = await loadModelFile(out);
  assert.equal(m.training.fitOn, 'running');
  assert.deepEqual(m.windows, [256]);

  const bad = spawnSync(process.execPath, [BIN, 'train', csv, '--fit-on', 'some', '--out', join(dir, 'x.json')], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trimEnd().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /Unknown value for --fit-on: `some`\. Value must be one of: all, running/);
  assert.equal(bad.stdout, '');
});
