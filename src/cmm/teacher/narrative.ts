// Text side of the LLM teacher: a deterministic NARRATIVE rendering of a market window (narrative beats raw
// numbers for LMs), the forecast sentence the tiny LM is trained to complete, a defensive parser for free-text
// answers, and a small word-level tokenizer with a character fallback (vocab shipped as JSON).
import { EngineError, expected } from '../../errors';
import { TeacherInputSpec } from './teacher';

export interface NarrativeOptions {
  /** Price units per tick (default 0.01). */
  tick?: number;
  /** Realised-volatility cut points (ticks) between low/medium/high; from the training split. */
  volCuts?: [number, number];
}

const fmt = (x: number, digits: number) => (Object.is(Math.round(x * 10 ** digits) / 10 ** digits, -0) ? 0 : x).toFixed(digits);
const plural = (n: number, word: string) => `${word}${Math.abs(n) === 1 ? '' : 's'}`;

/**
 * "Over the last 3.2 s the mid rose 4 ticks to 100.05; the spread widened from 1 to 3 ticks; buyers took 12 lots
 * vs 3 sold in 25 trades; the bid side holds 62% of the top-5 depth; volatility is high." Each clause needs
 * its named features in spec.features and is left out otherwise. Deterministic: same window, same text.
 */
export function renderNarrative(window: Float32Array, spec: TeacherInputSpec, opts: NarrativeOptions = {}): string {
  const { T, F, features } = spec;
  if (window.length !== T * F) throw expected(`${T}×${F} floats`, 'narrative window', window.length);
  const tick = opts.tick ?? 0.01;
  const col = (name: string) => features.indexOf(name);
  const at = (t: number, c: number) => window[t * F + c];
  const sum = (c: number, from = 0) => { let s = 0; for (let t = from; t < T; t++) s += at(t, c); return s; };
  const clauses: string[] = [];
  const cDt = col('dt_seconds'), cMid = col('mid_price'), cDm = col('mid_change_ticks');
  const lead = cDt >= 0 ? `Over the last ${fmt(sum(cDt, 1), 1)} s` : `Over the last ${T} snapshots`;
  if (cMid >= 0 || cDm >= 0) {
    const moved = cDm >= 0 ? Math.round(sum(cDm, 1)) : Math.round((at(T - 1, cMid) - at(0, cMid)) / tick);
    const decimals = Math.max(0, Math.ceil(-Math.log10(tick) - 1e-9) + 1);
    const level = cMid >= 0 ? ` to ${fmt(at(T - 1, cMid), decimals)}` : '';
    clauses.push(moved === 0 ? `the mid was unchanged${cMid >= 0 ? ` at ${fmt(at(T - 1, cMid), decimals)}` : ''}`
      : `the mid ${moved > 0 ? 'rose' : 'fell'} ${Math.abs(moved)} ${plural(moved, 'tick')}${level}`);
  }
  const cSp = col('spread_ticks');
  if (cSp >= 0) {
    const a = Math.round(at(0, cSp)), b = Math.round(at(T - 1, cSp));
    clauses.push(a === b ? `the spread stayed at ${b} ${plural(b, 'tick')}` : `the spread ${b > a ? 'widened' : 'narrowed'} from ${a} to ${b} ${plural(b, 'tick')}`);
  }
  const cBuy = col('buy_volume'), cSell = col('sell_volume'), cTrades = col('trade_count');
  if (cBuy >= 0 && cSell >= 0) {
    const trades = cTrades >= 0 ? ` in ${Math.round(sum(cTrades, 1))} trades` : '';
    clauses.push(`buyers took ${fmt(sum(cBuy, 1), 0)} lots vs ${fmt(sum(cSell, 1), 0)} sold${trades}`);
  }
  const cBid = col('bid_depth_5'), cAsk = col('ask_depth_5');
  if (cBid >= 0 && cAsk >= 0) {
    const b = at(T - 1, cBid), a = at(T - 1, cAsk);
    if (a + b > 0) clauses.push(`the bid side holds ${Math.round((100 * b) / (a + b))}% of the top-5 depth`);
  }
  const cVol = col('realized_vol_ticks');
  if (cVol >= 0) {
    const [lo, hi] = opts.volCuts ?? [0.7, 1.5];
    const v = at(T - 1, cVol);
    clauses.push(`volatility is ${v < lo ? 'low' : v < hi ? 'medium' : 'high'}`);
  }
  return `${lead} ${clauses.join('; ')}.`;
}

/** The prompt whose last token's hidden states are the LLM teacher's H_l. */
export function forecastPrompt(narrative: string): string {
  return `${narrative} Forecast:`;
}

/** The answer the tiny LM is trained on: " mid +2 ticks; spread 1.6 ticks; volume 3.2." */
export function renderForecast(mid: number, spread: number, volume: number): string {
  const m = Math.round(mid);
  return ` mid ${m >= 0 ? '+' : '-'}${Math.abs(m)} ticks; spread ${fmt(spread, 1)} ticks; volume ${fmt(volume, 1)}.`;
}

