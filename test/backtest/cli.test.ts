// `cmm backtest` end to end on event logs written here: output shape, --json determinism, report files,
// and configuration/data errors that must be clear EngineErrors (never a silent zero).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Side } from '../../src/core/event';
import { EngineError } from '../../src/errors';
import { EventLogWriter } from '../../src/log/event-log';
import { run } from '../../src/cli/commands/backtest';
import { Tape } from '../../src/backtest/tape';
import { generateMarket } from '../../src/sim/generator';
import { L2, Stream } from './helpers';

const CMM = path.resolve(__dirname, '..', '..', 'src', 'cli', 'cmm.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-backtest-cli-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

function writeLog(name: string, instruments: typeof L2[], bytes: Uint8Array): string {
  const file = path.join(dir, name);
  const w = EventLogWriter.create(file, { source: 'test', instruments });
  w.append(bytes);
  w.close();
  return file;
}

const g = generateMarket({ seconds: 180, regime: 'medium', seed: 5 });
const market = writeLog('gen.cmm', [g.summary.instrument], g.bytes);

function cmm(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CMM, 'backtest', ...args], { encoding: 'utf8', cwd: dir });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function rejects(argv: string[], code: string, pattern: RegExp): Promise<void> {
  const out = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    await assert.rejects(run(argv), (e: unknown) => {
      assert.ok(e instanceof EngineError, String(e));
      assert.equal(e.code, code, e.message);
      assert.match(e.message, pattern);
      return true;
    });
  } finally {
    process.stdout.write = out;
  }
}

test('prints one row per strategy and, with --json, the whole result on the last line, byte-identical across runs', () => {
  const args = ['--data', market, '--strategy', 'all', '--episode-len', '29s', '--rl-epochs', '2', '--seed', '3', '--json', '--report', path.join(dir, 'r.html'), '--model-dir', path.join(dir, 'models')];
  const a = cmm(...args);
  assert.equal(a.status, 0, a.stderr);
  const lines = a.stdout.trim().split('\n');
  const result = JSON.parse(lines[lines.length - 1]);
  assert.equal(result.command, 'backtest');
  assert.deepEqual(result.strategies.map((s: { name: string }) => s.name), ['fixed', 'as', 'rl']);
  assert.equal(result.windows.length, 3);
  for (const name of ['fixed', 'as', 'rl']) assert.ok(lines.some((l) => new RegExp(`^${name}\\s+-?\\d`).test(l)), `table row for ${name}`);
  assert.ok(lines.some((l) => /EPnL\s+MAP\s+PnLMAP\s+RPT\s+Sharpe\s+MaxDD\s+Fills\s+Quoted/.test(l)));
  assert.ok(fs.statSync(path.join(dir, 'r.html')).size > 1000);
  assert.ok(fs.statSync(path.join(dir, 'r.png')).size > 1000);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'models', 'manifest.json'), 'utf8'));
  assert.equal(manifest.models[0].dataset, 'gen');
  assert.equal(manifest.models[0].seed, 3);
  const b = cmm(...args);
  assert.equal(b.status, 0, b.stderr);
  assert.equal(b.stdout.trim().split('\n').pop(), lines[lines.length - 1]);
});

test('--json output longer than a pipe buffer arrives whole when the reader is slow', () => {
  // 89 one-second episodes: about 75 KB of JSON, more than the 64 KiB a pipe holds. The reader starts
  // half a second late: a CLI that exited without draining stdout would cut the line at 64 KiB.
  const cmd = `"${process.execPath}" "${CMM}" backtest --data "${market}" --strategy fixed --episode-len 1s --json | (sleep 0.5; cat)`;
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', cwd: dir, maxBuffer: 1 << 24 });
  assert.equal(r.status, 0, r.stderr);
  const last = r.stdout.trim().split('\n').pop()!;
  assert.ok(last.length > 65536, `only ${last.length} bytes: the test needs more than a pipe buffer`);
  assert.equal(JSON.parse(last).command, 'backtest');
});

test('bad configuration is an EngineError with a clear message', async () => {
  await rejects(['--data', market, '--strategy', 'foo'], 'E_CONFIG', /unknown strategy "foo"/);
  await rejects(['--data', market, '--strategy', 'as', '--episode-len', '2m'], 'E_CONFIG', /longer than the test split/);
  await rejects(['--data', market, '--strategy', 'as', '--episode-len', '29s', '--episodes', '9'], 'E_CONFIG', /do not fit/);
  await rejects(['--data', market, '--strategy', 'as', '--episode-len', '29s', '--queue', 'fifo'], 'E_CONFIG', /fifo queue model needs L3/);
  await rejects(['--data', market, '--strategy', 'as', '--bogus', '1'], 'E_CONFIG', /unknown option --bogus/);
  await rejects(['--data', market, '--strategy', 'as', '--train-frac', '1.5'], 'E_INVALID_ARG', /train fraction/);
  await rejects(['--strategy', 'as'], 'E_INVALID_ARG', /--data/);
  await rejects(['--data', path.join(dir, 'missing.cmm'), '--strategy', 'as'], 'E_FILE_NOT_FOUND', /cannot open/);
  const r = cmm('--data', market, '--strategy', 'foo');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /E_CONFIG: unknown strategy/);
});

test('bad data is an EngineError: an empty (never two-sided) book, no instruments, an unknown instrument', async () => {
  const oneSided = new Stream();
  for (let i = 0; i < 50; i++) oneSided.level(i * 100, Side.Bid, 99 - (i % 3), 5 + i);
  const empty = writeLog('empty-book.cmm', [L2], oneSided.bytes());
  await rejects(['--data', empty, '--strategy', 'fixed'], 'E_BAD_INPUT', /never two-sided/);
  assert.throws(() => Tape.fromEvents([], oneSided.bytes()), (e: unknown) => e instanceof EngineError && e.code === 'E_BAD_INPUT' && /no instruments/.test(e.message));
  const none = writeLog('no-instruments.cmm', [], new Uint8Array(0));
  await rejects(['--data', none, '--strategy', 'all'], 'E_BAD_INPUT', /lists no instruments/);
  await rejects(['--data', market, '--strategy', 'fixed', '--instrument', 'NOPE'], 'E_UNKNOWN_SYMBOL', /not in the event log/);
});
