// One IPv4 ID counter across a host's connections: a global counter (RFC 7739 §5: Windows keeps one
// for all its datagrams; FreeBSD without random IDs too), against Linux's per-socket counters with
// random starts (tcp_v4_connect: inet_id = get_random_u16()) and macOS's random IDs. Contract:
// - `observe(addr, firstIdent, start, lastIdent, lastTime)` takes each finalized connection's IPv4
//   endpoints once (the tracker's onIdents, for every connection, reported or not; never per
//   packet): the first ID it sent (at about the connection's start) and its last (at its last
//   packet), the address as a number. Two connections of one host that start within PAIR_SEC of each other
//   "agree" when the later one's first ID is 1…MAX_STEP above the earlier one's: what one counter
//   gives, and what random starts give only 1 time in 8.
// - `counter(addr)` (an IPv4 address in text; null for IPv6) is the host's verdict: global once at least MIN_AGREE pairs agree and at least
//   AGREE_SHARE of its pairs do; with its latest ID and time, for the RSTs it sends without packets
//   of its own in their connection (verdict.ts: evidence only, never a cause by itself).
// - Memory: at most MAX_HOSTS hosts, a few numbers each.

import { parseIpv4 } from '../wire/addr.js';

export interface HostCounter {
  global: boolean;
  /** Its latest ID seen in a finalized connection, and when; pairs agreeing / compared. */
  lastIdent: number;
  lastTime: number;
  agree: number;
  pairs: number;
}

const MAX_HOSTS = 65_536;
const PAIR_SEC = 1;
const MAX_STEP = 8192;
const MIN_AGREE = 3;
const AGREE_SHARE = 0.8;

interface Host extends HostCounter { firstIdent: number; firstTime: number }

/** 1…MAX_STEP: `later` follows `earlier` on one 16-bit counter. */
export function idFollows(earlier: number, later: number): boolean {
  const d = (later - earlier + 0x10000) % 0x10000;
  return d >= 1 && d <= MAX_STEP;
}

export class HostIdCounters {
  private readonly hosts = new Map<number, Host>();
  /** Hosts with at least MIN_AGREE agreeing pairs. */
  private candidates = 0;

  readonly observe = (addr: number, firstIdent: number, start: number, lastIdent: number, lastTime: number): void => {
    let h = this.hosts.get(addr);
    if (h === undefined) {
      if (this.hosts.size >= MAX_HOSTS) return;
      this.hosts.set(addr, { global: false, lastIdent, lastTime, agree: 0, pairs: 0, firstIdent, firstTime: start });
      return;
    }
    if (Math.abs(start - h.firstTime) <= PAIR_SEC) {
      h.pairs += 1;
      const [a, b] = start >= h.firstTime ? [h.firstIdent, firstIdent] : [firstIdent, h.firstIdent];
      if (idFollows(a, b) && ++h.agree === MIN_AGREE) this.candidates += 1;
    }
    h.firstIdent = firstIdent;
    h.firstTime = start;
    if (lastTime >= h.lastTime) {
      h.lastIdent = lastIdent;
      h.lastTime = lastTime;
    }
  };

  counter(addr: string): HostCounter | null {
    // (No host has the agreeing pairs a global counter needs: nothing to look up, no address to parse.)
    if (this.candidates === 0 || addr.includes(':')) return null;
    const b = parseIpv4(addr);
    const h = this.hosts.get(((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0);
    if (h === undefined) return null;
    h.global = h.agree >= MIN_AGREE && h.agree >= AGREE_SHARE * h.pairs;
    return h;
  }
}
