// Connection tracker: turns decoded TCP segments, in capture order, into one record per TCP
// connection (Zeek's conn.log model) and hands every RST to the explainer with the context it
// needs. Contract:
// - `push(seg)` / `pushSegment(frame, time, decoded)` / `pushSegmentAt(frame, at, decoded)` take
//   one segment at a time; nothing here throws on odd traffic: oddities become named anomalies on
//   the connection.
// - A connection is keyed by its 4-tuple; a new SYN on a tuple whose connection has ended (RST, or
//   FIN both ways), or whose ISN differs, starts a new connection (port reuse).
// - Memory is bounded by the connections alive, not by the capture: a connection that ended (a
//   RST, or both FINs) is finalized once `closedLingerSec` (default 5 s) of capture time passed
//   without a packet on it — so the segments that follow a RST within that time (more resets, a
//   challenge ACK, data still in flight) still join it, and anything later on the same tuple is a
//   new connection (also when no sweep ran in between). Any connection is finalized by the sweep
//   that runs every 10 s of capture time once it has been idle for `idleTimeoutSec`; an ended one
//   is held at most ~linger + 10 s.
//   Every connection keeps at most `maxSegments` segment summaries (the first half and the latest
//   ones); with 0 it keeps none (`explain --json` draws no ladders), only each endpoint's last.
// - Finalized connections go to `onConnection` (with their RSTs, which the explainer judges there,
//   so that what followed a RST — a challenge ACK, more resets — is part of the evidence), in the
//   order they are finalized; `flush()` finalizes the rest in order of their first frame.
//
// Hot path (one call per packet): no strings and no objects per packet — not even a boxed
// number: the capture time stays in the caller's reused record (`SegmentTime`) and each
// per-packet function makes its double from it locally (a number passed to a call that is not
// inlined is a new heap object unless it is a small integer, and today's seconds are not: ~18 MB
// per GiB of capture). IPv4 connections are found
// in an open-addressing table keyed by the numeric 4-tuple (other IP versions by a string key);
// the live state of a connection is a pooled `Track`, and segment summaries are rows of numbers in
// a pooled array. The public objects — Connection, EndpointStats, SegmentSummary — are built only
// when a RST needs its context and when the connection is finalized (`segments` on first read),
// so they die young and a long capture leaves no garbage behind in the old generation.

import { Ipv4Packet } from '../wire/ipv4.js';
import { seqAdd, seqGt, seqLt } from '../wire/seq.js';
import { newTcpOptionScan, optionKindNames, scanDecodedOptions, TcpSegment } from '../wire/tcp.js';
import type { TcpOptionScan } from '../wire/tcp.js';
import type { FrameTcp } from '../wire/types.js';
import { TcpFlag } from '../wire/types.js';

/** A segment's capture time, in a record the caller reuses: time = tsSec + tsNsec / 1e9. */
export interface SegmentTime {
  tsSec: number;
  tsNsec: number;
}

/** One TCP segment as the tracker sees it. */
export interface SegmentInput {
  frame: number;
  /** Capture time in seconds since the epoch (float). */
  time: number;
  decoded: FrameTcp;
}

/** Zeek's endpoint states (analyzer/protocol/tcp/TCP_Endpoint.h), used to derive conn_state. */
export type EndpointState =
  | 'INACTIVE' | 'SYN_SENT' | 'SYN_ACK_SENT' | 'PARTIAL' | 'ESTABLISHED' | 'CLOSED' | 'RESET';

/** A compact record of one segment, kept for evidence and ladder diagrams. */
export interface SegmentSummary {
  frame: number;
  time: number;
  /** true when sent by the originator. */
  fromOrig: boolean;
  flags: number;
  seqNumber: number;
  ackNumber: number;
  payloadLength: number;
  window: number;
  ttl: number;
  ident: number | null;
  tos: number;
  /** Options present on the segment, by kind (`mss`, `timestamps`, …). */
  optionKinds: string[];
  /** Retransmission, keepalive probe, zero window… as tracker annotations. */
  notes: string[];
}

export interface EndpointStats {
  addr: string;
  port: number;
  state: EndpointState;
  /** Initial sequence number (from its SYN), or the first sequence number seen midstream. */
  isn: number | null;
  sawSyn: boolean;
  /** Highest sequence number sent + 1 (SND.NXT as observed). */
  nextSeq: number | null;
  /** Highest acknowledgement number sent (what it has received of the peer: RCV.NXT as observed). */
  lastAck: number | null;
  /** Last advertised window, scaled when both SYNs carried window scale. */
  window: number;
  windowShift: number;
  usesTimestamps: boolean;
  finFrame: number | null;
  /** Sequence number of its FIN. */
  finSeq: number | null;
  rstFrames: number[];
  packets: number;
  /** Payload bytes sent, retransmissions excluded. */
  bytes: number;
  retransmissions: number;
  keepalives: number;
  zeroWindows: number;
  /** TTLs of its non-RST packets: value → count. */
  ttls: Map<number, number>;
  /** TOS values of its non-RST packets: value → count. */
  toss: Map<number, number>;
  lastIdent: number | null;
  /** Probes (keepalives) and retransmissions sent since the peer was last heard from. */
  probesSinceHeard: number;
  retransSinceHeard: number;
  /** Frame of its last non-RST segment. */
  lastSegFrame: number | null;
  lastSeg: SegmentSummary | null;
  lastTime: number;
}

