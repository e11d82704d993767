// Connection tracker: turns decoded TCP segments, in capture order, into one record per TCP
// connection (Zeek's conn.log model) and hands every RST to the explainer with the context it
// needs. Contract:
// - `push(frame, at, decoded)` takes one segment at a time, its capture time read from `at`, a
//   record the caller reuses; nothing here throws on odd traffic: oddities become named anomalies
//   on the connection.
// - A connection is keyed by its 4-tuple and cut as Zeek cuts it (zeek-conn.ts): a SYN after
//   either side closed (FIN or RST) or with another ISN starts a new connection (IsReuse), and so
//   does the next segment once Zeek's timers removed the connection (an attempt unanswered for 5 s,
//   5 s after its close completed, 5 minutes idle past the handshake); a connection cut by a timer
//   keeps what the explainer knew of its endpoints (EndpointTrack.inheritFrom), so that its RSTs
//   are judged as before. Its originator: the SYN's sender, the receiver of a first SYN-ACK, or,
//   mid-stream, the first sender unless Zeek turns it around at once (a likely server port).
// - `history` and `conn_state` are Zeek's (zeek-conn.ts runs Zeek's state machine beside rstlab's
//   own endpoint states, which the explainer reads); a connection that began with a SYN-ACK that
//   Zeek never turned around is reported as Zeek holds it, the SYN-ACK's sender as originator.
// - Memory is bounded by the connections alive, not by the capture: a connection that ended (a
//   RST, or both FINs) is finalized once `closedLingerSec` (default 5 s) of capture time passed
//   without a packet on it — so the segments that follow a RST within that time (more resets, a
//   challenge ACK, data still in flight) still join it, and anything later on the same tuple is a
//   new connection (also when no sweep ran in between). The sweep runs every second of capture
//   time: it finalizes the ended connections past their linger (held at most ~linger + 1 s) and
//   any connection idle for `idleTimeoutSec`.
// - Every connection keeps at most `maxSegments` segment summaries (the first half and the latest
//   ones), built into `Connection.segments` when it is finalized; with 0 it keeps none
//   (`segments` is empty: `explain --json` draws no ladders), only each endpoint's last.
// - Finalized connections go to `onConnection` (with their RSTs, which the explainer judges there,
//   so that what followed a RST — a challenge ACK, more resets — is part of the evidence), in the
//   order they are finalized; `flush()` finalizes the rest in order of their first frame (all, or
//   a batch at a time). `oldestFirstFrame` is the first frame of the oldest connection still held:
//   every connection finalized later starts at or after it.
// - Live input (`advance(now)`): the caller's clock stands in for capture time between packets, so
//   a connection that ended is finalized `closedLingerSec` after its last packet even when no
//   packet follows (a quiet link); `setClosedLinger(sec)` changes the linger for what comes next.
//
// Hot path (one call per packet): no strings and no objects per packet, not even a boxed number
// (the capture time stays in the caller's record and each per-packet function makes its double
// from it locally: a double passed to a call that is not inlined is a heap object). IPv4
// connections are found in a TupleTable keyed by the numeric 4-tuple (other IP versions by a
// string key); the live state of a connection is a pooled `Track` with two EndpointTracks, and
// its segment summaries are rows of numbers in a pooled store (segment-store.ts), its RSTs with
// their context rows of numbers in a pooled RstLog (rst-log.ts). The public objects — Connection,
// EndpointStats, RstContext, SegmentSummary — are built only when the connection is finalized, so
// they die young. A RST's snapshots of the endpoints are taken when the next segment on its
// connection comes, or at its report (rst-log.ts): a connection that ends with a RST and sees
// nothing after it (a port scan's) keeps no copy. With no segment list (`maxSegments` 0, the
// `explain` command's default), a connection that ended waits out its linger packed
// (`compact` option, compact-slab.ts): its endpoints and the store rows still read are encoded in
// a slot of byte chunks shared by all, its body (EndpointTracks and store) goes back to a pool, and
// it is unpacked for a late segment or its report (after a late segment it is packed again by a
// sweep once a second passed without one, not after each); what stays of it is the Track (its
// timers, history, RST log: ~190 bytes, its times in TrackTimes) and its slot (~180 bytes for a
// refused probe): ~0.5 KB with its places in the lookup table and the live set, against ~1 KB
// before 2026-12-07 and ~2.6 KB before 2026-12-04 (docs/performance.md). Tracks
// and bodies are pooled apart (a packed connection gives its body back long before its track);
// the lookup key is made again from the endpoints when the connection leaves the table.

