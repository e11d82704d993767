// The lab's server program: `node server.js '<ServerConfig JSON>'`. One process is one server of
// one kind (tcp | http | https | h2 | proxy, see ServerConfig in ../protocol.ts). It prints one
// ServerEvent JSON object per line on stdout (`listening` first, with the real port), obeys
// ServerCommand lines on stdin (`close`, `abort`, `continue`, `send`) and exits (code 0) as soon
// as its stdin closes or reaches EOF — so it never outlives the lab that started it (and started
// with stdin at /dev/null it exits at once). The lab kills it with SIGKILL to make the kernel close
// its sockets the way a crash does. Bad config → `error` event, exit 2; listen failure → exit 1.
//
// Kinds: `tcp` (discard what arrives, or `noRead`; `sendBytes`, `forever`, then hold), `http`,
// `https`, `h2` (GET / → 200 SMALL_BODY; GET /large → holds after `largeFirstChunk` bytes and
// reports `mid-response`; other paths 404; no idle/header timeouts), `proxy` (CONNECT tunnels and
// absolute-form http:// forwarding, 502 when the origin is unreachable; both also emit `request`).
//
// Per accepted TCP connection it reports `accepted` and, when the connection is gone, `closed` with
// how it ended: `rst` (a RST came in as ECONNRESET, or we reset it: `abort` = SO_LINGER {1,0} via
// socket.resetAndDestroy()), `error` (another socket error, e.g. EPIPE), `fin` (orderly close), and
// `by` (who moved first). What the server's own kernel sends after close(2) (e.g. RST for unread
// data) is not visible here: the capture shows it.
//
// Startup must stay light (it starts many times per lab run): only node:net and node:readline are
// loaded up front; node:http, https, http2 and the certificate files only for the kinds using them.
// This file imports nothing but node built-ins, ../../errors.ts, ./util.ts and types.

import net from 'node:net';
import readline from 'node:readline';
import { readFileSync } from 'node:fs';
import type { Duplex, Writable } from 'node:stream';
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import type { ServerHttp2Stream, IncomingHttpHeaders, ServerHttp2Session } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { ServerCommand, ServerConfig, ServerEvent } from '../protocol.js';
import { assertNever } from '../../errors.js';
import {
  DEFAULT_LARGE_BYTES,
  DEFAULT_LARGE_FIRST_CHUNK,
  FOREVER_MAX_BYTES,
  SMALL_BODY,
  formatPeer,
  parseAuthority,
} from './util.js';

/** Printable filler so payloads are readable in a capture. */
const FILLER = Buffer.alloc(64 * 1024, 'rstlab lab data ');

function emit(event: ServerEvent): void {
  // stdout on a pipe is synchronous on Linux: the line is out before a SIGKILL can land.
  process.stdout.write(JSON.stringify(event) + '\n');
}

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e && typeof e.code === 'string') return e.code;
  if (e && typeof e.message === 'string') return e.message;
  return String(err);
}

/** One accepted TCP connection, whatever runs on top of it. */
interface Conn {
  peer: string;
  raw: net.Socket;
  /** The TLS layer on top (https, h2), once the handshake has been accepted. */
  tls?: TLSSocket;
  h2?: ServerHttp2Session;
  sawEnd: boolean;
  error?: string;
  resetByUs: boolean;
  /** Who made the first closing move: a FIN/RST/error from the peer, or our end()/close command. */
  first?: 'peer' | 'server';
  /** A write loop (sendBytes / forever) is running on it. */
  writing: boolean;
}

const conns = new Map<string, Conn>();

