// The joiner on made-up events: one record per reset, whichever of its two views comes first.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionReport, RstVerdict } from '../explain/index.js';
import { NO_PROFILE } from '../explain/profile.js';
import type { KernelReceive, KernelSend } from '../lab/kernel-trace.js';
import { CARRY_SEC, KERNEL_HOLD_SEC, OWNER_HOLD_SEC, PACKET_HOLD_SEC, WatchJoiner } from './join.js';
import type { JoinOptions, WatchRecord } from './join.js';

const LOCAL = '10.0.0.1';
const SERVER = `${LOCAL}:8080`;
const PEER = '192.0.2.7:50000';

function verdict(from: string, to: string, time: number, over: Partial<RstVerdict> = {}): RstVerdict {
  return {
    frame: 5, time, connection: 1, from, to, sender: 'resp', cause: 'abort', confidence: 'high', form: 'active',
    summary: `${from} aborted`, evidence: [], trigger: 4, app: { receiver: 'ECONNRESET' },
    linuxReasons: ['TCP_ABORT_ON_CLOSE', 'TCP_STATE'], linuxReason: null, senderProfile: NO_PROFILE, ...over,
  };
}

function conn(start: number): ConnectionReport {
  return {
    id: 1, orig: PEER, resp: SERVER, origAddr: '192.0.2.7', respAddr: LOCAL, respPort: 8080, ipVersion: 4, firstFrame: 1, lastFrame: 5, start, duration: 1, history: 'ShADr', connState: 'RSTR',
    origPackets: 3, respPackets: 2, origBytes: 10, respBytes: 0, retransmissions: 0, keepalives: 0, zeroWindows: 0, abnormal: true,
    rsts: [], profiles: { orig: NO_PROFILE, resp: NO_PROFILE }, anomalies: {}, segments: [], segmentsDropped: 0,
  };
}

const send = (src: string, dst: string, reason: string, over: Partial<KernelSend> = {}): KernelSend => ({
  kind: 'send', ts: 0, cpu: 0, pid: 4711, comm: 'java', inIrq: false, src, dst, state: 'TCP_CLOSE', reason, ...over,
});
const receive = (local: string, remote: string): KernelReceive => ({ kind: 'receive', ts: 0, cpu: 0, pid: 0, comm: '<idle>', inIrq: true, local, remote, cookie: 1 });

function joiner(over: Partial<JoinOptions> = {}): { j: WatchJoiner; out: WatchRecord[] } {
  const out: WatchRecord[] = [];
  const j = new WatchJoiner({ isLocal: (a) => a === LOCAL, kernelWatched: true, emit: (r) => out.push(r), ...over });
  return { j, out };
}

test('this host\'s RST: the send event and the packet become one record, in either order, with the closer\'s process', () => {
  for (const kernelFirst of [true, false]) {
    const { j, out } = joiner();
    const v = verdict(SERVER, PEER, 100.0);
    if (kernelFirst) j.kernel(send(SERVER, PEER, 'TCP_ABORT_ON_CLOSE'), 100.001, 100.01);
    j.packet(v, conn(99), 100.3);
    if (!kernelFirst) j.kernel(send(SERVER, PEER, 'TCP_ABORT_ON_CLOSE'), 100.001, 100.31);
    j.tick(100.32);
    assert.equal(out.length, 1, `kernel first: ${kernelFirst}`);
    const r = out[0]!;
    assert.equal(r.sender, 'this-kernel');
    assert.deepEqual(r.kernel, { reason: 'TCP_ABORT_ON_CLOSE', state: 'TCP_CLOSE' });
    assert.equal(r.cause, 'abort');
    assert.equal(r.agrees, true);
    assert.deepEqual(r.process, { pid: 4711, comm: 'java', via: 'event' });
    assert.equal(r.connection?.ageSec, 1);
    j.end();
    assert.equal(out.length, 1, 'emitted once');
  }
});

test('the kernel\'s reason outside the explainer\'s: agrees false; a softirq event names no process, the socket table does', () => {
  const { j, out } = joiner({ owner: (l) => (l === SERVER ? { owner: { pid: 99, comm: 'nginx' }, via: 'listener' } : null) });
  j.kernel(send(SERVER, PEER, 'TCP_KEEPALIVE_TIMEOUT', { inIrq: true, comm: 'swapper/0', pid: 0 }), 50, 50);
  j.packet(verdict(SERVER, PEER, 50), conn(1), 50.2);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.agrees, false);
  assert.deepEqual(out[0]!.process, { pid: 99, comm: 'nginx', via: 'listener' });
});

