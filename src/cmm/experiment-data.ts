// Market data for the CMM experiments: the real recordings of ../shared/data imported with the project's own
// importers (`cmm import`, run as a child process) into event logs cached under a cache folder, generated
// markets (src/sim/generator.ts) written to the same cache, and injected variants of both (flash crash, trend
// reversal: InjectorOverlay on a replay, the generator's own injectors on a synthetic market).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EngineError, expected } from '../errors';
import { EventLogReader, EventLogWriter } from '../log/event-log';
import { MarketGenerator } from '../sim/generator';
import { InjectorOverlay, OVERLAY_REKEY_DEFAULTS } from '../sim/overlay';
import { Injector, RegimeMode, Trend } from '../sim/scenario';

/** One market an experiment runs on: where its event log comes from. */
export interface MarketSpec {
  /** Stable name: the cache file name and the RL policy name (models/rl-mm/<name>.json). */
  name: string;
  kind: 'real' | 'generated' | 'injected';
  /** Human description (venue, symbol, date, span). */
  description: string;
  /** Instrument symbol to trade (default: the log's only / busiest one). */
  instrument?: string;
  /** Real: importer venue and input files (+ symbols filter). */
  venue?: 'lobster' | 'bybit' | 'binance' | 'bitstamp';
  inputs?: string[];
  symbols?: string[];
  /** Generated: generator options. */
  generate?: { minutes: number; regime: RegimeMode; trend?: Trend; seed: number; injectors?: Injector[] };
  /** Injected into a replay: the base market and the injectors (times in seconds from the first event). */
  base?: MarketSpec;
  inject?: Injector[];
}

/** The real data sets of ../shared/data/README.md (those present under dataDir). */
export function realMarkets(dataDir: string): MarketSpec[] {
  const f = (...p: string[]): string => path.join(dataDir, ...p);
  const all: MarketSpec[] = [
    { name: 'lobster_msft_20120621', kind: 'real', venue: 'lobster', inputs: [f('lobster', 'MSFT_2012-06-21_34200000_37800000_message_50.csv')], description: 'LOBSTER MSFT 2012-06-21 09:30-10:30 (L3, 141k events)' },
    { name: 'lobster_amzn_20120621', kind: 'real', venue: 'lobster', inputs: [f('lobster', 'AMZN_2012-06-21_34200000_57600000_message_1.with_header.csv')], description: 'LOBSTER AMZN 2012-06-21 full session (L3, 57k events)' },
    { name: 'lobster_aapl_20120621', kind: 'real', venue: 'lobster', inputs: [f('lobster', 'AAPL_2012-06-21_34200000_57600000_message_10.csv')], description: 'LOBSTER AAPL 2012-06-21 first 999 events (L3)' },
    { name: 'binance_usdm_btcusdt_20240808', kind: 'real', venue: 'binance', inputs: [f('binance', 'usdm_btcusdt_20240808.gz')], description: 'Binance USD-M BTCUSDT 2024-08-08 23:54-00:00 (L2 diffs)' },
    { name: 'binance_usdm_ethusdt_20240808', kind: 'real', venue: 'binance', inputs: [f('binance', 'usdm_ethusdt_20240808.gz')], description: 'Binance USD-M ETHUSDT 2024-08-08 23:54-00:00 (L2 diffs)' },
    { name: 'binance_spot_btcusdt_20240808', kind: 'real', venue: 'binance', inputs: [f('binance', 'spot_btcusdt_20240808.gz')], description: 'Binance spot BTCUSDT 2024-08-08 (L2 diffs, one stuck bid: crossed book pruned)' },
    { name: 'bitstamp_btcusd_20150501', kind: 'real', venue: 'bitstamp', inputs: [f('bitstamp', '2015-05-01.log')], description: 'Bitstamp BTCUSD 2015-05-01 00:00-05:04 (L3)' },
  ];
  for (const sym of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT']) {
    all.push({
      name: `bybit_${sym.toLowerCase()}_20260809`, kind: 'real', venue: 'bybit', inputs: [f('bybit', 'BYBIT.v5.jsonl')], symbols: [sym], instrument: sym,
      description: `Bybit v5 ${sym} 2026-08-09 (~45 s, L2 orderbook.200)`,
    });
  }
  return all.filter((m) => m.inputs!.every((p) => fs.existsSync(p)));
}

/** The generated markets of the main experiment: regime-switching, sideways and trending. */
export function generatedMarkets(minutes = 30, seed = 1): MarketSpec[] {
  return [
    { name: `gen_switching_sideways_s${seed}`, kind: 'generated', generate: { minutes, regime: 'switching', trend: 'sideways', seed }, description: `generated: ${minutes} min, Markov-switching volatility, no drift, seed ${seed}` },
    { name: `gen_switching_bull_s${seed + 1}`, kind: 'generated', generate: { minutes, regime: 'switching', trend: 'bull', seed: seed + 1 }, description: `generated: ${minutes} min, switching volatility, bull drift 2 %/h, seed ${seed + 1}` },
  ];
}

export function defaultCacheDir(): string {
  return path.join(os.tmpdir(), 'cmm-experiment-cache');
}

/** Path of the `cmm` CLI entry point next to this compiled module (dist/src/cmm → dist/src/cli/cmm.js). */
export function cliEntry(): string {
  return path.join(__dirname, '..', 'cli', 'cmm.js');
}

function stamp(file: string): string {
  const s = fs.statSync(file);
  return `${s.size}:${Math.floor(s.mtimeMs)}`;
}

