import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TcpSegment, decodeTcpOptions, newTcpOptionScan, optionKindNames, scanDecodedOptions, scanTcpOptionKinds } from './tcp.js';
import { TcpFlag } from './types.js';
import type { TcpOption } from './types.js';

/** A TCP header with `opts` (padded with EOL to 4 bytes) and `payload`. */
function segment(opts: number[], payload: number[] = [], flags = 0x12, ae = false): Uint8Array {
  const ol = (opts.length + 3) & ~3;
  const b = new Uint8Array(20 + ol + payload.length);
  b.set([0x04, 0xd2, 0x00, 0x50, 0x80, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe]);
  b[12] = (((20 + ol) / 4) << 4) | (ae ? 1 : 0);
  b[13] = flags;
  b.set([0x72, 0x10, 0xab, 0xcd, 0x00, 0x07], 14);
  b.set(opts, 20);
  b.set(payload, 20 + ol);
  return b;
}
const options = (opts: number[]): TcpOption[] => {
  const b = segment(opts);
  const t = TcpSegment.newChecked(b, 0);
  assert.ok(t instanceof TcpSegment);
  return t.options();
};

test('fixed header getters and every flag', () => {
  const b = segment([], [1, 2, 3], 0xff, true);
  const t = new TcpSegment(b, 0, b.length);
  assert.equal(t.srcPort, 1234);
  assert.equal(t.dstPort, 80);
  assert.equal(t.seqNumber, 0x80000001);
  assert.equal(t.ackNumber, 0xfffffffe);
  assert.equal(t.headerLength, 20);
  assert.equal(t.flags, 0x1ff);
  assert.ok(t.fin && t.syn && t.rst && t.psh && t.ack && t.urg && t.ece && t.cwr && t.ae);
  assert.equal(t.window, 0x7210);
  assert.equal(t.checksum, 0xabcd);
  assert.equal(t.urgentPointer, 7);
  assert.deepEqual([...t.payload], [1, 2, 3]);
  for (const [name, bit] of Object.entries(TcpFlag)) {
    const one = new TcpSegment(segment([], [], bit & 0xff, bit === TcpFlag.AE), 0, 20);
    assert.equal(one.flags, bit, name);
  }
});

test('a segment repointed between buffers, and one at an offset of a larger buffer, read their own fields', () => {
  const a = segment([], [], 0x10);
  const b = new Uint8Array(40);
  b.set([0x00, 0x16, 0xc3, 0x50, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x2b, 0x50, 0x10, 0x01, 0x00], 20);
  const t = new TcpSegment(a, 0, a.length);
  const u = new TcpSegment(b, 20, 40); // made after t: t keeps reading its own bytes
  for (let round = 0; round < 2; round += 1) {
    assert.deepEqual([t.srcPort, t.dstPort, t.seqNumber, t.ackNumber, t.window], [1234, 80, 0x80000001, 0xfffffffe, 0x7210]);
    assert.deepEqual([u.srcPort, u.dstPort, u.seqNumber, u.ackNumber, u.window], [22, 50000, 42, 43, 256]);
    t.repoint(b, 20, 40);
    assert.deepEqual([t.srcPort, t.seqNumber, t.window], [22, 42, 256]);
    t.repoint(a, 0, a.length);
  }
});

test('check: truncated at every length below 20, data offset below 5', () => {
  const b = segment([2, 4, 5, 0xb4]);
  for (let n = 0; n < 20; n += 1) assert.equal(TcpSegment.check(b, 0, n), 'tcp-truncated');
  assert.equal(TcpSegment.check(b, 0, 20), null); // options cut off: still a readable segment
  for (let off = 0; off < 5; off += 1) {
    b[12] = off << 4;
    assert.equal(TcpSegment.check(b, 0, b.length), 'tcp-bad-offset');
  }
});

test('every option kind decodes', () => {
  assert.deepEqual(options([
    2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1, 8, 10, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff,
  ]), [
    { kind: 'mss', value: 1460 }, { kind: 'window-scale', shift: 7 }, { kind: 'sack-permitted' },
    { kind: 'timestamps', tsVal: 1, tsEcr: 0xffffffff },
  ]);
  assert.deepEqual(options([1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0xf0, 0, 0, 0, 0xf0, 0, 0, 1]), [
    { kind: 'sack', blocks: [[1, 2], [0xf0000000, 0xf0000001]] },
  ]);
  assert.deepEqual(options([19, 18, ...new Array(16).fill(0xaa)]), [{ kind: 'md5' }]);
  assert.deepEqual(options([30, 6, 1, 2, 3, 4, 254, 2]), [
    { kind: 'unknown', type: 30, length: 6 }, { kind: 'unknown', type: 254, length: 2 },
  ]);
  // EOL ends the list even if bytes follow.
  assert.deepEqual(options([2, 4, 0, 1, 0, 3, 3, 7]), [{ kind: 'mss', value: 1 }]);
  assert.deepEqual(options([]), []);
});

