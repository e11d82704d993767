// The live state of one endpoint of a tracked connection (EndpointTrack), reused for connection
// after connection, and its snapshot as the public EndpointStats. Contract:
// - The fields are EndpointStats' under the same names (documented there), in the numeric form
//   the per-packet code can keep unboxed: -1 for null (sequence numbers, frames and IDs are never
//   negative), the address as a number (IPv4) or a string, and TTL/TOS counts fed by runs of equal
//   values: the first value and its count in two fields, any other values in a list made only for
//   an endpoint whose TTL (or TOS) changed.
// - `reset()` gives every field its default, for a new connection; `snapshot()` builds a fresh
//   EndpointStats, converting each field from its live form.
// - `writeAtRst()` stores the endpoint as it is before a RST as AT_RST_SIZE numbers (no objects: a
//   connection waiting out its linger after a RST holds numbers only); `readAtRst()` turns them back
//   into an EndpointAtRst.
// - `advanceState` is rstlab's own endpoint state machine for a segment without SYN or RST (a
//   simplification of Zeek's, which the explainer reads); the `z*` fields are Zeek's view, kept by
//   zeek-conn.ts for conn_state and history.
// - `pack()` / `unpack()`: every field but `spillRow` as numbers in typed arrays (PACK_F64 doubles,
//   PACK_I32 int32), for a connection that ended and waits out its linger; false when it does not fit.
// - `inheritFrom()` gives a connection that Zeek's timers cut from the one before on its tuple that
//   one's TCP view of the endpoint (not its counters, not Zeek's view).

import { copyRow, F_BITS, FROM_ORIG_BIT, STRIDE, summaryFrom } from './segment-store.js';
import type { Store } from './segment-store.js';
import type { EndpointAtRst, EndpointState, EndpointStats } from './types.js';

export class EndpointTrack {
  // Each field is written twice, here with its default and again in reset(): V8 sizes an object
  // from the fields its class declares, so fields first set by a method (reset() called from the
  // constructor) would live outside the object, one more load each in the per-packet code.
  /** IPv4 address as a number, or the address text (string-keyed connections). */
  addrN = 0;
  addrS: string | null = null;
  port = 0;
  state: EndpointState = 'INACTIVE';
  isn = -1;
  sawSyn = false;
  nextSeq = -1;
  lastAck = -1;
  window = 0;
  windowShift = 0;
  usesTimestamps = false;
  finFrame = -1;
  finSeq = -1;
  packets = 0;
  bytes = 0;
  retransmissions = 0;
  keepalives = 0;
  zeroWindows = 0;
  /** The first TTL / TOS value counted and its count (-1, 0: none yet); later other values as
   *  value, count pairs in first-seen order (as a Map would keep them), null until there is one. */
  ttl0 = -1;
  ttl0N = 0;
  ttlMore: number[] | null = null;
  tos0 = -1;
  tos0N = 0;
  tosMore: number[] | null = null;
  /** Current run of equal TTLs / TOS values, not yet in the counts. */
  ttl = -1;
  ttlRun = 0;
  tos = -1;
  tosRun = 0;
  lastIdent = -1;
  synLayout = 0;
  synWindow = -1;
  synTtl = -1;
  idSeen = 0;
  idZero = 0;
  idIncr = 0;
  idFirst = -1;
  probesSinceHeard = 0;
  retransSinceHeard = 0;
  lastSegFrame = -1;
  /** Row of its last segment in the store (-1: none): a list row, or `spillRow` once the ring
   *  was about to overwrite it. */
  lastRow = -1;
  /** Its own row for a last segment that left the list (0 for the originator, 1 for the
   *  responder: set once, by the connection's Track). */
  spillRow = 0;
  lastTime = 0;