/** Everything the explainer needs to judge one RST. */
export interface RstContext {
  seg: SegmentSummary;
  /** RST payload length (Linux never puts data in a RST). */
  payloadLength: number;
  fromOrig: boolean;
  /** Snapshots of both endpoints just before the RST. */
  sender: Readonly<EndpointStats>;
  receiver: Readonly<EndpointStats>;
  /** The receiver's last segment before the RST (the likely trigger). */
  trigger: SegmentSummary | null;
  /** Earlier RSTs on this connection, by frame. */
  earlierRsts: number[];
  /** Segments from the receiver after the RST (bounded), e.g. a challenge ACK. */
  after: SegmentSummary[];
  /** Frames of the sender's own segments (not RSTs) after the RST: the first few. */
  keptSending: number[];
}

export interface Connection {
  id: number;
  orig: EndpointStats;
  resp: EndpointStats;
  ipVersion: 4 | 6;
  firstFrame: number;
  lastFrame: number;
  start: number;
  end: number;
  /** Zeek-style history: uppercase = originator, lowercase = responder. */
  history: string;
  /** Segment summaries: the first `maxSegments/2` and the last ones; `segmentsDropped` in between.
   *  Built on first read (a plain data property from then on). */
  segments: SegmentSummary[];
  segmentsDropped: number;
  rsts: RstContext[];
  /** Named oddities: `syn-with-rst`, `rst-with-payload`, `midstream`, `ip-fragment`, … with counts. */
  anomalies: Map<string, number>;
  /** true once a RST was seen or both sides sent FIN. */
  ended: boolean;
}

export interface TrackerOptions {
  onConnection: (c: Connection) => void;
  /**
   * Which finalized connections to build and hand to `onConnection`, from their conn_state and
   * number of RSTs (default: all). The others are recycled unbuilt; `onSkipped` hears of them.
   */
  keep?: (connState: string, rsts: number) => boolean;
  onSkipped?: (connState: string) => void;
  /** Keep at most this many segment summaries per connection (default 64); 0 keeps none, for
   *  callers that draw no ladders (each endpoint's last segment is still kept, for the evidence). */
  maxSegments?: number;
  /** Finalize an ended connection after this much capture time without packets (default 5 s). */
  closedLingerSec?: number;
  /** Finalize any connection after this much capture time without packets (default 3600 s). */
  idleTimeoutSec?: number;
}

const AFTER_RST_KEEP = 4;
/** `keptSending`: how many of the RST sender's later frames are kept. */
const KEPT_SENDING_KEEP = 5;
/** Default `closedLingerSec`: how long an ended connection waits for stragglers. */
export const DEFAULT_CLOSED_LINGER_SEC = 5;

// --- segment store ---------------------------------------------------------------------------
// A connection's segment summaries live as rows of numbers in one array of doubles: rows 2… are
// the bounded list (the first `maxSegments/2` rows fixed, the rest a ring of the latest); an
// endpoint's last segment is found by its row, and moved to row 0 (originator) or 1 (responder)
// when the ring is about to overwrite it. With `maxSegments` 0 there is no list: an endpoint's
// segments take turns in its two rows (0 and 2, or 1 and 3), so its last one stays readable.
// A plain array, not a Float64Array: typed arrays of this size live outside the V8 heap and are
// freed only by full collections.

const F_FRAME = 0;
const F_TIME = 1;
const F_SEQ = 2;
const F_ACK = 3;
const F_LEN = 4;
/** IPv4 ID or IPv6 fragment ID; -1 for null. */
const F_IDENT = 5;
/** flags (9 bits) | fromOrig << 9 | notes << 10. */
const F_BITS = 6;
/** window | ttl << 16 | tos << 24 (as int32). */
const F_WTT = 7;
const F_KINDS_LO = 8;
const F_KINDS_HI = 9;
const STRIDE = 10;
const FIRST_LIST_ROW = 2;
/** A new connection's store: the two spill rows and the first 6 of the list; then a full one
 *  (with maxSegments 0, only the two endpoint rows). */
const INITIAL_ROWS = 8;
/**
 * Finalized tracks (with their stores) kept for reuse. Tracks are created only when the pool is
 * empty, so the pool and the live tracks together never exceed the peak of live connections: the
 * cap only bounds what a past burst leaves reserved.
 */
const TRACK_POOL_MAX = 16384;

const FROM_ORIG_BIT = 0x200;
const NOTE_SHIFT = 10;
const N_RETRANSMISSION = 1;
const N_KEEPALIVE = 2;
const N_ZERO_WINDOW = 4;

type Store = number[];

function newStore(rows: number): Store {
  return new Array<number>(rows * STRIDE).fill(0.5); // a double, so that the array holds unboxed doubles
}

function notesOf(mask: number): string[] {
  const notes: string[] = [];
  if (mask & N_RETRANSMISSION) notes.push('retransmission');
  if (mask & N_KEEPALIVE) notes.push('keepalive');
  if (mask & N_ZERO_WINDOW) notes.push('zero-window');
  return notes;
}

function summaryAt(st: Store, row: number): SegmentSummary {
  const o = row * STRIDE;
  const bits = st[o + F_BITS];
  const wtt = st[o + F_WTT];
  const ident = st[o + F_IDENT];
  return {
    frame: st[o + F_FRAME],
    time: st[o + F_TIME],
    fromOrig: (bits & FROM_ORIG_BIT) !== 0,
    flags: bits & 0x1ff,
    seqNumber: st[o + F_SEQ],
    ackNumber: st[o + F_ACK],
    payloadLength: st[o + F_LEN],
    window: wtt & 0xffff,
    ttl: (wtt >>> 16) & 0xff,
    ident: ident < 0 ? null : ident,
    tos: wtt >>> 24,
    optionKinds: optionKindNames(st[o + F_KINDS_LO], st[o + F_KINDS_HI]),
    notes: notesOf(bits >>> NOTE_SHIFT),
  };
}

