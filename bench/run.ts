// `npm run bench`: runs every compiled benchmark (dist/bench/*.bench.js), each in its own process, one
// after another, then checks the flat metrics they wrote to bench/results/<bench>.json against
// bench/budgets.json and exits non-zero when a benchmark failed or a budget is exceeded or missing.
// Usage: node dist/bench/run.js [substring ...] [--check-only]
//   substrings: run only the benchmarks whose file name contains one of them (their budgets only)
//   --check-only: run nothing, check the results already in bench/results/
// Results file: { "bench": "<bench>", "metrics": { "<metric>": number, ... }, ...anything else }.
// Budgets file: { "<bench>.<metric>": { "max": x } | { "min": x }, with an optional "note" }; keys that
// start with "_" are comments.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..'); // dist/bench -> repository root
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const BUDGETS = path.join(ROOT, 'bench', 'budgets.json');

interface Budget {
  max?: number;
  min?: number;
  note?: string;
}
interface Ran {
  bench: string;
  status: number | null;
  seconds: number;
  started: number;
}

const benchName = (file: string): string => path.basename(file).replace(/\.bench\.js$/, '');

function loadBudgets(): Record<string, Budget> {
  if (!fs.existsSync(BUDGETS)) return {};
  const raw = JSON.parse(fs.readFileSync(BUDGETS, 'utf8')) as Record<string, unknown>;
  const out: Record<string, Budget> = {};
  for (const [key, v] of Object.entries(raw)) {
    if (key.startsWith('_')) continue;
    const b = v as Budget;
    if (!key.includes('.') || typeof b !== 'object' || b === null || (typeof b.max !== 'number' && typeof b.min !== 'number')) {
      throw new Error(`bench/budgets.json: expected "<bench>.<metric>": {"max": x} or {"min": x} for ${key}`);
    }
    out[key] = b;
  }
  return out;
}

function loadMetrics(bench: string, notBefore: number): { metrics?: Record<string, unknown>; why?: string } {
  const file = path.join(RESULTS_DIR, `${bench}.json`);
  if (!fs.existsSync(file)) return { why: 'no results file' };
  if (fs.statSync(file).mtimeMs < notBefore) return { why: 'results file not rewritten by this run' };
  try {
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { metrics?: Record<string, unknown> };
    return json.metrics ? { metrics: json.metrics } : { why: 'no "metrics" in results file' };
  } catch (err) {
    return { why: `unreadable results file: ${(err as Error).message}` };
  }
}

function main(): number {
  const args = process.argv.slice(2);
  const checkOnly = args.includes('--check-only');
  const filters = args.filter((a) => !a.startsWith('--'));
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js'))
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort();
  const ran: Ran[] = [];
  if (!checkOnly) {
    for (const f of files) {
      const bench = benchName(f);
      console.log(`\n=== ${bench} (${f}) ===`);
      const started = Date.now();
      const r = spawnSync(process.execPath, [path.join(__dirname, f)], { stdio: 'inherit', cwd: ROOT });
      ran.push({ bench, status: r.status, seconds: (Date.now() - started) / 1000, started });
    }
  }

  const budgets = loadBudgets();
  const selected = new Set(files.map(benchName));
  const startedAt = new Map(ran.map((r) => [r.bench, r.started]));
  let failures = 0;
  const rows: string[][] = [];
  for (const [key, b] of Object.entries(budgets)) {
    const bench = key.slice(0, key.indexOf('.'));
    const metric = key.slice(key.indexOf('.') + 1);
    if (!selected.has(bench) && filters.length > 0) continue;
    const { metrics, why } = loadMetrics(bench, checkOnly ? 0 : startedAt.get(bench) ?? Infinity);
    const limit = b.max !== undefined ? `<= ${b.max}` : `>= ${b.min}`;
    const value = metrics?.[metric];
    let status: string;
    if (typeof value !== 'number') status = `MISSING (${why ?? 'no such metric'})`;
    else if ((b.max !== undefined && !(value <= b.max)) || (b.min !== undefined && !(value >= b.min))) status = b.max !== undefined ? 'OVER BUDGET' : 'BELOW BUDGET';
    else status = 'ok';
    if (status !== 'ok') failures++;
    rows.push([key, typeof value === 'number' ? String(value) : '-', limit, status, b.note ?? '']);
  }

  console.log('\n=== summary ===');
  for (const r of ran) console.log(`${r.bench.padEnd(24)} ${r.status === 0 ? 'ran' : `FAILED (exit ${r.status})`} in ${r.seconds.toFixed(1)} s`);
  const badRuns = ran.filter((r) => r.status !== 0).length;
  if (rows.length > 0) {
    const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), ['budget', 'value', 'limit', 'status'][i].length));
    const line = (c: string[]): string => c.slice(0, 4).map((x, i) => x.padEnd(w[i])).join('  ') + (c[4] ? `  ${c[4]}` : '');
    console.log('');
    console.log(line(['budget', 'value', 'limit', 'status', '']));
    for (const r of rows) console.log(line(r));
  } else {
    console.log('no budgets apply');
  }
  console.log(`\n${ran.length} benchmark(s) run, ${badRuns} failed; ${rows.length} budget(s) checked, ${failures} not met`);
  return badRuns > 0 || failures > 0 ? 1 : 0;
}

process.exit(main());