function track(raw: net.Socket): Conn {
  const conn: Conn = {
    peer: formatPeer(raw.remoteAddress, raw.remotePort),
    raw,
    sawEnd: false,
    resetByUs: false,
    writing: false,
  };
  conns.set(conn.peer, conn);
  emit({ event: 'accepted', peer: conn.peer });
  watch(conn, raw);
  raw.once('close', () => {
    conns.delete(conn.peer);
    let how: 'fin' | 'rst' | 'error';
    if (conn.resetByUs || conn.error === 'ECONNRESET') how = 'rst';
    else if (conn.error !== undefined) how = 'error';
    else how = 'fin';
    // Nothing seen from the peer and no end() of ours: we destroyed it (e.g. the proxy after its
    // upstream died).
    const by = conn.first ?? 'server';
    const ev: ServerEvent = { event: 'closed', peer: conn.peer, how, by };
    if (conn.error !== undefined && !conn.resetByUs) ev.error = conn.error;
    if (config.kind === 'tcp') {
      ev.bytesRead = raw.bytesRead;
      ev.bytesWritten = raw.bytesWritten;
    }
    emit(ev);
  });
  return conn;
}

/** Records the FIN and the first error seen on a layer of the connection (raw or TLS). */
function watch(conn: Conn, s: Duplex): void {
  s.on('end', () => {
    conn.sawEnd = true;
    conn.first ??= 'peer';
  });
  s.on('error', (err) => {
    conn.error ??= errorCode(err);
    conn.first ??= 'peer';
  });
  // Our write side ended (end() flushed, FIN handed to the kernel).
  s.on('finish', () => {
    conn.first ??= 'server';
  });
}

function connOfTls(tls: TLSSocket): Conn | undefined {
  return conns.get(formatPeer(tls.remoteAddress, tls.remotePort));
}

/**
 * Close every connection. Orderly: end() (pending data, TLS close_notify, then FIN via shutdown)
 * and, once that is out, destroy() — close(2): the process lets go of the socket like an
 * application calling close(). With data still unread in the receive queue (`noRead`), Linux then
 * follows the FIN with a RST (__tcp_close, data_was_unread). Abortive: RST at once.
 */
function closeAll(abortive: boolean): void {
  for (const conn of [...conns.values()]) {
    conn.first ??= 'server';
    if (abortive) {
      conn.resetByUs = true;
      // SO_LINGER {1,0} then close(): the kernel sends RST (tcp_disconnect). For TLS the raw
      // net.Socket still holds the TCP handle underneath the TLSWrap, so this works there too.
      conn.raw.resetAndDestroy();
      continue;
    }
    const s = conn.tls ?? conn.raw;
    const close = (): void => {
      s.once('finish', () => s.destroy());
      s.end();
    };
    if (conn.h2) {
      conn.h2.goaway(); // HTTP/2's own "no more streams" first
      setImmediate(close);
    } else {
      close();
    }
  }
}

/** Writes `total` bytes of filler, respecting back-pressure; resolves once the last chunk has been
 *  handed on (the write callback: for a socket, the kernel took it). Rejects if the stream fails. */
function writeFiller(
  stream: { write(chunk: Buffer, cb: (err?: Error | null) => void): boolean } & NodeJS.EventEmitter,
  total: number,
  onProgress?: (written: number) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let settled = false;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      stream.off('close', onClose);
      stream.off('error', finish);
      if (err !== undefined) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(written);
    };
    const onClose = (): void => finish(new Error('closed before the data was written'));
    stream.on('close', onClose);
    stream.on('error', finish);
    const pump = (): void => {
      while (!settled && written < total) {
        const n = Math.min(FILLER.length, total - written);
        written += n;
        const last = written >= total;
        const ok = stream.write(FILLER.subarray(0, n), (err) => {
          if (err) finish(err);
          else if (last) finish();
        });
        onProgress?.(written);
        if (!ok && !last) {
          stream.once('drain', pump);
          return;
        }
      }
    };
    if (total <= 0) finish();
    else pump();
  });
}

// ---------------------------------------------------------------- commands and stdin

/** Held `/large` responses waiting for `continue`. */
const held: Array<() => void> = [];