// --- history letters -------------------------------------------------------------------------
// Zeek records most history letters once per direction (a bitmask of those seen); T and W repeat
// at 1, 10, 100, … occurrences (counters).
const L_S = 0;
const L_H = 1;
const L_A = 2;
const L_D = 3;
const L_F = 4;
const L_R = 5;
const L_Q = 6;
const LETTERS_ORIG = 'SHADFRQ';
const LETTERS_RESP = 'shadfrq';

/**
 * The live state of one endpoint: EndpointStats' fields under the same names, with -1 for null
 * (sequence numbers, frames and IDs are never negative), and TTL/TOS counts as parallel arrays
 * fed by runs of equal values.
 */
class EndpointTrack {
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
  readonly rstFrames: number[] = [];
  packets = 0;
  bytes = 0;
  retransmissions = 0;
  keepalives = 0;
  zeroWindows = 0;
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
  /** Its own row for a last segment that left the list (0 for the originator, 1 for the responder). */
  spillRow = 0;
  lastTime = 0;

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
    if (this.rstFrames.length) this.rstFrames.length = 0;
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

  /** Add the current TTL/TOS runs to the counts (in first-seen order, as a Map would keep them). */
  flushRuns(): void {
    this.flushTtl();
    this.flushTos();
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
function advanceState(e: EndpointTrack, peer: EndpointTrack, ack: boolean): void {
  if (e.state === 'INACTIVE') e.state = 'PARTIAL';
  if (ack) {
    if (e.state === 'SYN_SENT' || e.state === 'SYN_ACK_SENT') e.state = 'ESTABLISHED';
    if (peer.state === 'SYN_ACK_SENT' || peer.state === 'SYN_SENT') peer.state = 'ESTABLISHED';
    if (e.state === 'PARTIAL' && peer.state !== 'INACTIVE' && peer.state !== 'PARTIAL') e.state = 'ESTABLISHED';
  }
}

/** A segment after a RST: the receiver's (a challenge ACK, more resets) join the RST's `after`;
 *  the sender's own non-RST frames, its `keptSending`. */
function followRsts(rsts: RstContext[], fromOrig: boolean, rst: boolean, st: Store, row: number, frame: number): void {
  let summary: SegmentSummary | null = null;
  for (const r of rsts) {
    if (r.fromOrig !== fromOrig) {
      if (r.after.length < AFTER_RST_KEEP) r.after.push(summary ??= summaryAt(st, row));
    } else if (!rst && r.keptSending.length < KEPT_SENDING_KEEP) {
      r.keptSending.push(frame);
    }
  }
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

/** A fresh EndpointStats of the endpoint now (runs flushed first). */
function statsOf(e: EndpointTrack, st: Store): EndpointStats {
  e.flushRuns();
  return {
    addr: e.addrS ?? formatIpv4Number(e.addrN),
    port: e.port,
    state: e.state,
    isn: orNull(e.isn),
    sawSyn: e.sawSyn,
    nextSeq: orNull(e.nextSeq),
    lastAck: orNull(e.lastAck),
    window: e.window,
    windowShift: e.windowShift,
    usesTimestamps: e.usesTimestamps,
    finFrame: orNull(e.finFrame),
    finSeq: orNull(e.finSeq),
    rstFrames: e.rstFrames.slice(),
    packets: e.packets,
    bytes: e.bytes,
    retransmissions: e.retransmissions,
    keepalives: e.keepalives,
    zeroWindows: e.zeroWindows,
    ttls: countMap(e.ttlVals, e.ttlCounts),
    toss: countMap(e.tosVals, e.tosCounts),
    lastIdent: orNull(e.lastIdent),
    probesSinceHeard: e.probesSinceHeard,
    retransSinceHeard: e.retransSinceHeard,
    lastSegFrame: orNull(e.lastSegFrame),
    lastSeg: e.lastRow >= 0 ? summaryAt(st, e.lastRow) : null,
    lastTime: e.lastTime,
  };
}

/** The live state of one connection (reused for another connection once finalized). */
class Track {
  readonly orig = new EndpointTrack();
  readonly resp = new EndpointTrack();

  constructor() {
    this.resp.spillRow = 1;
  }

  id = 0;
  ipVersion: 4 | 6 = 4;
  firstFrame = 0;
  lastFrame = 0;
  start = 0;
  end = 0;
  history = '';
  rsts: RstContext[] | null = null;
  anomalies: Map<string, number> | null = null;
  ended = false;
  /** History letters seen (bits), and the repeating letters' counters. */
  letters = 0;
  retransOrig = 0;
  retransResp = 0;
  zeroWinOrig = 0;
  zeroWinResp = 0;
  store: Store = newStore(INITIAL_ROWS);
  /** Segments offered to the bounded list so far. */
  listed = 0;
  /** Lookup key: the canonical IPv4 4-tuple (ka, kb, kp), or a string key (skey !== null). */
  ka = 0;
  kb = 0;
  kp = 0;
  skey: string | null = null;

  anomaly(code: string): void {
    const m = (this.anomalies ??= new Map());
    m.set(code, (m.get(code) ?? 0) + 1);
  }
}

/** Open-addressing (linear probing, backward-shift deletion) map from an IPv4 4-tuple to a Track. */
class TupleTable {
  private mask = 0;
  private ka = new Int32Array(0);
  private kb = new Int32Array(0);
  private kp = new Int32Array(0);
  private vals: Array<Track | undefined> = [];
  private size = 0;

  constructor() {
    // Allocated by the same method that grows the table, so that V8 sees these fields written
    // twice from the start: code optimized before the first growth then does not depend on them
    // being constant (a growth would throw that code away in the middle of a capture).
    this.resize(1024);
  }

  private static hash(a: number, b: number, p: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b ^ (b >>> 15), 0x85ebca6b) ^ Math.imul(p, 0xc2b2ae35);
    h ^= h >>> 16;
    h = Math.imul(h, 0x7feb352d);
    return h ^ (h >>> 15);
  }

  get(a: number, b: number, p: number): Track | undefined {
    const { ka, kb, kp, vals, mask } = this;
    let i = TupleTable.hash(a, b, p) & mask;
    for (;;) {
      const v = vals[i];
      if (v === undefined) return undefined;
      if (ka[i] === a && kb[i] === b && kp[i] === p) return v;
      i = (i + 1) & mask;
    }
  }

  /** Insert a key known to be absent. */
  add(a: number, b: number, p: number, t: Track): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    this.put(a, b, p, t);
    this.size += 1;
  }

  delete(a: number, b: number, p: number): void {
    const { ka, kb, kp, vals, mask } = this;
    let i = TupleTable.hash(a, b, p) & mask;
    for (;;) {
      const v = vals[i];
      if (v === undefined) return;
      if (ka[i] === a && kb[i] === b && kp[i] === p) break;
      i = (i + 1) & mask;
    }
    // Backward shift: move later entries of the probe run into the hole when their home allows.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (vals[j] === undefined) break;
      const home = TupleTable.hash(ka[j], kb[j], kp[j]) & mask;
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (between) continue;
      ka[i] = ka[j];
      kb[i] = kb[j];
      kp[i] = kp[j];
      vals[i] = vals[j];
      i = j;
    }
    vals[i] = undefined;
    this.size -= 1;
  }

