// The one place that loads the native addon. Tries each build output in order, collects every
// failure, and throws one EngineError that says what to run.
import * as path from 'path';
import { EngineError } from './errors';

const ROOT = path.resolve(__dirname, '..', '..'); // dist/src -> package root

const CANDIDATES = [
  process.env.CMM_NATIVE_PATH ?? '',
  path.join(ROOT, 'build', 'Release', 'cmm_native.node'),
  path.join(ROOT, 'build', 'Debug', 'cmm_native.node'),
].filter((p) => p !== '');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NativeAddon = any;

let cached: NativeAddon | undefined;

/** The loaded addon. Throws E_NATIVE_LOAD listing every path tried and why each failed. */
export function native(): NativeAddon {
  if (cached) return cached;
  const failures: string[] = [];
  for (const candidate of CANDIDATES) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = require(candidate) as NativeAddon;
      return cached;
    } catch (err) {
      failures.push(`  ${candidate}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new EngineError(
    'E_NATIVE_LOAD',
    `cmm-engine native addon could not be loaded; run \`npm run build:native\` (needs cmake or node-gyp, and g++).\nTried:\n${failures.join('\n')}`,
  );
}

/** CRC32C of a byte range: the event log's per-batch checksum. */
export function crc32c(bytes: Uint8Array, seed = 0): number {
  return native().crc32c(bytes, seed) as number;
}
