// The LLM teacher: a decoder-only LM in ONNX with per-layer hidden-state outputs and its tokenizer. Each window
// is rendered as a narrative + " Forecast:"; H_l = layer l's hidden state at that prompt's last token. An LM has
// no numeric heads, so heads = a ridge read-out of [H_0 … H_{L−1}] fitted on training windows (readout.json).
// Free-text answers (generate) are parsed defensively: nonsense → null.
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { EngineError, expected } from '../../errors';
import { ManifestFile, loadManifest, fileWithRole, readBytes } from '../models';
import { LM_ONNX_INPUT, LM_ONNX_LOGITS, TinyLmConfig } from './llm-model';
import { BOS_ID, EOS_ID, NarrativeOptions, PAD_ID, ParsedForecast, WordTokenizer, forecastPrompt, parseForecast, renderNarrative } from './narrative';
import { openSession } from './onnx-teacher';
import { ReadoutModel, fitReadoutRidge, predictReadout } from './readout';
import { Teacher, TeacherInputSpec, TeacherOutput, TeacherScores, checkWindows, scoreHeads } from './teacher';
import { readOnnxMetadata } from './onnx-graph';

export const LLM_MANIFEST_FORMAT = 'cmm-llm-teacher';
export const DEFAULT_LLM_DIR = path.join('models', 'llm-tiny');

export interface LlmManifest {
  format: typeof LLM_MANIFEST_FORMAT;
  version: 1;
  name: string;
  createdAt: string;
  model: TinyLmConfig & { parameters: number; onnxBytes: number };
  inputs: TeacherInputSpec;
  narrative: Required<NarrativeOptions>;
  files: ManifestFile[];
  training: Record<string, unknown>;
  scores: { readoutValidation: TeacherScores | null; generationParseRate: number | null; test: TeacherScores | null };
}

export interface LlmTeacherParts {
  onnx: Uint8Array;
  tokenizer: WordTokenizer;
  spec: TeacherInputSpec;
  narrative?: NarrativeOptions;
  readout?: ReadoutModel | null;
  name?: string;
}

export class LlmTeacher implements Teacher {
  readonly name: string;
  readonly layers: number;
  readonly hiddenSize: number;
  readonly inputSpec: TeacherInputSpec;
  readonly config: TinyLmConfig;
  readonly tokenizer: WordTokenizer;
  readout: ReadoutModel | null;
  private readonly narrativeOpts: NarrativeOptions;

  private constructor(private readonly session: ort.InferenceSession, parts: LlmTeacherParts, config: TinyLmConfig) {
    this.config = config;
    this.layers = config.layers;
    this.hiddenSize = config.d;
    this.inputSpec = parts.spec;
    this.tokenizer = parts.tokenizer;
    this.narrativeOpts = parts.narrative ?? {};
    this.readout = parts.readout ?? null;
    this.name = parts.name ?? 'llm-tiny';
    if (parts.tokenizer.size !== config.vocab) throw new EngineError('E_MODEL', `tokenizer has ${parts.tokenizer.size} tokens, the LM expects ${config.vocab}`);
  }

  static async create(parts: LlmTeacherParts): Promise<LlmTeacher> {
    const raw = readOnnxMetadata(parts.onnx)['cmm.lm'];
    if (!raw) throw new EngineError('E_MODEL', 'LLM ONNX has no "cmm.lm" metadata');
    const config = JSON.parse(raw) as TinyLmConfig;
    return new LlmTeacher(await openSession(parts.onnx, 'LLM teacher ONNX'), parts, config);
  }

  /**
   * Loads a model folder (default models/llm-tiny) after verifying every checksum (E_MODEL otherwise). `spec`
   * overrides the manifest's window layout (e.g. the dataset builder's features; the narrative reads either naming);
   * the read-out was fitted on the manifest's data, so refit it (fitReadout) for other windows.
   */
  static async load(dir: string = DEFAULT_LLM_DIR, opts: { spec?: TeacherInputSpec; narrative?: NarrativeOptions } = {}): Promise<{ teacher: LlmTeacher; manifest: LlmManifest }> {
    const manifest = loadManifest<LlmManifest>(dir, LLM_MANIFEST_FORMAT);
    const json = (role: string) => {
      try {
        return JSON.parse(new TextDecoder().decode(readBytes(fileWithRole(dir, manifest, role))));
      } catch (err) {
        throw new EngineError('E_MODEL', `LLM ${role} file is not valid JSON: ${(err as Error).message}`, { file: dir });
      }
    };
    const hasReadout = manifest.files.some((f) => f.role === 'readout');
    const teacher = await LlmTeacher.create({
      onnx: readBytes(fileWithRole(dir, manifest, 'onnx')),
      tokenizer: WordTokenizer.fromJson(json('vocab')),
      spec: opts.spec ?? manifest.inputs,
      narrative: { ...manifest.narrative, ...opts.narrative },
      readout: hasReadout && !opts.spec ? (json('readout') as ReadoutModel) : null,
      name: manifest.name,
    });
    return { teacher, manifest };
  }

  /** The prompt text for window i (deterministic). */
  prompt(windows: Float32Array, i: number): string {
    const per = this.inputSpec.T * this.inputSpec.F;
    return forecastPrompt(renderNarrative(windows.subarray(i * per, (i + 1) * per), this.inputSpec, this.narrativeOpts));
  }

