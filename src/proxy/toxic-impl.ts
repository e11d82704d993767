// What each toxic type does to a connection, one small factory per type in TOXIC_FACTORIES.
// Contract: a factory turns a toxic (read through a getter, so updated attributes apply) into hooks
// the engine calls: onAccept may take over a fresh connection, onStart runs when the connection is
// set up or the toxic is added to a set-up one, onItems rewrites the timed items of a stream,
// onRemove runs when the toxic is removed from a live connection, onRestart when Toxiproxy would
// restart its Pipe (a neighbour added or removed, the toxic updated). Hooks act only through the Ctx
// the engine gives them (no sockets, no clock of their own); every type in toxics.ts's TOXICS has
// exactly one factory, which the compiler checks.

import { numAttr, strAttr, streamDir, toxicDef, type ToxicType } from './toxics.js';
import type { CloseMode, FaultRecord, Side, StreamName, ToxicJson } from './types.js';

/** A unit in a stream's queue: data, the end of the stream (FIN), or a deferred action. */
export interface Item {
  at: number;
  chunk?: Uint8Array;
  end?: true;
  action?: () => void;
  /** When the data was read (the engine's bookkeeping, so a removed toxic can give back its delay). */
  t0?: number;
  /** `at` before the toxic now running, and the delay each toxic added, in chain order. */
  atIn?: number;
  parts?: Array<[ToxicImpl, number]>;
}

/** A piece of `parent` leaving at `at`: it keeps the parent's bookkeeping. */
export function pieceOf(parent: Item, at: number, chunk: Uint8Array): Item {
  return { at, chunk, t0: parent.t0, atIn: parent.atIn, parts: parent.parts?.slice() };
}

/** One direction of a connection, as the engine keeps it. */
export interface Dir {
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

/** What the engine lets a toxic do. */
export interface Ctx {
  now: number;
  rand: () => number;
  /** Toxiproxy compatibility mode (engine.ts header). */
  compat: boolean;
  timer(ms: number, fn: () => void): number;
  cancelTimer(id: number): void;
  closeConn(client: CloseMode | null, upstream: CloseMode | null, fault: FaultRecord): void;
  shut(dir: Dir, fault: FaultRecord): void;
  setRead(side: Side, on: boolean): void;
  fault(f: FaultRecord): void;
  dirs: Record<StreamName, Dir>;
  /** Forward items straight into a stream's queue, skipping the toxics. */
  inject(dir: Dir, items: Item[]): void;
}

export interface ToxicHooks {
  /** Connection-level: may take over a fresh connection; returns true if it did. */
  onAccept?(ctx: Ctx): boolean;
  /** The connection is set up (`added` false), or the toxic was added to a set-up connection (true). */
  onStart?(ctx: Ctx, added: boolean): void;
  onItems?(dir: Dir, items: Item[], ctx: Ctx): Item[];
  onRemove?(ctx: Ctx): void;
  /** Toxiproxy restarted the toxic's Pipe on a live connection; `on` is its new toxicity draw. */
  onRestart?(ctx: Ctx, on: boolean): void;
}

export interface ToxicImpl extends ToxicHooks {
  spec: ToxicJson;
  /** The toxicity roll for this connection: false means the toxic is a no-op here. */
  on: boolean;
}

/** Builds the hooks of one toxic; `t()` is the toxic's current spec. */
type ToxicFactory = (t: () => ToxicJson) => ToxicHooks;

const fault = (t: ToxicJson, action: string, detail?: string): FaultRecord => {
  const claims = toxicDef(t.type)?.claims;
  return { toxic: t.name, toxicType: t.type, stream: streamDir(t), action, ...(claims ? { claim: claims.join(' ') } : {}), ...(detail ? { detail } : {}) };
};

/** Run `act` after `ms` milliseconds, or at once when `ms` is 0. */
function afterMs(ctx: Ctx, ms: number, act: () => void): void {
  if (ms > 0) ctx.timer(ms, act); else act();
}

/**
 * The byte count of a toxic that lets a fixed number of bytes through. `pass` relays chunks until
 * `limit` bytes have passed in all (cutting the chunk that reaches it), then queues the action
 * that `onLimit` returns (called once, when the limit is reached) and drops every later item.
 * FINs and actions before the limit pass unchanged.
 */
class ByteLimit {
  passed = 0;
  reached = false;

