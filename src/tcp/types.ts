// The public connection types of the tracker: what it is fed (SegmentTime), what it hands over
// (Connection, with its EndpointStats, SegmentSummary and RstContext records) and how it is set up
// (TrackerOptions). The fields are documented here, once; the tracker's live state (endpoint-track.ts)
// uses the same names.

import type { ConnState } from './conn-state.js';

/** A segment's capture time, in a record the caller reuses: time = tsSec + tsNsec / 1e9. */
export interface SegmentTime {
  tsSec: number;
  tsNsec: number;
}

/** Zeek's endpoint states (analyzer/protocol/tcp/TCP_Endpoint.h): the names of both rstlab's own
 *  endpoint state (EndpointStats.state, what the explainer reads) and Zeek's (zeek-conn.ts, from
 *  which conn_state comes). */
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
  optionKinds: readonly string[];
  /** Retransmission, keepalive probe, zero window… as tracker annotations. */
  notes: readonly string[];
}

/** One endpoint of a connection, as observed (a snapshot: the tracker keeps no reference to it). */
export interface EndpointStats {
  addr: string;
  port: number;
  /** rstlab's own state of the endpoint, for the explainer (a simpler machine than Zeek's: the
   *  final ACK establishes, a RST always resets); conn_state comes from Zeek's (Connection.connState). */
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
  /** What its SYN (or SYN-ACK) showed, for its sender profile (explain/profile.ts): the options'
   *  order as wire/tcp.ts `tcpOptionLayout` codes it (0: none), the window it announced (unscaled,
   *  -1: no SYN seen) and its TTL. */
  synLayout: number;
  synWindow: number;
  synTtl: number;
  /** Its IPv4 IDs (non-RST packets): how many, how many 0, how many 1…256 above the one before
   *  (a counter), and the first (-1: none). RFC 6864 §4–5: IDs of atomic datagrams may be zero,
   *  per-connection or global counters. */
  idSeen: number;
  idZero: number;
  idIncr: number;
  idFirst: number;
  /** Probes (keepalives) and retransmissions sent since the peer was last heard from. */
  probesSinceHeard: number;
  retransSinceHeard: number;
  /** Frame of its last non-RST segment. */
  lastSegFrame: number | null;
  lastSeg: SegmentSummary | null;
  lastTime: number;
}

/**
 * An endpoint as it was just before a RST: EndpointStats without what the whole connection tells
 * (its address and port, TTL/TOS counts and RST frames: Connection.orig/resp), so that a connection
 * waiting out its linger after a RST holds no Maps or strings for it.
 */
export type EndpointAtRst = Omit<EndpointStats, 'addr' | 'port' | 'ttls' | 'toss' | 'rstFrames'>;

/** Everything the explainer needs to judge one RST. */
export interface RstContext {
  seg: SegmentSummary;
  /** RST payload length (Linux never puts data in a RST). */
  payloadLength: number;
  fromOrig: boolean;
  /** Snapshots of both endpoints just before the RST. */
  sender: Readonly<EndpointAtRst>;
  receiver: Readonly<EndpointAtRst>;
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
  /** Zeek's history (zeek-conn.ts): upper case = originator, lower case = responder. */
  history: string;
  /** Zeek's conn_state, from Zeek's view of the endpoints (zeek-conn.ts, zeekConnState). */
  connState: ConnState;
  /** Segment summaries: the first `maxSegments/2` and the last ones; `segmentsDropped` in between.
   *  Empty when the tracker keeps none (`maxSegments` 0). */
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
  keep?: (connState: ConnState, rsts: number) => boolean;
  onSkipped?: (connState: ConnState) => void;
  /** Keep at most this many segment summaries per connection (default 64); 0 keeps none, for
   *  callers that draw no ladders (each endpoint's last segment is still kept, for the evidence). */
  maxSegments?: number;
  /** With `maxSegments` 0: how connections are held between their segments. 'ended' (the
   *  default): a connection that ended (a RST, or both FINs) waits out its linger packed as numbers
   *  (compact-slab.ts), and is unpacked for a late segment or its report; 'never'; 'always': every
   *  connection after each of its segments (for tests: packing must not change a report). */
  compact?: 'ended' | 'never' | 'always';
  /** Finalize an ended connection after this much capture time without packets (default 5 s). */
  closedLingerSec?: number;
  /** Hears of every RST with a non-zero IPv4 ID as it passes (RSTs only: nothing per ordinary
   *  packet): its source address, frame, ID, TTL and time (explain/engine.ts's RstRing). */
  onRstIdent?: (addr: string, frame: number, ident: number, ttl: number, time: number) => void;
  /** Hears of every finalized IPv4 connection's endpoints with non-zero IDs (kept or not, before
   *  `onConnection`): the address as a number, the first ID and the connection's start, the last
   *  ID and the endpoint's last packet time (explain/host-ids.ts: one counter across connections). */
  onIdents?: (addr: number, firstIdent: number, start: number, lastIdent: number, lastTime: number) => void;
  /** Finalize any connection after this much capture time without packets (default 3600 s). */
  idleTimeoutSec?: number;
  /** The ports Zeek takes for likely servers when it decides a connection's originator at its
   *  first segment (default: those of Zeek's default scripts, zeek-conn.ts LIKELY_SERVER_PORTS;
   *  `zeek -b` registers only what its script loads). */
  likelyServerPorts?: ReadonlySet<number>;
}