test('a RST from the peer accepted by a local socket: one record, accepted, the local process', () => {
  const { j, out } = joiner({ owner: (l, r) => (l === SERVER && r === PEER ? { owner: { pid: 7, comm: 'node' }, via: 'socket' } : null) });
  j.packet(verdict(PEER, SERVER, 10, { cause: 'middlebox', linuxReasons: [] }), conn(9), 10.2);
  assert.equal(out.length, 0, 'waits for the receive event');
  j.kernel(receive(SERVER, PEER), 10.0001, 10.25);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.sender, 'remote');
  assert.equal(out[0]!.accepted, true);
  assert.equal(out[0]!.kernel, null);
  assert.deepEqual(out[0]!.process, { pid: 7, comm: 'node', via: 'socket' });
});

test('a RST from this host\'s address that its TCP did not send (a firewall REJECT): not-this-kernel, after the hold', () => {
  const { j, out } = joiner();
  j.packet(verdict(SERVER, PEER, 20, { cause: 'middlebox', linuxReasons: [] }), conn(19), 20.2);
  j.tick(20.2 + PACKET_HOLD_SEC / 2);
  assert.equal(out.length, 0);
  j.tick(20.2 + PACKET_HOLD_SEC);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.sender, 'not-this-kernel');
  assert.equal(out[0]!.agrees, null);
});

test('a send event the packets never showed: the kernel\'s record alone after its hold; events far apart in time do not join', () => {
  const { j, out } = joiner();
  j.kernel(send(SERVER, PEER, 'NO_SOCKET'), 30, 30);
  j.packet(verdict(SERVER, PEER, 31, { cause: 'refused' }), conn(31), 31.2); // a second later: another RST
  j.tick(30 + KERNEL_HOLD_SEC);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.cause, null);
  assert.equal(out[0]!.kernel?.reason, 'NO_SOCKET');
  j.end();
  assert.equal(out.length, 2);
  assert.equal(out[1]!.sender, 'not-this-kernel');
});

test('without the kernel: each packet RST at once, its sender unknown or remote', () => {
  const { j, out } = joiner({ kernelWatched: false });
  j.packet(verdict(SERVER, PEER, 1), conn(0), 1.2);
  j.packet(verdict(PEER, SERVER, 2), conn(0), 2.2);
  assert.deepEqual(out.map((r) => [r.sender, r.accepted]), [['unknown', null], ['remote', null]]);
});

test('without packets: a kernel event at the end of its read; one whose socket owner is not known yet, in softirq, waits OWNER_HOLD_SEC for it', () => {
  let known = false;
  const { j, out } = joiner({ packetsWatched: false, owner: (l, r) => (known && l === SERVER && r === PEER ? { owner: { pid: 7, comm: 'node' }, via: 'socket' } : null) });
  j.kernel(send(SERVER, PEER, 'NO_SOCKET', { state: 'UNKNOWN', inIrq: true }), 1, 1); // no socket: nobody to wait for
  j.kernel(send(SERVER, PEER, 'TCP_ABORT_ON_CLOSE'), 1, 1); // process context: the closer is named
  j.flushKernel();
  assert.deepEqual(out.map((r) => [r.kernel?.reason, r.process?.via ?? null]), [['NO_SOCKET', null], ['TCP_ABORT_ON_CLOSE', 'event']]);
  j.kernel(send(SERVER, PEER, 'TCP_KEEPALIVE_TIMEOUT', { inIrq: true, pid: 0, comm: '<idle>' }), 2, 2);
  j.kernel(receive(SERVER, PEER), 2, 2);
  j.tick(2 + OWNER_HOLD_SEC / 2);
  assert.equal(out.length, 2, 'both wait for the owner');
  known = true;
  j.tick(2 + OWNER_HOLD_SEC + 0.01);
  assert.deepEqual(out.slice(2).map((r) => [r.sender, r.kernel?.reason ?? null, r.process?.comm]), [['this-kernel', 'TCP_KEEPALIVE_TIMEOUT', 'node'], ['unknown', null, 'node']]);
  j.kernel(send(SERVER, PEER, 'TCP_KEEPALIVE_TIMEOUT', { inIrq: true, pid: 0, comm: '<idle>' }), 3, 3); // known now: with its read
  j.flushKernel();
  assert.equal(out.length, 5);
});

