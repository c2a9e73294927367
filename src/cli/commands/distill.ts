// `cmm distill`: OFDD students + Hájek-MoE from a dataset and a teacher; writes students.onnx + manifest.json and
// prints the validation and TEST score tables (MoE, regime-routed, best single, teacher, baselines).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { flagBool, flagNumber, flagString, openTeacher, parseArgs } from '../args';
import { expected } from '../../errors';
import { readDataset } from '../../cmm/dataset-file';
import { formatScoreTable, runDistill, writeStudentModels } from '../../cmm/distill-run';
import { readManifest, sha256File } from '../../cmm/models';

export const usage = `distill --dataset <file> --teacher <dir | features file> [-o models/students] [--probe probe.json] [--alpha a,b] [--beta a,b] [--dprime 4] [--hidden 32x32] [--top-n 1] [--data-frac 1] [--baselines] [--raw-targets] [--seed 1] [--json]   OFDD students + Hájek-MoE
  --dataset     a dataset built by cmm dataset (students train on its train split, choose everything on validation,
                and are scored on test)
  --teacher     a teacher model folder (manifest.json + ONNX) or a teacher feature file (CMMFEAT1)
  -o, --out     folder for students.onnx and manifest.json (default models/students)
  --probe       layer picks from a cmm probe result (its R² are test-split scores); default: the probe refitted
                on train and scored on validation
  --alpha       feature-loss weights tried (comma list, default 1,3,10), chosen per task on validation
  --beta        teacher-head weights tried (default 0,1), chosen per task on validation
  --dprime      feature-target dimensions d' tried (default 4); --hidden student widths tried (default 32x32)
  --top-n       layers per cell (experts per task = 3 × n; default 1)
  --data-frac   train on the first fraction (by time, per source) of the training split (default 1)
  --baselines   also train the no-distillation and plain-KD students and the ridge baseline
  --raw-targets keep z* = P·h_std unscaled (default: each component scaled to unit variance on train)
  --epochs      maximum epochs per student (default 80; early stopping on validation, patience 8)
  --json        also print the manifest's scores as one JSON line on stdout`;

const numList = (text: string | undefined, flag: string): number[] | undefined => {
  if (text === undefined) return undefined;
  const v = text.split(',').map((s) => Number(s.trim()));
  if (v.length === 0 || v.some((x) => !Number.isFinite(x))) throw expected('a comma-separated list of numbers', flag, text);
  return v;
};

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json', 'baselines', 'raw-targets']);
  if (args.positionals.length > 0) throw expected('only flags', 'cmm distill', args.positionals.join(' '));
  const datasetFile = flagString(args, 'dataset');
  if (!datasetFile) throw expected('a dataset (--dataset <file>)', 'cmm distill', 'none');
  const teacherPath = flagString(args, 'teacher');
  if (!teacherPath) throw expected('a teacher (--teacher <dir or features file>)', 'cmm distill', 'none');
  const outDir = flagString(args, 'o') ?? flagString(args, 'out') ?? path.join('models', 'students');
  const hiddenText = flagString(args, 'hidden');
  const hiddens = hiddenText?.split(',').map((hs) => {
    const w = hs.split('x').map(Number);
    if (w.some((x) => !Number.isInteger(x) || x < 1)) throw expected('widths like 32x32 (comma-separated alternatives)', '--hidden', hiddenText);
    return w;
  });
  const epochs = flagNumber(args, 'epochs');
  const probeFile = flagString(args, 'probe');
  const ds = readDataset(datasetFile);
  const teacher = await openTeacher(teacherPath, ds);
  const tty = process.stderr.isTTY === true;
  const log = (line: string) => {
    if (tty) process.stderr.write(`\r\x1b[K${line}\n`);
  };
  try {
    const { result, ranking, teacherSeconds } = await runDistill(ds, teacher, {
      probeFile,
      alphas: numList(flagString(args, 'alpha'), '--alpha'),
      betas: numList(flagString(args, 'beta'), '--beta'),
      dPrimes: numList(flagString(args, 'dprime'), '--dprime'),
      hiddens,
      topN: flagNumber(args, 'top-n'),
      seed: flagNumber(args, 'seed'),
      dataFrac: flagNumber(args, 'data-frac'),
      baselines: flagBool(args, 'baselines'),
      unitFeatureTargets: !flagBool(args, 'raw-targets'),
      training: epochs !== undefined ? { maxEpochs: epochs } : undefined,
      log,
      onTeacherProgress: tty ? (done, total) => process.stderr.write(`\rteacher: ${done}/${total} windows `) : undefined,
    });
    const h = ds.header;
    const picks = h.tasks.map((t, k) => `${t}: ${h.regimes.map((r, j) => `${r} L${ranking.layers[k][j].slice(0, result.topN).join('+')}`).join(', ')}`).join('; ');
    const manifest = writeStudentModels(outDir, ds, result, {
      dataset: path.resolve(datasetFile), teacher: path.resolve(teacherPath), datasetSha256: sha256File(datasetFile),
      teacherFiles: fs.statSync(teacherPath).isDirectory() ? readManifest(teacherPath).files : [{ path: path.basename(teacherPath), sha256: sha256File(teacherPath), bytes: fs.statSync(teacherPath).size }],
      layerPicks: { source: ranking.source, layers: ranking.layers, r2: ranking.probe?.r2, baseline: ranking.probe?.baseline },
    });
    const lines = [
      `cmm distill -> ${path.join(outDir, 'students.onnx')} (${result.spec.students} students, ${h.studentFeatures.length} -> ${[...result.hidden, result.shape.outputs].join(' -> ')}, d' ${result.dPrime})`,
      `  layer picks (${ranking.source}): ${picks}`,
      `  α per task ${result.alpha.join('/')}, β ${result.beta.join('/')}; MoE ${result.moe.map((m) => `${h.tasks[m.task]} ${m.kernel} ℓ=${m.lengthScale} τ=${m.tau}`).join(', ')}`,
      `  train rows per regime ${result.rows.train.join('/')}${result.dataFrac < 1 ? ` (first ${result.dataFrac} of train)` : ''}; teacher ${teacherSeconds.toFixed(1)} s, students ${result.seconds.students.toFixed(1)} s, baselines ${result.seconds.baselines.toFixed(1)} s`,
      '',
      formatScoreTable(result.scores.validation, h.tasks, 'VALIDATION (used for every choice)'),
      '',
      formatScoreTable(result.scores.test, h.tasks, 'TEST (reported only)'),
      ...result.notes.map((n) => `note: ${n}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (flagBool(args, 'json')) process.stdout.write(`${JSON.stringify({ out: outDir, scores: manifest.scores, ofdd: manifest.ofdd, moe: manifest.moe })}\n`);
  } finally {
    await teacher.dispose?.();
  }
  return 0;
}