  /** Zeek's view of the endpoint (zeek-conn.ts), beside rstlab's `state`: TCP_Endpoint's state
   *  and prev_state, its start and last sequence numbers (as int32), the relative numbers of its
   *  last SYN, FIN and RST letters (hist_last_*), FIN_seq (-1 while FIN_cnt is 0), the T/W/G
   *  counters, did_close, and what
   *  reassembly has seen of its data (the contiguous edge and one block beyond a hole). */
  zState: EndpointState = 'INACTIVE';
  zPrev: EndpointState = 'INACTIVE';
  zStart = 0;
  zLast = 0;
  zHistSyn = 0;
  zHistFin = 0;
  zHistRst = 0;
  zFinSeq = -1;
  zRxmt = 0;
  zWin0 = 0;
  /** Segments with a bad checksum (only counted with checksum verification: Zeek's chk_cnt). */
  zChk = 0;
  zGap = 0;
  zReassem = 1;
  zAheadLo = 0;
  zAheadHi = 0;
  zDidClose = false;

  /** Every field but `spillRow` back to its default, for a new connection. */
  reset(addrN: number, addrS: string | null, port: number): void {
    this.addrN = addrN;
    this.addrS = addrS;
    this.port = port;
    this.state = 'INACTIVE';
    this.isn = -1;
    this.sawSyn = false;
    this.nextSeq = -1;
    this.lastAck = -1;
    this.window = 0;
    this.windowShift = 0;
    this.usesTimestamps = false;
    this.finFrame = -1;
    this.finSeq = -1;
    this.packets = 0;
    this.bytes = 0;
    this.retransmissions = 0;
    this.keepalives = 0;
    this.zeroWindows = 0;
    this.ttl0 = -1;
    this.ttl0N = 0;
    this.ttlMore = null;
    this.tos0 = -1;
    this.tos0N = 0;
    this.tosMore = null;
    this.ttl = -1;
    this.ttlRun = 0;
    this.tos = -1;
    this.tosRun = 0;
    this.lastIdent = -1;
    this.synLayout = 0;
    this.synWindow = -1;
    this.synTtl = -1;
    this.idSeen = 0;
    this.idZero = 0;
    this.idIncr = 0;
    this.idFirst = -1;
    this.probesSinceHeard = 0;
    this.retransSinceHeard = 0;
    this.lastSegFrame = -1;
    this.lastRow = -1;
    this.lastTime = 0;
    this.zState = 'INACTIVE';
    this.zPrev = 'INACTIVE';
    this.zStart = 0;
    this.zLast = 0;
    this.zHistSyn = 0;
    this.zHistFin = 0;
    this.zHistRst = 0;
    this.zFinSeq = -1;
    this.zRxmt = 0;
    this.zWin0 = 0;
    this.zChk = 0;
    this.zGap = 0;
    this.zReassem = 1;
    this.zAheadLo = 0;
    this.zAheadHi = 0;
    this.zDidClose = false;
  }

  /**
   * What the explainer knows of the endpoint, from `src` (the same host and port in the connection
   * Zeek's timers just ended on this tuple): its TCP view (state, sequence numbers, window, FIN,
   * last segment, TTL/TOS counts, unanswered probes), not the new connection's counters (packets,
   * bytes, retransmissions…) nor Zeek's view. `swapped`: the new connection's orientation is the
   * other one, so the last segment's direction bit turns around. Called on a freshly reset endpoint.
   */
  inheritFrom(src: EndpointTrack, srcStore: Store, dstStore: Store, swapped: boolean): void {
    this.state = src.state;
    this.isn = src.isn;
    this.sawSyn = src.sawSyn;
    this.nextSeq = src.nextSeq;
    this.lastAck = src.lastAck;
    this.window = src.window;
    this.windowShift = src.windowShift;
    this.usesTimestamps = src.usesTimestamps;
    this.finFrame = src.finFrame;
    this.finSeq = src.finSeq;
    src.flushRuns();
    this.ttl0 = src.ttl0;
    this.ttl0N = src.ttl0N;
    this.ttlMore = src.ttlMore === null ? null : src.ttlMore.slice();
    this.tos0 = src.tos0;
    this.tos0N = src.tos0N;
    this.tosMore = src.tosMore === null ? null : src.tosMore.slice();
    this.lastIdent = src.lastIdent;
    this.synLayout = src.synLayout;
    this.synWindow = src.synWindow;
    this.synTtl = src.synTtl;
    this.probesSinceHeard = src.probesSinceHeard;
    this.retransSinceHeard = src.retransSinceHeard;
    this.lastSegFrame = src.lastSegFrame;
    this.lastTime = src.lastTime;
    if (src.lastRow >= 0) {
      const to = this.spillRow * STRIDE;
      copyRow(srcStore, src.lastRow * STRIDE, dstStore, to);
      if (swapped) dstStore[to + F_BITS] ^= FROM_ORIG_BIT;
      this.lastRow = this.spillRow;
    }
  }

