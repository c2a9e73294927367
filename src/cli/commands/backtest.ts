// `cmm backtest`: replays an event log through the simulated exchange with the market-making baselines,
// calibrated/trained on the training split and scored over consecutive episodes of the test split.
import * as path from 'path';
import { ParsedArgs, flagBool, flagNumber, flagString, parseArgs } from '../args';
import { EngineError, expected } from '../../errors';
import { parseDurationNs, parseLatency } from '../../backtest/latency';
import { QUEUE_MODELS, QueueModelName } from '../../backtest/queue';
import { BacktestResult, STRATEGY_NAMES, StrategyName, runBacktest } from '../../backtest/run';
import { writeReport } from '../../backtest/report';
import { Tape } from '../../backtest/tape';
import { RiskLimits } from '../../backtest/risk';

export const usage = `backtest --data <event log> --strategy <fixed|as|rl|all> [options]   market-making backtest (test split)
  --episodes N          episodes to score (default: as many --episode-len windows as fit in the test split)
  --episode-len 5m      episode length (ns/us/ms/s/m/h suffix; default 5m)
  --seed S              seed of every random draw (latency, RL exploration; default 1)
  --train-frac 0.5      leading fraction of the data (by time) used to calibrate / train; the rest is the test split
  --report out.html     write the HTML report (and out.png beside it)
  --json                print the whole result as one JSON object on the last line of stdout
  --instrument SYM      instrument to trade (default: the only one, or the busiest)
  --queue MODEL         risk-averse | prob-power | prob-log | fifo (default: fifo on L3 data, prob-power on L2)
  --queue-power N       exponent of prob-power (default 2)
  --maker-bps 0 --taker-bps 2      fees in basis points of notional (negative = rebate)
  --feed-latency 0 --order-latency 1ms --response-latency 1ms
                        constant (1ms) or uniform:MIN:MAX, lognormal:MIN:MEDIAN:SIGMA, exp:MIN:MEAN
  --qty N               quote size in lots (default: median trade size of the training split)
  --max-position N --max-order-qty N --max-orders-per-sec N --max-loss X --fat-finger-bps N
                        risk limits (defaults: 10 clips, 10 clips, 200/s, none, 100 bps)
  --step 1s             metrics clock (MAP, Sharpe, drawdown, loss-limit checks)
  --warmup 0            quoting starts this long after each episode start
  --as-gamma G          fixed AS risk aversion (default: grid search on the training split)
  --rl-epochs 30 --rl-decision 500ms --rl-eta 0.5   RL training epochs, decision clock, reward dampening
  --rl-model FILE       evaluate this saved policy instead of training one
  --model-dir DIR       where the trained policy and manifest go (default models/rl-mm); --no-save skips it`;

const FLAGS = new Set([
  'data', 'strategy', 'episodes', 'episode-len', 'seed', 'train-frac', 'report', 'json', 'instrument', 'queue', 'queue-power',
  'maker-bps', 'taker-bps', 'feed-latency', 'order-latency', 'response-latency', 'qty', 'max-position', 'max-order-qty',
  'max-orders-per-sec', 'max-loss', 'fat-finger-bps', 'step', 'warmup', 'as-gamma', 'rl-epochs', 'rl-decision', 'rl-eta',
  'rl-model', 'model-dir', 'no-save',
]);

function positiveInt(args: ParsedArgs, name: string): number | undefined {
  const v = flagNumber(args, name);
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw expected('a positive integer', `--${name}`, v);
  return v;
}

function strategiesOf(text: string): StrategyName[] {
  if (text === 'all') return [...STRATEGY_NAMES];
  const names = text.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(STRATEGY_NAMES as readonly string[]).includes(n)) throw new EngineError('E_CONFIG', `unknown strategy ${JSON.stringify(n)} for --strategy: expected fixed, as, rl or all`);
  }
  return names as StrategyName[];
}

const fmt = (v: number): string => {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return v.toFixed(a >= 100 ? 1 : a >= 1 ? 3 : 4);
};

