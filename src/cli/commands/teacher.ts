// `cmm teacher`: trains the reference teacher on a CMM dataset's TRAIN split, exports it (ONNX + manifest),
// checks ONNX parity, records TEST-split scores; also scores a teacher folder and dumps its hidden states.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { flagBool, flagNumber, flagString, parseArgs, ParsedArgs } from '../args';
import { EngineError, expected } from '../../errors';
import { CmmDataset, SPLITS, Split, readDataset, sampleIndices, teacherWindows, toTeacherDataset } from '../../cmm/dataset-file';
import { sha256File, writeManifest } from '../../cmm/models';
import type { TeacherInputSpec, TeacherScores } from '../../cmm/teacher/teacher';

export const usage = `teacher <train|score|export-features> --dataset <file> ...   reference teacher: train, score, dump hidden states
  teacher train --dataset <file> [-o models/teacher] [--epochs 30] [--time-budget 25m] [--layers 4] [--d 64] [--heads 4]
                [--seed 1] [--batch 128] [--patience 3] [--lr 0.001] [--val-fraction 0.15] [--embargo N] [--describe TEXT] [--json]
      trains on the dataset's TRAIN split only; early stopping on the later --val-fraction of it (after an embargo of
      N windows, default sources × (T + horizon in grid steps)); exports teacher.onnx (every layer's hidden state) +
      manifest.json; checks ONNX against tfjs; then scores on the TEST split and records it (never used for a choice)
  teacher score --teacher <dir> --dataset <file> [--split test] [--json]
      R² / MSE of the teacher's heads per task (and per regime) on one split of the dataset
  teacher export-features --teacher <dir> --dataset <file> -o <features file> [--split all|train|validation|test]
      runs the teacher and writes every layer's hidden state + heads as a CMMFEAT1 feature file (content keys),
      readable by FeatureFileTeacher / cmm probe / cmm distill
  --time-budget  seconds, or with a unit: 90s, 25m, 1h (training keeps the best weights when it is spent)
  --describe     extra text for the manifest's data description (e.g. how the event logs were imported)
  --json         also print a JSON summary on the last line of stdout`;

/** "1500" / "90s" → seconds; "25m" → 1500; "1h" → 3600. */
export function parseDuration(text: string, flag: string): number {
  const m = /^([0-9]*\.?[0-9]+)\s*(s|m|h)?$/i.exec(text.trim());
  if (!m || !(Number(m[1]) > 0)) throw expected('a positive duration (1500, 90s, 25m, 1h)', flag, text);
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600 } as Record<string, number>)[(m[2] ?? 's').toLowerCase()];
}

function intFlag(args: ParsedArgs, name: string, fallback: number, min = 1): number {
  const v = flagNumber(args, name, fallback)!;
  if (!Number.isInteger(v) || v < min) throw expected(`an integer ≥ ${min}`, `--${name}`, v);
  return v;
}

function required(args: ParsedArgs, name: string, what: string, cmd: string): string {
  const v = flagString(args, name);
  if (!v) throw expected(`${what} (--${name} <…>)`, `cmm teacher ${cmd}`, 'none');
  return v;
}

function datasetSpec(ds: CmmDataset): TeacherInputSpec {
  return { T: ds.header.options.window, F: ds.header.windowFeatures.length, features: [...ds.header.windowFeatures] };
}

function checkSpecMatches(teacherSpec: TeacherInputSpec, ds: CmmDataset): void {
  const s = datasetSpec(ds);
  if (teacherSpec.T !== s.T || teacherSpec.F !== s.F || teacherSpec.features.join(',') !== s.features.join(',')) {
    throw expected(`a teacher reading the dataset's ${s.T}×${s.F} windows [${s.features.join(', ')}]`, 'teacher', `${teacherSpec.T}×${teacherSpec.F} [${teacherSpec.features.join(', ')}]`);
  }
}

/** The `cmm dataset` command line that rebuilds `ds` from its event logs (options from the dataset header). */
export function datasetCommand(ds: CmmDataset, out: string): string {
  const o = ds.header.options;
  const step = (v: number, u: string) => (u === 'seconds' ? `${v}s` : `${v}`);
  const logs = [...new Set(ds.header.sources.map((s) => s.file))];
  return `cmm dataset ${logs.join(' ')} -o ${out} --horizon ${step(o.horizon, o.horizonUnit)} --every ${step(o.every, o.everyUnit)} --window ${o.window} --split ${o.split.join(',')} --regimes ${o.regimeScope}`;
}

/** Default embargo between the teacher's train and validation windows: no shared snapshot or target interval per source. */
export function defaultEmbargo(ds: CmmDataset): number {
  const o = ds.header.options;
  const hSteps = o.horizonUnit === o.everyUnit ? Math.ceil(o.horizon / o.every) : o.window;
  return Math.max(1, ds.header.sources.length) * (o.window + hSteps);
}