  /**
   * The endpoint as numbers, for a connection that ended and only waits out its linger (the
   * tracker's compact form): PACK_F64 doubles at `f[fo]`, PACK_I32 int32 at `i[io]`. False (and
   * nothing usable written) when it does not fit: a value the int32 fields cannot hold exactly, or
   * an IPv6 address, or TTL/TOS values that changed (lists); such an endpoint stays an object.
   * `unpack()` gives a track every field back but `spillRow`.
   */
  pack(f: Float64Array, fo: number, i: Int32Array, io: number): boolean {
    if (this.addrS !== null || this.ttlMore !== null || this.tosMore !== null) return false;
    // Small fields share a word: the flags, states, window shift and last row; TTLs and TOS values + 1.
    if (this.windowShift < 0 || this.windowShift > 15 || this.lastRow < -1 || this.lastRow > 14) return false;
    if (!isByte(this.ttl0) || !isByte(this.ttl) || !isByte(this.tos0) || !isByte(this.tos) || !isByte(this.synTtl)) return false;
    f[fo + 0] = this.isn;
    f[fo + 1] = this.nextSeq;
    f[fo + 2] = this.lastAck;
    f[fo + 3] = this.finSeq;
    f[fo + 4] = this.bytes;
    f[fo + 5] = this.lastTime;
    if (!putInt32(i, io + 0, this.port)) return false;
    if (!putInt32(i, io + 1, this.window)) return false;
    if (!putInt32(i, io + 2, this.finFrame)) return false;
    if (!putInt32(i, io + 3, this.packets)) return false;
    if (!putInt32(i, io + 4, this.retransmissions)) return false;
    if (!putInt32(i, io + 5, this.keepalives)) return false;
    if (!putInt32(i, io + 6, this.zeroWindows)) return false;
    if (!putInt32(i, io + 7, this.ttl0N)) return false;
    if (!putInt32(i, io + 8, this.tos0N)) return false;
    if (!putInt32(i, io + 9, this.ttlRun)) return false;
    if (!putInt32(i, io + 10, this.tosRun)) return false;
    if (!putInt32(i, io + 11, this.lastIdent)) return false;
    if (!putInt32(i, io + 12, this.synLayout)) return false;
    if (!putInt32(i, io + 13, this.synWindow)) return false;
    if (!putInt32(i, io + 14, this.idSeen)) return false;
    if (!putInt32(i, io + 15, this.idZero)) return false;
    if (!putInt32(i, io + 16, this.idIncr)) return false;
    if (!putInt32(i, io + 17, this.idFirst)) return false;
    if (!putInt32(i, io + 18, this.probesSinceHeard)) return false;
    if (!putInt32(i, io + 19, this.retransSinceHeard)) return false;
    if (!putInt32(i, io + 20, this.lastSegFrame)) return false;
    if (!putInt32(i, io + 21, this.zStart)) return false;
    if (!putInt32(i, io + 22, this.zLast)) return false;
    if (!putInt32(i, io + 23, this.zHistSyn)) return false;
    if (!putInt32(i, io + 24, this.zHistFin)) return false;
    if (!putInt32(i, io + 25, this.zHistRst)) return false;
    if (!putInt32(i, io + 26, this.zFinSeq)) return false;
    if (!putInt32(i, io + 27, this.zRxmt)) return false;
    if (!putInt32(i, io + 28, this.zWin0)) return false;
    if (!putInt32(i, io + 29, this.zChk)) return false;
    if (!putInt32(i, io + 30, this.zGap)) return false;
    if (!putInt32(i, io + 31, this.zReassem)) return false;
    if (!putInt32(i, io + 32, this.zAheadLo)) return false;
    if (!putInt32(i, io + 33, this.zAheadHi)) return false;
    i[io + 34] = (this.sawSyn ? 1 : 0) | (this.usesTimestamps ? 2 : 0) | (this.zDidClose ? 4 : 0)
      | (ENDPOINT_STATES.indexOf(this.state) << 3) | (ENDPOINT_STATES.indexOf(this.zState) << 6)
      | (ENDPOINT_STATES.indexOf(this.zPrev) << 9) | (this.windowShift << 12) | ((this.lastRow + 1) << 16);
    i[io + 35] = (this.ttl0 + 1) | ((this.ttl + 1) << 9) | ((this.tos0 + 1) << 18);
    i[io + 36] = (this.tos + 1) | ((this.synTtl + 1) << 9);
    // (An IPv4 address as int32, read back with >>> 0.)
    i[io + 37] = this.addrN;
    return i[io + 37] >>> 0 === this.addrN;
  }