function onCommand(line: string): void {
  const text = line.trim();
  if (text === '') return;
  let cmd: ServerCommand;
  try {
    cmd = text.startsWith('{') ? (JSON.parse(text) as ServerCommand) : ({ cmd: text } as ServerCommand);
  } catch {
    emit({ event: 'error', message: `bad command line: ${text}` });
    return;
  }
  switch (cmd.cmd) {
    case 'close':
      closeAll(config.tcp?.abortOnClose === true);
      break;
    case 'abort':
      closeAll(true);
      break;
    case 'continue':
      for (const resume of held.splice(0)) resume();
      break;
    case 'close-idle':
      // What a keep-alive timeout does, now: every connection with no request in progress is
      // closed (FIN); the others finish their response first.
      for (const s of httpServers) s.closeIdleConnections();
      break;
    case 'send':
      // Write more on every open connection (tcp kind), e.g. after the peer's FIN (C2c) or after
      // the path healed (C4): what reaches a closed or forgotten socket is answered with RST.
      for (const conn of conns.values()) {
        if (!conn.raw.writable) continue;
        writeFiller(conn.raw, Math.max(1, Math.min(cmd.bytes, FOREVER_MAX_BYTES))).then(
          (bytes) => emit({ event: 'sent', peer: conn.peer, bytes }),
          () => {}, // the error is reported with `closed`
        );
      }
      break;
    default:
      emit({ event: 'error', message: `unknown command: ${text}` });
  }
}

// ---------------------------------------------------------------- tcp

function startTcp(): net.Server {
  const t = config.tcp ?? {};
  // pauseOnConnect: the handle never starts reading, so what the peer sends stays in the kernel's
  // receive queue (and a close with it there makes Linux send RST, __tcp_close data_was_unread).
  const server = net.createServer({ pauseOnConnect: t.noRead === true, allowHalfOpen: true });
  server.on('connection', (socket) => {
    const conn = track(socket);
    socket.on('error', () => {}); // recorded by watch(); keep the process alive
    if (!t.noRead) {
      socket.on('data', () => {});
      // The peer's FIN: close our side too, after any write loop still running (half-open until then,
      // so a peer that stopped receiving still gets our data and answers it with RST).
      socket.on('end', () => {
        if (!conn.writing && !t.keepOpenOnFin) socket.end();
      });
    }
    const total = t.forever ? (t.sendBytes ?? FOREVER_MAX_BYTES) : (t.sendBytes ?? 0);
    if (total > 0) {
      conn.writing = true;
      writeFiller(socket, Math.min(total, FOREVER_MAX_BYTES)).then(
        (bytes) => {
          conn.writing = false;
          emit({ event: 'sent', peer: conn.peer, bytes });
          if (conn.sawEnd && !t.keepOpenOnFin) socket.end();
        },
        () => {
          conn.writing = false; // the error is reported with `closed`
        },
      );
    }
  });
  return server;
}

// ---------------------------------------------------------------- http, https, h2

function sizes(): { large: number; first: number } {
  const large = config.largeBytes ?? DEFAULT_LARGE_BYTES;
  const first = Math.min(config.largeFirstChunk ?? DEFAULT_LARGE_FIRST_CHUNK, large);
  return { large, first };
}

/** `/large`: write the first chunk, report `mid-response`, and hold the rest until `continue`. */
function holdMidResponse(body: Writable, first: number, large: number, peer: string): void {
  writeFiller(body, first).then(
    () => {
      emit({ event: 'mid-response', bytes: first, peer });
      held.push(() => {
        writeFiller(body, large - first).then(() => body.end(), () => {});
      });
    },
    () => {},
  );
}

function handleHttp1(req: IncomingMessage, res: ServerResponse): void {
  const peer = formatPeer(req.socket.remoteAddress, req.socket.remotePort);
  const path = req.url ?? '/';
  emit({ event: 'request', method: req.method ?? '?', path, peer });
  req.resume();
  res.on('error', () => {});
  if (path === '/large') {
    const { large, first } = sizes();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(large) });
    holdMidResponse(res, first, large, peer);
  } else if (path === '/') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(SMALL_BODY)) });
    res.end(SMALL_BODY);
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  }
}

function handleH2(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  const socket = stream.session?.socket;
  const peer = formatPeer(socket?.remoteAddress, socket?.remotePort);
  const path = String(headers[':path'] ?? '/');
  emit({ event: 'request', method: String(headers[':method'] ?? '?'), path, peer });
  stream.on('error', () => {});
  stream.resume();
  if (path === '/large') {
    const { large, first } = sizes();
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': String(large) });
    holdMidResponse(stream, first, large, peer);
  } else if (path === '/') {
    stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(SMALL_BODY)) });
    stream.end(SMALL_BODY);
  } else {
    stream.respond({ ':status': 404 });
    stream.end('not found\n');
  }
}

