// Every client driver against real loopback servers: the pause/go protocol (nothing reaches the
// server before `go`), a successful GET, connection refused, a reset after the request, the server
// closing while the client is held (FIN, then the client's first write meets a RST), a truncated
// body, and the path through an HTTP proxy. The essential class/code of each error is asserted;
// the whole Outcome is printed as a test diagnostic, since it is the lab's data.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientName, DriverConfig, Outcome } from '../protocol.js';
import { driverAvailable, driverCommand } from './index.js';
import { HOST, LARGE_DECLARED, LARGE_SENT, RawServer, TinyProxy, deadPort, runDriver, sleep, startOrigins, type Origins } from './testbed.js';

type Scheme = 'http' | 'https' | 'h2';
type Scenario = 'pause' | 'get' | 'refused' | 'reset' | 'closed-while-paused' | 'truncated' | 'proxy';
const ALL: Scenario[] = ['pause', 'get', 'refused', 'reset', 'closed-while-paused', 'truncated', 'proxy'];

/** Which scenarios run for which client and scheme (OkHttp is kept to the seed's cases: the JVM is slow to start). */
const MATRIX: Array<{ client: ClientName; scheme: Scheme; scenarios: Scenario[] }> = [
  { client: 'node-http', scheme: 'http', scenarios: ALL },
  { client: 'node-https', scheme: 'https', scenarios: ALL },
  { client: 'node-http2', scheme: 'h2', scenarios: ALL },
  { client: 'node-fetch', scheme: 'http', scenarios: ALL },
  { client: 'node-fetch', scheme: 'https', scenarios: ['pause', 'get', 'reset', 'closed-while-paused', 'proxy'] },
  { client: 'node-fetch', scheme: 'h2', scenarios: ['get', 'truncated'] },
  { client: 'okhttp', scheme: 'http', scenarios: ['pause', 'get', 'refused', 'reset', 'closed-while-paused', 'truncated', 'proxy'] },
  { client: 'okhttp', scheme: 'https', scenarios: ['closed-while-paused', 'truncated', 'proxy'] },
  { client: 'okhttp', scheme: 'h2', scenarios: ['get', 'truncated'] },
  { client: 'python', scheme: 'http', scenarios: ALL },
  { client: 'python', scheme: 'https', scenarios: ['pause', 'get', 'closed-while-paused', 'proxy'] },
  // The Python libraries' refused, reset and truncated cases are in pyclients.e2e.test.ts.
  ...(['python-requests', 'python-httpx', 'python-aiohttp'] as const).flatMap((client) => [
    { client, scheme: 'http' as const, scenarios: ['pause', 'get', 'closed-while-paused', 'proxy'] satisfies Scenario[] },
    { client, scheme: 'https' as const, scenarios: ['pause', 'get', 'closed-while-paused', 'proxy'] satisfies Scenario[] },
  ]),
  { client: 'curl', scheme: 'http', scenarios: ['pause', 'get', 'refused', 'reset', 'truncated', 'proxy'] },
  { client: 'curl', scheme: 'https', scenarios: ['get', 'proxy'] },
  { client: 'curl', scheme: 'h2', scenarios: ['get', 'truncated'] },
];

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
  return { client, scheme, target: { host: HOST, port }, path: '/', pause: false, caFile: origins.certs.caFile, timeoutMs: 8000, ...extra };
}

function originPort(scheme: Scheme): number {
  return scheme === 'http' ? origins.http : scheme === 'https' ? origins.https : origins.h2;
}

/** All error names and codes of an Outcome, top first. */
function chain(o: Outcome): string[] {
  return [o.error, o.code, ...o.causes.flatMap((c) => [c.error, c.code])].filter((x): x is string => x !== undefined);
}

function assertError(o: Outcome, ...anyOf: string[]): void {
  assert.equal(o.kind, 'error', JSON.stringify(o));
  const names = chain(o);
  assert.ok(anyOf.some((want) => names.includes(want)), `expected one of ${anyOf.join(', ')} in ${JSON.stringify(o)}`);
}

