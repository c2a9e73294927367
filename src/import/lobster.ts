// LOBSTER (NASDAQ TotalView-ITCH reconstructions) message and orderbook CSV parsers: message rows
// become engine events (one venue message each), orderbook rows a Float64Array for verification.
//
// Message columns: time (seconds after midnight, up to ns), type, order id, size, price x 10000,
// direction (1 buy / -1 sell limit order). Mapping (every event carries EndOfMessage):
//   1 new order        -> Add (side = direction)
//   2 partial cancel   -> Cancel by size
//   3 full delete      -> Cancel by size (LOBSTER's size is the order's whole remaining size)
//   4 visible exec     -> Trade, side = aggressor = opposite of direction, ExecResting + order id
//   5 hidden exec      -> Trade with Hidden (no book change), side = opposite of direction
//   6 cross trade      -> Trade, side None (auction: no aggressor), no book change
//   7 halt indicator   -> Status, qty = LOBSTER's price code (-1 halt, 0 quoting, 1 resume)
// Prices: ticks of 0.01 USD (price / 100) when every price in the file is a multiple of 100, else
// ticks of 0.0001 USD (the raw field); `priceScale` in the result says which (raw units per tick).
// Quantities: lots of one share. Time: the trading date comes from the file name (TICKER_YYYY-MM-DD_...)
// and midnight is New York's (NASDAQ), EST or EDT by the US rules for that date; ts in int64 ns since
// the epoch, tsExchange = tsLocal. `seq` is the event's 1-based ordinal, prev_seq 0 (no venue ids).
// Bad rows (wrong column count, garbage, NaN, sizes <= 0, bad type/direction) are skipped, counted and
// listed with file:line; a time that goes back is kept, clamped (tsLocal) and flagged TsClamped.
// strict: the first problem throws EngineError E_BAD_INPUT naming file and line.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { EventBatch, EventFlag, EventKind, Side } from '../core/event';
import type { InstrumentInfo } from '../core/instrument';
import { EngineError, expected } from '../errors';

/** A file path (plain or gzip), or text already in memory with the name it came from. */
export type LobsterSource = string | { text: string; name: string };

export interface LobsterIssue {
  file: string;
  /** 1-based line in the file. */
  line: number;
  message: string;
}

export interface LobsterMessageOptions {
  /** Throw E_BAD_INPUT at the first bad row instead of skipping and counting it. */
  strict?: boolean;
  /** Trading date YYYY-MM-DD; default: taken from the file name. */
  date?: string;
  /** Offset of local time from UTC in minutes (e.g. -240); default: New York's for the date. */
  utcOffsetMinutes?: number;
  /** Event.instrument and InstrumentInfo.id. Default 0. */
  instrumentId?: number;
  /** Default: the file name up to the first '_'. */
  symbol?: string;
  venue?: string;
  /** Raw LOBSTER price units per tick: 100 (0.01 USD), 1 (0.0001 USD) or 'auto' (default). */
  priceScale?: 'auto' | 1 | 100;
  /** How many problems to list in `errors` (all are counted). Default 100. */
  maxErrors?: number;
}

export interface LobsterMessages {
  batch: EventBatch;
  instrument: InstrumentInfo;
  /** Raw LOBSTER price units per tick (1 or 100): tick = priceScale / 10000 USD. */
  priceScale: number;
  /** Data rows seen (header and blank lines excluded), bad ones included. */
  rows: number;
  /** Rows not turned into events. */
  skipped: number;
  /** Rows whose time went back (kept, tsLocal clamped, TsClamped flag). */
  clamped: number;
  errors: LobsterIssue[];
  errorCount: number;
  header: boolean;
  /** Per event: its 0-based data row, i.e. the row of the matching orderbook file. */
  dataRow: Int32Array;
  /** Per event: its 1-based line in the file. */
  line: Int32Array;
  /** Per event: the LOBSTER type (1..7). */
  type: Uint8Array;
}

export interface LobsterOrderbookOptions {
  strict?: boolean;
  /** Raw price units per tick, as returned by parseLobsterMessages. Default 1. */
  priceScale?: number;
  maxErrors?: number;
}

export interface LobsterOrderbook {
  /** Levels per side (columns / 4). */
  levels: number;
  rows: number;
  /**
   * rows x levels x 4 values in file order (ask price, ask size, bid price, bid size per level), prices
   * in ticks; an empty level (±9999999999, size 0) is NaN price, 0 size, as OrderBook.topLevels writes.
   */
  data: Float64Array;
  /** 1 for rows that could not be parsed (their data is NaN). */
  bad: Uint8Array;
  header: boolean;
  errors: LobsterIssue[];
  errorCount: number;
}

