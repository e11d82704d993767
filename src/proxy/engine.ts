// The fault engine of one proxied connection: pure, no sockets, no clocks. The I/O shell feeds it
// events (accepted, connected, data, end, error, timer, toxics changed) with the current time and
// executes the commands it returns (connect, read on/off, write, close fin|half|rst, set a timer,
// log a fault). Given the same events and the same random source it returns the same commands,
// so every toxic is tested step by step in engine.test.ts.
//
// Relaying: data from one side passes through the toxics of its stream (Toxiproxy's chain, in the
// order the toxics were added) as timed items; the items leave in order, each no earlier than
// its time. A FIN from one side is relayed as a half-close (shutdown SHUT_WR) to the other; when
// both directions are shut, both sockets are closed. An error (reset) on one side resets the other.

import { numAttr, strAttr, toxicDef } from './toxics.js';
import type { CloseMode, Command, EngineEvent, FaultRecord, Side, StreamName, ToxicJson } from './types.js';

/** A unit in a stream's queue: data, the end of the stream (FIN), or a deferred action. */
export interface Item {
  at: number;
  chunk?: Uint8Array;
  end?: true;
  action?: () => void;
}

interface Dir {
  name: StreamName;
  from: Side;
  to: Side;
  queue: Item[];
  lastAt: number;
  /** The timer that will flush the queue, if one is set. */
  timerId: number;
  timerAt: number;
  /** Bytes read from `from` and written to `to`. */
  bytesIn: number;
  bytesOut: number;
  /** The end (FIN) was relayed to `to`, or writing to `to` was shut down by a fault. */
  shut: boolean;
}

interface Ctx {
  now: number;
  rand: () => number;
  timer(ms: number, fn: () => void): void;
  closeConn(client: CloseMode | null, upstream: CloseMode | null, fault: FaultRecord): void;
  shut(dir: Dir, fault: FaultRecord): void;
  setRead(side: Side, on: boolean): void;
  fault(f: FaultRecord): void;
  dirs: Record<StreamName, Dir>;
  /** Forward items straight into a stream's queue, skipping the toxics. */
  inject(dir: Dir, items: Item[]): void;
}

interface ToxicImpl {
  spec: ToxicJson;
  /** The toxicity roll for this connection: false means the toxic is a no-op here. */
  on: boolean;
  /** Connection-level: may take over a fresh connection; returns true if it did. */
  onAccept?(ctx: Ctx): boolean;
  /** The connection is set up (or the toxic was added to a set-up connection). */
  onStart?(ctx: Ctx, added: boolean): void;
  onItems?(dir: Dir, items: Item[], ctx: Ctx): Item[];
  onRemove?(ctx: Ctx): void;
}

const fault = (t: ToxicJson, action: string, detail?: string): FaultRecord => {
  const claims = toxicDef(t.type)?.claims;
  return { toxic: t.name, toxicType: t.type, stream: t.stream, action, ...(claims ? { claim: claims.join(' ') } : {}), ...(detail ? { detail } : {}) };
};

function applies(impl: ToxicImpl, dir: Dir): boolean {
  if (!impl.on || !impl.onItems) return false;
  return toxicDef(impl.spec.type)?.scope === 'connection' || impl.spec.stream === dir.name;
}

