// Patterns of resets, as Wireshark's Expert Info groups its items and Zeek suppresses repeated
// weirds: when many RSTs share a cause and one host, the text report lists the first few and
// counts the rest. Contract:
// - admit(report) decides, for connection reports in the order they are written, whether a report
//   is listed (true) or counted in a pattern (false). A report is keyed by its first RST: cause +
//   the RST's sender host, and cause + its receiver host. Once `listed` reports of a key have been
//   listed, later ones of that key are counted in its pattern. Reports without a RST are listed.
// - patterns() returns every pattern that counted a report, most counted first: the cause, the
//   shared host and its role, how many were counted, the distinct hosts on the other side, the
//   distinct responder ports, the first and last frame, and the first few connection ids.
// - Memory is bounded: at most MAX_KEYS keys are tracked (later keys are listed, never counted),
//   and the distinct hosts and ports of a pattern are counted up to MAX_DISTINCT.

import type { Cause } from './causes.js';
import type { ConnectionReport } from './engine.js';
import { parseEndpoint } from '../wire/addr.js';

export interface RstPattern {
  cause: Cause;
  /** The host every counted RST shares, and whether it sent them or received them. */
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
interface Pattern extends RstPattern { peerSet: Set<string>; portSet: Set<number> }

export class RstGroups {
  private readonly keys = new Map<string, Key>();
  private readonly all: Pattern[] = [];

  /** `listed`: how many reports of a key are listed before the rest are counted (0: all listed). */
  constructor(private readonly listed: number) {}

  admit(c: ConnectionReport): boolean {
    const r = c.rsts[0];
    if (this.listed <= 0 || r === undefined) return true;
    const from = parseEndpoint(r.from).addr;
    const to = parseEndpoint(r.to).addr;
    const a = this.key(`${r.cause} from ${from}`);
    const b = this.key(`${r.cause} to ${to}`);
    if ((a === null || a.listed < this.listed) && (b === null || b.listed < this.listed)) {
      if (a) a.listed++;
      if (b) b.listed++;
      return true;
    }
    // Counted in the pattern of the key that is full (the receiver's when both are: a scan, a
    // client reset by many servers).
    const full = b !== null && b.listed >= this.listed ? b : a!;
    const role = full === b ? 'receiver' : 'sender';
    const p = full.pattern ??= this.newPattern(r.cause, role === 'receiver' ? to : from, role, c.firstFrame);
    p.count++;
    p.lastFrame = c.lastFrame;
    if (p.examples.length < EXAMPLES) p.examples.push(c.id);
    const other = role === 'receiver' ? from : to;
    if (p.peerSet.size < MAX_DISTINCT) p.peerSet.add(other); else p.capped = true;
    const port = parseEndpoint(c.resp).port;
    if (p.portSet.size < MAX_DISTINCT) p.portSet.add(port); else p.capped = true;
    return false;
  }

  patterns(): RstPattern[] {
    return this.all
      .map(({ peerSet, portSet, ...p }) => ({ ...p, peers: peerSet.size, ports: portSet.size }))
      .sort((x, y) => y.count - x.count || x.firstFrame - y.firstFrame);
  }

  private key(k: string): Key | null {
    let v = this.keys.get(k);
    if (v === undefined) {
      if (this.keys.size >= MAX_KEYS) return null;
      v = { listed: 0, pattern: null };
      this.keys.set(k, v);
    }
    return v;
  }

  private newPattern(cause: Cause, host: string, role: 'sender' | 'receiver', frame: number): Pattern {
    const p: Pattern = {
      cause, host, role, count: 0, peers: 0, ports: 0, capped: false, firstFrame: frame, lastFrame: frame,
      examples: [], peerSet: new Set(), portSet: new Set(),
    };
    this.all.push(p);
    return p;
  }
}