import { Ipv4Packet } from '../wire/ipv4.js';
import { seqAdd, seqGt, seqLt } from '../wire/seq.js';
import { newTcpOptionScan, scanDecodedOptions, TcpSegment } from '../wire/tcp.js';
import type { TcpOptionScan } from '../wire/tcp.js';
import type { FrameTcp } from '../wire/types.js';
import { TcpFlag } from '../wire/types.js';
import { advanceState, EndpointTrack } from './endpoint-track.js';
import {
  F_ACK, F_BITS, F_FRAME, F_IDENT, F_KINDS_HI, F_KINDS_LO, F_LEN, F_SEQ, F_TIME, F_WTT, FIRST_LIST_ROW, FROM_ORIG_BIT,
  ENDPOINT_ROWS, grownStore, INITIAL_ROWS, listSummaries, N_KEEPALIVE, N_RETRANSMISSION, N_ZERO_WINDOW, newStore, NOTE_SHIFT, spill,
  STRIDE,
} from './segment-store.js';
import type { Store } from './segment-store.js';
import { CompactSlab } from './compact-slab.js';
import { RstLog } from './rst-log.js';
import { TupleTable } from './tuple-table.js';
import type { Connection, RstContext, SegmentSummary, SegmentTime, TrackerOptions } from './types.js';
import { flipsAtStart, LIKELY_SERVER_PORTS, zeekChecksumError, zeekConnState, zeekIsReuse, zeekRemoved, zeekSegment } from './zeek-conn.js';

const ignoreRst = (): void => {};
const ignoreIdents = (): void => {};

/** Capture time between two sweeps. */
const SWEEP_SEC = 1;
/** Default `closedLingerSec`: how long an ended connection waits for stragglers. */
export const DEFAULT_CLOSED_LINGER_SEC = 5;

/**
 * Finalized tracks (with their stores) kept for reuse. Tracks are created only when the pool is
 * empty, so the pool and the live tracks together never exceed the peak of live connections. The
 * pool keeps up to as many tracks as are live (at least TRACK_POOL_MIN): a sweep that finalizes a
 * second's worth of connections at once (25,000 in a fast scan) must not drop tracks that the next
 * second's connections need, or each of them is a new track, promoted to V8's old space while it
 * waits out its linger and garbage there soon after. The cap only bounds what a burst leaves
 * reserved once it is over.
 */
const TRACK_POOL_MIN = 16384;
/** Bodies (endpoints and store) kept for reuse: a connection gives its body back when it is packed
 *  (or finalized), and the next ones take it; a burst of connections that end at once (50,000
 *  closing together) leaves the rest to the collector. */
const BODY_POOL_MAX = 4096;

/** The body of a track that has none (packed or pooled): never written (a packed track is unpacked
 *  before anything reads or changes it). */
const VACANT = new EndpointTrack();
const VACANT_STORE: Store = [];

// --- history and conn_state ----------------------------------------------------------------
// Zeek's, letter for letter: zeek-conn.ts follows Zeek's TCP state machine beside rstlab's own
// endpoint states (which the explainer reads), and writes the history (docs/explain.md, "history").

/** The doubles of a tracker's tracks, three to a track (its start, its end, its Zeek timer): held
 *  in fields, each would be a boxed number of 16 bytes besides its 8 (a port scan holds ~150,000
 *  tracks). A track takes its place when it is made and keeps it while it is pooled; a track the
 *  pool has no room for gives it back (`give`), for the next track made. */