  /** [BOS] + tokens, keeping the END when longer than the model's context. */
  encodePrompt(text: string): number[] {
    const ids = [BOS_ID, ...this.tokenizer.encode(text)];
    return ids.length <= this.config.maxLen ? ids : ids.slice(ids.length - this.config.maxLen);
  }

  /** Runs token sequences (right-padded: causal attention keeps padding out of real positions). */
  private async forwardIds(seqs: number[][]): Promise<{ out: ort.InferenceSession.ReturnType; S: number }> {
    const S = Math.max(...seqs.map((s) => s.length));
    const ids = new BigInt64Array(seqs.length * S).fill(BigInt(PAD_ID));
    seqs.forEach((s, b) => s.forEach((t, j) => (ids[b * S + j] = BigInt(t))));
    const out = await this.session.run({ [LM_ONNX_INPUT]: new ort.Tensor('int64', ids, [seqs.length, S]) });
    return { out, S };
  }

  /** Last-token hidden states per layer (B×d each) for prompts. */
  async hiddenForPrompts(prompts: string[]): Promise<Float32Array[]> {
    const d = this.hiddenSize, B = prompts.length;
    const hidden = Array.from({ length: this.layers }, () => new Float32Array(B * d));
    const CHUNK = 32;
    for (let s = 0; s < B; s += CHUNK) {
      const seqs = prompts.slice(s, s + CHUNK).map((p) => this.encodePrompt(p));
      const { out, S } = await this.forwardIds(seqs);
      for (let l = 0; l < this.layers; l++) {
        const h = out[`hidden_${l}`].data as Float32Array;
        seqs.forEach((seq, b) => hidden[l].set(h.subarray((b * S + seq.length - 1) * d, (b * S + seq.length) * d), (s + b) * d));
      }
    }
    return hidden;
  }

  async run(windows: Float32Array, B: number): Promise<TeacherOutput> {
    checkWindows(this.inputSpec, windows, B);
    const hidden = await this.hiddenForPrompts(Array.from({ length: B }, (_, i) => this.prompt(windows, i)));
    const heads = this.readout ? predictReadout(this.readout, concatLayers(hidden, B, this.hiddenSize), B) : new Float32Array(B * 3).fill(NaN);
    return { hidden, heads };
  }

  /**
   * Fits (and keeps) the ridge read-out of all layers' last-token states → targets (N×3, time-ordered windows).
   * lambda 'auto' picks from 10^0…10^4 by mean R² on the last 20 % of the windows, then refits on all.
   */
  async fitReadout(windows: Float32Array, targets: Float32Array, N: number, lambda: number | 'auto' = 'auto'): Promise<ReadoutModel> {
    checkWindows(this.inputSpec, windows, N);
    if (targets.length !== N * 3) throw expected(`${N}×3 targets`, 'fitReadout', targets.length);
    const hidden = await this.hiddenForPrompts(Array.from({ length: N }, (_, i) => this.prompt(windows, i)));
    const p = this.layers * this.hiddenSize;
    const X = concatLayers(hidden, N, this.hiddenSize);
    let chosen = typeof lambda === 'number' ? lambda : 1;
    if (lambda === 'auto') {
      const cut = Math.floor(N * 0.8);
      let bestR2 = -Infinity;
      for (const lam of [1, 10, 100, 1000, 10000]) {
        const m = fitReadoutRidge(X.subarray(0, cut * p), targets.subarray(0, cut * 3), cut, p, 3, lam);
        const s = scoreHeads(predictReadout(m, X.subarray(cut * p), N - cut), targets.subarray(cut * 3));
        const r2 = (s.r2.mid + s.r2.spread + s.r2.volume) / 3;
        if (r2 > bestR2) { bestR2 = r2; chosen = lam; }
      }
    }
    this.readout = fitReadoutRidge(X, targets, N, p, 3, chosen);
    return this.readout;
  }

  /** Greedy continuation of `prompt` (at most maxTokens; stops at <eos>). */
  async generate(prompt: string, maxTokens = 24): Promise<string> {
    const context = this.encodePrompt(prompt);
    const generated: number[] = [];
    const V = this.config.vocab;
    for (let n = 0; n < maxTokens; n++) {
      const { out, S } = await this.forwardIds([context]);
      const logits = (out[LM_ONNX_LOGITS].data as Float32Array).subarray((S - 1) * V, S * V);
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[v] > logits[best]) best = v;
      if (best === EOS_ID) break;
      generated.push(best);
      context.push(best);
      if (context.length > this.config.maxLen) context.shift();
    }
    return this.tokenizer.decode(generated);
  }

  /** Generates an answer for window i and parses it; null when the text is not a usable forecast. */
  async forecast(windows: Float32Array, i: number, maxTokens = 24): Promise<{ text: string; parsed: ParsedForecast | null }> {
    const text = await this.generate(this.prompt(windows, i), maxTokens);
    return { text, parsed: parseForecast(text) };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** [H_0 | H_1 | …] per row: B×(L·d). */
export function concatLayers(hidden: Float32Array[], B: number, d: number): Float32Array {
  const L = hidden.length;
  const out = new Float32Array(B * L * d);
  for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) out.set(hidden[l].subarray(b * d, (b + 1) * d), (b * L + l) * d);
  return out;
}
