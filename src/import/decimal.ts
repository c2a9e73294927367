// Exact decimal strings -> integer ticks/lots. No float ever touches a price: "0.1" + "0.2" problems
// cannot happen, and a value that does not fit the instrument's scale is an error, not a rounding.

/** Unsigned or negative plain decimal: "123", "-0.50", "61837.63000000". No exponent, no '+'. */
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * Significant decimal places of a decimal string: "61837.63000000" -> 2, "0.00000000" -> 0, "5" -> 0.
 * Trailing zeros do not count (venues pad to a fixed width); -1 when the text is not a plain decimal.
 */
export function decimalPlaces(text: string): number {
  const m = DECIMAL.exec(text);
  if (!m) return -1;
  const frac = m[3];
  if (!frac) return 0;
  let n = frac.length;
  while (n > 0 && frac.charCodeAt(n - 1) === 48) n--;
  return n;
}

/** Why a decimal could not be converted; the importer turns it into a per-line report entry. */
export class DecimalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecimalError';
  }
}

const POW10: bigint[] = [];
for (let i = 0, p = 1n; i <= 30; i++, p *= 10n) POW10.push(p);

/**
 * `text` in units of 10^-decimals, exactly: decimalToUnits("61837.63", 2) === 6183763n.
 * Throws DecimalError for anything but a plain decimal ("NaN", "1e5", "", " 1") and for a value with
 * more significant decimals than `decimals` (impossible when the scale came from a scan of the input).
 */
export function decimalToUnits(text: string, decimals: number): bigint {
  const m = DECIMAL.exec(text);
  if (!m) throw new DecimalError(`not a decimal number: ${JSON.stringify(text.length > 40 ? text.slice(0, 40) + '…' : text)}`);
  let frac = m[3] ?? '';
  let n = frac.length;
  while (n > 0 && frac.charCodeAt(n - 1) === 48) n--;
  if (n > decimals) throw new DecimalError(`${text} has more than ${decimals} decimals (scale of this instrument)`);
  frac = frac.slice(0, n);
  const digits = m[2] + frac;
  const shift = decimals - n;
  let units: bigint;
  // Fast path: up to 15 digits are exact in a double, and so is the product when it stays below 2^53.
  if (digits.length <= 15) {
    const v = Number(digits) * 10 ** shift;
    units = v <= Number.MAX_SAFE_INTEGER ? BigInt(v) : BigInt(digits) * POW10[shift];
  } else {
    units = BigInt(digits) * POW10[shift];
  }
  return m[1] === '-' ? -units : units;
}

/**
 * A JSON number (some venues print floats, e.g. Bitstamp trades "1.7885566900000001") in units of
 * 10^-decimals, rounded to the nearest unit. `rounded` says the float was not already on the grid
 * (beyond float noise of 1e-6 unit), which the importer counts.
 */
export function numberToUnits(value: number, decimals: number): { units: bigint; rounded: boolean } {
  if (!Number.isFinite(value)) throw new DecimalError(`not a finite number: ${value}`);
  const scaled = value * 10 ** decimals;
  if (!Number.isSafeInteger(Math.round(scaled))) throw new DecimalError(`${value} does not fit ${decimals} decimals`);
  const units = Math.round(scaled);
  return { units: BigInt(units), rounded: Math.abs(scaled - units) > 1e-6 };
}

/** The decimals needed to write a JSON number exactly as JS prints it ("1e-7" counts 7). */
export function numberDecimalPlaces(value: number): number {
  if (!Number.isFinite(value)) return -1;
  const s = String(value);
  const e = s.indexOf('e-');
  if (e !== -1) {
    const mant = s.slice(0, e);
    const dot = mant.indexOf('.');
    return Number(s.slice(e + 2)) + (dot === -1 ? 0 : mant.length - dot - 1);
  }
  return decimalPlaces(s.startsWith('-') ? s.slice(1) : s);
}

/** 10^-decimals as a number, written from its decimal text so 0.1 is the double nearest 0.1. */
export function unitSize(decimals: number): number {
  return Number(`1e-${decimals}`);
}
