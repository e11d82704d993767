// Each reset fault of rstlab proxy, exercised by a real client through the proxy while tcpdump
// captures the client side (lo, the proxy's listen port): the RST/FIN pattern on the wire (read
// back with tshark) and rstlab's explainer's cause code for the RST. Needs tcpdump (run as root)
// and tshark: without them the tests are skipped with that reason, except under CI=true, where
// they run and fail.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { startProxy, type RunningProxy } from './index.js';
import { explainCapture } from '../explain/index.js';
import { startTcpdump } from './capture.js';
import { echoServer, hasFlag, missingToolsSkip, serve, sleep, talk, tsharkFrames, type Frame, type Outcome, type Served } from './testkit.js';

const skip = missingToolsSkip(['tcpdump', 'tshark']);

let rp: RunningProxy;
let echo: Served;
let dir: string;
let n = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rstlab-proxy-faults-'));
  echo = await echoServer();
  rp = await startProxy({ port: 0 });
});
after(async () => {
  await rp?.stop();
  await echo?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run { frames: Frame[]; proxyPort: number; outcome: Outcome; file: string; fromProxy: Frame[]; fromClient: Frame[] }

/** Create a proxy with one toxic, capture its listen port while `client` runs, and return the frames. */
async function scenario(t: { after(fn: () => unknown): void }, toxic: Record<string, unknown>, client: (port: number) => Promise<Outcome>, upstreamPort = echo.port): Promise<Run> {
  const name = `f${++n}`;
  const p = await rp.collection.create({ name, upstream: `127.0.0.1:${upstreamPort}` });
  t.after(() => rp.collection.remove(name).catch(() => {}));
  rp.collection.addToxic(name, toxic);
  const proxyPort = Number(p.listen.split(':')[1]);
  const file = join(dir, `${name}.pcap`);
  const td = await startTcpdump(file, `tcp port ${proxyPort}`);
  let outcome: Outcome;
  try {
    outcome = await client(proxyPort);
    await sleep(100);
  } finally {
    await td.stop();
  }
  const frames = await tsharkFrames(file);
  return {
    frames, proxyPort, outcome, file,
    fromProxy: frames.filter((f) => f.srcport === proxyPort),
    fromClient: frames.filter((f) => f.dstport === proxyPort),
  };
}

/** The explainer's cause for the first RST sent by the proxy port. */
async function assertCause(run: Run, cause: string): Promise<void> {
  const rst = run.fromProxy.find((f) => hasFlag(f, 'R'));
  assert.ok(rst, 'a RST from the proxy');
  const { rsts } = await explainCapture(run.file);
  const mine = rsts.find((r) => r.frame === rst.frame);
  assert.ok(mine, `the explainer saw frame ${rst.frame}: ${JSON.stringify(rsts)}`);
  assert.equal(mine.cause, cause, JSON.stringify(mine));
}

const idx = (fs: Frame[], pred: (f: Frame) => boolean) => fs.findIndex(pred);

test('reset_connect: handshake completes, then an active RST+ACK, no FIN, nothing sent upstream', { skip }, async (t) => {
  let upstreamConns = 0;
  const counting = await serve(() => { upstreamConns++; });
  t.after(() => counting.close());
  const run = await scenario(t, { type: 'reset_connect' }, (port) => talk(port, ['hello'], { gapMs: 50 }), counting.port);
  // Node may report this as a failed connect: the RST can arrive before libuv sees the connect complete.
  assert.equal(run.outcome.ending, 'ECONNRESET');
  const rst = run.fromProxy.filter((f) => hasFlag(f, 'R'));
  assert.equal(rst.length >= 1, true);
  assert.equal(hasFlag(rst[0], 'A'), true, 'active RST carries ACK ([R.])');
  assert.equal(run.fromProxy.some((f) => hasFlag(f, 'F')), false, 'no FIN');
  assert.equal(upstreamConns, 0);
  await assertCause(run, 'abort');
});

test('fin_then_rst (C2a.4, the killed proxy): FIN first, then the client\'s data is answered by a RST', { skip }, async (t) => {
  const run = await scenario(t, { type: 'fin_then_rst' }, (port) => talk(port, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n'], { gapMs: 100 }));
  const fin = idx(run.frames, (f) => f.srcport === run.proxyPort && hasFlag(f, 'F'));
  const data = idx(run.frames, (f) => f.dstport === run.proxyPort && f.len > 0);
  const rst = idx(run.frames, (f) => f.srcport === run.proxyPort && hasFlag(f, 'R'));
  assert.ok(fin >= 0 && data > fin && rst > data, `FIN, then data, then RST: ${JSON.stringify(run.frames)}`);
  assert.equal(hasFlag(run.frames[rst], 'A'), false, 'the orphan answers with a stateless-style [R] (seq = the data\'s ACK)');
  await assertCause(run, 'reset-after-close');
});

test('kill: every live connection gets FIN at once; the next data is answered by a RST', { skip }, async (t) => {
  const run = await scenario(t, { type: 'latency', attributes: { latency: 0 } }, async (port) => {
    const pending = talk(port, ['one', 'two'], { gapMs: 150 });
    await sleep(60);
    rp.collection.addToxic(`f${n}`, { type: 'kill' });
    return pending;
  });
  const fin = idx(run.frames, (f) => f.srcport === run.proxyPort && hasFlag(f, 'F'));
  const rst = idx(run.frames, (f) => f.srcport === run.proxyPort && hasFlag(f, 'R'));
  assert.ok(fin >= 0 && rst > fin, JSON.stringify(run.frames));
  assert.equal(rp.events.list(0, `f${n}`).filter((e) => e.event === 'fault' && e.fault?.toxicType === 'kill').length, 1);
  await assertCause(run, 'reset-after-close');
});

test('reset_after_bytes: exactly N bytes reach the client, then an active RST', { skip }, async (t) => {
  const run = await scenario(t, { type: 'reset_after_bytes', attributes: { bytes: 5 } }, (port) => talk(port, ['0123456789']));
  assert.equal(run.outcome.data.toString(), '01234');
  const payload = run.fromProxy.reduce((s, f) => s + f.len, 0);
  assert.equal(payload, 5);
  const rst = run.fromProxy.find((f) => hasFlag(f, 'R'));
  assert.ok(rst && hasFlag(rst, 'A'));
  assert.equal(run.fromProxy.some((f) => hasFlag(f, 'F')), false);
  await assertCause(run, 'abort');
});

test('abort_mid_response (C2b): part of the reply, then RST; with mode fin, part of the reply then FIN', { skip }, async (t) => {
  const httpish = await serve((s) => s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(100000))));
  t.after(() => httpish.close());
  const rst = await scenario(t, { type: 'abort_mid_response', attributes: { bytes: 1000 } }, (port) => talk(port, ['GET /large HTTP/1.1\r\n\r\n']), httpish.port);
  assert.equal(rst.outcome.data.length, 1000);
  assert.ok(rst.fromProxy.some((f) => hasFlag(f, 'R')));
  assert.equal(rst.fromProxy.some((f) => hasFlag(f, 'F')), false);
  await assertCause(rst, 'abort');

  const fin = await scenario(t, { type: 'abort_mid_response', attributes: { bytes: 1000, mode: 'fin' } }, (port) => talk(port, ['GET /large HTTP/1.1\r\n\r\n']), httpish.port);
  assert.equal(fin.outcome.data.length, 1000);
  assert.equal(fin.outcome.ending, 'end');
  assert.ok(fin.fromProxy.some((f) => hasFlag(f, 'F')));
  assert.equal(fin.fromProxy.some((f) => hasFlag(f, 'R')), false);
});

test('close_unread: the client\'s bytes stay unread, and close(2) turns into an active RST (no FIN)', { skip }, async (t) => {
  const run = await scenario(t, { type: 'close_unread', attributes: { delay: 150 } }, (port) => talk(port, ['unread request']));
  assert.ok(run.fromClient.some((f) => f.len > 0), 'the client sent data');
  const rst = run.fromProxy.find((f) => hasFlag(f, 'R'));
  assert.ok(rst && hasFlag(rst, 'A'), JSON.stringify(run.frames));
  assert.equal(run.fromProxy.some((f) => hasFlag(f, 'F')), false, 'Linux sends RST instead of FIN (data_was_unread)');
  await assertCause(run, 'abort');
  // Without data from the client, the same close is a plain FIN.
  const quiet = await scenario(t, { type: 'close_unread', attributes: { delay: 100 } }, (port) => talk(port, []));
  assert.ok(quiet.fromProxy.some((f) => hasFlag(f, 'F')));
  assert.equal(quiet.fromProxy.some((f) => hasFlag(f, 'R')), false);
});

test('half_close: FIN to the client, its later data is still accepted and relayed, and no RST follows', { skip }, async (t) => {
  const got: Buffer[] = [];
  const sink = await serve((s) => s.on('data', (b) => got.push(b)), { allowHalfOpen: true });
  t.after(() => sink.close());
  const run = await scenario(t, { type: 'half_close' }, (port) => talk(port, ['after-fin'], { gapMs: 100, endAfterSend: true }), sink.port);
  const fin = idx(run.frames, (f) => f.srcport === run.proxyPort && hasFlag(f, 'F'));
  const data = idx(run.frames, (f) => f.dstport === run.proxyPort && f.len > 0);
  assert.ok(fin >= 0 && data > fin);
  assert.equal(run.frames.some((f) => hasFlag(f, 'R')), false);
  await sleep(50);
  assert.equal(Buffer.concat(got).toString(), 'after-fin');
});

test('blackhole: the client\'s request is never answered and nothing is reset; its own timeout fires', { skip }, async (t) => {
  const run = await scenario(t, { type: 'blackhole', stream: 'upstream' }, (port) => talk(port, ['is anyone there?'], { timeoutMs: 400 }));
  assert.equal(run.outcome.ending, 'timeout');
  assert.equal(run.outcome.data.length, 0);
  assert.equal(run.fromProxy.some((f) => f.len > 0 || hasFlag(f, 'R')), false);
});

test('reset_peer (Toxiproxy\'s): the client\'s first data is answered by an active RST', { skip }, async (t) => {
  const run = await scenario(t, { type: 'reset_peer', stream: 'upstream' }, (port) => talk(port, ['x']));
  assert.equal(run.outcome.ending, 'ECONNRESET');
  const rst = run.fromProxy.find((f) => hasFlag(f, 'R'));
  assert.ok(rst && hasFlag(rst, 'A'));
  await assertCause(run, 'abort');
});

test('the RST reaches a raw client as ECONNRESET on read', { skip }, async (t) => {
  const run = await scenario(t, { type: 'reset_connect', attributes: { delay: 50 } }, (port) => new Promise<Outcome>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => { s.destroy(); resolve({ data: Buffer.alloc(0), ending: 'timeout', connected: true }); }, 3000);
    s.on('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); resolve({ data: Buffer.alloc(0), ending: e.code ?? '', connected: true }); });
    s.on('end', () => { clearTimeout(timer); s.destroy(); resolve({ data: Buffer.alloc(0), ending: 'end', connected: true }); });
  }));
  assert.equal(run.outcome.ending, 'ECONNRESET');
});
