// The replay book's open-addressing order table against a Map, through growth and backward-shift deletes.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { OrderTable } from '../../src/backtest/order-table';
import { Rng } from '../../src/sim/rng';

const split = (id: number): [number, number] => [id % 4294967296 | 0, Math.floor(id / 4294967296) | 0];

test('order table: finds, inserts and removes like a Map (clustered and 53-bit ids, growth, deletes mid-run)', () => {
  const rng = new Rng(7, 1);
  const t = new OrderTable();
  const ref = new Map<number, number>();
  const ids: number[] = [];
  for (let n = 0; n < 60000; n++) {
    const u = rng.uniform();
    if (u < 0.55 || ids.length === 0) {
      // Sequential ids (LOBSTER-like) and a few large ones (53-bit).
      const id = u < 0.5 ? 1000 + n : Math.floor(rng.uniform() * 2 ** 53);
      const [lo, hi] = split(id);
      if (t.find(id, OrderTable.hashOf(lo, hi)) >= 0) continue;
      t.insert(id, OrderTable.hashOf(lo, hi), 1 + (n & 1), id % 997, n, n);
      ref.set(id, n);
      ids.push(id);
    } else {
      const k = Math.floor(rng.uniform() * ids.length);
      const id = ids[k];
      ids[k] = ids[ids.length - 1];
      ids.pop();
      const [lo, hi] = split(id);
      const at = t.find(id, OrderTable.hashOf(lo, hi));
      assert.ok(at >= 0, `id ${id} present`);
      assert.equal(t.qty[at], ref.get(id));
      t.remove(at);
      ref.delete(id);
    }
  }
  for (const [id, q] of ref) {
    const [lo, hi] = split(id);
    const at = t.find(id, OrderTable.hashOf(lo, hi));
    assert.ok(at >= 0);
    assert.equal(t.qty[at], q);
    assert.equal(t.price[at], id % 997);
  }
  assert.equal(t.find(12345678901, OrderTable.hashOf(...split(12345678901))), -1);
  t.clear();
  for (const id of ref.keys()) assert.equal(t.find(id, OrderTable.hashOf(...split(id))), -1);
});
