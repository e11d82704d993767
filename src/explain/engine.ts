// The explain engine: capture records in, connection reports with judged RSTs out. Contract:
// - `Explainer` is push-style: `packet(rec)` per captured packet, `end()` once; connection reports
//   reach `onConnection` as connections finish (streaming, memory bounded by live connections).
//   `segments: false` keeps no segment summaries (no ladders to draw): same verdicts, less work;
//   `normal: false` counts connections that ended normally without building their reports.
// - Live input: `advance(now)` moves time on without a packet, so an ended connection is judged
//   `closedLingerSec` after its last packet even on a quiet link (explain on a pipe, watch).
// - Nothing about the capture's content throws: undecodable frames become counted anomalies.
// - Checksums are not verified unless `verifyChecksums` (as `zeek -C` against plain `zeek`): a
//   capture taken on a sending host shows its outgoing packets with offloaded, unfilled checksums.
//   Verified, an IPv4 header with a bad checksum drops the packet (`bad-ip-checksum`, no
//   connection); a TCP segment with a bad one is counted (`bad-tcp-checksum`) and gives only its
//   connection's `C`/`c` history letter, as in Zeek. A segment not wholly captured is not verified.
// - `explainCapture(source)` is the convenience for tests, the lab and the proxy: it reads a whole
//   capture (path, '-' or stream) and returns every connection, every RST verdict and the summary.

import { readCapture } from '../capture/reader.js';
import type { CaptureAnomaly, CaptureSummary, PacketRecord } from '../capture/types.js';
import { ConnectionTracker, connState } from '../tcp/index.js';
import type { Connection, ConnState, SegmentSummary } from '../tcp/index.js';
import { formatEndpoint } from '../wire/addr.js';
import { verifyTcpChecksum } from '../wire/checksum.js';
import { DecodeScratch, decodeFrameAt } from '../wire/decode.js';
import { Ipv4Packet } from '../wire/ipv4.js';
import { CAUSE_CODES } from './causes.js';
import type { Cause } from './causes.js';
import { senderProfile } from './profile.js';
import type { SenderProfile } from './profile.js';
import { HostIdCounters } from './host-ids.js';
import { RstRateLimits } from './rate-limit.js';
import type { RateLimitFinding } from './rate-limit.js';
import { judgeRst } from './verdict.js';
import type { RstVerdict, SharedCounterPeer } from './verdict.js';

export interface ConnectionReport {
  id: number;
  /** "ip:port" ("[v6]:port" for IPv6). */
  orig: string;
  resp: string;
  /** The two addresses and the responder's port as they are, for grouping reports by host
   *  without parsing `orig`/`resp` (explain/groups.ts, explain/rate-limit.ts). */
  origAddr: string;
  respAddr: string;
  respPort: number;
  ipVersion: 4 | 6;
  firstFrame: number;
  lastFrame: number;
  start: number;
  duration: number;
  history: string;
  connState: ConnState;
  origPackets: number;
  respPackets: number;
  origBytes: number;
  respBytes: number;
  retransmissions: number;
  keepalives: number;
  zeroWindows: number;
  /** Ended abnormally: a RST, an unanswered SYN, or a half-open close. */
  abnormal: boolean;
  rsts: RstVerdict[];
  /** What each endpoint's own packets say about its stack (profile.ts). */
  profiles: { orig: SenderProfile; resp: SenderProfile };
  anomalies: Record<string, number>;
  /** Segment summaries for ladder diagrams (bounded; `segmentsDropped` were left out in the middle). */
  segments: SegmentSummary[];
  segmentsDropped: number;
}

export interface AnomalyCount { count: number; firstFrame: number | null; detail: string }

export interface ExplainSummary {
  packets: number;
  /** Time of the first packet (seconds since the epoch), for relative times. */
  firstTime: number | null;
  /** Time of the latest packet (the largest time seen), null without packets; set by `end()`. */
  lastTime: number | null;
  tcpPackets: number;
  connections: number;
  abnormalConnections: number;
  rsts: number;
  byCause: Record<Cause, number>;
  /** Capture- and decode-level anomalies by code. */
  anomalies: Record<string, AnomalyCount>;
  /** Hosts whose RSTs to closed ports were rate-limited (explain/rate-limit.ts); set by `end()`
   *  when there are any. */
  rateLimited?: RateLimitFinding[];
  capture?: CaptureSummary;
}

