// Writes a venue recording as raw 64-byte events for bench/native/book_features_bench.cc (which cannot
// parse JSON): node dist/bench/native/export-events.js <bybit|binance|lobster> <input> <out.l2.events|out.l3.events>
import * as fs from 'fs';
import { importBinance } from '../../src/import/binance';
import { importBybit } from '../../src/import/bybit';
import { fileSource } from '../../src/import/lines';
import { parseLobsterMessages } from '../../src/import/lobster';

async function main(): Promise<number> {
  const [venue, input, out] = process.argv.slice(2);
  if (!venue || !input || !out) {
    console.error('usage: export-events <bybit|binance|lobster> <input> <out.l2.events|out.l3.events>');
    return 2;
  }
  let bytes: Uint8Array;
  if (venue === 'lobster') bytes = parseLobsterMessages(input).batch.bytes();
  else if (venue === 'bybit') bytes = (await importBybit([fileSource(input)])).batch.bytes();
  else if (venue === 'binance') bytes = (await importBinance([fileSource(input)])).batch.bytes();
  else {
    console.error(`unknown venue ${venue}`);
    return 2;
  }
  fs.writeFileSync(out, bytes);
  console.log(`${out}: ${bytes.length / 64} events`);
  return 0;
}

main().then((code) => process.exit(code));
