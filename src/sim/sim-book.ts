// The generator's own L2 ladder: two dense Int32Array sides over a window of absolute ticks, with the best
// prices, the outermost non-empty prices and side totals kept up to date. Not for replay (see src/book/).

export class SimBook {
  readonly bid: Int32Array;
  readonly ask: Int32Array;
  /** Absolute tick of index 0. */
  base: number;
  bestBid = -1;
  bestAsk = -1;
  /** Lowest non-empty bid and highest non-empty ask. */
  lowBid = -1;
  highAsk = -1;
  bidTotal = 0;
  askTotal = 0;

  constructor(readonly window: number, center: number) {
    this.bid = new Int32Array(window);
    this.ask = new Int32Array(window);
    this.base = center - (window >> 1);
  }

  bidQty(p: number): number {
    return this.bid[p - this.base];
  }

  askQty(p: number): number {
    return this.ask[p - this.base];
  }

  mid(): number {
    return (this.bestBid + this.bestAsk) / 2;
  }

  /** Sets a bid level's absolute quantity; keeps bests and bounds. The caller keeps the book uncrossed. */
  setBid(p: number, q: number): void {
    const i = p - this.base;
    const old = this.bid[i];
    this.bid[i] = q;
    this.bidTotal += q - old;
    if (q > 0) {
      if (this.bestBid < 0 || p > this.bestBid) this.bestBid = p;
      if (this.lowBid < 0 || p < this.lowBid) this.lowBid = p;
      return;
    }
    if (this.bidTotal === 0) {
      this.bestBid = this.lowBid = -1;
      return;
    }
    if (p === this.bestBid) {
      let j = i - 1;
      while (this.bid[j] === 0) j--;
      this.bestBid = j + this.base;
    }
    if (p === this.lowBid) {
      let j = i + 1;
      while (this.bid[j] === 0) j++;
      this.lowBid = j + this.base;
    }
  }

  setAsk(p: number, q: number): void {
    const i = p - this.base;
    const old = this.ask[i];
    this.ask[i] = q;
    this.askTotal += q - old;
    if (q > 0) {
      if (this.bestAsk < 0 || p < this.bestAsk) this.bestAsk = p;
      if (this.highAsk < 0 || p > this.highAsk) this.highAsk = p;
      return;
    }
    if (this.askTotal === 0) {
      this.bestAsk = this.highAsk = -1;
      return;
    }
    if (p === this.bestAsk) {
      let j = i + 1;
      while (this.ask[j] === 0) j++;
      this.bestAsk = j + this.base;
    }
    if (p === this.highAsk) {
      let j = i - 1;
      while (this.ask[j] === 0) j--;
      this.highAsk = j + this.base;
    }
  }

  /**
   * Moves the window so that absolute tick `center` sits in its middle. The caller guarantees that every
   * non-empty level fits in the new window (the generator prunes levels far from the touch).
   */
  recenter(center: number): void {
    const shift = center - (this.window >> 1) - this.base;
    if (shift === 0) return;
    for (const a of [this.bid, this.ask]) {
      if (shift > 0) {
        a.copyWithin(0, shift);
        a.fill(0, this.window - shift);
      } else {
        a.copyWithin(-shift, 0, this.window + shift);
        a.fill(0, 0, -shift);
      }
    }
    this.base += shift;
  }

  /** True when the whole book sits at least `margin` ticks inside the window. */
  insideWindow(margin: number): boolean {
    return this.lowBid - this.base >= margin && this.base + this.window - 1 - this.highAsk >= margin;
  }
}