  unpack(f: Float64Array, fo: number, i: Int32Array, io: number): void {
    this.addrS = null;
    this.ttlMore = null;
    this.tosMore = null;
    this.isn = f[fo + 0];
    this.nextSeq = f[fo + 1];
    this.lastAck = f[fo + 2];
    this.finSeq = f[fo + 3];
    this.bytes = f[fo + 4];
    this.lastTime = f[fo + 5];
    this.port = i[io + 0];
    this.window = i[io + 1];
    this.finFrame = i[io + 2];
    this.packets = i[io + 3];
    this.retransmissions = i[io + 4];
    this.keepalives = i[io + 5];
    this.zeroWindows = i[io + 6];
    this.ttl0N = i[io + 7];
    this.tos0N = i[io + 8];
    this.ttlRun = i[io + 9];
    this.tosRun = i[io + 10];
    this.lastIdent = i[io + 11];
    this.synLayout = i[io + 12];
    this.synWindow = i[io + 13];
    this.idSeen = i[io + 14];
    this.idZero = i[io + 15];
    this.idIncr = i[io + 16];
    this.idFirst = i[io + 17];
    this.probesSinceHeard = i[io + 18];
    this.retransSinceHeard = i[io + 19];
    this.lastSegFrame = i[io + 20];
    this.zStart = i[io + 21];
    this.zLast = i[io + 22];
    this.zHistSyn = i[io + 23];
    this.zHistFin = i[io + 24];
    this.zHistRst = i[io + 25];
    this.zFinSeq = i[io + 26];
    this.zRxmt = i[io + 27];
    this.zWin0 = i[io + 28];
    this.zChk = i[io + 29];
    this.zGap = i[io + 30];
    this.zReassem = i[io + 31];
    this.zAheadLo = i[io + 32];
    this.zAheadHi = i[io + 33];
    const a = i[io + 34];
    this.sawSyn = (a & 1) !== 0;
    this.usesTimestamps = (a & 2) !== 0;
    this.zDidClose = (a & 4) !== 0;
    this.state = ENDPOINT_STATES[(a >>> 3) & 7]!;
    this.zState = ENDPOINT_STATES[(a >>> 6) & 7]!;
    this.zPrev = ENDPOINT_STATES[(a >>> 9) & 7]!;
    this.windowShift = (a >>> 12) & 15;
    this.lastRow = ((a >>> 16) & 15) - 1;
    const t = i[io + 35];
    this.ttl0 = (t & 511) - 1;
    this.ttl = ((t >>> 9) & 511) - 1;
    this.tos0 = ((t >>> 18) & 511) - 1;
    const u = i[io + 36];
    this.tos = (u & 511) - 1;
    this.synTtl = ((u >>> 9) & 511) - 1;
    this.addrN = i[io + 37] >>> 0;
  }

