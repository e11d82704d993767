import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { PcapWriter } from '../capture/writer.js';
import { Conversation } from '../tcp/index.js';
import { TcpFlag } from '../wire/types.js';
import { CAUSE_CODES, CAUSES } from './causes.js';
import { Explainer, explainCapture } from './engine.js';
import { hopDistance, hopEvidence } from './verdict.js';
import type { ConnectionReport } from './engine.js';

const C = '10.1.0.2:40000';
const S = '10.2.0.9:8080';

function explain(conv: Conversation): ConnectionReport[] {
  const out: ConnectionReport[] = [];
  const ex = new Explainer({ onConnection: (c) => out.push(c) });
  conv.frames.forEach((f, i) => ex.packet({
    frame: i + 1, tsSec: f.tsSec, tsNsec: f.tsNsec, linkType: conv.linkType, interfaceId: 0, data: f.data, origLen: f.data.length,
  }));
  ex.end();
  return out.sort((a, b) => a.firstFrame - b.firstFrame);
}

function only(conv: Conversation): ConnectionReport {
  const cs = explain(conv);
  assert.equal(cs.length, 1, `one connection, got ${cs.length}`);
  return cs[0]!;
}

test('every cause is documented', () => {
  for (const c of CAUSE_CODES) {
    assert.ok(CAUSES[c].meaning.length > 20, c);
    assert.ok(CAUSES[c].kernel.length > 0, c);
  }
  assert.deepEqual(CAUSE_CODES, ['refused', 'abort', 'reset-after-close', 'no-connection', 'timeout', 'middlebox', 'out-of-window', 'unexplained']);
});

test('refused: SYN answered by RST+ACK seq 0 ack ISN+1 (REJ)', () => {
  const conv = new Conversation({ client: C, server: S, clientIsn: 777 });
  conv.syn('c').segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: 778, window: 0 });
  const c = only(conv);
  assert.equal(c.connState, 'REJ');
  assert.equal(c.history, 'Sr');
  assert.equal(c.rsts.length, 1);
  const r = c.rsts[0]!;
  assert.equal(r.cause, 'refused');
  assert.equal(r.confidence, 'high');
  assert.equal(r.from, S);
  assert.equal(r.to, C);
  assert.equal(r.trigger, 1);
  assert.match(r.app.receiver, /ECONNREFUSED/);
});

test('refused: a SYN carrying data (TCP Fast Open) is answered with ack = ISN + SEG.LEN, high confidence (regression: ISN+1 was required)', () => {
  const conv = new Conversation({ client: C, server: S, clientIsn: 777 });
  conv.segment('c', TcpFlag.SYN, 40).segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: 777 + 1 + 40, window: 0 });
  const r = only(conv).rsts[0]!;
  assert.equal(r.cause, 'refused');
  assert.equal(r.confidence, 'high');
  assert.ok(r.evidence.some((e) => /ack = ISN\+41: .*tcp_v4_send_reset/.test(e)), r.evidence.join('\n'));
});

test('abort: RST+ACK at SND.NXT after unanswered data (close with unread data)', () => {
  const conv = new Conversation({ client: C, server: S });
  conv.handshake().data('c', 120).ack('s').activeRst('s');
  const c = only(conv);
  assert.equal(c.connState, 'RSTR');
  const r = c.rsts[0]!;
  assert.equal(r.cause, 'abort');
  assert.equal(r.form, 'active');
  assert.equal(r.confidence, 'high');
  assert.ok(r.evidence.some((e) => /unread/.test(e)), r.evidence.join('\n'));
});

test('reset-after-close: FIN from the server, then client data, then a bare RST', () => {
  const conv = new Conversation({ client: C, server: S });
  conv.handshake().fin('s').ack('c').data('c', 300).statelessRst('s');
  const c = only(conv);
  const r = c.rsts[0]!;
  assert.equal(r.cause, 'reset-after-close');
  assert.equal(r.form, 'stateless');
  assert.equal(r.trigger, 6);
  assert.match(r.app.receiver, /EPIPE|EOF/);
  assert.equal(c.history, 'ShAfDr');
});

