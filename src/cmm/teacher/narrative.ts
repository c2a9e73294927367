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

/** What a narrative says about a window, read from named features (either naming scheme, see FEATURE_ALIASES). */
export interface WindowFacts {
  seconds?: number;
  midMove?: number;
  midLevel?: number;
  spreadFrom?: number;
  spreadTo?: number;
  bought?: number;
  sold?: number;
  traded?: number;
  trades?: number;
  netFlow?: number;
  bidShare?: number;
  volatility?: number;
}

/**
 * Feature names the narrative understands: the synthetic process's snake_case names and the dataset builder's
 * (src/cmm/dataset.ts WINDOW_FEATURES). Per-snapshot quantities are summed over snapshots 1..T−1 (what happened
 * inside the window); levels are read at the last snapshot.
 */
export const FEATURE_ALIASES = {
  midMove: ['mid_change_ticks', 'midChangeTicks'],
  spread: ['spread_ticks', 'spreadTicks'],
  volatility: ['realized_vol_ticks', 'logRealisedVol (log1p)'],
  depthShare: ['bid_depth_5 + ask_depth_5', 'imbalance5'],
  volume: ['buy_volume + sell_volume', 'logVolume (log1p)'],
  flow: ['tradeFlowSlog (signed log1p)'],
} as const;

export function windowFacts(window: Float32Array, spec: TeacherInputSpec, tick = 0.01): WindowFacts {
  const { T, F, features } = spec;
  if (window.length !== T * F) throw expected(`${T}×${F} floats`, 'narrative window', window.length);
  const col = (...names: string[]) => { for (const n of names) { const c = features.indexOf(n); if (c >= 0) return c; } return -1; };
  const at = (t: number, c: number) => window[t * F + c];
  const sum = (c: number, f: (v: number) => number = (v) => v) => { let s = 0; for (let t = 1; t < T; t++) s += f(at(t, c)); return s; };
  const facts: WindowFacts = {};
  const cDt = col('dt_seconds'), cMid = col('mid_price'), cDm = col('mid_change_ticks', 'midChangeTicks');
  if (cDt >= 0) facts.seconds = sum(cDt);
  if (cMid >= 0) facts.midLevel = at(T - 1, cMid);
  if (cDm >= 0) facts.midMove = Math.round(sum(cDm));
  else if (cMid >= 0) facts.midMove = Math.round((at(T - 1, cMid) - at(0, cMid)) / tick);
  const cSp = col('spread_ticks', 'spreadTicks');
  if (cSp >= 0) { facts.spreadFrom = at(0, cSp); facts.spreadTo = at(T - 1, cSp); }
  const cBuy = col('buy_volume'), cSell = col('sell_volume'), cLogVol = col('logVolume'), cTrades = col('trade_count');
  if (cBuy >= 0 && cSell >= 0) { facts.bought = sum(cBuy); facts.sold = sum(cSell); }
  else if (cLogVol >= 0) facts.traded = sum(cLogVol, Math.expm1);
  if (cTrades >= 0) facts.trades = Math.round(sum(cTrades));
  const cFlow = col('tradeFlowSlog');
  if (cFlow >= 0) { const v = at(T - 1, cFlow); facts.netFlow = Math.sign(v) * Math.expm1(Math.abs(v)); }
  const cBid = col('bid_depth_5'), cAsk = col('ask_depth_5'), cImb = col('imbalance5');
  if (cBid >= 0 && cAsk >= 0) { const b = at(T - 1, cBid), a = at(T - 1, cAsk); if (a + b > 0) facts.bidShare = b / (a + b); }
  else if (cImb >= 0) facts.bidShare = (1 + at(T - 1, cImb)) / 2;
  const cVol = col('realized_vol_ticks'), cLogRv = col('logRealisedVol');
  if (cVol >= 0) facts.volatility = at(T - 1, cVol);
  else if (cLogRv >= 0) facts.volatility = Math.expm1(at(T - 1, cLogRv));
  return facts;
}