  /** Its address as text (dotted quad or the IPv6 text). */
  addressText(): string {
    return this.addrS ?? formatIpv4Number(this.addrN);
  }

  /** A TTL other than the current run's: the run goes to the counts, a new one starts. */
  newTtl(ttl: number): void {
    this.flushTtl();
    this.ttl = ttl;
  }

  newTos(tos: number): void {
    this.flushTos();
    this.tos = tos;
  }

  /** Add the current TTL/TOS runs to the counts. */
  flushRuns(): void {
    this.flushTtl();
    this.flushTos();
  }

  /**
   * A fresh EndpointStats of the endpoint now (runs flushed first; `st` is its connection's store,
   * for its last segment; `rstFrames`, the frames of the RSTs it sent). Each field is converted from its live form here; an object literal,
   * so that every snapshot has the same hidden class.
   */
  snapshot(st: Store, rstFrames: number[]): EndpointStats {
    this.flushRuns();
    // (Every field written out, as readAtRst reads them from numbers: a literal that spreads
    // another object copies its fields one at a time, most of a port scan's snapshot time.)
    const lastRow = this.lastRow;
    return {
      addr: this.addrS ?? formatIpv4Number(this.addrN),
      port: this.port,
      state: this.state,
      isn: orNull(this.isn),
      sawSyn: this.sawSyn,
      nextSeq: orNull(this.nextSeq),
      lastAck: orNull(this.lastAck),
      window: this.window,
      windowShift: this.windowShift,
      usesTimestamps: this.usesTimestamps,
      finFrame: orNull(this.finFrame),
      finSeq: orNull(this.finSeq),
      rstFrames,
      packets: this.packets,
      bytes: this.bytes,
      retransmissions: this.retransmissions,
      keepalives: this.keepalives,
      zeroWindows: this.zeroWindows,
      ttls: countMap(this.ttl0, this.ttl0N, this.ttlMore),
      toss: countMap(this.tos0, this.tos0N, this.tosMore),
      lastIdent: orNull(this.lastIdent),
      synLayout: this.synLayout,
      synWindow: this.synWindow,
      synTtl: this.synTtl,
      idSeen: this.idSeen,
      idZero: this.idZero,
      idIncr: this.idIncr,
      idFirst: this.idFirst,
      probesSinceHeard: this.probesSinceHeard,
      retransSinceHeard: this.retransSinceHeard,
      lastSegFrame: orNull(this.lastSegFrame),
      lastSeg: lastRow >= 0 ? summaryFrom(st, lastRow * STRIDE) : null,
      lastTime: this.lastTime,
    };
  }

  /** Its state as the number writeAtRst stores. */
  stateCode(): number {
    return ENDPOINT_STATES.indexOf(this.state);
  }

