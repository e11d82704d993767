// conn_state, one row per Zeek code: each row a scripted packet exchange (real frames, decoded and
// fed to the tracker as a capture's would be) and the conn_state and history the tracker gives it.
// The meanings are Zeek's conn.log documentation (conn-state.ts); each script does what the
// meaning describes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame } from '../wire/decode.js';
import { TcpFlag } from '../wire/types.js';
import { ConnectionTracker, connState, Conversation } from './index.js';
import type { Connection, ConnState } from './index.js';

interface Row {
  state: ConnState;
  history: string;
  /** What happens on the wire (c: the client, which opens the connection; s: the server). */
  script: (c: Conversation) => void;
}

const ROWS: Row[] = [
  // S0: connection attempt seen, no reply.
  { state: 'S0', history: 'S', script: (c) => c.syn('c') },
  // S1: established, not terminated.
  { state: 'S1', history: 'ShADd', script: (c) => c.handshake().data('c', 100).data('s', 200) },
  // SF: normal establishment and termination.
  { state: 'SF', history: 'ShADdFf', script: (c) => c.handshake().data('c', 100).data('s', 200).fin('c').fin('s').ack('c') },
  // REJ: connection attempt rejected (the server answers the SYN with RST+ACK).
  {
    state: 'REJ', history: 'Sr',
    script: (c) => c.syn('c').segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: c.sndNxt('c') }),
  },
  // S2: established, close attempt by the originator, no reply from the responder.
  { state: 'S2', history: 'ShADdF', script: (c) => c.handshake().data('c', 100).data('s', 200).fin('c') },
  // S3: established, close attempt by the responder, no reply from the originator.
  { state: 'S3', history: 'ShADdf', script: (c) => c.handshake().data('c', 100).data('s', 200).fin('s') },
  // RSTO: established, the originator aborted (sent a RST).
  { state: 'RSTO', history: 'ShADdR', script: (c) => c.handshake().data('c', 100).data('s', 200).activeRst('c') },
  // RSTR: the responder sent a RST.
  { state: 'RSTR', history: 'ShADdr', script: (c) => c.handshake().data('c', 100).data('s', 200).activeRst('s') },
  // RSTOS0: the originator sent a SYN, then a RST; no SYN-ACK from the responder.
  { state: 'RSTOS0', history: 'SR', script: (c) => c.syn('c').segment('c', TcpFlag.RST) },
  // RSTRH: the responder sent a SYN-ACK, then a RST; no SYN from the originator. (The SYN-ACK comes
  // from port 443, a likely server port: Zeek makes its receiver the originator at once, `^`.)
  { state: 'RSTRH', history: '^hr', script: (c) => c.synAck('s').segment('s', TcpFlag.RST) },
  // SH: the originator sent a SYN, then a FIN; no SYN-ACK from the responder (half open).
  { state: 'SH', history: 'SF', script: (c) => c.syn('c').segment('c', TcpFlag.FIN) },
  // SHR: the responder sent a SYN-ACK, then a FIN; no SYN from the originator (flipped, as for RSTRH).
  { state: 'SHR', history: '^hf', script: (c) => c.synAck('s').fin('s') },
  // OTH: no SYN, midstream traffic only.
  { state: 'OTH', history: 'Dd', script: (c) => c.data('c', 100).data('s', 200) },
];

/** The one connection a script makes, through the decoder and the tracker. */
function run(row: Row, i: number): Connection {
  const conv = new Conversation({ client: `10.9.0.${i + 1}:4${i.toString().padStart(4, '0')}`, server: '192.0.2.7:443' });
  row.script(conv);
  const done: Connection[] = [];
  const tracker = new ConnectionTracker({ onConnection: (c) => done.push(c) });
  let frame = 1;
  for (const f of conv.frames) {
    const d = decodeFrame(conv.linkType, f.data, f.data.length);
    assert.equal(d.kind, 'tcp');
    if (d.kind !== 'tcp') continue;
    tracker.push(frame++, f, d);
  }
  tracker.flush();
  assert.equal(done.length, 1, 'one connection');
  return done[0]!;
}

test('the rows cover each of Zeek\'s 13 conn_state codes once', () => {
  const all: ConnState[] = ['S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH'];
  assert.deepEqual(ROWS.map((r) => r.state).sort(), [...all].sort());
});

ROWS.forEach((row, i) => {
  test(`conn_state ${row.state}: history ${row.history}`, () => {
    const c = run(row, i);
    assert.deepEqual({ state: connState(c), history: c.history }, { state: row.state, history: row.history });
  });
});

test('OTH also: a RST from an originator that was seen midstream (RSTOS0 needs its SYN first)', () => {
  const row: Row = { state: 'OTH', history: 'DR', script: (c) => c.data('c', 100).activeRst('c') };
  const c = run(row, ROWS.length);
  assert.deepEqual({ state: connState(c), history: c.history }, { state: row.state, history: row.history });
});

test('a keep filter hears the same conn_state as the finalized connection has', () => {
  ROWS.forEach((row, i) => {
    const conv = new Conversation({ client: `10.9.1.${i + 1}:41000`, server: '192.0.2.7:443' });
    row.script(conv);
    const heard: ConnState[] = [];
    const tracker = new ConnectionTracker({
      onConnection: () => assert.fail('kept'), keep: (state) => { heard.push(state); return false; },
    });
    let frame = 1;
    for (const f of conv.frames) {
      const d = decodeFrame(conv.linkType, f.data, f.data.length);
      if (d.kind === 'tcp') tracker.push(frame++, f, d);
    }
    tracker.flush();
    assert.deepEqual(heard, [row.state]);
  });
});
