// `cmm verify-lobster`: rebuilds a LOBSTER message file with the native L3 book and compares the top
// N levels with the LOBSTER orderbook file after every message (model: src/import/lobster-verify.ts).
import { flagBool, flagString, parseArgs } from '../args';
import { expected } from '../../errors';
import { parseLobsterMessages, parseLobsterOrderbook } from '../../import/lobster';
import { LobsterVerifyReport, verifyLobster } from '../../import/lobster-verify';

export const usage = `verify-lobster <message.csv> <orderbook.csv> [--json] [--model window|pure] [--strict]   rebuild a LOBSTER day and compare every row
  --model   window (default): seed from the first orderbook row, fix a message's level to its size when
            the order is unknown, adopt levels entering the top-N window from below (all counted);
            pure: the raw L3 rebuild from the messages alone
  --strict  stop at the first malformed CSV line (E_BAD_INPUT) instead of skipping and counting it
  --json    print the report as one JSON object on the last line of stdout
  Files may be gzip. Exit status 0 when every row matches, 1 otherwise.`;

function human(file: string, r: LobsterVerifyReport & { skippedMessages: number; badBookRows: number }): string {
  const lines = [
    `${file}: ${r.rows} rows compared at ${r.levels} level(s), model ${r.model}, tick ${r.tickSize} USD`,
    `  mismatches ${r.mismatches}${r.mismatches === 0 ? ' (every row matches)' : ''}`,
    `  unknown orders ${r.unknownOrders}; skipped message rows ${r.skippedMessages}; bad orderbook rows ${r.badBookRows}; uncompared rows ${r.uncompared}`,
  ];
  if (r.model === 'window') {
    lines.push(`  window model: ${r.seededLevels} levels seeded from row 1, ${r.adoptions} levels adopted on entering the window, ` +
      `fixups ${r.fixups.unknownOrder} (unknown order) + ${r.fixups.knownOrder} (known order)`);
  }
  const m = r.firstMismatch;
  if (m) {
    lines.push(`  first mismatch: row ${m.row + 1} (message line ${m.line}, type ${m.type}) at ${m.side} level ${m.level + 1}`);
    lines.push(`    expected ${JSON.stringify(m.expected.slice(0, 8))}${m.expected.length > 8 ? ' ...' : ''}`);
    lines.push(`    actual   ${JSON.stringify(m.actual.slice(0, 8))}${m.actual.length > 8 ? ' ...' : ''}`);
  }
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json', 'strict']);
  if (args.positionals.length !== 2) {
    throw expected('<message.csv> <orderbook.csv>', 'cmm verify-lobster', args.positionals.join(' ') || 'nothing');
  }
  const model = flagString(args, 'model', 'window');
  if (model !== 'window' && model !== 'pure') throw expected('window or pure', '--model', model);
  const strict = flagBool(args, 'strict');
  const [messageFile, bookFile] = args.positionals;
  const msgs = parseLobsterMessages(messageFile, { strict });
  const book = parseLobsterOrderbook(bookFile, { strict, priceScale: msgs.priceScale });
  for (const e of [...msgs.errors, ...book.errors].slice(0, 10)) process.stderr.write(`cmm verify-lobster: ${e.file}:${e.line}: ${e.message}\n`);
  const report = { ...verifyLobster(msgs, book, { model }), skippedMessages: msgs.skipped, badBookRows: book.errorCount };
  process.stdout.write(`${human(messageFile, report)}\n`);
  if (flagBool(args, 'json')) process.stdout.write(`${JSON.stringify(report)}\n`);
  return report.mismatches === 0 ? 0 : 1;
}
