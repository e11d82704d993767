// The I/O shell of one proxy: a TCP listener, and for each accepted connection a dialled upstream
// socket and a ConnectionEngine. The shell turns socket events into engine events and engine
// commands into socket calls (write, pause/resume, end = FIN, destroy = close(2),
// resetAndDestroy = RST); it adds write backpressure (a full destination pauses its source) and
// nothing else. Listen errors are reported in Go's words, as Toxiproxy reports them (HTTP 500).
// resolveListen() is Go's net.ResolveTCPAddr(...).String(), which Toxiproxy compares with the bound
// address to decide whether a populate or an update changes a proxy. With `toxiproxy` (the
// compatibility mode) an empty or 0.0.0.0 listen host binds every interface as Go does (`[::]`).

import net from 'node:net';
import { lookup } from 'node:dns/promises';
import { formatEndpoint } from '../wire/addr.js';
import { ProxyApiError } from './api-error.js';
import { ConnectionEngine } from './engine.js';
import { emptyCounters, type EventLog, type ProxyCounters } from './events.js';
import { streamDir } from './toxics.js';
import type { CloseMode, Command, EngineEvent, FaultRecord, ProxyJson, Side, ToxicChange, ToxicJson } from './types.js';

export interface HostPortSpec { host: string; port: number }

const nowMs = (): number => performance.now();
let nextConnId = 1;

/** Split "host:port", "[v6]:port" or ":port". Throws Go's message for a missing port. */
export function splitHostPort(addr: string, what: 'listen' | 'dial'): HostPortSpec {
  const m = /^(?:\[([^\]]*)\]|([^:\[\]]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    const op = what === 'listen' ? 'listen' : 'dial';
    throw new ProxyApiError(`${op} tcp: address ${addr}: missing port in address`, 500);
  }
  return { host: m[1] ?? m[2] ?? '', port };
}

/**
 * The host to bind: loopback unless the address names another one. `localhost` is 127.0.0.1, as in
 * Go. In the compatibility mode an empty host or 0.0.0.0 is every interface, dual-stack, as Go binds.
 */
function bindHost(host: string, compat: boolean): string {
  if (compat && (host === '' || host === '0.0.0.0' || host === '::')) return '::';
  if (host === '' || host === 'localhost') return '127.0.0.1';
  return host;
}

/**
 * Go's net.ResolveTCPAddr("tcp", addr).String(): the listen address a populate or update asks for,
 * as Toxiproxy compares it with the address a proxy has bound. An empty host stays empty (`:7070`)
 * in the compatibility mode, as in Go (so such a proxy is always recreated there); otherwise it is
 * the loopback rstlab binds. Throws Go's AddrError text for a missing port.
 */
export async function resolveListen(addr: string, compat: boolean): Promise<string> {
  if (addr === '') return compat ? ':0' : '127.0.0.1:0'; // Go: no address is the wildcard, port 0
  const m = /^(?:\[([^\]]*)\]|([^:\[\]]*)):(\d{1,5})$/.exec(addr);
  if (!m || Number(m[3]) > 65535) throw new ProxyApiError(`address ${addr}: missing port in address`, 500);
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (host === '') return compat ? `:${port}` : formatEndpoint('127.0.0.1', port);
  if (host === 'localhost') return formatEndpoint('127.0.0.1', port);
  if (net.isIP(host)) return formatEndpoint(host, port);
  try {
    const a = await lookup(host, { family: 4 }).catch(() => lookup(host));
    return formatEndpoint(a.address, port);
  } catch {
    throw new ProxyApiError(`lookup ${host}: no such host`, 500);
  }
}

const STRERROR: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EACCES: 'permission denied',
  ENOTFOUND: 'no such host',
};

class Conn {
  readonly id = nextConnId++;
  readonly engine: ConnectionEngine;
  up: net.Socket | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly engineRead: Record<Side, boolean> = { client: false, upstream: false };
  private readonly blocked: Record<Side, boolean> = { client: false, upstream: false };
  private readonly pendingWrites: Record<Side, number> = { client: 0, upstream: 0 };
  private readonly deferredClose: Record<Side, CloseMode | null> = { client: null, upstream: null };
  private socketsOpen = 1;
  readonly clientAddr: string;
  bytesUp = 0;
  bytesDown = 0;

  constructor(readonly proxy: ProxyInstance, readonly client: net.Socket) {
    this.clientAddr = formatEndpoint(client.remoteAddress ?? '?', client.remotePort ?? 0);
    this.engine = new ConnectionEngine(proxy.toxics, { toxiproxy: proxy.compat });
    client.setNoDelay(true);
    client.on('data', (chunk: Buffer) => this.feed({ type: 'data', now: nowMs(), from: 'client', chunk }));
    client.on('end', () => this.feed({ type: 'end', now: nowMs(), from: 'client' }));
    client.on('error', (err: NodeJS.ErrnoException) => this.feed({ type: 'error', now: nowMs(), side: 'client', error: err.code ?? err.message }));
    client.on('close', () => this.socketClosed());
  }

