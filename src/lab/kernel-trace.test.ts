// The tracefs reader: its parser on trace_pipe text recorded on this kernel (testdata/), and the
// real recorder on loopback: a SYN to a closed port is the kernel's NO_SOCKET, and the instance is
// gone afterwards.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { repoFile } from '../paths.js';
import { skipOutsideCi } from '../testkit.js';
import { listLabInstances, parseTraceLine, startKernelTrace, TracePool, TRACEFS } from './kernel-trace.js';
import type { KernelTraceEvent } from './kernel-trace.js';

test('trace_pipe lines: send and receive events with the kernel\'s reason and state, marks, IPv6; other lines are not events', () => {
  const lines = readFileSync(repoFile('src/lab/testdata/trace-pipe.txt'), 'utf8').split('\n');
  const events = lines.map(parseTraceLine);
  assert.deepEqual(events[0], { kind: 'mark', ts: 9615.959117, text: 'rstlab-run x start' });
  assert.deepEqual(events[1], {
    kind: 'send', ts: 9616.023129, cpu: 1, pid: 14692, comm: '<...>', inIrq: true, src: '127.0.0.1:1', dst: '127.0.0.1:60744', state: 'UNKNOWN', reason: 'NO_SOCKET',
  });
  assert.deepEqual(events[2], { kind: 'receive', ts: 9616.0232, cpu: 1, pid: 14692, comm: '<...>', inIrq: false, local: '127.0.0.1:60744', remote: '127.0.0.1:1', cookie: 0x1013 });
  assert.equal(events[4]?.kind === 'send' && `${events[4].state} ${events[4].reason} ${events[4].src}`, 'TCP_CLOSE TCP_ABORT_ON_CLOSE 127.0.0.1:38231');
  // close() ran in the process (flags "....."): its pid and comm name the closer; a softirq's ("..s1.") do not.
  assert.equal(events[4]?.kind === 'send' && `${events[4].comm} ${events[4].pid} ${events[4].inIrq}`, 'python3 14699 false');
  assert.deepEqual(events[6] && events[6].kind === 'send' && [events[6].src, events[6].dst], ['[::1]:1', '[::1]:32944']);
  assert.deepEqual(events[7] && events[7].kind === 'receive' && [events[7].local, events[7].remote, events[7].cookie], ['[::1]:32944', '[::1]:1', 0xd]);
  for (const junk of ['', '# tracer: nop', '   <idle>-0  [000] d.h.. 1.000: sched_switch: prev_comm=x', 'tcp_send_reset: src=1.2.3.4:1']) assert.equal(parseTraceLine(junk), null, junk);
});

test('the recorder on this kernel: a SYN to a closed port is NO_SOCKET, seen between two marks, and the instance is removed', { skip: skipOutsideCi(process.getuid?.() === 0 && existsSync(path.join(TRACEFS, 'events', 'tcp', 'tcp_send_reset')) ? false : 'needs root and tcp:tcp_send_reset') }, async () => {
  const trace = await startKernelTrace('test');
  assert.ok(!('unavailable' in trace), 'unavailable' in trace ? trace.unavailable : '');
  if ('unavailable' in trace) return;
  try {
    assert.ok(listLabInstances().some((i) => i.name === trace.instance && i.pid === process.pid));
    // A port nothing listens on: bind one, close it, connect to it.
    const port = await new Promise<number>((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
    trace.mark('test start');
    const local = await new Promise<string>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.on('error', () => resolve(`127.0.0.1:${c.localPort ?? 0}`));
    });
    trace.mark('test end');
    const events = await trace.until('test end');
    const start = events.findIndex((e) => e.kind === 'mark' && e.text === 'test start');
    const end = events.findIndex((e) => e.kind === 'mark' && e.text === 'test end');
    assert.ok(start >= 0 && end > start, 'both marks, in order');
    const sent = events.slice(start, end).filter((e) => e.kind === 'send' && e.src === `127.0.0.1:${port}`);
    assert.equal(sent.length, 1, JSON.stringify(events));
    assert.deepEqual(sent[0]!.kind === 'send' && [sent[0]!.reason, sent[0]!.state], ['NO_SOCKET', 'UNKNOWN']);
    assert.ok(local.startsWith('127.0.0.1:'));
  } finally {
    const { lost } = await trace.stop();
    assert.equal(lost, 0);
  }
  assert.ok(!listLabInstances().some((i) => i.name === trace.instance), 'the instance is gone');
  await trace.stop(); // twice is fine
});