const EMPTY_PRICE = 9999999999;
const INT = /^-?\d+$/;
const TIME = /^(\d+)(?:\.(\d*))?$/;
const SIDE_OF_DIRECTION = (d: number): Side => (d === 1 ? Side.Bid : Side.Ask);

function readSource(src: LobsterSource): { text: string; name: string } {
  if (typeof src !== 'string') {
    if (!src || typeof src.text !== 'string' || typeof src.name !== 'string') {
      throw expected('a path or { text, name }', 'LOBSTER source', src);
    }
    return src;
  }
  let buf: Uint8Array;
  try {
    const raw = fs.readFileSync(src);
    buf = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  } catch (err) {
    throw new EngineError('E_FILE_NOT_FOUND', `cannot read LOBSTER file: ${(err as Error).message}`, { file: src });
  }
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      const out = zlib.gunzipSync(buf);
      buf = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (err) {
      throw new EngineError('E_TRUNCATED', `gzip data is damaged: ${(err as Error).message}`, { file: src });
    }
  }
  return { text: new TextDecoder('utf-8').decode(buf), name: src };
}

/** Collects problems: throws in strict mode, else counts and lists the first `max`. */
class Issues {
  readonly list: LobsterIssue[] = [];
  count = 0;
  constructor(readonly file: string, readonly strict: boolean, readonly max: number) {}
  add(line: number, message: string): void {
    if (this.strict) throw new EngineError('E_BAD_INPUT', message, { file: this.file, line });
    this.count++;
    if (this.list.length < this.max) this.list.push({ file: this.file, line, message });
  }
}

/**
 * Calls f(fields, lineNo, dataRow) for each data row; returns whether the first non-blank line was a
 * header (every field a name, and a column count `isHeaderWidth` accepts: a garbage first line is data).
 */
