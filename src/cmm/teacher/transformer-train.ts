// Trains the reference teacher in tfjs (wasm backend, one thread): seeded init and shuffling, Adam with warmup
// and global-norm clipping, per-target standardised MSE, early stopping on a LATER time slice of the training data.
import { EngineError, expected } from '../../errors';
import { SeededRandom, clipByGlobalNorm, restoreVariables, snapshotVariables, tf, useWasmBackend } from './nn';
import { TeacherDataset, TeacherScores, checkDataset, scoreHeads } from './teacher';
import { DEFAULT_TRANSFORMER_CONFIG, Standardisation, TransformerConfig, TransformerModel, initTransformerWeights } from './transformer';

export interface TrainTeacherOptions {
  config?: Partial<TransformerConfig>;
  seed?: number;
  batchSize?: number;
  maxEpochs?: number;
  /** Epochs without validation improvement before stopping (default 3). */
  patience?: number;
  learningRate?: number;
  /** Linear warmup steps (default 200). */
  warmupSteps?: number;
  /** Fraction of the (time-ordered) windows held out at the END as validation (default 0.15). */
  valFraction?: number;
  /**
   * Windows dropped between train and validation (default T: consecutive windows then share no snapshot). Add the
   * target horizon, in windows, to keep targets apart too.
   */
  embargo?: number;
  /** Wall-clock budget: training stops (keeping the best weights) when it is spent. Default 25 min. */
  timeBudgetSec?: number;
  /** Progress lines (epoch, batch, loss, ETA) go here; default stderr, false for silence. */
  log?: ((line: string) => void) | false;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  /** Wall-clock seconds of the epoch (training batches + validation). */
  seconds: number;
  /** CPU seconds of this process over the epoch: the wall time an otherwise idle core would need. */
  cpuSeconds: number;
  batches: number;
}

export interface SplitInfo {
  train: { start: number; end: number; timeFrom: number; timeTo: number };
  validation: { start: number; end: number; timeFrom: number; timeTo: number };
  embargo: number;
}

export interface TrainedTeacher {
  model: TransformerModel;
  history: EpochRecord[];
  bestEpoch: number;
  /** Validation loss (mean standardised MSE over tasks) at the initial weights, and at the best epoch. */
  initialValLoss: number;
  valLoss: number;
  valScores: TeacherScores;
  split: SplitInfo;
  seed: number;
  stoppedBy: 'patience' | 'maxEpochs' | 'timeBudget';
  options: Required<Omit<TrainTeacherOptions, 'log' | 'config'>>;
}

/** Mean and std per column of rows×cols data in `data`; std floored so constant columns pass unchanged. */
export function columnStats(data: Float32Array, cols: number, rowStart: number, rowEnd: number): Standardisation {
  const sum = new Float64Array(cols), sumSq = new Float64Array(cols);
  for (let r = rowStart; r < rowEnd; r++) {
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c];
      sum[c] += v;
      sumSq[c] += v * v;
    }
  }
  const n = Math.max(1, rowEnd - rowStart);
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sumSq, (s, c) => {
    const sd = Math.sqrt(Math.max(0, s / n - mean[c] ** 2));
    return sd > 1e-6 * Math.max(1, Math.abs(mean[c])) ? sd : 1;
  });
  return { mean, std };
}

function countNonFinite(a: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) n++;
  return n;
}

/**
 * Trains the reference teacher on time-ordered windows. The last `valFraction` of windows (after an embargo) is the
 * validation split for early stopping; the caller keeps its test split out of `ds` entirely. Statistics for the
 * input and target standardisation come from the training part only. Stops at maxEpochs, after `patience`
 * epochs without improvement, or when timeBudgetSec is spent, and always returns the best validation weights.
 */