/** Build the implementation of one toxic. Attributes are read from `spec` each time (updates apply). */
function makeToxic(spec: ToxicJson, on: boolean): ToxicImpl {
  const impl: ToxicImpl = { spec, on };
  const t = () => impl.spec;
  switch (spec.type) {
    case 'latency':
      impl.onItems = (_d, items, ctx) => {
        for (const it of items) {
          const jitter = numAttr(t(), 'jitter');
          const j = jitter > 0 ? Math.round((ctx.rand() * 2 - 1) * jitter) : 0;
          it.at += Math.max(0, numAttr(t(), 'latency') + j);
        }
        return items;
      };
      return impl;
    case 'bandwidth': {
      let freeAt = 0;
      impl.onItems = (_d, items) => {
        const rate = numAttr(t(), 'rate'); // KB/s = bytes per ms
        if (rate <= 0) return items;
        const out: Item[] = [];
        const slice = Math.max(1, rate * 100); // at most 100 ms of data per piece
        for (const it of items) {
          if (!it.chunk) { it.at = Math.max(it.at, freeAt); out.push(it); continue; }
          for (let off = 0; off < it.chunk.length; off += slice) {
            const piece = it.chunk.subarray(off, Math.min(it.chunk.length, off + slice));
            const start = Math.max(it.at, freeAt);
            freeAt = start + piece.length / rate;
            out.push({ at: freeAt, chunk: piece });
          }
        }
        return out;
      };
      return impl;
    }
    case 'slow_close':
      impl.onItems = (_d, items) => {
        for (const it of items) if (it.end) it.at += numAttr(t(), 'delay');
        return items;
      };
      return impl;
    case 'timeout': {
      impl.onStart = (ctx) => {
        const ms = numAttr(t(), 'timeout');
        if (ms > 0) ctx.timer(ms, () => ctx.closeConn('fin', 'fin', fault(t(), 'fin client+upstream', `after ${ms} ms of dropped data`)));
      };
      impl.onItems = (_d, items, ctx) => {
        const dropped = items.filter((i) => i.chunk).length;
        if (dropped > 0) ctx.fault(fault(t(), 'drop', `${dropped} chunk(s)`));
        return items.filter((i) => !i.chunk);
      };
      // Toxiproxy's timeout toxic closes the link when removed (its Cleanup): the data is gone.
      impl.onRemove = (ctx) => ctx.closeConn('fin', 'fin', fault(t(), 'fin client+upstream', 'timeout toxic removed'));
      return impl;
    }
    case 'reset_peer': {
      let fired = false;
      impl.onItems = (_d, items, ctx) => {
        if (items.length === 0) return items;
        if (!fired) {
          fired = true;
          const ms = numAttr(t(), 'timeout');
          const act = () => ctx.closeConn('rst', 'rst', fault(t(), 'rst client+upstream'));
          if (ms > 0) ctx.timer(ms, act); else act();
        }
        return [];
      };
      return impl;
    }
    case 'slicer':
      impl.onItems = (_d, items, ctx) => {
        const avg = numAttr(t(), 'average_size');
        if (avg <= 0) return items;
        const vary = Math.min(numAttr(t(), 'size_variation'), avg - 1);
        const delay = numAttr(t(), 'delay') / 1000;
        const out: Item[] = [];
        for (const it of items) {
          if (!it.chunk) { out.push(it); continue; }
          let off = 0;
          let at = it.at;
          while (off < it.chunk.length) {
            const size = Math.max(1, avg + (vary > 0 ? Math.round((ctx.rand() * 2 - 1) * vary) : 0));
            out.push({ at, chunk: it.chunk.subarray(off, Math.min(it.chunk.length, off + size)) });
            off += size;
            at += delay;
          }
        }
        return out;
      };
      return impl;
    case 'limit_data': {
      let sent = 0;
      let done = false;
      impl.onItems = (_d, items, ctx) => {
        const out: Item[] = [];
        for (const it of items) {
          if (done) continue;
          if (!it.chunk) { out.push(it); continue; }
          const room = numAttr(t(), 'bytes') - sent;
          const chunk = room < it.chunk.length ? it.chunk.subarray(0, Math.max(0, room)) : it.chunk;
          if (chunk.length > 0) out.push({ at: it.at, chunk });
          sent += chunk.length;
          if (sent >= numAttr(t(), 'bytes')) {
            done = true;
            out.push({ at: it.at, action: () => ctx.closeConn('fin', 'fin', fault(t(), 'fin client+upstream', `after ${sent} bytes`)) });
          }
        }
        return out;
      };
      return impl;
    }
    case 'reset_connect':
      impl.onAccept = (ctx) => {
        const ms = numAttr(t(), 'delay');
        const act = () => ctx.closeConn('rst', null, fault(t(), 'rst client', 'accepted, never dialled upstream'));
        if (ms > 0) ctx.timer(ms, act); else act();
        return true;
      };
      return impl;
    case 'close_unread':
      impl.onAccept = (ctx) => {
        ctx.timer(numAttr(t(), 'delay'), () =>
          ctx.closeConn('fin', null, fault(t(), 'close client unread', 'close(2) without reading: RST if data was queued, else FIN')));
        return true;
      };
      return impl;
    case 'fin_then_rst':
      impl.onStart = (ctx, added) => {
        if (added) return;
        const act = () => ctx.closeConn('fin', 'fin', fault(t(), 'fin client+upstream', 'killed proxy: close(2) both sockets; the kernel resets the next data'));
        const ms = numAttr(t(), 'delay');
        if (ms > 0) ctx.timer(ms, act); else act();
      };
      return impl;
    case 'reset_after_bytes': {
      let passed = 0;
      let fired = false;
      impl.onItems = (_d, items, ctx) => {
        const out: Item[] = [];
        for (const it of items) {
          if (fired) continue;
          if (!it.chunk) { out.push(it); continue; }
          const room = numAttr(t(), 'bytes') - passed;
          const chunk = room < it.chunk.length ? it.chunk.subarray(0, Math.max(0, room)) : it.chunk;
          if (chunk.length > 0) out.push({ at: it.at, chunk });
          passed += chunk.length;
          if (passed >= numAttr(t(), 'bytes')) {
            fired = true;
            out.push({ at: it.at, action: () => ctx.closeConn('rst', 'rst', fault(t(), 'rst client+upstream', `after ${passed} bytes ${t().stream}`)) });
          }
        }
        return out;
      };
      return impl;
    }
    case 'abort_mid_response': {
      let armed = false;
      let replied = 0;
      let fired = false;
      impl.onItems = (dir, items, ctx) => {
        if (dir.name === 'upstream') {
          if (items.some((i) => i.chunk && i.chunk.length > 0)) { armed = true; replied = 0; }
          return items;
        }
        if (!armed || fired) return fired ? [] : items;
        const out: Item[] = [];
        for (const it of items) {
          if (fired) continue;
          if (!it.chunk) { out.push(it); continue; }
          const room = numAttr(t(), 'bytes') - replied;
          const chunk = room < it.chunk.length ? it.chunk.subarray(0, Math.max(0, room)) : it.chunk;
          if (chunk.length > 0) out.push({ at: it.at, chunk });
          replied += chunk.length;
          if (replied >= numAttr(t(), 'bytes')) {
            fired = true;
            const mode = strAttr(t(), 'mode') === 'fin' ? 'fin' : 'rst';
            out.push({ at: it.at, action: () => ctx.closeConn(mode, 'rst', fault(t(), `${mode} client, rst upstream`, `after ${replied} reply bytes`)) });
          }
        }
        return out;
      };
      return impl;
    }
    case 'half_close':
      impl.onStart = (ctx, added) => {
        if (added) return;
        const dir = ctx.dirs[t().stream];
        const act = () => ctx.shut(dir, fault(t(), `fin ${dir.to} (half-close)`, `shutdown(SHUT_WR) toward the ${dir.to}; reading goes on`));
        const ms = numAttr(t(), 'delay');
        if (ms > 0) ctx.timer(ms, act); else act();
      };
      return impl;
    case 'blackhole': {
      let held: Item[] = [];
      let noted = false;
      impl.onStart = (ctx) => {
        ctx.setRead(ctx.dirs[t().stream].from, false);
        ctx.fault(fault(t(), `stop reading ${ctx.dirs[t().stream].from}`));
      };
      impl.onItems = (_d, items) => {
        // Chunks already read before the socket was paused are held, not lost.
        held.push(...items);
        noted = true;
        return [];
      };
      impl.onRemove = (ctx) => {
        const dir = ctx.dirs[t().stream];
        const items = held;
        held = [];
        for (const it of items) it.at = ctx.now;
        if (noted || items.length) ctx.inject(dir, items);
        ctx.setRead(dir.from, true);
      };
      return impl;
    }
    case 'kill':
      impl.onStart = (ctx, added) => {
        if (added) ctx.closeConn('fin', 'fin', fault(t(), 'fin client+upstream', 'crashed proxy: every live connection closed at once'));
      };
      return impl;
    default:
      return impl; // unknown types never get here: the API rejects them
  }
}

