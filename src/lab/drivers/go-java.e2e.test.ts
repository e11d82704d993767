// The Go (net/http) and java.net.http drivers against real loopback servers (testbed.ts): what
// each reports for a refused connection, a reset after the request and a truncated body (their
// own error texts and codes), Go's pause point (nothing reaches the server before `go`, also
// through a proxy's CONNECT tunnel) and HTTP/2 by ALPN; then the `reuse` option of every driver
// that has it: two requests on one pooled connection, and, when the server closes the idle
// connection at the idle point (its FIN arrives first on loopback), a second request that the
// library sends on a new connection.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import type { ClientName, DriverConfig, DriverEvent } from '../protocol.js';
import { driverAvailable, driverCommand } from './index.js';
import { HOST, LARGE_SENT, RawServer, TinyProxy, deadPort, runDriver, runDriverHeldAt, sleep, startOrigins, type DriverRun, type Origins } from './testbed.js';

let origins: Origins;
let raw: RawServer;
let proxy: TinyProxy;

before(async () => {
  origins = await startOrigins();
  raw = await new RawServer().start();
  proxy = await new TinyProxy().start();
});

after(async () => {
  await Promise.all([origins?.close(), raw?.close(), proxy?.close()]);
});

function config(client: ClientName, scheme: DriverConfig['scheme'], port: number, extra: Partial<DriverConfig> = {}): DriverConfig {
  return { client, scheme, target: { host: HOST, port }, path: '/', pause: false, caFile: origins.certs.caFile, timeoutMs: 10_000, ...extra };
}

async function skipUnless(client: ClientName): Promise<string | false> {
  const a = await driverAvailable(client);
  return a.ok ? false : a.why;
}

const skipGo = await skipUnless('go');
const skipJava = await skipUnless('java-httpclient');

describe('go', { skip: skipGo }, () => {
  test('ready names go-net-http and the Go version; refused is ECONNREFUSED as Go prints it', async (t) => {
    const port = await deadPort();
    const run = await runDriver(config('go', 'http', port));
    t.diagnostic(JSON.stringify(run.outcome));
    const ready = run.events[0] as Extract<DriverEvent, { event: 'ready' }>;
    assert.equal(ready.software?.family, 'go-net-http');
    assert.match(ready.software?.version ?? '', /^go1\.\d+/);
    const o = run.outcome;
    assert.equal(o.error, '*url.Error');
    assert.equal(o.code, 'ECONNREFUSED');
    assert.equal(o.message, `Get "http://127.0.0.1:${port}/": dial tcp 127.0.0.1:${port}: connect: connection refused`);
    assert.deepEqual(o.causes.map((c) => c.error), ['*net.OpError', '*os.SyscallError', 'syscall.Errno']);
    assert.equal(o.causes.at(-1)?.code, 'ECONNREFUSED');
  });

  test('a reset after the request: ECONNRESET, read: connection reset by peer', async (t) => {
    const o = (await runDriver(config('go', 'http', origins.http, { path: '/reset' }))).outcome;
    t.diagnostic(JSON.stringify(o));
    assert.equal(o.code, 'ECONNRESET', JSON.stringify(o));
    assert.match(o.message ?? '', /^Get "http:\/\/127\.0\.0\.1:\d+\/reset": read tcp 127\.0\.0\.1:\d+->127\.0\.0\.1:\d+: read: connection reset by peer$/);
  });

  test('a truncated body: unexpected EOF (io.ErrUnexpectedEOF) after the bytes sent', async (t) => {
    const o = (await runDriver(config('go', 'http', origins.http, { path: '/large' }))).outcome;
    t.diagnostic(JSON.stringify(o));
    assert.equal(o.kind, 'error');
    assert.equal(o.status, 200);
    assert.equal(o.bytes, LARGE_SENT);
    assert.equal(o.message, 'unexpected EOF');
    assert.equal(o.code, 'io.ErrUnexpectedEOF');
  });

  for (const scheme of ['http', 'https'] as const) {
    test(`pause (${scheme}): connected, nothing sent before go, then the request or ClientHello`, async () => {
      raw.onData = 'reset';
      const start = raw.received;
      let beforeGo = -1;
      const run = await runDriver(config('go', scheme, raw.port, { pause: true }), async (ev) => {
        assert.equal(ev.remote, `127.0.0.1:${raw.port}`);
        await sleep(100);
        beforeGo = raw.received - start;
      });
      assert.equal(beforeGo, 0, 'the server saw data before go');
      assert.ok(raw.received - start > 0);
      assert.deepEqual(run.events.slice(0, 2).map((e) => e.event), ['ready', 'connected']);
      assert.equal(run.outcome.kind, 'error');
    });
  }

  test('https through a proxy: held after Go\'s own CONNECT, before the ClientHello', async (t) => {
    const seen = proxy.requests.length;
    let connectSeen = false;
    const run = await runDriver(config('go', 'https', origins.https, { proxy: { host: HOST, port: proxy.port }, pause: true }), async () => {
      await sleep(50);
      connectSeen = proxy.requests.length > seen;
    });
    t.diagnostic(JSON.stringify(run.outcome));
    assert.ok(connectSeen, 'the CONNECT was sent before the pause point');
    assert.equal(proxy.requests[seen], `CONNECT 127.0.0.1:${origins.https} HTTP/1.1`);
    assert.equal(run.outcome.kind, 'ok', JSON.stringify(run.outcome));
  });

  test('h2: ForceAttemptHTTP2 with a custom TLS dialer negotiates h2 by ALPN', async () => {
    const o = (await runDriver(config('go', 'h2', origins.h2))).outcome;
    assert.equal(o.kind, 'ok', JSON.stringify(o));
    assert.ok(o.notes?.includes('proto=HTTP/2.0'), JSON.stringify(o));
  });
});

