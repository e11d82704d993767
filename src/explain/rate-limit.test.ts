// Rate-limited RSTs (rate-limit.ts) on scans built with tcp/conversation.ts and explained as a
// capture is: a host that answers at most 200 SYNs a second to closed ports (FreeBSD's icmplim)
// while the scan's rate changes is found; a steady scan with a share of ports filtered, and a
// changing one with a share filtered (its RSTs follow the rate), are not.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conversation } from '../tcp/index.js';
import { TcpFlag } from '../wire/types.js';
import { Explainer } from './engine.js';
import type { ExplainSummary } from './engine.js';

const SCANNER = '198.51.100.7';
const TARGET = '192.0.2.10';
const T0 = 1_700_000_000;

/** A SYN scan of TARGET: `perSecond[i]` SYNs in second i, each answered with a RST when
 *  `answered(indexInSecond, second)` says so, else left unanswered. */
function scan(perSecond: readonly number[], answered: (i: number, second: number) => boolean): ExplainSummary {
  const ex = new Explainer({});
  let frame = 0;
  let port = 1;
  perSecond.forEach((n, second) => {
    for (let i = 0; i < n; i += 1) {
      const t = T0 + second + (i + 0.5) / n;
      const conv = new Conversation({ client: `${SCANNER}:40000`, server: `${TARGET}:${port++}`, start: t });
      conv.syn('c');
      if (answered(i, second)) conv.segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: conv.sndNxt('c') });
      for (const f of conv.frames) ex.packet({ frame: ++frame, tsSec: f.tsSec, tsNsec: f.tsNsec, linkType: conv.linkType, interfaceId: 0, data: f.data, origLen: f.data.length });
    }
  });
  return ex.end();
}

test('a host answering at most 200 SYNs a second with RSTs, as the scan speeds up and slows down, is rate-limited', () => {
  const s = scan([300, 500, 400, 650, 350], (i) => i < 200);
  assert.equal(s.byCause.refused, 1000);
  assert.deepEqual(s.rateLimited, [{ host: TARGET, perSecond: 200, seconds: 5, answered: 1000, unanswered: 1200, synsMin: 300, synsMax: 650 }]);
});

test('a steady scan with every third port filtered is not called rate-limited (the rates cannot tell), nor one whose RSTs follow a changing rate', () => {
  assert.equal(scan([300, 300, 300, 300], (i) => i % 3 !== 0).rateLimited, undefined);
  assert.equal(scan([300, 500, 400, 650], (i) => i % 3 !== 0).rateLimited, undefined);
  // A host that answers every SYN has no unanswered seconds.
  assert.equal(scan([300, 500, 400, 650], () => true).rateLimited, undefined);
});