  private put(a: number, b: number, p: number, t: Track): void {
    const { ka, kb, kp, vals, mask } = this;
    let i = TupleTable.hash(a, b, p) & mask;
    while (vals[i] !== undefined) i = (i + 1) & mask;
    ka[i] = a;
    kb[i] = b;
    kp[i] = p;
    vals[i] = t;
  }

  private grow(): void {
    this.resize((this.mask + 1) * 2);
  }

  private resize(cap: number): void {
    const { ka, kb, kp, vals } = this;
    this.mask = cap - 1;
    this.ka = new Int32Array(cap);
    this.kb = new Int32Array(cap);
    this.kp = new Int32Array(cap);
    this.vals = new Array<Track | undefined>(cap).fill(undefined);
    for (let i = 0; i < vals.length; i += 1) {
      const v = vals[i];
      if (v !== undefined) this.put(ka[i], kb[i], kp[i], v);
    }
  }
}

export class ConnectionTracker {
  private readonly v4 = new TupleTable();
  private readonly byKey = new Map<string, Track>();
  /** Every tracked connection, in the order it was opened (sweeps and ties in flush follow it). */
  private readonly live = new Set<Track>();
  private readonly pool: Track[] = [];
  private readonly opts: Required<TrackerOptions>;
  private readonly maxSegments: number;
  private readonly head: number;
  private readonly scan = newTcpOptionScan();
  private nextId = 1;
  /** The time record of `pushSegment` (doubles from the start, like the times it holds). */
  private readonly clock: SegmentTime = { tsSec: 0.5, tsNsec: 0.5 };
  /** Capture time of the last sweep; -Infinity before the first (a double from the start, like the
   *  times it will hold, so that V8 never changes the field's representation under optimized code). */
  private lastSweep = -Infinity;

  constructor(opts: TrackerOptions) {
    this.opts = { maxSegments: 64, closedLingerSec: DEFAULT_CLOSED_LINGER_SEC, idleTimeoutSec: 3600, keep: keepAll, onSkipped: ignore, ...opts };
    this.maxSegments = Math.max(0, this.opts.maxSegments);
    this.head = this.maxSegments >> 1;
  }

  /** Connections currently held in memory. */
  get alive(): number {
    return this.live.size;
  }

  push(input: SegmentInput): void {
    this.pushSegment(input.frame, input.time, input.decoded);
  }

  /** `push` without the wrapper object. */
  pushSegment(frame: number, time: number, decoded: FrameTcp): void {
    this.clock.tsSec = time;
    this.clock.tsNsec = 0; // time + 0 / 1e9 is exactly time
    this.pushSegmentAt(frame, this.clock, decoded);
  }