export interface ParsedForecast {
  mid: number;
  spread: number;
  volume: number;
}

/**
 * Reads a free-text forecast defensively: each of mid / spread / volume must appear once as "name <number>",
 * be finite and plausible (|mid| ≤ 10⁴ ticks, 0 ≤ spread ≤ 10⁴, 0 ≤ volume ≤ 50). Anything else → null, never a throw.
 */
export function parseForecast(text: unknown): ParsedForecast | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 10_000) return null;
  const grab = (name: string): number | null => {
    const re = new RegExp(`\\b${name}\\b\\s*[:=]?\\s*([+-]?\\s?\\d{1,7}(?:\\.\\d{1,6})?)(?![\\d.]*\\d)`, 'gi');
    const hits = [...text.matchAll(re)];
    if (hits.length !== 1) return null;
    const v = Number(hits[0][1].replace(/\s/g, ''));
    return Number.isFinite(v) ? v : null;
  };
  const mid = grab('mid'), spread = grab('spread'), volume = grab('volume');
  if (mid === null || spread === null || volume === null) return null;
  if (Math.abs(mid) > 1e4 || spread < 0 || spread > 1e4 || volume < 0 || volume > 50) return null;
  return { mid, spread, volume };
}

// ---------------------------------------------------------------------------------------------------------------
// Tokenizer: pieces are words, single digits, single punctuation characters, each with an optional leading space
// (" rose", "4", " ;"...). Known pieces map to ids; an unknown word falls back to its characters; a character
// outside printable ASCII becomes <unk>. Decoding concatenates pieces, so encode→decode is lossless for ASCII.

export const SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;
export const PAD_ID = 0, BOS_ID = 1, EOS_ID = 2, UNK_ID = 3;

export interface VocabJson {
  format: 'cmm-word-vocab';
  version: 1;
  tokens: string[];
}

const PIECE = / ?[A-Za-z]+| ?[0-9]| ?[^A-Za-z0-9\s]|\s/g;

function splitPieces(text: string): string[] {
  return text.match(PIECE) ?? [];
}

export class WordTokenizer {
  private readonly ids = new Map<string, number>();

  constructor(readonly tokens: string[]) {
    SPECIAL_TOKENS.forEach((t, i) => {
      if (tokens[i] !== t) throw new EngineError('E_MODEL', `vocab must start with ${SPECIAL_TOKENS.join(', ')}; token ${i} is ${JSON.stringify(tokens[i])}`);
    });
    tokens.forEach((t, i) => {
      if (this.ids.has(t)) throw new EngineError('E_MODEL', `vocab has token ${JSON.stringify(t)} twice`);
      this.ids.set(t, i);
    });
  }

  get size(): number {
    return this.tokens.length;
  }

  /** Words seen at least `minCount` times in `texts`, plus every printable ASCII character with and without a space. */
  static build(texts: string[], minCount = 3): WordTokenizer {
    const counts = new Map<string, number>();
    for (const t of texts) for (const p of splitPieces(t)) if (p.trim().length > 1) counts.set(p, (counts.get(p) ?? 0) + 1);
    const chars: string[] = [];
    for (let c = 32; c < 127; c++) {
      const ch = String.fromCharCode(c);
      chars.push(ch);
      if (c !== 32) chars.push(' ' + ch);
    }
    const words = [...counts].filter(([, n]) => n >= minCount).map(([w]) => w).sort();
    return new WordTokenizer([...SPECIAL_TOKENS, ...chars, ...words]);
  }

  static fromJson(json: unknown): WordTokenizer {
    const v = json as VocabJson;
    if (!v || v.format !== 'cmm-word-vocab' || !Array.isArray(v.tokens) || v.tokens.some((t) => typeof t !== 'string')) {
      throw new EngineError('E_MODEL', 'vocab JSON: expected {format: "cmm-word-vocab", tokens: string[]}');
    }
    return new WordTokenizer(v.tokens);
  }

  toJson(): VocabJson {
    return { format: 'cmm-word-vocab', version: 1, tokens: this.tokens };
  }

  encode(text: string): number[] {
    const out: number[] = [];
    for (const p of splitPieces(text)) {
      const id = this.ids.get(p);
      if (id !== undefined) { out.push(id); continue; }
      let i = 0;
      if (p[0] === ' ' && p.length > 1) {
        const spaced = this.ids.get(p.slice(0, 2)); // " v" of an unknown " volatility"
        if (spaced !== undefined) { out.push(spaced); i = 2; }
      }
      for (; i < p.length; i++) out.push(this.ids.get(p[i]) ?? UNK_ID);
    }
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === PAD_ID || id === BOS_ID || id === EOS_ID) continue;
      s += id === UNK_ID || id < 0 || id >= this.tokens.length ? '?' : this.tokens[id];
    }
    return s;
  }
}
