// RL market maker: tile coding, the dampened reward, training on the training split, and the saved policy
// (evaluating the saved file reproduces the scores of the run that trained it).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BacktestOptions, runBacktest } from '../../src/backtest/run';
import { Tape } from '../../src/backtest/tape';
import { RL_ACTION_COUNT, dampedReward } from '../../src/strategies/rl-mm';
import { TileCoder } from '../../src/strategies/tile-coding';
import { generateMarket } from '../../src/sim/generator';

test('tile coder: one active tile per tiling (joint + per variable), in range, clipped, deterministic', () => {
  const c = new TileCoder({ lo: [-1, 0, 0], hi: [1, 10, 5], jointBins: 3, lineBins: 8, tilings: 4 });
  assert.equal(c.nActive, 4 * (1 + 3));
  assert.equal(c.size, 4 * 4 ** 3 + 3 * 4 * 9);
  const a = [...c.encode([0.2, 3, 1])];
  assert.equal(new Set(a).size, a.length, 'distinct');
  assert.ok(a.every((i) => i >= 0 && i < c.size));
  assert.deepEqual([...c.encode([0.2, 3, 1])], a);
  assert.deepEqual([...c.encode([5, 99, NaN])], [...c.encode([1, 10, 0])], 'out-of-range values clip to the edges, NaN to the low edge');
  const near = [...c.encode([0.21, 3, 1])];
  const far = [...c.encode([-0.9, 9, 4])];
  const shared = (x: number[]): number => x.filter((i) => a.includes(i)).length;
  assert.ok(shared(near) > shared(far), 'nearby states share more tiles');
});

test('reward dampening is asymmetric: inventory gains are damped, inventory losses are not', () => {
  assert.equal(dampedReward(10, 2, 5, 0.5), 10 - 0.5 * 10);
  assert.equal(dampedReward(-10, 2, -5, 0.5), -10);
  assert.equal(dampedReward(4, -1, -3, 1), 4 - 3);
  assert.equal(dampedReward(4, 0, 3, 1), 4);
});

test('RL trains on the training split only, saves a small policy + manifest, and the saved policy reproduces its evaluation', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-rl-'));
  try {
    const g = generateMarket({ seconds: 300, regime: 'medium', seed: 6 });
    const tape = Tape.fromEvents([g.summary.instrument], g.bytes, { source: path.join(dir, 'synthetic.cmm') });
    const opts: BacktestOptions = {
      tape, strategies: ['rl'], episodeLenNs: 30e9, seed: 5, trainFrac: 0.5, fees: { makerBps: 0, takerBps: 2 }, queue: { model: 'prob-power' },
      latency: { feed: { dist: 'constant', ns: 0 }, entry: { dist: 'constant', ns: 1e6 }, response: { dist: 'constant', ns: 1e6 } }, stepNs: 1e9,
      rl: { epochs: 4, modelDir: dir },
    };
    const trained = runBacktest(opts);
    const log = trained.rlTraining!;
    assert.equal(log.epochs, 4);
    assert.equal(log.epochMeanEpnl.length, 4);
    assert.ok(log.updates > 100, `updates ${log.updates}`);
    // Training episodes lie inside the training split.
    assert.ok(trained.split.trainEndNs <= trained.windows[0].startNs);
    const policyPath = path.join(dir, 'synthetic.json');
    const policy = JSON.parse(fs.readFileSync(policyPath, 'utf8'));
    assert.equal(policy.kind, 'cmm.rl-mm.policy');
    assert.equal(policy.actions.length + 1, RL_ACTION_COUNT);
    assert.ok(policy.weights.length > 0);
    assert.ok(fs.statSync(policyPath).size < 2e6, 'small');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    const entry = manifest.models.find((m: { dataset: string }) => m.dataset === 'synthetic');
    assert.equal(entry.file, 'synthetic.json');
    assert.equal(entry.seed, 5);
    assert.equal(entry.split.trainFrac, 0.5);
    assert.equal(entry.evaluation.episodes, trained.windows.length);
    assert.equal(entry.evaluation.epnl.mean, trained.strategies[0].summary.stats.epnl.mean);
    const replayed = runBacktest({ ...opts, rl: { policyFile: policyPath } });
    assert.equal(replayed.rlTraining, undefined, 'a loaded policy is not retrained');
    assert.deepEqual(replayed.strategies[0].episodes, trained.strategies[0].episodes);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
