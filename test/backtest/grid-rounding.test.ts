// Grid rounding with a cached cell gives Math.floor / Math.ceil of x / step bit for bit, across drifts, jumps and edges.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { GridRounding } from '../../src/backtest/grid-rounding';
import { Rng } from '../../src/sim/rng';

test('grid rounding: floor and ceil match the division exactly (drift, jumps, cell edges, -0, NaN, step changes)', () => {
  const rng = new Rng(3, 1);
  const g = new GridRounding();
  const xs: number[] = [NaN, -0, 0, 1e-300, -1e-300, 100, 200, -100, Infinity, -Infinity, 2 ** 60];
  let x = 300000.5;
  for (let n = 0; n < 20000; n++) {
    x += rng.uniform() < 0.01 ? (rng.uniform() - 0.5) * 400 : (rng.uniform() - 0.5) * 3;
    xs.push(x);
    const edge = Math.round(x / 100) * 100;
    xs.push(edge, edge + 1e-9, edge - 1e-9, edge * (1 + 2 ** -52), edge * (1 - 2 ** -53));
  }
  for (const step of [100, 1, 7, 100]) {
    for (const v of xs) {
      assert.ok(Object.is(g.floor(v, step), Math.floor(v / step) * step), `floor ${v} / ${step}`);
      assert.ok(Object.is(g.ceil(v, step), Math.ceil(v / step) * step), `ceil ${v} / ${step}`);
    }
  }
});
