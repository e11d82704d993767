// The Node client driver: one program for node-net, node-http, node-https, node-http2 and
// node-fetch (undici). Run as `node node-driver.js '<DriverConfig JSON>'`; speaks the JSON-lines
// protocol of ../protocol.ts (ready → connected + wait for `go` when paused → response-started →
// exactly one result). The pause point is implemented by opening the TCP connection here
// (through the proxy: CONNECT for TLS, and always for undici, which tunnels every scheme) and
// holding it *without reading* (the socket is paused before it connects, like an app stopped at a
// breakpoint: a FIN from the peer stays unread in the kernel); after `go` the socket is handed to
// the library (createConnection / tls.connect({ socket }) / undici's `connect`), so the TLS
// ClientHello or the HTTP request is written only then. Errors are recorded as the library threw
// them (runtime.ts errorOutcome). With `reuse` (node-http/node-https, node-fetch), one keep-alive
// http.Agent (keepAlive: true, one socket) or one undici Agent makes a first request to `/`, the
// driver prints `idle` (waits for `go` when paused; the connect is then not held) and makes the
// second request through the same pool; notes tell whether the socket was reused and how many
// new connections the second request opened (a transparent retry opens one).

import net from 'node:net';
import tls from 'node:tls';
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { DriverConfig } from '../protocol.js';
import type { Software } from '../../report/results.js';
import { Run, emit, errorOutcome, formatAddress, readConfig } from './runtime.js';

/** An error of the driver's own making (the proxy tunnel step), never of a client library. */
class TunnelError extends Error {
  readonly code = 'ERR_DRIVER_TUNNEL';
  constructor(message: string) {
    super(message);
    this.name = 'TunnelError';
  }
}

/**
 * `allowHalfOpen` only for node-net (it must keep writing after the peer's FIN). Sockets handed to
 * a library keep Node's default (false): TLS layered on a half-open socket never sees the peer's
 * close (an h2 session would then wait forever).
 */
function connectTcp(host: string, port: number, allowHalfOpen = false): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = new net.Socket({ allowHalfOpen });
    // Paused before connecting: Node would otherwise start reading at once and, on a FIN, answer
    // with its own FIN while the "application" is supposed to be held.
    socket.pause();
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.connect({ host, port }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Send CONNECT host:port and read the proxy's response head (byte by byte past nothing: extra bytes are unshifted). */
function tunnel(socket: net.Socket, target: { host: string; port: number }): Promise<void> {
  const authority = formatAddress(target.host, target.port);
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onErr);
      socket.pause();
    };
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 65536) {
          cleanup();
          reject(new TunnelError('proxy response head too long'));
        }
        return;
      }
      cleanup();
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine)?.[1]);
      if (status >= 200 && status < 300) resolve();
      else reject(new TunnelError(`proxy answered CONNECT with: ${statusLine}`));
    };
    const onEnd = (): void => {
      cleanup();
      reject(new TunnelError('proxy closed the connection before answering CONNECT'));
    };
    const onErr = (err: Error): void => {
      cleanup();
      reject(err);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onErr);
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    socket.resume();
  });
}

/** TCP to the first hop, the CONNECT tunnel when wanted, then the pause point. Resolves with a paused socket. */
async function openPath(run: Run, cfg: DriverConfig, tunnelAlways: boolean): Promise<net.Socket> {
  const hop = cfg.proxy ?? cfg.target;
  const socket = await connectTcp(hop.host, hop.port);
  run.markConnected();
  if (cfg.proxy && (tunnelAlways || cfg.scheme !== 'http')) await tunnel(socket, cfg.target);
  await run.holdIfPaused(
    formatAddress(socket.localAddress, socket.localPort),
    formatAddress(socket.remoteAddress, socket.remotePort),
  );
  return socket;
}

function tlsOptions(cfg: DriverConfig, socket: net.Socket, alpn?: string[]): tls.ConnectionOptions {
  // `host` is the name the certificate is checked against (without it Node checks `localhost`);
  // SNI carries it only when it is a DNS name (RFC 6066 §3 forbids IP literals).
  const options: tls.ConnectionOptions = { socket, host: cfg.target.host };
  if (cfg.caFile) options.ca = readFileSync(cfg.caFile);
  if (net.isIP(cfg.target.host) === 0) options.servername = cfg.target.host;
  if (alpn) options.ALPNProtocols = alpn;
  return options;
}

// ---------------------------------------------------------------------------------------------

