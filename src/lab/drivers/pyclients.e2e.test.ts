// The Python HTTP libraries' drivers (python = http.client, python-requests, python-httpx,
// python-aiohttp) against the lab's own server program (../servers/server.ts, run as a child
// process): the `reuse` option (a first request, `idle`, then the second through the same
// client object) with and without the server closing the idle keep-alive connection
// (`close-idle`) while the driver is held at the idle point; connection refused; a reset (RST
// at the request, from drivers/testbed.ts's `/reset`); and the server SIGKILLed mid-response.
// What each library reports is asserted exactly (class, errno code, whether the pool reused the
// connection or connected anew); every Outcome is printed as a diagnostic: it is the lab's data.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientName, DriverConfig, DriverEvent, Outcome } from '../protocol.js';
import { startServer, type ServerProcess } from '../servers/index.js';
import { driverAvailable } from './index.js';
import { HOST, deadPort, runDriverHeldAt, sleep, startOrigins, type DriverRun, type Origins } from './testbed.js';

const PY_CLIENTS = ['python', 'python-requests', 'python-httpx', 'python-aiohttp'] as const satisfies readonly ClientName[];
type PyClient = (typeof PY_CLIENTS)[number];

/** Runs a driver; at `connected` (with pause, without reuse) or `idle` (with pause), `hook` runs, then `go`. */
function drive(config: DriverConfig, hook?: (ev: DriverEvent) => Promise<void>): Promise<DriverRun> {
  return runDriverHeldAt(config, config.reuse ? 'idle' : 'connected', hook);
}

function cfg(client: PyClient, port: number, extra: Partial<DriverConfig> = {}): DriverConfig {
  return { client, scheme: 'http', target: { host: HOST, port }, path: '/', pause: false, timeoutMs: 8000, ...extra };
}

/** error: message pairs of the Outcome, top first. */
function chain(o: Outcome): string[] {
  return [o.error ?? '', ...o.causes.map((c) => c.error)];
}

const availability = new Map<PyClient, string | false>();
for (const client of PY_CLIENTS) {
  const a = await driverAvailable(client);
  availability.set(client, a.ok ? false : a.why);
}

let origins: Origins;
before(async () => {
  origins = await startOrigins();
});
after(async () => {
  await origins?.close();
});

async function httpServer(t: { after: (fn: () => Promise<unknown>) => void }, extra: Record<string, unknown> = {}): Promise<ServerProcess> {
  const server = await startServer({ kind: 'http', listen: { host: HOST, port: 0 }, ...extra });
  t.after(() => server.kill());
  return server;
}

