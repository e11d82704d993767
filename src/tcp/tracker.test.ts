import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame } from '../wire/decode.js';
import { TcpFlag } from '../wire/types.js';
import { ConnectionTracker, Conversation, DEFAULT_CLOSED_LINGER_SEC } from './index.js';
import type { Connection } from './index.js';

/** Feed a conversation's frames (numbered from `first`) to a tracker; returns the next frame number. */
function feed(tracker: ConnectionTracker, conv: Conversation, first = 1, after?: () => void): number {
  let frame = first;
  for (const f of conv.frames) {
    const d = decodeFrame(conv.linkType, f.data, f.data.length);
    assert.equal(d.kind, 'tcp');
    if (d.kind !== 'tcp') continue;
    tracker.push(frame++, f, d);
    after?.();
  }
  return frame;
}

test('memory stays bounded: many short connections keep `alive` flat, however long the stream', () => {
  const done: Connection[] = [];
  const tracker = new ConnectionTracker({ onConnection: (c) => done.push(c) });
  const total = 3000;
  const spacing = 0.1; // one new connection every 100 ms of capture time: 300 s in all
  let frame = 1;
  let maxAlive = 0;
  const maxAliveAt: number[] = [];
  for (let i = 0; i < total; i++) {
    const conv = new Conversation({
      client: `10.0.${(i >> 8) & 0xff}.${i & 0xff}:${20000 + (i % 30000)}`, server: '192.0.2.80:443',
      start: 1_700_000_000 + i * spacing, clientIsn: i * 7919,
    });
    conv.handshake().data('c', 100).data('s', 1000);
    // Half close normally (FIN both ways), the others end in a reset: both count as ended.
    if (i % 2) conv.fin('c').fin('s').ack('c');
    else conv.activeRst('s');
    frame = feed(tracker, conv, frame, () => { maxAlive = Math.max(maxAlive, tracker.alive); });
    if (i % 500 === 499) maxAliveAt.push(maxAlive);
  }
  // Ended connections live at most linger + the 10 s sweep interval: about 150 of them here.
  const bound = Math.ceil((DEFAULT_CLOSED_LINGER_SEC + 10) / spacing) + 10;
  assert.ok(maxAlive <= bound, `at most ${bound} connections held, saw ${maxAlive}`);
  // Flat: the peak after 3000 connections is (about) the peak after 500.
  assert.ok(maxAliveAt[maxAliveAt.length - 1]! <= maxAliveAt[0]! + 5, `peaks after 500, 1000, …: ${maxAliveAt.join(', ')}`);
  assert.ok(done.length >= total - bound, 'connections are reported while the stream goes on');
  tracker.flush();
  assert.equal(tracker.alive, 0);
  assert.equal(done.length, total);
  assert.deepEqual(new Set(done.map((c) => c.id)).size, total);
  for (const c of done) {
    assert.equal(c.orig.packets + c.resp.packets, c.rsts.length ? 6 : 8);
  }
});

test('thousands of connections open at once each keep their own state (the IPv4 table grows under them)', () => {
  const done: Connection[] = [];
  const tracker = new ConnectionTracker({ onConnection: (c) => done.push(c) });
  const n = 4000;
  const frames: Array<{ tsSec: number; tsNsec: number; data: Uint8Array; linkType: number; i: number }> = [];
  for (let i = 0; i < n; i++) {
    const conv = new Conversation({
      client: `10.3.${i >> 8}.${i & 0xff}:${30000 + i}`, server: `192.0.2.${i % 7}:443`,
      start: 1_700_000_000 + i * 1e-6, clientIsn: i * 104729,
    });
    // Every connection is still open when the last one starts; each sends its own amount.
    conv.handshake().wait(0.02).data('c', 1 + (i % 50)).data('s', 100 + i).fin('c').fin('s').ack('c');
    for (const f of conv.frames) frames.push({ ...f, linkType: conv.linkType, i });
  }
  frames.sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec || a.i - b.i);
  let frame = 1;
  let peak = 0;
  for (const f of frames) {
    const d = decodeFrame(f.linkType, f.data, f.data.length);
    assert.equal(d.kind, 'tcp');
    if (d.kind !== 'tcp') continue;
    tracker.push(frame++, f, d);
    peak = Math.max(peak, tracker.alive);
  }
  tracker.flush();
  assert.equal(peak, n, 'all open at once (far more than the table\'s first 1024 slots)');
  assert.equal(done.length, n);
  for (const c of done) {
    const i = c.orig.port - 30000;
    assert.equal(c.orig.addr, `10.3.${i >> 8}.${i & 0xff}`);
    assert.equal(c.history, 'ShADdFf', `connection ${i}`);
    assert.equal(c.orig.bytes, 1 + (i % 50));
    assert.equal(c.resp.bytes, 100 + i);
    assert.equal(c.orig.packets + c.resp.packets, 8);
  }
});

