// Avellaneda–Stoikov (2008) stylised market against the paper's Tables 1–3 (1000 paths each, seeded).
//
// Tolerances. With N = 1000 paths the standard error of a mean is sd/√N (inventory profit ≈ 0.2, symmetric
// ≈ 0.4) and of a standard deviation ≈ sd/√(2N) ≈ 2.2 % of it; the paper's figures carry the same noise, so
// a difference of two estimates has √2 times that. Beyond noise, the paper leaves details open (order of
// quoting, filling and the price step inside dt; capping the fill probability at 1): public reproductions,
// and this one over seeds 1–5, land ≈ +3 % on inventory profit and +9–15 % on the inventory strategy's
// dispersions. We accept: mean profit within 5 % of the paper; std(profit) and std(q) within 20 % (largest
// deviation seen over seeds 1–5: 14.7 %; the systematic part plus 3 × √2 × 2.2 % noise stays under 24 %);
// mean final q within 4 standard errors of 0. Two cells of the paper do not follow from its stated formulas:
// inventory profit 33.92 ± 4.72 for γ = 0.5 (the full spread gives ≈ 48.5 ± 5.9, the constant part alone
// ≈ 24) and symmetric profit 66.2 for γ = 0.5 (needs the constant spread the table shows): see below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AS_PAPER_TABLES, AsStrategyStats, asPaperComparison, formatAsTable, simulateAsMarket } from '../../src/sim/as-market';
import { EngineError } from '../../src/errors';

const results = asPaperComparison({ paths: 1000, seed: 2008 });

function paper(gamma: number, strategy: 'inventory' | 'symmetric') {
  return AS_PAPER_TABLES.find((r) => r.gamma === gamma && r.strategy === strategy)!;
}

function within(actual: number, expectedValue: number, rel: number, label: string): void {
  assert.ok(Math.abs(actual - expectedValue) <= rel * Math.abs(expectedValue), `${label}: ${actual.toFixed(3)} vs paper ${expectedValue} (±${rel * 100} %)`);
}

function checkAgainstPaper(st: AsStrategyStats, checkProfit = true): void {
  const p = paper(st.gamma, st.strategy);
  const label = `γ=${st.gamma} ${st.strategy}`;
  if (checkProfit) {
    within(st.meanProfit, p.profit, 0.05, `${label} profit`);
    within(st.stdProfit, p.stdProfit, 0.2, `${label} std(profit)`);
  }
  within(st.stdFinalQ, p.stdFinalQ, 0.2, `${label} std(q)`);
  assert.ok(Math.abs(st.meanFinalQ) < 4 * st.stdFinalQ / Math.sqrt(1000), `${label} mean q ${st.meanFinalQ}`);
}

test('γ = 0.1 and γ = 0.01: both strategies match the paper (Tables 1 and 2)', () => {
  for (const res of results.slice(0, 2)) {
    checkAgainstPaper(res.inventory);
    checkAgainstPaper(res.symmetric);
  }
});

test('γ = 0.5: inventory std(q) matches; the symmetric row matches with the constant spread the table shows', () => {
  const r = results[2];
  checkAgainstPaper(r.inventory, false);
  // Documented discrepancy: the paper reports profit 33.92 ± 4.72; the stated formulas give ≈ 48.5 ± 5.9
  // (we only require that the inventory strategy earns clearly less than the symmetric one, the paper's point).
  const constant = simulateAsMarket({ gamma: 0.5, paths: 1000, seed: 2008, symmetricSpread: 'constant' });
  checkAgainstPaper(constant.symmetric);
  assert.ok(r.inventory.meanProfit < 0.8 * constant.symmetric.meanProfit);
  assert.ok(r.inventory.meanProfit < r.symmetric.meanProfit);
});

test('the paper\'s qualitative results: inventory quoting cuts P&L and inventory dispersion for every γ', () => {
  for (const r of results) {
    assert.ok(r.inventory.stdProfit < r.symmetric.stdProfit, `γ=${r.inventory.gamma}`);
    assert.ok(r.inventory.stdFinalQ < r.symmetric.stdFinalQ, `γ=${r.inventory.gamma}`);
  }
  // More risk aversion, tighter inventory: std(q) falls as γ rises (0.01 → 0.1 → 0.5).
  const byGamma = [results[1], results[0], results[2]].map((r) => r.inventory.stdFinalQ);
  assert.ok(byGamma[0] > byGamma[1] && byGamma[1] > byGamma[2], JSON.stringify(byGamma));
  // The constant part of the spread is (2/γ)ln(1+γ/k) = 1.29 for γ = 0.1; the average quoted spread adds γσ²T/2.
  assert.ok(Math.abs(results[0].inventory.meanSpread - (20 * Math.log(1 + 0.1 / 1.5) + 0.2)) < 0.01);
});

test('seeded: the same seed gives identical results; the table prints every row', () => {
  const a = simulateAsMarket({ paths: 50, seed: 3 });
  const b = simulateAsMarket({ paths: 50, seed: 3 });
  assert.deepEqual(a, b);
  const table = formatAsTable(results);
  assert.equal(table.split('\n').length, 7);
  assert.match(table, /0\.1\s+inventory/);
});

test('bad parameters give clear errors', () => {
  assert.throws(() => simulateAsMarket({ gamma: 0 }), (e: unknown) => e instanceof EngineError && /expected a positive finite number for AS gamma, got 0/.test(e.message));
  assert.throws(() => simulateAsMarket({ steps: 2.5 }), (e: unknown) => e instanceof EngineError && /expected a positive integer for AS steps, got 2.5/.test(e.message));
  assert.throws(() => simulateAsMarket({ paths: 1 }), (e: unknown) => e instanceof EngineError && /AS paths/.test(e.message));
});
