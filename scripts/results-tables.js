#!/usr/bin/env node
// Prints the README's "Results" tables (Markdown) from results/{main,robustness,data-efficiency,latency}.json, so
// that the README quotes the results files and nothing else. After a `cmm experiment` run:
//   node scripts/results-tables.js [results-dir]   (then paste each block over its table in README.md)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dir = process.argv[2] ?? path.join(__dirname, '..', 'results');
const load = (name) => {
  const file = path.join(dir, `${name}.json`);
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
};

const STRATEGIES = ['fixed', 'as', 'rl', 'cmm', 'student', 'kd', 'teacher'];
const LABEL = { fixed: 'fixed', as: 'AS', rl: 'RL', cmm: 'CMM', student: 'no-distill', kd: 'KD', teacher: 'teacher' };
const VARIANTS = ['cmm', 'student', 'kd'];

/** One decimal from 100 up, two from 1 up, three below 1 (unless `digits`); no exponent; U+2212 for negatives. */
function num(x, digits) {
  if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
  const a = Math.abs(x);
  const d = digits ?? (a >= 100 ? 1 : a >= 1 ? 2 : 3);
  const s = x.toFixed(d);
  return Number(s) === 0 ? s.replace('-', '') : s.replace('-', '−');
}
const pm = (v) => (v ? `${num(v.mean)} ± ${num(v.std)}` : '—');
const row = (cells) => `| ${cells.join(' | ')} |`;
const table = (head, rows) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
/**
 * Bold the cell holding the highest value of a row (ties: every one of them; none when all are equal). Values
 * are compared as printed, so 0.000 beside −0.000…1 printed as 0.000 is a tie, not a win.
 */
function boldBest(cells, raw) {
  const values = raw.map((v) => (Number.isFinite(v) ? Number(num(v).replace('−', '-')) : v));
  const finite = values.filter((v) => Number.isFinite(v));
  const best = Math.max(...finite);
  if (finite.every((v) => v === best)) return cells;
  return cells.map((c, i) => (values[i] === best ? `**${c}**` : c));
}

function mainTables(m) {
  const rows = m.markets.map((mk) => {
    const by = Object.fromEntries(mk.strategies.map((s) => [s.name, s.stats.epnl]));
    const cells = STRATEGIES.map((s) => pm(by[s]));
    return [`${mk.market} (${mk.episodes} × ${num(mk.episodeSeconds, 1)} s)`, ...boldBest(cells, STRATEGIES.map((s) => by[s]?.mean))];
  });
  const ranks = m.ranking.map((r) => [LABEL[r.strategy], r.markets, r.wins, num(r.meanRank, 2), num(r.meanPnlMapRank, 2)]);
  const failed = m.failed.map((f) => `${f.market} (${f.reason.replace(/^E_[A-Z_]+: /, '')})`).join('; ');
  return [
    table(['market (test episodes)', ...STRATEGIES.map((s) => LABEL[s])], rows),
    '',
    table(['strategy', 'markets', 'best EPnL (alone)', 'mean EPnL rank', 'mean PnLMAP rank'], ranks),
    failed ? `\nNot run: ${failed}.` : '',
  ].join('\n');
}

function robustnessTables(r) {
  const rows = r.scenarios.map((s) => {
    const by = Object.fromEntries(s.result.strategies.map((x) => [x.name, x.stats.epnl]));
    const cells = STRATEGIES.map((k) => pm(by[k]));
    return [s.scenario, s.event, ...boldBest(cells, STRATEGIES.map((k) => by[k]?.mean))];
  });
  const ev = r.eventEpisodes.map((e) => {
    const by = Object.fromEntries(e.strategies.map((x) => [x.name, x]));
    const cells = STRATEGIES.map((k) => (by[k] ? `${num(by[k].epnl)} / ${num(by[k].maxDrawdown)}` : '—'));
    return [`${e.scenario} (episode ${e.episode})`, ...boldBest(cells, STRATEGIES.map((k) => by[k]?.epnl))];
  });
  // A base market that cannot be run takes its scenarios with it: list the bases, as the main table does.
  const failed = (r.failed ?? []).map((f) => `${f.scenario} (${f.reason.replace(/^E_[A-Z_]+: /, '')})`).join('; ');
  const seg = Object.entries(r.segments).map(([name, by]) =>
    [`${name} (${Object.values(by)[0]?.n ?? 0} episodes)`, ...STRATEGIES.map((k) => (by[k] ? pm(by[k]) : '—'))]);
  return [
    table(['scenario', 'event', ...STRATEGIES.map((s) => LABEL[s])], rows),
    '',
    'Episode holding the injected event, EPnL / max drawdown:',
    '',
    table(['scenario', ...STRATEGIES.map((s) => LABEL[s])], ev),
    '',
    'Mean EPnL rank per test episode (1 = best) by segment, over every scenario:',
    '',
    table(['segment', ...STRATEGIES.map((s) => LABEL[s])], seg),
    failed ? `\nNot run: ${failed}.` : '',
  ].join('\n');
}