/** The lab holds connections as long as it likes: no idle or header timeouts. */
const NO_TIMEOUTS = { requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 0 } as const;

function tlsFiles(): { cert: Buffer; key: Buffer } {
  if (!config.certFile || !config.keyFile) throw new Error(`kind ${config.kind} needs certFile and keyFile`);
  return { cert: readFileSync(config.certFile), key: readFileSync(config.keyFile) };
}

function watchTls(server: net.Server): void {
  server.on('secureConnection', (tls: TLSSocket) => {
    const conn = connOfTls(tls);
    if (!conn) return;
    conn.tls = tls;
    watch(conn, tls);
  });
  server.on('tlsClientError', (err: Error, tls: TLSSocket) => {
    const conn = connOfTls(tls);
    if (conn) conn.error ??= errorCode(err);
    emit({ event: 'error', message: `TLS handshake with ${conn?.peer ?? '?'} failed: ${err.message}` });
  });
}

/** The HTTP/1.1 servers (http, https kinds), for `close-idle`. */
const httpServers: Array<import('node:http').Server> = [];

/** The lab's default holds idle connections forever; `keepAliveTimeoutMs` sets Node's own timer. */
function keepAlive(server: import('node:http').Server): void {
  server.keepAliveTimeout = config.keepAliveTimeoutMs ?? 0;
  httpServers.push(server);
}

async function startHttp(): Promise<net.Server> {
  const http = await import('node:http');
  const server = http.createServer({ ...NO_TIMEOUTS }, handleHttp1);
  keepAlive(server);
  server.on('connection', (s: net.Socket) => void track(s));
  server.on('clientError', (_err, socket: Duplex) => socket.destroy());
  return server;
}

async function startHttps(): Promise<net.Server> {
  const https = await import('node:https');
  const server = https.createServer({ ...tlsFiles(), ...NO_TIMEOUTS }, handleHttp1);
  keepAlive(server);
  server.on('connection', (s: net.Socket) => void track(s));
  server.on('clientError', (_err, socket: Duplex) => socket.destroy());
  watchTls(server);
  return server;
}

async function startH2(): Promise<net.Server> {
  const http2 = await import('node:http2');
  const server = http2.createSecureServer({ ...tlsFiles(), allowHTTP1: false });
  server.on('connection', (s: net.Socket) => void track(s));
  watchTls(server);
  server.on('session', (session: ServerHttp2Session) => {
    session.on('error', () => {});
    const socket = session.socket;
    const conn = conns.get(formatPeer(socket.remoteAddress, socket.remotePort));
    if (conn) conn.h2 = session;
  });
  server.on('stream', handleH2);
  server.on('sessionError', () => {});
  return server;
}

// ---------------------------------------------------------------- proxy

