// `cmm probe`: the normalized fluorescent probe of a teacher on a CMM dataset; writes probe.json and probe.png
// (layers × tasks heatmap, one panel per regime) and prints the table.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { flagBool, flagNumber, flagString, openTeacher, parseArgs } from '../args';
import { expected } from '../../errors';
import { readDataset } from '../../cmm/dataset-file';
import { probeTeacher } from '../../cmm/probe';
import { formatProbeTable, renderProbePng } from '../../cmm/probe-report';

export const usage = `probe --dataset <file> --teacher <models/teacher | features file> -o <dir> [--baseline window|student] [--max-samples N] [--json]   fluorescent probe of teacher layers
  --dataset      a dataset built by cmm dataset (probe fits on its train split, scores on its test split)
  --teacher      a teacher model folder (manifest.json + ONNX) or a teacher feature file (CMMFEAT1, content keys)
  -o, --out      folder for probe.json and probe.png (created)
  --baseline     raw inputs of the baseline probe: the flattened teacher window (default) or the student vector x_t
  --max-samples  at most N rows per split, evenly spaced in time (default: all)
  --json         also print probe.json as one line on stdout`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  if (args.positionals.length > 0) throw expected('only flags', 'cmm probe', args.positionals.join(' '));
  const datasetFile = flagString(args, 'dataset');
  if (!datasetFile) throw expected('a dataset (--dataset <file>)', 'cmm probe', 'none');
  const teacherPath = flagString(args, 'teacher');
  if (!teacherPath) throw expected('a teacher (--teacher <dir or features file>)', 'cmm probe', 'none');
  const outDir = flagString(args, 'o') ?? flagString(args, 'out');
  if (!outDir) throw expected('an output folder (-o <dir>)', 'cmm probe', 'none');
  const baseline = flagString(args, 'baseline', 'window');
  if (baseline !== 'window' && baseline !== 'student') throw expected('window or student', '--baseline', baseline);
  const maxPerSplit = flagNumber(args, 'max-samples');
  const ds = readDataset(datasetFile);
  const teacher = await openTeacher(teacherPath, ds);
  const tty = process.stderr.isTTY === true;
  try {
    const result = await probeTeacher(ds, teacher, {
      baseline, maxPerSplit,
      onProgress: tty ? (done, total) => process.stderr.write(`\rteacher: ${done}/${total} windows `) : undefined,
    });
    if (tty) process.stderr.write('\r\x1b[K');
    fs.mkdirSync(outDir, { recursive: true });
    const json = JSON.stringify({ dataset: path.resolve(datasetFile), teacherPath: path.resolve(teacherPath), ...result }, null, 1);
    fs.writeFileSync(path.join(outDir, 'probe.json'), json);
    fs.writeFileSync(path.join(outDir, 'probe.png'), renderProbePng(result));
    process.stdout.write(`${formatProbeTable(result)}\nwrote ${path.join(outDir, 'probe.json')} and probe.png\n`);
    if (flagBool(args, 'json')) process.stdout.write(`${JSON.stringify(JSON.parse(json))}\n`);
  } finally {
    await teacher.dispose?.();
  }
  return 0;
}
