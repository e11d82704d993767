import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ipv6Packet, IPV6_MAX_EXTENSIONS } from './ipv6.js';

/** A fixed IPv6 header with payload length `plen` and next header `nh`, followed by `rest`. */
function packet(nh: number, rest: number[], plen = rest.length): Uint8Array {
  const b = new Uint8Array(40 + rest.length);
  b.set([0x6a, 0xb1, 0x23, 0x45, plen >> 8, plen & 0xff, nh, 33]);
  b.set([0x20, 0x01, 0x0d, 0xb8], 8); b[23] = 1;
  b.set([0xfe, 0x80], 24); b[39] = 2;
  b.set(rest, 40);
  return b;
}
const ext = (nh: number, words: number): number[] => [nh, words - 1, ...new Array(words * 8 - 2).fill(0)];
const tcp20 = new Array(20).fill(0);

test('fixed header getters', () => {
  const b = packet(6, tcp20);
  const ip = Ipv6Packet.newChecked(b, 0);
  assert.ok(ip instanceof Ipv6Packet);
  assert.equal(ip.version, 6);
  assert.equal(ip.tos, 0xab);
  assert.equal(ip.flowLabel, 0x12345);
  assert.equal(ip.payloadLength, 20);
  assert.equal(ip.nextHeader, 6);
  assert.equal(ip.ttl, 33);
  assert.equal(ip.src, '2001:db8::1');
  assert.equal(ip.dst, 'fe80::2');
  assert.equal(ip.ident, null);
  assert.equal(ip.dontFragment, null);
  assert.equal(ip.walkExtensions(b.length, b.length), 'upper');
  assert.equal(ip.optionsLength, 0);
  assert.equal(ip.upperProtocol, 6);
});

test('truncated at every length and wrong version', () => {
  const b = packet(6, tcp20);
  for (let n = 0; n < 40; n += 1) assert.equal(Ipv6Packet.check(b, 0, n), 'ipv6-truncated');
  b[0] = 0x45;
  assert.equal(Ipv6Packet.check(b, 0, b.length), 'ipv6-bad-version');
});

test('extension chain hop-by-hop → routing → fragment (first) → destination options → AH → TCP', () => {
  const frag = [60, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef]; // offset 0, M=1
  const ah = [6, 4, 0, 0, ...new Array(20).fill(0)];          // (4+2)*4 = 24 bytes
  const rest = [...ext(43, 1), ...ext(44, 2), ...frag, ...ext(51, 1), ...ah, ...tcp20];
  const b = packet(0, rest);
  const ip = new Ipv6Packet(b, 0);
  assert.equal(ip.walkExtensions(b.length, b.length), 'upper');
  assert.equal(ip.upperProtocol, 6);
  assert.equal(ip.optionsLength, 8 + 16 + 8 + 8 + 24);
  assert.equal(ip.fragmented, true);
  assert.equal(ip.ident, 0xdeadbeef);
  // Cut anywhere inside the chain: truncated, never past the captured bytes.
  for (let cap = 40; cap < 40 + rest.length - 20; cap += 1) {
    const r = new Ipv6Packet(b, 0).walkExtensions(cap, b.length);
    assert.equal(r, 'ipv6-truncated', `cap ${cap}`);
  }
});

test('non-first fragment, ESP, no next header, bad lengths, too many headers', () => {
  const nonFirst = packet(44, [6, 0, 0x00, 0x08, 0, 0, 0, 1, ...tcp20]);
  assert.equal(new Ipv6Packet(nonFirst, 0).walkExtensions(nonFirst.length, nonFirst.length), 'ipv6-fragment');
  const atomic = packet(44, [6, 0, 0, 0, 0, 0, 0, 1, ...tcp20]);
  const a = new Ipv6Packet(atomic, 0);
  assert.equal(a.walkExtensions(atomic.length, atomic.length), 'upper');
  assert.equal(a.fragmented, false);
  assert.equal(a.ident, 1);
  const esp = packet(0, [...ext(50, 1), 0, 0, 0, 1]);
  assert.equal(new Ipv6Packet(esp, 0).walkExtensions(esp.length, esp.length), 'esp');
  const none = packet(60, ext(59, 1));
  assert.equal(new Ipv6Packet(none, 0).walkExtensions(none.length, none.length), 'ipv6-no-next-header');
  // A destination-options header claiming 16 bytes in an 8-byte payload.
  const long = packet(60, [6, 1, 0, 0, 0, 0, 0, 0]);
  assert.equal(new Ipv6Packet(long, 0).walkExtensions(long.length, long.length), 'ipv6-bad-extension-length');
  let chain: number[] = tcp20;
  for (let i = 0; i <= IPV6_MAX_EXTENSIONS + 1; i += 1) chain = [...ext(i === 0 ? 6 : 60, 1), ...chain];
  const many = packet(60, chain);
  assert.equal(new Ipv6Packet(many, 0).walkExtensions(many.length, many.length), 'ipv6-too-many-extensions');
});

test('jumbo payload option is read from hop-by-hop', () => {
  const hbh = [6, 0, 0xc2, 4, 0x00, 0x01, 0x00, 0x00];
  const b = packet(0, [...hbh, ...tcp20], 0);
  const ip = new Ipv6Packet(b, 0);
  assert.equal(ip.walkExtensions(b.length, 100000), 'upper');
  assert.equal(ip.jumboLength, 65536);
});