class TrackTimes {
  f = new Float64Array(3 * 1024);
  private n = 0;
  private readonly free: number[] = [];

  /** A new track's place: the index of its first double. */
  take(): number {
    if (this.free.length > 0) return this.free.pop()!;
    if (this.n + 3 > this.f.length) {
      const grown = new Float64Array(this.f.length * 2);
      grown.set(this.f);
      this.f = grown;
    }
    const at = this.n;
    this.n += 3;
    return at;
  }

  give(at: number): void {
    this.free.push(at);
  }
}

const B_ENDED = 1;
const B_FLIP_PENDING = 2;
const B_Z_PARTIAL = 4;
const B_CLOSE_TIMER = 8;
const B_LATE = 16;

/**
 * The live state of one connection (reused for another connection once finalized). It is its own
 * RST log (`rsts` is the track itself: one object less per connection, 32 bytes); its flags share
 * one field and its times are in the tracker's TrackTimes, behind accessors: ~190 bytes for a
 * track instead of ~310.
 */
class Track extends RstLog {
  /** Its endpoints and store (its body): VACANT ones while it is packed (`slot` ≥ 0) or pooled. */
  orig: EndpointTrack = VACANT;
  resp: EndpointTrack = VACANT;
  store: Store = VACANT_STORE;
  /** Its slot in the CompactSlab while it is packed (-1: it holds its body). */
  slot = -1;

  id = 0;
  ipVersion: 4 | 6 = 4;
  firstFrame = 0;
  lastFrame = 0;
  history = '';
  anomalies: Map<string, number> | null = null;
  /** Zeek's side of the connection (zeek-conn.ts, ZeekConn): its once-only letters seen; whether
   *  Zeek still holds the SYN-ACK's sender as the originator, is_partial, and its pending removal
   *  timer are flags and a time below. */
  histSeen = 0;
  /** Segments offered to the bounded list so far. */
  listed = 0;
  /** B_* flags. */
  private bits = 0;
  /** Its place in `times` (TrackTimes.take). */
  private readonly at: number;

  constructor(private readonly times: TrackTimes) {
    super();
    this.at = times.take();
  }

  /** A track left to the collector (the pool is full): its place in `times` back. */
  leave(): void {
    this.times.give(this.at);
  }

  /** Its RSTs and what followed them, as numbers until it is finalized. */
  get rsts(): RstLog {
    return this;
  }

  get start(): number {
    return this.times.f[this.at]!;
  }
  set start(v: number) {
    this.times.f[this.at] = v;
  }
  get end(): number {
    return this.times.f[this.at + 1]!;
  }
  set end(v: number) {
    this.times.f[this.at + 1] = v;
  }
  /** Zeek's pending timer (ZeekConn.timerAt), -1: none. */
  get timerAt(): number {
    return this.times.f[this.at + 2]!;
  }
  set timerAt(v: number) {
    this.times.f[this.at + 2] = v;
  }

  get ended(): boolean {
    return (this.bits & B_ENDED) !== 0;
  }
  set ended(v: boolean) {
    this.setBit(B_ENDED, v);
  }
  get flipPending(): boolean {
    return (this.bits & B_FLIP_PENDING) !== 0;
  }
  set flipPending(v: boolean) {
    this.setBit(B_FLIP_PENDING, v);
  }
  get zPartial(): boolean {
    return (this.bits & B_Z_PARTIAL) !== 0;
  }
  set zPartial(v: boolean) {
    this.setBit(B_Z_PARTIAL, v);
  }
  get closeTimer(): boolean {
    return (this.bits & B_CLOSE_TIMER) !== 0;
  }
  set closeTimer(v: boolean) {
    this.setBit(B_CLOSE_TIMER, v);
  }
  /** Unpacked by a segment that came while it was packed: packed again by a sweep once quiet
   *  (SWEEP_SEC), not after each segment (a server that keeps sending after a reset). */
  get late(): boolean {
    return (this.bits & B_LATE) !== 0;
  }
  set late(v: boolean) {
    this.setBit(B_LATE, v);
  }

