// Feature-file teacher: hidden states computed elsewhere (a large LLM on a GPU, or any teacher's dump), keyed by
// window id. File format "CMMFEAT1" (all little-endian):
//   bytes 0..7     ASCII "CMMFEAT1"
//   bytes 8..11    uint32 H: byte length of the JSON header
//   bytes 12..12+H JSON header (UTF-8, space-padded so the data starts at a multiple of 8):
//                  { format: "cmm-features", version: 1, teacher, layers: L, d, count: N, keys: [N unique strings],
//                    heads: bool, dtype: "float32", layout: "layer-major", inputSpec?, description? }
//   data           float32: L blocks of N×d (block l row i = hidden state of layer l for keys[i]), then, if
//                  heads, one N×3 block (mid, spread, volume; NaN where the producer had none).
// The file size must equal 12 + H + 4·N·(L·d + 3·heads) exactly. Keys are free strings: windowTimeKey
// ("instrument@decision_ns") when the producer knows them, windowContentKey (hash of the window's floats) otherwise.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import { EngineError, expected } from '../../errors';
import { Teacher, TeacherInputSpec, TeacherOutput, checkWindows, runInChunks } from './teacher';

export const FEATURE_FILE_MAGIC = 'CMMFEAT1';

export interface FeatureFileHeader {
  format: 'cmm-features';
  version: 1;
  teacher: string;
  layers: number;
  d: number;
  count: number;
  keys: string[];
  heads: boolean;
  dtype: 'float32';
  layout: 'layer-major';
  inputSpec?: TeacherInputSpec;
  description?: string;
}

export interface FeatureFile {
  header: FeatureFileHeader;
  /** L arrays of count×d. */
  hidden: Float32Array[];
  /** count×3, or null when the file has no heads. */
  heads: Float32Array | null;
  /** key → row. */
  index: Map<string, number>;
}

/** "instrument@decision time": the key to use when the producer knows both. */
export function windowTimeKey(instrument: string, decisionTime: number | bigint): string {
  return `${instrument}@${decisionTime}`;
}

/** Content key of window i (sha256 of its float32 bytes, 24 hex digits): needs no side information. */
export function windowContentKey(windows: Float32Array, i: number, spec: TeacherInputSpec): string {
  const per = spec.T * spec.F;
  const w = windows.subarray(i * per, (i + 1) * per);
  return 'w:' + crypto.createHash('sha256').update(new Uint8Array(w.buffer, w.byteOffset, w.byteLength)).digest('hex').slice(0, 24);
}

function checkLittleEndian(): void {
  if (os.endianness() !== 'LE') throw new EngineError('E_INTERNAL', 'feature files are little-endian; this host is big-endian');
}

export interface WriteFeatureFileInput {
  teacher: string;
  keys: string[];
  hidden: Float32Array[];
  heads?: Float32Array | null;
  inputSpec?: TeacherInputSpec;
  description?: string;
}

/** Writes a feature file after checking shapes and key uniqueness. */
export function writeFeatureFile(file: string, x: WriteFeatureFileInput): FeatureFileHeader {
  checkLittleEndian();
  const N = x.keys.length, L = x.hidden.length;
  if (L < 1) throw expected('at least one layer', 'feature file hidden', L);
  const d = N > 0 ? x.hidden[0].length / N : 0;
  if (N > 0 && (!Number.isInteger(d) || d < 1)) throw expected(`a multiple of ${N} keys`, 'hidden[0] length', x.hidden[0].length);
  x.hidden.forEach((h, l) => {
    if (h.length !== N * d) throw expected(`${N}×${d} = ${N * d} floats`, `hidden[${l}]`, h.length);
  });
  if (x.heads && x.heads.length !== N * 3) throw expected(`${N}×3 floats`, 'heads', x.heads.length);
  if (new Set(x.keys).size !== N) throw expected('unique keys', 'feature file keys', 'duplicates');
  const header: FeatureFileHeader = {
    format: 'cmm-features', version: 1, teacher: x.teacher, layers: L, d, count: N, keys: x.keys, heads: !!x.heads,
    dtype: 'float32', layout: 'layer-major', ...(x.inputSpec ? { inputSpec: x.inputSpec } : {}), ...(x.description ? { description: x.description } : {}),
  };
  const text = new TextEncoder().encode(JSON.stringify(header));
  const H = text.length + ((8 - ((12 + text.length) % 8)) % 8); // pad with spaces: data starts 8-aligned
  const pre = new Uint8Array(12 + H).fill(0x20);
  pre.set(new TextEncoder().encode(FEATURE_FILE_MAGIC), 0);
  new DataView(pre.buffer).setUint32(8, H, true);
  pre.set(text, 12);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, pre);
    for (const h of x.hidden) fs.writeSync(fd, new Uint8Array(h.buffer, h.byteOffset, h.byteLength));
    if (x.heads) fs.writeSync(fd, new Uint8Array(x.heads.buffer, x.heads.byteOffset, x.heads.byteLength));
  } finally {
    fs.closeSync(fd);
  }
  return header;
}

