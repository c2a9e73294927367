// The replay book's L3 orders, keyed by venue order id: open addressing with linear probing over typed
// arrays (struct of arrays, fields stored in the table itself), so a lookup is one hash and a short probe
// with no Map entry or boxed number per order. Deletion shifts the probe run back (no tombstones).

const MIN_BITS = 12;

export class OrderTable {
  /** Order id (exact below 2^53) per table index. */
  key = new Float64Array(1 << MIN_BITS);
  /** Order side per index: 1 bid, 2 ask; 0 marks an empty index. */
  side = new Uint8Array(1 << MIN_BITS);
  price = new Float64Array(1 << MIN_BITS);
  qty = new Float64Array(1 << MIN_BITS);
  /** FIFO stamp (smaller = earlier at its level). */
  stamp = new Float64Array(1 << MIN_BITS);
  /** 32-bit hash of the key: its home index is hash >>> shift. */
  private hash = new Int32Array(1 << MIN_BITS);
  private shift = 32 - MIN_BITS;
  private mask = (1 << MIN_BITS) - 1;
  private count = 0;

  /** The id from its low and high 32-bit words (the event record's order_id, little-endian); exact below 2^53. */
  static idOf(lo: number, hi: number): number {
    return (hi >>> 0) * 4294967296 + (lo >>> 0);
  }

  /** Hash of an id from the same two words. */
  static hashOf(lo: number, hi: number): number {
    return Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1) | 0;
  }

  /** Index of order `key` (hash from hashOf), or -1 when absent. */
  find(key: number, hash: number): number {
    const side = this.side;
    const keys = this.key;
    const mask = this.mask;
    for (let i = hash >>> this.shift; ; i = (i + 1) & mask) {
      if (side[i] === 0) return -1;
      if (keys[i] === key) return i;
    }
  }

  /** Adds an order that is not in the table (find returned -1). Returns its index. */
  insert(key: number, hash: number, side: number, price: number, qty: number, stamp: number): number {
    if (++this.count * 2 > this.side.length) this.grow();
    return this.place(key, hash, side, price, qty, stamp);
  }

  /** Removes the order at index i: later entries of its probe run move back so that find never stops early. */
  remove(i: number): void {
    const side = this.side;
    const mask = this.mask;
    const shift = this.shift;
    this.count--;
    for (let j = (i + 1) & mask; side[j] !== 0; j = (j + 1) & mask) {
      const home = this.hash[j] >>> shift;
      // Entry j may fill the hole at i only when its home is not cyclically within (i, j].
      if (i <= j ? home > i && home <= j : home > i || home <= j) continue;
      this.move(j, i);
      i = j;
    }
    side[i] = 0;
  }

  clear(): void {
    this.side.fill(0);
    this.count = 0;
  }

  private move(from: number, to: number): void {
    this.key[to] = this.key[from];
    this.hash[to] = this.hash[from];
    this.side[to] = this.side[from];
    this.price[to] = this.price[from];
    this.qty[to] = this.qty[from];
    this.stamp[to] = this.stamp[from];
  }

  private grow(): void {
    const { key, hash, side, price, qty, stamp } = this;
    const n = side.length * 2;
    this.key = new Float64Array(n);
    this.hash = new Int32Array(n);
    this.side = new Uint8Array(n);
    this.price = new Float64Array(n);
    this.qty = new Float64Array(n);
    this.stamp = new Float64Array(n);
    this.shift--;
    this.mask = n - 1;
    for (let j = 0; j < side.length; j++) {
      if (side[j] !== 0) this.place(key[j], hash[j], side[j], price[j], qty[j], stamp[j]);
    }
  }

  /** Writes an entry at the first free index of its probe run; returns that index. */
  private place(key: number, hash: number, side: number, price: number, qty: number, stamp: number): number {
    const mask = this.mask;
    let i = hash >>> this.shift;
    while (this.side[i] !== 0) i = (i + 1) & mask;
    this.key[i] = key;
    this.hash[i] = hash;
    this.side[i] = side;
    this.price[i] = price;
    this.qty[i] = qty;
    this.stamp[i] = stamp;
    return i;
  }
}