test('a RST from one local socket to another (loopback, or namespaces of one kernel): its send and receive events are one record, accepted, with or without its packet', () => {
  const CLIENT = `${LOCAL}:51000`;
  // Without packets: the events of one read are emitted at its end, the send joined with its receive.
  const { j, out } = joiner({ packetsWatched: false });
  j.kernel(send(SERVER, CLIENT, 'NO_SOCKET', { state: 'UNKNOWN' }), 100.0, 100.0);
  j.kernel(receive(CLIENT, SERVER), 100.00002, 100.0);
  j.kernel(send(SERVER, `${LOCAL}:51001`, 'NO_SOCKET', { state: 'UNKNOWN' }), 100.1, 100.1);
  assert.equal(out.length, 0, 'held to the end of the read');
  j.flushKernel();
  assert.deepEqual(out.map((r) => [r.from, r.to, r.sender, r.kernel?.reason, r.accepted]), [[SERVER, CLIENT, 'this-kernel', 'NO_SOCKET', true]]);
  // The second send came in the read's last CARRY_SEC, to a local address: it waits for the next read.
  j.tick(100.1 + CARRY_SEC / 2);
  assert.equal(out.length, 1, 'carried to the next read');
  j.tick(100.1 + CARRY_SEC + 0.001);
  assert.deepEqual(out.slice(1).map((r) => [r.from, r.to, r.sender, r.kernel?.reason, r.accepted]), [[SERVER, `${LOCAL}:51001`, 'this-kernel', 'NO_SOCKET', null]]);
  // Between two namespaces the receive event may come in the next read: still one record.
  j.kernel(send(SERVER, `${LOCAL}:51002`, 'TCP_ABORT_ON_CLOSE'), 120.0, 120.001);
  j.flushKernel();
  j.kernel(receive(`${LOCAL}:51002`, SERVER), 120.002, 120.05);
  j.flushKernel();
  assert.deepEqual(out.slice(2).map((r) => [r.to, r.sender, r.accepted]), [[`${LOCAL}:51002`, 'this-kernel', true]]);
  // Counted in the kernel (kernel-count.ts): 5 resets to a closed port, their peer's port 0, and
  // 3 receive events of them: one record of 3 accepted and one of 2.
  j.kernel({ ...send(SERVER, `${LOCAL}:0`, 'NO_SOCKET', { state: 'UNKNOWN', inIrq: true }), count: 5 }, 130.0, 130.1);
  for (const p of [52000, 52001, 52002]) j.kernel({ ...receive(`${LOCAL}:${p}`, SERVER), count: 1 }, 130.0, 130.1);
  j.flushKernel();
  assert.deepEqual(out.slice(3).map((r) => [r.to, r.accepted, r.count]), [[`${LOCAL}:0`, true, 3], [`${LOCAL}:0`, null, 2]]);
  // The client's socket already gone from the socket table (its owner unknown): still one record.
  const gone = joiner({ packetsWatched: false, owner: () => null });
  gone.j.kernel(send(SERVER, CLIENT, 'NO_SOCKET', { state: 'UNKNOWN', inIrq: true }), 150.0, 150.0);
  gone.j.kernel(receive(CLIENT, SERVER), 150.00002, 150.0);
  gone.j.flushKernel();
  gone.j.tick(150.0 + OWNER_HOLD_SEC + 0.01);
  assert.deepEqual(gone.out.map((r) => [r.sender, r.accepted]), [['this-kernel', true]]);
  // With packets: send, receive and packet, in that order, are one record too.
  const w = joiner();
  w.j.kernel(send(SERVER, CLIENT, 'TCP_ABORT_ON_CLOSE'), 200.0, 200.0);
  w.j.kernel(receive(CLIENT, SERVER), 200.00002, 200.0);
  w.j.packet(verdict(SERVER, CLIENT, 200.0), conn(199), 200.3);
  w.j.tick(200.3 + KERNEL_HOLD_SEC + PACKET_HOLD_SEC);
  assert.deepEqual(w.out.map((r) => [r.sender, r.kernel?.reason, r.accepted, r.cause]), [['this-kernel', 'TCP_ABORT_ON_CLOSE', true, 'abort']]);
});

test('without packets: a receive event of a socket outside the watched host (another namespace of this kernel) marks its send accepted, and alone is no record', () => {
  const OTHER = '10.9.9.9:40000'; // not an address of the watched host
  const { j, out } = joiner({ packetsWatched: false });
  j.kernel(send(SERVER, OTHER, 'TCP_ABORT_ON_CLOSE'), 10.0, 10.1);
  j.kernel(receive(OTHER, SERVER), 10.00003, 10.1);
  j.flushKernel();
  assert.deepEqual(out.map((r) => [r.to, r.sender, r.accepted]), [[OTHER, 'this-kernel', true]]);
  // Its send already emitted in an earlier read: the receive alone is dropped, not a record.
  j.kernel(receive(OTHER, SERVER), 11.0, 11.1);
  j.flushKernel();
  j.tick(11.1 + OWNER_HOLD_SEC + 0.01);
  assert.equal(out.length, 1);
});