/** Reads and validates a feature file; every problem is E_BAD_FORMAT naming the file. */
export function readFeatureFile(file: string): FeatureFile {
  checkLittleEndian();
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw new EngineError('E_FILE_NOT_FOUND', `feature file unreadable: ${(err as Error).message}`, { file });
  }
  const bad = (msg: string, offset?: number) => new EngineError('E_BAD_FORMAT', `feature file: ${msg}`, { file, offset });
  if (buf.length < 12 || buf.toString('ascii', 0, 8) !== FEATURE_FILE_MAGIC) throw bad(`expected magic "${FEATURE_FILE_MAGIC}"`, 0);
  const H = buf.readUInt32LE(8);
  if (12 + H > buf.length) throw bad(`header length ${H} runs past the end (${buf.length} bytes)`, 8);
  let header: FeatureFileHeader;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + H)) as FeatureFileHeader;
  } catch (err) {
    throw bad(`header is not JSON: ${(err as Error).message}`, 12);
  }
  if (header.format !== 'cmm-features' || header.version !== 1) throw bad(`expected format cmm-features version 1, got ${header.format} ${header.version}`, 12);
  if (header.dtype !== 'float32' || header.layout !== 'layer-major') throw bad(`expected dtype float32, layout layer-major`, 12);
  for (const k of ['layers', 'd', 'count'] as const) {
    if (!Number.isInteger(header[k]) || header[k] < (k === 'count' ? 0 : 1)) throw bad(`header ${k} must be a positive integer, got ${header[k]}`, 12);
  }
  if (!Array.isArray(header.keys) || header.keys.length !== header.count || header.keys.some((k) => typeof k !== 'string')) {
    throw bad(`header keys must be ${header.count} strings`, 12);
  }
  const { layers: L, d, count: N } = header;
  const floats = N * (L * d + (header.heads ? 3 : 0));
  const dataStart = 12 + H;
  if (buf.length !== dataStart + 4 * floats) {
    throw bad(`expected ${dataStart + 4 * floats} bytes for ${N} keys × (${L} layers × d ${d}${header.heads ? ' + 3 heads' : ''}), got ${buf.length}`, dataStart);
  }
  // Copy into an aligned buffer (readFileSync may hand back a pooled, unaligned Buffer).
  const data = new Float32Array(floats);
  new Uint8Array(data.buffer).set(buf.subarray(dataStart));
  const hidden = Array.from({ length: L }, (_, l) => data.subarray(l * N * d, (l + 1) * N * d));
  const heads = header.heads ? data.subarray(L * N * d) : null;
  const index = new Map<string, number>();
  header.keys.forEach((k, i) => {
    if (index.has(k)) throw bad(`duplicate key ${JSON.stringify(k)}`, 12);
    index.set(k, i);
  });
  return { header, hidden, heads, index };
}

export interface FeatureFileTeacherOptions {
  /** Key of window i in a run() call (default windowContentKey). */
  keyOf?: (windows: Float32Array, i: number, spec: TeacherInputSpec) => string;
  /** A key not in the file: 'error' (default, E_BAD_INPUT) or 'nan' (documented skip: the row is all NaN). */
  onMissing?: 'error' | 'nan';
  /** Required when the file's header has no inputSpec. */
  inputSpec?: TeacherInputSpec;
}