test('raw and text side by side: two instances see the same resets as the same events (the raw one reads trace_pipe_raw on this kernel), a dual-stack socket by its IPv4 addresses', { skip: skipOutsideCi(process.getuid?.() === 0 && existsSync(path.join(TRACEFS, 'events', 'tcp', 'tcp_send_reset')) ? false : 'needs root and tcp:tcp_send_reset') }, async () => {
  const raw = await startKernelTrace('cmp-raw');
  const text = await startKernelTrace('cmp-text', { text: true });
  try {
    assert.ok(!('unavailable' in raw) && !('unavailable' in text));
    if ('unavailable' in raw || 'unavailable' in text) return;
    assert.deepEqual([raw.mode, text.mode], ['raw', 'text']);
    const ports: number[] = [];
    for (const host of ['127.0.0.1', '::1']) {
      for (let i = 0; i < 3; i++) {
        const port = await new Promise<number>((resolve) => { const s = net.createServer().listen(0, host, () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
        ports.push(port);
        await new Promise<void>((resolve) => { net.connect(port, host).on('error', () => resolve()); });
      }
    }
    // A dual-stack listener (`::`, Node's default) reset by an IPv4 client: its socket logs
    // AF_INET6 with v4-mapped addresses; both readers give the IPv4 ones, as the packets show.
    const ds = net.createServer((s) => s.on('error', () => {}));
    await new Promise<void>((resolve) => ds.listen(0, '::', () => resolve()));
    const dsPort = (ds.address() as net.AddressInfo).port;
    const c = net.connect(dsPort, '127.0.0.1');
    await new Promise<void>((resolve) => c.on('connect', () => resolve()));
    await new Promise((r) => setTimeout(r, 50));
    const clientPort = c.localPort;
    c.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 100));
    ds.close();
    for (const t of [raw, text]) t.mark('cmp end');
    const [a, b] = await Promise.all([raw.until('cmp end'), text.until('cmp end')]);
    const dual = (events: KernelTraceEvent[]) => events.filter((e) => e.kind === 'receive' && e.local === `127.0.0.1:${dsPort}`).map((e) => e.kind === 'receive' && e.remote);
    assert.deepEqual(dual(a), [`127.0.0.1:${clientPort}`], JSON.stringify(a.filter((e) => e.kind === 'receive')));
    assert.deepEqual(dual(b), dual(a));
    const mine = (events: KernelTraceEvent[]) => events.filter((e) => e.kind !== 'mark' && ports.some((p) => (e.kind === 'send' ? e.src : e.remote).endsWith(`:${p}`)));
    const [ra, tb] = [mine(a), mine(b)];
    assert.equal(ra.length, 12, JSON.stringify(a)); // a send and a receive event per refused connect
    // comm: the raw reader names a pid the kernel's saved_cmdlines lacks from /proc (text: <...>);
    // ts: each instance's buffer stamps the event when it writes it there, a few µs apart.
    const same = (e: KernelTraceEvent) => ({ ...e, comm: '', ts: 0 });
    assert.deepEqual(ra.map(same), tb.map(same));
    ra.forEach((e, i) => assert.ok(Math.abs(e.ts - tb[i]!.ts) < 100e-6, `${e.ts} ${tb[i]!.ts}`));
    ra.forEach((e, i) => { const t = tb[i]!; if (e.kind !== 'mark' && t.kind !== 'mark' && t.comm !== '<...>') assert.equal(e.comm, t.comm); });
  } finally {
    for (const t of [raw, text]) if (!('unavailable' in t)) await t.stop();
  }
});

test('TracePool: two runs that overlap each get every event between their own marks, whichever ends first', { skip: skipOutsideCi(process.getuid?.() === 0 && existsSync(path.join(TRACEFS, 'events', 'tcp', 'tcp_send_reset')) ? false : 'needs root and tcp:tcp_send_reset') }, async () => {
  const trace = await startKernelTrace('pool');
  assert.ok(!('unavailable' in trace), 'unavailable' in trace ? trace.unavailable : '');
  if ('unavailable' in trace) return;
  const closedPort = () => new Promise<number>((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
  const refuse = (port: number) => new Promise<void>((resolve) => { net.connect(port, '127.0.0.1').on('error', () => resolve()); });
  const resetsFrom = (events: KernelTraceEvent[], port: number) => events.filter((e) => e.kind === 'send' && e.src === `127.0.0.1:${port}`).length;
  try {
    const pool = new TracePool(trace);
    const [a, b, c] = [await closedPort(), await closedPort(), await closedPort()];
    pool.begin('A start');
    await refuse(a);
    pool.begin('B start');
    await refuse(b);
    const ofB = await pool.end('B start', 'B end'); // B ends first: A is still open
    await refuse(c);
    const ofA = await pool.end('A start', 'A end');
    assert.deepEqual([resetsFrom(ofB, a), resetsFrom(ofB, b), resetsFrom(ofB, c)], [0, 1, 0], 'B: only what happened between its marks');
    assert.deepEqual([resetsFrom(ofA, a), resetsFrom(ofA, b), resetsFrom(ofA, c)], [1, 1, 1], 'A: everything since its start, although B drained first');
    assert.deepEqual([ofA[0], ofA.at(-1)].map((e) => e?.kind === 'mark' && e.text), ['A start', 'A end']);
    // A run that failed before its end mark lets go of the events it held.
    pool.begin('C start');
    pool.abandon('C start');
    pool.begin('D start');
    const ofD = await pool.end('D start', 'D end');
    assert.equal(ofD.filter((e) => e.kind === 'mark').map((e) => e.kind === 'mark' && e.text).join(','), 'D start,D end');
  } finally {
    await trace.stop();
  }
});