export interface EngineOptions {
  /** Random source in [0, 1) for toxicity and jitter (Math.random by default). */
  random?: () => number;
}

export class ConnectionEngine {
  private readonly rand: () => number;
  private toxics: ToxicImpl[] = [];
  private phase: 'new' | 'connecting' | 'open' | 'finished' = 'new';
  private readonly timers = new Map<number, () => void>();
  private nextTimer = 1;
  private out: Command[] = [];
  private now = 0;
  private readonly closed: Record<Side, boolean> = { client: false, upstream: false };
  private readonly reading: Record<Side, boolean> = { client: false, upstream: false };
  readonly dirs: Record<StreamName, Dir>;
  private readonly ctx: Ctx;

  constructor(toxics: readonly ToxicJson[], opts: EngineOptions = {}) {
    this.rand = opts.random ?? Math.random;
    const dir = (name: StreamName, from: Side, to: Side): Dir =>
      ({ name, from, to, queue: [], lastAt: 0, timerId: 0, timerAt: Infinity, bytesIn: 0, bytesOut: 0, shut: false });
    this.dirs = { upstream: dir('upstream', 'client', 'upstream'), downstream: dir('downstream', 'upstream', 'client') };
    for (const spec of toxics) this.toxics.push(makeToxic(spec, this.roll(spec)));
    const self = this;
    this.ctx = {
      get now() { return self.now; },
      rand: this.rand,
      timer: (ms, fn) => this.timer(ms, fn),
      closeConn: (c, u, f) => this.closeConn(c, u, f),
      shut: (d, f) => { if (!d.shut && !this.closed[d.to]) { d.shut = true; d.queue = []; this.emit({ type: 'fault', fault: f }); this.emit({ type: 'close', side: d.to, mode: 'half' }); this.maybeDone(); } },
      setRead: (side, on) => this.setRead(side, on),
      fault: (f) => this.emit({ type: 'fault', fault: f }),
      dirs: this.dirs,
      inject: (d, items) => this.enqueue(d, items),
    } as Ctx;
  }

