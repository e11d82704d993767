// The big checks of rstlab proxy (bounded, loopback only):
// 1 GiB relayed byte-exact (512 MiB each way, SHA-256 equal); 10,000 concurrent connections held
// and closed cleanly; no descriptor leak after 100,000 connections that end in resets. The proxy
// and the echo server run in child processes; this process is the client. The proxy's process
// gets a higher descriptor limit through prlimit(1) when the kernel allows it; otherwise the
// concurrency is capped by its hard limit (2 descriptors per proxied connection) and says so.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import net from 'node:net';
import { sleep, until } from './testkit.js';

const helper = fileURLToPath(new URL('./scale-helper.js', import.meta.url));
const children: ChildProcess[] = [];
let echoPort = 0;
let api = '';
let proxyPid = 0;
let proxyFdLimit = 0;

function start(args: string[], withPrlimit: boolean): Promise<{ child: ChildProcess; first: any }> {
  const cmd = withPrlimit ? 'prlimit' : process.execPath;
  const argv = withPrlimit ? ['--nofile=65536:65536', process.execPath, helper, ...args] : [helper, ...args];
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => resolve({ child, first: JSON.parse(line) }));
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

async function call(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(api + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

before(async () => {
  const canRaise = spawnSync('prlimit', ['--nofile=65536:65536', 'true']).status === 0;
  echoPort = (await start(['echo'], canRaise)).first.port;
  const p = await start(['proxy'], canRaise);
  api = p.first.url;
  proxyPid = p.first.pid;
  const limits = /Max open files\s+(\d+)\s+(\d+)/.exec(spawnSync('cat', [`/proc/${proxyPid}/limits`]).stdout.toString());
  proxyFdLimit = Number(limits?.[1] ?? 1024);
});
after(() => {
  for (const c of children) { c.stdin?.end(); c.kill('SIGTERM'); }
});

test('1 GiB relayed byte-exact, both directions at once', async () => {
  const { first } = await start(['relay', '512'], false);
  assert.equal(first.bytesUp, 512 * 2 ** 20);
  assert.equal(first.bytesDown, 512 * 2 ** 20);
  assert.equal(first.upEqual, true);
  assert.equal(first.downEqual, true);
});

test('no descriptor leak after 100,000 connections that end in resets', async () => {
  const p = await call('POST', '/proxies', { name: 'resets', upstream: `127.0.0.1:${echoPort}` });
  // Most connections are reset at accept; one in ten gets through and is reset on its first byte
  // (reset_peer), so both the accept path and the relayed path are exercised.
  await call('POST', '/proxies/resets/toxics', { type: 'reset_connect', toxicity: 0.9 });
  await call('POST', '/proxies/resets/toxics', { type: 'reset_peer', stream: 'upstream' });
  const port = Number(p.listen.split(':')[1]);
  await sleep(100);
  const before = fdCount(proxyPid);
  const total = Number(process.env.RSTLAB_PROXY_RESETS ?? 100_000);
  const endings: Record<string, number> = {};
  let started = 0;
  const one = () => new Promise<void>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('connect', () => s.write('x'));
    const done = (how: string) => { endings[how] = (endings[how] ?? 0) + 1; s.destroy(); resolve(); };
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
    s.on('end', () => done('end'));
    s.setTimeout(5000, () => done('timeout'));
  });
  const worker = async () => { while (started < total) { started++; await one(); } };
  await Promise.all(Array.from({ length: 8 }, worker));
  await until(async () => (await call('GET', '/proxies/resets/stats')).connectionsActive === 0, 10_000, 'the proxy to drop its connections');
  const stats = await call('GET', '/proxies/resets/stats');
  assert.deepEqual(endings, { ECONNRESET: total });
  assert.equal(stats.connectionsTotal, total);
  assert.equal(stats.faults.reset_connect_downstream + stats.faults.reset_peer_upstream, total);
  await sleep(200);
  assert.equal(fdCount(proxyPid), before, 'descriptors of the proxy process');
  await call('DELETE', '/proxies/resets');
});

test('10,000 concurrent connections held, then closed cleanly', async (t) => {
  const count = Math.min(10_000, Math.floor((proxyFdLimit - 100) / 2));
  if (count < 10_000) t.diagnostic(`the proxy process may open ${proxyFdLimit} descriptors (prlimit not permitted here): ${count} connections`);
  const p = await call('POST', '/proxies', { name: 'many', upstream: `127.0.0.1:${echoPort}` });
  const port = Number(p.listen.split(':')[1]);
  const before = fdCount(proxyPid);
  const socks: net.Socket[] = [];
  t.after(() => { for (const s of socks) s.destroy(); });
  const errors: string[] = [];
  let ended = 0;
  for (let i = 0; i < count; i += 500) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(count, i + 500); j++) {
      batch.push(new Promise<void>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        socks.push(s);
        s.on('error', (e: NodeJS.ErrnoException) => { errors.push(e.code ?? e.message); resolve(); });
        s.on('connect', () => s.write('y'));
        s.once('data', () => resolve());
        s.on('end', () => { ended++; });
      }));
    }
    await Promise.all(batch);
  }
  assert.deepEqual(errors, []);
  const held = await call('GET', '/proxies/many/stats');
  assert.equal(held.connectionsActive, count);
  // Two descriptors per proxied connection (give or take one the runtime opens or closes meanwhile).
  assert.ok(Math.abs(fdCount(proxyPid) - before - 2 * count) <= 4, 'two descriptors per proxied connection');
  for (const s of socks) s.end();
  await until(() => ended === count, 30_000, 'every client to see the FIN');
  await until(async () => (await call('GET', '/proxies/many/stats')).connectionsActive === 0, 30_000, 'the proxy to close everything');
  assert.deepEqual(errors, [], 'closed without resets');
  await sleep(200);
  assert.ok(Math.abs(fdCount(proxyPid) - before) <= 2, `descriptors back to ${before}: ${fdCount(proxyPid)}`);
  await call('DELETE', '/proxies/many');
});
