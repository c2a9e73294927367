// Tiny argument parser shared by the commands: positionals, --flag, --key value and --key=value; plus the
// option values more than one command resolves the same way (--teacher).
import * as fs from 'node:fs';
import { EngineError, expected } from '../errors';
import type { CmmDataset } from '../cmm/dataset-file';
import type { Teacher } from '../cmm/teacher/teacher';

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

/** Parses argv. `booleans` names the flags that take no value. */
export function parseArgs(argv: string[], booleans: string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else if (booleans.includes(a.slice(2)) || i + 1 >= argv.length || argv[i + 1].startsWith('--')) flags.set(a.slice(2), true);
      else flags.set(a.slice(2), argv[++i]);
    } else if (a.startsWith('-') && a.length === 2 && i + 1 < argv.length) {
      flags.set(a.slice(1), argv[++i]);
    } else positionals.push(a);
  }
  return { positionals, flags };
}

export function flagString(args: ParsedArgs, name: string, fallback?: string): string | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  if (v === true) throw expected('a value', `--${name}`, 'nothing');
  return v;
}

export function flagNumber(args: ParsedArgs, name: string, fallback?: number): number | undefined {
  const v = flagString(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw expected('a finite number', `--${name}`, v);
  return n;
}

export function flagBool(args: ParsedArgs, name: string): boolean {
  return args.flags.get(name) === true || args.flags.get(name) === 'true';
}

/**
 * Opens a --teacher value: a teacher model folder (manifest.json + ONNX), or else a teacher feature file
 * (CMMFEAT1) whose windows follow the dataset's window spec. The teacher code loads only when needed.
 */
export async function openTeacher(where: string, ds: CmmDataset): Promise<Teacher> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(where);
  } catch {
    throw new EngineError('E_FILE_NOT_FOUND', `teacher not found: ${where} (train one with cmm teacher, or pass a feature file)`, { file: where });
  }
  if (stat.isDirectory()) {
    const { loadTeacher } = await import('../cmm/teacher/manifest');
    return (await loadTeacher(where)).teacher;
  }
  const { FeatureFileTeacher } = await import('../cmm/teacher/feature-file');
  const spec = { T: ds.header.options.window, F: ds.header.windowFeatures.length, features: [...ds.header.windowFeatures] };
  return new FeatureFileTeacher(where, { inputSpec: spec });
}