for (const client of PY_CLIENTS) {
  describe(client, { skip: availability.get(client) ?? false }, () => {
    test('ready names the library and its version', async () => {
      const run = await drive(cfg(client, await deadPort()));
      const ready = run.events[0];
      assert.equal(ready?.event, 'ready');
      if (client !== 'python') {
        assert.ok(ready?.event === 'ready' && ready.software, JSON.stringify(ready));
        assert.equal(ready.software?.family, client);
        assert.match(ready.software?.version ?? '', /^\d+\.\d+/);
      }
    });

    test('reuse: the second request goes over the pooled connection', async (t) => {
      const server = await httpServer(t);
      const run = await drive(cfg(client, server.port, { reuse: { idleMs: 100 } }));
      t.diagnostic(JSON.stringify(run.outcome));
      assert.equal(run.exitCode, 0, run.stderr);
      const kinds = run.events.map((e) => e.event);
      assert.deepEqual(kinds, ['ready', 'connected', 'idle', 'response-started', 'result']);
      assert.deepEqual(run.outcome, { kind: 'ok', status: 200, bytes: run.outcome.bytes, causes: [], notes: ['reused-connection'] });
      assert.equal(server.events.filter((e) => e.event === 'accepted').length, 1);
      assert.equal(server.events.filter((e) => e.event === 'request').length, 2);
    });

    test('reuse + pause: the server closes the idle connection (close-idle) before the second request', async (t) => {
      const server = await httpServer(t);
      const run = await drive(cfg(client, server.port, { reuse: {}, pause: true }), async () => {
        await server.waitFor('request');
        server.send({ cmd: 'close-idle' });
        const closed = await server.waitFor('closed', () => true, 5000);
        assert.equal(closed.by, 'server');
        assert.equal(closed.how, 'fin');
        await sleep(100);
      });
      t.diagnostic(JSON.stringify(run.outcome));
      assert.equal(run.exitCode, 0, run.stderr);
      assert.deepEqual(run.events.map((e) => e.event).slice(0, 3), ['ready', 'connected', 'idle']);
      const accepted = server.events.filter((e) => e.event === 'accepted').length;
      if (client === 'python') {
        // http.client writes the request on the half-closed socket and reads the FIN: no retry.
        assert.equal(run.outcome.kind, 'error', JSON.stringify(run.outcome));
        assert.equal(run.outcome.error, 'http.client.RemoteDisconnected');
        assert.equal(run.outcome.message, 'Remote end closed connection without response');
        assert.deepEqual(run.outcome.notes, ['reused-connection']);
        assert.equal(accepted, 1);
      } else {
        // urllib3, httpcore and aiohttp's connector see the pooled socket closed (readable at
        // EOF / connection_lost) and connect anew: the application sees nothing.
        assert.deepEqual(run.outcome, { kind: 'ok', status: 200, bytes: run.outcome.bytes, causes: [], notes: ['new-connection'] });
        assert.equal(accepted, 2);
      }
    });

    test('connection refused', async (t) => {
      const run = await drive(cfg(client, await deadPort()));
      const o = run.outcome;
      t.diagnostic(JSON.stringify(o));
      assert.equal(o.kind, 'error');
      assert.equal(o.code, 'ECONNREFUSED');
      const expected: Record<PyClient, string[]> = {
        python: ['ConnectionRefusedError'],
        'python-requests': ['requests.exceptions.ConnectionError', 'urllib3.exceptions.MaxRetryError', 'urllib3.exceptions.NewConnectionError', 'ConnectionRefusedError'],
        'python-httpx': ['httpx.ConnectError', 'httpcore.ConnectError', 'ConnectionRefusedError'],
        'python-aiohttp': ['aiohttp.client_exceptions.ClientConnectorError', 'ConnectionRefusedError'],
      };
      assert.deepEqual(chain(o), expected[client]);
      assert.equal(o.causes.at(-1)?.code ?? o.code, 'ECONNREFUSED');
    });

    test('reset: the server answers the request with a RST', async (t) => {
      const run = await drive(cfg(client, origins.http, { path: '/reset' }));
      const o = run.outcome;
      t.diagnostic(JSON.stringify(o));
      assert.equal(o.kind, 'error');
      assert.equal(o.code, 'ECONNRESET');
      const expected: Record<PyClient, string[]> = {
        python: ['ConnectionResetError'],
        'python-requests': ['requests.exceptions.ConnectionError', 'urllib3.exceptions.ProtocolError', 'ConnectionResetError'],
        'python-httpx': ['httpx.ReadError', 'httpcore.ReadError', 'ConnectionResetError'],
        // aiohttp builds its ClientOSError from the errno and text of the OSError, outside its except block.
        'python-aiohttp': ['aiohttp.client_exceptions.ClientOSError'],
      };
      assert.deepEqual(chain(o), expected[client]);
    });

    test('the server is SIGKILLed mid-response', async (t) => {
      const server = await httpServer(t, { largeBytes: 8 << 20, largeFirstChunk: 256 << 10 });
      const running = drive(cfg(client, server.port, { path: '/large' }));
      await server.waitFor('mid-response', () => true, 8000);
      await sleep(100);
      await server.kill('SIGKILL');
      const run = await running;
      const o = run.outcome;
      t.diagnostic(JSON.stringify(o));
      assert.equal(o.status, 200);
      assert.equal(o.bytes, 256 << 10, JSON.stringify(o));
      if (client === 'python-requests') {
        // urllib3 1.26 does not enforce Content-Length: the FIN ends the body as if it were complete.
        assert.equal(o.kind, 'ok', JSON.stringify(o));
        assert.deepEqual(o.notes, [`content-length=${8 << 20}`]);
        return;
      }
      assert.equal(o.kind, 'error');
      const expected: Record<PyClient, string[]> = {
        python: ['http.client.IncompleteRead'],
        'python-requests': [],
        'python-httpx': ['httpx.RemoteProtocolError', 'httpcore.RemoteProtocolError', 'h11._util.RemoteProtocolError'],
        'python-aiohttp': ['aiohttp.client_exceptions.ClientPayloadError'],
      };
      assert.deepEqual(chain(o), expected[client]);
    });
  });
}
