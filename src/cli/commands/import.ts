// `cmm import`: converts venue recordings (LOBSTER, Bybit v5, Binance, Bitstamp) into one event log and
// prints the import report: counts, sequence gaps, skipped lines by reason, first problems with file:line.
import * as path from 'node:path';
import { flagBool, flagString, parseArgs } from '../args';
import { EngineError, expected } from '../../errors';
import type { InstrumentInfo } from '../../core/instrument';
import { ImportReport, ImportResult, totalReport } from '../../import/common';
import { mergeByLocalTime, remapInstruments } from '../../import/merge';
import { importBybit } from '../../import/bybit';
import { importBinance } from '../../import/binance';
import { importBitstamp } from '../../import/bitstamp';
import { fileSource } from '../../import/lines';
import { EventLogWriter } from '../../log/event-log';

export const usage = `import <lobster|bybit|binance|bitstamp> <input files...> -o <file> [--strict] [--json] [--symbols A,B]   convert recordings into one event log
  -o, --out   the event log to write (created only once every input was read)
  --strict    stop at the first bad line (E_BAD_INPUT / E_TRUNCATED / E_UNKNOWN_SYMBOL, with file:line)
              instead of skipping, counting and listing it
  --symbols   keep only these venue symbols (comma-separated; LOBSTER: the file's ticker)
  --json      also print the report as one JSON object on the last line of stdout
  Inputs may be gzip (detected by magic bytes). Several inputs of one venue are merged by receive time
  into one log; instruments are shared by venue and symbol, with one tick/lot scale across all inputs.
  LOBSTER orderbook files among the inputs are skipped (they are for cmm verify-lobster).`;

const VENUES = ['lobster', 'bybit', 'binance', 'bitstamp'] as const;
type Venue = (typeof VENUES)[number];

/** LOBSTER: one parse per message file, instruments shared by venue:symbol:tick. */
async function importLobster(files: string[], strict: boolean, symbols: string[] | undefined): Promise<ImportResult> {
  // Loaded here: the LOBSTER importer is its own module and engineer's; the other venues need not load it.
  const { parseLobsterMessages } = await import('../../import/lobster');
  const instruments: InstrumentInfo[] = [];
  const byKey = new Map<string, number>();
  const reports: ImportReport[] = [];
  const batches = [];
  const wanted = symbols ? new Set(symbols.map((s) => s.toUpperCase())) : undefined;
  const seen = new Set<string>();
  for (const file of files) {
    const report: ImportReport = { file, lines: 0, events: 0, messages: 0, skipped: {}, errors: [], errorCount: 0, clamped: 0, gaps: [], instruments: [], notes: [] };
    reports.push(report);
    if (/_orderbook_/i.test(path.basename(file))) {
      report.notes.push('LOBSTER orderbook file: not imported (use cmm verify-lobster)');
      report.skipped['orderbook file'] = 1;
      continue;
    }
    const ticker = path.basename(file).split('_')[0].toUpperCase();
    seen.add(ticker);
    if (wanted && !wanted.has(ticker)) {
      report.skipped['symbol not in --symbols'] = 1;
      report.notes.push(`${ticker} not in --symbols: file skipped`);
      continue;
    }
    const m = parseLobsterMessages(file, { strict });
    const key = `${m.instrument.venue}:${m.instrument.symbol}:${m.instrument.tickSize}`;
    let id = byKey.get(key);
    if (id === undefined) {
      id = instruments.length;
      byKey.set(key, id);
      instruments.push({ ...m.instrument, id });
    }
    if (id !== m.instrument.id) remapInstruments(m.batch.bytes(), new Map([[m.instrument.id, id]]));
    batches.push(m.batch);
    Object.assign(report, {
      lines: m.rows, events: m.batch.length, messages: m.batch.length, errors: m.errors, errorCount: m.errorCount, clamped: m.clamped,
      instruments: [`${m.instrument.venue}:${m.instrument.symbol}`],
    });
    if (m.skipped > 0) report.skipped['bad row'] = m.skipped;
    report.notes.push(`tick ${m.instrument.tickSize} USD (LOBSTER price units per tick: ${m.priceScale})`);
  }
  for (const s of wanted ?? []) {
    if (seen.has(s)) continue;
    const message = `symbol ${s} from --symbols never appears in the input`;
    if (strict) throw new EngineError('E_UNKNOWN_SYMBOL', message);
    if (reports[0]) {
      reports[0].errors.push({ file: reports[0].file, line: 0, message });
      reports[0].errorCount++;
    }
  }
  return { venue: 'lobster', batch: mergeByLocalTime(batches), instruments, reports };
}