  get finished(): boolean { return this.phase === 'finished'; }

  /** Feed one event; returns the commands to execute, in order. */
  handle(ev: EngineEvent): Command[] {
    this.out = [];
    this.now = ev.now;
    if (this.phase === 'finished') return this.out;
    switch (ev.type) {
      case 'accepted':
        this.onAccepted();
        break;
      case 'connected':
        if (this.phase !== 'connecting') break;
        this.phase = 'open';
        this.setRead('client', true);
        this.setRead('upstream', true);
        for (const t of this.toxics) if (t.on && t.onStart) t.onStart(this.ctx, false);
        break;
      case 'connect-failed':
        this.closeConn('fin', null, null);
        break;
      case 'data': {
        const d = ev.from === 'client' ? this.dirs.upstream : this.dirs.downstream;
        d.bytesIn += ev.chunk.length;
        this.push(d, { at: this.now, chunk: ev.chunk });
        break;
      }
      case 'end': {
        const d = ev.from === 'client' ? this.dirs.upstream : this.dirs.downstream;
        this.push(d, { at: this.now, end: true });
        break;
      }
      case 'error':
        // The socket is gone (reset by its peer, or broken): pass the reset on to the other side.
        this.closed[ev.side] = true;
        this.closeConn(ev.side === 'client' ? null : 'rst', ev.side === 'upstream' ? null : 'rst', null);
        break;
      case 'timer': {
        const fn = this.timers.get(ev.id);
        if (fn) { this.timers.delete(ev.id); fn(); }
        break;
      }
      case 'toxics':
        this.onToxics(ev.toxics);
        break;
    }
    return this.out;
  }

  private emit(c: Command): void { this.out.push(c); }

  private roll(spec: ToxicJson): boolean {
    return spec.toxicity >= 1 || this.rand() < spec.toxicity;
  }

  private timer(ms: number, fn: () => void): number {
    const id = this.nextTimer++;
    this.timers.set(id, fn);
    this.emit({ type: 'set-timer', id, ms: Math.max(0, ms) });
    return id;
  }