function forEachRow(
  text: string,
  isHeaderWidth: (columns: number) => boolean,
  f: (fields: string[], line: number, row: number) => void,
): { header: boolean; rows: number } {
  let header = false;
  let rows = 0;
  let lineNo = 0;
  let seenData = false;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let line = text.slice(pos, end);
    pos = end + 1;
    lineNo++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const fields = line.split(',').map((s) => s.trim());
    if (!seenData && isHeaderWidth(fields.length) && fields.every((x) => /^[A-Za-z"]/.test(x))) {
      header = true;
      seenData = true;
      continue;
    }
    seenData = true;
    f(fields, lineNo, rows++);
  }
  return { header, rows };
}

/** Offset of New York local time from UTC (minutes) at local midnight of the date: -240 EDT, -300 EST. */
export function newYorkUtcOffsetMinutes(year: number, month: number, day: number): number {
  const nthSunday = (m: number, n: number): number => {
    const first = new Date(Date.UTC(year, m - 1, 1)).getUTCDay();
    return 1 + ((7 - first) % 7) + 7 * (n - 1);
  };
  const lastSunday = (m: number): number => {
    const last = new Date(Date.UTC(year, m, 0));
    return last.getUTCDate() - last.getUTCDay();
  };
  // [start, end]: DST begins at 02:00 on the start Sunday (so its midnight is still EST) and ends at
  // 02:00 on the end Sunday (its midnight is still EDT).
  const [sm, sd, em, ed] = year >= 2007 ? [3, nthSunday(3, 2), 11, nthSunday(11, 1)] : [4, nthSunday(4, 1), 10, lastSunday(10)];
  const key = month * 100 + day;
  return key > sm * 100 + sd && key <= em * 100 + ed ? -240 : -300;
}

function epochNsOfLocalMidnight(date: string, offsetMinutes: number | undefined, file: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new EngineError('E_BAD_INPUT', `expected a trading date YYYY-MM-DD, got ${JSON.stringify(date)}`, { file });
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const off = offsetMinutes ?? newYorkUtcOffsetMinutes(y, mo, d);
  return (BigInt(Date.UTC(y, mo - 1, d)) - BigInt(off) * 60000n) * 1000000n;
}

/**
 * Parses a LOBSTER message file into engine events (see the mapping at the top of this file).
 * Returns the batch, the instrument (bookType 'L3'), counts and the listed problems.
 */
export function parseLobsterMessages(source: LobsterSource, opts: LobsterMessageOptions = {}): LobsterMessages {
  const { text, name } = readSource(source);
  const base = path.basename(name);
  const strict = opts.strict ?? false;
  const issues = new Issues(name, strict, opts.maxErrors ?? 100);
  const instrumentId = opts.instrumentId ?? 0;
  if (!Number.isInteger(instrumentId) || instrumentId < 0 || instrumentId > 0xffffffff) {
    throw expected('an integer 0..2^32-1', 'instrumentId', instrumentId);
  }
  const scaleOpt = opts.priceScale ?? 'auto';
  if (scaleOpt !== 'auto' && scaleOpt !== 1 && scaleOpt !== 100) throw expected("'auto', 1 or 100", 'priceScale', scaleOpt);
  const date = opts.date ?? /(\d{4}-\d{2}-\d{2})/.exec(base)?.[1];
  if (date === undefined) {
    throw new EngineError('E_BAD_INPUT', `no trading date (YYYY-MM-DD) in the file name ${JSON.stringify(base)}; pass date`, { file: name });
  }
  const midnight = epochNsOfLocalMidnight(date, opts.utcOffsetMinutes, name);

  // Pass 1: validate every row into columns.
  const sec: number[] = [];
  const nanos: number[] = [];
  const type: number[] = [];
  const ids: string[] = [];
  const size: number[] = [];
  const price: number[] = [];
  const dir: number[] = [];
  const rowOf: number[] = [];
  const lineOf: number[] = [];
  const { header, rows } = forEachRow(text, (n) => n === 6, (f, line, row) => {
    if (f.length !== 6) return issues.add(line, `expected 6 columns (time,type,order id,size,price,direction), got ${f.length}`);
    const t = TIME.exec(f[0]);
    if (!t) return issues.add(line, `expected seconds after midnight for time, got ${JSON.stringify(f[0])}`);
    for (let i = 1; i < 6; i++) {
      if (!INT.test(f[i])) return issues.add(line, `expected an integer for column ${i + 1}, got ${JSON.stringify(f[i])}`);
    }
    const ty = Number(f[1]);
    const sz = Number(f[3]);
    const px = Number(f[4]);
    const d = Number(f[5]);
    if (ty < 1 || ty > 7) return issues.add(line, `expected a message type 1..7, got ${ty}`);
    if (f[2].startsWith('-')) return issues.add(line, `expected a non-negative order id, got ${f[2]}`);
    if (d !== 1 && d !== -1) return issues.add(line, `expected direction 1 or -1, got ${d}`);
    if (ty !== 7) {
      if (!(sz > 0) || !Number.isSafeInteger(sz)) return issues.add(line, `expected a positive size, got ${f[3]}`);
      if (!(px > 0) || !Number.isSafeInteger(px)) return issues.add(line, `expected a positive price, got ${f[4]}`);
    } else if (px < -1 || px > 1) return issues.add(line, `expected a halt code -1, 0 or 1 in the price column, got ${px}`);
    sec.push(Number(t[1]));
    nanos.push(Number(((t[2] ?? '') + '000000000').slice(0, 9)));
    type.push(ty);
    ids.push(f[2]);
    size.push(sz);
    price.push(px);
    dir.push(d);
    rowOf.push(row);
    lineOf.push(line);
  });

  let priceScale: number = scaleOpt === 'auto' ? 100 : scaleOpt;
  if (scaleOpt === 'auto') {
    for (let i = 0; i < type.length; i++) if (type[i] !== 7 && price[i] % 100 !== 0) priceScale = 1;
  }

  // Pass 2: events.
  const batch = new EventBatch(Math.max(16, type.length));
  const dataRow: number[] = [];
  const lines: number[] = [];
  const types: number[] = [];
  let last = -1n;
  let clamped = 0;
  let skipped = rows - type.length;
  for (let i = 0; i < type.length; i++) {
    if (type[i] !== 7 && price[i] % priceScale !== 0) {
      issues.add(lineOf[i], `expected a price on the 0.01 USD grid (multiple of 100), got ${price[i]}`);
      skipped++;
      continue;
    }
    const ts = midnight + BigInt(sec[i]) * 1000000000n + BigInt(nanos[i]);
    let tsLocal = ts;
    let flags = EventFlag.EndOfMessage;
    if (ts < last) {
      const back = last - ts;
      clamped++;
      issues.add(lineOf[i], `time went back by ${back} ns; clamped to the previous row's`);
      tsLocal = last;
      flags |= EventFlag.TsClamped;
    } else last = ts;
    const side = SIDE_OF_DIRECTION(dir[i]);
    const aggressor = side === Side.Bid ? Side.Ask : Side.Bid;
    const px = type[i] === 7 ? 0n : BigInt(price[i] / priceScale);
    const qty = BigInt(size[i]);
    const id = BigInt(ids[i]);
    const seq = BigInt(batch.length + 1);
    switch (type[i]) {
      case 1:
        batch.push(ts, tsLocal, instrumentId, EventKind.Add, side, px, qty, id, seq, 0n, flags);
        break;
      case 2:
      case 3:
        batch.push(ts, tsLocal, instrumentId, EventKind.Cancel, side, px, qty, id, seq, 0n, flags);
        break;
      case 4:
        batch.push(ts, tsLocal, instrumentId, EventKind.Trade, aggressor, px, qty, id, seq, 0n, flags | EventFlag.ExecResting);
        break;
      case 5:
        batch.push(ts, tsLocal, instrumentId, EventKind.Trade, aggressor, px, qty, id, seq, 0n, flags | EventFlag.Hidden);
        break;
      case 6:
        batch.push(ts, tsLocal, instrumentId, EventKind.Trade, Side.None, px, qty, id, seq, 0n, flags);
        break;
      default: // 7: trading status
        batch.push(ts, tsLocal, instrumentId, EventKind.Status, Side.None, 0n, BigInt(price[i]), 0n, seq, 0n, flags);
    }
    dataRow.push(rowOf[i]);
    lines.push(lineOf[i]);
    types.push(type[i]);
  }

  const instrument: InstrumentInfo = {
    id: instrumentId,
    symbol: opts.symbol ?? base.split('_')[0],
    venue: opts.venue ?? 'NASDAQ',
    tickSize: priceScale / 10000,
    lotSize: 1,
    bookType: 'L3',
  };
  return {
    batch,
    instrument,
    priceScale,
    rows,
    skipped,
    clamped,
    errors: issues.list,
    errorCount: issues.count,
    header,
    dataRow: Int32Array.from(dataRow),
    line: Int32Array.from(lines),
    type: Uint8Array.from(types),
  };
}

/** Parses a LOBSTER orderbook file (ask price, ask size, bid price, bid size per level). */
export function parseLobsterOrderbook(source: LobsterSource, opts: LobsterOrderbookOptions = {}): LobsterOrderbook {
  const { text, name } = readSource(source);
  const scale = opts.priceScale ?? 1;
  if (!Number.isInteger(scale) || scale <= 0) throw expected('a positive integer', 'priceScale', scale);
  const issues = new Issues(name, opts.strict ?? false, opts.maxErrors ?? 100);
  let levels = 0;
  const values: number[] = [];
  const bad: number[] = [];
  const { header, rows } = forEachRow(text, (n) => n > 0 && n % 4 === 0, (f, line) => {
    if (levels === 0) {
      if (f.length % 4 !== 0) {
        throw new EngineError('E_BAD_INPUT', `expected 4 columns per level (ask price, ask size, bid price, bid size), got ${f.length}`, { file: name, line });
      }
      levels = f.length / 4;
    }
    const cells = new Array<number>(levels * 4).fill(NaN);
    const ok = parseBookRow(f, line, levels, scale, cells, issues);
    for (const v of cells) values.push(ok ? v : NaN);
    bad.push(ok ? 0 : 1);
  });
  return { levels, rows, data: Float64Array.from(values), bad: Uint8Array.from(bad), header, errors: issues.list, errorCount: issues.count };
}

/** Fills `cells` from one orderbook row; false (after reporting) when the row is bad. */
function parseBookRow(f: string[], line: number, levels: number, scale: number, cells: number[], issues: Issues): boolean {
  if (f.length !== levels * 4) {
    issues.add(line, `expected ${levels * 4} columns, got ${f.length}`);
    return false;
  }
  for (let i = 0; i < f.length; i += 2) {
    if (!INT.test(f[i]) || !INT.test(f[i + 1])) {
      issues.add(line, `expected integers in columns ${i + 1}-${i + 2}, got ${JSON.stringify(f[i])}, ${JSON.stringify(f[i + 1])}`);
      return false;
    }
    const px = Number(f[i]);
    const sz = Number(f[i + 1]);
    if (sz < 0) {
      issues.add(line, `expected a size >= 0 in column ${i + 2}, got ${sz}`);
      return false;
    }
    if (sz === 0) {
      if (Math.abs(px) !== EMPTY_PRICE) {
        issues.add(line, `expected the empty-level price ±${EMPTY_PRICE} with size 0 in column ${i + 1}, got ${px}`);
        return false;
      }
      cells[i] = NaN; // empty level: no price, nothing resting
      cells[i + 1] = 0;
      continue;
    }
    if (px <= 0 || px % scale !== 0) {
      issues.add(line, `expected a positive price on the tick grid (multiple of ${scale}) in column ${i + 1}, got ${px}`);
      return false;
    }
    cells[i] = px / scale;
    cells[i + 1] = sz;
  }
  return true;
}
