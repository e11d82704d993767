import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatEndpoint, formatIpv4, formatIpv6, parseEndpoint, parseIpv4, parseIpv6 } from './addr.js';

const v6 = (text: string): string => formatIpv6(parseIpv6(text), 0);

test('IPv4 dotted quad both ways', () => {
  assert.equal(formatIpv4(Uint8Array.of(9, 10, 192, 0, 2, 255), 2), '192.0.2.255');
  assert.deepEqual([...parseIpv4('198.51.100.7')], [198, 51, 100, 7]);
  for (const bad of ['1.2.3', '1.2.3.256', '1.2.3.4.5', 'a.b.c.d', '']) assert.throws(() => parseIpv4(bad), TypeError);
});

test('IPv6 in RFC 5952 form', () => {
  const cases: Array<[string, string]> = [
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],      // §4.2.3: first of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],   // §4.2.2: a single zero group stays
    ['2001:db8:0:0:0:1:0:0', '2001:db8::1:0:0'],        // longest run wins
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['fe80::0:0:1', 'fe80::1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],           // IPv4-mapped, as inet_ntop
    ['::ffff:c000:0201', '::ffff:192.0.2.1'],
    ['::192.0.2.1', '::192.0.2.1'],                     // IPv4-compatible, as inet_ntop prints it
    ['::0.0.1.2', '::102'],                             // …but only with a non-zero 7th group
    ['::ffff:0:1', '::ffff:0.0.0.1'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
    ['abcd:ef01:2345:6789:abcd:ef01:2345:6789', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
  ];
  for (const [input, want] of cases) assert.equal(v6(input), want, input);
  for (const bad of ['1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', 'g::1', '12345::1']) {
    assert.throws(() => parseIpv6(bad), TypeError, bad);
  }
});

test('IPv6 formatting agrees with the WHATWG URL serializer on random addresses', () => {
  // The URL standard's IPv6 serializer compresses the first longest run of ≥ 2 zero groups, like
  // RFC 5952; it has no embedded-IPv4 special cases, so those are excluded here.
  const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  fc.assert(fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
    const bytes = new Uint8Array(16);
    groups.forEach((g, i) => { bytes[2 * i] = g >> 8; bytes[2 * i + 1] = g & 0xff; });
    const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
    const compat = groups.slice(0, 6).every((g) => g === 0) && groups[6] !== 0;
    fc.pre(!mapped && !compat);
    const text = formatIpv6(bytes, 0);
    const url = new URL(`http://[${groups.map((g) => g.toString(16)).join(':')}]/`).hostname;
    assert.equal(`[${text}]`, url);
    assert.deepEqual(parseIpv6(text), bytes);
  }), { numRuns: 2000 });
});

test('endpoints: parseEndpoint undoes formatEndpoint, brackets optional around IPv6', () => {
  for (const [addr, port] of [['192.0.2.1', 443], ['2001:db8::1', 80], ['::', 0], ['::ffff:192.0.2.7', 65535]] as const) {
    assert.deepEqual(parseEndpoint(formatEndpoint(addr, port)), { addr, port });
  }
  assert.deepEqual(parseEndpoint('2001:db8::1:8080'), { addr: '2001:db8::1', port: 8080 }); // no brackets: the last colon
  assert.deepEqual(parseEndpoint('[fe80::1]:22'), { addr: 'fe80::1', port: 22 });
  assert.ok(Number.isNaN(parseEndpoint('192.0.2.1:?').port)); // a placeholder port is not a number
});
