import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ipv4Packet } from './ipv4.js';
import { buildTcpFrame } from './build.js';

const frame = buildTcpFrame({
  link: 'raw',
  ip: { version: 4, src: '192.0.2.1', dst: '198.51.100.2', ttl: 57, tos: 0xb9, ident: 0xbeef, dontFragment: true },
  tcp: { srcPort: 1, dstPort: 2, seqNumber: 3, ackNumber: 4, flags: 0x10, payload: 7 },
});

test('getters read every field of a good header', () => {
  const ip = Ipv4Packet.newChecked(frame, 0);
  assert.ok(ip instanceof Ipv4Packet);
  assert.equal(ip.version, 4);
  assert.equal(ip.headerLength, 20);
  assert.equal(ip.tos, 0xb9);
  assert.equal(ip.dscp, 0xb9 >> 2);
  assert.equal(ip.ecn, 1);
  assert.equal(ip.totalLength, 20 + 20 + 7);
  assert.equal(ip.ident, 0xbeef);
  assert.equal(ip.dontFragment, true);
  assert.equal(ip.moreFragments, false);
  assert.equal(ip.fragmentOffset, 0);
  assert.equal(ip.ttl, 57);
  assert.equal(ip.protocol, 6);
  assert.equal(ip.src, '192.0.2.1');
  assert.equal(ip.dst, '198.51.100.2');
  assert.equal(ip.srcNumber, 0xc0000201);
  assert.equal(ip.dstNumber, 0xc6336402);
  assert.deepEqual([...ip.srcBytes()], [192, 0, 2, 1]);
  assert.equal(ip.optionsLength, 0);
  assert.ok(ip.verifyChecksum());
  const bad = new Uint8Array(frame);
  bad[8] ^= 1;
  assert.equal(new Ipv4Packet(bad, 0).verifyChecksum(), false);
});

test('truncated at every length, bad version, bad IHL', () => {
  for (let n = 0; n < 20; n += 1) assert.equal(Ipv4Packet.check(frame, 0, n), 'ipv4-truncated', `len ${n}`);
  assert.equal(Ipv4Packet.check(frame, 0, 20), null);
  const b = new Uint8Array(frame);
  for (let ihl = 0; ihl < 5; ihl += 1) {
    b[0] = 0x40 | ihl;
    assert.equal(Ipv4Packet.check(b, 0, b.length), 'ipv4-bad-header-length');
  }
  b[0] = 0x4f; // 60-byte header in a 47-byte packet
  assert.equal(Ipv4Packet.check(b, 0, b.length), 'ipv4-truncated');
  b[0] = 0x65;
  assert.equal(Ipv4Packet.check(b, 0, b.length), 'ipv4-bad-version');
});

test('options are counted and fragment fields read', () => {
  const b = new Uint8Array(28);
  b.set([0x47, 0, 0, 28, 0x12, 0x34, 0x20 | 0x01, 0x02, 1, 6]);
  const ip = Ipv4Packet.newChecked(b, 0);
  assert.ok(ip instanceof Ipv4Packet);
  assert.equal(ip.headerLength, 28);
  assert.equal(ip.optionsLength, 8);
  assert.equal(ip.moreFragments, true);
  assert.equal(ip.dontFragment, false);
  assert.equal(ip.fragmentOffset, 0x102 * 8);
});

test('views over several buffers, repointed between them, each read their own bytes', () => {
  // The 16- and 32-bit getters go through a DataView that bytes.ts keeps for the last array asked
  // for: a view keeps its own, and a repoint to another array (or to a subarray) takes that one's.
  const other = buildTcpFrame({
    link: 'raw',
    ip: { version: 4, src: '203.0.113.9', dst: '10.0.0.7', ttl: 3, ident: 0x1234 },
    tcp: { srcPort: 9, dstPort: 10, seqNumber: 0xfffffff0, ackNumber: 1, flags: 0x02 },
  });
  const padded = new Uint8Array(other.length + 5);
  padded.set(other, 5);
  const a = new Ipv4Packet(frame, 0);
  const b = new Ipv4Packet(other, 0);
  const c = new Ipv4Packet(padded.subarray(5), 0);
  for (let round = 0; round < 2; round += 1) {
    assert.deepEqual([a.ident, a.srcNumber, a.dstNumber], [0xbeef, 0xc0000201, 0xc6336402]);
    assert.deepEqual([b.ident, b.srcNumber, b.dstNumber], [0x1234, 0xcb007109, 0x0a000007]);
    assert.deepEqual([c.ident, c.srcNumber, c.dstNumber], [0x1234, 0xcb007109, 0x0a000007]);
  }
  const v = new Ipv4Packet(frame, 0);
  for (const [bytes, offset, ident] of [[other, 0, 0x1234], [frame, 0, 0xbeef], [padded, 5, 0x1234], [padded.subarray(5), 0, 0x1234]] as const) {
    v.repoint(bytes, offset);
    assert.equal(v.ident, ident);
    assert.equal(v.src, bytes === frame ? '192.0.2.1' : '203.0.113.9');
  }
});
