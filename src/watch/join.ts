// `rstlab watch`'s core, without I/O: the kernel's reset events and the packets' RST verdicts in,
// one record per reset out. Contract:
// - `kernel(e, wallTime)` takes a `tcp_send_reset` / `tcp_receive_reset` event (its time already
//   on the wall clock); `packet(verdict, connection)` a RST the explain engine judged;
//   `tick(now)` emits what has waited long enough; `end()` emits everything still held.
// - A RST sent by this host's kernel is seen twice — its send event and its packet — and becomes
//   one record: same sender and receiver, times within MATCH_SEC (the nearest). A packet RST is
//   held PACKET_HOLD_SEC for its kernel event (read from tracefs in batches), a kernel event
//   KERNEL_HOLD_SEC for its packet (the engine judges a RST LIVE_LINGER_SEC after the connection's
//   last packet); unmatched, each is emitted alone. A receive event marks the packet RST it
//   accepted (`accepted: true`), or is emitted alone when no packet showed it.
// - A RST from one of this host's sockets to another (loopback, or between namespaces on
//   one kernel) is logged twice, a send event and a receive event: they become one record
//   (`this-kernel`, `accepted: true`), with or without its packet.
// - Packets not watched (`packetsWatched: false`): no packet can come, so the kernel events of
//   one read (`kernel()` calls up to `flushKernel()`, which the caller makes after each read of the
//   trace) are emitted at the end of that read, a send joined with a receive event of the same RST
//   in it — unless it has a socket whose owner is not known yet and no process context names it
//   (and, for a receive event, no send event in the read): that one waits OWNER_HOLD_SEC for the
//   next reading of the owners (a held send, for its receive event too). The sends are joined
//   first (a receive event may be logged microseconds before its send). A send to a local address
//   in the last CARRY_SEC of a read with no receive event there waits for the next read (or tick),
//   and so does a receive event from a local address with no send: between two namespaces, or
//   over loopback, the other half may come a moment later. Events counted
//   in the kernel (`count`) join the same way, a counted send with as many receive events as it
//   counts (its peer's port may be 0: kernel-count.ts keeps none for a reset to a closed port).
// - `sender` says who sent it as far as this host can tell: `this-kernel` (a send event),
//   `not-this-kernel` (a packet from one of this host's addresses that its TCP did not send: a
//   firewall's REJECT, a forged RST), `remote` (from another address: the peer, or the path in its
//   name — the explainer's cause says which), `unknown` (a send event without a packet, the
//   capture off). A receive event of a socket whose address is not the watched host's (another
//   namespace of this kernel, which a watched namespace's RST reached) only marks its send
//   accepted: alone, it is not a record.
// - The local process: the socket's owner (`owner(local, remote)`, watch/owners.ts), else the
//   process the event ran in when it ran in process context (the one that closed or aborted the
//   socket), else the owner of the listener on the local port.
// - Every record is emitted once, in the order it is decided; `agrees` is whether the explainer's
//   Linux reasons include the kernel's (null when either is missing).

import type { ConnectionReport, RstVerdict } from '../explain/index.js';
import type { KernelReceive, KernelSend } from '../lab/kernel-trace.js';
import { formatEndpoint, parseEndpoint } from '../wire/addr.js';
import type { Owner } from './owners.js';

/** Send event and packet of one RST are at most this far apart (the capture's and the trace's clocks). */
export const MATCH_SEC = 0.25;
/** How long a packet RST waits for its send event. */
export const PACKET_HOLD_SEC = 0.3;
/** How long a send event waits for its packet RST (judged after the live linger). */
export const KERNEL_HOLD_SEC = 0.8;
/** Without packets: how long a kernel event whose socket owner is unknown waits for it. */
export const OWNER_HOLD_SEC = 0.3;
/** Without packets: a send to a local address this close to the end of a read, with no receive
 *  event in it, waits for the next read (its receive, in another namespace, may come just after). */
export const CARRY_SEC = 0.02;