/**
 * "Over the last 3.2 s the mid rose 4 ticks to 100.05; the spread widened from 1 to 3 ticks; buyers took 12 lots
 * vs 3 sold in 25 trades; the bid side holds 62% of the top-5 depth; volatility is high." A clause whose features
 * are absent is left out; non-finite values drop their clause. Deterministic: same window, same text.
 */
export function renderNarrative(window: Float32Array, spec: TeacherInputSpec, opts: NarrativeOptions = {}): string {
  const tick = opts.tick ?? 0.01;
  const f = windowFacts(window, spec, tick);
  const ok = (...v: (number | undefined)[]) => v.every((x) => x !== undefined && Number.isFinite(x));
  const clauses: string[] = [];
  const lead = ok(f.seconds) ? `Over the last ${fmt(f.seconds as number, 1)} s` : `Over the last ${spec.T} snapshots`;
  const decimals = Math.max(0, Math.ceil(-Math.log10(tick) - 1e-9) + 1);
  const level = ok(f.midLevel) ? fmt(f.midLevel as number, decimals) : undefined;
  if (ok(f.midMove)) {
    const m = f.midMove as number;
    clauses.push(m === 0 ? `the mid was unchanged${level ? ` at ${level}` : ''}` : `the mid ${m > 0 ? 'rose' : 'fell'} ${Math.abs(m)} ${plural(m, 'tick')}${level ? ` to ${level}` : ''}`);
  }
  if (ok(f.spreadFrom, f.spreadTo)) {
    const a = Math.round(f.spreadFrom as number), b = Math.round(f.spreadTo as number);
    clauses.push(a === b ? `the spread stayed at ${b} ${plural(b, 'tick')}` : `the spread ${b > a ? 'widened' : 'narrowed'} from ${a} to ${b} ${plural(b, 'tick')}`);
  }
  const inTrades = ok(f.trades) ? ` in ${f.trades} trades` : '';
  if (ok(f.bought, f.sold)) clauses.push(`buyers took ${fmt(f.bought as number, 0)} lots vs ${fmt(f.sold as number, 0)} sold${inTrades}`);
  else if (ok(f.traded)) clauses.push(`${fmt(f.traded as number, 0)} lots traded${inTrades}`);
  if (ok(f.netFlow)) {
    const n = f.netFlow as number;
    clauses.push(Math.abs(n) < 0.5 ? 'aggressive flow is balanced' : `aggressive flow favours ${n > 0 ? 'buyers' : 'sellers'} by ${fmt(Math.abs(n), 0)} lots`);
  }
  if (ok(f.bidShare)) clauses.push(`the bid side holds ${Math.round(100 * (f.bidShare as number))}% of the top-5 depth`);
  if (ok(f.volatility)) {
    const [lo, hi] = opts.volCuts ?? [0.7, 1.5];
    const v = f.volatility as number;
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
    const re = new RegExp(`\\b${name}\\b\\s*[:=]?\\s*([+-]?\\s?\\d{1,7}(?:\\.\\d{1,6})?)(?![\\d.]*\\d)(?![eE][+-]?\\d)`, 'gi');
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

const NARRATIVE_WORDS = 'Over the last s snapshots mid was unchanged at rose fell tick ticks to spread stayed widened narrowed from ' +
  'buyers took lots vs sold in trades traded aggressive flow is balanced favours sellers by bid side holds of top depth ' +
  'volatility low medium high Forecast volume';

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

  /**
   * Words seen at least `minCount` times in `texts`, every word of the narrative templates (so either feature
   * naming scheme tokenises to words), and every printable ASCII character with and without a leading space.
   */
  static build(texts: string[], minCount = 3): WordTokenizer {
    const counts = new Map<string, number>();
    for (const p of splitPieces(NARRATIVE_WORDS)) if (p.trim().length > 1) counts.set(p, minCount);
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