function efficiencyTables(d) {
  const fr = d.fractions;
  const head = ['market', 'variant', ...fr.map((f) => `${Math.round(f * 100)} %`)];
  const epnl = [], r2 = [];
  for (const m of d.markets) {
    for (const v of VARIANTS) {
      const at = (f) => m.fractions.find((x) => x.fraction === f);
      epnl.push([v === 'cmm' ? m.market : '', LABEL[v], ...fr.map((f) => (at(f)?.error ? 'not run' : pm(at(f)?.strategies[v]?.epnl)))]);
      r2.push([v === 'cmm' ? m.market : '', LABEL[v], ...fr.map((f) => {
        const x = at(f)?.r2[v];
        return at(f)?.error || !x || x.length === 0 ? 'not run' : x.map((y) => num(y, 2)).join(' / ');
      })]);
    }
  }
  // The fraction-free strategies (fixed, AS, teacher) run once at 100 %: say whether they equal the main table's.
  const main = load('main');
  const refDiffs = d.markets.flatMap((m) => Object.entries(m.reference).flatMap(([k, v]) => {
    const s = main?.markets.find((x) => x.market === m.market)?.strategies.find((x) => x.name === k);
    return s && s.stats.epnl.mean === v.epnl.mean && s.stats.epnl.std === v.epnl.std ? [] : [`${m.market} ${LABEL[k] ?? k} ${pm(v.epnl)}`];
  }));
  const refs = refDiffs.length === 0 && main
    ? `Fixed spread, AS and the teacher do not depend on the fraction; they run once at 100 % and their EPnL equals the main table's on every market.`
    : `Fixed spread, AS and the teacher run once at 100 %; where they differ from the main table: ${refDiffs.join('; ')}.`;
  const errors = d.markets.map((m) => ({ m, f: m.fractions.filter((f) => f.error) })).filter((x) => x.f.length > 0)
    .map(({ m, f }) => {
      const why = f[0].error.replace(/in the first [0-9.]+ of the training split/, 'in that part of the training split');
      return `${m.market} at ${f.map((x) => Math.round(x.fraction * 100)).join(' / ')} % (${why})`;
    });
  const failed = d.failed.map((f) => `${f.market} (${f.reason.replace(/^E_[A-Z_]+: /, '')})`);
  return [
    'Test EPnL, mean ± std over the test episodes:',
    '',
    table(head, epnl),
    '',
    'Test R² of mid / spread / volume:',
    '',
    table(head, r2),
    '',
    refs,
    errors.length ? `\nFractions not run: ${errors.join('; ')}.` : '',
    failed.length ? `\nMarkets not run: ${failed.join('; ')}.` : '',
  ].join('\n');
}

function latencyTables(l) {
  const estimated = l.timings.some((t) => t.energySource === 'estimate');
  const rows = l.timings.map((t) => [
    t.model, t.runtime, t.parameters.toLocaleString('en-US'), t.decisions.toLocaleString('en-US'),
    num(t.latencyUs.p50), num(t.latencyUs.p99), num(t.cpuUsPerDecision),
    `${num(t.energyUjPerDecision)}${t.energySource === 'estimate' ? ' (estimate)' : ''}`,
  ]);
  return [
    table(['model', 'runtime', 'parameters', 'decisions', 'p50 µs', 'p99 µs', 'CPU µs / decision', 'energy µJ / decision'], rows),
    '',
    `Teacher / (students + MoE, native): p50 ${num(l.ratio.p50, 1)}×, p99 ${num(l.ratio.p99, 1)}×, `
      + `energy ${num(l.ratio.energy, 1)}×${estimated ? ' (estimate)' : ''}, parameters ${num(l.ratio.parameters, 1)}×.`
      + (estimated ? ` Energy is an estimate: process CPU time × ${l.wattsPerCore} W per busy core (RAPL counters are not readable on this machine).` : ''),
  ].join('\n');
}

const parts = [
  ['main', mainTables], ['robustness', robustnessTables], ['data-efficiency', efficiencyTables], ['latency', latencyTables],
];
for (const [name, fn] of parts) {
  const r = load(name);
  process.stdout.write(`<!-- ${name}: ${r ? `results/${name}.json, ${r.createdAt}` : 'no results file'} -->\n${r ? fn(r) : ''}\n\n`);
}
