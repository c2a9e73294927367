// `cmm generate`: writes a readable event log identical to the in-process generator, prints one JSON line,
// and rejects bad options with "expected X for Y, got Z".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { run } from '../../src/cli/commands/generate';
import { EngineError } from '../../src/errors';
import { readAllEvents } from '../../src/log/event-log';
import { generateMarket } from '../../src/sim/generator';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'cmm.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-generate-'));

test('cmm generate writes the seeded market to an event log and prints a JSON summary last', () => {
  const file = path.join(dir, 'g.log');
  const args = [CLI, 'generate', '--minutes', '3', '--regime', 'switching', '--trend', 'bear', '--flash-crash', 'at=1m,depth=2%,drop=20s,recover=50%,over=30s', '--reversal', 'at=150s', '--seed', '11', '-o', file, '--json'];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const summary = JSON.parse(lines[lines.length - 1]);
  assert.equal(summary.file, file);
  assert.equal(summary.seconds, 180);
  assert.ok(Array.isArray(summary.regimes) && summary.regimes.length >= 1);
  assert.ok('low' in summary.realisedVolByRegime && 'high' in summary.realisedVolByRegime);
  const log = readAllEvents(file);
  assert.equal(log.stoppedAt.reason, 'eof');
  assert.equal(log.count, summary.events);
  assert.equal(log.header.source, 'cmm generate');
  assert.equal(log.header.instruments[0].symbol, 'SYN');
  assert.deepEqual((log.header.meta as { regimes: unknown }).regimes, summary.regimes);
  const direct = generateMarket({
    seconds: 180, regime: 'switching', trend: 'bear', seed: 11,
    injectors: [{ kind: 'flash-crash', atSeconds: 60, depthPct: 2, dropSeconds: 20, recoveryFraction: 0.5, recoverySeconds: 30 }, { kind: 'reversal', atSeconds: 150 }],
  });
  assert.deepEqual(log.events, direct.bytes);
  // Same seed, same file, byte for byte (the header's creation time is the simulated start, not the clock).
  const again = path.join(dir, 'g2.log');
  const r2 = spawnSync(process.execPath, args.map((a) => (a === file ? again : a)), { encoding: 'utf8' });
  assert.equal(r2.status, 0, r2.stderr);
  assert.deepEqual(fs.readFileSync(again), fs.readFileSync(file));
});

test('bad options give clear errors', async () => {
  const o = path.join(dir, 'x.log');
  const base = ['--minutes', '1', '--regime', 'low', '--seed', '1', '-o', o];
  const cases: Array<[string[], RegExp]> = [
    [base.filter((_, i) => i > 1), /expected a number of minutes in \(0, 10080\] for --minutes, got "nothing"/],
    [['--minutes', 'ten', ...base.slice(2)], /expected a finite number for --minutes, got "ten"/],
    [[...base.slice(0, 2), '--regime', 'wild', ...base.slice(4)], /expected low, medium, high or switching for --regime, got "wild"/],
    [[...base.slice(0, 4), '--seed', '1.5', ...base.slice(6)], /expected a non-negative integer for --seed, got "1.5"/],
    [base.slice(0, 6), /expected an output file for -o, got "nothing"/],
    [[...base, '--trend', 'up'], /expected bull, bear or sideways for --trend, got "up"/],
    [[...base, '--flash-crash', 'depth=5%'], /expected at=<time> \(e.g. at=12m\) for --flash-crash, got "depth=5%"/],
    [[...base, '--flash-crash', 'at=30s,depth=lots'], /expected a percentage like 5% for --flash-crash depth, got "lots"/],
    [[...base, '--flash-crash', 'at=soon,depth=5%'], /expected a time like 30s, 12m or 1h for --flash-crash at, got "soon"/],
    [[...base, '--flash-crash', 'at=2m,depth=5%'], /expected a time before the end \(60 s\) for flash-crash at, got "120 s"/],
    [[...base, '--flash-crash', 'at=30s,depth=5%,speed=2'], /expected one of at=, depth=, drop=, recover=, over= for --flash-crash, got "speed=2"/],
    [[...base, '--reversal', 'at=30s'], /expected --trend bull or --trend bear .* for --reversal, got "--trend sideways \(default\)"/],
    [[...base, '--colour', 'red'], /for cmm generate option, got "--colour"/],
  ];
  for (const [argv, re] of cases) {
    await assert.rejects(run(argv), (e: unknown) => e instanceof EngineError && e.code === 'E_INVALID_ARG' && re.test(e.message), argv.join(' '));
  }
  assert.equal(fs.existsSync(o), false, 'nothing is written when the options are bad');
  await assert.rejects(run(['--minutes', '1', '--regime', 'low', '--seed', '1', '-o', path.join(dir, 'missing', 'x.log')]), (e: unknown) => e instanceof EngineError && e.code === 'E_FILE_NOT_FOUND');
});