/** Hop-by-hop header names (RFC 9110 §7.6.1) plus the legacy Proxy-Connection. */
const HOP_BY_HOP = new Set([
  'connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

function endToEnd(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  const listed = new Set(
    String(headers['connection'] ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

async function startProxy(): Promise<net.Server> {
  const http = await import('node:http');
  const server = http.createServer({ ...NO_TIMEOUTS });
  server.keepAliveTimeout = 0;
  server.on('connection', (s: net.Socket) => void track(s));
  server.on('clientError', (_err, socket: Duplex) => socket.destroy());

  // CONNECT host:port → a TCP tunnel (what Fiddler, mitmproxy and Charles do for https without
  // interception).
  server.on('connect', (req: IncomingMessage, client: net.Socket, head: Buffer) => {
    const peer = formatPeer(client.remoteAddress, client.remotePort);
    const target = req.url ?? '';
    emit({ event: 'request', method: 'CONNECT', path: target, peer });
    client.on('error', () => {});
    const dest = parseAuthority(target);
    if (!dest) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const upstream = net.connect({ host: dest.host, port: dest.port, allowHalfOpen: true });
    let up = false;
    upstream.on('error', (err) => {
      if (!up) {
        const body = `upstream ${target}: ${errorCode(err)}\n`;
        client.end(
          `HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      } else {
        client.destroy();
      }
    });
    client.on('close', () => upstream.destroy());
    upstream.on('connect', () => {
      up = true;
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
      upstream.on('close', () => client.destroySoon());
      emit({ event: 'tunnel', peer, target });
    });
  });

  // Absolute-form requests (`GET http://host:port/path`) are forwarded to the origin; the client's
  // connection stays as it is (keep-alive), one fresh origin connection per request.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const peer = formatPeer(req.socket.remoteAddress, req.socket.remotePort);
    emit({ event: 'request', method: req.method ?? '?', path: req.url ?? '', peer });
    res.on('error', () => {});
    let url: URL | undefined;
    try {
      url = new URL(req.url ?? '');
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'http:') {
      req.resume();
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('this proxy forwards absolute-form http:// requests and CONNECT only\n');
      return;
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port || 80);
    const target = formatPeer(host, port);
    const upReq = http.request({
      host,
      port,
      method: req.method,
      path: url.pathname + url.search,
      headers: endToEnd(req.headers),
      agent: false,
    });
    upReq.on('socket', (s) => s.once('connect', () => emit({ event: 'tunnel', peer, target })));
    upReq.on('response', (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEnd(upRes.headers));
      upRes.pipe(res);
      upRes.on('error', () => {});
      // The origin went away mid-body: the client cannot get the rest either; close its connection.
      upRes.on('close', () => {
        if (!upRes.complete) res.destroy();
      });
    });
    upReq.on('error', (err) => {
      if (!res.headersSent) {
        const body = `upstream ${target}: ${errorCode(err)}\n`;
        res.writeHead(502, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)) });
        res.end(body);
      } else {
        res.destroy();
      }
    });
    // The client went away before its response was complete: drop the origin request too.
    res.on('close', () => {
      if (!res.writableFinished) upReq.destroy();
    });
    req.pipe(upReq);
  });
  return server;
}

// ---------------------------------------------------------------- main

function parseConfig(arg: string | undefined): ServerConfig {
  if (!arg) throw new Error('usage: server.js <ServerConfig JSON>');
  const c = JSON.parse(arg) as ServerConfig;
  if (!c || typeof c !== 'object' || !c.listen || typeof c.listen.port !== 'number') {
    throw new Error('ServerConfig needs listen: { host, port }');
  }
  return c;
}

let config: ServerConfig;

async function main(): Promise<void> {
  try {
    config = parseConfig(process.argv[2]);
  } catch (err) {
    emit({ event: 'error', message: (err as Error).message });
    process.exit(2);
  }
  process.on('uncaughtException', (err) => emit({ event: 'error', message: `uncaught: ${err.stack ?? err.message}` }));

  // Never outlive the lab: stdin closing (the lab exited or closed it) ends this process.
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  rl.on('line', onCommand);
  rl.on('close', () => process.exit(0));

  let server: net.Server;
  try {
    switch (config.kind) {
      case 'tcp':
        server = startTcp();
        break;
      case 'http':
        server = await startHttp();
        break;
      case 'https':
        server = await startHttps();
        break;
      case 'h2':
        server = await startH2();
        break;
      case 'proxy':
        server = await startProxy();
        break;
      case 'postgres':
      case 'redis':
      case 'mariadb':
        // The real daemons, not this program: tools/db-server.py (servers/databases.ts).
        throw new Error(`${config.kind} is run by tools/db-server.py, not by this program`);
      default:
        assertNever(config.kind, 'server kind');
    }
  } catch (err) {
    emit({ event: 'error', message: (err as Error).message });
    process.exit(2);
  }
  server.on('error', (err) => {
    emit({ event: 'error', message: `listen ${formatPeer(config.listen.host, config.listen.port)}: ${errorCode(err)}` });
    process.exit(1);
  });
  server.listen({ host: config.listen.host, port: config.listen.port }, () => {
    const a = server.address() as net.AddressInfo;
    emit({ event: 'listening', host: a.address, port: a.port });
  });
}

void main();