/** Windows, targets and regimes of one split (sample order), for scoring. */
function splitData(ds: CmmDataset, split: Split): { idx: Uint32Array; windows: Float32Array; targets: Float32Array; timeFrom: number; timeTo: number } {
  const idx = sampleIndices(ds, split);
  const targets = new Float32Array(idx.length * 3);
  let timeFrom = Infinity, timeTo = -Infinity;
  idx.forEach((i, b) => {
    targets.set(ds.targets.subarray(i * 3, i * 3 + 3), b * 3);
    timeFrom = Math.min(timeFrom, ds.time[i]);
    timeTo = Math.max(timeTo, ds.time[i]);
  });
  return { idx, windows: teacherWindows(ds, idx), targets, timeFrom, timeTo };
}

interface SplitScores extends TeacherScores {
  byRegime: Record<string, TeacherScores>;
}

async function scoreSplit(teacher: import('../../cmm/teacher/teacher').Teacher, ds: CmmDataset, split: Split): Promise<{ scores: SplitScores; timeFrom: number; timeTo: number }> {
  const { runInChunks, scoreHeads } = await import('../../cmm/teacher/teacher');
  const d = splitData(ds, split);
  if (d.idx.length === 0) throw expected(`samples in the ${split} split`, 'dataset', 0);
  const out = await runInChunks(teacher, d.windows, d.idx.length);
  const byRegime: Record<string, TeacherScores> = {};
  ds.header.regimes.forEach((name, r) => {
    const rows = [...d.idx.keys()].filter((b) => ds.regime[d.idx[b]] === r);
    if (rows.length === 0) return;
    const pick = (a: Float32Array) => { const o = new Float32Array(rows.length * 3); rows.forEach((b, j) => o.set(a.subarray(b * 3, b * 3 + 3), j * 3)); return o; };
    byRegime[name] = scoreHeads(pick(out.heads), pick(d.targets));
  });
  return { scores: { ...scoreHeads(out.heads, d.targets), byRegime }, timeFrom: d.timeFrom, timeTo: d.timeTo };
}

const fmtR2 = (s: TeacherScores) => `R² mid ${s.r2.mid.toFixed(4)}  spread ${s.r2.spread.toFixed(4)}  volume ${s.r2.volume.toFixed(4)}  (n ${s.n})`;

function formatScores(title: string, s: SplitScores): string[] {
  const lines = [`${title}: ${fmtR2(s)}`];
  for (const [r, v] of Object.entries(s.byRegime)) lines.push(`  ${r.padEnd(7)} ${fmtR2(v)}`);
  return lines;
}