  /** B_* flag `b` set (v) or cleared. */
  private setBit(b: number, v: boolean): void {
    this.bits = v ? this.bits | b : this.bits & ~b;
  }

  anomaly(code: string): void {
    const m = (this.anomalies ??= new Map());
    m.set(code, (m.get(code) ?? 0) + 1);
  }
}

export class ConnectionTracker {
  private readonly v4 = new TupleTable<Track>();
  private readonly byKey = new Map<string, Track>();
  /** Every tracked connection, in the order it was opened (sweeps and ties in flush follow it). */
  private readonly live = new Set<Track>();
  /** Finalized tracks, without their bodies, which are pooled apart: a packed connection gives its
   *  body back long before its track. */
  private readonly pool: Track[] = [];
  private readonly times = new TrackTimes();
  private readonly bodyEnds: EndpointTrack[] = [];
  private readonly bodyStores: Store[] = [];
  /** Packed connections (compact-slab.ts): with no segment list, a connection that ended. */
  private readonly slab = new CompactSlab();
  private readonly packEnded: boolean;
  private readonly packAlways: boolean;
  private readonly opts: Required<TrackerOptions>;
  private readonly maxSegments: number;
  private readonly head: number;
  private readonly scan = newTcpOptionScan();
  private nextId = 1;
  /** Capture time of the last sweep; -Infinity before the first (a double from the start, like the
   *  times it will hold, so that V8 never changes the field's representation under optimized code). */
  private lastSweep = -Infinity;

  constructor(opts: TrackerOptions) {
    this.opts = {
      maxSegments: 64, compact: 'ended', closedLingerSec: DEFAULT_CLOSED_LINGER_SEC, idleTimeoutSec: 3600, keep: keepAll, onSkipped: ignore, onRstIdent: ignoreRst, onIdents: ignoreIdents,
      likelyServerPorts: LIKELY_SERVER_PORTS, ...opts,
    };
    this.maxSegments = Math.max(0, this.opts.maxSegments);
    this.head = this.maxSegments >> 1;
    this.packEnded = this.maxSegments === 0 && this.opts.compact !== 'never';
    this.packAlways = this.maxSegments === 0 && this.opts.compact === 'always';
  }

  /** Connections held packed (ended, waiting out their linger; see compact-slab.ts). */
  get packed(): number {
    return this.slab.used;
  }

  /** Connections currently held in memory. */
  get alive(): number {
    return this.live.size;
  }

