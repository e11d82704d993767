// The live state of one endpoint of a tracked connection (EndpointTrack), reused for connection
// after connection, and its snapshot as the public EndpointStats. Contract:
// - The fields are EndpointStats' under the same names (documented there), in the numeric form
//   the per-packet code can keep unboxed: -1 for null (sequence numbers, frames and IDs are never
//   negative), the address as a number (IPv4) or a string, and TTL/TOS counts as parallel arrays
//   fed by runs of equal values.
// - `reset()` gives every field its default, for a new connection; `snapshot()` builds a fresh
//   EndpointStats, converting each field from its live form.
// - `advanceState` is Zeek's endpoint state machine for a segment without SYN or RST.

import { summaryAt } from './segment-store.js';
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
  /** TTL / TOS values and their counts, in first-seen order (as a Map would keep them). */
  readonly ttlVals: number[] = [];
  readonly ttlCounts: number[] = [];
  readonly tosVals: number[] = [];
  readonly tosCounts: number[] = [];
  /** Current run of equal TTLs / TOS values, not yet in the counts. */
  ttl = -1;
  ttlRun = 0;
  tos = -1;
  tosRun = 0;
  lastIdent = -1;
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
    // (Setting the length of an array calls into the runtime even when it is already 0.)
    if (this.ttlVals.length) { this.ttlVals.length = 0; this.ttlCounts.length = 0; }
    if (this.tosVals.length) { this.tosVals.length = 0; this.tosCounts.length = 0; }
    this.ttl = -1;
    this.ttlRun = 0;
    this.tos = -1;
    this.tosRun = 0;
    this.lastIdent = -1;
    this.probesSinceHeard = 0;
    this.retransSinceHeard = 0;
    this.lastSegFrame = -1;
    this.lastRow = -1;
    this.lastTime = 0;
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
    return {
      addr: this.addrS ?? formatIpv4Number(this.addrN),
      port: this.port,
      rstFrames,
      ttls: countMap(this.ttlVals, this.ttlCounts),
      toss: countMap(this.tosVals, this.tosCounts),
      ...this.atRst(st),
    };
  }

  /** The endpoint just before a RST (no runs flushed, nothing that only the whole connection
   *  tells); `st` as for snapshot(). An object literal: every one has the same hidden class. */
  atRst(st: Store): EndpointAtRst {
    return {
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
      packets: this.packets,
      bytes: this.bytes,
      retransmissions: this.retransmissions,
      keepalives: this.keepalives,
      zeroWindows: this.zeroWindows,
      lastIdent: orNull(this.lastIdent),
      probesSinceHeard: this.probesSinceHeard,
      retransSinceHeard: this.retransSinceHeard,
      lastSegFrame: orNull(this.lastSegFrame),
      lastSeg: this.lastRow >= 0 ? summaryAt(st, this.lastRow) : null,
      lastTime: this.lastTime,
    };
  }

  private flushTtl(): void {
    if (this.ttlRun > 0) {
      addCount(this.ttlVals, this.ttlCounts, this.ttl, this.ttlRun);
      this.ttlRun = 0;
    }
  }

  private flushTos(): void {
    if (this.tosRun > 0) {
      addCount(this.tosVals, this.tosCounts, this.tos, this.tosRun);
      this.tosRun = 0;
    }
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

function addCount(vals: number[], counts: number[], v: number, n: number): void {
  const i = vals.indexOf(v);
  if (i >= 0) counts[i] += n;
  else { vals.push(v); counts.push(n); }
}

function countMap(vals: readonly number[], counts: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < vals.length; i += 1) m.set(vals[i], counts[i]);
  return m;
}

const orNull = (v: number): number | null => (v < 0 ? null : v);

function formatIpv4Number(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}
