// Train/test splits by time (never shuffled) and the consecutive episode windows inside a split.
import { EngineError, expected } from '../errors';

export interface TimeSplit {
  /** [trainStartNs, trainEndNs) is calibration/training data; [testStartNs, testEndNs] comes strictly later. */
  trainStartNs: number;
  trainEndNs: number;
  testStartNs: number;
  testEndNs: number;
  trainFrac: number;
}

export interface EpisodeWindow {
  index: number;
  startNs: number;
  endNs: number;
}

/** Splits [firstNs, lastNs] at firstNs + trainFrac·span. Times are ns since the tape's origin. */
export function splitByTime(firstNs: number, lastNs: number, trainFrac: number): TimeSplit {
  if (typeof trainFrac !== 'number' || !(trainFrac > 0 && trainFrac < 1)) throw expected('a fraction strictly between 0 and 1', 'train fraction', trainFrac);
  if (!(lastNs > firstNs)) throw new EngineError('E_BAD_INPUT', `cannot split data spanning no time (first ${firstNs} ns, last ${lastNs} ns)`);
  const cut = firstNs + Math.floor((lastNs - firstNs) * trainFrac);
  return { trainStartNs: firstNs, trainEndNs: cut, testStartNs: cut, testEndNs: lastNs, trainFrac };
}

/**
 * Consecutive windows of lenNs from fromNs: `count` of them, or as many whole ones as fit before toNs.
 * Throws E_CONFIG when not even one fits, or when `count` of them do not.
 */
export function episodeWindows(fromNs: number, toNs: number, lenNs: number, count?: number, what = 'the test split'): EpisodeWindow[] {
  if (!(lenNs > 0) || !Number.isFinite(lenNs)) throw expected('a positive episode length', 'episode length', lenNs);
  const span = toNs - fromNs;
  const fit = Math.floor(span / lenNs);
  const secs = (ns: number): string => `${(ns / 1e9).toFixed(3)} s`;
  if (fit < 1) {
    throw new EngineError('E_CONFIG', `episode length ${secs(lenNs)} is longer than ${what} (${secs(span)}): use a shorter --episode-len or a smaller --train-frac`);
  }
  if (count !== undefined) {
    if (!Number.isInteger(count) || count < 1) throw expected('a positive integer', 'episode count', count);
    if (count > fit) {
      throw new EngineError('E_CONFIG', `${count} episodes of ${secs(lenNs)} do not fit in ${what} (${secs(span)}; ${fit} fit)`);
    }
  }
  const n = count ?? fit;
  const out: EpisodeWindow[] = [];
  for (let i = 0; i < n; i++) out.push({ index: i, startNs: fromNs + i * lenNs, endNs: fromNs + (i + 1) * lenNs });
  return out;
}