  /** `pushSegment` with the capture time read from `at` (time = at.tsSec + at.tsNsec / 1e9), a
   *  record the caller reuses, such as the capture reader's PacketRecord: nothing is allocated. */
  pushSegmentAt(frame: number, at: SegmentTime, decoded: FrameTcp): void {
    const time = at.tsSec + at.tsNsec / 1e9;
    const { ip, tcp } = decoded;
    const flags = tcp.flags;
    const isSyn = (flags & TcpFlag.SYN) !== 0;
    const isAck = (flags & TcpFlag.ACK) !== 0;
    const sport = tcp.srcPort;
    const dport = tcp.dstPort;

    let t: Track | undefined;
    let srcN = 0;
    let dstN = 0;
    let ka = 0;
    let kb = 0;
    let kp = 0;
    let src: string | null = null;
    let dst: string | null = null;
    let skey: string | null = null;
    if (ip instanceof Ipv4Packet) {
      srcN = ip.srcNumber;
      dstN = ip.dstNumber;
      if (srcN < dstN || (srcN === dstN && sport <= dport)) {
        ka = srcN | 0; kb = dstN | 0; kp = (sport << 16) | dport;
      } else {
        ka = dstN | 0; kb = srcN | 0; kp = (dport << 16) | sport;
      }
      t = this.v4.get(ka, kb, kp);
    } else {
      src = ip.src;
      dst = ip.dst;
      const a = `${src}|${sport}`;
      const z = `${dst}|${dport}`;
      skey = a < z ? `${a}|${z}` : `${z}|${a}`;
      t = this.byKey.get(skey);
    }

    // An ended connection past its linger is over even if no sweep has run since.
    if (t !== undefined && t.ended && time - t.end > this.opts.closedLingerSec) {
      this.finalize(t);
      t = undefined;
    }
    // A SYN on a known tuple starts a new connection unless it repeats the endpoint's own SYN (same
    // ISN): after the connection ended, or when the endpoint's ISN changed (a new connect()).
    if (t !== undefined && isSyn && !isAck) {
      const e = t.orig.addrN === srcN && t.orig.addrS === src && t.orig.port === sport ? t.orig : t.resp;
      if (e.sawSyn ? e.isn !== tcp.seqNumber : t.ended) {
        this.finalize(t);
        t = undefined;
      }
    }
    if (t === undefined) {
      t = this.open(frame, time, ip.version, isSyn, isAck, srcN, src, sport, dstN, dst, dport);
      t.ka = ka;
      t.kb = kb;
      t.kp = kp;
      t.skey = skey;
      if (skey === null) this.v4.add(ka, kb, kp, t);
      else this.byKey.set(skey, t);
    }
    const fromOrig = t.orig.addrN === srcN && t.orig.addrS === src && t.orig.port === sport;
    this.update(t, fromOrig, frame, at, decoded, flags);

    const now = at.tsSec + at.tsNsec / 1e9; // (made again: a double kept across a call is boxed)
    if (now - this.lastSweep > 10 || this.lastSweep > now) this.sweep(now);
  }

  /** Finalize every connection still held (end of capture). */
  flush(): void {
    const all = [...this.live].sort((x, y) => x.firstFrame - y.firstFrame);
    for (const t of all) this.finalize(t);
  }

  /** A new connection, on a pooled track, from its first segment (not yet in a lookup table). */
  private open(frame: number, time: number, ipVersion: 4 | 6, isSyn: boolean, isAck: boolean,
    srcN: number, src: string | null, sport: number, dstN: number, dst: string | null, dport: number): Track {
    const t = this.pool.pop() ?? new Track();
    // The originator sent the first SYN; if the first packet is a SYN-ACK, its receiver did.
    // Midstream: the sender of the first packet seen (Zeek's default too).
    if (!(isSyn && isAck)) {
      t.orig.reset(srcN, src, sport);
      t.resp.reset(dstN, dst, dport);
    } else {
      t.orig.reset(dstN, dst, dport);
      t.resp.reset(srcN, src, sport);
    }
    t.id = this.nextId++;
    t.ipVersion = ipVersion;
    t.firstFrame = frame;
    t.lastFrame = frame;
    t.start = time;
    t.end = time;
    t.history = '';
    t.ended = false;
    t.letters = 0;
    t.retransOrig = 0;
    t.retransResp = 0;
    t.zeroWinOrig = 0;
    t.zeroWinResp = 0;
    t.listed = 0;
    if (!isSyn) t.anomaly('midstream');
    this.live.add(t);
    return t;
  }

  private letter(t: Track, fromOrig: boolean, l: number): void {
    const bit = 1 << (fromOrig ? l : l + 7);
    if ((t.letters & bit) === 0) {
      t.letters |= bit;
      t.history += fromOrig ? LETTERS_ORIG[l] : LETTERS_RESP[l];
    }
  }

  /** T / W: recorded at the 1st, 10th, 100th, 1000th and 10000th occurrence. */
  private repeated(t: Track, n: number, ch: string): void {
    if (n === 1 || n === 10 || n === 100 || n === 1000 || n === 10000) t.history += ch;
  }