export interface WatchRecord {
  type: 'rst';
  /** The RST's time (the packet's, else the kernel event's), seconds since the epoch. */
  time: number;
  from: string;
  to: string;
  sender: 'this-kernel' | 'not-this-kernel' | 'remote' | 'unknown';
  /** What this host's kernel logged when it sent the RST (`tcp_send_reset`). */
  kernel: { reason: string; state: string } | null;
  /** A local socket accepted the RST (`tcp_receive_reset`); null when the kernel is not watched. */
  accepted: boolean | null;
  /** The explainer's view, when the packets were seen. */
  cause: RstVerdict['cause'] | null;
  confidence: RstVerdict['confidence'] | null;
  summary: string | null;
  linuxReasons: string[];
  linuxReason: string | null;
  agrees: boolean | null;
  /** The error the application at the receiving end most likely saw. */
  app: string | null;
  connection: { orig: string; resp: string; history: string; connState: string; ageSec: number } | null;
  /** The local process: the sender's when this host sent it, else the receiver's. */
  process: (Owner & { via: 'socket' | 'listener' | 'event' }) | null;
  /** How many resets with these fields this record stands for, when the kernel counted them
   *  (lab/kernel-count.ts: `watch --quiet --no-capture`); absent: one. Not written in JSON. */
  count?: number;
}

export interface JoinOptions {
  /** Is this address one of the watched host's own? */
  isLocal: (addr: string) => boolean;
  emit: (r: WatchRecord) => void;
  owner?: (local: string, remote: string) => { owner: Owner; via: 'socket' | 'listener' } | null;
  /** The kernel side is watched (receive events can mark records accepted). */
  kernelWatched: boolean;
  /** The packet side is watched (default true): kernel events wait for their packet. */
  packetsWatched?: boolean;
}

interface PendingSend { e: KernelSend; time: number; at: number; accepted: boolean; done: boolean }
/** The held sends of one pair: released ones are skipped, and dropped from the front as they go. */
interface SendBucket { items: PendingSend[]; head: number }
interface PendingPacket { v: RstVerdict; c: ConnectionReport; at: number; accepted: boolean; send: PendingSend | null }

/** The records without the explainer's view share one (frozen) empty list. */
const NO_REASONS = Object.freeze([]) as unknown as string[];

const addrOf = (endpoint: string): string => parseEndpoint(endpoint).addr;

export class WatchJoiner {
  private sends: PendingSend[] = [];
  /** The held send events by source, then destination (the same objects as `sends`, in the order
   *  they came), for their receive events and packets. Keyed by the events' own endpoint strings
   *  (the trace decoder shares one per endpoint): no key is built per event. */
  private readonly sendsByPair = new Map<string, Map<string, SendBucket>>();
  private packets: PendingPacket[] = [];
  /** Receive events not yet matched to a packet, by "from to". */
  private receives: Array<{ e: KernelReceive; time: number; at: number }> = [];
  /** Without packets: the kernel events of the current read, their times, how many are receives. */
  private readonly batch: Array<KernelSend | KernelReceive> = [];
  private readonly batchTimes: number[] = [];
  private batchReceives = 0;
  private batchNow = 0;
  /** The latest time a tick gave (a carried send is judged against it when no read came since). */
  private clock = 0;
  private readonly localEnds = new Map<string, boolean>();

  constructor(private readonly opts: JoinOptions) {}

  kernel(e: KernelSend | KernelReceive, time: number, now = time): void {
    if (this.opts.packetsWatched === false) {
      // (A receive event always joins the read: its send event is in it, or it waits for its owner there.)
      if (e.kind === 'send' && this.awaitsOwner(e)) this.holdSend(e, time, now);
      else {
        this.batch.push(e);
        this.batchTimes.push(time);
        this.batchNow = now;
        if (e.kind === 'receive') this.batchReceives += 1;
      }
      return;
    }
    if (e.kind === 'send') {
      const p = this.packets.find((x) => x.send === null && x.v.from === e.src && x.v.to === e.dst && Math.abs(x.v.time - time) <= MATCH_SEC);
      if (p) { p.send = { e, time, at: now, accepted: false, done: true }; this.settle(p); } else this.holdSend(e, time, now);
      return;
    }
    // A local socket (`local`) accepted a RST from `remote`: its packet's, else its send event's.
    const p = this.packets.find((x) => !x.accepted && x.v.from === e.remote && x.v.to === e.local && Math.abs(x.v.time - time) <= MATCH_SEC);
    if (p) { p.accepted = true; this.settle(p); return; }
    const s = this.peekSend(e, time);
    if (s) s.accepted = true;
    else this.receives.push({ e, time, at: now });
  }

