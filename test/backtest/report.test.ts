// Report outputs: a valid PNG (chunks, CRCs, inflated size, drawn curves) and a self-contained HTML page.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as zlib from 'zlib';
import { Canvas, encodePng } from '../../src/backtest/png';
import { niceTicks, reportHtml, reportPng } from '../../src/backtest/report';
import { runBacktest } from '../../src/backtest/run';
import { Tape } from '../../src/backtest/tape';
import { generateMarket } from '../../src/sim/generator';

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Parses a PNG, checking every chunk CRC; returns width, height and the inflated scanlines. */
function parsePng(png: Uint8Array): { width: number; height: number; raw: Uint8Array; types: string[] } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  const types: string[] = [];
  while (at < png.length) {
    const len = dv.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    types.push(type);
    const body = png.subarray(at + 8, at + 8 + len);
    assert.equal(dv.getUint32(at + 8 + len), crc32(png.subarray(at + 4, at + 8 + len)), `${type} CRC`);
    if (type === 'IHDR') {
      width = dv.getUint32(at + 8);
      height = dv.getUint32(at + 12);
      assert.deepEqual([...body.subarray(8)], [8, 2, 0, 0, 0]);
    }
    if (type === 'IDAT') idat.push(body);
    at += 12 + len;
  }
  const all = new Uint8Array(idat.reduce((n, b) => n + b.length, 0));
  let k = 0;
  for (const b of idat) {
    all.set(b, k);
    k += b.length;
  }
  return { width, height, raw: new Uint8Array(zlib.inflateSync(all)), types };
}

test('PNG encoder: valid chunks and CRCs, pixels round-trip through zlib', () => {
  const c = new Canvas(7, 3, [255, 255, 255]);
  c.pixel(2, 1, [10, 20, 30]);
  const png = parsePng(encodePng(c));
  assert.deepEqual(png.types, ['IHDR', 'IDAT', 'IEND']);
  assert.equal(png.width, 7);
  assert.equal(png.height, 3);
  assert.equal(png.raw.length, (7 * 3 + 1) * 3);
  const row1 = png.raw.subarray(22, 44);
  assert.equal(row1[0], 0, 'filter byte');
  assert.deepEqual([...row1.subarray(1 + 6, 1 + 9)], [10, 20, 30]);
});

test('nice ticks are round and cover the range', () => {
  assert.deepEqual(niceTicks(0, 10), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(-3, 7), [-2, 0, 2, 4, 6]);
  assert.ok(niceTicks(5, 5).length >= 2);
});

test('report: HTML is self-contained with SVG charts; the PNG draws every strategy', () => {
  const g = generateMarket({ seconds: 120, regime: 'medium', seed: 2 });
  const tape = Tape.fromEvents([g.summary.instrument], g.bytes, { source: 'generated' });
  const r = runBacktest({
    tape, strategies: ['fixed', 'as'], episodeLenNs: 20e9, seed: 1, trainFrac: 0.5, fees: { makerBps: 0, takerBps: 2 }, queue: { model: 'prob-power' },
    latency: { feed: { dist: 'constant', ns: 0 }, entry: { dist: 'constant', ns: 1e6 }, response: { dist: 'constant', ns: 1e6 } }, stepNs: 1e9,
  });
  const html = reportHtml(r);
  assert.equal((html.match(/<svg /g) ?? []).length, 2);
  assert.equal((html.match(/<polyline /g) ?? []).length, 4, 'PnL and inventory per strategy');
  assert.ok(!/<script|<link|<img|src=|url\(/i.test(html), 'no external resources');
  assert.deepEqual(html.match(/https?:\/\/[^"]*/g), ['http://www.w3.org/2000/svg', 'http://www.w3.org/2000/svg']);
  const png = parsePng(reportPng(r));
  assert.equal(png.width, 1200);
  assert.equal(png.height, 820);
  // Both strategies' line colours appear in the image.
  const has = (rgb: number[]): boolean => {
    for (let y = 0; y < png.height; y++) {
      const row = png.raw.subarray(y * (png.width * 3 + 1) + 1, (y + 1) * (png.width * 3 + 1));
      for (let x = 0; x < png.width; x++) if (row[3 * x] === rgb[0] && row[3 * x + 1] === rgb[1] && row[3 * x + 2] === rgb[2]) return true;
    }
    return false;
  };
  assert.ok(has([31, 119, 180]), 'fixed (blue) drawn');
  assert.ok(has([255, 127, 14]), 'as (orange) drawn');
});