  // update() is the per-segment hot path, kept small: V8 optimizes a function after a number of
  // calls that grows with its size, and the first ~10,000 segments of every capture run before
  // that. What is rare (handshake, FIN, RST, retransmissions, a list row after the first ones,
  // a TTL change) is in the methods after it.
  private update(t: Track, fromOrig: boolean, frame: number, at: SegmentTime, decoded: FrameTcp, flags: number): void {
    const time = at.tsSec + at.tsNsec / 1e9;
    const { ip, tcp } = decoded;
    const e = fromOrig ? t.orig : t.resp;
    const peer = fromOrig ? t.resp : t.orig;
    const syn = (flags & TcpFlag.SYN) !== 0;
    const ack = (flags & TcpFlag.ACK) !== 0;
    const fin = (flags & TcpFlag.FIN) !== 0;
    const rst = (flags & TcpFlag.RST) !== 0;
    const len = decoded.payloadLength;
    const seq = tcp.seqNumber;
    const ackNumber = tcp.ackNumber;
    const window = tcp.window;
    let notes = 0;

    const frameAnomalies = decoded.anomalies;
    for (let i = 0; i < frameAnomalies.length; i += 1) t.anomaly(frameAnomalies[i]);
    t.lastFrame = frame;
    t.end = time;
    e.packets++;
    e.lastTime = time;

    let kindsLo = 0;
    let kindsHi = 0;
    if (tcp.headerLength > 20) {
      const sc = this.scanOptions(t, e, tcp, syn);
      kindsLo = sc.low;
      kindsHi = sc.high;
    }
    if (syn || rst) this.oddFlags(t, fromOrig, syn, fin, rst, len);

    // Sequence bookkeeping before judging retransmission.
    const segEnd = seqAdd(seq, len + (syn ? 1 : 0) + (fin ? 1 : 0));
    let retransmission = false;
    let keepalive = false;
    if (!rst) {
      // (isn and nextSeq are set together, by an endpoint's first segment that is not a RST.)
      if (syn || e.nextSeq < 0) {
        retransmission = this.firstSequence(e, syn, seq, segEnd);
      } else {
        const consumes = len > 0 || fin;
        if (consumes && seqLt(seq, e.nextSeq)) {
          // Keepalive probe (Wireshark's rule): 0 or 1 byte at SND.NXT−1, nothing else in flight.
          if (len <= 1 && !fin && seqAdd(seq, 1) === e.nextSeq) keepalive = true;
          else if (seqGt(segEnd, e.nextSeq)) { /* partly new: not a pure retransmission */ }
          else retransmission = true;
        } else if (!consumes && len === 0 && seqAdd(seq, 1) === e.nextSeq && peer.lastAck >= 0
          && peer.lastAck === e.nextSeq) {
          keepalive = true; // zero-length probe at SND.NXT−1
        }
        if (seqGt(segEnd, e.nextSeq)) e.nextSeq = segEnd;
      }
    }
    if (ack && !rst) {
      if (e.lastAck < 0 || seqGt(ackNumber, e.lastAck)) e.lastAck = ackNumber;
    }

    if (retransmission) {
      notes |= N_RETRANSMISSION;
      this.retransmitted(t, e, fromOrig);
    } else if (keepalive) {
      e.keepalives++;
      e.probesSinceHeard++;
      notes |= N_KEEPALIVE;
    } else if (!rst && (len > 0 || fin || syn)) {
      e.bytes += len;
    }
    // Any segment from this endpoint answers the peer: its unanswered probes/retransmissions reset.
    peer.probesSinceHeard = 0;
    peer.retransSinceHeard = 0;

    if (!rst && !syn) {
      const w = window << (t.orig.windowShift && t.resp.windowShift ? e.windowShift : 0);
      e.window = w;
      if (window === 0) {
        notes |= N_ZERO_WINDOW;
        this.zeroWindow(t, e, fromOrig);
      }
    } else if (syn) {
      e.window = window;
    }

    // --- history letters and endpoint state (Zeek's TCP analyzer, simplified) ---
    if (syn) {
      this.handshake(t, e, fromOrig, ack);
    } else if (!rst) {
      if (len > 0) this.letter(t, fromOrig, L_D);
      else if (ack && !fin) this.letter(t, fromOrig, L_A);
      // (Nothing below changes once both endpoints are established.)
      if (e.state !== 'ESTABLISHED' || peer.state !== 'ESTABLISHED') advanceState(e, peer, ack);
    }
    if (fin && !rst) this.finSeen(t, e, fromOrig, seq, len, frame);

    // The segment's row in the bounded list: the first `head` rows, then a ring of the latest.
    // With no list, one of the sender's two own rows (0/2 originator, 1/3 responder): the one
    // not holding its last segment, which a RST's snapshot of the sender still needs.
    const n = t.listed++;
    const row = this.maxSegments === 0
      ? (e.lastRow === e.spillRow ? e.spillRow + 2 : e.spillRow)
      : this.listRow(t, e, peer, n);
    const st = t.store;
    const ident = ip.ident;
    const ttl = ip.ttl;
    const tos = ip.tos;
    const ro = row * STRIDE;
    st[ro + F_FRAME] = frame;
    st[ro + F_TIME] = time;
    st[ro + F_SEQ] = seq;
    st[ro + F_ACK] = ackNumber;
    st[ro + F_LEN] = len;
    st[ro + F_IDENT] = ident === null ? -1 : ident;
    st[ro + F_BITS] = flags | (fromOrig ? FROM_ORIG_BIT : 0) | (notes << NOTE_SHIFT);
    st[ro + F_WTT] = window | (ttl << 16) | (tos << 24);
    st[ro + F_KINDS_LO] = kindsLo;
    st[ro + F_KINDS_HI] = kindsHi;

    // Evidence gathering for RSTs still waiting for what follows them.
    if (t.rsts !== null) followRsts(t.rsts, fromOrig, rst, st, row, frame);

    if (rst) {
      this.rstSeen(t, e, peer, fromOrig, len, frame, row);
    } else {
      if (ttl !== e.ttl) e.newTtl(ttl);
      e.ttlRun++;
      if (tos !== e.tos) e.newTos(tos);
      e.tosRun++;
      e.lastIdent = ident === null ? -1 : ident;
      e.lastSegFrame = frame;
    }
    e.lastRow = row;
  }

  /** The segment's TCP options: the kinds present (in `this.scan`); window scale and timestamps
   *  as the endpoint's SYN announces them. */
  private scanOptions(t: Track, e: EndpointTrack, tcp: FrameTcp['tcp'], syn: boolean): TcpOptionScan {
    const sc = this.scan;
    if (tcp instanceof TcpSegment) tcp.scanOptionKinds(sc);
    else scanDecodedOptions(tcp.options(), sc);
    if (syn) {
      if (sc.windowShift >= 0) e.windowShift = Math.min(sc.windowShift, 14);
      if (sc.timestamps) e.usesTimestamps = true;
    }
    if (sc.malformed) t.anomaly('tcp-options-malformed');
    return sc;
  }

