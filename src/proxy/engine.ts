// The fault engine of one proxied connection: pure, no sockets, no clocks. The I/O shell feeds it
// events (accepted, connected, data, end, error, timer, toxics changed) with the current time and
// executes the commands it returns (connect, read on/off, write, close fin|half|rst, set a timer,
// log a fault). Given the same events and the same random source it returns the same commands,
// so every toxic is tested step by step in engine.test.ts. What each toxic type does is in
// toxic-impl.ts; this file runs them.
//
// Relaying: data from one side passes through the toxics of its stream (Toxiproxy's chain, in the
// order the toxics were added) as timed items; the items leave in order, each no earlier than
// its time. A FIN from one side is relayed as a half-close (shutdown SHUT_WR) to the other; when
// both directions are shut, both sockets are closed. An error (reset) on one side resets the other.
//
// Toxiproxy's restart rules (link.go): adding a toxic restarts the toxic that was last in its
// stream's chain, removing one restarts the toxic before it, updating one restarts it; a restarted
// Toxiproxy toxic draws its toxicity again and starts over (a timeout's timer starts again).
//
// With `toxiproxy: true` (the compatibility mode) the engine also does what Toxiproxy 2.12 does
// where rstlab deliberately differs: a FIN from one side closes the whole connection (no
// half-close is relayed), a reset on one side reaches the other as a plain close, and a
// connection that began while a reset_peer toxic was on the proxy (any stream, any toxicity) has
// SO_LINGER 0 on both sockets, so every close of it is a RST, while a reset_peer added to a live
// connection closes it with FIN.

import { applies, makeToxic, type Ctx, type Dir, type Item, type ToxicImpl } from './toxic-impl.js';
import { streamDir, toxicDef } from './toxics.js';
import type { CloseMode, Command, EngineEvent, FaultRecord, Side, StreamName, ToxicChange, ToxicJson } from './types.js';

export interface EngineOptions {
  /** Random source in [0, 1) for toxicity and jitter (Math.random by default). */
  random?: () => number;
  /** Toxiproxy 2.12's behaviour where rstlab deliberately differs (see the header). */
  toxiproxy?: boolean;
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
  private readonly compat: boolean;
  /** Toxiproxy's SetLinger(0): a reset_peer toxic was on the proxy when the connection's links started. */
  private linger0 = false;

  constructor(toxics: readonly ToxicJson[], opts: EngineOptions = {}) {
    this.rand = opts.random ?? Math.random;
    this.compat = opts.toxiproxy === true;
    const dir = (name: StreamName, from: Side, to: Side): Dir =>
      ({ name, from, to, queue: [], lastAt: 0, timerId: 0, timerAt: Infinity, bytesIn: 0, bytesOut: 0, shut: false });
    this.dirs = { upstream: dir('upstream', 'client', 'upstream'), downstream: dir('downstream', 'upstream', 'client') };
    for (const spec of toxics) this.toxics.push(makeToxic(spec, this.roll(spec)));
    const self = this;
    this.ctx = {
      get now() { return self.now; },
      rand: this.rand,
      compat: this.compat,
      timer: (ms, fn) => this.timer(ms, fn),
      cancelTimer: (id) => { this.timers.delete(id); },
      closeConn: (c, u, f) => this.closeConn(c, u, f),
      shut: (d, f) => { if (!d.shut && !this.closed[d.to]) { d.shut = true; d.queue = []; this.emit({ type: 'fault', fault: f }); this.emit({ type: 'close', side: d.to, mode: 'half' }); this.maybeDone(); } },
      setRead: (side, on) => this.setRead(side, on),
      fault: (f) => this.emit({ type: 'fault', fault: f }),
      dirs: this.dirs,
      inject: (d, items) => this.enqueue(d, items),
    } as Ctx;
  }

  get finished(): boolean { return this.phase === 'finished'; }