function formatReport(r: ImportReport): string[] {
  const out = [`  ${r.file}: ${r.lines} lines, ${r.messages} messages, ${r.events} events, ${r.gaps.length} gaps, ${r.errorCount} problems, ${r.clamped} clamped`];
  const skipped = Object.entries(r.skipped);
  if (skipped.length > 0) out.push(`    skipped: ${skipped.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const g of r.gaps.slice(0, 10)) out.push(`    gap ${g.symbol} at ${g.file}:${g.line}: expected ${g.expected}, got ${g.got}`);
  if (r.gaps.length > 10) out.push(`    ... ${r.gaps.length - 10} more gaps`);
  for (const e of r.errors) out.push(`    ${e.file}:${e.line}: ${e.message}`);
  if (r.errorCount > r.errors.length) out.push(`    ... ${r.errorCount - r.errors.length} more problems`);
  for (const n of r.notes) out.push(`    note: ${n}`);
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['strict', 'json']);
  const [venue, ...inputs] = args.positionals;
  if (!venue || !(VENUES as readonly string[]).includes(venue)) throw expected(`a venue (${VENUES.join('|')})`, 'cmm import', venue ?? 'nothing');
  if (inputs.length === 0) throw expected('at least one input file', `cmm import ${venue}`, 'none');
  const out = flagString(args, 'o') ?? flagString(args, 'out');
  if (!out) throw expected('an output file (-o <file>)', `cmm import ${venue}`, 'none');
  for (const f of inputs) {
    if (path.resolve(f) === path.resolve(out)) throw expected('an output path that is not an input', '-o', out);
  }
  const strict = flagBool(args, 'strict');
  const json = flagBool(args, 'json');
  const symbolsFlag = flagString(args, 'symbols');
  const symbols = symbolsFlag?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (symbolsFlag !== undefined && (!symbols || symbols.length === 0)) throw expected('a comma-separated list of symbols', '--symbols', symbolsFlag);

  const started = process.hrtime.bigint();
  let result: ImportResult;
  if ((venue as Venue) === 'lobster') result = await importLobster(inputs, strict, symbols);
  else {
    const sources = inputs.map((f) => fileSource(f));
    const opts = { strict, symbols };
    result = venue === 'bybit' ? await importBybit(sources, opts) : venue === 'binance' ? await importBinance(sources, opts) : await importBitstamp(sources, opts);
  }
  const writer = EventLogWriter.create(out, {
    source: `cmm import ${venue}`,
    instruments: result.instruments,
    meta: { importer: venue, inputs: inputs.map((f) => path.basename(f)), strict, symbols: symbols ?? null },
  });
  try {
    writer.append(result.batch.bytes());
  } finally {
    writer.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const totals = totalReport(result.reports);

  const lines = [`cmm import ${venue}: ${inputs.length} input(s) -> ${out}`];
  for (const r of result.reports) lines.push(...formatReport(r));
  for (const i of result.instruments) lines.push(`  instrument ${i.id}: ${i.venue}:${i.symbol} ${i.bookType} tick ${i.tickSize} lot ${i.lotSize}`);
  lines.push(`  total: ${totals.events} events in ${writer.batchesWritten} batches, ${totals.gaps.length} gaps, ${totals.errorCount} problems, ` +
    `${totals.clamped} clamped, ${seconds.toFixed(2)} s`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (json) {
    const summary = {
      venue, output: out, seconds, eventsWritten: writer.eventsWritten, batches: writer.batchesWritten,
      instruments: result.instruments, totals, files: result.reports,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  }
  return 0;
}