test('no-connection: data to a host that lost the connection, bare RST seq = the data\'s ACK', () => {
  const conv = new Conversation({ client: C, server: S });
  conv.handshake().data('c', 10).ack('s').wait(30).data('c', 50).statelessRst('s');
  const r = only(conv).rsts[0]!;
  assert.equal(r.cause, 'no-connection');
  assert.equal(r.confidence, 'high');
  assert.match(r.app.receiver, /ECONNRESET/);
});

test('no-connection also for the segments after a first reset', () => {
  const conv = new Conversation({ client: C, server: S });
  conv.handshake().data('c', 10).activeRst('s').data('c', 10).statelessRst('s');
  const rs = only(conv).rsts;
  assert.deepEqual(rs.map((r) => r.cause), ['abort', 'no-connection']);
  assert.ok(rs[1]!.evidence.some((e) => /already reset/.test(e)));
});

test('timeout: keepalive probes unanswered, then RST+ACK from the prober', () => {
  const conv = new Conversation({ client: C, server: S });
  conv.handshake().data('c', 5).ack('s').wait(1);
  const probeSeq = conv.sndNxt('c') - 1;
  conv.ack('c', { seqNumber: probeSeq }).wait(1).ack('c', { seqNumber: probeSeq }).wait(1).ack('c', { seqNumber: probeSeq }).wait(1).activeRst('c');
  const c = only(conv);
  assert.equal(c.keepalives, 3);
  const r = c.rsts[0]!;
  assert.equal(r.cause, 'timeout');
  assert.equal(r.sender, 'orig');
  assert.match(r.app.sender ?? '', /ETIMEDOUT/);
});

test('timeout: retransmissions unanswered then RST (BSD behaviour)', () => {
  const conv = new Conversation({ client: C, server: S });
  conv.handshake();
  const seq = conv.sndNxt('c');
  conv.data('c', 100);
  for (let i = 0; i < 4; i++) conv.wait(0.2 * 2 ** i).data('c', 100, { seqNumber: seq });
  conv.activeRst('c');
  const c = only(conv);
  assert.equal(c.retransmissions, 4);
  assert.ok(c.history.includes('T'));
  assert.equal(c.rsts[0]!.cause, 'timeout');
});

test('middlebox: RST whose TTL differs from the server\'s own packets', () => {
  const conv = new Conversation({ client: C, server: S, serverTtl: 63 });
  conv.handshake().data('c', 40).statelessRst('s', { ttl: 64 }).data('s', 10);
  const r = only(conv).rsts[0]!;
  assert.equal(r.cause, 'middlebox');
  assert.equal(r.confidence, 'high');
  assert.ok(r.evidence.some((e) => /kept sending/.test(e)), r.evidence.join('\n'));
});

