// The explain engine's own parts: RstRing against the plain reading of its rule (every entry
// looked at), on random RST sequences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RstRing } from './engine.js';

interface Rst { addr: string; frame: number; ident: number; ttl: number; time: number }

/** The rule as RstRing's contract states it, over the latest SIZE RSTs. */
function expected(seen: readonly Rst[], q: Rst): Array<{ addr: string; frame: number; ident: number }> {
  if (q.ident === 0) return [];
  return seen.slice(-RstRing.SIZE)
    .filter((e) => e.addr !== q.addr && e.ttl === q.ttl && e.frame !== q.frame && Math.abs(e.time - q.time) <= RstRing.WINDOW_SEC)
    .filter((e) => {
      const step = e.frame > q.frame ? (e.ident - q.ident + 0x10000) % 0x10000 : (q.ident - e.ident + 0x10000) % 0x10000;
      return step >= 1 && step <= RstRing.MAX_STEP;
    })
    .map((e) => ({ addr: e.addr, frame: e.frame, ident: e.ident }))
    .sort((a, b) => a.frame - b.frame);
}

const rst = fc.record({
  addr: fc.constantFrom('192.0.2.1', '192.0.2.2', '198.51.100.9', '2001:db8::1'),
  // IDs near the bucket edges and the wrap, and anywhere.
  ident: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 65400, max: 65535 }), fc.integer({ min: 0, max: 65535 })),
  ttl: fc.constantFrom(64, 128),
  dt: fc.double({ min: 0, max: 3, noNaN: true }),
});

test('RstRing.peers finds what the plain rule finds, over more RSTs than the ring holds', () => {
  fc.assert(fc.property(fc.array(rst, { minLength: 1, maxLength: 700 }), fc.array(rst, { minLength: 1, maxLength: 20 }), (adds, queries) => {
    const ring = new RstRing();
    const seen: Rst[] = [];
    let time = 1000;
    adds.forEach((a, k) => {
      time += a.dt;
      const e = { addr: a.addr, frame: 2 * k + 1, ident: a.ident, ttl: a.ttl, time };
      seen.push(e);
      ring.add(e.addr, e.frame, e.ident, e.ttl, e.time);
    });
    for (const [k, q] of queries.entries()) {
      // A query between two recorded frames, and one for a recorded RST itself.
      const at = seen[k % seen.length]!;
      for (const frame of [at.frame + 1, at.frame]) {
        const query = { addr: q.addr, frame, ident: q.ident, ttl: q.ttl, time: at.time };
        assert.deepEqual(ring.peers(query.addr, query.frame, query.ident, query.ttl, query.time), expected(seen, query));
      }
    }
  }), { numRuns: 300 });
});

test('RstRing.peers: an ID of 0 or none has no peers', () => {
  const ring = new RstRing();
  ring.add('192.0.2.1', 1, 1, 64, 0);
  assert.deepEqual(ring.peers('192.0.2.2', 2, 0, 64, 0), []);
  assert.deepEqual(ring.peers('192.0.2.2', 2, null, 64, 0), []);
  assert.deepEqual(ring.peers('192.0.2.2', 2, 2, 64, 0), [{ addr: '192.0.2.1', frame: 1, ident: 1 }]);
});