  /** The endpoint just before a RST, as AT_RST_SIZE numbers at `out[o]` (read back by readAtRst);
   *  `state` (a stateCode()) and `lastRow` in place of its own (its RST changed them since). */
  writeAtRst(out: number[], o: number, st: Store, state = this.stateCode(), lastRow = this.lastRow): void {
    out[o + A_STATE] = state;
    out[o + A_ISN] = this.isn;
    out[o + A_SAW_SYN] = this.sawSyn ? 1 : 0;
    out[o + A_NEXT_SEQ] = this.nextSeq;
    out[o + A_LAST_ACK] = this.lastAck;
    out[o + A_WINDOW] = this.window;
    out[o + A_WINDOW_SHIFT] = this.windowShift;
    out[o + A_TIMESTAMPS] = this.usesTimestamps ? 1 : 0;
    out[o + A_FIN_FRAME] = this.finFrame;
    out[o + A_FIN_SEQ] = this.finSeq;
    out[o + A_PACKETS] = this.packets;
    out[o + A_BYTES] = this.bytes;
    out[o + A_RETRANS] = this.retransmissions;
    out[o + A_KEEPALIVES] = this.keepalives;
    out[o + A_ZERO_WINDOWS] = this.zeroWindows;
    out[o + A_LAST_IDENT] = this.lastIdent;
    out[o + A_SYN_LAYOUT] = this.synLayout;
    out[o + A_SYN_WINDOW] = this.synWindow;
    out[o + A_SYN_TTL] = this.synTtl;
    out[o + A_ID_SEEN] = this.idSeen;
    out[o + A_ID_ZERO] = this.idZero;
    out[o + A_ID_INCR] = this.idIncr;
    out[o + A_ID_FIRST] = this.idFirst;
    out[o + A_PROBES] = this.probesSinceHeard;
    out[o + A_RETRANS_SINCE] = this.retransSinceHeard;
    out[o + A_LAST_SEG_FRAME] = this.lastSegFrame;
    out[o + A_LAST_TIME] = this.lastTime;
    out[o + A_HAS_LAST_SEG] = lastRow >= 0 ? 1 : 0;
    if (lastRow >= 0) copyRow(st, lastRow * STRIDE, out, o + A_LAST_SEG);
  }

  private flushTtl(): void {
    if (this.ttlRun === 0) return;
    if (this.ttl0N === 0 || this.ttl0 === this.ttl) {
      this.ttl0 = this.ttl;
      this.ttl0N += this.ttlRun;
    } else {
      this.ttlMore = addCount(this.ttlMore, this.ttl, this.ttlRun);
    }
    this.ttlRun = 0;
  }

  private flushTos(): void {
    if (this.tosRun === 0) return;
    if (this.tos0N === 0 || this.tos0 === this.tos) {
      this.tos0 = this.tos;
      this.tos0N += this.tosRun;
    } else {
      this.tosMore = addCount(this.tosMore, this.tos, this.tosRun);
    }
    this.tosRun = 0;
  }
}

/** Zeek's endpoint states on a segment without SYN or RST (a no-op once both are established). */
export function advanceState(e: EndpointTrack, peer: EndpointTrack, ack: boolean): void {
  if (e.state === 'INACTIVE') e.state = 'PARTIAL';
  if (ack) {
    if (e.state === 'SYN_SENT' || e.state === 'SYN_ACK_SENT') e.state = 'ESTABLISHED';
    if (peer.state === 'SYN_ACK_SENT' || peer.state === 'SYN_SENT') peer.state = 'ESTABLISHED';
    if (e.state === 'PARTIAL' && peer.state !== 'INACTIVE' && peer.state !== 'PARTIAL') e.state = 'ESTABLISHED';
  }
}

/** The most frequent value of a count map (EndpointStats' `ttls`, `toss`), or null when empty. */
export function mode(m: ReadonlyMap<number, number>): number | null {
  let best: number | null = null;
  let bestN = -1;
  for (const [v, n] of m) if (n > bestN) { best = v; bestN = n; }
  return best;
}

/** `n` more of value `v` in a list of value, count pairs (made when null); returns the list. */
function addCount(pairs: number[] | null, v: number, n: number): number[] {
  const list = pairs ?? [];
  let i = 0;
  while (i < list.length && list[i] !== v) i += 2;
  if (i < list.length) list[i + 1] += n;
  else list.push(v, n);
  return list;
}

function countMap(v0: number, n0: number, more: readonly number[] | null): Map<number, number> {
  const m = new Map<number, number>();
  if (n0 > 0) m.set(v0, n0);
  if (more !== null) for (let i = 0; i < more.length; i += 2) m.set(more[i], more[i + 1]);
  return m;
}