export interface ExplainSink {
  onConnection?(c: ConnectionReport): void;
}

export interface ExplainerOptions {
  /** Keep segment summaries for ladder diagrams (default true). Without them each report's
   *  `segments` is empty; the verdicts are the same. */
  segments?: boolean;
  /** Report connections that ended normally too (default true). Without them those are only
   *  counted in the summary, never built. */
  normal?: boolean;
  /** Capture time an ended connection waits for more packets before it is judged (default 5 s;
   *  live input uses less, with `advance`). */
  closedLingerSec?: number;
  /** Verify IPv4 header and TCP checksums, dropping packets that fail as Zeek without -C does
   *  (default false: as `zeek -C`). */
  verifyChecksums?: boolean;
  /** Ports taken for likely servers when a connection's originator is decided at its first
   *  segment (TrackerOptions.likelyServerPorts; default Zeek's default scripts'). */
  likelyServerPorts?: ReadonlySet<number>;
}

const ABNORMAL_STATES = new Set<ConnState>(['S0', 'REJ', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR']);
/** What `ConnectionReport.abnormal` says, from the conn_state and the number of RSTs. */
const isAbnormal = (state: ConnState, rsts: number): boolean => rsts > 0 || ABNORMAL_STATES.has(state);

/** The capture's latest RSTs (IPv4 with a non-zero ID), a bounded ring the Explainer fills as
 *  packets pass: where several source addresses share one IPv4 ID counter at one TTL, one box sent
 *  them (RFC 6864 §5). Only RSTs are recorded: nothing per ordinary packet. */
export class RstRing {
  static readonly SIZE = 256;
  /** Seconds and ID steps within which two RSTs count as one counter's. */
  static readonly WINDOW_SEC = 10;
  static readonly MAX_STEP = 64;
  private readonly addrs: string[] = [];
  private readonly frames = new Float64Array(RstRing.SIZE);
  private readonly idents = new Int32Array(RstRing.SIZE);
  private readonly ttls = new Int32Array(RstRing.SIZE);
  private readonly times = new Float64Array(RstRing.SIZE);
  /** The entries by their ID: a list each, through `nextIn`/`prevIn` (-1 ends one). A port scan
   *  asks `peers` for every refused probe: it looks at the IDs within MAX_STEP of the probe's, not
   *  at all SIZE entries (and never at the entries with its own ID, which many RSTs share). */
  private readonly heads = new Int32Array(0x10000).fill(-1);
  private readonly nextIn = new Int32Array(RstRing.SIZE).fill(-1);
  private readonly prevIn = new Int32Array(RstRing.SIZE).fill(-1);
  private next = 0;

  /** A RST with IPv4 ID `ident` (1…65535). */
  add(addr: string, frame: number, ident: number, ttl: number, time: number): void {
    const i = this.next % RstRing.SIZE;
    ident &= 0xffff;
    if (this.next++ >= RstRing.SIZE) this.unlink(i);
    this.addrs[i] = addr;
    this.frames[i] = frame;
    this.idents[i] = ident;
    this.ttls[i] = ttl;
    this.times[i] = time;
    const h = this.heads[ident];
    this.nextIn[i] = h;
    this.prevIn[i] = -1;
    if (h >= 0) this.prevIn[h] = i;
    this.heads[ident] = i;
  }

  /** RSTs from other addresses than `addr` whose IDs and times are one counter's with this one's:
   *  within WINDOW_SEC, same TTL, the later one's ID 1…MAX_STEP above the earlier one's. */
  peers(addr: string, frame: number, ident: number | null, ttl: number, time: number): SharedCounterPeer[] {
    const out: SharedCounterPeer[] = [];
    if (ident === null || ident === 0) return out;
    for (let d = -RstRing.MAX_STEP; d <= RstRing.MAX_STEP; d += 1) {
      if (d === 0) continue;
      for (let i = this.heads[(ident + d) & 0xffff]; i >= 0; i = this.nextIn[i]) {
        const f = this.frames[i];
        // A later RST's ID must be above this one's, an earlier one's below.
        if (f === frame || (f > frame) !== (d > 0) || this.ttls[i] !== ttl) continue;
        if (Math.abs(this.times[i] - time) > RstRing.WINDOW_SEC || this.addrs[i] === addr) continue;
        out.push({ addr: this.addrs[i], frame: f, ident: this.idents[i] });
      }
    }
    return out.length > 1 ? out.sort((x, y) => x.frame - y.frame) : out;
  }

  /** Entry `i` out of its ID's list (it is about to be overwritten). */
  private unlink(i: number): void {
    const p = this.prevIn[i];
    const n = this.nextIn[i];
    if (p >= 0) this.nextIn[p] = n;
    else this.heads[this.idents[i]] = n;
    if (n >= 0) this.prevIn[n] = p;
  }
}

/** Context across connections that the engine keeps for reportOf: IPv4 ID counters per host, and
 *  the latest refused attempts by ports (a client retrying a refused connect). */
export interface ReportContext { hosts: HostIdCounters; refused: RefusedAttempts }

/**
 * Refused attempts by their ports (at most MAX; then it starts again): a SYN with the same ports
 * and ISN within WINDOW_SEC of a refused one is the same connect() retried by the client's TCP,
 * which Windows does (Microsoft KB 175523): only Windows clients' attempts are kept.
 */
export class RefusedAttempts {
  static readonly MAX = 4096;
  static readonly WINDOW_SEC = 10;
  private readonly byPorts = new Map<string, { isn: number; synFrame: number; time: number; attempt: number }>();

  /** A refused connection's attempt, and the attempt it repeats (null: a first one). */
  see(key: string, isn: number, synFrame: number, time: number): { synFrame: number; time: number; attempt: number } | null {
    const before = this.byPorts.get(key);
    const retry = before !== undefined && before.isn === isn && time - before.time <= RefusedAttempts.WINDOW_SEC ? before : null;
    // Full: start again (a retry comes within seconds; evicting one by one costs a scan of the
    // Map's deleted entries each time).
    if (before === undefined && this.byPorts.size >= RefusedAttempts.MAX) this.byPorts.clear();
    this.byPorts.set(key, { isn, synFrame, time, attempt: retry ? retry.attempt + 1 : 1 });
    return retry;
  }
}

export function reportOf(c: Connection, ring?: RstRing, ctx?: ReportContext): ConnectionReport {
  const state = connState(c);
  const origCounter = ctx?.hosts.counter(c.orig.addr) ?? null;
  const respCounter = ctx?.hosts.counter(c.resp.addr) ?? null;
  const profiles = { orig: senderProfile(c.orig, origCounter?.global === true), resp: senderProfile(c.resp, respCounter?.global === true) };
  // A refused attempt (the responder's RST answers the originator's SYN, nothing else), for retries.
  const first = c.rsts[0];
  const refusedBefore = ctx && first && !first.fromOrig && profiles.orig.family === 'windows' && c.orig.sawSyn && c.orig.isn !== null
    && c.resp.packets === c.resp.rstFrames.length
    ? ctx.refused.see(`${c.orig.addr} ${c.orig.port} ${c.resp.addr} ${c.resp.port}`, c.orig.isn, c.firstFrame, c.start) : null;
  const rsts = c.rsts.map((r) => judgeRst(r, c, {
    profile: r.fromOrig ? profiles.orig : profiles.resp,
    receiverProfile: r.fromOrig ? profiles.resp : profiles.orig,
    hostCounter: r.fromOrig ? origCounter : respCounter,
    refusedBefore: r === first ? refusedBefore : null,
    // (Only consulted for a sender with no packets of its own in the connection: verdict.ts, 1b.)
    sharedCounter: ring && (r.fromOrig ? c.orig : c.resp).ttls.size === 0
      ? ring.peers(r.fromOrig ? c.orig.addr : c.resp.addr, r.seg.frame, r.seg.ident, r.seg.ttl, r.seg.time) : [],
  }));
  return {
    id: c.id,
    orig: formatEndpoint(c.orig.addr, c.orig.port),
    resp: formatEndpoint(c.resp.addr, c.resp.port),
    origAddr: c.orig.addr,
    respAddr: c.resp.addr,
    respPort: c.resp.port,
    ipVersion: c.ipVersion,
    firstFrame: c.firstFrame,
    lastFrame: c.lastFrame,
    start: c.start,
    duration: c.end - c.start,
    history: c.history,
    connState: state,
    origPackets: c.orig.packets,
    respPackets: c.resp.packets,
    origBytes: c.orig.bytes,
    respBytes: c.resp.bytes,
    retransmissions: c.orig.retransmissions + c.resp.retransmissions,
    keepalives: c.orig.keepalives + c.resp.keepalives,
    zeroWindows: c.orig.zeroWindows + c.resp.zeroWindows,
    abnormal: isAbnormal(state, rsts.length),
    rsts,
    profiles,
    anomalies: Object.fromEntries(c.anomalies),
    segments: c.segments,
    segmentsDropped: c.segmentsDropped,
  };
}

export class Explainer {
  private readonly tracker: ConnectionTracker;
  private readonly summary: ExplainSummary;
  /** Views re-pointed for every frame: the tracker keeps nothing of a decoded frame. */
  private readonly scratch = new DecodeScratch();
  /** The largest packet time seen (`summary.lastTime` at the end). */
  private latest = -Infinity;
  /** The latest RSTs, for IPv4 ID counters shared across addresses (RstRing). */
  private readonly ring: RstRing;
  /** Refused and unanswered SYNs per host and second, for rate-limited RSTs. */
  private readonly rates = new RstRateLimits();
  /** IPv4 ID counters across each host's connections (a global counter), refused attempts. */
  private readonly hosts = new HostIdCounters();
  private readonly context: ReportContext = { hosts: this.hosts, refused: new RefusedAttempts() };
  /** Checksums verified (ExplainerOptions.verifyChecksums). */
  private readonly verify: boolean;

  constructor(private readonly sink: ExplainSink = {}, opts: ExplainerOptions = {}) {
    this.summary = {
      packets: 0, firstTime: null, lastTime: null, tcpPackets: 0, connections: 0, abnormalConnections: 0, rsts: 0,
      byCause: Object.fromEntries(CAUSE_CODES.map((c) => [c, 0])) as Record<Cause, number>,
      anomalies: {},
    };
    const ring = this.ring = new RstRing();
    this.tracker = new ConnectionTracker({
      onConnection: (c) => this.finish(c),
      onRstIdent: (addr, frame, ident, ttl, time) => ring.add(addr, frame, ident, ttl, time),
      onIdents: this.hosts.observe,
      ...(opts.segments === false ? { maxSegments: 0 } : {}),
      ...(opts.normal === false ? { keep: isAbnormal, onSkipped: () => { this.summary.connections++; } } : {}),
      ...(opts.closedLingerSec !== undefined ? { closedLingerSec: opts.closedLingerSec } : {}),
      ...(opts.likelyServerPorts !== undefined ? { likelyServerPorts: opts.likelyServerPorts } : {}),
    });
    this.verify = opts.verifyChecksums === true;
  }

  /** Live input: judge what has waited out its linger by `now` (seconds since the epoch, the
   *  packets' clock), with no packet needed to move time on. */
  advance(now: number): void {
    this.tracker.advance(now);
  }

  /** Change the linger of ended connections (see ExplainerOptions.closedLingerSec). */
  setClosedLinger(sec: number): void {
    this.tracker.setClosedLinger(sec);
  }

  /** Packets handed to `packet()` so far. */
  get packetsSeen(): number {
    return this.summary.packets;
  }

  /** Connections held in memory right now. */
  get alive(): number {
    return this.tracker.alive;
  }

  anomaly(code: string, frame: number | null, detail: string): void {
    const a = this.summary.anomalies[code];
    if (a) a.count++;
    else this.summary.anomalies[code] = { count: 1, firstFrame: frame, detail };
  }

  readonly captureAnomaly = (a: CaptureAnomaly): void => this.anomaly(a.code, a.frame, a.detail);

  readonly packet = (rec: PacketRecord): void => {
    const time = rec.tsSec + rec.tsNsec / 1e9;
    if (this.summary.packets++ === 0) this.summary.firstTime = time;
    if (time > this.latest) this.latest = time;
    // In place when the reader offers it (no view of the frame), into reused views either way.
    const bytes = rec.bytes;
    const d = bytes !== undefined
      ? decodeFrameAt(rec.linkType, bytes, rec.dataOffset as number, rec.dataLength as number, rec.origLen, this.scratch)
      : decodeFrameAt(rec.linkType, rec.data, 0, rec.data.length, rec.origLen, this.scratch);
    switch (d.kind) {
      case 'tcp': {
        let bad = false;
        if (this.verify) {
          if (d.ip instanceof Ipv4Packet && !d.ip.verifyChecksum()) {
            this.anomaly('bad-ip-checksum', rec.frame, `frame ${rec.frame}`);
            return;
          }
          bad = verifyTcpChecksum(d) === false;
          if (bad) this.anomaly('bad-tcp-checksum', rec.frame, `frame ${rec.frame}`);
        }
        this.summary.tcpPackets++;
        this.tracker.push(rec.frame, rec, d, bad);
        for (let i = 0; i < d.anomalies.length; i += 1) {
          const a = d.anomalies[i];
          if (a !== 'tunnelled') this.anomaly(a, rec.frame, `frame ${rec.frame}`);
        }
        return;
      }
      case 'malformed':
        this.anomaly(d.anomaly, rec.frame, d.detail);
        return;
      case 'unknown-linktype':
        this.anomaly('unknown-linktype', rec.frame, `link type ${d.value} is not decoded`);
        return;
      case 'not-tcp':
        return;
    }
  };

  /** Time of the first packet (seconds since the epoch), or null before it. */
  get firstTime(): number | null {
    return this.summary.firstTime;
  }

  /** First frame of the oldest connection not yet reported (Infinity when none is held): every
   *  report still to come starts at or after it. */
  get oldestPending(): number {
    return this.tracker.oldestFirstFrame;
  }

  /** At the end of the input, before `end()`: report the `limit` oldest connections still held;
   *  returns how many are left (so that a caller can let its output drain between batches). */
  endSome(limit: number): number {
    return this.tracker.flush(limit);
  }

  end(capture?: CaptureSummary): ExplainSummary {
    this.tracker.flush();
    if (this.summary.packets > 0) this.summary.lastTime = this.latest;
    const limited = this.rates.findings();
    if (limited.length) this.summary.rateLimited = limited;
    if (capture) this.summary.capture = capture;
    return this.summary;
  }

  private finish(c: Connection): void {
    const report = reportOf(c, this.ring, this.context);
    this.summary.connections++;
    if (report.abnormal) this.summary.abnormalConnections++;
    for (const r of report.rsts) {
      this.summary.rsts++;
      this.summary.byCause[r.cause]++;
    }
    if (report.abnormal) this.rates.add(report);
    this.sink.onConnection?.(report);
  }
}

export interface ExplainResult {
  connections: ConnectionReport[];
  rsts: RstVerdict[];
  summary: ExplainSummary;
}

/** Read a whole capture and explain it. `source`: a path, '-' for stdin, or a readable stream. */
export async function explainCapture(source: string | NodeJS.ReadableStream, opts: ExplainerOptions = {}): Promise<ExplainResult> {
  const connections: ConnectionReport[] = [];
  const explainer = new Explainer({ onConnection: (c) => connections.push(c) }, opts);
  const capture = await readCapture(source, { packet: explainer.packet, anomaly: explainer.captureAnomaly });
  const summary = explainer.end(capture);
  connections.sort((a, b) => a.firstFrame - b.firstFrame);
  const rsts = connections.flatMap((c) => c.rsts).sort((a, b) => a.frame - b.frame);
  return { connections, rsts, summary };
}