  /**
   * Without packets: emit the events of the read just made, in their order, each send with the
   * receive event of the same RST when the read holds it (the two are microseconds apart; a reset
   * flood to closed ports has no receive events, and then nothing is looked up).
   */
  flushKernel(final = false): void {
    const n = this.batch.length;
    if (n === 0) return;
    const carried: number[] = [];
    /** A send with no receive event in this read, near its end, to a local address: next read. */
    const recent = Math.max(this.batchNow, this.clock) - CARRY_SEC;
    const carry = (e: KernelSend, time: number) => !final && time > recent && this.isLocalEndpoint(e.dst);
    let byPair: Map<string, number[]> | null = null;
    if (this.batchReceives > 0) {
      byPair = new Map();
      for (let i = 0; i < n; i += 1) {
        const e = this.batch[i]!;
        if (e.kind !== 'receive') continue;
        const k = `${e.remote} ${e.local}`;
        const l = byPair.get(k);
        if (l) l.push(i); else byPair.set(k, [i]);
        // Counted in the kernel, a reset to a closed port keeps no remote port (kernel-count.ts).
        if (e.count !== undefined) {
          const masked = `${e.remote} ${formatEndpoint(addrOf(e.local), 0)}`;
          const lm = byPair.get(masked);
          if (lm) lm.push(i); else byPair.set(masked, [i]);
        }
      }
    }
    const used = byPair ? new Uint8Array(n) : null;
    // The sends first, then the receive events no send took: a RST over loopback may be taken by
    // its receiver (and logged) microseconds before its sender's event is.
    for (let i = 0; i < n; i += 1) {
      const e = this.batch[i]!;
      const time = this.batchTimes[i]!;
      if (e.kind === 'send') {
        if (e.count !== undefined) {
          const rest = this.flushCounted(e, time, byPair, used);
          if (rest > 0) {
            if (carry(e, time)) { this.batch[i] = { ...e, count: rest }; carried.push(i); } else this.emitSend({ ...e, count: rest }, time, null);
          }
          continue;
        }
        let j = -1;
        for (const x of byPair?.get(`${e.src} ${e.dst}`) ?? []) if (!used![x] && Math.abs(this.batchTimes[x]! - time) <= MATCH_SEC) { j = x; break; }
        if (j >= 0) used![j] = 1;
        if (j < 0 && carry(e, time)) carried.push(i);
        else this.emitSend(e, time, j >= 0 ? true : null);
      }
    }
    for (let i = 0; i < n && byPair !== null; i += 1) {
      const e = this.batch[i]!;
      const time = this.batchTimes[i]!;
      if (e.kind === 'receive' && !used![i]) {
        const s = this.takeSend(e, time);
        if (s) this.emitSend(s.e, s.time, true);
        else if (!final && time > recent && this.isLocalEndpoint(e.remote)) carried.push(i); // its send may be in the next read
        else if (this.awaitsOwner(e)) this.receives.push({ e, time, at: this.batchNow });
        else this.emitReceive(e, time);
      }
    }
    carried.sort((a, b) => a - b);
    let receives = 0;
    for (let k = 0; k < carried.length; k += 1) {
      const e = this.batch[carried[k]!]!;
      if (e.kind === 'receive') receives += 1;
      this.batch[k] = e;
      this.batchTimes[k] = this.batchTimes[carried[k]!]!;
    }
    this.batch.length = carried.length;
    this.batchTimes.length = carried.length;
    this.batchReceives = receives;
  }

  /** Whether an endpoint's address is the watched host's (remembered per endpoint string; run.ts
   *  filters the kernel events with it too). */
  isLocalEndpoint(ep: string): boolean {
    let v = this.localEnds.get(ep);
    if (v === undefined) {
      v = this.opts.isLocal(addrOf(ep));
      if (this.localEnds.size > 1 << 16) this.localEnds.clear();
      this.localEnds.set(ep, v);
    }
    return v;
  }

  /** A send counted in the kernel (`count` resets with these fields) against the receive events of
   *  the read: as many of its resets as receive events took are one record (accepted); returns how
   *  many are left. A receive event taken only in part leaves the rest of its count. */
  private flushCounted(e: KernelSend, time: number, byPair: Map<string, number[]> | null, used: Uint8Array | null): number {
    const n = e.count ?? 1;
    let joined = 0;
    for (const x of byPair?.get(`${e.src} ${e.dst}`) ?? []) {
      if (joined === n) break;
      if (used![x] || Math.abs(this.batchTimes[x]! - time) > MATCH_SEC) continue;
      used![x] = 1;
      const r = this.batch[x] as KernelReceive;
      const take = Math.min(n - joined, r.count ?? 1);
      joined += take;
      if ((r.count ?? 1) > take) this.emitReceive({ ...r, count: (r.count ?? 1) - take }, this.batchTimes[x]!);
    }
    if (joined > 0) this.emitSend({ ...e, count: joined }, time, true);
    return n - joined;
  }

