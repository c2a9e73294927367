// `cmm dataset`: builds the CMM dataset (student inputs, teacher windows, targets, regimes, time splits) from
// event logs and prints samples per split and regime for every source.
import * as path from 'node:path';
import { flagBool, flagNumber, flagString, parseArgs } from '../args';
import { expected } from '../../errors';
import { buildDataset, DatasetProgress } from '../../cmm/dataset';
import { CmmDataset, REGIMES, SPLITS, StepUnit, writeDataset } from '../../cmm/dataset-file';

export const usage = `dataset <event logs...> -o <file> [--horizon 50] [--every 10] [--window 32] [--split 0.6,0.2,0.2] [--regimes source|pooled] [--json]   build the CMM dataset
  -o, --out    dataset file to write (JSON header + typed blocks; read with readDataset)
  --horizon    target horizon h: events of the instrument (50), or seconds with an s suffix (2.5s)
  --every      decision grid: every N events of the instrument (10), or every Δt seconds (0.5s)
  --window     teacher window length T in grid snapshots (32)
  --split      train,validation,test fractions of each source's decisions in time order (0.6,0.2,0.2);
               an embargo of h drops the first decisions of validation / test whose time overlaps a target
  --regimes    realised-vol cut points (33rd/66th percentiles of the TRAIN split) per source (default) or pooled
  --json       also print the summary as one JSON object on the last line of stdout
  Each instrument of each log is one source, split by its own time; sources are concatenated per split.`;

/** "50" → 50 events; "2.5s" → 2.5 seconds. */
export function parseStep(text: string, flag: string): { value: number; unit: StepUnit } {
  const m = /^([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)(s)?$/i.exec(text.trim());
  if (!m) throw expected('a number of events (50) or seconds (2.5s)', flag, text);
  const value = Number(m[1]);
  const unit: StepUnit = m[2] ? 'seconds' : 'events';
  if (unit === 'events' && !Number.isInteger(value)) throw expected('a whole number of events (or seconds with an s suffix)', flag, text);
  return { value, unit };
}

function progressLine(p: DatasetProgress): string {
  const frac = p.totalBytes > 0 ? Math.min(1, p.bytes / p.totalBytes) : 0;
  const width = 30, filled = Math.round(frac * width);
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  log ${p.inputIndex + 1}/${p.inputs} ${path.basename(p.input)}  ${p.events} events `;
}

/** Samples per source, split and regime. */
export function sourceCounts(ds: CmmDataset): number[][][] {
  const out = ds.header.sources.map(() => SPLITS.map(() => REGIMES.map(() => 0)));
  SPLITS.forEach((split, s) => {
    const { start, end } = ds.header.splits[split];
    for (let i = start; i < end; i++) out[ds.source[i]][s][ds.regime[i]]++;
  });
  return out;
}

export function formatDatasetSummary(ds: CmmDataset, file: string, bytes: number): string {
  const h = ds.header, o = h.options;
  const unit = (v: number, u: StepUnit) => (u === 'events' ? `${v} events` : `${v} s`);
  const lines = [
    `cmm dataset -> ${file} (${(bytes / 1e6).toFixed(1)} MB): ${h.samples} samples, ${h.snapshots} snapshots`,
    `  horizon ${unit(o.horizon, o.horizonUnit)}, grid every ${unit(o.every, o.everyUnit)}, window T ${o.window} × F ${h.windowFeatures.length}, x ${h.studentFeatures.length} features, split ${o.split.join('/')}, regimes ${o.regimeScope}`,
  ];
  const counts = sourceCounts(ds);
  h.sources.forEach((s, k) => {
    lines.push(`  ${s.instrument.venue}:${s.instrument.symbol} (${path.basename(s.file)}): ${s.events} events, ${s.gridPoints} grid points, rv cuts ${s.regimeCuts.map((v) => v.toPrecision(4)).join(' / ')}`);
    SPLITS.forEach((split, j) => lines.push(`    ${split.padEnd(10)} ${String(s.samples[split]).padStart(7)}  (low ${counts[k][j][0]}, medium ${counts[k][j][1]}, high ${counts[k][j][2]})`));
    const drops = Object.entries(s.drops).filter(([, v]) => v > 0).map(([key, v]) => `${key} ${v}`);
    if (drops.length > 0) lines.push(`    dropped: ${drops.join(', ')}`);
  });
  lines.push('  total');
  for (const split of SPLITS) {
    const c = h.counts[split];
    lines.push(`    ${split.padEnd(10)} ${String(h.splits[split].end - h.splits[split].start).padStart(7)}  (low ${c[0]}, medium ${c[1]}, high ${c[2]})`);
  }
  for (const n of h.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const inputs = args.positionals;
  if (inputs.length === 0) throw expected('at least one event log', 'cmm dataset', 'none');
  const out = flagString(args, 'o') ?? flagString(args, 'out');
  if (!out) throw expected('an output file (-o <file>)', 'cmm dataset', 'none');
  for (const f of inputs) if (path.resolve(f) === path.resolve(out)) throw expected('an output path that is not an input', '-o', out);
  const horizon = parseStep(flagString(args, 'horizon', '50')!, '--horizon');
  const every = parseStep(flagString(args, 'every', '10')!, '--every');
  const window = flagNumber(args, 'window', 32)!;
  const splitText = flagString(args, 'split', '0.6,0.2,0.2')!;
  const split = splitText.split(',').map(Number);
  if (split.length !== 3 || split.some((v) => !Number.isFinite(v))) throw expected('three comma-separated fractions', '--split', splitText);
  const regimeScope = flagString(args, 'regimes', 'source');
  if (regimeScope !== 'source' && regimeScope !== 'pooled') throw expected('source or pooled', '--regimes', regimeScope);
  const tty = process.stderr.isTTY === true;
  const ds = buildDataset(inputs, {
    horizon: horizon.value, horizonUnit: horizon.unit, every: every.value, everyUnit: every.unit, window,
    split: split as [number, number, number], regimeScope,
    onProgress: tty ? (p) => process.stderr.write(progressLine(p)) : undefined,
  });
  if (tty) process.stderr.write('\r\x1b[K');
  const bytes = writeDataset(out, ds);
  process.stdout.write(`${formatDatasetSummary(ds, out, bytes)}\n`);
  if (flagBool(args, 'json')) {
    const { blocks: _blocks, ...header } = ds.header;
    process.stdout.write(`${JSON.stringify({ file: out, bytes, ...header, samplesBySource: sourceCounts(ds) })}\n`);
  }
  return 0;
}
