// Child processes for scale.stress.test.ts (loopback only, every loop bounded; one JSON line on stdout):
// `relay N` relays N MiB each way through a fresh proxy and compares SHA-256 digests; `echo` and
// `proxy` serve an echo server and rstlab proxy's control API in processes of their own (so each
// stays within its own descriptor limit and the client load runs on another core) until stdin closes.

import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { startProxy } from './index.js';
import { serve, until } from './testkit.js';

const MiB = 1 << 20;
const report = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');
const fds = () => readdirSync('/proc/self/fd').length;

/** Send `mib` MiB of distinct blocks on `s`, hashing what was sent. */
function sendBlocks(s: net.Socket, mib: number, seed: Buffer): Promise<string> {
  const h = createHash('sha256');
  return new Promise((resolve, reject) => {
    let i = 0;
    const pump = () => {
      while (i < mib) {
        const block = Buffer.from(seed);
        block.writeUInt32BE(i, 0);
        h.update(block);
        i++;
        if (!s.write(block)) { s.once('drain', pump); return; }
      }
      s.end(() => resolve(h.digest('hex')));
    };
    s.on('error', reject);
    pump();
  });
}

function hashIncoming(s: net.Socket): Promise<{ hash: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  return new Promise((resolve, reject) => {
    s.on('data', (b: Buffer) => { h.update(b); bytes += b.length; });
    s.on('end', () => resolve({ hash: h.digest('hex'), bytes }));
    s.on('error', reject);
  });
}

async function relay1GiB(mibEachWay: number): Promise<void> {
  const seedUp = randomBytes(MiB);
  const seedDown = randomBytes(MiB);
  let serverSide: Promise<{ up: { hash: string; bytes: number }; sentDown: string }> | undefined;
  const server = await serve((s) => {
    serverSide = Promise.all([hashIncoming(s), sendBlocks(s, mibEachWay, seedDown)]).then(([up, sentDown]) => ({ up, sentDown }));
  }, { allowHalfOpen: true });
  const rp = await startProxy({ port: 0 });
  const p = await rp.collection.create({ name: 'bulk', upstream: `127.0.0.1:${server.port}` });
  const t0 = performance.now();
  const c = net.connect({ host: '127.0.0.1', port: Number(p.listen.split(':')[1]), allowHalfOpen: true });
  await new Promise((r) => c.once('connect', r));
  const [down, sentUp] = await Promise.all([hashIncoming(c), sendBlocks(c, mibEachWay, seedUp)]);
  await until(() => serverSide !== undefined, 5000, 'the server side', 20);
  const srv = await serverSide!;
  const seconds = (performance.now() - t0) / 1000;
  c.destroy();
  await rp.stop();
  await server.close();
  report({ check: 'relay', bytesUp: srv.up.bytes, bytesDown: down.bytes, upEqual: srv.up.hash === sentUp, downEqual: down.hash === srv.sentDown, seconds });
}

/** Serve an echo server (one per connection, piped back) until stdin closes. */
async function echo(): Promise<void> {
  const e = await serve((s) => s.pipe(s));
  report({ role: 'echo', port: e.port, pid: process.pid });
  await new Promise((r) => process.stdin.on('close', r).resume());
  await e.close();
}

/** Serve rstlab proxy's control API (proxies are made through it) until stdin closes. */
async function proxy(): Promise<void> {
  const rp = await startProxy({ port: 0, eventCapacity: 1000 });
  report({ role: 'proxy', url: rp.url, pid: process.pid, fds: fds() });
  await new Promise((r) => process.stdin.on('close', r).resume());
  await rp.stop();
}

const [mode, arg] = process.argv.slice(2);
const run = async () => {
  if (mode === 'relay') await relay1GiB(Number(arg ?? 512));
  else if (mode === 'echo') await echo();
  else if (mode === 'proxy') await proxy();
  else throw new Error(`unknown mode ${mode}`);
};
run().then(() => process.exit(0), (e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
