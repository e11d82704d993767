// Rate-limited resets: a host that answers SYNs to closed ports with RSTs only up to a number per
// second and leaves the rest unanswered. FreeBSD and macOS do (tcp_dropwithreset → badport_bandlim,
// `net.inet.icmp.icmplim`: 200 per second on FreeBSD, 250 on macOS, logged as "Limiting closed
// port RST response from N to 200 packets/sec"); Linux does not limit them (tcp_v4_send_reset has no
// rate check; only its challenge ACKs are limited, RFC 5961 §7). Seen from the wire: in the seconds
// when some SYNs got no answer, the host's RSTs per second stay at one level while the SYNs per
// second change. A steady scan with some ports filtered looks the same at a constant rate, so no
// claim is made unless the SYN rate varied. Contract:
// - `add(report)` takes every connection report as it is made: a refused connection (its first RST
//   answers a SYN) counts a SYN and a RST for the RST's sender in the RST's second; an attempt left
//   unanswered (S0, nothing from the responder) counts a SYN and an unanswered one for the
//   responder in its first second. Reports may come a few seconds out of order (the linger, Zeek's
//   attempt timer): each host keeps its last WINDOW seconds open, later arrivals for older seconds
//   are not counted.
// - `findings()` closes every open second and returns the hosts that fit (see `fits`), most
//   unanswered first. Memory is bounded: MAX_HOSTS hosts, MAX_SATURATED saturated seconds each.

import type { ConnectionReport } from './engine.js';

export interface RateLimitFinding {
  /** The host whose RSTs were limited. */
  host: string;
  /** Its RSTs per second in the seconds some SYNs went unanswered (the median): the limit. */
  perSecond: number;
  /** Seconds at the limit, and the SYNs it answered and left unanswered in them. */
  seconds: number;
  answered: number;
  unanswered: number;
  /** The fewest and the most SYNs it got in one of those seconds. */
  synsMin: number;
  synsMax: number;
}

/** Seconds a host keeps open for reports that arrive late. */
const WINDOW = 16;
const MAX_HOSTS = 4096;
const MAX_SATURATED = 512;
/** At least this many seconds at the limit, at least this many RSTs a second, within this share of
 *  the median, with the SYN rate varying by at least this factor. */
const MIN_SECONDS = 3;
const MIN_PER_SECOND = 10;
const TOLERANCE = 0.1;
const MIN_SYN_SPREAD = 1.25;

class HostSeconds {
  readonly secs = new Float64Array(WINDOW).fill(-1);
  readonly syns = new Uint32Array(WINDOW);
  readonly rsts = new Uint32Array(WINDOW);
  readonly unanswered = new Uint32Array(WINDOW);
  latest = -1;
  /** RSTs, SYNs and unanswered SYNs of each saturated second (some SYNs unanswered, some RSTs). */
  readonly satRsts: number[] = [];
  readonly satSyns: number[] = [];
  satUnanswered = 0;

  add(second: number, rst: boolean): void {
    if (second <= this.latest - WINDOW) return; // too late: that second is closed
    if (second > this.latest) this.latest = second;
    const i = second % WINDOW;
    if (this.secs[i] !== second) {
      this.close(i);
      this.secs[i] = second;
    }
    this.syns[i] += 1;
    if (rst) this.rsts[i] += 1;
    else this.unanswered[i] += 1;
  }

  close(i: number): void {
    if (this.secs[i] >= 0 && this.unanswered[i] > 0 && this.rsts[i] > 0 && this.satRsts.length < MAX_SATURATED) {
      this.satRsts.push(this.rsts[i]);
      this.satSyns.push(this.syns[i]);
      this.satUnanswered += this.unanswered[i];
    }
    this.secs[i] = -1;
    this.syns[i] = 0;
    this.rsts[i] = 0;
    this.unanswered[i] = 0;
  }
}

/** Whether a host's saturated seconds show a limit: enough of them, their RST counts at one level,
 *  the SYN counts not. */
function fits(h: HostSeconds): boolean {
  const n = h.satRsts.length;
  if (n < MIN_SECONDS) return false;
  const med = median(h.satRsts);
  if (med < MIN_PER_SECOND) return false;
  const slack = Math.max(2, TOLERANCE * med);
  if (h.satRsts.some((x) => Math.abs(x - med) > slack)) return false;
  return Math.max(...h.satSyns) >= MIN_SYN_SPREAD * Math.min(...h.satSyns);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

export class RstRateLimits {
  private readonly hosts = new Map<string, HostSeconds>();

  add(c: ConnectionReport): void {
    const r = c.rsts[0];
    if (r !== undefined) {
      if (r.cause !== 'refused') return;
      this.host(r.sender === 'orig' ? c.origAddr : c.respAddr)?.add(Math.floor(r.time), true);
    } else if (c.connState === 'S0' && c.respPackets === 0) {
      this.host(c.respAddr)?.add(Math.floor(c.start), false);
    }
  }

  findings(): RateLimitFinding[] {
    const out: RateLimitFinding[] = [];
    for (const [host, h] of this.hosts) {
      for (let i = 0; i < WINDOW; i += 1) h.close(i);
      if (!fits(h)) continue;
      out.push({
        host, perSecond: median(h.satRsts), seconds: h.satRsts.length, answered: h.satRsts.reduce((a, b) => a + b, 0),
        unanswered: h.satUnanswered, synsMin: Math.min(...h.satSyns), synsMax: Math.max(...h.satSyns),
      });
    }
    return out.sort((a, b) => b.unanswered - a.unanswered);
  }

  private host(addr: string): HostSeconds | undefined {
    let h = this.hosts.get(addr);
    if (h === undefined && this.hosts.size < MAX_HOSTS) {
      h = new HostSeconds();
      this.hosts.set(addr, h);
    }
    return h;
  }
}