async function train(args: ParsedArgs, argv: string[]): Promise<number> {
  const datasetFile = required(args, 'dataset', 'a dataset', 'train');
  const outDir = flagString(args, 'o') ?? flagString(args, 'out') ?? path.join('models', 'teacher');
  const layers = intFlag(args, 'layers', 4), d = intFlag(args, 'd', 64), heads = intFlag(args, 'heads', 4);
  if (d % heads !== 0) throw expected(`heads dividing d = ${d}`, '--heads', heads);
  const seed = intFlag(args, 'seed', 1, 0), maxEpochs = intFlag(args, 'epochs', 30), batchSize = intFlag(args, 'batch', 128);
  const patience = intFlag(args, 'patience', 3);
  const learningRate = flagNumber(args, 'lr', 1e-3)!;
  const valFraction = flagNumber(args, 'val-fraction', 0.15)!;
  const timeBudgetSec = parseDuration(flagString(args, 'time-budget', '25m')!, '--time-budget');
  const ds = readDataset(datasetFile);
  const embargo = intFlag(args, 'embargo', defaultEmbargo(ds), 0);
  const h = ds.header;

  const { trainTeacher } = await import('../../cmm/teacher/transformer-train');
  const { saveTeacher, loadTeacher, setTeacherTestScores } = await import('../../cmm/teacher/manifest');
  const { TfjsTransformerTeacher } = await import('../../cmm/teacher/transformer');
  const { runInChunks } = await import('../../cmm/teacher/teacher');

  // The teacher sees the TRAIN split only (time-merged across sources); its validation is a later slice of it.
  const trainDs = toTeacherDataset(ds, 'train');
  const N = trainDs.times.length;
  const t0 = Date.now();
  process.stderr.write(`cmm teacher train: ${path.basename(datasetFile)} train split ${N} windows (${h.sources.length} sources); validation split ${h.splits.validation.end - h.splits.validation.start} and test split ${h.splits.test.end - h.splits.test.start} are not read for training\n`);
  const trained = await trainTeacher(trainDs, {
    config: { layers, d, heads }, seed, batchSize, maxEpochs, patience, learningRate, valFraction, embargo, timeBudgetSec,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const trainSeconds = (Date.now() - t0) / 1000;

  const o = h.options;
  const sourcesText = h.sources.map((s) => `${s.instrument.venue}:${s.instrument.symbol} (${path.basename(s.file)}, ${s.events} events)`).join(', ');
  const dataDescription = [
    `${sourcesText}; horizon ${o.horizon} ${o.horizonUnit}, grid every ${o.every} ${o.everyUnit}, window T ${o.window} × F ${h.windowFeatures.length};`,
    `dataset ${path.basename(datasetFile)} TRAIN split only (${N} windows, time-merged across sources), split ${o.split.join('/')} per source in time order;`,
    `teacher validation = the last ${valFraction} of those windows after an embargo of ${embargo}`,
  ].join(' ') + (flagString(args, 'describe') ? `; ${flagString(args, 'describe')}` : '');
  let manifest = saveTeacher(trained, outDir, { dataDescription }, N);

  // ONNX parity on the teacher's own validation windows (outputs only: no targets read).
  const { teacher } = await loadTeacher(outDir);
  const parityN = Math.min(256, N - trained.split.validation.start);
  const per = trainDs.spec.T * trainDs.spec.F;
  const pw = trainDs.windows.subarray(trained.split.validation.start * per, (trained.split.validation.start + parityN) * per);
  const [a, b] = [await runInChunks(TfjsTransformerTeacher.fromModel(trained.model), pw, parityN), await runInChunks(teacher, pw, parityN)];
  const maxDiff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
  const parity = { windows: parityN, maxAbsDiffHidden: Math.max(...a.hidden.map((x, l) => maxDiff(x, b.hidden[l]))), maxAbsDiffHeads: maxDiff(a.heads, b.heads) };
  if (!(parity.maxAbsDiffHidden < 1e-3 && parity.maxAbsDiffHeads < 1e-3)) {
    throw new EngineError('E_INTERNAL', `exported ONNX disagrees with tfjs: max |Δ| hidden ${parity.maxAbsDiffHidden}, heads ${parity.maxAbsDiffHeads}`);
  }
  trained.model.dispose();

  // Extra provenance (manifest.json only: the ONNX and its checksum are untouched).
  const extra = manifest as unknown as Record<string, unknown>;
  extra.dataset = {
    file: datasetFile, bytes: fs.statSync(datasetFile).size, sha256: sha256File(datasetFile),
    rebuild: datasetCommand(ds, datasetFile), options: o, samples: h.samples,
    splits: Object.fromEntries(SPLITS.map((s) => [s, h.splits[s].end - h.splits[s].start])),
    sources: h.sources.map((s) => ({ file: s.file, instrument: `${s.instrument.venue}:${s.instrument.symbol}`, events: s.events, samples: s.samples, splitTimes: s.splitTimes })),
  };
  extra.command = ['cmm teacher train', ...argv.map((a) => (/^[\w./:=,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))].join(' ');
  extra.onnxParity = parity;
  extra.trainSeconds = trainSeconds;
  writeManifest(outDir, manifest);

  // Held-out scores: the dataset's validation split (reported only) and its TEST split (recorded, never used).
  const val = await scoreSplit(teacher, ds, 'validation');
  const test = await scoreSplit(teacher, ds, 'test');
  await teacher.dispose();
  // Per source the test split follows all of that source's training data (the dataset's own time split). Across
  // sources with different time spans the pooled test split may start before another source's training data ends:
  // then the manifest says so instead of the global check of setTeacherTestScores.
  for (const s of h.sources) {
    const tr = s.splitTimes.train, te = s.splitTimes.test;
    if (tr && te && !(te[0] > tr[1])) throw new EngineError('E_INVALID_ARG', `dataset source ${s.instrument.symbol}: test split starts at ${te[0]}, not after its train split (ends ${tr[1]})`);
  }
  const globallyLater = test.timeFrom > trained.split.validation.timeTo;
  manifest = setTeacherTestScores(outDir, test.scores, {
    timeFrom: test.timeFrom, timeTo: test.timeTo, n: test.scores.n,
    description: `dataset ${path.basename(datasetFile)} TEST split (last ${o.split[2]} of each source in time, after the dataset's embargo); scored once after training, used for no choice` +
      (globallyLater ? '' : `; NOTE: per source the test split follows its training data, but the pooled test split starts before the last training window (${trained.split.validation.timeTo}) of another source`),
  }, globallyLater);
  (manifest as unknown as Record<string, unknown>).datasetValidationScores = { ...val.scores, note: "the dataset's validation split (kept for the students' choices): not read by teacher training; reported only" };
  writeManifest(outDir, manifest);

  const files = manifest.files.map((f) => `${f.path} ${(f.bytes / 1e6).toFixed(2)} MB`).join(', ');
  const lines = [
    `cmm teacher train -> ${outDir}: ${manifest.parameters} params, ${layers} layers d=${d} heads ${heads}; ${files}`,
    `  trained ${trained.history.length} epochs in ${trainSeconds.toFixed(0)} s (stopped by ${trained.stoppedBy}, best epoch ${trained.bestEpoch}); train ${trained.split.train.end} / val ${N - trained.split.validation.start} windows, embargo ${embargo}`,
    `  teacher validation (later slice of train): ${fmtR2(trained.valScores)}`,
    `  ONNX parity on ${parity.windows} windows: max |Δ| hidden ${parity.maxAbsDiffHidden.toExponential(2)}, heads ${parity.maxAbsDiffHeads.toExponential(2)}`,
    ...formatScores('  dataset validation split', val.scores),
    ...formatScores('  TEST split', test.scores),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (flagBool(args, 'json')) {
    process.stdout.write(`${JSON.stringify({ out: outDir, parameters: manifest.parameters, epochs: trained.history.length, trainSeconds, stoppedBy: trained.stoppedBy, validation: trained.valScores, datasetValidation: val.scores, test: test.scores, parity, files: manifest.files })}\n`);
  }
  return 0;
}

async function score(args: ParsedArgs): Promise<number> {
  const dir = required(args, 'teacher', 'a teacher folder', 'score');
  const ds = readDataset(required(args, 'dataset', 'a dataset', 'score'));
  const split = flagString(args, 'split', 'test') as Split;
  if (!SPLITS.includes(split)) throw expected(SPLITS.join(' or '), '--split', split);
  const { loadTeacher } = await import('../../cmm/teacher/manifest');
  const { teacher, manifest } = await loadTeacher(dir);
  try {
    checkSpecMatches(teacher.inputSpec, ds);
    const r = await scoreSplit(teacher, ds, split);
    const trainedUntil = manifest.training.split.validation.timeTo;
    const lines = formatScores(`cmm teacher score ${dir} on ${split} split`, r.scores);
    if (!(r.timeFrom > trainedUntil)) lines.push(`  note: this split starts at ${r.timeFrom}, not after the teacher's training data (until ${trainedUntil}): not a held-out score`);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (flagBool(args, 'json')) process.stdout.write(`${JSON.stringify({ teacher: dir, split, ...r })}\n`);
  } finally {
    await teacher.dispose();
  }
  return 0;
}

async function exportFeatures(args: ParsedArgs): Promise<number> {
  const dir = required(args, 'teacher', 'a teacher folder', 'export-features');
  const datasetFile = required(args, 'dataset', 'a dataset', 'export-features');
  const out = flagString(args, 'o') ?? flagString(args, 'out');
  if (!out) throw expected('an output file (-o <features file>)', 'cmm teacher export-features', 'none');
  const which = flagString(args, 'split', 'all')!;
  if (which !== 'all' && !SPLITS.includes(which as Split)) throw expected(`all or ${SPLITS.join(' or ')}`, '--split', which);
  const ds = readDataset(datasetFile);
  const { loadTeacher } = await import('../../cmm/teacher/manifest');
  const { dumpTeacherFeatures } = await import('../../cmm/teacher/feature-file');
  const { teacher, manifest } = await loadTeacher(dir);
  try {
    checkSpecMatches(teacher.inputSpec, ds);
    const idx = which === 'all' ? Uint32Array.from({ length: ds.header.samples }, (_, i) => i) : sampleIndices(ds, which as Split);
    const t0 = Date.now();
    const header = await dumpTeacherFeatures(teacher, teacherWindows(ds, idx), idx.length, out, undefined,
      `teacher ${path.resolve(dir)} (${manifest.layers} layers d=${manifest.d}, onnx sha256 ${manifest.files[0]?.sha256}) on ${which} samples of ${path.resolve(datasetFile)}; content keys`);
    const bytes = fs.statSync(out).size;
    process.stdout.write(`cmm teacher export-features -> ${out} (${(bytes / 1e6).toFixed(1)} MB): ${idx.length} windows (${header.count} unique keys), ${header.layers} layers × d ${header.d} + heads, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    if (flagBool(args, 'json')) process.stdout.write(`${JSON.stringify({ file: out, bytes, windows: idx.length, keys: header.count, layers: header.layers, d: header.d })}\n`);
  } finally {
    await teacher.dispose();
  }
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const args = parseArgs(rest, ['json']);
  if (args.positionals.length > 0) throw expected('only flags after the subcommand', `cmm teacher ${sub}`, args.positionals.join(' '));
  if (sub === 'train') return train(args, rest);
  if (sub === 'score') return score(args);
  if (sub === 'export-features') return exportFeatures(args);
  throw expected('train, score or export-features', 'cmm teacher', sub ?? 'nothing');
}