test('hop distance: from the inferred initial TTL (32/64/128/255), not the raw difference', () => {
  assert.deepEqual([1, 32, 33, 52, 64, 65, 116, 128, 129, 250, 255].map((t) => hopDistance(t)),
    [{ initial: 32, hops: 31 }, { initial: 32, hops: 0 }, { initial: 64, hops: 31 }, { initial: 64, hops: 12 },
      { initial: 64, hops: 0 }, { initial: 128, hops: 63 }, { initial: 128, hops: 12 }, { initial: 128, hops: 0 },
      { initial: 255, hops: 126 }, { initial: 255, hops: 5 }, { initial: 255, hops: 0 }]);
  // A Windows server 12 hops away (TTL 116) and a RST from a router 5 hops away (TTL 250): 7 hops
  // closer, not 134; the same stack one hop farther; two stacks at the same distance.
  assert.match(hopEvidence(116, 250), /^it was built 7 hop\(s\) closer to the capture point \(initial TTL 128 for the endpoint's packets, 255 for the RST: another stack built it; the endpoint's packets came 12 hop\(s\), the RST 5\)$/);
  assert.match(hopEvidence(63, 62), /^it was built 1 hop\(s\) farther from the capture point \(initial TTL 64 for both;/);
  assert.match(hopEvidence(116, 52), /^it was built as many hops from the capture point as the endpoint's packets \(initial TTL 128 for the endpoint's packets, 64 for the RST/);
});

test('middlebox: a RST from a device with another initial TTL is placed by hops (the Windows server\'s TTL 116, the RST\'s 250)', () => {
  const conv = new Conversation({ client: C, server: S, serverTtl: 116 });
  conv.handshake().data('c', 40).statelessRst('s', { ttl: 250 });
  const r = only(conv).rsts[0]!;
  assert.equal(r.cause, 'middlebox');
  assert.ok(r.evidence.some((e) => /TTL 250: it was built 7 hop\(s\) closer to the capture point/.test(e)), r.evidence.join('\n'));
});

test('middlebox: the frames the endpoint kept sending are listed also past the ladder\'s bounded list (regression: they were read from it)', () => {
  const conv = new Conversation({ client: C, server: S, serverTtl: 63 });
  conv.handshake();
  for (let i = 0; i < 40; i++) conv.data('s', 100).ack('c');
  conv.data('c', 40).statelessRst('s', { ttl: 64 });
  for (let i = 0; i < 40; i++) conv.data('s', 100).ack('c');
  const rstFrame = 3 + 80 + 1 + 1; // handshake, 40 × (data, ACK), the client's data, then the RST
  for (const segments of [true, false]) {
    const out: ConnectionReport[] = [];
    const ex = new Explainer({ onConnection: (c) => out.push(c) }, { segments });
    conv.frames.forEach((f, i) => ex.packet({
      frame: i + 1, tsSec: f.tsSec, tsNsec: f.tsNsec, linkType: conv.linkType, interfaceId: 0, data: f.data, origLen: f.data.length,
    }));
    ex.end();
    const r = out[0]!.rsts[0]!;
    assert.equal(r.cause, 'middlebox');
    assert.equal(r.frame, rstFrame);
    const kept = r.evidence.find((e) => /kept sending/.test(e));
    assert.ok(kept?.includes(`frames ${rstFrame + 1}, ${rstFrame + 3}, ${rstFrame + 5}, ${rstFrame + 7}, ${rstFrame + 9})`), `${segments}: ${kept}`);
    assert.equal(out[0]!.segments.length, segments ? 64 : 0);
  }
});

test('out-of-window: RST in the window but not at RCV.NXT, challenge ACK follows', () => {
  const conv = new Conversation({ client: C, server: S });
  conv.handshake().data('s', 100).ack('c');
  conv.segment('s', TcpFlag.RST, 0, { seqNumber: conv.sndNxt('s') + 500 }).ack('c');
  const r = only(conv).rsts[0]!;
  assert.equal(r.cause, 'out-of-window');
  assert.equal(r.confidence, 'high');
  assert.ok(r.evidence.some((e) => /challenge ACK/.test(e)));
  assert.match(r.app.receiver, /ignored/);
});

test('out-of-window: RST far outside the window is dropped silently', () => {
  const conv = new Conversation({ client: C, server: S });
  conv.handshake().data('s', 100).ack('c');
  conv.segment('s', TcpFlag.RST, 0, { seqNumber: conv.sndNxt('s') + 0x4000_0000 });
  const r = only(conv).rsts[0]!;
  assert.equal(r.cause, 'out-of-window');
  assert.match(r.summary, /outside/);
});

test('conn_state and history for normal and half-open connections', () => {
  const sf = new Conversation({ client: C, server: S });
  sf.handshake().data('c', 10).data('s', 20).fin('c').fin('s').ack('c');
  const c = only(sf);
  assert.equal(c.connState, 'SF');
  assert.equal(c.history, 'ShADdFf');
  assert.equal(c.abnormal, false);
  assert.equal(c.origBytes, 10);
  assert.equal(c.respBytes, 20);

  const s0 = new Conversation({ client: C, server: S });
  s0.syn('c').wait(1).syn('c', { seqNumber: 1000 }).wait(2).syn('c', { seqNumber: 1000 });
  const c0 = only(s0);
  assert.equal(c0.connState, 'S0');
  assert.equal(c0.abnormal, true);

  const s1 = new Conversation({ client: C, server: S });
  s1.handshake().data('c', 1);
  assert.equal(only(s1).connState, 'S1');
});

test('port reuse: a new SYN after a reset starts a new connection', () => {
  const conv = new Conversation({ client: C, server: S, clientIsn: 1000 });
  conv.syn('c').segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: 1001 });
  conv.wait(1).segment('c', TcpFlag.SYN, 0, { seqNumber: 90000 });
  const cs = explain(conv);
  assert.equal(cs.length, 2);
  assert.equal(cs[0]!.connState, 'REJ');
  assert.equal(cs[1]!.connState, 'S0');
});

