// `cmm generate`: writes a synthetic market (src/sim/generator.ts) to an event log, with the ground-truth
// regime path and injected events recorded in the header's meta.
import { ParsedArgs, flagBool, flagNumber, flagString, parseArgs } from '../args';
import { EngineError, expected } from '../../errors';
import { EventLogWriter } from '../../log/event-log';
import { CST_FLOW } from '../../sim/flow';
import { MarketGenerator } from '../../sim/generator';
import { Injector, RegimeMode, Trend, parseDuration } from '../../sim/scenario';

export const usage = `generate --minutes M --regime low|medium|high|switching --seed S -o FILE [options]   write a synthetic market
  --minutes M          simulated length in minutes (after a 2-minute warm-up that is not written)
  --regime R           volatility regime: low, medium, high, or switching (Markov-switching between them)
  --trend T            bull, bear or sideways (default): drift of the latent price, 2 % an hour
  --flash-crash SPEC   at=12m,depth=5%[,drop=30s][,recover=50%][,over=5m]: fall depth% over drop, then
                       recover that fraction of the fall over 'over' (defaults 30s, 50%, 5m)
  --reversal SPEC      at=20m: the trend's drift flips sign (needs --trend bull or bear)
  --seed S             non-negative integer; the same seed gives byte-identical events
  -o FILE              the event log to write
  --json               print {events, seconds, regimes, realisedVolByRegime, file, ...} as one JSON line last
  Times take s, m or h suffixes (30s, 12m, 1h). Progress is drawn on stderr when it is a terminal.`;

const KNOWN_FLAGS = ['minutes', 'regime', 'trend', 'flash-crash', 'reversal', 'seed', 'o', 'output', 'json'];

/** Parses "k=v,k=v" into a map; `bare` names the key a value without "k=" belongs to. */
function parseSpec(text: string, flag: string, allowed: string[], bare?: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : bare;
    if (!key || !allowed.includes(key)) throw expected(`one of ${allowed.map((k) => `${k}=`).join(', ')}`, `--${flag}`, part);
    out.set(key, eq > 0 ? part.slice(eq + 1).trim() : part);
  }
  return out;
}

function parsePercent(text: string, forWhat: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  if (!m) throw expected('a percentage like 5%', forWhat, text);
  return Number(m[1]);
}

function parseFlashCrash(text: string): Injector {
  const spec = parseSpec(text, 'flash-crash', ['at', 'depth', 'drop', 'recover', 'over']);
  const at = spec.get('at');
  const depth = spec.get('depth');
  if (at === undefined) throw expected('at=<time> (e.g. at=12m)', '--flash-crash', text);
  if (depth === undefined) throw expected('depth=<percent> (e.g. depth=5%)', '--flash-crash', text);
  const crash: Injector = { kind: 'flash-crash', atSeconds: parseDuration(at, '--flash-crash at'), depthPct: parsePercent(depth, '--flash-crash depth') };
  const drop = spec.get('drop');
  const recover = spec.get('recover');
  const over = spec.get('over');
  if (drop !== undefined) crash.dropSeconds = parseDuration(drop, '--flash-crash drop');
  if (recover !== undefined) crash.recoveryFraction = parsePercent(recover, '--flash-crash recover') / 100;
  if (over !== undefined) crash.recoverySeconds = parseDuration(over, '--flash-crash over');
  return crash;
}

function parseReversal(text: string): Injector {
  const spec = parseSpec(text, 'reversal', ['at'], 'at');
  const at = spec.get('at');
  if (at === undefined) throw expected('at=<time> (e.g. at=20m)', '--reversal', text);
  return { kind: 'reversal', atSeconds: parseDuration(at, '--reversal at') };
}