  sock(side: Side): net.Socket | null {
    return side === 'client' ? this.client : this.up;
  }

  feed(ev: EngineEvent): void {
    for (const c of this.engine.handle(ev)) this.exec(c);
  }

  private exec(c: Command): void {
    switch (c.type) {
      case 'connect-upstream': this.connectUpstream(); break;
      case 'read': this.engineRead[c.side] = c.on; this.applyRead(c.side); break;
      case 'write': this.write(c.to, c.chunk); break;
      case 'close': this.close(c.side, c.mode); break;
      case 'set-timer': {
        const t = setTimeout(() => { this.timers.delete(t); this.feed({ type: 'timer', now: nowMs(), id: c.id }); }, c.ms);
        this.timers.add(t);
        break;
      }
      case 'fault': this.proxy.recordFault(this, c.fault); break;
      case 'finished': this.clearTimers(); break;
    }
  }

  private connectUpstream(): void {
    let target: HostPortSpec;
    try { target = splitHostPort(this.proxy.upstream, 'dial'); } catch (e) {
      this.proxy.recordUpstreamError(this, (e as Error).message);
      this.feed({ type: 'connect-failed', now: nowMs(), error: (e as Error).message });
      return;
    }
    const up = net.connect({ host: target.host === '' ? '127.0.0.1' : target.host, port: target.port, allowHalfOpen: true });
    this.up = up;
    this.socketsOpen++;
    up.setNoDelay(true);
    up.pause();
    let connected = false;
    up.once('connect', () => { connected = true; this.feed({ type: 'connected', now: nowMs() }); });
    up.on('data', (chunk: Buffer) => this.feed({ type: 'data', now: nowMs(), from: 'upstream', chunk }));
    up.on('end', () => this.feed({ type: 'end', now: nowMs(), from: 'upstream' }));
    up.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? err.message;
      if (!connected) {
        this.proxy.recordUpstreamError(this, code);
        this.feed({ type: 'connect-failed', now: nowMs(), error: code });
      } else this.feed({ type: 'error', now: nowMs(), side: 'upstream', error: code });
    });
    up.on('close', () => this.socketClosed());
  }

  private applyRead(side: Side): void {
    const s = this.sock(side);
    if (!s || s.destroyed) return;
    if (this.engineRead[side] && !this.blocked[side]) s.resume(); else s.pause();
  }

  private write(to: Side, chunk: Uint8Array): void {
    const s = this.sock(to);
    if (!s || s.destroyed || !s.writable) return;
    if (to === 'upstream') this.bytesUp += chunk.length; else this.bytesDown += chunk.length;
    this.pendingWrites[to]++;
    const ok = s.write(chunk, () => {
      this.pendingWrites[to]--;
      const m = this.deferredClose[to];
      if (this.pendingWrites[to] === 0 && m) { this.deferredClose[to] = null; this.doClose(to, m); }
    });
    if (!ok) {
      // The destination's buffer is full: stop reading its source until it drains.
      const src: Side = to === 'client' ? 'upstream' : 'client';
      this.blocked[src] = true;
      this.applyRead(src);
      s.once('drain', () => { this.blocked[src] = false; this.applyRead(src); });
    }
  }

  private close(side: Side, mode: CloseMode): void {
    const s = this.sock(side);
    if (!s || s.destroyed) return;
    if (this.pendingWrites[side] > 0) {
      // Let what was relayed reach the kernel first, but do not wait forever on a stuck peer.
      this.deferredClose[side] = mode;
      const t = setTimeout(() => { this.timers.delete(t); const m = this.deferredClose[side]; if (m) { this.deferredClose[side] = null; this.doClose(side, m); } }, 1000);
      this.timers.add(t);
      return;
    }
    this.doClose(side, mode);
  }

  private doClose(side: Side, mode: CloseMode): void {
    const s = this.sock(side);
    if (!s || s.destroyed) return;
    switch (mode) {
      case 'half': s.end(); break;
      case 'fin': s.destroy(); break;
      case 'rst':
        if (s.connecting || s.pending) s.destroy();
        else s.resetAndDestroy();
        break;
    }
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private socketClosed(): void {
    if (--this.socketsOpen > 0) return;
    this.clearTimers();
    this.proxy.connectionClosed(this);
  }

  /** Close both sockets at once, as Toxiproxy does when a proxy is disabled or deleted. */
  drop(): void {
    this.clearTimers();
    // With Toxiproxy's SO_LINGER 0 (compatibility mode, a reset_peer toxic) the close is a RST.
    const close = (s: net.Socket) => { if (this.engine.lingerZero && !s.connecting && !s.destroyed) s.resetAndDestroy(); else s.destroy(); };
    close(this.client);
    if (this.up) close(this.up);
  }
}