test('segments after a RST join the connection within the linger; later ones start a new connection', () => {
  const done: Connection[] = [];
  const tracker = new ConnectionTracker({ onConnection: (c) => done.push(c) });
  const conv = new Conversation({ client: '10.1.0.2:40000', server: '10.2.0.9:8080' });
  conv.handshake().data('c', 120).activeRst('s');
  conv.wait(DEFAULT_CLOSED_LINGER_SEC - 1).data('c', 50); // a straggler: still this connection
  conv.wait(DEFAULT_CLOSED_LINGER_SEC + 11).data('c', 60); // long after: the RST'd connection is gone
  feed(tracker, conv);
  tracker.flush();
  assert.equal(done.length, 2);
  const [first, second] = done.sort((a, b) => a.firstFrame - b.firstFrame);
  assert.equal(first!.history, 'ShADr');
  assert.equal(first!.rsts.length, 1);
  assert.deepEqual(first!.rsts[0]!.after.map((s) => s.frame), [6], 'the straggler is part of the RST\'s evidence');
  assert.equal(first!.lastFrame, 6);
  assert.equal(second!.firstFrame, 7);
  assert.equal(second!.anomalies.get('midstream'), 1);
});

test('a challenge ACK after a RST is recorded as what followed it', () => {
  const done: Connection[] = [];
  const tracker = new ConnectionTracker({ onConnection: (c) => done.push(c) });
  const conv = new Conversation({ client: '10.1.0.2:40001', server: '10.2.0.9:8080' });
  conv.handshake().data('c', 10).segment('s', TcpFlag.RST, 0, { seqNumber: 123456 }).ack('c');
  feed(tracker, conv);
  tracker.flush();
  const r = done[0]!.rsts[0]!;
  assert.equal(r.after.length, 1);
  assert.equal(r.after[0]!.frame, 6);
  assert.equal(r.trigger?.frame, 4);
  assert.equal(r.sender.lastSeg?.frame, 2, 'the sender\'s last segment before the RST');
  // TTL counts are the connection's (the RST context holds none): SYN, ACK, data and the ACK after.
  assert.equal(done[0]!.orig.ttls.get(64), 4);
});

test('bounded segment list: the first half and the latest, with the count of those left out', () => {
  const done: Connection[] = [];
  const tracker = new ConnectionTracker({ onConnection: (c) => done.push(c), maxSegments: 8 });
  const conv = new Conversation({ client: '10.1.0.2:40002', server: '10.2.0.9:8080' });
  conv.handshake();
  for (let i = 0; i < 20; i++) conv.data('s', 100);
  conv.fin('c').fin('s').ack('c');
  const frames = feed(tracker, conv) - 1; // 26
  tracker.flush();
  const c = done[0]!;
  assert.equal(c.segmentsDropped, frames - 8);
  assert.deepEqual(c.segments.map((s) => s.frame), [1, 2, 3, 4, frames - 3, frames - 2, frames - 1, frames]);
  assert.deepEqual(c.segments[0], {
    frame: 1, time: c.start, fromOrig: true, flags: TcpFlag.SYN, seqNumber: 1000, ackNumber: 0, payloadLength: 0,
    window: 64240, ttl: 64, ident: 101, tos: 0, optionKinds: [], notes: [],
  });
  assert.equal(c.orig.lastSeg?.frame, frames);
  assert.equal(c.resp.lastSeg?.frame, frames - 1);
  // An ordinary property: JSON and spreads see the same array.
  assert.equal(JSON.parse(JSON.stringify(c)).segments.length, 8);
  assert.equal({ ...c }.segments, c.segments);
});

test('maxSegments 0 keeps no list, but the same RST evidence: trigger, last segments, what followed', () => {
  const run = (maxSegments?: number) => {
    const done: Connection[] = [];
    const tracker = new ConnectionTracker({ onConnection: (c) => done.push(c), ...(maxSegments === undefined ? {} : { maxSegments }) });
    const conv = new Conversation({ client: '10.1.0.2:40003', server: '10.2.0.9:8080', serverTtl: 63 });
    conv.handshake();
    for (let i = 0; i < 80; i++) conv.data('s', 100).ack('c'); // more than the default list holds
    conv.data('c', 10).statelessRst('s', { ttl: 64 }).data('s', 10).data('s', 10).ack('c').statelessRst('c');
    feed(tracker, conv);
    tracker.flush();
    assert.equal(done.length, 1);
    return done[0]!;
  };
  const full = run();
  const none = run(0);
  assert.ok(full.segments.length > 0);
  assert.deepEqual(none.segments, []);
  assert.equal(none.segmentsDropped, none.orig.packets + none.resp.packets);
  assert.deepEqual(none.rsts, full.rsts);
  assert.deepEqual(none.orig, full.orig);
  assert.deepEqual(none.resp, full.resp);
  const [first, second] = full.rsts;
  assert.equal(first!.trigger?.payloadLength, 10);
  assert.deepEqual(first!.keptSending, [first!.seg.frame + 1, first!.seg.frame + 2], 'the sender\'s data after its RST');
  assert.deepEqual(first!.after.map((x) => x.frame), [first!.seg.frame + 3, second!.seg.frame]);
  assert.deepEqual(second!.keptSending, [], 'nothing from the client after its RST');
});