  private holdSend(e: KernelSend, time: number, now: number): void {
    const s: PendingSend = { e, time, at: now, accepted: false, done: false };
    this.sends.push(s);
    let byDst = this.sendsByPair.get(e.src);
    if (byDst === undefined) this.sendsByPair.set(e.src, byDst = new Map());
    const b = byDst.get(e.dst);
    if (b) b.items.push(s);
    else byDst.set(e.dst, { items: [s], head: 0 });
  }

  /** The held send from `src` to `dst` nearest to `time` (within MATCH_SEC) that `ok` takes. */
  private heldSend(src: string, dst: string, time: number, ok: (s: PendingSend) => boolean): PendingSend | null {
    const b = this.sendsByPair.get(src)?.get(dst);
    if (b === undefined) return null;
    let best: PendingSend | null = null;
    for (let i = b.head; i < b.items.length; i += 1) {
      const s = b.items[i]!;
      if (s.done || !ok(s) || Math.abs(s.time - time) > MATCH_SEC) continue;
      if (best === null || Math.abs(s.time - time) < Math.abs(best.time - time)) best = s;
    }
    return best;
  }

  /** The held send event of the RST this receive event took, if any. */
  private peekSend(e: KernelReceive, time: number): PendingSend | null {
    return this.heldSend(e.remote, e.local, time, (s) => !s.accepted);
  }

  /** peekSend, and the send is no longer held. */
  private takeSend(e: KernelReceive, time: number): PendingSend | null {
    const s = this.peekSend(e, time);
    if (s) this.release(s);
    return s;
  }

  /** A held send event is done: off its bucket's front once all before it are (amortized O(1)),
   *  and out of `sends` at the next tick. */
  private release(s: PendingSend): void {
    s.done = true;
    const byDst = this.sendsByPair.get(s.e.src);
    const b = byDst?.get(s.e.dst);
    if (byDst === undefined || b === undefined) return;
    while (b.head < b.items.length && b.items[b.head]!.done) b.head += 1;
    if (b.head === b.items.length) {
      byDst.delete(s.e.dst);
      if (byDst.size === 0) this.sendsByPair.delete(s.e.src);
    } else if (b.head > 1024 && b.head * 2 > b.items.length) {
      b.items = b.items.slice(b.head);
      b.head = 0;
    }
  }

  /** A socket's event whose owner may still be learnt: not known yet, and no process context. */
  private awaitsOwner(e: KernelSend | KernelReceive): boolean {
    if (!this.opts.owner) return false;
    if (e.kind === 'send') {
      if (e.state === 'UNKNOWN') return false; // no socket (NO_SOCKET…): nobody owns it
      if (!e.inIrq && e.pid > 0 && e.comm !== '<...>') return false;
      return this.opts.owner(e.src, e.dst)?.via !== 'socket';
    }
    return this.opts.owner(e.local, e.remote)?.via !== 'socket';
  }

  /** Emit a held packet RST once nothing more can come for it. */
  private settle(p: PendingPacket): void {
    if (this.waiting(p)) return;
    const i = this.packets.indexOf(p);
    if (i >= 0) this.packets.splice(i, 1);
    this.emitPacket(p);
  }

  /** Whether a kernel event may still come for it: its send event (from a local address) or
   *  its receive event (to a local address). */
  private waiting(p: PendingPacket): boolean {
    if (!this.opts.kernelWatched) return false;
    return (p.send === null && this.opts.isLocal(addrOf(p.v.from))) || (!p.accepted && this.opts.isLocal(addrOf(p.v.to)));
  }

  packet(v: RstVerdict, c: ConnectionReport, now: number): void {
    const send = this.heldSend(v.from, v.to, v.time, () => true);
    if (send) this.release(send);
    const r = this.receives.findIndex((x) => x.e.remote === v.from && x.e.local === v.to && Math.abs(x.time - v.time) <= MATCH_SEC);
    const accepted = r >= 0 ? (this.receives.splice(r, 1), true) : send !== null && send.accepted;
    const p: PendingPacket = { v, c, at: now, accepted, send };
    if (this.waiting(p)) this.packets.push(p);
    else this.emitPacket(p);
  }