  pass(items: Item[], limit: number, onLimit: () => () => void): Item[] {
    const out: Item[] = [];
    for (const it of items) {
      if (this.reached) continue;
      if (!it.chunk) { out.push(it); continue; }
      const room = limit - this.passed;
      const chunk = room < it.chunk.length ? it.chunk.subarray(0, Math.max(0, room)) : it.chunk;
      if (chunk.length > 0) out.push(pieceOf(it, it.at, chunk));
      this.passed += chunk.length;
      if (this.passed >= limit) {
        this.reached = true;
        out.push({ at: it.at, action: onLimit() });
      }
    }
    return out;
  }
}

const TOXIC_FACTORIES: { readonly [K in ToxicType]: ToxicFactory } = {
  noop: () => ({ onItems: (_d, items) => items }),

  latency: (t) => ({
    onItems: (_d, items, ctx) => {
      for (const it of items) {
        const jitter = numAttr(t(), 'jitter');
        const j = jitter > 0 ? Math.round((ctx.rand() * 2 - 1) * jitter) : 0;
        it.at += Math.max(0, numAttr(t(), 'latency') + j);
      }
      return items;
    },
  }),

  bandwidth: (t) => {
    let freeAt = 0;
    return {
      onItems: (_d, items) => {
        const rate = numAttr(t(), 'rate'); // KB/s = bytes per ms
        if (rate <= 0) return items;
        const out: Item[] = [];
        const slice = Math.max(1, rate * 100); // at most 100 ms of data per piece
        for (const it of items) {
          if (!it.chunk) { it.at = Math.max(it.at, freeAt); out.push(it); continue; }
          for (let off = 0; off < it.chunk.length; off += slice) {
            const part = it.chunk.subarray(off, Math.min(it.chunk.length, off + slice));
            const start = Math.max(it.at, freeAt);
            freeAt = start + part.length / rate;
            out.push(pieceOf(it, freeAt, part));
          }
        }
        return out;
      },
    };
  },

  slow_close: (t) => ({
    onItems: (_d, items) => {
      for (const it of items) if (it.end) it.at += numAttr(t(), 'delay');
      return items;
    },
  }),

  timeout: (t) => {
    // Toxiproxy's TimeoutToxic waits `timeout` ms for the next chunk: every chunk starts the wait
    // again, and so does a restart of the toxic.
    let timerId = 0;
    const arm = (ctx: Ctx) => {
      if (timerId) ctx.cancelTimer(timerId);
      timerId = 0;
      const ms = numAttr(t(), 'timeout');
      if (ms > 0) timerId = ctx.timer(ms, () => ctx.closeConn('fin', 'fin', fault(t(), 'fin client+upstream', `no data for ${ms} ms`)));
    };
    return {
      onStart: (ctx) => arm(ctx),
      onRestart: (ctx, on) => { if (on) arm(ctx); else if (timerId) { ctx.cancelTimer(timerId); timerId = 0; } },
      onItems: (_d, items, ctx) => {
        const dropped = items.filter((i) => i.chunk).length;
        if (items.length > 0) arm(ctx);
        if (dropped > 0) ctx.fault(fault(t(), 'drop', `${dropped} chunk(s)`));
        return items.filter((i) => !i.chunk);
      },
      // Toxiproxy's timeout toxic closes the link when removed (its Cleanup): the data is gone.
      onRemove: (ctx) => ctx.closeConn('fin', 'fin', fault(t(), 'fin client+upstream', 'timeout toxic removed')),
    };
  },

  reset_peer: (t) => {
    let fired = false;
    let addedLive = false;
    return {
      onStart: (_ctx, added) => { addedLive = added; },
      onItems: (_d, items, ctx) => {
        if (items.length === 0) return items;
        if (!fired) {
          fired = true;
          // Toxiproxy sets SO_LINGER 0 only on connections that began with the toxic on the
          // proxy; one added to a live connection closes it with FIN (compatibility mode).
          const mode = ctx.compat && addedLive ? 'fin' : 'rst';
          afterMs(ctx, numAttr(t(), 'timeout'), () => ctx.closeConn(mode, mode, fault(t(), `${mode} client+upstream`)));
        }
        return [];
      },
    };
  },

  slicer: (t) => ({
    onItems: (_d, items, ctx) => {
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
          out.push(pieceOf(it, at, it.chunk.subarray(off, Math.min(it.chunk.length, off + size))));
          off += size;
          at += delay;
        }
      }
      return out;
    },
  }),

  limit_data: (t) => {
    const count = new ByteLimit();
    return {
      onItems: (_d, items, ctx) => count.pass(items, numAttr(t(), 'bytes'),
        () => () => ctx.closeConn('fin', 'fin', fault(t(), 'fin client+upstream', `after ${count.passed} bytes`))),
    };
  },

  reset_connect: (t) => ({
    onAccept: (ctx) => {
      afterMs(ctx, numAttr(t(), 'delay'), () => ctx.closeConn('rst', null, fault(t(), 'rst client', 'accepted, never dialled upstream')));
      return true;
    },
  }),

  fin_then_rst: (t) => ({
    onStart: (ctx, added) => {
      if (added) return;
      afterMs(ctx, numAttr(t(), 'delay'),
        () => ctx.closeConn('fin', 'fin', fault(t(), 'fin client+upstream', 'killed proxy: close(2) both sockets; the kernel resets the next data')));
    },
  }),

  reset_after_bytes: (t) => {
    const count = new ByteLimit();
    return {
      onItems: (_d, items, ctx) => count.pass(items, numAttr(t(), 'bytes'),
        () => () => ctx.closeConn('rst', 'rst', fault(t(), 'rst client+upstream', `after ${count.passed} bytes ${streamDir(t())}`))),
    };
  },

  abort_mid_response: (t) => {
    let armed = false;
    const reply = new ByteLimit();
    return {
      onItems: (dir, items, ctx) => {
        if (dir.name === 'upstream') {
          // A request (re-)arms the toxic: the count of reply bytes starts again.
          if (items.some((i) => i.chunk && i.chunk.length > 0)) { armed = true; reply.passed = 0; }
          return items;
        }
        if (reply.reached) return [];
        if (!armed) return items;
        return reply.pass(items, numAttr(t(), 'bytes'), () => {
          const mode = strAttr(t(), 'mode') === 'fin' ? 'fin' : 'rst';
          return () => ctx.closeConn(mode, 'rst', fault(t(), `${mode} client, rst upstream`, `after ${reply.passed} reply bytes`));
        });
      },
    };
  },

  close_unread: (t) => ({
    onAccept: (ctx) => {
      ctx.timer(numAttr(t(), 'delay'), () =>
        ctx.closeConn('fin', null, fault(t(), 'close client unread', 'close(2) without reading: RST if data was queued, else FIN')));
      return true;
    },
  }),

  half_close: (t) => ({
    onStart: (ctx, added) => {
      if (added) return;
      const dir = ctx.dirs[streamDir(t())];
      afterMs(ctx, numAttr(t(), 'delay'),
        () => ctx.shut(dir, fault(t(), `fin ${dir.to} (half-close)`, `shutdown(SHUT_WR) toward the ${dir.to}; reading goes on`)));
    },
  }),

  blackhole: (t) => {
    let held: Item[] = [];
    let noted = false;
    return {
      onStart: (ctx) => {
        ctx.setRead(ctx.dirs[streamDir(t())].from, false);
        ctx.fault(fault(t(), `stop reading ${ctx.dirs[streamDir(t())].from}`));
      },
      onItems: (_d, items) => {
        // Chunks already read before the socket was paused are held, not lost.
        held.push(...items);
        noted = true;
        return [];
      },
      onRemove: (ctx) => {
        const dir = ctx.dirs[streamDir(t())];
        const items = held;
        held = [];
        for (const it of items) it.at = ctx.now;
        if (noted || items.length) ctx.inject(dir, items);
        ctx.setRead(dir.from, true);
      },
    };
  },

  kill: (t) => ({
    onStart: (ctx, added) => {
      if (added) ctx.closeConn('fin', 'fin', fault(t(), 'fin client+upstream', 'crashed proxy: every live connection closed at once'));
    },
  }),
};

const isToxicType = (type: string): type is ToxicType => Object.hasOwn(TOXIC_FACTORIES, type);

/** The implementation of one toxic. Attributes are read from `impl.spec` each time (updates apply). */
export function makeToxic(spec: ToxicJson, on: boolean): ToxicImpl {
  const impl: ToxicImpl = { spec, on };
  // Unknown types get no hooks; the API never lets one through.
  return isToxicType(spec.type) ? Object.assign(impl, TOXIC_FACTORIES[spec.type](() => impl.spec)) : impl;
}

/** Whether the toxic rewrites the items of `dir` on this connection. */
export function applies(impl: ToxicImpl, dir: Dir): boolean {
  if (!impl.on || !impl.onItems) return false;
  return toxicDef(impl.spec.type)?.scope === 'connection' || streamDir(impl.spec) === dir.name;
}