test('port reuse: a new SYN after the end starts a new connection; a repeated SYN does not', () => {
  const done: Connection[] = [];
  const tracker = new ConnectionTracker({ onConnection: (c) => done.push(c) });
  const a = new Conversation({ client: '10.1.0.2:40003', server: '10.2.0.9:8080', clientIsn: 1 });
  a.syn('c').syn('c', { noAdvance: true, seqNumber: 1 }).synAck('s').ack('c').fin('c').fin('s').ack('c');
  const b = new Conversation({ client: '10.1.0.2:40003', server: '10.2.0.9:8080', clientIsn: 99, start: 1_700_000_001 });
  b.handshake().activeRst('c');
  feed(tracker, b, feed(tracker, a));
  tracker.flush();
  assert.equal(done.length, 2);
  assert.equal(done[0]!.history, 'ShAFf', 'Zeek writes S again only for another sequence number, T only for payload');
  assert.equal(done[0]!.orig.retransmissions, 1, 'the repeated SYN is a retransmission');
  assert.equal(done[0]!.orig.isn, 1);
  assert.equal(done[1]!.orig.isn, 99);
  assert.equal(done[1]!.history, 'ShAR');
});

test('each of several RSTs gets what followed it (the first 4 of the receiver\'s segments, 5 of the sender\'s frames) and the endpoints as they were before it, with segments kept or not', () => {
  for (const maxSegments of [0, 64]) {
    const done: Connection[] = [];
    const tracker = new ConnectionTracker({ onConnection: (c) => done.push(c), maxSegments });
    const conv = new Conversation({ client: '10.1.0.2:40002', server: '10.2.0.9:8080' });
    conv.handshake().data('c', 100) // frames 1–4
      .activeRst('s') //           5: RST 1, from the server
      .data('c', 10) //            6
      .data('s', 20) //            7: the server keeps sending
      .activeRst('c') //           8: RST 2, from the client
      .data('s', 30) //            9
      .data('c', 40); //          10
    for (let i = 0; i < 6; i++) conv.data('s', 1, { ttl: i === 2 ? 50 : 64 }); // 11–16
    feed(tracker, conv);
    tracker.flush();
    const [c] = done;
    const [r1, r2] = c!.rsts;
    const what = `maxSegments ${maxSegments}`;
    assert.equal(c!.rsts.length, 2, what);
    assert.deepEqual([r1!.seg.frame, r1!.fromOrig, r2!.seg.frame, r2!.fromOrig], [5, false, 8, true], what);
    assert.deepEqual(r1!.after.map((s) => s.frame), [6, 8, 10], what);
    assert.deepEqual(r1!.keptSending, [7, 9, 11, 12, 13], what);
    assert.deepEqual(r2!.after.map((s) => s.frame), [9, 11, 12, 13], what);
    assert.deepEqual(r2!.keptSending, [10], what);
    assert.deepEqual([r1!.earlierRsts, r2!.earlierRsts], [[], [5]], what);
    // At RST 1 the server had sent its SYN-ACK and the RST (packets count the RST itself) and was
    // established; the client's last segment, the data, is the trigger.
    assert.deepEqual([r1!.sender.packets, r1!.sender.state, r1!.receiver.packets, r1!.trigger?.frame], [2, 'ESTABLISHED', 3, 4], what);
    // At RST 2 the server had already reset; the client's last segment before its RST is frame 6.
    assert.deepEqual([r2!.sender.packets, r2!.sender.state, r2!.receiver.state, r2!.trigger?.frame, r2!.sender.lastSeg?.frame], [5, 'ESTABLISHED', 'RESET', 7, 6], what);
    assert.equal(r2!.payloadLength, 0, what);
    // TTL counts of the server's non-RST packets, in first-seen order, with a change in between.
    assert.deepEqual([...c!.resp.ttls], [[64, 8], [50, 1]], what);
    assert.deepEqual([c!.orig.rstFrames, c!.resp.rstFrames], [[8], [5]], what);
  }
});

test('live input: advance() judges an ended connection its linger after the last packet, with no packet to move time on', () => {
  const done: Connection[] = [];
  const tracker = new ConnectionTracker({ onConnection: (c) => done.push(c), closedLingerSec: 0.3 });
  const conv = new Conversation({ client: '10.1.0.2:40001', server: '10.2.0.9:8080', start: 1_800_000_000 });
  conv.handshake().data('c', 10).activeRst('s');
  const open = new Conversation({ client: '10.1.0.2:40002', server: '10.2.0.9:8080', start: 1_800_000_000 });
  open.handshake().data('c', 10); // still open: not judged however long it is quiet (idle timeout aside)
  feed(tracker, open, feed(tracker, conv));
  const last = conv.frames.at(-1)!;
  const t = last.tsSec + last.tsNsec / 1e9;
  tracker.advance(t + 0.2);
  assert.equal(done.length, 0, 'still within its linger: a challenge ACK could follow');
  tracker.advance(t + 0.35);
  assert.deepEqual(done.map((c) => c.history), ['ShADr']);
  tracker.advance(t + 100);
  assert.equal(done.length, 1);
  assert.equal(tracker.alive, 1);
  tracker.setClosedLinger(5);
  tracker.flush();
  assert.equal(done.length, 2);
});
