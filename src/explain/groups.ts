// Patterns of resets, as Wireshark's Expert Info groups its items and Zeek suppresses repeated
// weirds: when many RSTs share a cause and one host, the text report lists the first few and
// counts the rest. Contract:
// - admit(report) decides, for connection reports in the order they are written, whether a report
//   is listed (true) or counted in a pattern (false). A report is keyed by its first RST: cause +
//   the RST's sender host, and cause + its receiver host. Once `listed` reports of a key have been
//   listed, later ones of that key are counted in its pattern. An attempt left unanswered (S0,
//   nothing from the responder: a filtered port, a dead host, a rate-limited RST) is grouped the
//   same way as `unanswered`, by the SYN's sender and by its receiver. Other reports without a RST
//   are listed.
// - patterns() returns every pattern that counted a report, most counted first: the cause, the
//   shared host and its role, how many were counted, the distinct hosts on the other side, the
//   distinct responder ports, the first and last frame, and the first few connection ids.
// - Memory is bounded: at most MAX_KEYS keys are tracked (later keys are listed, never counted),
//   and the distinct hosts and ports of a pattern are counted up to MAX_DISTINCT.

import type { Cause } from './causes.js';
import type { ConnectionReport } from './engine.js';

/** What a pattern counts: RSTs of one cause, or SYNs that got no answer at all. */
export type PatternKind = Cause | 'unanswered';

export interface RstPattern {
  cause: PatternKind;
  /** The host every counted RST (for `unanswered`: SYN) shares, and whether it sent them or received them. */
  host: string;
  role: 'sender' | 'receiver';
  /** Reports counted in the pattern (not listed). */
  count: number;
  /** Distinct hosts on the other side, and distinct responder ports (at most MAX_DISTINCT: then "at least"). */
  peers: number;
  ports: number;
  capped: boolean;
  firstFrame: number;
  lastFrame: number;
  /** Ids of the first counted connections. */
  examples: number[];
}

const MAX_KEYS = 100_000;
const MAX_DISTINCT = 100_000;
const EXAMPLES = 3;

interface Key { listed: number; pattern: Pattern | null }
interface ByHost { from: Map<string, Key>; to: Map<string, Key> }
interface Pattern extends RstPattern { peerSet: Set<string>; portSet: Set<number> }

export class RstGroups {
  /** Keys by cause, then by the sender's host (`from`) or the receiver's (`to`); `nKeys` in all. */
  private readonly keys = new Map<PatternKind, ByHost>();
  private nKeys = 0;
  private readonly all: Pattern[] = [];

  /** `listed`: how many reports of a key are listed before the rest are counted (0: all listed). */
  constructor(private readonly listed: number) {}

  admit(c: ConnectionReport): boolean {
    if (this.listed <= 0) return true;
    const r = c.rsts[0];
    let cause: PatternKind;
    let from: string;
    let to: string;
    if (r !== undefined) {
      cause = r.cause;
      from = r.sender === 'orig' ? c.origAddr : c.respAddr;
      to = r.sender === 'orig' ? c.respAddr : c.origAddr;
    } else if (c.connState === 'S0' && c.respPackets === 0) {
      cause = 'unanswered';
      from = c.origAddr;
      to = c.respAddr;
    } else {
      return true;
    }
    const byHost = this.byCause(cause);
    const a = this.key(byHost.from, from);
    const b = this.key(byHost.to, to);
    if ((a === null || a.listed < this.listed) && (b === null || b.listed < this.listed)) {
      if (a) a.listed++;
      if (b) b.listed++;
      return true;
    }
    // Counted in the pattern of the key that is full; when both are, the receiver's for RSTs (a
    // scanner refused by many ports, a client reset by many servers), the sender's for unanswered
    // SYNs (the scanner again).
    const aFull = a !== null && a.listed >= this.listed;
    const bFull = b !== null && b.listed >= this.listed;
    const full = bFull && !(cause === 'unanswered' && aFull) ? b : a!;
    const role = full === b ? 'receiver' : 'sender';
    const p = full.pattern ??= this.newPattern(cause, role === 'receiver' ? to : from, role, c.firstFrame);
    p.count++;
    p.lastFrame = c.lastFrame;
    if (p.examples.length < EXAMPLES) p.examples.push(c.id);
    const other = role === 'receiver' ? from : to;
    if (p.peerSet.size < MAX_DISTINCT) p.peerSet.add(other); else p.capped = true;
    if (p.portSet.size < MAX_DISTINCT) p.portSet.add(c.respPort); else p.capped = true;
    return false;
  }

  patterns(): RstPattern[] {
    return this.all
      .map(({ peerSet, portSet, ...p }) => ({ ...p, peers: peerSet.size, ports: portSet.size }))
      .sort((x, y) => y.count - x.count || x.firstFrame - y.firstFrame);
  }

  private byCause(cause: PatternKind): ByHost {
    let m = this.keys.get(cause);
    if (m === undefined) {
      m = { from: new Map(), to: new Map() };
      this.keys.set(cause, m);
    }
    return m;
  }

  private key(m: Map<string, Key>, host: string): Key | null {
    let v = m.get(host);
    if (v === undefined) {
      if (this.nKeys >= MAX_KEYS) return null;
      this.nKeys++;
      v = { listed: 0, pattern: null };
      m.set(host, v);
    }
    return v;
  }

  private newPattern(cause: PatternKind, host: string, role: 'sender' | 'receiver', frame: number): Pattern {
    const p: Pattern = {
      cause, host, role, count: 0, peers: 0, ports: 0, capped: false, firstFrame: frame, lastFrame: frame,
      examples: [], peerSet: new Set(), portSet: new Set(),
    };
    this.all.push(p);
    return p;
  }
}
