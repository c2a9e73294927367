// `cmm replay`: replays an event log through the market engine and prints a summary (human or JSON).
import { flagBool, flagString, parseArgs } from '../args';
import { expected } from '../../errors';
import { ReplayProgress, ReplaySummary, replayFile } from '../../replay/replay';

export const usage = `replay <file> [--speed max|1x|10x|Nx] [--json]   replay an event log through the market engine
  --speed   max (default) or a multiple of real time, paced by exchange timestamps
  --json    print the summary as one JSON object on the last line of stdout
  A progress bar is drawn on stderr when it is a terminal. Exit status: 0 when the log was read to its
  end or to a torn last batch (a writer that crashed), 1 when a corrupt batch stopped the replay.`;

function progressBar(p: ReplayProgress): string {
  const span = Math.max(1, p.totalBytes);
  const frac = Math.min(1, p.bytes / span);
  const width = 30;
  const filled = Math.round(frac * width);
  const rate = p.elapsedSeconds > 0 ? p.events / p.elapsedSeconds : 0;
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${formatCount(p.events)} events  ${formatCount(rate)}/s `;
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

function human(s: ReplaySummary): string {
  const lines = [
    `${s.file} (${s.source}): ${s.events} events in ${s.batches} batches, ${s.seconds.toFixed(3)} s, ${formatCount(s.eventsPerSec)} events/s at speed ${s.speed}`,
    `gaps ${s.gaps}, crossed episodes ${s.crossed}, unknown orders ${s.unknownOrders}`,
  ];
  for (const sym of s.symbols) {
    const t = sym.lastTopOfBook;
    const side = (px: number | null, qty: number): string => (px === null ? '—' : `${qty} @ ${px}`);
    lines.push(`  ${sym.venue}:${sym.symbol} ${sym.bookType}  ${sym.events} events  bid ${side(t.bid, t.bidQty)}  ask ${side(t.ask, t.askQty)}` +
      `${sym.gaps ? `  gaps ${sym.gaps}` : ''}${sym.crossed ? `  crossed ${sym.crossed}` : ''}${sym.unknownOrders ? `  unknown orders ${sym.unknownOrders}` : ''}${sym.stale ? '  STALE' : ''}`);
  }
  lines.push(s.stoppedAt.reason === 'eof' ? `read to the end (byte ${s.stoppedAt.offset})` : `stopped: ${s.stoppedAt.reason}: ${s.stoppedAt.message}`);
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  if (args.positionals.length !== 1) throw expected('exactly one event log file', 'cmm replay', args.positionals.join(' ') || 'none');
  const json = flagBool(args, 'json');
  const speed = flagString(args, 'speed', 'max');
  const tty = process.stderr.isTTY === true;
  const summary = await replayFile(args.positionals[0], {
    speed,
    onProgress: tty ? (p) => process.stderr.write(progressBar(p)) : undefined,
  });
  if (tty) process.stderr.write('\r\x1b[K');
  if (summary.stoppedAt.reason !== 'eof') process.stderr.write(`cmm replay: ${summary.stoppedAt.message}\n`);
  if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(`${human(summary)}\n`);
  return summary.stoppedAt.reason === 'eof' || summary.stoppedAt.reason === 'truncated' ? 0 : 1;
}