  private setRead(side: Side, on: boolean): void {
    if (this.closed[side] || this.reading[side] === on) return;
    this.reading[side] = on;
    this.emit({ type: 'read', side, on });
  }

  private onAccepted(): void {
    for (const t of this.toxics) {
      if (t.on && t.onAccept && t.onAccept(this.ctx)) return; // the toxic owns the connection now
    }
    this.phase = 'connecting';
    this.emit({ type: 'connect-upstream' });
  }

  private onToxics(specs: readonly ToxicJson[]): void {
    const old = new Map(this.toxics.map((t) => [t.spec.name, t]));
    const next: ToxicImpl[] = [];
    const added: ToxicImpl[] = [];
    for (const spec of specs) {
      const have = old.get(spec.name);
      if (have && have.spec.type === spec.type) {
        if (JSON.stringify(have.spec) !== JSON.stringify(spec)) { have.spec = spec; have.on = this.roll(spec); }
        next.push(have);
        old.delete(spec.name);
      } else {
        const impl = makeToxic(spec, this.roll(spec));
        next.push(impl);
        added.push(impl);
      }
    }
    this.toxics = next;
    for (const gone of old.values()) if (gone.on && gone.onRemove && this.phase === 'open') gone.onRemove(this.ctx);
    if (this.phase === 'open') for (const t of added) if (t.on && t.onStart && this.phase === 'open') t.onStart(this.ctx, true);
  }

  /** Run an item through the toxics of its stream, then queue it. */
  private push(d: Dir, item: Item): void {
    if (this.phase !== 'open') return;
    let items: Item[] = [item];
    for (const t of this.toxics) {
      if (this.phase !== 'open') return;
      if (applies(t, d)) items = t.onItems!(d, items, this.ctx);
      if (items.length === 0) break;
    }
    if (this.phase !== 'open') return;
    this.enqueue(d, items);
  }

  private enqueue(d: Dir, items: Item[]): void {
    for (const it of items) {
      it.at = Math.max(it.at, d.lastAt);
      d.lastAt = it.at;
      d.queue.push(it);
    }
    this.flush(d);
  }

  private flush(d: Dir): void {
    while (d.queue.length > 0 && this.phase === 'open') {
      const head = d.queue[0];
      if (head.at > this.now) {
        if (d.timerAt > head.at || !this.timers.has(d.timerId)) {
          d.timerAt = head.at;
          d.timerId = this.timer(head.at - this.now, () => { d.timerAt = Infinity; this.flush(d); });
        }
        return;
      }
      d.queue.shift();
      if (head.action) { head.action(); continue; }
      if (d.shut || this.closed[d.to]) continue;
      if (head.chunk) {
        if (head.chunk.length === 0) continue;
        d.bytesOut += head.chunk.length;
        this.emit({ type: 'write', to: d.to, chunk: head.chunk });
      } else if (head.end) {
        d.shut = true;
        this.emit({ type: 'close', side: d.to, mode: 'half' });
        this.maybeDone();
      }
    }
  }

  /** Both directions shut: close both descriptors. */
  private maybeDone(): void {
    if (this.dirs.upstream.shut && this.dirs.downstream.shut && this.phase === 'open') this.closeConn('fin', 'fin', null);
  }

  private closeConn(client: CloseMode | null, upstream: CloseMode | null, f: FaultRecord | null): void {
    if (this.phase === 'finished') return;
    if (f) this.emit({ type: 'fault', fault: f });
    if (client && !this.closed.client) { this.closed.client = true; this.emit({ type: 'close', side: 'client', mode: client }); }
    if (this.phase === 'connecting' && !this.closed.upstream) upstream = upstream ?? 'rst';
    if (upstream && !this.closed.upstream && this.phase !== 'new') { this.closed.upstream = true; this.emit({ type: 'close', side: 'upstream', mode: upstream }); }
    this.phase = 'finished';
    this.timers.clear();
    this.dirs.upstream.queue = [];
    this.dirs.downstream.queue = [];
    this.emit({ type: 'finished' });
  }
}