async function runNet(run: Run, cfg: DriverConfig): Promise<void> {
  const t = cfg.tcp ?? {};
  const socket = await connectTcp(cfg.target.host, cfg.target.port, true);
  await run.holdIfPaused(
    formatAddress(socket.localAddress, socket.localPort),
    formatAddress(socket.remoteAddress, socket.remotePort),
  );
  let bytes = 0;
  let closing = false;
  const notes: string[] = [];
  const ok = (): void => run.finish({ kind: 'ok', bytes, causes: [], notes });
  const repeating = t.repeatEveryMs !== undefined && (t.repeat ?? 0) > 0;
  const waitsForError = repeating || t.keepAliveMs !== undefined || t.halfCloseReadAfterMs !== undefined;
  let repeatTimer: NodeJS.Timeout | undefined;

  socket.on('error', (err) => {
    if (repeatTimer) clearInterval(repeatTimer);
    run.finish(errorOutcome(err, { bytes, notes }));
  });
  socket.on('end', () => {
    notes.push('eof');
    if (closing) {
      socket.destroy();
      ok();
    } else if (!waitsForError) {
      socket.end();
      ok();
    }
    // Repeating or keepalive: stay half-open and keep going until the error comes.
  });
  socket.on('data', (chunk: Buffer) => {
    if (closing) return;
    bytes += chunk.length;
    if (t.closeAfterBytes !== undefined && bytes >= t.closeAfterBytes) {
      closing = true;
      notes.push('closed-by-client');
      if (t.leaveUnread) {
        // Stop reading so what is still queued stays in the kernel, then close: Linux sends RST
        // (__tcp_close: data_was_unread). The short wait lets more of the peer's data land.
        socket.pause();
        setTimeout(() => {
          socket.destroy();
          ok();
        }, 50);
      } else {
        // close(2) with everything read: the receive queue is empty, so Linux sends FIN; whatever
        // the peer sends afterwards reaches a closed socket (the seed's C2c).
        socket.destroy();
        ok();
      }
    }
  });
  if (t.keepAliveMs !== undefined) socket.setKeepAlive(true, t.keepAliveMs);
  if (t.send !== undefined) socket.write(t.send);
  if (repeating && t.send !== undefined) {
    let left = t.repeat ?? 0;
    repeatTimer = setInterval(() => {
      if (left-- <= 0) {
        clearInterval(repeatTimer);
        notes.push(`repeat-exhausted=${t.repeat}`);
        ok();
        return;
      }
      socket.write(t.send ?? '');
    }, t.repeatEveryMs);
  }
  if (t.halfCloseReadAfterMs !== undefined) {
    // shutdown(SHUT_WR) with nothing read: the peer's data waits in our receive queue.
    socket.end();
    notes.push('half-closed');
    setTimeout(() => {
      socket.resume();
      socket.once('close', () => ok());
    }, t.halfCloseReadAfterMs);
    return;
  }
  socket.resume();
}

/** `reuse` with node:http(s): one keep-alive Agent, two requests. */
async function runHttp1Reuse(run: Run, cfg: DriverConfig): Promise<void> {
  const secure = cfg.scheme === 'https';
  const mod = secure ? https : http;
  const agent = new mod.Agent({ keepAlive: true, maxSockets: 1 });
  let connections = 0;
  const notes: string[] = [];
  const tlsExtra: https.RequestOptions = {};
  if (secure) {
    if (cfg.caFile) tlsExtra.ca = readFileSync(cfg.caFile);
    if (net.isIP(cfg.target.host) === 0) tlsExtra.servername = cfg.target.host;
  }
  const request = (method: string, reqPath: string, final: boolean) => new Promise<void>((resolve) => {
    const body = method === 'POST' ? 'rstlab=1' : undefined;
    const req = mod.request({
      method, host: cfg.target.host, port: cfg.target.port, path: reqPath, agent, ...tlsExtra,
      ...(body ? { headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } } : {}),
    });
    req.on('socket', (s: net.Socket) => {
      if (!s.connecting) return;
      connections++;
      s.once('connect', () => {
        void run.holdIfPaused(formatAddress(s.localAddress, s.localPort), formatAddress(s.remoteAddress, s.remotePort));
      });
    });
    const fail = (err: unknown, extra: { status?: number; bytes?: number } = {}): void => {
      if (!final) notes.push('first-request');
      else notes.push(`reused-socket=${String(req.reusedSocket)}`, `new-connections=${connections}`);
      run.finish(errorOutcome(err, { ...extra, notes }));
    };
    req.on('error', (err) => fail(err));
    req.on('response', (res) => {
      if (final) emit({ event: 'response-started', status: res.statusCode });
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('error', (err) => fail(err, { status: res.statusCode, bytes }));
      res.on('end', () => {
        if (!final) return resolve();
        notes.push(`reused-socket=${String(req.reusedSocket)}`, `new-connections=${connections}`);
        run.finish({ kind: 'ok', status: res.statusCode, bytes, causes: [], notes });
      });
    });
    req.end(body);
  });
  await request('GET', '/', false);
  // The socket goes back to the agent's free list on the response's end, one tick later.
  await new Promise((r) => setImmediate(r));
  await run.idle();
  connections = 0;
  await request(cfg.reuse?.method ?? 'GET', cfg.path, true);
}