/** Runs `cmm import` for a real market unless its cached log is current. Returns the log path. */
function importReal(m: MarketSpec, cacheDir: string, log: (line: string) => void): string {
  const out = path.join(cacheDir, `${m.name}.cmm`);
  const key = path.join(cacheDir, `${m.name}.key`);
  const want = `${m.venue} ${m.inputs!.map((p) => `${p}@${stamp(p)}`).join(' ')} ${(m.symbols ?? []).join(',')}`;
  if (fs.existsSync(out) && fs.existsSync(key) && fs.readFileSync(key, 'utf8') === want) return out;
  log(`import ${m.venue} ${m.inputs!.map((p) => path.basename(p)).join(' ')} -> ${out}`);
  const args = [cliEntry(), 'import', m.venue!, ...m.inputs!, '-o', out, ...(m.symbols ? ['--symbols', m.symbols.join(',')] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new EngineError('E_BAD_INPUT', `cmm import ${m.venue} failed for ${m.name} (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`);
  fs.writeFileSync(key, want);
  return out;
}

function generate(m: MarketSpec, cacheDir: string, log: (line: string) => void): string {
  const g = m.generate!;
  const out = path.join(cacheDir, `${m.name}.cmm`);
  const key = path.join(cacheDir, `${m.name}.key`);
  const want = JSON.stringify(g);
  if (fs.existsSync(out) && fs.existsSync(key) && fs.readFileSync(key, 'utf8') === want) return out;
  log(`generate ${m.name}: ${g.minutes} min, regime ${g.regime}, trend ${g.trend ?? 'sideways'}, seed ${g.seed}${g.injectors?.length ? `, ${g.injectors.map((i) => `${i.kind}@${i.atSeconds}s`).join(', ')}` : ''}`);
  const gen = new MarketGenerator({ seconds: g.minutes * 60, regime: g.regime, trend: g.trend, seed: g.seed, injectors: g.injectors });
  const w = EventLogWriter.create(out + '.tmp', { source: 'cmm experiment (generator)', instruments: [gen.instrument], meta: { generator: g } });
  try {
    for (let b = gen.next(); b; b = gen.next()) w.append(b);
  } finally {
    w.close();
  }
  fs.renameSync(out + '.tmp', out);
  fs.writeFileSync(key, want);
  return out;
}

/** Replays the base log through an InjectorOverlay into a new log. */
function injectReplay(m: MarketSpec, baseLog: string, cacheDir: string, log: (line: string) => void): string {
  const out = path.join(cacheDir, `${m.name}.cmm`);
  const key = path.join(cacheDir, `${m.name}.key`);
  // The re-key bounds are in the key: logs built by an overlay with other (or no) bounds are rebuilt.
  const want = `${baseLog}@${stamp(baseLog)} ${JSON.stringify(m.inject)} ${JSON.stringify(OVERLAY_REKEY_DEFAULTS)}`;
  if (fs.existsSync(out) && fs.existsSync(key) && fs.readFileSync(key, 'utf8') === want) return out;
  log(`inject ${m.inject!.map((i) => `${i.kind}@${i.atSeconds.toFixed(1)}s`).join(', ')} into ${path.basename(baseLog)} -> ${out}`);
  const reader = EventLogReader.open(baseLog);
  try {
    const overlay = new InjectorOverlay(reader.header.instruments, m.inject!);
    const w = EventLogWriter.create(out + '.tmp', { source: `cmm experiment (overlay of ${path.basename(baseLog)})`, instruments: reader.header.instruments, meta: { base: path.basename(baseLog), injectors: m.inject } });
    try {
      for (const b of reader.batches()) {
        const t = overlay.transform(b.events.subarray(0, b.count * 64));
        if (t.length > 0) w.append(t);
      }
      reader.assertComplete();
    } finally {
      w.close();
    }
  } finally {
    reader.close();
  }
  fs.renameSync(out + '.tmp', out);
  fs.writeFileSync(key, want);
  return out;
}

/** The event log of a market, built (import / generate / overlay) into cacheDir unless cached. */
export function marketLog(m: MarketSpec, cacheDir: string, log: (line: string) => void = () => undefined): string {
  if (!m || typeof m.name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(m.name)) throw expected('a market with a file-safe name', 'market', m?.name);
  fs.mkdirSync(cacheDir, { recursive: true });
  if (m.kind === 'real') return importReal(m, cacheDir, log);
  if (m.kind === 'generated') return generate(m, cacheDir, log);
  if (m.kind === 'injected' && m.base && m.inject) {
    if (m.base.kind === 'generated') {
      // A generated market carries its injectors itself (the flow reacts: bids withdraw, sellers burst).
      return generate({ ...m, generate: { ...m.base.generate!, injectors: m.inject } }, cacheDir, log);
    }
    return injectReplay(m, marketLog(m.base, cacheDir, log), cacheDir, log);
  }
  throw expected("'real', 'generated' or 'injected' (with base and inject)", `market ${m.name} kind`, m.kind);
}

/** Selects markets by comma-separated names or prefixes ('all' or undefined: every one). */
export function selectMarkets(all: MarketSpec[], filter: string | undefined): MarketSpec[] {
  if (filter === undefined || filter === 'all') return all;
  const want = filter.split(',').map((s) => s.trim()).filter(Boolean);
  const out = all.filter((m) => want.some((w) => m.name === w || m.name.startsWith(w)));
  if (out.length === 0) throw expected(`market names or prefixes among ${all.map((m) => m.name).join(', ')}`, '--markets', filter);
  return out;
}

/** Like selectMarkets but never throws: the markets whose names match one of the names or prefixes. */
export function pickMarkets(all: MarketSpec[], filter: string): MarketSpec[] {
  const want = filter.split(',').map((s) => s.trim()).filter(Boolean);
  return all.filter((m) => want.includes('all') || want.some((w) => m.name === w || m.name.startsWith(w)));
}
