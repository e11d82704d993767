// Connection tracker: turns decoded TCP segments, in capture order, into one record per TCP
// connection (Zeek's conn.log model) and hands every RST to the explainer with the context it
// needs. Contract:
// - `push(seg)` takes one segment at a time; nothing here throws on odd traffic: oddities become
//   named anomalies on the connection.
// - A connection is keyed by its 4-tuple; a new SYN on a tuple whose connection has ended (RST, or
//   FIN both ways), or whose ISN differs, starts a new connection (port reuse).
// - Memory is bounded by the connections alive: ended connections are finalized after
//   `closedLingerSec` of capture time without packets, idle ones after `idleTimeoutSec`, and every
//   connection keeps at most `maxSegments` segment summaries (the first and the last ones).
// - Finalized connections go to `onConnection` (with their RSTs, which the explainer judges there,
//   so that what followed a RST — a challenge ACK, more resets — is part of the evidence).

import { seqAdd, seqGt, seqLt } from '../wire/seq.js';
import type { FrameTcp, TcpOption } from '../wire/types.js';
import { TcpFlag } from '../wire/types.js';

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
  /** Segment summaries: the first `maxSegments/2` and the last ones; `segmentsDropped` in between. */
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
  /** Keep at most this many segment summaries per connection (default 64). */
  maxSegments?: number;
  /** Finalize an ended connection after this much capture time without packets (default 60 s). */
  closedLingerSec?: number;
  /** Finalize any connection after this much capture time without packets (default 3600 s). */
  idleTimeoutSec?: number;
}

const AFTER_RST_KEEP = 4;

function newEndpoint(addr: string, port: number): EndpointStats {
  return {
    addr, port, state: 'INACTIVE', isn: null, sawSyn: false, nextSeq: null, lastAck: null,
    window: 0, windowShift: 0, usesTimestamps: false, finFrame: null, finSeq: null, rstFrames: [],
    packets: 0, bytes: 0, retransmissions: 0, keepalives: 0, zeroWindows: 0,
    ttls: new Map(), toss: new Map(), lastIdent: null, probesSinceHeard: 0, retransSinceHeard: 0,
    lastSegFrame: null, lastSeg: null, lastTime: 0,
  };
}

function snapshot(e: EndpointStats): EndpointStats {
  return { ...e, rstFrames: [...e.rstFrames], ttls: new Map(e.ttls), toss: new Map(e.toss) };
}

/** Zeek records most history letters once per direction; these repeat at 1, 10, 100, … occurrences. */
const REPEATING = new Set(['T', 'W', 't', 'w']);

export class ConnectionTracker {
  private readonly table = new Map<string, Connection>();
  private readonly opts: Required<TrackerOptions>;
  private nextId = 1;
  private lastSweep = 0;
  private now = 0;
  /** Per-connection letter counters for the repeating history letters. */
  private readonly letterCounts = new WeakMap<Connection, Map<string, number>>();

  constructor(opts: TrackerOptions) {
    this.opts = { maxSegments: 64, closedLingerSec: 60, idleTimeoutSec: 3600, ...opts };
  }

  /** Connections currently held in memory. */
  get alive(): number {
    return this.table.size;
  }

  push(input: SegmentInput): void {
    const { decoded } = input;
    const { ip, tcp } = decoded;
    this.now = input.time;
    const src = ip.src;
    const dst = ip.dst;
    const a = `${src}|${tcp.srcPort}`;
    const b = `${dst}|${tcp.dstPort}`;
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    const flags = tcp.flags;
    const isSyn = (flags & TcpFlag.SYN) !== 0;
    const isAck = (flags & TcpFlag.ACK) !== 0;

    let conn = this.table.get(key);
    if (conn && isSyn && !isAck && this.isNewIncarnation(conn, src, tcp.srcPort, tcp.seqNumber)) {
      this.finalize(key, conn);
      conn = undefined;
    }
    if (!conn) {
      conn = this.open(input, key);
    }
    this.update(conn, input);

    if (input.time - this.lastSweep > 10 || this.lastSweep > input.time) this.sweep(input.time);
  }

  /** Finalize every connection still held (end of capture). */
  flush(): void {
    const all = [...this.table.entries()].sort((x, y) => x[1].firstFrame - y[1].firstFrame);
    for (const [key, conn] of all) this.finalize(key, conn);
  }

  /** A SYN on a known tuple starts a new connection unless it repeats the endpoint's own SYN (same
   *  ISN): after the connection ended, or when the endpoint's ISN changed (a new connect()). */
  private isNewIncarnation(conn: Connection, src: string, port: number, seq: number): boolean {
    const e = conn.orig.addr === src && conn.orig.port === port ? conn.orig : conn.resp;
    return e.sawSyn ? e.isn !== seq : conn.ended;
  }