export class ProxyInstance {
  toxics: ToxicJson[] = [];
  enabled = false;
  private server: net.Server | null = null;
  private readonly conns = new Set<Conn>();
  readonly counters: ProxyCounters = emptyCounters();

  constructor(readonly name: string, public listen: string, public upstream: string, private readonly log: EventLog,
    /** Toxiproxy compatibility mode (engine.ts header). */
    readonly compat = false) {}

  /** The toxics as Toxiproxy lists them: the upstream chain, then the downstream one, each in creation order. */
  get orderedToxics(): ToxicJson[] {
    return [...this.toxics.filter((t) => streamDir(t) === 'upstream'), ...this.toxics.filter((t) => streamDir(t) === 'downstream')];
  }

  toJSON(): ProxyJson {
    return { name: this.name, listen: this.listen, upstream: this.upstream, enabled: this.enabled, Logger: {}, toxics: this.orderedToxics };
  }

  get liveConnections(): number { return this.conns.size; }

  /** Start listening. Errors are ProxyApiError 500 with Go's text ("listen tcp …: bind: …"). */
  async start(): Promise<void> {
    if (this.enabled) return;
    const { host, port } = splitHostPort(this.compat && this.listen === '' ? ':0' : this.listen, 'listen');
    const wanted = bindHost(host, this.compat);
    const listenOn = (bind: string) => new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => this.accept(sock));
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why = STRERROR[err.code ?? ''] ?? err.message;
        // Go names the address it resolved: `:7070` for an empty host, the IP otherwise.
        const shown = this.compat && bind !== host && host !== 'localhost' ? (host === '' ? `:${port}` : formatEndpoint(host, port)) : formatEndpoint(bind, port);
        reject(Object.assign(new ProxyApiError(`listen tcp ${shown}: bind: ${why}`, 500), { errno: err.code }));
      });
      server.listen({ host: bind, port, backlog: 4096, ipv6Only: false }, () => resolve(server));
    });
    let server: net.Server;
    try {
      server = await listenOn(wanted);
    } catch (e) {
      // Go binds the IPv4 wildcard where the machine has no IPv6.
      const code = (e as { errno?: string }).errno;
      if (wanted !== '::' || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw e;
      server = await listenOn('0.0.0.0');
    }
    server.on('error', () => { /* accept errors (EMFILE…) must not crash the proxy */ });
    const a = server.address() as net.AddressInfo;
    this.listen = formatEndpoint(a.address, a.port);
    this.server = server;
    this.enabled = true;
  }

  /** Stop listening and drop every live connection. */
  async stop(): Promise<void> {
    if (!this.enabled) return;
    this.enabled = false;
    const server = this.server;
    this.server = null;
    for (const c of [...this.conns]) c.drop();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  setToxics(toxics: ToxicJson[], change?: ToxicChange): void {
    this.toxics = toxics;
    const now = nowMs();
    for (const c of [...this.conns]) c.feed({ type: 'toxics', now, toxics, ...(change ? { change } : {}) });
  }

  private accept(sock: net.Socket): void {
    const c = new Conn(this, sock);
    this.conns.add(c);
    this.counters.connectionsTotal++;
    this.counters.connectionsActive++;
    this.log.add({ proxy: this.name, conn: c.id, client: c.clientAddr, event: 'open' });
    c.feed({ type: 'accepted', now: nowMs() });
  }

  recordFault(c: Conn, fault: FaultRecord): void {
    this.counters.faults[fault.toxic] = (this.counters.faults[fault.toxic] ?? 0) + 1;
    this.log.add({ proxy: this.name, conn: c.id, client: c.clientAddr, event: 'fault', fault });
  }

  recordUpstreamError(c: Conn, error: string): void {
    this.counters.upstreamErrors++;
    this.log.add({ proxy: this.name, conn: c.id, client: c.clientAddr, event: 'upstream-error', error });
  }

  connectionClosed(c: Conn): void {
    if (!this.conns.delete(c)) return;
    this.counters.connectionsActive = Math.max(0, this.counters.connectionsActive - 1);
    this.counters.bytesUpstream += c.bytesUp;
    this.counters.bytesDownstream += c.bytesDown;
    this.log.add({ proxy: this.name, conn: c.id, client: c.clientAddr, event: 'close', bytesUp: c.bytesUp, bytesDown: c.bytesDown });
  }
}
