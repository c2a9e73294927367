// Field readers shared by the venue parsers: a bad field throws LineError, which the driver turns into
// a per-line report entry (or E_BAD_INPUT in strict mode).
import { decimalToUnits } from './decimal';

/** A bad line: becomes an ImportIssue (or E_BAD_INPUT in strict mode). `reason` keys `skipped`. */
export class LineError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = 'LineError';
  }
}

/** JSON.parse that turns garbage into a LineError. */
export function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    throw new LineError('garbage line', `not JSON: ${JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text)}`);
  }
}

/** Integer nanoseconds from a decimal-string or number of ms. */
export function msToNs(ms: number | string, what = 'timestamp'): bigint {
  return unitsOf(ms, 6, what);
}

/** Integer nanoseconds from seconds with a fraction (e.g. 1786310819.5264041). */
export function secondsToNs(s: number | string, what = 'timestamp'): bigint {
  return unitsOf(s, 9, what);
}

function unitsOf(v: number | string, decimals: number, what: string): bigint {
  const text = typeof v === 'number' ? String(v) : v;
  if (typeof v === 'number' && (!Number.isFinite(v) || text.includes('e'))) throw new LineError('bad timestamp', `bad ${what}: ${text}`);
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new LineError('bad timestamp', `bad ${what}: ${JSON.stringify(text)}`);
  // Digits beyond the nanosecond are dropped (truncation, never rounding up past the next message).
  const frac = (m[2] ?? '').slice(0, decimals);
  return decimalToUnits(frac ? `${m[1]}.${frac}` : m[1], decimals);
}

/** A non-negative integer field (update ids): a safe JS integer or a LineError. */
export function safeId(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new LineError('bad sequence', `expected an update id for ${what}, got ${JSON.stringify(v)}`);
  return v;
}