export async function trainTeacher(ds: TeacherDataset, options: TrainTeacherOptions = {}): Promise<TrainedTeacher> {
  const N = checkDataset(ds);
  const { T, F } = ds.spec;
  const o = {
    seed: options.seed ?? 1, batchSize: options.batchSize ?? 128, maxEpochs: options.maxEpochs ?? 30,
    patience: options.patience ?? 3, learningRate: options.learningRate ?? 1e-3, warmupSteps: options.warmupSteps ?? 200,
    valFraction: options.valFraction ?? 0.15, embargo: options.embargo ?? T, timeBudgetSec: options.timeBudgetSec ?? 1500,
  };
  const config: TransformerConfig = { ...DEFAULT_TRANSFORMER_CONFIG, ...options.config };
  if (options.config?.d !== undefined && options.config.ff === undefined) config.ff = 4 * config.d;
  const log = options.log === false ? () => {} : options.log ?? ((l: string) => process.stderr.write(l + '\n'));
  if (!(o.valFraction > 0 && o.valFraction < 1)) throw expected('a fraction in (0, 1)', 'valFraction', o.valFraction);
  const valStart = Math.floor(N * (1 - o.valFraction));
  const trainEnd = valStart - o.embargo;
  if (trainEnd < o.batchSize || N - valStart < 1) {
    throw expected(`more windows (train ${trainEnd} must be ≥ batch ${o.batchSize})`, 'teacher dataset', N);
  }
  const bad = countNonFinite(ds.windows) + countNonFinite(ds.targets);
  if (bad > 0) throw new EngineError('E_BAD_INPUT', `teacher dataset has ${bad} non-finite window or target values; drop or fill them first`);
  const split: SplitInfo = {
    train: { start: 0, end: trainEnd, timeFrom: ds.times[0], timeTo: ds.times[trainEnd - 1] },
    validation: { start: valStart, end: N, timeFrom: ds.times[valStart], timeTo: ds.times[N - 1] },
    embargo: o.embargo,
  };

  await useWasmBackend();
  const inputNorm = columnStats(ds.windows, F, 0, trainEnd * T);
  const targetNorm = columnStats(ds.targets, 3, 0, trainEnd);
  const model = new TransformerModel({ spec: ds.spec, config, inputNorm, targetNorm }, initTransformerWeights(ds.spec, config, o.seed));
  const varList = [...model.vars.values()];
  const outMean = tf.keep(tf.tensor1d(targetNorm.mean)), outInvStd = tf.keep(tf.tensor1d(targetNorm.std.map((s) => 1 / s)));
  const optimizer = tf.train.adam(o.learningRate);
  const rng = new SeededRandom(o.seed + 7919);
  const order = Int32Array.from({ length: trainEnd }, (_, i) => i);
  const bx = new Float32Array(o.batchSize * T * F), by = new Float32Array(o.batchSize * 3);
  const batches = Math.floor(trainEnd / o.batchSize);

  const lossOf = (x: tf.Tensor, y: tf.Tensor) => tf.mean(tf.square(tf.sub(model.forward(x).headsStd, tf.mul(tf.sub(y, outMean), outInvStd))));
  const validate = (): { loss: number; heads: Float32Array } => {
    const heads = new Float32Array((N - valStart) * 3);
    for (let s = valStart; s < N; s += 256) {
      const e = Math.min(N, s + 256);
      tf.tidy(() => {
        const x = tf.tensor3d(ds.windows.subarray(s * T * F, e * T * F), [e - s, T, F]);
        heads.set(model.forward(x).heads.dataSync() as Float32Array, (s - valStart) * 3);
      });
    }
    let loss = 0;
    const yv = ds.targets.subarray(valStart * 3, N * 3);
    for (let i = 0; i < yv.length; i++) loss += ((heads[i] - yv[i]) / targetNorm.std[i % 3]) ** 2;
    return { loss: loss / yv.length, heads };
  };

  const t0 = Date.now();
  const initialValLoss = validate().loss;
  log(`teacher: ${model.paramCount} params, ${config.layers} layers d=${config.d}; train ${trainEnd}, val ${N - valStart} windows (embargo ${o.embargo}); ${batches} batches/epoch; initial val loss ${initialValLoss.toFixed(4)}`);
  const history: EpochRecord[] = [];
  let best = { loss: initialValLoss, epoch: 0, weights: snapshotVariables(model.vars) };
  let stoppedBy: TrainedTeacher['stoppedBy'] = 'maxEpochs';
  let step = 0, sinceBest = 0, baseLr = o.learningRate;
  for (let epoch = 1; epoch <= o.maxEpochs; epoch++) {
    const e0 = Date.now(), c0 = process.cpuUsage();
    rng.shuffle(order);
    let lossSum = 0, done = 0, lastLog = Date.now(), outOfTime = false;
    for (let b = 0; b < batches; b++) {
      for (let i = 0; i < o.batchSize; i++) {
        const w = order[b * o.batchSize + i];
        bx.set(ds.windows.subarray(w * T * F, (w + 1) * T * F), i * T * F);
        by.set(ds.targets.subarray(w * 3, w * 3 + 3), i * 3);
      }
      step++;
      (optimizer as unknown as { learningRate: number }).learningRate = baseLr * Math.min(1, step / o.warmupSteps);
      const loss = tf.tidy(() => {
        const x = tf.tensor3d(bx, [o.batchSize, T, F]), y = tf.tensor2d(by, [o.batchSize, 3]);
        const { value, grads } = tf.variableGrads(() => lossOf(x, y) as tf.Scalar, varList);
        optimizer.applyGradients(clipByGlobalNorm(grads, 1.0) as unknown as Parameters<typeof optimizer.applyGradients>[0]);
        return (value.dataSync() as Float32Array)[0];
      });
      lossSum += loss;
      done++;
      const now = Date.now();
      if (now - lastLog > 5000 || b === batches - 1) {
        const perBatch = (now - e0) / done;
        const epochLeft = ((batches - done) * perBatch) / 1000;
        const runLeft = Math.min(epochLeft + ((o.maxEpochs - epoch) * batches * perBatch) / 1000, o.timeBudgetSec - (now - t0) / 1000);
        log(`epoch ${epoch}/${o.maxEpochs} batch ${b + 1}/${batches} loss ${(lossSum / done).toFixed(4)} ETA epoch ${epochLeft.toFixed(0)} s, run ≤ ${Math.max(0, runLeft).toFixed(0)} s`);
        lastLog = now;
      }
      if ((now - t0) / 1000 > o.timeBudgetSec) { outOfTime = true; break; }
    }
    const v = validate();
    const cpu = process.cpuUsage(c0);
    const rec: EpochRecord = { epoch, trainLoss: lossSum / done, valLoss: v.loss, seconds: (Date.now() - e0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, batches: done };
    history.push(rec);
    const improved = v.loss < best.loss;
    if (improved) { best = { loss: v.loss, epoch, weights: snapshotVariables(model.vars) }; sinceBest = 0; } else sinceBest++;
    log(`epoch ${epoch} done in ${rec.seconds.toFixed(1)} s (${rec.cpuSeconds.toFixed(1)} s CPU): train ${rec.trainLoss.toFixed(4)} val ${v.loss.toFixed(4)}${improved ? ' (best)' : ''}`);
    if (outOfTime) { stoppedBy = 'timeBudget'; break; }
    if (sinceBest >= o.patience) { stoppedBy = 'patience'; break; }
    if (!improved) baseLr *= 0.5; // halve on a plateau
  }
  restoreVariables(model.vars, best.weights);
  optimizer.dispose();
  tf.dispose([outMean, outInvStd]);
  const final = validate(); // best weights (the initial ones if no epoch improved on a NaN-free loss)
  const valScores = scoreHeads(final.heads, ds.targets.subarray(valStart * 3, N * 3));
  log(`teacher: best epoch ${best.epoch}, val loss ${final.loss.toFixed(4)}, R² mid ${valScores.r2.mid.toFixed(3)} spread ${valScores.r2.spread.toFixed(3)} volume ${valScores.r2.volume.toFixed(3)}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return { model, history, bestEpoch: best.epoch, initialValLoss, valLoss: final.loss, valScores, split, seed: o.seed, stoppedBy, options: o };
}