  /** One segment (frame number `frame`), its capture time read from `at` (time = at.tsSec +
   *  at.tsNsec / 1e9), a record the caller reuses, such as the capture reader's PacketRecord:
   *  nothing is allocated for it. `badChecksum`: the caller verified its checksum and found it
   *  wrong — the segment finds or opens its connection as any other (Zeek's session lookup and
   *  IsReuse come before its TCP analysis) and adds only the scaled `C`/`c` letter. */
  push(frame: number, at: SegmentTime, decoded: FrameTcp, badChecksum = false): void {
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
    if (t !== undefined && t.slot >= 0) {
      this.unpack(t);
      t.late = true;
    }

    // An ended connection past its linger is over even if no sweep has run since.
    if (t !== undefined && t.ended && time - t.end > this.opts.closedLingerSec) {
      this.finalize(t);
      t = undefined;
    }
    // Removed as Zeek removes a connection (an attempt unanswered for 5 s, 5 s after its close
    // completed, 5 minutes inactive): what follows on the tuple is a new connection, which keeps
    // what the explainer knew of the two endpoints (a RST there is judged as it would have been).
    let removed: Track | undefined;
    if (t !== undefined && zeekRemoved(t, time, t.end)) {
      removed = t;
      t = undefined;
    }
    // A SYN on a known tuple starts a new connection as Zeek's IsReuse says: after either side
    // closed (a FIN or a RST: a SYN repeated after a REJ too), or with another ISN (a new connect()).
    if (t !== undefined && isSyn && zeekIsReuse(t, isAck, tcp.seqNumber)) {
      this.finalize(t);
      t = undefined;
    }
    if (t === undefined) {
      t = this.open(frame, time, ip.version, isSyn, isAck, srcN, src, sport, dstN, dst, dport);
      if (removed !== undefined) {
        const same = removed.orig.addrN === t.orig.addrN && removed.orig.addrS === t.orig.addrS && removed.orig.port === t.orig.port;
        t.orig.inheritFrom(same ? removed.orig : removed.resp, removed.store, t.store, !same);
        t.resp.inheritFrom(same ? removed.resp : removed.orig, removed.store, t.store, !same);
        this.finalize(removed);
      }
      if (skey === null) this.v4.add(ka, kb, kp, t);
      else this.byKey.set(skey, t);
    }
    const fromOrig = t.orig.addrN === srcN && t.orig.addrS === src && t.orig.port === sport;
    if (badChecksum) zeekChecksumError(t, fromOrig ? t.orig : t.resp, fromOrig);
    else this.update(t, fromOrig, frame, at, decoded, flags);
    if (this.packAlways || (this.packEnded && t.ended && !t.late)) this.pack(t);

    const now = at.tsSec + at.tsNsec / 1e9; // (made again: a double kept across a call is boxed)
    if (now - this.lastSweep > SWEEP_SEC || this.lastSweep > now) this.sweep(now);
  }

  /** Finalize the connections still held (end of capture) in order of their first frame: all of
   *  them, or the `limit` oldest; returns how many are still held. (`live` is in the order the
   *  connections were opened, which is the order of their first frames.) */
  flush(limit = Infinity): number {
    let n = 0;
    for (const t of this.live) {
      if (n++ >= limit) break;
      this.finalize(t);
    }
    return this.live.size;
  }

  /** First frame of the oldest connection still held; Infinity when none is. */
  get oldestFirstFrame(): number {
    for (const t of this.live) return t.firstFrame;
    return Infinity;
  }