  /** Toxiproxy's SO_LINGER 0 is on this connection (compatibility mode): every close of it is a RST. */
  get lingerZero(): boolean { return this.linger0; }

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
        // Toxiproxy starts a connection's links once upstream is dialled; a reset_peer in either
        // chain then sets SO_LINGER 0 on both sockets.
        this.linger0 = this.compat && this.toxics.some((t) => t.spec.type === 'reset_peer');
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
      case 'error': {
        // The socket is gone (reset by its peer, or broken): pass the reset on to the other side
        // (Toxiproxy closes it).
        this.closed[ev.side] = true;
        const m: CloseMode = this.compat ? 'fin' : 'rst';
        this.closeConn(ev.side === 'client' ? null : m, ev.side === 'upstream' ? null : m, null);
        break;
      }
      case 'timer': {
        const fn = this.timers.get(ev.id);
        if (fn) { this.timers.delete(ev.id); fn(); }
        break;
      }
      case 'toxics':
        this.onToxics(ev.toxics, ev.change);
        break;
    }
    return this.out;
  }

  private emit(c: Command): void { this.out.push(c); }

  private roll(spec: ToxicJson): boolean {
    return spec.toxicity >= 1 || this.rand() < spec.toxicity;
  }

  /** A close as this connection makes it: with Toxiproxy's SetLinger(0), every close is a RST. */
  private mode(m: CloseMode): CloseMode {
    return this.linger0 && m === 'fin' ? 'rst' : m;
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

  /** The toxics of one stream, in chain order. */
  private chain(dir: StreamName, list: readonly ToxicImpl[] = this.toxics): ToxicImpl[] {
    return list.filter((t) => streamDir(t.spec) === dir);
  }

  /** Toxiproxy's restart of a toxic's Pipe: a new toxicity draw, and the toxic starts over. */
  private restart(t: ToxicImpl | undefined): void {
    if (!t || toxicDef(t.spec.type)?.origin !== 'toxiproxy') return;
    const was = t.on;
    t.on = this.roll(t.spec);
    if (this.phase === 'open' && (was || t.on)) t.onRestart?.(this.ctx, t.on);
  }

  private onToxics(specs: readonly ToxicJson[], change?: ToxicChange): void {
    const old = new Map(this.toxics.map((t) => [t.spec.name, t]));
    const before = this.toxics;
    const next: ToxicImpl[] = [];
    const added: ToxicImpl[] = [];
    for (const spec of specs) {
      const have = old.get(spec.name);
      if (have && have.spec.type === spec.type) {
        const changed = JSON.stringify(have.spec) !== JSON.stringify(spec);
        have.spec = spec;
        // rstlab's own toxics draw again when they change; Toxiproxy's follow its restart rules below.
        if (changed && (!change || toxicDef(spec.type)?.origin !== 'toxiproxy')) have.on = this.roll(spec);
        next.push(have);
        old.delete(spec.name);
      } else {
        const impl = makeToxic(spec, this.roll(spec));
        next.push(impl);
        added.push(impl);
      }
    }
    this.toxics = next;
    for (const gone of old.values()) {
      if (gone.on && gone.onRemove && this.phase === 'open') gone.onRemove(this.ctx);
      if (this.phase === 'open') this.release(gone);
    }
    if (change?.kind === 'add') {
      const t = added.find((x) => x.spec.name === change.name);
      if (t) this.restart(this.chain(streamDir(t.spec), before).at(-1));
    } else if (change?.kind === 'update') {
      this.restart(next.find((x) => x.spec.name === change.name));
    } else if (change?.kind === 'remove') {
      const gone = before.find((x) => x.spec.name === change.name);
      if (gone) {
        const c = this.chain(streamDir(gone.spec), before);
        const i = c.indexOf(gone);
        if (i > 0 && this.phase === 'open') this.restart(c[i - 1]);
      }
    }
    if (this.phase === 'open') for (const t of added) if (t.on && t.onStart && this.phase === 'open') t.onStart(this.ctx, true);
  }

  /**
   * A Toxiproxy toxic was removed: what it still held leaves without its delay (Toxiproxy's
   * RemoveToxic interrupts it, and a latency or bandwidth toxic then passes on at once what it
   * holds). Data already past it in the chain keeps the delays of the toxics after it.
   */
  private release(gone: ToxicImpl): void {
    for (const d of [this.dirs.upstream, this.dirs.downstream]) {
      let changed = false;
      for (const it of d.queue) {
        const parts = it.parts;
        const i = parts?.findIndex(([t]) => t === gone) ?? -1;
        if (!parts || i < 0) continue;
        const leaves = (it.t0 ?? it.at) + parts.slice(0, i + 1).reduce((sum, [, ms]) => sum + ms, 0);
        if (this.now >= leaves) continue;
        it.at = Math.max(this.now, it.at - parts[i][1]);
        parts.splice(i, 1);
        changed = true;
      }
      if (!changed) continue;
      // Keep the order: no item leaves before the one ahead of it.
      let last = this.now;
      for (const it of d.queue) { it.at = Math.max(it.at, last); last = it.at; }
      d.lastAt = last;
      d.timerAt = Infinity;
      this.flush(d);
    }
  }

  /** Run an item through the toxics of its stream, then queue it. */
  private push(d: Dir, item: Item): void {
    if (this.phase !== 'open') return;
    item.t0 = item.at;
    let items: Item[] = [item];
    for (const t of this.toxics) {
      if (this.phase !== 'open') return;
      if (applies(t, d)) {
        for (const it of items) it.atIn = it.at;
        items = t.onItems!(d, items, this.ctx);
        // Remember the delay each Toxiproxy toxic added: removing it gives that delay back.
        if (toxicDef(t.spec.type)?.origin === 'toxiproxy') {
          for (const it of items) {
            const added = it.at - (it.atIn ?? it.at);
            if (added > 0) (it.parts ??= []).push([t, added]);
          }
        }
      }
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
        if (this.compat) {
          // Toxiproxy: the end of a stream closes its destination; reading that socket then fails
          // and the other stream ends too, so the whole connection closes.
          this.closed[d.to] = true;
          this.emit({ type: 'close', side: d.to, mode: this.mode('fin') });
          const other = d === this.dirs.upstream ? this.dirs.downstream : this.dirs.upstream;
          if (!other.shut) { this.reading[d.to] = false; this.push(other, { at: this.now, end: true }); }
          this.maybeDone();
          return;
        }
        this.emit({ type: 'close', side: d.to, mode: 'half' });
        this.maybeDone();
      }
    }
  }

  /** Both directions shut: close both descriptors. */
  private maybeDone(): void {
    if (this.dirs.upstream.shut && this.dirs.downstream.shut && this.phase === 'open') this.closeConn(this.mode('fin'), this.mode('fin'), null);
  }

  private closeConn(client: CloseMode | null, upstream: CloseMode | null, f: FaultRecord | null): void {
    if (this.phase === 'finished') return;
    if (f) this.emit({ type: 'fault', fault: f });
    if (client) client = this.mode(client);
    if (upstream) upstream = this.mode(upstream);
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
