// Instrument metadata shared by importers, the market engine and tools: `id` is the index carried in
// Event.instrument; prices in events are integer ticks of `tickSize`, quantities lots of `lotSize`.
import { expected } from '../errors';

export type BookType = 'L2' | 'L3';
/** Same as BookType (both names are in use). */
export type BookKind = BookType;

export interface InstrumentInfo {
  /** Index in Event.instrument: 0..n-1 inside one engine or log. */
  id: number;
  symbol: string;
  venue: string;
  /** Price of one tick, in quote currency. */
  tickSize: number;
  /** Quantity of one lot, in base units. */
  lotSize: number;
  /** L2: market-by-price levels; L3: market-by-order. */
  bookType: BookType;
}

/** Throws E_INVALID_ARG ("expected X for Y, got Z") unless `info` is a well-formed InstrumentInfo. */
export function validateInstrument(info: InstrumentInfo, where = 'instrument'): void {
  if (info === null || typeof info !== 'object') throw expected('an InstrumentInfo object', where, info);
  if (!Number.isInteger(info.id) || info.id < 0 || info.id > 0xffffffff) {
    throw expected('an integer 0..2^32-1', `${where}.id`, info.id);
  }
  if (typeof info.symbol !== 'string') throw expected('a string', `${where}.symbol`, info.symbol);
  if (typeof info.venue !== 'string') throw expected('a string', `${where}.venue`, info.venue);
  for (const key of ['tickSize', 'lotSize'] as const) {
    const v = info[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw expected('a positive finite number', `${where}.${key}`, v);
  }
  if (info.bookType !== 'L2' && info.bookType !== 'L3') throw expected("'L2' or 'L3'", `${where}.bookType`, info.bookType);
}

/**
 * Validates a list and returns it ordered by id. Ids must be exactly 0..n-1 (each once): they index
 * per-instrument state in the native engine.
 */
export function instrumentsById(list: readonly InstrumentInfo[]): InstrumentInfo[] {
  if (!Array.isArray(list)) throw expected('an array of InstrumentInfo', 'instruments', list);
  list.forEach((info, i) => validateInstrument(info, `instruments[${i}]`));
  const sorted = [...list].sort((a, b) => a.id - b.id);
  sorted.forEach((info, i) => {
    if (info.id !== i) throw expected(`ids 0..${list.length - 1}, each once`, 'instruments', `id ${info.id} at position ${i}`);
  });
  return sorted;
}
