// The reference teacher's model folder (default models/teacher/): teacher.onnx plus manifest.json with inputs,
// standardisation, size, checksums, data description, split, seed, validation scores and (filled later by the
// caller, on its held-out split) test scores.
import * as fs from 'fs';
import * as path from 'path';
import { EngineError } from '../../errors';
import { ManifestFile, describeFile, loadManifest, readManifest, writeManifest, fileWithRole } from '../models';
import { TEACHER_ONNX_HEADS, TEACHER_ONNX_INPUT, exportTeacherOnnx, hiddenOutputName } from './export-onnx';
import { OnnxTeacher } from './onnx-teacher';
import { TEACHER_TASKS, Teacher, TeacherDataset, TeacherScores, checkDataset, runInChunks, scoreHeads } from './teacher';
import { EpochRecord, SplitInfo, TrainedTeacher } from './transformer-train';
import { Standardisation } from './transformer';

export const TEACHER_MANIFEST_FORMAT = 'cmm-teacher';
export const DEFAULT_TEACHER_DIR = path.join('models', 'teacher');

export interface TestScores extends TeacherScores {
  /** The held-out split the caller scored on (time range, count, free text). */
  split: { timeFrom: number; timeTo: number; n: number; description?: string };
  scoredAt: string;
}

export interface TeacherManifest {
  format: typeof TEACHER_MANIFEST_FORMAT;
  version: 1;
  kind: 'transformer';
  createdAt: string;
  inputs: { name: string; T: number; F: number; features: string[]; layout: string };
  outputs: { hidden: string[]; heads: string; tasks: string[] };
  normalisation: { inputs: Standardisation; targets: Standardisation; source: string };
  layers: number;
  d: number;
  heads: number;
  ff: number;
  parameters: number;
  files: ManifestFile[];
  training: {
    data: string;
    windows: number;
    seed: number;
    split: SplitInfo;
    epochs: EpochRecord[];
    bestEpoch: number;
    stoppedBy: string;
    options: Record<string, number>;
    backend: string;
  };
  scores: {
    validation: TeacherScores & { loss: number; initialLoss: number };
    /** null until the caller scores the teacher on its held-out test split (setTeacherTestScores). */
    test: TestScores | null;
  };
}

export interface SaveTeacherOptions {
  /** Free text: what data, which instruments, dates, horizon, how windows were built. */
  dataDescription: string;
  /** File name of the ONNX inside the folder (default teacher.onnx). */
  onnxName?: string;
}

/** Exports trained weights to `dir/teacher.onnx` and writes the manifest. Returns the manifest. */
export function saveTeacher(trained: TrainedTeacher, dir: string, opts: SaveTeacherOptions, windows: number): TeacherManifest {
  const state = trained.model.toState();
  const { spec, config } = state;
  const onnxName = opts.onnxName ?? 'teacher.onnx';
  fs.mkdirSync(dir, { recursive: true });
  exportTeacherOnnx(state, path.join(dir, onnxName));
  const manifest: TeacherManifest = {
    format: TEACHER_MANIFEST_FORMAT,
    version: 1,
    kind: 'transformer',
    createdAt: new Date().toISOString(),
    inputs: { name: TEACHER_ONNX_INPUT, T: spec.T, F: spec.F, features: spec.features, layout: 'float32 [batch, T, F], raw features (standardised inside the graph)' },
    outputs: { hidden: Array.from({ length: config.layers }, (_, l) => hiddenOutputName(l)), heads: TEACHER_ONNX_HEADS, tasks: [...TEACHER_TASKS] },
    normalisation: {
      inputs: state.inputNorm,
      targets: state.targetNorm,
      source: `training split windows [${trained.split.train.start}, ${trained.split.train.end}), every snapshot row`,
    },
    layers: config.layers,
    d: config.d,
    heads: config.heads,
    ff: config.ff,
    parameters: trained.model.paramCount,
    files: [describeFile(dir, onnxName, 'onnx')],
    training: {
      data: opts.dataDescription,
      windows,
      seed: trained.seed,
      split: trained.split,
      epochs: trained.history,
      bestEpoch: trained.bestEpoch,
      stoppedBy: trained.stoppedBy,
      options: trained.options,
      backend: 'tfjs 4.22 wasm (SIMD, 1 thread)',
    },
    scores: { validation: { ...trained.valScores, loss: trained.valLoss, initialLoss: trained.initialValLoss }, test: null },
  };
  writeManifest(dir, manifest);
  return manifest;
}

/** Verifies checksums, then opens the ONNX teacher; E_MODEL on any mismatch or missing file. */
export async function loadTeacher(dir: string = DEFAULT_TEACHER_DIR): Promise<{ teacher: OnnxTeacher; manifest: TeacherManifest }> {
  const manifest = loadManifest<TeacherManifest>(dir, TEACHER_MANIFEST_FORMAT);
  // The name goes into reports and pictures: relative to the working directory when the model is below it.
  const rel = path.relative(process.cwd(), path.resolve(dir));
  const shown = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(dir);
  const teacher = await OnnxTeacher.create(fileWithRole(dir, manifest, 'onnx'), { name: `transformer-onnx(${shown})` });
  if (teacher.layers !== manifest.layers || teacher.hiddenSize !== manifest.d || teacher.inputSpec.T !== manifest.inputs.T || teacher.inputSpec.F !== manifest.inputs.F) {
    await teacher.dispose();
    throw new EngineError('E_MODEL', `teacher ONNX (${teacher.layers} layers, d ${teacher.hiddenSize}, T ${teacher.inputSpec.T}, F ${teacher.inputSpec.F}) disagrees with its manifest (${manifest.layers}, ${manifest.d}, ${manifest.inputs.T}, ${manifest.inputs.F})`, { file: dir });
  }
  return { teacher, manifest };
}

/** Scores any teacher's heads on a (held-out) dataset. */
export async function scoreTeacher(teacher: Teacher, ds: TeacherDataset): Promise<TeacherScores> {
  const N = checkDataset(ds, 'test dataset');
  const out = await runInChunks(teacher, ds.windows, N);
  return scoreHeads(out.heads, ds.targets);
}

/**
 * Fills manifest.scores.test (the caller computed `scores` on its held-out test split). Unless
 * `requireLater` is false, the split must start after the training data ended (E_INVALID_ARG otherwise).
 * Rewrites manifest.json only; the model files and their checksums are untouched.
 */
export function setTeacherTestScores(dir: string, scores: TeacherScores, split: TestScores['split'], requireLater = true): TeacherManifest {
  const manifest = readManifest<TeacherManifest>(dir, TEACHER_MANIFEST_FORMAT);
  const trainedUntil = manifest.training.split.validation.timeTo;
  if (requireLater && !(split.timeFrom > trainedUntil)) {
    throw new EngineError('E_INVALID_ARG', `expected a test split after the training data (time > ${trainedUntil}) for teacher test scores, got timeFrom ${split.timeFrom}`);
  }
  manifest.scores.test = { ...scores, split, scoredAt: new Date().toISOString() };
  writeManifest(dir, manifest);
  return manifest;
}