  private open(input: SegmentInput, key: string): Connection {
    const { ip, tcp } = input.decoded;
    const flags = tcp.flags;
    const synAck = (flags & TcpFlag.SYN) !== 0 && (flags & TcpFlag.ACK) !== 0;
    // The originator sent the first SYN; if the first packet is a SYN-ACK, its receiver did.
    // Midstream: the sender of the first packet seen (Zeek's default too).
    const senderIsOrig = !synAck;
    const s = newEndpoint(ip.src, tcp.srcPort);
    const d = newEndpoint(ip.dst, tcp.dstPort);
    const conn: Connection = {
      id: this.nextId++,
      orig: senderIsOrig ? s : d,
      resp: senderIsOrig ? d : s,
      ipVersion: ip.version,
      firstFrame: input.frame,
      lastFrame: input.frame,
      start: input.time,
      end: input.time,
      history: '',
      segments: [],
      segmentsDropped: 0,
      rsts: [],
      anomalies: new Map(),
      ended: false,
    };
    if ((flags & TcpFlag.SYN) === 0) this.anomaly(conn, 'midstream');
    this.table.set(key, conn);
    return conn;
  }

  private anomaly(conn: Connection, code: string): void {
    conn.anomalies.set(code, (conn.anomalies.get(code) ?? 0) + 1);
  }

  private letter(conn: Connection, fromOrig: boolean, upper: string): void {
    const ch = fromOrig ? upper : upper.toLowerCase();
    if (REPEATING.has(ch)) {
      let counts = this.letterCounts.get(conn);
      if (!counts) this.letterCounts.set(conn, (counts = new Map()));
      const n = (counts.get(ch) ?? 0) + 1;
      counts.set(ch, n);
      if (n === 1 || n === 10 || n === 100 || n === 1000 || n === 10000) conn.history += ch;
      return;
    }
    if (!conn.history.includes(ch)) conn.history += ch;
  }