  /** A new connection, on a pooled track, from its first segment (not yet in a lookup table). */
  private open(frame: number, time: number, ipVersion: 4 | 6, isSyn: boolean, isAck: boolean,
    srcN: number, src: string | null, sport: number, dstN: number, dst: string | null, dport: number): Track {
    const t = this.pool.pop() ?? new Track(this.times);
    this.attach(t);
    // The originator sent the first SYN; if the first packet is a SYN-ACK, its receiver did.
    // Midstream: the sender of the first packet seen, unless Zeek turns the connection around at
    // once (TCPAnalyzer::WantConnection: it comes from a likely server port; history `^`).
    const flip = flipsAtStart(isSyn, isAck, sport, dport, this.opts.likelyServerPorts);
    if (!(isSyn && isAck) && !flip) {
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
    t.history = flip ? '^' : '';
    t.ended = false;
    t.histSeen = 0;
    // A first SYN-ACK not from a likely server port: Zeek's originator is its sender until it flips.
    t.flipPending = isSyn && isAck && !flip;
    t.zPartial = !isSyn || isAck;
    t.timerAt = -1;
    t.closeTimer = false;
    t.listed = 0;
    t.late = false;
    if (!isSyn) t.anomaly('midstream');
    this.live.add(t);
    return t;
  }

  // update() is the per-segment hot path, kept small: V8 optimizes a function after a number of
  // calls that grows with its size, and the first ~10,000 segments of every capture run before
  // that. What is rare (handshake, FIN, RST, retransmissions, a list row after the first ones,
  // a TTL change) is in the methods after it.
  private update(t: Track, fromOrig: boolean, frame: number, at: SegmentTime, decoded: FrameTcp, flags: number): void {
    // A RST before this segment whose endpoint snapshots were not taken yet: now, before any change.
    if (t.rsts.pendRow >= 0) t.rsts.settle(t.store, t.orig, t.resp);
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
    // (A payload cut by the snap length is never delivered to Zeek's reassembly: no DataSent.)
    let cut = false;
    for (let i = 0; i < frameAnomalies.length; i += 1) {
      t.anomaly(frameAnomalies[i]);
      if (frameAnomalies[i] === 'snaplen-cut') cut = true;
    }
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
    if (syn || rst) this.oddFlags(t, syn, fin, rst, len);
    if (syn && !rst) this.synProfile(e, tcp, window, ip.ttl);

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
          // Against a zero window the same segment is a window probe (RFC 9293 §3.8.6.1,
          // tcp_probe_timer), which gives up without a RST: not a keepalive.
          if (len <= 1 && !fin && seqAdd(seq, 1) === e.nextSeq) keepalive = peer.window !== 0;
          else if (seqGt(segEnd, e.nextSeq)) { /* partly new: not a pure retransmission */ }
          else retransmission = true;
        } else if (!consumes && len === 0 && seqAdd(seq, 1) === e.nextSeq && peer.lastAck >= 0
          && peer.lastAck === e.nextSeq && peer.window !== 0) {
          keepalive = true; // zero-length probe at SND.NXT−1 (against a zero window: a window probe)
        }
        if (seqGt(segEnd, e.nextSeq)) e.nextSeq = segEnd;
      }
    }
    if (ack && !rst) {
      if (e.lastAck < 0 || seqGt(ackNumber, e.lastAck)) e.lastAck = ackNumber;
    }

    if (retransmission) {
      notes |= N_RETRANSMISSION;
      this.retransmitted(e);
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
        this.zeroWindow(e);
      }
    } else if (syn) {
      e.window = window;
    }

    // --- Zeek's history and states (conn_state), then rstlab's endpoint states (the explainer's) ---
    zeekSegment(t, fromOrig, flags, seq, ackNumber, len, window, cut, time);
    if (syn) {
      this.handshake(e, ack);
    } else if (!rst) {
      // (Nothing below changes once both endpoints are established.)
      if (e.state !== 'ESTABLISHED' || peer.state !== 'ESTABLISHED') advanceState(e, peer, ack);
    }
    if (fin && !rst) this.finSeen(t, e, seq, len, frame);

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
    if (t.rsts.count > 0) t.rsts.follow(st, row, fromOrig, rst);

    if (rst) {
      this.rstSeen(t, e, row);
      if (ident !== null && ident !== 0) this.opts.onRstIdent(e.addressText(), frame, ident, ttl, time);
    } else {
      if (ttl !== e.ttl) e.newTtl(ttl);
      e.ttlRun++;
      if (tos !== e.tos) e.newTos(tos);
      e.tosRun++;
      if (ident !== null) {
        // IP ID behaviour for the sender profile (RFC 6864): zero, or a counter (+1…256).
        if (ident === 0) e.idZero++;
        else if (e.lastIdent >= 0 && ((((ident - e.lastIdent) & 0xffff) - 1) >>> 0) < 256) e.idIncr++;
        if (e.idSeen++ === 0) e.idFirst = ident;
      }
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

  /** A SYN or SYN-ACK: its option layout, window and TTL, for the sender profile (the last one
   *  counts: a retried SYN is laid out alike). */
  private synProfile(e: EndpointTrack, tcp: FrameTcp['tcp'], window: number, ttl: number): void {
    e.synLayout = tcp instanceof TcpSegment ? tcp.optionLayoutCode() : 0;
    e.synWindow = window;
    e.synTtl = ttl;
  }

  /** Flag combinations that are anomalies. */
  private oddFlags(t: Track, syn: boolean, fin: boolean, rst: boolean, len: number): void {
    if (syn && rst) t.anomaly('syn-with-rst');
    if (syn && fin) t.anomaly('syn-with-fin');
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

  private retransmitted(e: EndpointTrack): void {
    e.retransmissions++;
    e.retransSinceHeard++;
  }

  private zeroWindow(e: EndpointTrack): void {
    e.zeroWindows++;
  }

  private handshake(e: EndpointTrack, ack: boolean): void {
    if (!ack) {
      if (e.state === 'INACTIVE' || e.state === 'PARTIAL') e.state = 'SYN_SENT';
    } else {
      if (e.state === 'INACTIVE' || e.state === 'PARTIAL' || e.state === 'SYN_SENT') e.state = 'SYN_ACK_SENT';
    }
  }

  private finSeen(t: Track, e: EndpointTrack, seq: number, len: number, frame: number): void {
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

  /** A RST (its segment already in `row`): snapshots of both endpoints for the explainer (taken
   *  when the next segment comes, or from the endpoints as they are when it is finalized). */
  private rstSeen(t: Track, e: EndpointTrack, row: number): void {
    t.rsts.record(row, e);
    e.state = 'RESET';
    t.ended = true;
  }

  /** Sweep at `now` (seconds, the capture's clock) without a packet: live input on a quiet link. */
  advance(now: number): void {
    if (now > this.lastSweep) this.sweep(now);
  }

  /** The linger of ended connections from now on (live input judges sooner than a file). */
  setClosedLinger(sec: number): void {
    this.opts.closedLingerSec = sec;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    const { closedLingerSec, idleTimeoutSec } = this.opts;
    for (const t of this.live) {
      const idle = now - t.end;
      if ((t.ended && idle > closedLingerSec) || idle > idleTimeoutSec) this.finalize(t);
      else if (t.late && t.slot < 0 && idle > SWEEP_SEC) this.pack(t); // (only set where packEnded)
    }
  }

  /** Give a track without one a body: pooled endpoints and store, or new ones. */
  private attach(t: Track): void {
    t.orig = this.bodyEnds.pop() ?? new EndpointTrack();
    t.resp = this.bodyEnds.pop() ?? new EndpointTrack();
    t.orig.spillRow = 0;
    t.resp.spillRow = 1;
    t.store = this.bodyStores.pop() ?? newStore(this.maxSegments === 0 ? ENDPOINT_ROWS : INITIAL_ROWS);
  }

  /** Its body back to the pool (up to BODY_POOL_MAX). */
  private detach(t: Track): void {
    if (this.bodyStores.length < BODY_POOL_MAX) {
      this.bodyEnds.push(t.orig, t.resp);
      this.bodyStores.push(t.store);
    }
    t.orig = VACANT;
    t.resp = VACANT;
    t.store = VACANT_STORE;
  }

  /** Hold the connection as numbers in a slot of the slab, its body pooled; unless it does not fit,
   *  or the pool of bodies is full: packing pays when the next connections take the body (a port
   *  scan's, opened as fast as they end), not when the body would only be garbage beside its slot
   *  (50,000 connections closing together: +22 MB of peak RSS, packed, on the concurrent shape). */
  private pack(t: Track): void {
    if (this.bodyStores.length >= BODY_POOL_MAX) return;
    const slot = this.slab.pack(t.orig, t.resp, t.store, t.rsts.pendingLastRow, t.lastFrame);
    if (slot < 0) return;
    this.detach(t);
    t.slot = slot;
  }

  /** A packed connection as it was, in a body. */
  private unpack(t: Track): void {
    this.attach(t);
    this.slab.unpack(t.slot, t.orig, t.resp, t.store, t.lastFrame);
    t.slot = -1;
  }

  /** Out of the lookup table, under the key push() found it by (made again from its endpoints'
   *  addresses and ports: the key is the same from either side). */
  private unlist(t: Track): void {
    const o = t.orig;
    const r = t.resp;
    let found: boolean;
    if (o.addrS === null) {
      const a = o.addrN;
      const b = r.addrN;
      if (a < b || (a === b && o.port <= r.port)) found = this.v4.delete(a | 0, b | 0, (o.port << 16) | r.port);
      else found = this.v4.delete(b | 0, a | 0, (r.port << 16) | o.port);
    } else {
      const a = `${o.addrS}|${o.port}`;
      const z = `${r.addrS ?? ''}|${r.port}`;
      found = this.byKey.delete(a < z ? `${a}|${z}` : `${z}|${a}`);
    }
    if (!found) throw new Error(`tracker: connection ${t.id} was not in the lookup table under its endpoints' key`);
  }

  /** Build the public Connection, hand it over, and recycle the track. */
  private finalize(t: Track): void {
    if (t.slot >= 0) this.unpack(t);
    this.unlist(t);
    this.live.delete(t);
    const { keep, onIdents } = this.opts;
    if (onIdents !== ignoreIdents && t.ipVersion === 4) {
      const o = t.orig;
      const r = t.resp;
      if (o.idFirst > 0 && o.idZero < o.idSeen && o.lastIdent >= 0) onIdents(o.addrN, o.idFirst, t.start, o.lastIdent, o.lastTime);
      if (r.idFirst > 0 && r.idZero < r.idSeen && r.lastIdent >= 0) onIdents(r.addrN, r.idFirst, t.start, r.lastIdent, r.lastTime);
    }
    const state = zeekConnState(t);
    if (keep !== keepAll) {
      if (!keep(state, t.rsts.count)) {
        this.recycle(t);
        this.opts.onSkipped(state);
        return;
      }
    }
    const max = this.maxSegments;
    const n = t.listed;
    const rsts = t.rsts.contexts(t.store, t.orig, t.resp);
    // Zeek never turned a connection that began with a SYN-ACK around (no A or D came): its
    // originator is the SYN-ACK's sender, as its history and conn_state say; the report follows.
    const swap = t.flipPending;
    const segments = max === 0 ? [] : listSummaries(t.store, n, max, this.head);
    const conn: Connection = {
      id: t.id,
      orig: (swap ? t.resp : t.orig).snapshot(t.store, rstFramesOf(rsts, !swap)),
      resp: (swap ? t.orig : t.resp).snapshot(t.store, rstFramesOf(rsts, swap)),
      ipVersion: t.ipVersion,
      firstFrame: t.firstFrame,
      lastFrame: t.lastFrame,
      start: t.start,
      end: t.end,
      history: t.history,
      connState: state,
      // Built now, before the track and its store are reused; none without a list.
      segments,
      segmentsDropped: n > max ? n - max : 0,
      rsts,
      anomalies: t.anomalies ?? new Map(),
      ended: t.ended,
    };
    if (swap) turnAround(conn);
    this.recycle(t);
    this.opts.onConnection(conn);
  }

  /** Back to the pool, holding nothing of the finalized connection's (its store is reused). */
  private recycle(t: Track): void {
    t.rsts.reset();
    t.anomalies = null;
    this.detach(t);
    if (this.pool.length < TRACK_POOL_MIN || this.pool.length < this.live.size) this.pool.push(t);
    else t.leave();
  }
}

/** A finalized connection's segments the other way round (its fresh objects, in place; its
 *  endpoints were already snapshotted in their new places). */
function turnAround(c: Connection): void {
  const done = new Set<SegmentSummary>();
  const flip = (x: SegmentSummary | null): void => {
    if (x !== null && !done.has(x)) { done.add(x); x.fromOrig = !x.fromOrig; }
  };
  for (const x of c.segments) flip(x);
  flip(c.orig.lastSeg);
  flip(c.resp.lastSeg);
  for (const r of c.rsts) {
    r.fromOrig = !r.fromOrig;
    flip(r.seg);
    flip(r.trigger);
    for (const x of r.after) flip(x);
    flip(r.sender.lastSeg);
    flip(r.receiver.lastSeg);
  }
}

/** The frames of the RSTs one side sent. */
function rstFramesOf(rsts: readonly RstContext[], fromOrig: boolean): number[] {
  const out: number[] = [];
  for (const r of rsts) if (r.fromOrig === fromOrig) out.push(r.seg.frame);
  return out;
}

const keepAll = (): boolean => true;
const ignore = (): void => {};