  /** Emit what has waited long enough at `now` (seconds). */
  tick(now: number): void {
    if (now !== Infinity && now > this.clock) this.clock = now;
    this.flushKernel(now === Infinity);
    const hold = this.opts.packetsWatched === false ? OWNER_HOLD_SEC : KERNEL_HOLD_SEC;
    if (this.packets.length) this.packets = this.packets.filter((p) => {
      if (now - p.at < PACKET_HOLD_SEC) return true;
      this.emitPacket(p);
      return false;
    });
    if (this.sends.length) this.sends = this.sends.filter((s) => {
      if (s.done) return false;
      if (now - s.at < hold) return true;
      this.release(s);
      this.emitSend(s.e, s.time, s.accepted ? true : null);
      return false;
    });
    if (this.receives.length) this.receives = this.receives.filter((x) => {
      if (now - x.at < hold) return true;
      this.emitReceive(x.e, x.time);
      return false;
    });
  }

  end(): void {
    this.tick(Infinity);
  }

  /** The socket's own owner, else the process the event ran in (the one that closed or aborted
   *  the socket: not a softirq or a timer), else the listener on the local port. */
  private processOf(local: string, remote: string, event: KernelSend | null): WatchRecord['process'] {
    const o = this.opts.owner?.(local, remote);
    if (o?.via === 'socket') return { ...o.owner, via: o.via };
    if (event && !event.inIrq && event.pid > 0 && event.comm !== '<...>') return { pid: event.pid, comm: event.comm, via: 'event' };
    return o ? { ...o.owner, via: o.via } : null;
  }

  private emitPacket(p: PendingPacket): void {
    const { v, c } = p;
    const fromLocal = this.opts.isLocal(addrOf(v.from));
    const kernel = p.send ? { reason: p.send.e.reason, state: p.send.e.state } : null;
    const sender: WatchRecord['sender'] = p.send ? 'this-kernel' : fromLocal ? (this.opts.kernelWatched ? 'not-this-kernel' : 'unknown') : 'remote';
    const process = fromLocal ? this.processOf(v.from, v.to, p.send?.e ?? null) : this.processOf(v.to, v.from, null);
    this.opts.emit({
      type: 'rst', time: v.time, from: v.from, to: v.to, sender, kernel,
      accepted: this.opts.kernelWatched && this.opts.isLocal(addrOf(v.to)) ? p.accepted : null,
      cause: v.cause, confidence: v.confidence, summary: v.summary,
      linuxReasons: [...v.linuxReasons], linuxReason: v.linuxReason,
      agrees: kernel ? (v.linuxReasons as readonly string[]).includes(kernel.reason) : null,
      app: v.app.receiver,
      connection: { orig: c.orig, resp: c.resp, history: c.history, connState: c.connState, ageSec: Math.max(0, v.time - c.start) },
      process,
    });
  }

  /** A send event without its packet: `accepted` true when a local socket's receive event showed
   *  it took the RST, else null. */
  private emitSend(e: KernelSend, time: number, accepted: boolean | null): void {
    this.opts.emit({
      type: 'rst', time, from: e.src, to: e.dst, sender: 'this-kernel', kernel: { reason: e.reason, state: e.state },
      accepted, cause: null, confidence: null, summary: null, linuxReasons: NO_REASONS, linuxReason: null, agrees: null, app: null,
      connection: null, process: this.processOf(e.src, e.dst, e),
      ...(e.count !== undefined ? { count: e.count } : {}),
    });
  }

  private emitReceive(e: KernelReceive, time: number): void {
    // A socket of another namespace of this kernel (kernel events carry none: they pass the filter
    // because the RST's sender is local here) took a RST that has no send event: not this host's.
    if (!this.isLocalEndpoint(e.local)) return;
    this.opts.emit({
      type: 'rst', time, from: e.remote, to: e.local, sender: 'unknown', kernel: null,
      accepted: true, cause: null, confidence: null, summary: null, linuxReasons: NO_REASONS, linuxReason: null, agrees: null, app: null,
      connection: null, process: this.processOf(e.local, e.remote, null),
      ...(e.count !== undefined ? { count: e.count } : {}),
    });
  }
}