  /** Flag combinations that are anomalies (a SYN+FIN is also history letter Q). */
  private oddFlags(t: Track, fromOrig: boolean, syn: boolean, fin: boolean, rst: boolean, len: number): void {
    if (syn && rst) t.anomaly('syn-with-rst');
    if (syn && fin) { this.letter(t, fromOrig, L_Q); t.anomaly('syn-with-fin'); }
    if (rst && len > 0) t.anomaly('rst-with-payload');
  }

  /** A SYN, or the endpoint's first segment: sets its ISN and SND.NXT; true for a repeated SYN. */
  private firstSequence(e: EndpointTrack, syn: boolean, seq: number, segEnd: number): boolean {
    let retransmission = false;
    if (syn) {
      if (e.sawSyn && e.isn === seq) retransmission = true;
      e.sawSyn = true;
      e.isn = seq;
    } else if (e.isn < 0) {
      e.isn = seq;
    }
    if (e.nextSeq < 0) e.nextSeq = segEnd;
    return retransmission;
  }

  private retransmitted(t: Track, e: EndpointTrack, fromOrig: boolean): void {
    e.retransmissions++;
    e.retransSinceHeard++;
    if (fromOrig) this.repeated(t, ++t.retransOrig, 'T');
    else this.repeated(t, ++t.retransResp, 't');
  }

  private zeroWindow(t: Track, e: EndpointTrack, fromOrig: boolean): void {
    e.zeroWindows++;
    if (fromOrig) this.repeated(t, ++t.zeroWinOrig, 'W');
    else this.repeated(t, ++t.zeroWinResp, 'w');
  }

  private handshake(t: Track, e: EndpointTrack, fromOrig: boolean, ack: boolean): void {
    if (!ack) {
      this.letter(t, fromOrig, L_S);
      if (e.state === 'INACTIVE' || e.state === 'PARTIAL') e.state = 'SYN_SENT';
    } else {
      this.letter(t, fromOrig, L_H);
      if (e.state === 'INACTIVE' || e.state === 'PARTIAL' || e.state === 'SYN_SENT') e.state = 'SYN_ACK_SENT';
    }
  }

  private finSeen(t: Track, e: EndpointTrack, fromOrig: boolean, seq: number, len: number, frame: number): void {
    this.letter(t, fromOrig, L_F);
    if (e.finSeq < 0) {
      e.finSeq = seqAdd(seq, len);
      e.finFrame = frame;
    }
    if (e.state !== 'RESET') e.state = 'CLOSED';
    if (t.orig.finFrame >= 0 && t.resp.finFrame >= 0) t.ended = true;
  }

  /** The row for list entry `n`: the first `head` rows in order, then a ring of the latest. */
  private listRow(t: Track, e: EndpointTrack, peer: EndpointTrack, n: number): number {
    const max = this.maxSegments;
    if (n < max) {
      const row = FIRST_LIST_ROW + n;
      if (row * STRIDE >= t.store.length) t.store = grownStore(t.store, FIRST_LIST_ROW + max);
      return row;
    }
    const head = this.head;
    const row = FIRST_LIST_ROW + head + ((n - head) % (max - head));
    // The ring drops its oldest row: keep it if it is an endpoint's last segment.
    if (e.lastRow === row) spill(t.store, e);
    if (peer.lastRow === row) spill(t.store, peer);
    return row;
  }

  /** A RST (its segment already in `row`): snapshots of both endpoints for the explainer. */
  private rstSeen(t: Track, e: EndpointTrack, peer: EndpointTrack, fromOrig: boolean, len: number, frame: number, row: number): void {
    this.letter(t, fromOrig, L_R);
    const st = t.store;
    const receiver = statsOf(peer, st);
    const rsts = t.rsts ??= [];
    rsts.push({
      seg: summaryAt(st, row),
      payloadLength: len,
      fromOrig,
      sender: statsOf(e, st),
      receiver,
      trigger: receiver.lastSeg,
      earlierRsts: rsts.map((r) => r.seg.frame),
      after: [],
      keptSending: [],
    });
    e.rstFrames.push(frame);
    e.state = 'RESET';
    t.ended = true;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    const { closedLingerSec, idleTimeoutSec } = this.opts;
    for (const t of this.live) {
      const idle = now - t.end;
      if ((t.ended && idle > closedLingerSec) || idle > idleTimeoutSec) this.finalize(t);
    }
  }

  /** Build the public Connection, hand it over, and recycle the track. */
  private finalize(t: Track): void {
    if (t.skey === null) this.v4.delete(t.ka, t.kb, t.kp);
    else this.byKey.delete(t.skey);
    this.live.delete(t);
    const { keep } = this.opts;
    if (keep !== keepAll) {
      const state = connStateOf(t.orig.state, t.resp.state, t.orig.bytes, t.resp.bytes, t.history);
      if (!keep(state, t.rsts === null ? 0 : t.rsts.length)) {
        this.recycle(t);
        this.opts.onSkipped(state);
        return;
      }
    }
    const max = this.maxSegments;
    const head = this.head;
    const n = t.listed;
    // The list's rows, copied (the track and its store are reused); none without a list.
    const st = max === 0 ? null : t.store.slice(0, (FIRST_LIST_ROW + Math.min(n, max)) * STRIDE);
    const conn: Connection = {
      id: t.id,
      orig: statsOf(t.orig, t.store),
      resp: statsOf(t.resp, t.store),
      ipVersion: t.ipVersion,
      firstFrame: t.firstFrame,
      lastFrame: t.lastFrame,
      start: t.start,
      end: t.end,
      history: t.history,
    } as Connection;
    // The list's summaries are built on first read (`explain --json` never reads them); with no
    // list, an empty one. (Added here, in its place among the properties, so that the object
    // stays a fast one.)
    if (st === null) conn.segments = [];
    else addLazySegments(conn, () => {
      const segments: SegmentSummary[] = [];
      if (n <= max) {
        for (let i = 0; i < n; i += 1) segments.push(summaryAt(st, FIRST_LIST_ROW + i));
      } else {
        const ring = max - head;
        for (let i = 0; i < head; i += 1) segments.push(summaryAt(st, FIRST_LIST_ROW + i));
        for (let k = n - ring; k < n; k += 1) segments.push(summaryAt(st, FIRST_LIST_ROW + head + ((k - head) % ring)));
      }
      return segments;
    });
    conn.segmentsDropped = n > max ? n - max : 0;
    conn.rsts = t.rsts ?? [];
    conn.anomalies = t.anomalies ?? new Map();
    conn.ended = t.ended;
    this.recycle(t);
    this.opts.onConnection(conn);
  }

