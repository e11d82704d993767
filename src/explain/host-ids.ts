// One IPv4 ID counter across a host's connections: a global counter (RFC 7739 §5: Windows keeps one
// for all its datagrams; FreeBSD without random IDs too), against Linux's per-socket counters with
// random starts (tcp_v4_connect: inet_id = get_random_u16()) and macOS's random IDs. Contract:
// - `observe(connection)` takes each finalized connection once (never per packet): for each IPv4
//   endpoint with non-zero IDs, the first ID it sent (at about the connection's start) and its last
//   (at its last packet). Two connections of one host that start within PAIR_SEC of each other
//   "agree" when the later one's first ID is 1…MAX_STEP above the earlier one's: what one counter
//   gives, and what random starts give only 1 time in 8.
// - `counter(addr)` is the host's verdict: global once at least MIN_AGREE pairs agree and at least
//   AGREE_SHARE of its pairs do; with its latest ID and time, for the RSTs it sends without packets
//   of its own in their connection (verdict.ts: evidence only, never a cause by itself).
// - Memory: at most MAX_HOSTS hosts, a few numbers each.

import type { Connection, EndpointStats } from '../tcp/index.js';

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
  private readonly hosts = new Map<string, Host>();

  observe(c: Connection): void {
    if (c.ipVersion !== 4) return;
    this.endpoint(c.orig, c.start);
    this.endpoint(c.resp, c.start);
  }

  counter(addr: string): HostCounter | null {
    const h = this.hosts.get(addr);
    if (h === undefined) return null;
    h.global = h.agree >= MIN_AGREE && h.agree >= AGREE_SHARE * h.pairs;
    return h;
  }

  private endpoint(ep: EndpointStats, start: number): void {
    if (ep.idSeen === 0 || ep.idFirst <= 0 || ep.idZero === ep.idSeen || ep.lastIdent === null) return;
    let h = this.hosts.get(ep.addr);
    if (h === undefined) {
      if (this.hosts.size >= MAX_HOSTS) return;
      h = { global: false, lastIdent: ep.lastIdent, lastTime: ep.lastTime, agree: 0, pairs: 0, firstIdent: ep.idFirst, firstTime: start };
      this.hosts.set(ep.addr, h);
      return;
    }
    if (Math.abs(start - h.firstTime) <= PAIR_SEC) {
      h.pairs += 1;
      const [a, b] = start >= h.firstTime ? [h.firstIdent, ep.idFirst] : [ep.idFirst, h.firstIdent];
      if (idFollows(a, b)) h.agree += 1;
    }
    h.firstIdent = ep.idFirst;
    h.firstTime = start;
    if (ep.lastTime >= h.lastTime) {
      h.lastIdent = ep.lastIdent;
      h.lastTime = ep.lastTime;
    }
  }
}