test('sequence numbers near 2^32 wrap without confusing the verdicts', () => {
  const conv = new Conversation({ client: C, server: S, clientIsn: 0xffff_ff00, serverIsn: 0xffff_fff0 });
  conv.handshake().data('c', 400).data('s', 300).fin('s').ack('c').data('c', 10).statelessRst('s');
  const c = only(conv);
  assert.equal(c.rsts[0]!.cause, 'reset-after-close');
  assert.equal(c.retransmissions, 0);
});

test('IPv6 connections are reported with bracketed addresses', () => {
  const conv = new Conversation({ client: '[2001:db8::2]:40000', server: '[2001:db8::9]:443', version: 6 });
  conv.syn('c').segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: 1001 });
  const c = only(conv);
  assert.equal(c.orig, '[2001:db8::2]:40000');
  assert.equal(c.rsts[0]!.cause, 'refused');
});

test('explainCapture reads a pcap stream end to end', async () => {
  const conv = new Conversation({ client: C, server: S });
  conv.handshake().fin('s').ack('c').data('c', 30).statelessRst('s');
  const w = new PcapWriter({ linkType: conv.linkType });
  const bytes = Buffer.concat([w.header(), ...conv.frames.map((f) => w.record(f.tsSec, f.tsNsec, f.data))]);
  const res = await explainCapture(Readable.from([bytes]));
  assert.equal(res.summary.packets, 7);
  assert.equal(res.summary.rsts, 1);
  assert.equal(res.summary.byCause['reset-after-close'], 1);
  assert.deepEqual(res.rsts.map((r) => r.frame), [7]);
});

test('normal: false builds only the connections that ended abnormally; the summary is the same', () => {
  const frames: Array<{ tsSec: number; tsNsec: number; data: Uint8Array; linkType: number }> = [];
  for (let i = 0; i < 30; i++) {
    const conv = new Conversation({ client: `10.1.0.${i + 2}:40000`, server: S, start: 1_700_000_000 + i });
    conv.handshake().data('c', 20).data('s', 200);
    if (i % 3 === 0) conv.activeRst('s');
    else if (i % 3 === 1) conv.fin('c').fin('s').ack('c');
    // else: left open (S1), not abnormal
    for (const f of conv.frames) frames.push({ ...f, linkType: conv.linkType });
  }
  frames.sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
  const run = (opts: { normal?: boolean; segments?: boolean }) => {
    const out: ConnectionReport[] = [];
    const ex = new Explainer({ onConnection: (c) => out.push(c) }, opts);
    frames.forEach((f, i) => ex.packet({ frame: i + 1, tsSec: f.tsSec, tsNsec: f.tsNsec, linkType: f.linkType, interfaceId: 0, data: f.data, origLen: f.data.length }));
    return { out, summary: ex.end() };
  };
  const all = run({});
  const abnormal = run({ normal: false, segments: false });
  assert.equal(all.out.length, 30);
  assert.deepEqual(abnormal.out.map((c) => c.id), all.out.filter((c) => c.abnormal).map((c) => c.id));
  assert.equal(abnormal.out.length, 10);
  assert.deepEqual(abnormal.summary, all.summary);
  assert.deepEqual(abnormal.out.map((c) => ({ ...c, segments: [], segmentsDropped: 0 })), all.out.filter((c) => c.abnormal).map((c) => ({ ...c, segments: [], segmentsDropped: 0 })));
});