async function runHttp1(run: Run, cfg: DriverConfig): Promise<void> {
  if (cfg.reuse) return runHttp1Reuse(run, cfg);
  const raw = await openPath(run, cfg, false);
  const secure = cfg.scheme === 'https';
  const viaProxyPlain = cfg.proxy !== undefined && !secure;
  const options: http.RequestOptions = {
    method: 'GET',
    host: cfg.target.host,
    port: cfg.target.port,
    // Absolute-form through a plain-HTTP proxy (RFC 9112 §3.2.2), origin-form otherwise.
    path: viaProxyPlain ? `http://${formatAddress(cfg.target.host, cfg.target.port)}${cfg.path}` : cfg.path,
    createConnection: () => (secure ? tls.connect(tlsOptions(cfg, raw)) : raw),
  };
  const req = (secure ? https : http).request(options);
  const notes: string[] = [];
  req.on('socket', (s) => {
    if (!secure) s.resume();
  });
  req.on('error', (err) => run.finish(errorOutcome(err, { notes })));
  req.on('response', (res) => {
    emit({ event: 'response-started', status: res.statusCode });
    let bytes = 0;
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    res.on('aborted', () => notes.push('aborted'));
    res.on('error', (err) => run.finish(errorOutcome(err, { status: res.statusCode, bytes, notes })));
    res.on('end', () => run.finish({ kind: 'ok', status: res.statusCode, bytes, causes: [], notes }));
    res.on('close', () => {
      // Closed without 'end' or 'error': record it rather than wait for the safety net.
      setImmediate(() => {
        if (!run.finished) {
          run.finish({ kind: 'error', error: 'IncomingMessage', message: 'closed before end without an error', status: res.statusCode, bytes, causes: [], notes });
        }
      });
    });
  });
  req.end();
}

/** HTTP/2 error codes (RFC 9113 §7) by the names Node's http2.constants gives them. */
const H2_ERROR_CODES = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED',
  'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
];

function h2CodeName(code: number): string {
  const name = H2_ERROR_CODES[code];
  return name === undefined ? String(code) : `NGHTTP2_${name}`;
}

async function runHttp2(run: Run, cfg: DriverConfig): Promise<void> {
  const raw = await openPath(run, cfg, false);
  const authority = `https://${formatAddress(cfg.target.host, cfg.target.port)}`;
  const notes: string[] = [];
  const session = http2.connect(authority, {
    createConnection: () => tls.connect(tlsOptions(cfg, raw, ['h2'])),
  });
  let sessionError: Error | undefined;
  session.on('error', (err) => {
    sessionError = err;
    notes.push('session-error');
  });
  session.on('goaway', (code) => notes.push(`goaway=${h2CodeName(code)}`));
  const stream = session.request({ ':method': 'GET', ':path': cfg.path });
  let status: number | undefined;
  let bytes = 0;
  stream.on('response', (headers) => {
    status = Number(headers[':status']);
    if (headers['content-length'] !== undefined) notes.push(`content-length=${String(headers['content-length'])}`);
    emit({ event: 'response-started', status });
  });
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  // Everything the application could observe is gathered until the stream's 'close' (and one
  // more turn of the loop for a session 'error'), then reported: the stream's error, else the
  // session's, else a normal 'end' — which Node emits also when the connection died mid-body.
  let streamError: Error | undefined;
  let ended = false;
  stream.on('aborted', () => notes.push('aborted'));
  stream.on('error', (err) => {
    streamError = err;
  });
  stream.on('end', () => {
    ended = true;
    notes.push('end');
  });
  stream.on('close', () => {
    if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) notes.push(`rstCode=${h2CodeName(stream.rstCode)}`);
    setImmediate(() => {
      if (run.finished) return;
      const extra = status === undefined ? { notes } : { status, bytes, notes };
      if (streamError) return run.finish(errorOutcome(streamError, extra));
      if (sessionError) return run.finish(errorOutcome(sessionError, extra));
      session.close();
      if (ended) return run.finish({ kind: 'ok', status, bytes, causes: [], notes });
      run.finish({ kind: 'error', error: 'ClientHttp2Stream', message: 'stream closed without end or error', status, bytes, causes: [], notes });
    });
  });
  stream.end();
}

