// Test support for the client drivers (used by drivers.e2e.test.ts only): real loopback servers in the
// test process and a runner for one driver child process. Origin servers (node:http, https, http2
// with a throwaway CA from ../certs.ts) answer `/` with `hello`, `/large` with a Content-Length
// of LARGE_DECLARED but only LARGE_SENT bytes before the server closes (FIN), and `/reset` by
// resetting the connection (RST) as soon as the request arrives. A raw TCP server records when
// bytes arrive (for the pause point) and can close every connection on demand. A tiny HTTP proxy
// does CONNECT tunnels and absolute-form forwarding. Everything listens on 127.0.0.1, port 0.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { makeLabCertificates, type LabCertificates } from '../certs.js';
import { lines } from '../lines.js';
import type { DriverConfig, DriverEvent, Outcome } from '../protocol.js';
import { driverCommand } from './index.js';

export const LARGE_DECLARED = 100_000;
export const LARGE_SENT = 1000;
export const HOST = '127.0.0.1';

function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve(portOf(server)));
  });
}

/** Tracks the raw TCP sockets of a server so tests can reach under TLS (reset) and clean up. */
class SocketSet {
  readonly all = new Set<net.Socket>();
  add(s: net.Socket): void {
    this.all.add(s);
    s.on('close', () => this.all.delete(s));
  }
  byPeerPort(port: number | undefined): net.Socket | undefined {
    for (const s of this.all) if (s.remotePort === port) return s;
    return undefined;
  }
  destroyAll(): void {
    for (const s of this.all) s.destroy();
  }
}

function handle(raws: SocketSet, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://origin');
  if (url.pathname === '/reset') {
    const raw = raws.byPeerPort(req.socket.remotePort);
    (raw ?? req.socket).resetAndDestroy();
    return;
  }
  if (url.pathname === '/large') {
    res.writeHead(200, { 'content-length': LARGE_DECLARED, 'content-type': 'application/octet-stream' });
    res.write(Buffer.alloc(LARGE_SENT, 0x61), () => {
      setTimeout(() => raws.byPeerPort(req.socket.remotePort)?.destroy(), 30);
    });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 5 });
  res.end('hello');
}

export interface Origins {
  certs: LabCertificates;
  http: number;
  https: number;
  h2: number;
  close(): Promise<void>;
}