test('Linux reasons: what a Linux sender logs for each finding, one when only one fits, none for a sender that is not Linux (causes.ts)', () => {
  const reasons = (conv: Conversation) => only(conv).rsts.map((r) => [r.cause, r.linuxReason, r.linuxReasons.join(',')]);
  const refused = new Conversation({ client: C, server: S, clientIsn: 777 });
  refused.syn('c').segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: 778, window: 0 });
  assert.deepEqual(reasons(refused), [['refused', 'NO_SOCKET', 'NO_SOCKET']]);
  // The same from a Windows host (TTL 128): no Linux reason.
  const windows = new Conversation({ client: C, server: S, clientIsn: 777, serverTtl: 128 });
  windows.syn('c').segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: 778, window: 0 });
  assert.deepEqual(reasons(windows), [['refused', null, '']]);
  // Data after our FIN, the FIN not acknowledged yet (FIN-WAIT-1); then acknowledged.
  const finWait1 = new Conversation({ client: C, server: S });
  finWait1.handshake().fin('s').data('c', 300, { ackNumber: finWait1.sndNxt('s') - 1 }).statelessRst('s');
  assert.deepEqual(reasons(finWait1), [['reset-after-close', 'TCP_ABORT_ON_DATA', 'TCP_ABORT_ON_DATA']]);
  const finAcked = new Conversation({ client: C, server: S });
  finAcked.handshake().fin('s').ack('c').data('c', 300).statelessRst('s');
  assert.deepEqual(reasons(finAcked), [['reset-after-close', null, 'TCP_TIMEWAIT_SOCKET,TCP_ABORT_ON_DATA,NO_SOCKET']]);
  // Keepalive exhaustion; an abort with nothing sent by the peer (no unread data: not ABORT_ON_CLOSE).
  const keepalive = new Conversation({ client: C, server: S });
  keepalive.handshake().data('c', 5).ack('s').wait(1);
  const probe = keepalive.sndNxt('c') - 1;
  keepalive.ack('c', { seqNumber: probe }).wait(1).ack('c', { seqNumber: probe }).wait(1).activeRst('c');
  assert.deepEqual(reasons(keepalive), [['timeout', 'TCP_KEEPALIVE_TIMEOUT', 'TCP_KEEPALIVE_TIMEOUT']]);
  const linger = new Conversation({ client: C, server: S });
  linger.handshake().activeRst('s');
  assert.deepEqual(reasons(linger), [['abort', null, 'TCP_STATE,TCP_DISCONNECT_WITH_DATA,TCP_ABORT_ON_MEMORY']]);
  // A socket that has reset is gone: the next RST is NO_SOCKET (or a listener's TCP_FLAGS).
  const twice = new Conversation({ client: C, server: S });
  twice.handshake().data('c', 10).activeRst('s').data('c', 10).statelessRst('s');
  assert.deepEqual(reasons(twice).map((r) => r[2]), ['TCP_ABORT_ON_CLOSE,TCP_STATE,TCP_DISCONNECT_WITH_DATA,TCP_ABORT_ON_MEMORY', 'NO_SOCKET,TCP_FLAGS']);
  // The handshake's last ACK refused (accept queue full with tcp_abort_on_overflow).
  const overflow = new Conversation({ client: C, server: S });
  overflow.handshake().statelessRst('s');
  assert.deepEqual(reasons(overflow).map((r) => r[2]), ['INVALID_SYN,TCP_FLAGS,NO_SOCKET']);
});
