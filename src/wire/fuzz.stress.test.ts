// Robustness: decodeFrame on random bytes and on mutated valid frames, for every link type it
// knows. It must return (never throw, never hang) a well-formed FrameDecode, and every getter of a
// decoded segment must be readable. decodeFrameAt (in place, reused views) must give the same
// answer as decodeFrame on the subarray, whatever bytes surround the frame.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeFrame, decodeFrameAt, DecodeScratch } from './decode.js';
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

/** Everything a FrameDecode says, as plain data (views read through their getters). */
function plain(d: FrameDecode): unknown {
  if (d.kind !== 'tcp') return { ...d };
  const { ip, tcp } = d;
  return {
    kind: d.kind, payloadLength: d.payloadLength, anomalies: [...d.anomalies],
    ip: { version: ip.version, src: ip.src, dst: ip.dst, ttl: ip.ttl, tos: ip.tos, ident: ip.ident, df: ip.dontFragment, opts: ip.optionsLength },
    tcp: {
      srcPort: tcp.srcPort, dstPort: tcp.dstPort, seq: tcp.seqNumber, ack: tcp.ackNumber, hl: tcp.headerLength, flags: tcp.flags,
      window: tcp.window, checksum: tcp.checksum, urg: tcp.urgentPointer, options: tcp.options(), payload: [...tcp.payload],
    },
  };
}

test('decodeFrameAt in a larger buffer equals decodeFrame on the subarray, with one scratch reused', () => {
  const base = seeds();
  const scratch = new DecodeScratch();
  fc.assert(fc.property(
    fc.oneof(fc.constantFrom(...LINK_TYPES), fc.nat(300)),
    fc.oneof(fc.nat(base.length - 1).map((i) => base[i]![1]), fc.uint8Array({ maxLength: 160 })),
    fc.array(fc.tuple(fc.nat(200), fc.nat(255)), { maxLength: 4 }),
    fc.nat(250),
    fc.integer({ min: -20, max: 60 }),
    fc.uint8Array({ maxLength: 70 }),
    fc.uint8Array({ minLength: 1, maxLength: 70 }),
    (ltPick, seed, edits, cutAt, extra, before, after) => {
      const which = base.find(([, f]) => f === seed);
      const lt = which !== undefined && ltPick % 2 === 0 ? which[0] : ltPick;
      const frame = new Uint8Array(seed);
      for (const [pos, val] of edits) if (frame.length) frame[pos % frame.length] = val;
      const cut = frame.subarray(0, Math.min(frame.length, cutAt));
      const origLen = Math.max(0, frame.length + extra);
      // The frame with other bytes before and after it (a reader's chunk).
      const big = new Uint8Array(before.length + cut.length + after.length);
      big.set(before);
      big.set(cut, before.length);
      big.set(after, before.length + cut.length);
      const want = plain(decodeFrame(lt, cut, origLen));
      const got = decodeFrameAt(lt, big, before.length, cut.length, origLen, scratch);
      assert.deepEqual(plain(got), want);
      if (got.kind === 'tcp') assert.equal(got, scratch.frame);
    },
  ), { numRuns: 20000 });
});

test('decodeFrameAt equals decodeFrame for every single-byte change of the header bytes of valid frames', () => {
  const scratch = new DecodeScratch();
  const pad = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
  for (const [lt, seed] of seeds()) {
    for (let pos = 0; pos < Math.min(seed.length, 96); pos += 1) {
      const orig = seed[pos];
      for (const v of [0, 1, 0x20, 0x40, 0x45, 0x50, 0x80, 0xff, (orig + 1) & 0xff, (orig - 1) & 0xff]) {
        const frame = new Uint8Array(seed);
        frame[pos] = v;
        for (const len of [frame.length, frame.length - 1, 54, 34]) {
          if (len < 0 || len > frame.length) continue;
          const cut = frame.subarray(0, len);
          const big = new Uint8Array(pad.length * 2 + len);
          big.set(pad);
          big.set(cut, pad.length);
          big.set(pad, pad.length + len);
          for (const origLen of [len, frame.length, frame.length + 8]) {
            const want = plain(decodeFrame(lt, cut, origLen));
            assert.deepEqual(plain(decodeFrameAt(lt, big, pad.length, len, origLen, scratch)), want, `link ${lt}, byte ${pos} = ${v}, ${len} captured, ${origLen} on the wire`);
          }
        }
      }
    }
  }
});