// --- an endpoint before a RST, as numbers (writeAtRst / readAtRst) ---------------------------
const ENDPOINT_STATES: readonly EndpointState[] = ['INACTIVE', 'SYN_SENT', 'SYN_ACK_SENT', 'PARTIAL', 'ESTABLISHED', 'CLOSED', 'RESET'];
const A_STATE = 0;
const A_ISN = 1;
const A_SAW_SYN = 2;
const A_NEXT_SEQ = 3;
const A_LAST_ACK = 4;
const A_WINDOW = 5;
const A_WINDOW_SHIFT = 6;
const A_TIMESTAMPS = 7;
const A_FIN_FRAME = 8;
const A_FIN_SEQ = 9;
const A_PACKETS = 10;
const A_BYTES = 11;
const A_RETRANS = 12;
const A_KEEPALIVES = 13;
const A_ZERO_WINDOWS = 14;
const A_LAST_IDENT = 15;
const A_PROBES = 16;
const A_RETRANS_SINCE = 17;
const A_LAST_SEG_FRAME = 18;
const A_LAST_TIME = 19;
const A_HAS_LAST_SEG = 20;
const A_SYN_LAYOUT = 21;
const A_SYN_WINDOW = 22;
const A_SYN_TTL = 23;
const A_ID_SEEN = 24;
const A_ID_ZERO = 25;
const A_ID_INCR = 26;
const A_ID_FIRST = 27;
/** Its last segment's row (STRIDE numbers, segment-store's fields), when A_HAS_LAST_SEG is 1. */
const A_LAST_SEG = 28;
/** How many doubles and int32 pack() writes. */
export const PACK_F64 = 6;
export const PACK_I32 = 38;
/** How many numbers writeAtRst writes. */
export const AT_RST_SIZE = A_LAST_SEG + STRIDE;

/** The EndpointAtRst that writeAtRst stored at `src[o]`; an object literal, so that every one has
 *  the same hidden class. */
export function readAtRst(src: readonly number[], o: number): EndpointAtRst {
  return {
    state: ENDPOINT_STATES[src[o + A_STATE]]!,
    isn: orNull(src[o + A_ISN]),
    sawSyn: src[o + A_SAW_SYN] === 1,
    nextSeq: orNull(src[o + A_NEXT_SEQ]),
    lastAck: orNull(src[o + A_LAST_ACK]),
    window: src[o + A_WINDOW],
    windowShift: src[o + A_WINDOW_SHIFT],
    usesTimestamps: src[o + A_TIMESTAMPS] === 1,
    finFrame: orNull(src[o + A_FIN_FRAME]),
    finSeq: orNull(src[o + A_FIN_SEQ]),
    packets: src[o + A_PACKETS],
    bytes: src[o + A_BYTES],
    retransmissions: src[o + A_RETRANS],
    keepalives: src[o + A_KEEPALIVES],
    zeroWindows: src[o + A_ZERO_WINDOWS],
    lastIdent: orNull(src[o + A_LAST_IDENT]),
    synLayout: src[o + A_SYN_LAYOUT],
    synWindow: src[o + A_SYN_WINDOW],
    synTtl: src[o + A_SYN_TTL],
    idSeen: src[o + A_ID_SEEN],
    idZero: src[o + A_ID_ZERO],
    idIncr: src[o + A_ID_INCR],
    idFirst: src[o + A_ID_FIRST],
    probesSinceHeard: src[o + A_PROBES],
    retransSinceHeard: src[o + A_RETRANS_SINCE],
    lastSegFrame: orNull(src[o + A_LAST_SEG_FRAME]),
    lastSeg: src[o + A_HAS_LAST_SEG] === 1 ? summaryFrom(src, o + A_LAST_SEG) : null,
    lastTime: src[o + A_LAST_TIME],
  };
}

const orNull = (v: number): number | null => (v < 0 ? null : v);

/** -1 (none yet) or a byte: a TTL or TOS value. */
const isByte = (v: number): boolean => v >= -1 && v <= 255 && (v | 0) === v;

/** Store `v` at `i[k]`; whether it is held exactly (an integer in int32 range). */
export function putInt32(i: Int32Array, k: number, v: number): boolean {
  i[k] = v;
  return i[k] === v;
}

function formatIpv4Number(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}
