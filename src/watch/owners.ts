// Which process owns a TCP socket, for `rstlab watch`: the local end of a reset, named by the
// process that held it. Contract:
// - `parseSs(text)` reads `ss -tanpH` output (one socket per line: state, queues, local, peer,
//   `users:(("comm",pid=N,fd=F),…)`) into sockets with their first owner; sockets without a
//   visible owner (another namespace's process, a TIME-WAIT socket) are kept without one. Pure.
// - `SocketOwners` keeps what `ss` showed, refreshed at most every `minIntervalMs` and remembered
//   for `keepSec` after a socket disappears: a reset often comes after its socket is gone (an
//   aborted close, a TIME-WAIT answer), and the owner it had is still the one to name. `owner()`
//   looks up the exact connection, else a listener on the local port (a reset answered by the
//   listening socket, or for a connection still in its accept queue). No per-event scan: a lookup
//   that misses asks for one refresh, rate-limited.
// - `tcpOpens(snmp)` reads ActiveOpens + PassiveOpens from /proc/net/snmp text: while that sum
//   stands still no TCP connection has been opened, so there is no new socket for `ss` to name
//   (watch/run.ts reads `ss` again only when it moves, or when a lookup misses). Pure.

import { formatEndpoint, parseEndpoint } from '../wire/addr.js';

export interface Owner { pid: number; comm: string }

export interface SsSocket { state: string; local: string; peer: string; owner: Owner | null }

/** `[::ffff:1.2.3.4]:80` → `1.2.3.4:80`; `*:80` / `[::]:80` stay wildcards; formats as explain does. */
function endpointOf(text: string): string {
  const { addr, port } = parseEndpoint(text);
  const a = addr.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1').replace(/%.*$/, '');
  return formatEndpoint(a === '' ? '*' : a, port);
}

export function parseSs(text: string): SsSocket[] {
  const out: SsSocket[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5) continue;
    const [state, , , local, peer] = cols as [string, string, string, string, string];
    const users = /users:\(\("((?:[^"\\]|\\.)*)",pid=(\d+)/.exec(line);
    out.push({
      state,
      local: endpointOf(local),
      peer: peer.endsWith(':*') ? '*' : endpointOf(peer),
      owner: users ? { comm: users[1]!, pid: Number(users[2]) } : null,
    });
  }
  return out;
}

interface Known { owner: Owner; seen: number }

export class SocketOwners {
  /** local endpoint → peer endpoint → owner (two lookups of strings the caller has, no key built). */
  private readonly byConn = new Map<string, Map<string, Known>>();
  private readonly byListenPort = new Map<number, Known>();
  private lastRefresh = -Infinity;
  private refreshing: Promise<void> | null = null;

  constructor(
    /** Runs `ss -tanpH` (in the watched namespace) and returns its output. */
    private readonly ss: () => Promise<string>,
    private readonly opts: { minIntervalMs?: number; keepSec?: number } = {},
  ) {}

  /** Read `ss` again unless it was read less than minIntervalMs ago. */
  refresh(now = Date.now()): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (now - this.lastRefresh < (this.opts.minIntervalMs ?? 200)) return Promise.resolve();
    this.lastRefresh = now;
    this.refreshing = this.ss().then((text) => this.take(parseSs(text), now / 1000), () => undefined).finally(() => { this.refreshing = null; });
    return this.refreshing;
  }

  /** Record one reading of `ss` (seconds `now`), forgetting what has been gone for keepSec. */
  take(sockets: SsSocket[], now: number): void {
    for (const s of sockets) {
      if (!s.owner) continue;
      if (s.state === 'LISTEN') this.byListenPort.set(parseEndpoint(s.local).port, { owner: s.owner, seen: now });
      else {
        let peers = this.byConn.get(s.local);
        if (!peers) this.byConn.set(s.local, peers = new Map());
        peers.set(s.peer, { owner: s.owner, seen: now });
      }
    }
    const keep = this.opts.keepSec ?? 30;
    for (const m of [this.byListenPort, ...this.byConn.values()] as Array<Map<unknown, Known>>) {
      for (const [k, v] of m) if (now - v.seen > keep) m.delete(k);
    }
    for (const [k, peers] of this.byConn) if (peers.size === 0) this.byConn.delete(k);
  }

  /** The owner of the connection `local` ↔ `remote`, or of a listener on `local`'s port. */
  owner(local: string, remote: string): { owner: Owner; via: 'socket' | 'listener' } | null {
    const c = this.byConn.get(local)?.get(remote);
    if (c) return { owner: c.owner, via: 'socket' };
    if (this.byListenPort.size === 0) return null;
    const l = this.byListenPort.get(Number(local.slice(local.lastIndexOf(':') + 1)));
    return l ? { owner: l.owner, via: 'listener' } : null;
  }

  /** Whether the connection itself (not only a listener on its port) has a known owner. */
  knows(local: string, remote: string): boolean {
    return this.byConn.get(local)?.has(remote) ?? false;
  }
}

/** ActiveOpens + PassiveOpens of the `Tcp:` lines of /proc/net/snmp, or null if they are not there. */
export function tcpOpens(snmp: string): number | null {
  const lines = snmp.split('\n').filter((l) => l.startsWith('Tcp:'));
  if (lines.length < 2) return null;
  const names = lines[0]!.trim().split(/\s+/);
  const values = lines[1]!.trim().split(/\s+/);
  const a = names.indexOf('ActiveOpens');
  const p = names.indexOf('PassiveOpens');
  if (a < 0 || p < 0) return null;
  const n = Number(values[a]) + Number(values[p]);
  return Number.isFinite(n) ? n : null;
}