function required(args: ParsedArgs, name: string, what: string): string {
  const v = flagString(args, name);
  if (v === undefined) throw expected(what, `--${name}`, 'nothing');
  return v;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  for (const key of args.flags.keys()) if (!KNOWN_FLAGS.includes(key)) throw expected(`one of ${KNOWN_FLAGS.filter((k) => k !== 'output').map((k) => (k.length === 1 ? `-${k}` : `--${k}`)).join(', ')}`, 'cmm generate option', key.length === 1 ? `-${key}` : `--${key}`);
  if (args.positionals.length > 0) throw expected('options only', 'cmm generate', args.positionals.join(' '));
  const minutes = flagNumber(args, 'minutes');
  if (minutes === undefined || !(minutes > 0 && minutes <= 10080)) throw expected('a number of minutes in (0, 10080]', '--minutes', minutes ?? 'nothing');
  const regime = required(args, 'regime', 'low, medium, high or switching') as RegimeMode;
  if (!['low', 'medium', 'high', 'switching'].includes(regime)) throw expected('low, medium, high or switching', '--regime', regime);
  const trend = flagString(args, 'trend') as Trend | undefined;
  if (trend !== undefined && !['bull', 'bear', 'sideways'].includes(trend)) throw expected('bull, bear or sideways', '--trend', trend);
  const seedText = required(args, 'seed', 'a non-negative integer');
  const seed = Number(seedText);
  if (!/^\d+$/.test(seedText) || !Number.isSafeInteger(seed)) throw expected('a non-negative integer', '--seed', seedText);
  const file = flagString(args, 'o') ?? flagString(args, 'output');
  if (file === undefined) throw expected('an output file', '-o', 'nothing');
  const json = flagBool(args, 'json');
  const injectors: Injector[] = [];
  const crash = flagString(args, 'flash-crash');
  if (crash !== undefined) injectors.push(parseFlashCrash(crash));
  const reversal = flagString(args, 'reversal');
  if (reversal !== undefined) injectors.push(parseReversal(reversal));
  if (injectors.some((i) => i.kind === 'reversal') && (trend ?? 'sideways') === 'sideways') {
    throw expected('--trend bull or --trend bear (a sideways market has no drift to reverse)', '--reversal', `--trend ${trend ?? 'sideways (default)'}`);
  }

  const seconds = minutes * 60;
  const gen = new MarketGenerator({ seconds, regime, trend, injectors, seed });
  const start = gen.summary();
  let writer: EventLogWriter;
  try {
    writer = EventLogWriter.create(file, {
      source: 'cmm generate',
      instruments: [gen.instrument],
      createdNs: start.startNs, // fixed, so the same seed gives the same file
      meta: {
        generator: 'src/sim/generator.ts (CST-style order flow tethered to a latent price)',
        options: { minutes, regime, trend: trend ?? 'sideways', seed, injectors },
        regimes: start.regimes,
        injectorWindows: start.injectorWindows,
        flow: CST_FLOW,
        startNs: start.startNs.toString(),
      },
    });
  } catch (err) {
    if (err instanceof EngineError) throw err;
    throw new EngineError('E_FILE_NOT_FOUND', `cannot create ${file}: ${(err as Error).message}`);
  }
  const tty = process.stderr.isTTY === true;
  const t0 = Date.now();
  let lastDraw = 0;
  try {
    for (let batch = gen.next(); batch; batch = gen.next()) {
      writer.append(batch);
      if (tty && Date.now() - lastDraw > 200) {
        lastDraw = Date.now();
        const pct = gen.progress * 100;
        const bar = '#'.repeat(Math.round(pct / 100 * 30)).padEnd(30, '.');
        process.stderr.write(`\r[${bar}] ${pct.toFixed(0).padStart(3)}%  ${writer.eventsWritten} events `);
      }
    }
  } finally {
    writer.close();
    if (tty) process.stderr.write('\r\x1b[K');
  }
  const s = gen.summary();
  const wall = (Date.now() - t0) / 1000;
  const result = {
    events: s.events,
    seconds: s.seconds,
    regimes: s.regimes,
    realisedVolByRegime: s.realisedVolByRegime,
    file,
    messages: s.messages,
    injectorWindows: s.injectorWindows,
    volUnit: 'std of 1 s mid log-returns, basis points',
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const vol = Object.entries(s.realisedVolByRegime).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${(v as number).toFixed(2)}`).join(', ');
    process.stdout.write(`${file}: ${s.events} events (${s.messages} messages), ${(s.seconds / 60).toFixed(1)} simulated minutes in ${wall.toFixed(1)} s\n`);
    process.stdout.write(`regimes: ${s.regimes.map((r) => `${r.regime} ${fmtTime(r.startSeconds)}–${fmtTime(r.endSeconds)}`).join(', ')}\n`);
    process.stdout.write(`realised vol (bp per 1 s): ${vol}\n`);
    for (const w of s.injectorWindows) process.stdout.write(`${w.kind} ${w.phase}: ${fmtTime(w.startSeconds)}–${fmtTime(w.endSeconds)}\n`);
  }
  return 0;
}

function fmtTime(seconds: number): string {
  const total = Math.round(seconds);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}