  private update(conn: Connection, input: SegmentInput): void {
    const { decoded, frame, time } = input;
    const { ip, tcp } = decoded;
    const fromOrig = conn.orig.addr === ip.src && conn.orig.port === tcp.srcPort;
    const e = fromOrig ? conn.orig : conn.resp;
    const peer = fromOrig ? conn.resp : conn.orig;
    const flags = tcp.flags;
    const syn = (flags & TcpFlag.SYN) !== 0;
    const ack = (flags & TcpFlag.ACK) !== 0;
    const fin = (flags & TcpFlag.FIN) !== 0;
    const rst = (flags & TcpFlag.RST) !== 0;
    const len = decoded.payloadLength;
    const seq = tcp.seqNumber;
    const notes: string[] = [];

    for (const a of decoded.anomalies) this.anomaly(conn, a);
    conn.lastFrame = frame;
    conn.end = time;
    e.packets++;
    e.lastTime = time;

    let optionKinds: string[] = [];
    if (tcp.headerLength > 20) {
      const options: TcpOption[] = tcp.options();
      optionKinds = options.map((o) => o.kind);
      if (syn) {
        for (const o of options) {
          if (o.kind === 'window-scale') e.windowShift = Math.min(o.shift, 14);
          if (o.kind === 'timestamps') e.usesTimestamps = true;
        }
      }
      if (options.some((o) => o.kind === 'malformed')) this.anomaly(conn, 'tcp-options-malformed');
    }

    // --- history letters and endpoint state (Zeek's TCP analyzer, simplified) ---
    if (syn && rst) this.anomaly(conn, 'syn-with-rst');
    if (syn && fin) { this.letter(conn, fromOrig, 'Q'); this.anomaly(conn, 'syn-with-fin'); }
    if (rst && len > 0) this.anomaly(conn, 'rst-with-payload');

    // Sequence bookkeeping before judging retransmission.
    const segEnd = seqAdd(seq, len + (syn ? 1 : 0) + (fin ? 1 : 0));
    let retransmission = false;
    let keepalive = false;
    if (!rst) {
      if (syn) {
        if (e.sawSyn && e.isn === seq) { retransmission = true; }
        e.sawSyn = true;
        e.isn = seq;
      } else if (e.isn === null) {
        e.isn = seq;
      }
      if (e.nextSeq === null) {
        e.nextSeq = segEnd;
      } else if (!syn) {
        const consumes = len > 0 || fin;
        if (consumes && seqLt(seq, e.nextSeq)) {
          // Keepalive probe (Wireshark's rule): 0 or 1 byte at SND.NXT−1, nothing else in flight.
          if (len <= 1 && !fin && seqAdd(seq, 1) === e.nextSeq) keepalive = true;
          else if (seqGt(segEnd, e.nextSeq)) { /* partly new: not a pure retransmission */ }
          else retransmission = true;
        } else if (!consumes && len === 0 && seqAdd(seq, 1) === e.nextSeq && peer.lastAck !== null
          && peer.lastAck === e.nextSeq) {
          keepalive = true; // zero-length probe at SND.NXT−1
        }
        if (seqGt(segEnd, e.nextSeq)) e.nextSeq = segEnd;
      }
    }
    if (ack && !rst) {
      if (e.lastAck === null || seqGt(tcp.ackNumber, e.lastAck)) e.lastAck = tcp.ackNumber;
    }

    if (retransmission) {
      e.retransmissions++;
      e.retransSinceHeard++;
      notes.push('retransmission');
      this.letter(conn, fromOrig, 'T');
    } else if (keepalive) {
      e.keepalives++;
      e.probesSinceHeard++;
      notes.push('keepalive');
    } else if (!rst && (len > 0 || fin || syn)) {
      e.bytes += len;
    }
    // Any segment from this endpoint answers the peer: its unanswered probes/retransmissions reset.
    peer.probesSinceHeard = 0;
    peer.retransSinceHeard = 0;

    if (!rst && !syn) {
      const w = tcp.window << (conn.orig.windowShift && conn.resp.windowShift ? e.windowShift : 0);
      e.window = w;
      if (tcp.window === 0) {
        e.zeroWindows++;
        notes.push('zero-window');
        this.letter(conn, fromOrig, 'W');
      }
    } else if (syn) {
      e.window = tcp.window;
    }

    if (syn && !ack) {
      this.letter(conn, fromOrig, 'S');
      if (e.state === 'INACTIVE' || e.state === 'PARTIAL') e.state = 'SYN_SENT';
    } else if (syn && ack) {
      this.letter(conn, fromOrig, 'H');
      if (e.state === 'INACTIVE' || e.state === 'PARTIAL' || e.state === 'SYN_SENT') e.state = 'SYN_ACK_SENT';
    }
    if (!syn && !rst) {
      if (len > 0) this.letter(conn, fromOrig, 'D');
      else if (ack && !fin) this.letter(conn, fromOrig, 'A');
      if (e.state === 'INACTIVE') e.state = 'PARTIAL';
      if (ack) {
        if (e.state === 'SYN_SENT' || e.state === 'SYN_ACK_SENT') e.state = 'ESTABLISHED';
        if (peer.state === 'SYN_ACK_SENT' || peer.state === 'SYN_SENT') peer.state = 'ESTABLISHED';
        if (e.state === 'PARTIAL' && peer.state !== 'INACTIVE' && peer.state !== 'PARTIAL') e.state = 'ESTABLISHED';
      }
    }
    if (fin && !rst) {
      this.letter(conn, fromOrig, 'F');
      if (e.finSeq === null) {
        e.finSeq = seqAdd(seq, len);
        e.finFrame = frame;
      }
      if (e.state !== 'RESET') e.state = 'CLOSED';
      if (conn.orig.finFrame !== null && conn.resp.finFrame !== null) conn.ended = true;
    }

    const summary: SegmentSummary = {
      frame, time, fromOrig, flags, seqNumber: seq, ackNumber: tcp.ackNumber, payloadLength: len,
      window: tcp.window, ttl: ip.ttl, ident: ip.ident, tos: ip.tos, optionKinds, notes,
    };

    // Evidence gathering for RSTs still waiting for what follows them.
    for (const r of conn.rsts) {
      if (r.fromOrig !== fromOrig && r.after.length < AFTER_RST_KEEP) r.after.push(summary);
    }

    if (rst) {
      this.letter(conn, fromOrig, 'R');
      conn.rsts.push({
        seg: summary,
        payloadLength: len,
        fromOrig,
        sender: snapshot(e),
        receiver: snapshot(peer),
        trigger: peer.lastSeg,
        earlierRsts: conn.rsts.map((r) => r.seg.frame),
        after: [],
      });
      e.rstFrames.push(frame);
      e.state = 'RESET';
      conn.ended = true;
    } else {
      e.ttls.set(ip.ttl, (e.ttls.get(ip.ttl) ?? 0) + 1);
      e.toss.set(ip.tos, (e.toss.get(ip.tos) ?? 0) + 1);
      e.lastIdent = ip.ident;
      e.lastSegFrame = frame;
    }
    e.lastSeg = summary;

    // Bounded segment list: the first half and a ring of the last ones.
    const max = this.opts.maxSegments;
    const head = max >> 1;
    if (conn.segments.length < max) {
      conn.segments.push(summary);
    } else {
      conn.segments.splice(head, 1);
      conn.segments.push(summary);
      conn.segmentsDropped++;
    }
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    const { closedLingerSec, idleTimeoutSec } = this.opts;
    for (const [key, conn] of this.table) {
      const idle = now - conn.end;
      if ((conn.ended && idle > closedLingerSec) || idle > idleTimeoutSec) this.finalize(key, conn);
    }
  }

  private finalize(key: string, conn: Connection): void {
    this.table.delete(key);
    this.opts.onConnection(conn);
  }
}

/** Zeek's conn_state (base/protocols/conn/main.zeek `conn_state`), from the endpoint states. */
export function connState(c: Connection): string {
  const os = c.orig.state;
  const rs = c.resp.state;
  const oInactive = os === 'INACTIVE' || os === 'PARTIAL';
  const rInactive = rs === 'INACTIVE' || rs === 'PARTIAL';
  if (rs === 'RESET') {
    if (os === 'SYN_SENT' || os === 'SYN_ACK_SENT' || (os === 'RESET' && c.orig.bytes === 0 && c.resp.bytes === 0)) return 'REJ';
    if (oInactive) return 'RSTRH';
    return 'RSTR';
  }
  if (os === 'RESET') {
    if (rInactive) return /^\^?S[^HAFGIQ]*R/.test(c.history) ? 'RSTOS0' : 'OTH';
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