describe('java-httpclient', { skip: skipJava }, () => {
  test('cannot pause; refused is java.net.ConnectException (no message) over ClosedChannelException', async (t) => {
    assert.equal((await driverCommand(config('java-httpclient', 'http', 1, { pause: true }))).canPause, false);
    assert.equal((await driverCommand(config('java-httpclient', 'http', 1, { pause: true, reuse: {} }))).canPause, true);
    const run = await runDriver(config('java-httpclient', 'http', await deadPort(), { pause: true }));
    t.diagnostic(JSON.stringify(run.outcome));
    assert.equal(run.result?.cannotPause, true);
    assert.ok(!run.events.some((e) => e.event === 'connected'));
    const ready = run.events[0] as Extract<DriverEvent, { event: 'ready' }>;
    assert.equal(ready.software?.family, 'java-httpclient');
    const o = run.outcome;
    assert.equal(o.error, 'java.net.ConnectException');
    assert.equal(o.message, undefined);
    assert.deepEqual(o.causes.map((c) => c.error), ['java.net.ConnectException', 'java.nio.channels.ClosedChannelException']);
  });

  test('a reset after the request: java.net.SocketException: Connection reset in the chain', async (t) => {
    const o = (await runDriver(config('java-httpclient', 'http', origins.http, { path: '/reset' }))).outcome;
    t.diagnostic(JSON.stringify(o));
    assert.equal(o.kind, 'error');
    assert.ok([o, ...o.causes].some((c) => c.error === 'java.net.SocketException' && c.message === 'Connection reset'), JSON.stringify(o));
  });

  test('a truncated body: IOException with the content-length it expected', async (t) => {
    const o = (await runDriver(config('java-httpclient', 'http', origins.http, { path: '/large' }))).outcome;
    t.diagnostic(JSON.stringify(o));
    assert.equal(o.kind, 'error');
    assert.equal(o.status, 200);
    assert.ok(o.causes.some((c) => /^fixed content-length: 100000, bytes received: \d+$/.test(c.message)), JSON.stringify(o));
  });
});

// --- reuse -------------------------------------------------------------------------------------

/** A keep-alive HTTP/1.1 server that counts connections and requests. */
async function keepAliveServer(): Promise<{ server: http.Server; port: number; connections: number; requests: string[]; close(): Promise<void> }> {
  const state = { connections: 0, requests: [] as string[] };
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    state.requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
    req.resume();
    req.on('end', () => res.end('hello'));
  });
  server.keepAliveTimeout = 0;
  server.on('connection', (s: net.Socket) => {
    state.connections++;
    sockets.add(s);
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const port = (server.address() as net.AddressInfo).port;
  return Object.assign(state, {
    server, port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  });
}

/** Run a driver with `reuse`; at `idle`, `atIdle` runs and then `go` is written (when paused). */
function runReuse(config: DriverConfig, atIdle?: () => Promise<void>): Promise<DriverRun> {
  return runDriverHeldAt(config, 'idle', atIdle && (() => atIdle()));
}

const REUSERS: ClientName[] = ['node-http', 'node-fetch', 'okhttp', 'go', 'java-httpclient', 'curl'];

for (const client of REUSERS) {
  describe(`reuse: ${client}`, { skip: await skipUnless(client) }, () => {
    test('two requests, one connection (the pool is used)', async (t) => {
      const srv = await keepAliveServer();
      try {
        const { events, outcome } = await runReuse(config(client, 'http', srv.port, { path: '/second', reuse: { idleMs: 50 } }));
        t.diagnostic(JSON.stringify(outcome));
        assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
        assert.equal(outcome.status, 200);
        assert.deepEqual(srv.requests, ['GET /', 'GET /second']);
        assert.equal(srv.connections, 1, 'the second request reused the first one\'s connection');
        if (client !== 'curl') assert.ok(events.some((e) => e.event === 'idle'));
      } finally {
        await srv.close();
      }
    });

    if (client === 'curl') {
      test('cannot hold at the idle point', async () => {
        assert.equal((await driverCommand(config(client, 'http', 1, { pause: true, reuse: {} }))).canPause, false);
      });
      return;
    }

    test('the server closes the idle connection at the idle point: its FIN is read, a POST goes on a new connection', async (t) => {
      const srv = await keepAliveServer();
      try {
        const { outcome } = await runReuse(config(client, 'http', srv.port, { pause: true, reuse: { method: 'POST', noRetry: true } }), async () => {
          srv.server.closeIdleConnections();
          await sleep(150);
        });
        t.diagnostic(JSON.stringify(outcome));
        assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
        assert.deepEqual(srv.requests, ['GET /', 'POST /']);
        assert.equal(srv.connections, 2);
      } finally {
        await srv.close();
      }
    });
  });
}
