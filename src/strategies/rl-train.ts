// Training of the RL market maker inside the simulator on the TRAINING split only, and its policy file:
// models/rl-mm/<dataset>.json (sparse weights, 6 significant digits) plus an entry in
// models/rl-mm/manifest.json (data, split, seed, scores on the evaluation split).
import * as fs from 'fs';
import * as path from 'path';
import { EngineError, expected } from '../errors';
import { Rng } from '../sim/rng';
import { replay } from '../backtest/backtest';
import { meanStd } from '../backtest/metrics';
import { ReplayBook } from '../backtest/replay-book';
import { SimConfig, Simulation } from '../backtest/simulation';
import { EpisodeWindow, episodeWindows } from '../backtest/split';
import { Tape } from '../backtest/tape';
import { RL_ACTION_COUNT, RL_ACTIONS, RlMarketMaker, RlParams } from './rl-mm';

export interface RlTrainOptions {
  epochs: number;
  /** ε of the first epoch, decayed linearly to epsilonEnd at the last. */
  epsilonStart: number;
  epsilonEnd: number;
  seed: number;
}

export interface RlTrainingLog {
  epochs: number;
  episodesPerEpoch: number;
  /** Mean EPnL (quote currency) of each epoch's training episodes, exploring. */
  epochMeanEpnl: number[];
  decisions: number;
  updates: number;
}

/** Windows of the training range for one epoch: start shifted by a seeded fraction of a window. */
function epochWindows(trainStartNs: number, trainEndNs: number, lenNs: number, rng: Rng): EpisodeWindow[] {
  const span = trainEndNs - trainStartNs;
  if (span < 2 * lenNs) return episodeWindows(trainStartNs, trainEndNs, Math.min(lenNs, span), undefined, 'the training split');
  const shift = Math.floor(rng.uniform() * lenNs);
  return episodeWindows(trainStartNs + shift, trainEndNs, lenNs, undefined, 'the training split');
}

export function trainRl(
  agent: RlMarketMaker, tape: Tape, sim: Omit<SimConfig, 'training' | 'seed'>, trainStartNs: number, trainEndNs: number, lenNs: number, opts: RlTrainOptions,
): RlTrainingLog {
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw expected('a positive integer', 'RL training epochs', opts.epochs);
  const rng = new Rng(opts.seed, 11);
  const log: RlTrainingLog = { epochs: opts.epochs, episodesPerEpoch: 0, epochMeanEpnl: [], decisions: 0, updates: 0 };
  for (let e = 0; e < opts.epochs; e++) {
    const frac = opts.epochs === 1 ? 1 : e / (opts.epochs - 1);
    agent.epsilon = opts.epsilonStart + (opts.epsilonEnd - opts.epsilonStart) * frac;
    agent.reseed(opts.seed * 1000 + e);
    const windows = epochWindows(trainStartNs, trainEndNs, lenNs, rng);
    const book = new ReplayBook(tape.instrument.bookType);
    const s = new Simulation(agent, book, { ...sim, training: true, seed: opts.seed + e });
    replay(tape.batches, book, [s], windows);
    log.episodesPerEpoch = windows.length;
    log.epochMeanEpnl.push(meanStd(s.episodes.map((m) => m.epnl)).mean);
  }
  agent.epsilon = 0;
  agent.training = false;
  log.decisions = agent.decisions;
  log.updates = agent.updates;
  return log;
}

/** Rounds every weight to 6 significant digits (what the policy file stores), so evaluation = the saved policy. */
export function roundWeights(w: Float64Array): void {
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) w[i] = Number(w[i].toPrecision(6));
}

export interface RlPolicyFile {
  kind: 'cmm.rl-mm.policy';
  version: 1;
  dataset: string;
  instrument: string;
  params: RlParams;
  actions: (readonly [number, number])[];
  clearAction: number;
  size: number;
  /** Non-zero weights as [index, value] with index = action·size + feature. */
  weights: [number, number][];
}

export function policyFile(agent: RlMarketMaker, dataset: string, instrument: string): RlPolicyFile {
  const weights: [number, number][] = [];
  for (let i = 0; i < agent.weights.length; i++) if (agent.weights[i] !== 0) weights.push([i, Number(agent.weights[i].toPrecision(6))]);
  return {
    kind: 'cmm.rl-mm.policy', version: 1, dataset, instrument, params: { ...agent.params, epsilon: 0 },
    actions: [...RL_ACTIONS], clearAction: RL_ACTIONS.length, size: agent.coder.size, weights,
  };
}

export function loadPolicy(file: string, seed: number): RlMarketMaker {
  let doc: RlPolicyFile;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8')) as RlPolicyFile;
  } catch (err) {
    throw new EngineError('E_MODEL', `cannot read RL policy ${file}: ${(err as Error).message}`, { file });
  }
  if (doc.kind !== 'cmm.rl-mm.policy' || doc.version !== 1) throw new EngineError('E_MODEL', `not an RL market-maker policy (kind ${doc.kind}, version ${doc.version})`, { file });
  const probe = new RlMarketMaker(doc.params, seed);
  if (probe.coder.size !== doc.size) throw new EngineError('E_MODEL', `policy size ${doc.size} does not match its tiling (${probe.coder.size})`, { file });
  const w = new Float64Array(RL_ACTION_COUNT * doc.size);
  for (const [i, v] of doc.weights) {
    if (!(i >= 0 && i < w.length) || !Number.isFinite(v)) throw new EngineError('E_MODEL', `bad weight entry [${i}, ${v}]`, { file });
    w[i] = v;
  }
  return new RlMarketMaker(doc.params, seed, w);
}

export interface ManifestEntry {
  dataset: string;
  file: string;
  data: string;
  /** Where the event log came from (its header: importer and input files), when known. */
  provenance?: { source: string; meta: Record<string, unknown> };
  instrument: string;
  split: { trainFrac: number; trainStartNs: number; trainEndNs: number; testStartNs: number; testEndNs: number };
  seed: number;
  training: RlTrainingLog;
  evaluation: { episodes: number; episodeLenNs: number; epnl: { mean: number; std: number }; pnlMap: { mean: number; std: number }; rpt: { mean: number; std: number }; map: { mean: number; std: number } };
}

/** Writes the policy and replaces the dataset's manifest entry. Returns the policy path. */
export function savePolicy(dir: string, policy: RlPolicyFile, entry: Omit<ManifestEntry, 'file'>): string {
  fs.mkdirSync(dir, { recursive: true });
  const name = `${policy.dataset}.json`;
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(policy) + '\n');
  const manifestPath = path.join(dir, 'manifest.json');
  let manifest: { models: ManifestEntry[] } = { models: [] };
  if (fs.existsSync(manifestPath)) {
    try {
      manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { models: ManifestEntry[] };
      if (!Array.isArray(manifest.models)) manifest = { models: [] };
    } catch {
      manifest = { models: [] };
    }
  }
  manifest.models = manifest.models.filter((m) => m.dataset !== policy.dataset);
  manifest.models.push({ ...entry, file: name });
  manifest.models.sort((a, b) => (a.dataset < b.dataset ? -1 : a.dataset > b.dataset ? 1 : 0));
  fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  return file;
}