export function table(r: BacktestResult): string {
  const cols: [string, keyof BacktestResult['strategies'][number]['summary']['stats']][] = [
    ['EPnL', 'epnl'], ['MAP', 'map'], ['PnLMAP', 'pnlMap'], ['RPT', 'rpt'], ['Sharpe', 'sharpe'], ['MaxDD', 'maxDrawdown'], ['Fills', 'fills'], ['Quoted', 'quotedTime'],
  ];
  const rows = [['strategy', ...cols.map((c) => c[0])]];
  for (const s of r.strategies) rows.push([s.name, ...cols.map(([, k]) => `${fmt(s.summary.stats[k].mean)} ± ${fmt(s.summary.stats[k].std)}`)]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json', 'no-save']);
  for (const k of args.flags.keys()) if (!FLAGS.has(k)) throw new EngineError('E_CONFIG', `unknown option --${k} for cmm backtest (see cmm backtest --help)`);
  if (args.positionals.length > 0) throw expected('options only (the log goes in --data)', 'cmm backtest', args.positionals.join(' '));
  const data = flagString(args, 'data');
  if (!data) throw expected('an event log file', '--data', 'nothing');
  const strategyText = flagString(args, 'strategy');
  if (!strategyText) throw expected('fixed, as, rl or all', '--strategy', 'nothing');
  const strategies = strategiesOf(strategyText);
  const queue = flagString(args, 'queue');
  if (queue !== undefined && !(QUEUE_MODELS as readonly string[]).includes(queue)) throw expected(QUEUE_MODELS.join(', '), '--queue', queue);
  const dur = (name: string, fallback: string): number => parseDurationNs(flagString(args, name, fallback)!, `--${name}`);
  const episodeLenNs = dur('episode-len', '5m');
  const stepNs = dur('step', '1s');
  if (!(stepNs > 0)) throw expected('a positive duration', '--step', flagString(args, 'step'));
  const risk: Partial<RiskLimits> = {};
  const setRisk = (flag: string, key: keyof RiskLimits): void => {
    const v = flagNumber(args, flag);
    if (v !== undefined) risk[key] = v;
  };
  setRisk('max-position', 'maxPosition');
  setRisk('max-order-qty', 'maxOrderQty');
  setRisk('max-orders-per-sec', 'maxOrdersPerSecond');
  setRisk('max-loss', 'maxLoss');
  setRisk('fat-finger-bps', 'fatFingerBps');
  if (risk.maxOrdersPerSecond === undefined) risk.maxOrdersPerSecond = 200;

  const tape = Tape.fromLog(data, { instrument: flagString(args, 'instrument') });
  const started = process.hrtime.bigint();
  const result = runBacktest({
    tape,
    strategies,
    episodeLenNs,
    episodes: positiveInt(args, 'episodes'),
    seed: flagNumber(args, 'seed', 1)!,
    trainFrac: flagNumber(args, 'train-frac', 0.5)!,
    orderQty: positiveInt(args, 'qty'),
    fees: { makerBps: flagNumber(args, 'maker-bps', 0)!, takerBps: flagNumber(args, 'taker-bps', 2)! },
    queue: { model: (queue ?? (tape.instrument.bookType === 'L3' ? 'fifo' : 'prob-power')) as QueueModelName, power: flagNumber(args, 'queue-power') },
    latency: {
      feed: parseLatency(flagString(args, 'feed-latency', '0')!, '--feed-latency'),
      entry: parseLatency(flagString(args, 'order-latency', '1ms')!, '--order-latency'),
      response: parseLatency(flagString(args, 'response-latency', '1ms')!, '--response-latency'),
    },
    risk,
    stepNs,
    warmupNs: dur('warmup', '0'),
    asGamma: flagNumber(args, 'as-gamma'),
    rl: {
      epochs: positiveInt(args, 'rl-epochs'),
      decisionNs: args.flags.has('rl-decision') ? dur('rl-decision', '500ms') : undefined,
      eta: flagNumber(args, 'rl-eta'),
      policyFile: flagString(args, 'rl-model'),
      modelDir: flagString(args, 'model-dir'),
      save: !flagBool(args, 'no-save'),
    },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const i = result.data.instrument;
  const lines = [
    `${result.data.source}: ${i.venue}:${i.symbol} ${i.bookType}, ${result.data.events} events over ${(result.data.spanNs / 1e9).toFixed(1)} s`,
    `train ${(result.split.trainStartNs / 1e9).toFixed(1)}–${(result.split.trainEndNs / 1e9).toFixed(1)} s, test ${result.windows.length} × ${(episodeLenNs / 1e9).toFixed(1)} s episodes from ${(result.split.testStartNs / 1e9).toFixed(1)} s; ` +
      `queue ${result.config.queue.model}, fees maker ${result.config.fees.makerBps} / taker ${result.config.fees.takerBps} bps, qty ${result.config.orderQty} lots, seed ${result.config.seed}`,
    `calibration (training split): σ ${fmt(result.calibration.sigma)} ticks/√s, A ${fmt(result.calibration.A)}/s, k ${fmt(result.calibration.k)}/tick, price step ${result.calibration.priceStep} ticks` +
      (result.calibration.warnings.length ? `\n  warning: ${result.calibration.warnings.join('\n  warning: ')}` : ''),
    '',
    table(result),
    '',
    ...result.strategies.map((s) => {
      const refused = Object.entries(s.summary.riskRefusals).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`);
      const rejected = Object.entries(s.summary.rejects).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`);
      return `${s.name}: risk refusals ${refused.join(', ') || 'none'}; exchange rejects ${rejected.join(', ') || 'none'}`;
    }),
    `EPnL, PnLMAP, RPT, MaxDD in quote currency (PnLMAP per lot), MAP in lots of ${i.lotSize}; ${seconds.toFixed(2)} s`,
  ];
  if (result.rlTraining?.policy) lines.push(`RL policy: ${path.join(flagString(args, 'model-dir') ?? path.join('models', 'rl-mm'), result.rlTraining.policy)}`);
  const reportPath = flagString(args, 'report');
  if (reportPath) {
    const written = writeReport(result, reportPath);
    lines.push(`report: ${written.join(', ')}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  if (flagBool(args, 'json')) process.stdout.write(JSON.stringify(result) + '\n');
  return 0;
}