test('impossible lengths are malformed and stop decoding', () => {
  const cases: Array<[number[], TcpOption[]]> = [
    [[2, 4, 0, 1, 30, 0, 2, 4], [{ kind: 'mss', value: 1 }, { kind: 'malformed', type: 30, offset: 24 }]],
    [[30, 1], [{ kind: 'malformed', type: 30, offset: 20 }]],
    [[2, 5, 0, 1, 0], [{ kind: 'malformed', type: 2, offset: 20 }]],   // MSS must be 4
    [[3, 4, 7, 0], [{ kind: 'malformed', type: 3, offset: 20 }]],      // window scale must be 3
    [[4, 3, 0, 0], [{ kind: 'malformed', type: 4, offset: 20 }]],
    [[8, 9, ...new Array(7).fill(0)], [{ kind: 'malformed', type: 8, offset: 20 }]],
    [[19, 10, ...new Array(8).fill(0)], [{ kind: 'malformed', type: 19, offset: 20 }]],
    [[5, 11, ...new Array(9).fill(0)], [{ kind: 'malformed', type: 5, offset: 20 }]], // SACK: 2 + 8n
    [[1, 30, 40, 0], [{ kind: 'malformed', type: 30, offset: 21 }]],   // runs past the header
  ];
  for (const [opts, want] of cases) {
    assert.deepEqual(options(opts), want, JSON.stringify(opts));
    const b = segment(opts);
    assert.equal(new TcpSegment(b, 0, b.length).optionsWellFormed(), false, JSON.stringify(opts));
  }
  const good = segment([2, 4, 5, 0xb4, 1, 3, 3, 7]);
  assert.equal(new TcpSegment(good, 0, good.length).optionsWellFormed(), true);
});

test('options and payload are read only as far as captured', () => {
  const b = segment([2, 4, 5, 0xb4, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], [9, 9]);
  for (let cap = 20; cap <= b.length; cap += 1) {
    const t = new TcpSegment(b, 0, cap);
    const got = t.options();
    const want: TcpOption[] = [];
    if (cap >= 24) want.push({ kind: 'mss', value: 1460 });
    if (cap >= 34) want.push({ kind: 'timestamps', tsVal: 1, tsEcr: 2 });
    assert.deepEqual(got, want, `cap ${cap}`);
    assert.equal(t.payload.length, Math.max(0, cap - 36));
    assert.equal(t.optionsWellFormed(), true);
  }
  // decodeTcpOptions directly: bytes beyond capEnd are never touched.
  assert.deepEqual(decodeTcpOptions(Uint8Array.of(2, 4, 5), 0, 4, 3), []);
});

test('scanTcpOptionKinds agrees with decodeTcpOptions on every kind list, cut and malformed header', () => {
  // Deterministic pseudo-random option bytes, biased towards real kinds and plausible lengths.
  let x = 12345;
  const rnd = (n: number) => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return (x >>> 8) % n; };
  const kinds = [0, 1, 1, 2, 3, 4, 5, 8, 19, 30, 254];
  const lens: Record<number, number[]> = { 2: [4], 3: [3], 4: [2], 5: [10, 18, 34], 8: [10], 19: [18] };
  const scan = newTcpOptionScan();
  const viaDecoded = newTcpOptionScan();
  for (let round = 0; round < 5000; round++) {
    const room = 4 * rnd(11); // 0…40 option bytes
    const b = new Uint8Array(20 + room);
    for (let o = 20; o < b.length;) {
      const k = kinds[rnd(kinds.length)]!;
      b[o] = k;
      if (k <= 1) { o += 1; continue; }
      const good = lens[k] ?? [2 + rnd(6)];
      const len = rnd(8) === 0 ? rnd(50) : good[rnd(good.length)]!;
      if (o + 1 < b.length) b[o + 1] = len;
      for (let i = 2; i < len && o + i < b.length; i++) b[o + i] = rnd(256);
      o += Math.max(len, 2);
    }
    const capEnd = rnd(4) === 0 ? 20 + rnd(room + 1) : b.length; // sometimes cut by the snap length
    const want = decodeTcpOptions(b, 20, b.length, capEnd);
    scanTcpOptionKinds(b, 20, b.length, capEnd, scan);
    const ctx = `round ${round}: ${[...b.subarray(20, capEnd)].join(' ')}`;
    assert.deepEqual(optionKindNames(scan.low, scan.high), want.map((o) => o.kind), ctx);
    assert.equal(scan.count, want.length, ctx);
    const ws = want.filter((o) => o.kind === 'window-scale').pop();
    assert.equal(scan.windowShift, ws && ws.kind === 'window-scale' ? ws.shift : -1, ctx);
    assert.equal(scan.timestamps, want.some((o) => o.kind === 'timestamps'), ctx);
    assert.equal(scan.malformed, want.some((o) => o.kind === 'malformed'), ctx);
    scanDecodedOptions(want, viaDecoded);
    assert.deepEqual(viaDecoded, scan, ctx);
  }
  // The longest list: twenty 2-byte options, in two halves.
  const b = new Uint8Array(60);
  for (let o = 20; o < 60; o += 2) { b[o] = 4; b[o + 1] = 2; }
  scanTcpOptionKinds(b, 20, 60, 60, scan);
  assert.equal(scan.count, 20);
  assert.deepEqual(optionKindNames(scan.low, scan.high), Array(20).fill('sack-permitted'));
});
