// Robustness: decodeFrame on random bytes and on mutated valid frames, for every link type it
// knows. It must return (never throw, never hang) a well-formed FrameDecode, and every getter of a
// decoded segment must be readable.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeFrame } from './decode.js';
import { buildTcpFrame, linkTypeOf } from './build.js';
import type { BuildLink } from './build.js';
import { LinkType } from './link.js';
import type { FrameDecode } from './types.js';

const LINK_TYPES = Object.values(LinkType);

function checkResult(d: FrameDecode, data: Uint8Array): void {
  switch (d.kind) {
    case 'tcp': {
      const { ip, tcp } = d;
      for (const v of [ip.src, ip.dst]) assert.equal(typeof v, 'string');
      for (const v of [ip.ttl, ip.tos, ip.optionsLength, tcp.srcPort, tcp.dstPort, tcp.seqNumber, tcp.ackNumber,
        tcp.headerLength, tcp.flags, tcp.window, tcp.checksum, tcp.urgentPointer, d.payloadLength]) {
        assert.ok(Number.isInteger(v) && v >= 0, String(v));
      }
      assert.ok(tcp.headerLength >= 20 && tcp.headerLength <= 60);
      assert.ok(tcp.payload.length <= d.payloadLength);
      assert.ok(tcp.payload.length <= data.length);
      const opts = tcp.options();
      assert.ok(opts.length <= 40);
      void [tcp.fin, tcp.syn, tcp.rst, tcp.psh, tcp.ack, tcp.urg, tcp.ece, tcp.cwr, ip.ident, ip.dontFragment];
      for (const a of d.anomalies) assert.equal(typeof a, 'string');
      break;
    }
    case 'not-tcp': assert.ok(d.what.length > 0); break;
    case 'malformed': assert.ok(d.anomaly.length > 0 && d.detail.length > 0); break;
    case 'unknown-linktype': assert.ok(!LINK_TYPES.includes(d.value as never)); break;
  }
}

test('random bytes on every link type', () => {
  fc.assert(fc.property(
    fc.oneof(fc.constantFrom(...LINK_TYPES), fc.nat(300)),
    fc.uint8Array({ maxLength: 160 }),
    fc.integer({ min: -20, max: 100 }),
    (lt, data, extra) => {
      checkResult(decodeFrame(lt, data, Math.max(0, data.length + extra)), data);
    },
  ), { numRuns: 20000 });
});

/** Valid frames of every kind the decoder follows, to mutate. */
function seeds(): Array<[number, Uint8Array]> {
  const out: Array<[number, Uint8Array]> = [];
  const links: BuildLink[] = ['ethernet', 'vlan', 'qinq', 'pppoe', 'raw', 'null', 'loop', 'sll', 'sll2', 'ppp'];
  for (const link of links) {
    for (const version of [4, 6] as const) {
      out.push([linkTypeOf(link), buildTcpFrame({
        link,
        ip: version === 4 ? { version, src: '10.1.2.3', dst: '10.3.2.1' } : { version, src: 'fd00::1', dst: 'fd00::2' },
        tcp: {
          srcPort: 1, dstPort: 2, seqNumber: 3, ackNumber: 4, flags: 0x14, payload: 9,
          options: [{ kind: 'mss', value: 1400 }, { kind: 'sack', blocks: [[1, 2]] }, { kind: 'timestamps', tsVal: 1, tsEcr: 2 }],
        },
      })]);
    }
  }
  // Tunnels: IPv4 outer (protocols 4, 41, 47) around the raw frames above.
  const raw4 = out.find(([lt, f]) => lt === LinkType.RAW && f[0] >> 4 === 4)![1];
  const raw6 = out.find(([lt, f]) => lt === LinkType.RAW && f[0] >> 4 === 6)![1];
  const wrap = (proto: number, prefix: number[], inner: Uint8Array): Uint8Array => {
    const b = new Uint8Array(20 + prefix.length + inner.length);
    b.set([0x45, 0, b.length >> 8, b.length & 0xff, 0, 0, 0, 0, 64, proto, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    b.set(prefix, 20);
    b.set(inner, 20 + prefix.length);
    return b;
  };
  out.push([LinkType.RAW, wrap(4, [], raw4)]);
  out.push([LinkType.RAW, wrap(41, [], raw6)]);
  out.push([LinkType.RAW, wrap(47, [0xb0, 0, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2], raw4)]);
  out.push([LinkType.RAW, wrap(47, [0x40, 0, 0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4, 0, 0, 0, 0], raw6)]);
  out.push([LinkType.RAW, wrap(17, [0x12, 0xb5, 0x12, 0xb5, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 1, 0,
    2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00], raw4)]);
  out.push([LinkType.RAW, wrap(17, [0x17, 0xc1, 0x17, 0xc1, 0, 0, 0, 0, 0x01, 0, 0x86, 0xdd, 0, 0, 1, 0, 0, 0, 0, 0], raw6)]);
  // IPv6 with an extension chain.
  const chain = new Uint8Array(raw6.length + 16);
  chain.set(raw6.subarray(0, 40));
  chain[6] = 0; chain[5] += 16;
  chain.set([60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0], 40);
  chain.set(raw6.subarray(40), 56);
  out.push([LinkType.RAW, chain]);
  return out;
}

test('mutated valid frames', () => {
  const base = seeds();
  for (const [lt, f] of base) assert.equal(decodeFrame(lt, f, f.length).kind, 'tcp', `seed on ${lt}`);
  fc.assert(fc.property(
    fc.nat(base.length - 1),
    fc.array(fc.tuple(fc.nat(200), fc.nat(255)), { minLength: 1, maxLength: 6 }),
    fc.nat(250),
    fc.integer({ min: -10, max: 60 }),
    (which, edits, cutAt, extra) => {
      const [lt, seed] = base[which];
      const data = new Uint8Array(seed);
      for (const [pos, val] of edits) data[pos % data.length] = val;
      const cut = data.subarray(0, Math.min(data.length, cutAt));
      checkResult(decodeFrame(lt, data, data.length), data);
      checkResult(decodeFrame(lt, cut, Math.max(0, seed.length + extra)), cut);
    },
  ), { numRuns: 20000 });
});
