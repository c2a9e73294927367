// Bybit v5 public websocket -> events: orderbook.N.SYMBOL snapshots/deltas (L2) and publicTrade.
// Reads the recorder's wrapper lines ({"t":"recv","conn","ts","data":"<raw>"}) and plain raw v5 messages.
//
// Instruments are keyed by category and symbol: the recorder's "connect" line tells a connection's
// category from its URL (/v5/public/linear -> venue "bybit.linear", /spot -> "bybit.spot"), so spot and
// perpetual BTCUSDT stay apart. Raw lines without a wrapper get venue "bybit".
// Sequencing: seq = u for every book event; deltas carry prev_seq = u - 1 (0 when u = 1, which like
// any snapshot resets the book). A delta whose u is not the previous u + 1 of its instrument is a gap
// (reported; the events keep prev_seq so the engine detects it too and waits for the next snapshot).
// Times: tsExchange = cts (matching engine) else ts for the book, T for each trade; tsLocal = the
// wrapper's receive time, or the message's ts (push time) for raw lines. Streams (whose tsLocal must
// not go back) are the connections, or the topics for raw lines; they are merged by tsLocal.
import { EventKind, EventFlag, Side } from '../core/event';
import {
  ImportOptions, ImportResult, InstrumentRegistry, InstrumentScale, LineParser, ParseContext, ScaleScan, ScanContext, VenueImporter, runImport,
} from './common';
import { LineError, msToNs, parseJson, safeId, secondsToNs } from './fields';
import { LineSource } from './lines';

/** One decoded line: a v5 message with its connection, or a line to skip with a reason. */
type Decoded = { msg: any; conn: string; venue: string; tsLocal?: bigint; wrapperTs?: unknown } | { skip: string };

/** Connection name -> venue, learnt from the recorder's connect lines (per file). */
type Connections = Map<string, string>;

const CATEGORY = /\/v5\/public\/(linear|spot|inverse|option)\b/;

function decodeLine(text: string, conns: Connections): Decoded {
  if (text.trim() === '') return { skip: 'empty line' };
  const o = parseJson(text);
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new LineError('garbage line', 'expected a JSON object');
  if (typeof o.topic === 'string') return { msg: o, conn: '', venue: 'bybit' };
  if (typeof o.t !== 'string') {
    if ('op' in o || 'success' in o) return { skip: 'control message' };
    throw new LineError('garbage line', 'neither a recorder line (t) nor a v5 message (topic)');
  }
  const conn = typeof o.conn === 'string' ? o.conn : '';
  if (o.t === 'connect') {
    const m = typeof o.addr === 'string' ? CATEGORY.exec(o.addr) : null;
    conns.set(conn, m ? `bybit.${m[1]}` : 'bybit');
    return { skip: 'recorder connect line' };
  }
  if (o.t !== 'recv') return { skip: `recorder ${o.t} line` };
  const msg = typeof o.data === 'string' ? parseJson(o.data) : o.data;
  if (msg === null || typeof msg !== 'object') throw new LineError('garbage line', 'recv line without a JSON message in data');
  if (typeof msg.topic !== 'string') return { skip: 'control message' };
  return { msg, conn, venue: conns.get(conn) ?? 'bybit', wrapperTs: o.ts };
}

/** "orderbook.200.BTCUSDT" -> ["orderbook", "BTCUSDT"]; "publicTrade.BTCUSDT" -> ["publicTrade", "BTCUSDT"]. */
function splitTopic(topic: string): [string, string] {
  const parts = topic.split('.');
  return [parts[0], parts[parts.length - 1]];
}

function levelList(v: unknown, what: string): unknown[][] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new LineError('garbage line', `expected a list of [price, size] for ${what}`);
  for (const l of v) if (!Array.isArray(l) || l.length < 2) throw new LineError('garbage line', `expected [price, size] in ${what}, got ${JSON.stringify(l)}`);
  return v as unknown[][];
}

interface BybitScan {
  conns: Map<string, Connections>;
}

export const bybitImporter: VenueImporter<BybitScan> = {
  venue: 'bybit',
  newScan: () => ({ conns: new Map() }),

  scanLine(text: string, scan: BybitScan, ctx: ScanContext): void {
    let conns = scan.conns.get(ctx.file);
    if (!conns) scan.conns.set(ctx.file, (conns = new Map()));
    const d = decodeLine(text, conns);
    if ('skip' in d) return;
    const [kind, topicSymbol] = splitTopic(d.msg.topic);
    if (!ctx.selected(topicSymbol)) return;
    const key = InstrumentRegistry.key(d.venue, topicSymbol);
    if (kind === 'orderbook' || kind === 'publicTrade') ctx.scales.observe(key);
    if (kind === 'orderbook') {
      for (const side of [d.msg.data?.b, d.msg.data?.a]) {
        for (const l of levelList(side, 'levels')) if (typeof l[0] === 'string' && typeof l[1] === 'string') ctx.scales.observe(key, l[0], l[1]);
      }
    } else if (kind === 'publicTrade' && Array.isArray(d.msg.data)) {
      for (const t of d.msg.data) if (t && typeof t.p === 'string' && typeof t.v === 'string') ctx.scales.observe(key, t.p, t.v);
    }
  },

  defineInstruments(_scan: BybitScan, scales: ScaleScan, registry: InstrumentRegistry): void {
    for (const key of scales.keys()) {
      const at = key.lastIndexOf(':');
      const s = scales.get(key);
      registry.define(key.slice(0, at), key.slice(at + 1), 'L2', s.price, s.qty);
    }
  },

  newParser: (_scan: BybitScan, registry: InstrumentRegistry) => new BybitParser(registry),
};

