// The browser drivers (chromium, firefox) against real loopback servers (testbed.ts): connection
// refused, a reset (RST) in the middle of the body, a body cut short by the server's FIN, a good
// HTTPS GET with the lab's certificates, the path through an HTTP proxy, no hold at the pause point,
// and no browser or profile left after the driver is SIGKILLed. The browsers' own codes are asserted
// verbatim. Each case starts its own browser, as the lab does for each run (Chromium ~1 s, Firefox
// ~3–6 s on a busy machine; the file takes ~1.5 min with the machine shared).
// Skipped, saying why, where the Debian package (chromium, firefox-esr) is missing.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ClientName, DriverConfig, DriverEvent } from '../protocol.js';
import { lines } from '../lines.js';
import { driverAvailable, driverCommand } from './index.js';
import { HOST, LARGE_SENT, RawServer, TinyProxy, deadPort, runDriver, sleep, startOrigins, type Origins } from './testbed.js';

let origins: Origins;
let resetter: RawServer;
let holder: RawServer;
let proxy: TinyProxy;
const MID_BODY = 5000;

before(async () => {
  origins = await startOrigins();
  // A response head and MID_BODY of 100000 declared bytes, then an RST (SO_LINGER 0).
  resetter = await new RawServer().start();
  resetter.onData = (s) => {
    s.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(MID_BODY)}`, () => {
      setTimeout(() => s.resetAndDestroy(), 200);
    });
  };
  holder = await new RawServer().start();
  proxy = await new TinyProxy().start();
});

after(async () => {
  await Promise.all([origins?.close(), resetter?.close(), holder?.close(), proxy?.close()]);
});

function config(client: ClientName, scheme: DriverConfig['scheme'], port: number, extra: Partial<DriverConfig> = {}): DriverConfig {
  return { client, scheme, target: { host: HOST, port }, path: '/large', pause: false, caFile: origins.certs.caFile, timeoutMs: 15000, ...extra };
}

/** What each browser reports, verbatim, as observed with Chromium 156 and Firefox ESR 153. */
const EXPECT = {
  chromium: {
    refused: { code: 'net::ERR_CONNECTION_REFUSED', page: 'fetch: TypeError: Failed to fetch', console: 'console: Failed to load resource: net::ERR_CONNECTION_REFUSED' },
    reset: { code: 'net::ERR_CONNECTION_RESET', page: 'fetch: TypeError: network error', console: 'console: Failed to load resource: net::ERR_CONNECTION_RESET' },
    truncated: { code: 'net::ERR_CONTENT_LENGTH_MISMATCH', page: 'fetch: TypeError: network error', console: 'console: Failed to load resource: net::ERR_CONTENT_LENGTH_MISMATCH' },
  },
  firefox: {
    refused: { code: 'NS_ERROR_CONNECTION_REFUSED', page: 'fetch: TypeError: NetworkError when attempting to fetch resource.' },
    reset: { code: 'NS_ERROR_NET_RESET', page: 'fetch: TypeError: Error in input stream' },
    truncated: { code: 'NS_ERROR_NET_PARTIAL_TRANSFER', page: 'fetch: TypeError: Error in input stream' },
  },
} as const;

/** The processes (not zombies) whose command line mentions `needle`. */
function processesWith(needle: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(needle)) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

for (const client of ['chromium', 'firefox'] as const) {
  describe(`${client} driver`, async () => {
    const avail = await driverAvailable(client);
    const skip = avail.ok ? false : avail.why;
    const want = EXPECT[client];

    test('connection refused', { skip }, async (t) => {
      const r = await runDriver(config(client, 'http', await deadPort()));
      t.diagnostic(JSON.stringify(r.outcome));
      assert.equal(r.outcome.kind, 'error');
      assert.equal(r.outcome.error, client);
      assert.equal(r.outcome.code, want.refused.code);
      assert.equal(r.outcome.message, want.refused.code);
      assert.equal(r.outcome.status, undefined);
      assert.ok(r.outcome.notes?.includes(want.refused.page), JSON.stringify(r.outcome.notes));
      if ('console' in want.refused) assert.ok(r.outcome.notes?.includes(want.refused.console), JSON.stringify(r.outcome.notes));
      const ready = r.events.find((e) => e.event === 'ready');
      assert.equal(ready?.event === 'ready' ? ready.software?.family : undefined, client);
      assert.match(ready?.event === 'ready' ? ready.software?.version ?? '' : '', /^\d+\.\d+/);
    });

    test('an RST in the middle of the body', { skip }, async (t) => {
      const r = await runDriver(config(client, 'http', resetter.port));
      t.diagnostic(JSON.stringify(r.outcome));
      assert.equal(r.outcome.code, want.reset.code);
      assert.equal(r.outcome.message, want.reset.code);
      assert.equal(r.outcome.status, 200);
      assert.equal(r.outcome.bytes, MID_BODY);
      assert.ok(r.outcome.notes?.includes(want.reset.page), JSON.stringify(r.outcome.notes));
      assert.ok(r.outcome.notes?.includes('protocol=http/1.1'), JSON.stringify(r.outcome.notes));
      assert.ok(r.events.some((e) => e.event === 'response-started' && e.status === 200));
    });

    test('a body cut short by the server\'s FIN (HTTPS with the lab\'s certificates)', { skip }, async (t) => {
      const r = await runDriver(config(client, 'https', origins.https));
      t.diagnostic(JSON.stringify(r.outcome));
      assert.equal(r.outcome.code, want.truncated.code);
      assert.equal(r.outcome.status, 200);
      assert.equal(r.outcome.bytes, LARGE_SENT);
      assert.ok(r.outcome.notes?.includes(want.truncated.page), JSON.stringify(r.outcome.notes));
      assert.ok(r.outcome.notes?.includes(client === 'chromium' ? 'spki-pinned-lab-cert' : 'accept-insecure-certs'));
    });

    test('a good GET over HTTP/2; pause is not possible (cannotPause, no connected event)', { skip }, async (t) => {
      const r = await runDriver(config(client, 'h2', origins.h2, { path: '/', pause: true }));
      t.diagnostic(JSON.stringify(r.outcome));
      assert.deepEqual([r.outcome.kind, r.outcome.status, r.outcome.bytes], ['ok', 200, 5]);
      assert.ok(r.outcome.notes?.includes('protocol=h2'), JSON.stringify(r.outcome.notes));
      assert.equal(r.result?.cannotPause, true);
      assert.ok(!r.events.some((e) => e.event === 'connected'));
      const { canPause } = await driverCommand(config(client, 'http', 1));
      assert.equal(canPause, false);
    });

    test('through an HTTP proxy: absolute-form for http, a CONNECT tunnel for https', { skip }, async (t) => {
      const viaProxy = { path: '/', proxy: { host: HOST, port: proxy.port } };
      const plain = await runDriver(config(client, 'http', origins.http, viaProxy));
      const tls = await runDriver(config(client, 'https', origins.https, viaProxy));
      t.diagnostic(JSON.stringify([plain.outcome, tls.outcome]));
      assert.deepEqual([plain.outcome.kind, plain.outcome.status, plain.outcome.bytes], ['ok', 200, 5]);
      assert.deepEqual([tls.outcome.kind, tls.outcome.status, tls.outcome.bytes], ['ok', 200, 5]);
      assert.ok(proxy.requests.includes(`GET http://${HOST}:${origins.http}/ HTTP/1.1`), JSON.stringify(proxy.requests));
      assert.ok(proxy.requests.some((r) => r.startsWith(`CONNECT ${HOST}:${origins.https} `)), JSON.stringify(proxy.requests));
    });

    test('SIGKILL of the driver leaves no browser; the next start removes the profile', { skip }, async () => {
      const before = holder.received;
      const { argv } = await driverCommand(config(client, 'http', holder.port, { timeoutMs: 30000 }));
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
      const ready = new Promise<void>((resolve, reject) => {
        lines(child.stdout, (line) => {
          if ((JSON.parse(line) as DriverEvent).event === 'ready') resolve();
        }, () => reject(new Error('driver ended before ready')));
      });
      await ready;
      const root = path.join(os.tmpdir(), `rstlab-browsers-${process.getuid?.() ?? 0}`);
      const profile = readdirSync(root).find((n) => n.startsWith(`${child.pid}-`));
      assert.ok(profile, 'the driver has a profile folder');
      const dir = path.join(root, profile);
      // The browser is up and the request is on its way to a server that never answers.
      for (let i = 0; i < 100 && holder.received === before; i++) await sleep(100);
      assert.ok(holder.received > before, 'the request reached the server');
      assert.ok(processesWith(dir).length > 0, 'the browser runs with that profile');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      let left = processesWith(dir);
      for (let i = 0; i < 50 && left.length > 0; i++) {
        await sleep(100);
        left = processesWith(dir);
      }
      assert.deepEqual(left, [], 'no browser process outlives its driver');
      // A SIGKILLed driver cannot remove its profile; the next browser driver does.
      await runDriver(config(client, 'http', await deadPort()));
      assert.equal(existsSync(dir), false, `${dir} was swept`);
    });
  });
}
