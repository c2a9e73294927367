// Per-decision latency and energy of students + Hájek-MoE (native) against the teacher (onnxruntime-node),
// measured in one run by `cmm experiment latency` on a generated market (no external data needed).
// Writes bench/results/cmm-latency.json for the budgets in bench/budgets.json (issue 4: ≥ 100x on both).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-latency-'));
const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'src', 'cli', 'cmm.js'), 'experiment', 'latency',
  '--markets', 'gen_switching_sideways', '--students', 'bundled', '-o', out, '--json'], { encoding: 'utf8', cwd: ROOT });
process.stderr.write(r.stderr ?? '');
if (r.status !== 0) {
  process.stdout.write(r.stdout ?? '');
  throw new Error(`cmm experiment latency exited ${r.status}`);
}
const lines = r.stdout.trim().split('\n');
process.stdout.write(lines.slice(0, -1).join('\n') + '\n');
const result = JSON.parse(lines[lines.length - 1]);
if (!result.ratio) throw new Error('latency experiment produced no teacher/students ratio (is models/teacher present?)');
const native = result.timings.find((t: { runtime: string }) => t.runtime.startsWith('native'));
const metrics = {
  latency_ratio_p50: result.ratio.p50,
  latency_ratio_p99: result.ratio.p99,
  energy_ratio: result.ratio.energy,
  students_native_p50_us: native?.latencyUs?.p50 ?? null,
  students_native_p99_us: native?.latencyUs?.p99 ?? null,
  teacher_p50_us: result.timings.find((t: { model: string }) => t.model === 'teacher')?.latencyUs?.p50 ?? null,
};
const file = path.join(ROOT, 'bench', 'results', 'cmm-latency.json');
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, JSON.stringify({ bench: 'cmm-latency', machine: `${os.cpus()[0]?.model}, ${os.cpus().length} cores, node ${process.version}`,
  energyNote: result.energyNote, metrics, result }, null, 2) + '\n');
console.log(`cmm-latency: teacher/students latency p50 ${metrics.latency_ratio_p50.toFixed(1)}x, energy ${metrics.energy_ratio.toFixed(1)}x (${result.energyNote})`);