export async function startOrigins(): Promise<Origins> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rstlab-drivers-test-'));
  const certs = await makeLabCertificates(dir, { ips: [HOST] });
  const raws = new SocketSet();
  const tlsOpts = { cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) };
  const h1 = http.createServer((req, res) => handle(raws, req, res));
  const h1s = https.createServer(tlsOpts, (req, res) => handle(raws, req, res));
  const h2s = http2.createSecureServer({ ...tlsOpts, allowHTTP1: false });
  h2s.on('stream', (stream, headers) => {
    const p = new URL(String(headers[':path']), 'https://origin').pathname;
    const raw = raws.byPeerPort(stream.session?.socket?.remotePort);
    if (p === '/reset') return raw?.resetAndDestroy();
    if (p === '/large') {
      stream.respond({ ':status': 200, 'content-length': LARGE_DECLARED });
      stream.write(Buffer.alloc(LARGE_SENT, 0x61), () => setTimeout(() => raw?.destroy(), 30));
      return;
    }
    stream.respond({ ':status': 200, 'content-length': 5 });
    stream.end('hello');
  });
  h2s.on('sessionError', () => {});
  for (const s of [h1, h1s, h2s]) s.on('connection', (sock: net.Socket) => raws.add(sock));
  for (const s of [h1s, h2s]) s.on('tlsClientError', () => {});
  const [pHttp, pHttps, pH2] = await Promise.all([listen(h1), listen(h1s), listen(h2s)]);
  return {
    certs,
    http: pHttp,
    https: pHttps,
    h2: pH2,
    async close() {
      raws.destroyAll();
      await Promise.all([h1, h1s, h2s].map((s) => new Promise((r) => s.close(r))));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A loopback test server that tracks its sockets: `start()` listens on port 0, `close()` drops everything. */
abstract class TrackedServer {
  readonly server = net.createServer((s) => this.onConnection(s));
  readonly sockets = new SocketSet();
  port = 0;

  protected abstract onConnection(s: net.Socket): void;

  async start(): Promise<this> {
    this.port = await listen(this.server);
    return this;
  }

  close(): Promise<void> {
    this.sockets.destroyAll();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** A raw TCP server: records every byte's arrival and lets the test close or reset connections. */
export class RawServer extends TrackedServer {
  /** Bytes received so far, over all connections. */
  received = 0;
  /** What to do with a connection's first data: nothing (hold), reply and close, or reset. */
  onData: 'hold' | 'reset' | ((s: net.Socket, chunk: Buffer) => void) = 'hold';
  /** Called for each accepted connection. */
  onConnect: ((s: net.Socket) => void) | undefined;
  /** Errors seen on server sockets (e.g. ECONNRESET when the client resets). */
  readonly errors: string[] = [];
  readonly ends: number[] = [];

  protected onConnection(s: net.Socket): void {
    this.sockets.add(s);
    s.on('error', (err: NodeJS.ErrnoException) => this.errors.push(err.code ?? err.message));
    this.onConnect?.(s);
    s.on('end', () => this.ends.push(Date.now()));
    s.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      const how = this.onData;
      if (how === 'reset') s.resetAndDestroy();
      else if (typeof how === 'function') how(s, chunk);
    });
  }
}

/** A minimal HTTP proxy: CONNECT → tunnel; absolute-form → forwarded to the origin as is. */
export class TinyProxy extends TrackedServer {
  /** First line of every request the proxy got, e.g. `CONNECT 127.0.0.1:443 HTTP/1.1`. */
  readonly requests: string[] = [];

  protected onConnection(client: net.Socket): void {
    this.sockets.add(client);
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      client.pause();
      const line = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      this.requests.push(line);
      const [method, target] = line.split(' ');
      let host: string;
      let port: number;
      let forward: Buffer;
      if (method === 'CONNECT') {
        const i = (target ?? '').lastIndexOf(':');
        host = (target ?? '').slice(0, i).replace(/^\[|\]$/g, '');
        port = Number((target ?? '').slice(i + 1));
        forward = head.subarray(end + 4);
      } else {
        const u = new URL(target ?? '');
        host = u.hostname.replace(/^\[|\]$/g, '');
        port = Number(u.port || 80);
        forward = head;
      }
      const upstream = net.connect({ host, port }, () => {
        if (method === 'CONNECT') client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (forward.length > 0) upstream.write(forward);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      this.sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    };
    client.on('data', onData);
  }
}

/** A port with no listener: bound once, then released. */
export async function deadPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

export interface DriverRun {
  events: DriverEvent[];
  result: Extract<DriverEvent, { event: 'result' }> | undefined;
  outcome: Outcome;
  exitCode: number | null;
  stderr: string;
}

/**
 * Run one driver to its end. At `connected`, `onConnected` runs (the test acts on the servers),
 * then `go` is written. The child is killed if it outlives timeoutMs by 5 s.
 */
export function runDriver(config: DriverConfig, onConnected?: (ev: Extract<DriverEvent, { event: 'connected' }>) => Promise<void> | void): Promise<DriverRun> {
  return runDriverHeldAt(config, 'connected', onConnected);
}

/**
 * runDriver with the hold at `holdAt`: `connected` (the pause point) or `idle` (the idle point of
 * `reuse`). With config.pause, at that event `hook` runs, then `go` is written (also when the hook
 * fails; its error is thrown once the child has ended).
 */
export async function runDriverHeldAt<E extends 'connected' | 'idle'>(
  config: DriverConfig, holdAt: E, hook?: (ev: Extract<DriverEvent, { event: E }>) => Promise<void> | void,
): Promise<DriverRun> {
  const { argv } = await driverCommand(config);
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: DriverEvent[] = [];
  let hookError: unknown;
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (stderr += s));
  child.stdin.on('error', () => {});
  const killer = setTimeout(() => child.kill('SIGKILL'), config.timeoutMs + 5000);
  lines(child.stdout, (line) => {
    if (line.trim() === '') return;
    const ev = JSON.parse(line) as DriverEvent;
    events.push(ev);
    if (ev.event === holdAt && config.pause) {
      // `go` is sent even when the hook fails, so the child never waits for nothing.
      void Promise.resolve()
        .then(() => hook?.(ev as Extract<DriverEvent, { event: E }>))
        .catch((err: unknown) => (hookError ??= err))
        .finally(() => child.stdin.write('go\n'));
    }
  }, () => {});
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(killer);
  if (hookError !== undefined) throw hookError;
  const result = events.find((e): e is Extract<DriverEvent, { event: 'result' }> => e.event === 'result');
  const outcome: Outcome = result?.outcome ?? { kind: 'error', error: 'no result', message: stderr, causes: [] };
  return { events, result, outcome, exitCode, stderr };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