  /** Back to the pool, holding nothing of the finalized connection's (its store is reused). */
  private recycle(t: Track): void {
    t.rsts = null;
    t.anomalies = null;
    if (this.pool.length < TRACK_POOL_MAX) this.pool.push(t);
  }
}

const keepAll = (): boolean => true;
const ignore = (): void => {};

function spill(st: Store, e: EndpointTrack): void {
  const from = e.lastRow * STRIDE;
  const to = e.spillRow * STRIDE;
  for (let i = 0; i < STRIDE; i += 1) st[to + i] = st[from + i];
  e.lastRow = e.spillRow;
}

function grownStore(st: Store, rows: number): Store {
  const g = newStore(rows);
  for (let i = 0; i < st.length; i += 1) g[i] = st[i];
  return g;
}

const MAKE_SEGMENTS = Symbol('makeSegments');

interface LazySegments {
  segments: SegmentSummary[];
  [MAKE_SEGMENTS]?: () => SegmentSummary[];
}

function settleSegments(this: LazySegments, value: SegmentSummary[]): void {
  Object.defineProperty(this, 'segments', { value, writable: true, enumerable: true, configurable: true });
}

function getSegments(this: LazySegments): SegmentSummary[] {
  const value = this[MAKE_SEGMENTS]!();
  settleSegments.call(this, value);
  return value;
}

/** Whether `obj.segments` is (or was) built on first read, rather than a plain array from the start. */
export function hasLazySegments(obj: object): boolean {
  return Object.prototype.hasOwnProperty.call(obj, MAKE_SEGMENTS);
}

/**
 * Add `obj.segments` (to an object that has no such property yet, at the end of its properties so
 * far): an enumerable property built by `make` on first read (or replaced by a write), after which
 * it is a plain data property in the same place, so JSON, spreads and deep equality see an
 * ordinary array. Adding an accessor keeps a fast object (reconfiguring an existing data property
 * into one would turn it into a slow dictionary-mode object). The getter and setter are shared
 * functions (per-object closures would give every object its own hidden class); `make` is kept in
 * a non-enumerable symbol property.
 */
export function addLazySegments(obj: object, make: () => SegmentSummary[]): void {
  Object.defineProperty(obj, 'segments', SEGMENTS_ACCESSOR);
  MAKE_DESCRIPTOR.value = make;
  Object.defineProperty(obj, MAKE_SEGMENTS, MAKE_DESCRIPTOR);
  MAKE_DESCRIPTOR.value = undefined;
}
const SEGMENTS_ACCESSOR: PropertyDescriptor = { get: getSegments, set: settleSegments, enumerable: true, configurable: true };
const MAKE_DESCRIPTOR: PropertyDescriptor = { value: undefined, configurable: true, writable: true };

/** Zeek's conn_state (base/protocols/conn/main.zeek `conn_state`), from the endpoint states. */
export function connState(c: Connection): string {
  return connStateOf(c.orig.state, c.resp.state, c.orig.bytes, c.resp.bytes, c.history);
}

/** `connState` from the parts it reads: the endpoint states, their payload bytes and the history. */
export function connStateOf(os: EndpointState, rs: EndpointState, origBytes: number, respBytes: number, history: string): string {
  const oInactive = os === 'INACTIVE' || os === 'PARTIAL';
  const rInactive = rs === 'INACTIVE' || rs === 'PARTIAL';
  if (rs === 'RESET') {
    if (os === 'SYN_SENT' || os === 'SYN_ACK_SENT' || (os === 'RESET' && origBytes === 0 && respBytes === 0)) return 'REJ';
    if (oInactive) return 'RSTRH';
    return 'RSTR';
  }
  if (os === 'RESET') {
    if (rInactive) return /^\^?S[^HAFGIQ]*R/.test(history) ? 'RSTOS0' : 'OTH';
    return 'RSTO';
  }
  if (rs === 'CLOSED' && os === 'CLOSED') return 'SF';
  if (os === 'CLOSED') return rInactive ? 'SH' : 'S2';
  if (rs === 'CLOSED') return oInactive ? 'SHR' : 'S3';
  if (os === 'SYN_SENT' && rs === 'INACTIVE') return 'S0';
  if (os === 'ESTABLISHED' && rs === 'ESTABLISHED') return 'S1';
  return 'OTH';
}

/** The most frequent value of a count map, or null when empty. */
export function mode(m: ReadonlyMap<number, number>): number | null {
  let best: number | null = null;
  let bestN = -1;
  for (const [v, n] of m) if (n > bestN) { best = v; bestN = n; }
  return best;
}

