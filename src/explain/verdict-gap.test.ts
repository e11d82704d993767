// Regression (lab, 2026-12-04, server-aborts-mid-response-https × python-requests under load): a
// server's own RST+ACK at its SND.NXT, 26,528 bytes past the last data the capture showed, was
// judged out-of-window although the kernel logged it (TCP_STATE). A live socket's reset past a gap
// is an abort; a blind RST in the window (no timestamps, no ACK) stays out-of-window.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conversation } from '../tcp/index.js';
import type { BuildTcpOption } from '../wire/build.js';
import { Explainer } from './engine.js';
import type { ConnectionReport } from './engine.js';

const TS: BuildTcpOption = { kind: 'timestamps', tsVal: 1000, tsEcr: 1000 };
const SYN: BuildTcpOption[] = [{ kind: 'mss', value: 1460 }, { kind: 'sack-permitted' }, { kind: 'timestamps', tsVal: 1, tsEcr: 0 }, { kind: 'nop' }, { kind: 'window-scale', shift: 0 }];

function explain(conv: Conversation): ConnectionReport[] {
  const out: ConnectionReport[] = [];
  const ex = new Explainer({ onConnection: (c) => out.push(c) });
  conv.frames.forEach((f, i) => ex.packet({ frame: i + 1, tsSec: f.tsSec, tsNsec: f.tsNsec, linkType: conv.linkType, interfaceId: 0, data: f.data, origLen: f.data.length }));
  ex.end();
  return out;
}

/** A download whose last 4,000 bytes never reach the capture; then `rst` from the server. */
function download(rst: (c: Conversation) => void): Conversation {
  const conv = new Conversation({ client: '198.51.100.4:35896', server: '203.0.113.4:443', clientTtl: 64, serverTtl: 63 });
  conv.syn('c', { options: SYN, window: 64000 }).synAck('s', { options: SYN, window: 64000 }).ack('c', { options: [TS] });
  conv.data('c', 200, { options: [TS] }).ack('s', { options: [TS] }).data('s', 1400, { options: [TS] }).ack('c', { options: [TS], window: 64000 });
  conv.data('s', 4000, { options: [TS] });
  conv.frames.pop(); // lost on the path (or by the capture): the client never ACKs it
  rst(conv);
  return conv;
}

test('a live socket\'s RST+ACK past data the capture never saw: abort, with the gap in the evidence', () => {
  const [c] = explain(download((conv) => conv.activeRst('s', { options: [{ kind: 'nop' }, { kind: 'nop' }, TS], window: 501 })));
  const r = c!.rsts[0]!;
  assert.equal(r.cause, 'abort', r.summary);
  assert.ok(r.evidence.some((e) => /4000 bytes past the last data the capture shows/.test(e)), r.evidence.join('\n'));
  assert.ok(r.linuxReasons.includes('TCP_STATE'));
  assert.match(r.app.receiver, /challenge ACK/);
});

test('a blind RST at the same place (no ACK, no timestamps): still out-of-window', () => {
  const [c] = explain(download((conv) => conv.segment('s', 0x04, 0, { window: 0 })));
  assert.equal(c!.rsts[0]!.cause, 'out-of-window');
});
