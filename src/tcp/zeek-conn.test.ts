// Zeek's rules for history and conn_state (zeek-conn.ts), one scripted exchange each: the letters
// Zeek writes (^, T for payload only, G, W, repeated S/F/R), the states it ends in (RSTOS0 after a
// responder's bare ACK, SF kept by a RST after both FINs) and when one 4-tuple becomes several
// connections (a SYN after a REJ, the attempt timer, the close and inactivity timers).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame } from '../wire/decode.js';
import { TcpFlag } from '../wire/types.js';
import { ConnectionTracker, connState, Conversation } from './index.js';
import type { Connection } from './index.js';

function run(conv: Conversation): Connection[] {
  const done: Connection[] = [];
  const tracker = new ConnectionTracker({ onConnection: (c) => done.push(c) });
  let frame = 1;
  for (const f of conv.frames) {
    const d = decodeFrame(conv.linkType, f.data, f.data.length);
    assert.equal(d.kind, 'tcp');
    if (d.kind === 'tcp') tracker.push(frame++, f, d);
  }
  tracker.flush();
  return done.sort((a, b) => a.firstFrame - b.firstFrame);
}
const rows = (cs: Connection[]) => cs.map((c) => `${connState(c)} ${c.history}`);
const conv = (server = '192.0.2.7:8080') => new Conversation({ client: '10.9.0.1:40000', server });

test('T marks retransmitted payload only (update_last_seq); a repeated SYN or FIN is no letter', () => {
  const c = conv().syn('c').syn('c', { seqNumber: 1000 }).synAck('s').ack('c').data('c', 100)
    .data('c', 100, { seqNumber: 1001 }).fin('c').fin('c', { seqNumber: 1101 }).fin('s').ack('c');
  assert.deepEqual(rows(run(c)), ['SF ShADTFf']);
});

test('W: a zero window, unless it comes after the peer\'s FIN (update_window)', () => {
  const c = conv().handshake().data('c', 10).ack('s', { window: 0 }).fin('s').ack('c', { window: 0 }).fin('c').ack('s');
  assert.deepEqual(rows(run(c)), ['SF ShADawfF']);
});

test('G: an ACK for data never seen, once both sides are established (TCP_Reassembler::Gap), after the ACK\'s own letter', () => {
  const c = conv().handshake().data('c', 100).data('c', 100, { seqNumber: 1201 }).ack('s', { ackNumber: 1301 });
  assert.deepEqual(rows(run(c)), ['S1 ShADaG']);
});

test('^: a connection seen mid-stream from a likely server port is turned around at once', () => {
  const c = new Conversation({ client: '192.0.2.7:80', server: '10.9.0.1:40000' }).data('c', 100).data('s', 10).fin('c').fin('s');
  const [one] = run(c);
  assert.equal(one.orig.port, 40000);
  assert.deepEqual(rows([one]), ['SF ^dDfF']);
});

test('^h: a first SYN-ACK from another port keeps its sender as Zeek\'s originator until the first A or D', () => {
  const c = new Conversation({ client: '10.9.0.1:40000', server: '192.0.2.7:7777' }).synAck('s').ack('c').data('c', 5).fin('c').fin('s');
  assert.deepEqual(rows(run(c)), ['SF ^hADFf']);
  const scan = new Conversation({ client: '10.9.0.1:40000', server: '192.0.2.7:7777' }).synAck('s').segment('c', TcpFlag.RST);
  const [rej] = run(scan);
  assert.deepEqual(rows([rej]), ['REJ Hr'], 'no A or D: Zeek\'s originator stays the SYN-ACK\'s sender');
  assert.equal(rej.orig.port, 7777, 'and so is the report\'s');
  assert.deepEqual([rej.rsts.length, rej.rsts[0]!.fromOrig, rej.rsts[0]!.seg.fromOrig, rej.resp.rstFrames], [1, false, false, [2]]);
});

test('RSTOS0: a responder\'s bare ACK before any SYN-ACK does not make it active; SaFR is OTH', () => {
  assert.deepEqual(rows(run(conv().syn('c').ack('s').segment('c', TcpFlag.RST))), ['RSTOS0 SaR']);
  assert.deepEqual(rows(run(conv().syn('c').ack('s').fin('c').segment('c', TcpFlag.RST))), ['OTH SaFR']);
});

test('SF stays SF: a RST after both FINs changes no state (UpdateClosedState)', () => {
  assert.deepEqual(rows(run(conv().handshake().data('c', 10).fin('c').fin('s').activeRst('c'))), ['SF ShADFfR']);
});

test('a SYN repeated after a REJ is a connection of its own (IsReuse: the first was closed)', () => {
  const c = conv().syn('c').segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0 })
    .wait(0.5).syn('c', { seqNumber: 1000 }).segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0 });
  assert.deepEqual(rows(run(c)), ['REJ Sr', 'REJ Sr']);
});

test('an attempt unanswered for 5 s is over (AttemptTimer): what follows is another connection', () => {
  const c = conv().syn('c').wait(3).syn('c', { seqNumber: 1000 }).wait(3).syn('c', { seqNumber: 1000 }).synAck('s').ack('c');
  assert.deepEqual(rows(run(c)), ['S0 S', 'S1 ShA']);
});

test('5 s after a completed close, and 5 minutes inactive, the tuple starts a new connection', () => {
  const closed = conv().handshake().fin('c').fin('s').ack('c').wait(6).data('c', 10);
  assert.deepEqual(rows(run(closed)), ['SF ShAFf', 'OTH D']);
  const idle = conv().handshake().data('c', 10).wait(301).data('c', 10);
  assert.deepEqual(rows(run(idle)), ['S1 ShAD', 'OTH D']);
});