class BybitParser implements LineParser {
  private conns: Connections = new Map();
  private file = '';
  /** Last u per instrument id (undefined: no snapshot yet). */
  private readonly lastU = new Map<number, number>();

  constructor(private readonly registry: InstrumentRegistry) {}

  line(text: string, ctx: ParseContext): void {
    if (ctx.file !== this.file) {
      this.file = ctx.file;
      this.conns = new Map();
    }
    const d = decodeLine(text, this.conns);
    if ('skip' in d) return ctx.skip(d.skip);
    const msg = d.msg;
    const [kind, topicSymbol] = splitTopic(msg.topic);
    if (kind !== 'orderbook' && kind !== 'publicTrade') return ctx.skip(`topic ${kind} (ignored)`);
    if (!ctx.select(topicSymbol)) return;
    const inst = this.registry.get(d.venue, topicSymbol);
    if (!inst) ctx.fail('garbage line', `no ${kind} data for ${topicSymbol}`);
    // With a receive time, one stream per connection; without, one per topic (push times are ordered
    // within a topic, not across topics) and the merge orders the topics by push time.
    const wrapped = d.wrapperTs !== undefined;
    const tsLocal = wrapped ? secondsToNs(d.wrapperTs as number | string, 'receive time') : msToNs(msg.ts, 'message ts');
    const stream = wrapped ? d.conn : msg.topic;
    if (kind === 'orderbook') this.book(msg, inst, stream, tsLocal, ctx);
    else this.trades(msg, inst, stream, tsLocal, ctx);
  }

  private book(msg: any, inst: InstrumentScale, stream: string, tsLocal: bigint, ctx: ParseContext): void {
    const data = msg.data;
    if (!data || typeof data !== 'object') ctx.fail('garbage line', 'orderbook message without data');
    if (data.s !== inst.info.symbol) ctx.fail('unknown symbol', `orderbook data for ${JSON.stringify(data.s)} on topic ${msg.topic}`);
    const snapshot = msg.type === 'snapshot';
    if (!snapshot && msg.type !== 'delta') ctx.fail('garbage line', `unknown orderbook type ${JSON.stringify(msg.type)}`);
    const u = safeId(data.u, 'u');
    const tsExchange = msToNs(msg.cts ?? msg.ts, 'exchange ts');
    // Convert everything before writing, so a bad level drops the whole message, not half of it.
    const bids = levelList(data.b, 'b').map((l) => [ctx.price(inst, l[0]), ctx.qty(inst, l[1], true)] as const);
    const asks = levelList(data.a, 'a').map((l) => [ctx.price(inst, l[0]), ctx.qty(inst, l[1], true)] as const);
    const id = inst.info.id;
    const seq = BigInt(u);
    ctx.begin(stream, tsExchange, tsLocal);
    if (snapshot) {
      ctx.pushSnapshot(inst, seq, bids, asks);
    } else {
      const last = this.lastU.get(id);
      if (u !== 1) {
        if (last === undefined) ctx.gap(inst.info.symbol, 0, u);
        else if (u !== last + 1) ctx.gap(inst.info.symbol, last + 1, u);
      }
      const prev = u === 1 ? 0n : seq - 1n;
      ctx.pushLevelUpdates(inst, seq, prev, bids, asks);
    }
    ctx.end();
    this.lastU.set(id, u);
  }

  private trades(msg: any, inst: InstrumentScale, stream: string, tsLocal: bigint, ctx: ParseContext): void {
    if (!Array.isArray(msg.data)) ctx.fail('garbage line', 'publicTrade message without a data list');
    const rows = msg.data.map((t: any) => {
      if (!t || t.s !== inst.info.symbol) ctx.fail('unknown symbol', `trade for ${JSON.stringify(t?.s)} on topic ${msg.topic}`);
      const side = t.S === 'Buy' ? Side.Bid : t.S === 'Sell' ? Side.Ask : ctx.fail('bad side', `expected taker side Buy|Sell, got ${JSON.stringify(t.S)}`);
      // Block trades (BT) and trades against RPI orders never touched the public book: Hidden.
      const flags = t.BT === true || t.RPI === true ? EventFlag.Hidden : 0;
      return { ts: msToNs(t.T, 'trade time'), side, p: ctx.price(inst, t.p), q: ctx.qty(inst, t.v, false), flags };
    });
    if (rows.length === 0) return ctx.skip('empty trade message');
    ctx.begin(stream, rows[0].ts, tsLocal);
    for (const r of rows) ctx.push(inst, EventKind.Trade, r.side, r.p, r.q, 0n, 0n, 0n, r.flags, r.ts);
    ctx.end();
  }
}

/** Imports Bybit v5 recordings (wrapper or raw lines) into one merged event batch. */
export function importBybit(sources: readonly LineSource[], opts?: ImportOptions): Promise<ImportResult> {
  return runImport(bybitImporter, sources, opts);
}