async function runFetch(run: Run, cfg: DriverConfig): Promise<void> {
  // undici is loaded only here, so the other clients do not pay for it.
  const { Agent, fetch } = await import('undici');
  const secure = cfg.scheme !== 'http';
  let connections = 0;
  const agent = new Agent({
    allowH2: cfg.scheme === 'h2',
    connect: (_opts: unknown, callback: (err: Error | null, socket: net.Socket | null) => void) => {
      connections++;
      openPath(run, cfg, true).then(
        (raw) => {
          if (!secure) {
            raw.resume();
            callback(null, raw);
            return;
          }
          const alpn = cfg.scheme === 'h2' ? ['h2', 'http/1.1'] : ['http/1.1'];
          const socket = tls.connect(tlsOptions(cfg, raw, alpn));
          const onError = (err: Error): void => callback(err, null);
          socket.once('error', onError);
          socket.once('secureConnect', () => {
            socket.off('error', onError);
            callback(null, socket);
          });
        },
        (err: Error) => callback(err, null),
      );
    },
  } as ConstructorParameters<typeof Agent>[0]);
  const scheme = secure ? 'https' : 'http';
  const url = `${scheme}://${formatAddress(cfg.target.host, cfg.target.port)}${cfg.path}`;
  let status: number | undefined;
  let bytes = 0;
  const notes: string[] = [];
  const init: Parameters<typeof fetch>[1] = { dispatcher: agent };
  if (cfg.reuse) {
    try {
      const first = await fetch(`${scheme}://${formatAddress(cfg.target.host, cfg.target.port)}/`, { dispatcher: agent });
      await first.arrayBuffer();
    } catch (err) {
      run.finish(errorOutcome(err, { notes: ['first-request'] }));
      return;
    }
    await run.idle();
    connections = 0;
    if (cfg.reuse.method === 'POST') Object.assign(init, { method: 'POST', body: 'rstlab=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }
  const reuseNotes = (): string[] => (cfg.reuse ? [...notes, `new-connections=${connections}`] : notes);
  try {
    const res = await fetch(url, init);
    status = res.status;
    emit({ event: 'response-started', status });
    if (res.body) {
      for await (const chunk of res.body) bytes += (chunk as Uint8Array).length;
    }
    run.finish({ kind: 'ok', status, bytes, causes: [], ...(cfg.reuse ? { notes: reuseNotes() } : {}) });
  } catch (err) {
    const extra = status === undefined ? {} : { status, bytes };
    run.finish(errorOutcome(err, cfg.reuse ? { ...extra, notes: reuseNotes() } : extra));
  }
}

/** Node itself for its core modules; undici (its npm package's version) for node-fetch. */
function software(cfg: DriverConfig): Software {
  if (cfg.client !== 'node-fetch') return { family: 'node', version: process.version };
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve('undici');
    let dir = path.dirname(entry);
    for (let i = 0; i < 4; i++, dir = path.dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'undici' && pkg.version) return { family: 'undici', version: pkg.version };
      } catch {
        // not this folder
      }
    }
  } catch {
    // undici missing: the run will say so
  }
  return { family: 'undici', version: 'unknown' };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cfg = readConfig();
  const run = new Run(cfg);
  emit({ event: 'ready', software: software(cfg) });
  try {
    switch (cfg.client) {
      case 'node-net':
        await runNet(run, cfg);
        break;
      case 'node-http':
      case 'node-https':
        if (cfg.scheme === 'h2' || cfg.scheme === 'tcp') throw new Error(`${cfg.client} does not speak ${cfg.scheme}`);
        await runHttp1(run, cfg);
        break;
      case 'node-http2':
        await runHttp2(run, cfg);
        break;
      case 'node-fetch':
        await runFetch(run, cfg);
        break;
      default:
        throw new Error(`node-driver does not drive ${cfg.client}`);
    }
  } catch (err) {
    run.finish(errorOutcome(err));
  }
}

void main();