// What each client reports, checked on this machine (Linux 6.x, Node 20, JDK 17, Python 3.11, curl 7.88).
const EXPECT: Partial<Record<Scenario, (client: ClientName, scheme: Scheme, o: Outcome) => void>> = {
  refused(client, _scheme, o) {
    switch (client) {
      case 'okhttp':
        assert.equal(o.error, 'java.net.ConnectException');
        assert.match(o.message ?? '', /^Failed to connect to \/127\.0\.0\.1:\d+$/);
        assert.deepEqual(o.causes.map((c) => [c.error, c.message]), [['java.net.ConnectException', 'Connection refused']]);
        return;
      case 'curl':
        assert.equal(o.error, 'curl');
        assert.equal(o.code, '7');
        return;
      case 'python':
        assert.equal(o.error, 'ConnectionRefusedError');
        assert.equal(o.code, 'ECONNREFUSED');
        return;
      case 'node-fetch':
        assert.equal(o.error, 'TypeError');
        assert.equal(o.message, 'fetch failed');
        assert.equal(o.causes[0]?.code, 'ECONNREFUSED');
        return;
      default:
        assert.equal(o.code, 'ECONNREFUSED');
        assert.match(o.message ?? '', /^connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    }
  },
  reset(client, _scheme, o) {
    switch (client) {
      case 'node-http2':
        // Racy in Node 20: usually the session's ECONNRESET; sometimes the stream just ends
        // ('end', rstCode CANCEL, no response, no error at all). Both are what an app sees.
        if (o.kind === 'ok') {
          assert.equal(o.status, undefined);
          assert.ok(o.notes?.includes('rstCode=NGHTTP2_CANCEL'), JSON.stringify(o));
          return;
        }
        return assertError(o, 'ECONNRESET');
      case 'okhttp':
        return assertError(o, 'java.net.SocketException');
      case 'curl':
        return assertError(o, 'curl');
      case 'python':
        return assertError(o, 'ECONNRESET');
      case 'node-fetch':
        return assertError(o, 'ECONNRESET', 'UND_ERR_SOCKET');
      default:
        return assertError(o, 'ECONNRESET');
    }
  },
  truncated(client, scheme, o) {
    if (client === 'node-http2') {
      // Node's http2 client ends the stream normally ('end', no error) when the connection closes
      // mid-body (FIN); only rstCode (CANCEL) and the short count against content-length tell.
      assert.equal(o.kind, 'ok', JSON.stringify(o));
      assert.equal(o.bytes, LARGE_SENT);
      assert.ok(o.notes?.includes('rstCode=NGHTTP2_CANCEL'), JSON.stringify(o));
      assert.ok(o.notes?.includes(`content-length=${LARGE_DECLARED}`), JSON.stringify(o));
      return;
    }
    assert.equal(o.kind, 'error', JSON.stringify(o));
    assert.equal(o.status, 200);
    assert.ok((o.bytes ?? 0) <= LARGE_SENT, JSON.stringify(o));
    if (client === 'okhttp' && scheme !== 'h2') {
      // C2b.4: HTTPS and HTTP → java.net.ProtocolException: unexpected end of stream.
      assert.equal(o.error, 'java.net.ProtocolException');
      assert.equal(o.message, 'unexpected end of stream');
    }
    if (client === 'curl') assert.equal(o.code, '18');
    if (client === 'python') assert.equal(o.error, 'http.client.IncompleteRead');
  },
};

const availability = new Map<ClientName, string | false>();
for (const { client } of MATRIX) {
  if (availability.has(client)) continue;
  const a = await driverAvailable(client);
  availability.set(client, a.ok ? false : a.why);
}

for (const { client, scheme, scenarios } of MATRIX) {
  describe(`${client} ${scheme}`, () => {
    const skip = availability.get(client) ?? false;

    for (const scenario of scenarios) {
      test(scenario, { skip }, async (t) => {
        let outcome: Outcome | undefined;
        try {
          switch (scenario) {
            case 'pause': {
              const { canPause } = await driverCommand(config(client, scheme, raw.port));
              raw.onData = 'reset';
              const startBytes = raw.received;
              let beforeGo = -1;
              const run = await runDriver(config(client, scheme, raw.port, { pause: true }), async (ev) => {
                assert.match(ev.local, /^127\.0\.0\.1:\d+$/);
                assert.equal(ev.remote, `127.0.0.1:${raw.port}`);
                await sleep(100);
                beforeGo = raw.received - startBytes;
              });
              outcome = run.outcome;
              const kinds = run.events.map((e) => e.event);
              assert.equal(run.exitCode, 0, run.stderr);
              assert.equal(kinds[0], 'ready');
              assert.equal(kinds.filter((k) => k === 'result').length, 1);
              if (canPause) {
                assert.deepEqual(kinds.slice(0, 2), ['ready', 'connected']);
                assert.equal(beforeGo, 0, 'the server saw data before go');
                assert.ok(raw.received - startBytes > 0, 'the request (or ClientHello) was sent after go');
                assert.equal(run.result?.cannotPause, undefined);
              } else {
                assert.ok(!kinds.includes('connected'));
                assert.equal(run.result?.cannotPause, true);
              }
              assert.equal(outcome.kind, 'error');
              break;
            }
            case 'get': {
              const run = await runDriver(config(client, scheme, originPort(scheme)));
              outcome = run.outcome;
              assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
              assert.equal(outcome.status, 200);
              assert.equal(outcome.bytes, 5);
              assert.ok(run.events.some((e) => e.event === 'response-started'));
              if (client === 'okhttp' && scheme === 'h2') assert.ok(outcome.notes?.includes('protocol=h2'), 'ALPN chose h2');
              break;
            }
            case 'refused': {
              outcome = (await runDriver(config(client, scheme, await deadPort()))).outcome;
              EXPECT.refused?.(client, scheme, outcome);
              break;
            }
            case 'reset': {
              outcome = (await runDriver(config(client, scheme, originPort(scheme), { path: '/reset' }))).outcome;
              EXPECT.reset?.(client, scheme, outcome);
              break;
            }
            case 'truncated': {
              outcome = (await runDriver(config(client, scheme, originPort(scheme), { path: '/large' }))).outcome;
              EXPECT.truncated?.(client, scheme, outcome);
              break;
            }
            case 'closed-while-paused': {
              raw.onData = 'hold';
              const before = raw.received;
              let finSent = false;
              const run = await runDriver(config(client, scheme, raw.port, { pause: true }), async (ev) => {
                // The kernel completes the handshake before the server's 'connection' event: wait
                // until the server holds this very connection (bounded), then close it (FIN).
                const localPort = Number(ev.local.slice(ev.local.lastIndexOf(':') + 1));
                for (let i = 0; i < 200 && raw.sockets.byPeerPort(localPort) === undefined; i++) await sleep(10);
                const accepted = raw.sockets.byPeerPort(localPort);
                assert.ok(accepted, 'the server accepted the held connection');
                accepted.destroy();
                await sleep(50);
                finSent = true;
              });
              outcome = run.outcome;
              assert.ok(finSent);
              assert.equal(raw.received, before, 'a closed server socket never delivers data');
              assert.equal(outcome.kind, 'error', JSON.stringify(outcome));
              if (client === 'okhttp' && scheme === 'http') {
                // C2a.5: java.io.IOException: unexpected end of stream on Connection{…}
                assert.equal(outcome.error, 'java.io.IOException');
                assert.match(outcome.message ?? '', /^unexpected end of stream on /);
              }
              break;
            }
            case 'proxy': {
              const seen = proxy.requests.length;
              const run = await runDriver(config(client, scheme, originPort(scheme), { proxy: { host: HOST, port: proxy.port }, pause: client !== 'curl' }));
              outcome = run.outcome;
              assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
              assert.equal(outcome.status, 200);
              const line = proxy.requests[seen] ?? '';
              const tunnels = scheme !== 'http' || client === 'node-fetch';
              // http.client tunnels with HTTP/1.0, the others with HTTP/1.1.
              if (tunnels) assert.match(line, new RegExp(`^CONNECT 127\\.0\\.0\\.1:${originPort(scheme)} HTTP/1\\.[01]$`));
              else assert.equal(line, `GET http://127.0.0.1:${origins.http}/ HTTP/1.1`);
              if (client !== 'curl') assert.ok(run.events.some((e) => e.event === 'connected'));
              break;
            }
          }
        } finally {
          // The Outcome is the lab's data: always shown, also when an assertion fails.
          if (outcome) t.diagnostic(JSON.stringify(outcome));
        }
      });
    }
  });
}

describe('node-net tcp', () => {
  const tcp = (port: number, extra: Partial<DriverConfig> = {}): DriverConfig => config('node-net', 'tcp', port, extra);
  const fresh = async (t: { after: (fn: () => Promise<void>) => void }): Promise<RawServer> => {
    const server = await new RawServer().start();
    t.after(() => server.close());
    return server;
  };

  test('pause: nothing is sent before go; a reset after the send is ECONNRESET', async (t) => {
    const server = await fresh(t);
    server.onData = 'reset';
    let beforeGo = -1;
    const run = await runDriver(tcp(server.port, { pause: true, tcp: { send: 'ping' } }), async () => {
      await sleep(100);
      beforeGo = server.received;
    });
    t.diagnostic(JSON.stringify(run.outcome));
    assert.equal(beforeGo, 0);
    assert.equal(server.received, 4);
    assert.equal(run.outcome.code, 'ECONNRESET');
    assert.equal(run.outcome.message, 'read ECONNRESET');
  });

  test('the peer answers and closes: ok with the bytes and eof', async (t) => {
    const server = await fresh(t);
    server.onData = (s) => s.end('pong!');
    const run = await runDriver(tcp(server.port, { tcp: { send: 'ping' } }));
    assert.deepEqual(run.outcome, { kind: 'ok', bytes: 5, causes: [], notes: ['eof'] });
  });

  test('connection refused', async () => {
    const run = await runDriver(tcp(await deadPort()));
    EXPECT.refused?.('node-net', 'http', run.outcome);
  });

  test('closeAfterBytes with leaveUnread: the client closes with data unread, the server gets a RST', async (t) => {
    const server = await fresh(t);
    server.onConnect = (s) => s.write(Buffer.alloc(256 * 1024, 0x62));
    const run = await runDriver(tcp(server.port, { tcp: { closeAfterBytes: 1, leaveUnread: true } }));
    assert.equal(run.outcome.kind, 'ok');
    assert.ok(run.outcome.notes?.includes('closed-by-client'));
    for (let i = 0; i < 50 && server.errors.length === 0; i++) await sleep(20);
    assert.deepEqual(server.errors, ['ECONNRESET']);
  });

  test('closeAfterBytes without leaveUnread: FIN, the server sees an orderly end', async (t) => {
    const server = await fresh(t);
    server.onConnect = (s) => {
      s.write('0123456789');
      s.on('end', () => s.end());
    };
    const run = await runDriver(tcp(server.port, { tcp: { closeAfterBytes: 4 } }));
    assert.equal(run.outcome.kind, 'ok', JSON.stringify(run.outcome));
    assert.equal(run.outcome.bytes, 10);
    assert.deepEqual(server.errors, []);
    assert.equal(server.ends.length, 1);
  });

  test('repeated sends to a server that closed: the write after the RST fails', async (t) => {
    const server = await fresh(t);
    // Held until the server has closed (FIN): had the first 'x' arrived before the close, it would
    // have been unread data and the close a RST (tcp_close: data_was_unread).
    const run = await runDriver(tcp(server.port, { pause: true, tcp: { send: 'x', repeatEveryMs: 20, repeat: 20 } }), async (ev) => {
      const localPort = Number(ev.local.slice(ev.local.lastIndexOf(':') + 1));
      for (let i = 0; i < 200 && server.sockets.byPeerPort(localPort) === undefined; i++) await sleep(10);
      server.sockets.byPeerPort(localPort)?.destroy();
      await sleep(50);
    });
    t.diagnostic(JSON.stringify(run.outcome));
    assertError(run.outcome, 'EPIPE', 'ECONNRESET');
    assert.ok(run.outcome.notes?.includes('eof'), 'the FIN was read first');
  });
});

describe('protocol edges', () => {
  test('driverCommand: which clients can pause; the Java class cache lives under the temp dir', async () => {
    const cfg = (client: ClientName): DriverConfig => config(client, 'http', 1);
    assert.equal((await driverCommand(cfg('curl'))).canPause, false);
    for (const client of ['node-net', 'node-http', 'node-fetch', 'python', 'python-requests', 'python-httpx', 'python-aiohttp'] as const) assert.equal((await driverCommand(cfg(client))).canPause, true);
    if (availability.get('okhttp') === false) {
      const { argv } = await driverCommand(cfg('okhttp'));
      assert.equal(argv.at(-2), 'OkHttpDriver');
      assert.match(argv[argv.indexOf('-cp') + 1] ?? '', /okhttp\.jar:.*okio\.jar:.*rstlab-okhttp-/);
    }
  });

  for (const client of ['node-http', 'python', 'python-requests', 'python-httpx', 'python-aiohttp', 'okhttp'] as const) {
    test(`${client}: stdin closing while held ends the driver without a result`, { skip: availability.get(client) ?? false }, async (t) => {
      const server = await new RawServer().start();
      t.after(() => server.close());
      const { argv } = await driverCommand(config(client, 'http', server.port, { pause: true }));
      const { spawn } = await import('node:child_process');
      const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (s: string) => {
        out += s;
        if (out.includes('"connected"')) child.stdin.end();
      });
      const code = await new Promise((r) => child.on('close', r));
      assert.equal(code, 3);
      assert.ok(!out.includes('"result"'), out);
      assert.equal(server.received, 0);
    });
  }

  for (const client of ['node-http', 'okhttp'] as const) {
    test(`${client}: the timeoutMs safety net; an escaped path survives the JSON round trip`, { skip: availability.get(client) ?? false }, async (t) => {
      const server = await new RawServer().start();
      t.after(() => server.close());
      let head = '';
      server.onData = (_s, chunk) => (head += chunk.toString('latin1'));
      // The JVM under load can take a second or more to send anything: give it room.
      const timeoutMs = client === 'okhttp' ? 4000 : 1000;
      const run = await runDriver(config(client, 'http', server.port, { path: '/a%20b?q="\\é', timeoutMs }));
      assert.equal(run.outcome.kind, 'timeout-internal', JSON.stringify(run.outcome));
      assert.equal(run.events.filter((e) => e.event === 'result').length, 1);
      // Each library encodes the target its own way; the decoded form must be what was asked.
      const target = /^GET (\S+) HTTP\/1\.1\r\n/.exec(head)?.[1] ?? '';
      assert.equal(decodeURIComponent(target), '/a b?q="\\é', target);
    });
  }
});