export class FeatureFileTeacher implements Teacher {
  readonly name: string;
  readonly layers: number;
  readonly hiddenSize: number;
  readonly inputSpec: TeacherInputSpec;
  private readonly keyOf: NonNullable<FeatureFileTeacherOptions['keyOf']>;
  private readonly onMissing: 'error' | 'nan';

  readonly data: FeatureFile;

  constructor(source: FeatureFile | string, opts: FeatureFileTeacherOptions = {}) {
    const f = typeof source === 'string' ? readFeatureFile(source) : source;
    this.data = f;
    const spec = opts.inputSpec ?? f.header.inputSpec;
    if (!spec) throw expected('an inputSpec (the file header has none)', 'FeatureFileTeacher options', 'none');
    this.inputSpec = spec;
    this.name = `feature-file(${f.header.teacher})`;
    this.layers = f.header.layers;
    this.hiddenSize = f.header.d;
    this.keyOf = opts.keyOf ?? windowContentKey;
    this.onMissing = opts.onMissing ?? 'error';
  }

  /** Hidden states and heads for the given keys. */
  runKeys(keys: string[]): TeacherOutput {
    const { hidden: src, heads: srcHeads, index, header } = this.data;
    const d = this.hiddenSize, B = keys.length;
    const hidden = Array.from({ length: this.layers }, () => new Float32Array(B * d));
    const heads = new Float32Array(B * 3).fill(NaN);
    keys.forEach((key, i) => {
      const row = index.get(key);
      if (row === undefined) {
        if (this.onMissing === 'error') {
          throw new EngineError('E_BAD_INPUT', `feature file of teacher "${header.teacher}" has no hidden states for window key ${JSON.stringify(key)} (${header.count} keys, e.g. ${JSON.stringify(header.keys[0] ?? '')})`);
        }
        hidden.forEach((h) => h.fill(NaN, i * d, (i + 1) * d));
        return;
      }
      hidden.forEach((h, l) => h.set(src[l].subarray(row * d, (row + 1) * d), i * d));
      if (srcHeads) heads.set(srcHeads.subarray(row * 3, row * 3 + 3), i * 3);
    });
    return { hidden, heads };
  }

  async run(windows: Float32Array, B: number): Promise<TeacherOutput> {
    checkWindows(this.inputSpec, windows, B);
    return this.runKeys(Array.from({ length: B }, (_, i) => this.keyOf(windows, i, this.inputSpec)));
  }
}

/**
 * Runs a teacher over N windows and writes its hidden states and heads as a feature file. Without `keys`,
 * content keys are used and identical windows (same key, same outputs) are written once.
 */
export async function dumpTeacherFeatures(teacher: Teacher, windows: Float32Array, N: number, file: string, keys?: string[], description?: string): Promise<FeatureFileHeader> {
  if (keys && keys.length !== N) throw expected(`${N} keys`, 'dumpTeacherFeatures keys', keys.length);
  const out = await runInChunks(teacher, windows, N);
  let k = keys ?? Array.from({ length: N }, (_, i) => windowContentKey(windows, i, teacher.inputSpec));
  let { hidden, heads } = out;
  if (!keys && new Set(k).size !== N) {
    const seen = new Set<string>(), rows: number[] = [];
    k.forEach((key, i) => { if (!seen.has(key)) { seen.add(key); rows.push(i); } });
    const pick = (a: Float32Array, w: number) => { const o = new Float32Array(rows.length * w); rows.forEach((r, j) => o.set(a.subarray(r * w, (r + 1) * w), j * w)); return o; };
    hidden = hidden.map((h) => pick(h, teacher.hiddenSize));
    heads = pick(heads, 3);
    k = rows.map((r) => k[r]);
  }
  return writeFeatureFile(file, { teacher: teacher.name, keys: k, hidden, heads, inputSpec: teacher.inputSpec, description });
}
