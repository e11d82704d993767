// Tests of the streaming parser: round trips through the writers in every format variant, chunk
// independence, truncation at every byte, hostile files, and a seeded fuzz loop.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CaptureFormatError } from '../errors.js';
import { createCaptureParser } from './parser.js';
import { Bytes, bytesOf, concatBytes, kuznetzov, mixedPcapng, parseAll, pcap, pkts, T0, type Frame, type Parsed, type Pkt } from './testkit.js';
import type { PacketRecord } from './types.js';
import { PcapWriter, pcapngBlock, writePcapng } from './writer.js';

function expectFrames(got: Frame[], want: Array<Pkt & { linkType: number; interfaceId?: number }>): void {
  assert.equal(got.length, want.length, 'packet count');
  want.forEach((w, i) => {
    const g = got[i];
    assert.equal(g.frame, i + 1, `frame number of packet ${i + 1}`);
    assert.equal(g.tsSec, w.tsSec, `tsSec of frame ${i + 1}`);
    assert.equal(g.tsNsec, w.tsNsec, `tsNsec of frame ${i + 1}`);
    assert.equal(g.linkType, w.linkType, `linkType of frame ${i + 1}`);
    assert.equal(g.interfaceId, w.interfaceId ?? 0, `interfaceId of frame ${i + 1}`);
    assert.equal(g.origLen, w.origLen ?? w.data.length, `origLen of frame ${i + 1}`);
    assert.deepEqual(g.data, w.data, `data of frame ${i + 1}`);
  });
}

function clean(p: Parsed): void {
  assert.equal(p.error, null, p.error?.message);
  assert.deepEqual(p.anomalies, []);
}

describe('classic pcap round trips', () => {
  const list = pkts(7, 123_456_789, 3);
  for (const nanosecond of [false, true]) {
    for (const bigEndian of [false, true]) {
      it(`${nanosecond ? 'ns' : 'µs'} ${bigEndian ? 'big' : 'little'}-endian`, () => {
        const bytes = pcap({ linkType: 1, nanosecond, bigEndian }, list);
        const r = parseAll(bytes);
        clean(r);
        assert.equal(r.format, 'pcap');
        const want = list.map((p) => ({ ...p, tsNsec: nanosecond ? p.tsNsec : Math.floor(p.tsNsec / 1000) * 1000, linkType: 1 }));
        expectFrames(r.frames, want);
      });
    }
  }

  it('keeps origLen and cuts data to the snap length when writing', () => {
    const data = bytesOf(200, 5);
    const r = parseAll(pcap({ linkType: 101, snaplen: 64 }, [{ tsSec: 1, tsNsec: 2000, data }]));
    clean(r);
    assert.equal(r.frames[0].data.length, 64);
    assert.equal(r.frames[0].origLen, 200);
    assert.deepEqual(r.frames[0].data, data.subarray(0, 64));
  });

  it('masks the FCS bits out of the link type, as libpcap does', () => {
    const bytes = pcap({ linkType: 0x30000001 }, pkts(1, 0, 1));
    assert.equal(parseAll(bytes).frames[0].linkType, 1);
  });

  it('reads the modified (Kuznetzov) format with its 24-byte record headers, both byte orders', () => {
    const list = pkts(3, 250_000_000, 4);
    for (const le of [true, false]) {
      const r = parseAll(kuznetzov(list, le));
      clean(r);
      expectFrames(r.frames, list.map((p) => ({ ...p, linkType: 101 })));
    }
  });

  it('swaps caplen and len in pre-2.3 files, as libpcap does', () => {
    const data = bytesOf(20, 1);
    // version 2.2: the record stores len first, then caplen.
    const bytes = new Bytes().u32(0xa1b2c3d4).u16(2).u16(2).u32(0).u32(0).u32(65535).u32(1)
      .u32(5).u32(6).u32(100).u32(20).raw(data).done();
    const r = parseAll(bytes);
    clean(r);
    assert.equal(r.frames[0].origLen, 100);
    assert.deepEqual(r.frames[0].data, data);
  });
});

describe('pcapng round trips', () => {
  it('several sections, byte orders, interfaces, if_tsresol (10^-n, 2^-n), if_tsoffset, SPB, PB', () => {
    const { bytes, want } = mixedPcapng();
    const r = parseAll(bytes);
    clean(r);
    assert.equal(r.format, 'pcapng');
    expectFrames(r.frames, want);
  });

  it('SPB: captured length is min(original length, snap length, block data)', () => {
    const idb = writePcapng([{ interfaces: [{ linkType: 1, snaplen: 40 }], packets: [] }]);
    const d = bytesOf(60, 3);
    const spb = pcapngBlock(3, new Bytes().u32(60).raw(d).done());
    const short = pcapngBlock(3, new Bytes().u32(100).raw(d.subarray(0, 20)).done());
    const r = parseAll(concatBytes([idb, spb, short]));
    assert.equal(r.error, null);
    assert.equal(r.frames.length, 2);
    assert.deepEqual(r.frames[0].data, d.subarray(0, 40));
    assert.equal(r.frames[0].origLen, 60);
    assert.deepEqual(r.frames[1].data, d.subarray(0, 20));
    assert.deepEqual(r.anomalies.map((a) => a.code), ['spb-data-short']);
  });

  it('EPB options are checked for framing but do not disturb the packet', () => {
    const head = writePcapng([{ interfaces: [{ linkType: 1, tsresol: 9 }], packets: [] }]);
    const d = bytesOf(10, 1);
    const epb = (opts: Uint8Array) =>
      pcapngBlock(6, concatBytes([new Bytes().u32(0).u32(0).u32(77).u32(10).u32(10).done(), d, new Uint8Array(2), opts]));
    const good = epb(new Bytes().u16(1).u16(3).raw(Uint8Array.of(65, 66, 67, 0)).u16(0).u16(0).done());
    const bad = epb(new Bytes().u16(1).u16(200).u32(0).done());
    const r = parseAll(concatBytes([head, good, bad]));
    assert.equal(r.error, null);
    assert.equal(r.frames.length, 2);
    assert.equal(r.frames[1].tsNsec, 77);
    assert.deepEqual(r.frames[1].data, d);
    assert.deepEqual(r.anomalies.map((a) => [a.code, a.frame]), [['bad-option-length', 2]]);
  });

  it('an IDB with broken options is an anomaly; defaults (µs) apply', () => {
    const shb = writePcapng([{ interfaces: [], packets: [] }]);
    const idb = pcapngBlock(1, new Bytes().u16(1).u16(0).u32(0).u16(9).u16(2).u8(9).u8(9).u16(0).u16(0).u16(0).u16(0).done());
    const epb = pcapngBlock(6, new Bytes().u32(0).u32(0).u32(1_500_000).u32(4).u32(4).u32(0).done());
    const r = parseAll(concatBytes([shb, idb, epb]));
    assert.equal(r.error, null);
    assert.equal(r.frames[0].tsSec, 1);
    assert.equal(r.frames[0].tsNsec, 500_000_000);
    assert.deepEqual(r.anomalies.map((a) => a.code), ['bad-option-length']);
  });

  it('unknown block types are anomalies without a frame; known ones are skipped silently', () => {
    const base = writePcapng([{ interfaces: [{ linkType: 1 }], packets: [{ interfaceId: 0, tsSec: 1, tsNsec: 0, data: bytesOf(20, 1) }] }]);
    const r = parseAll(concatBytes([base, pcapngBlock(0x0bad, new Uint8Array(8)), pcapngBlock(0x7777, new Uint8Array(4)), pcapngBlock(0x0a, new Uint8Array(8))]));
    assert.equal(r.error, null);
    assert.equal(r.frames.length, 1);
    assert.deepEqual(r.anomalies.map((a) => [a.code, a.frame, a.offset]), [['unknown-block-type', null, base.length + 20]]);
  });

  it('timestamps beyond 2^53 units, binary and coarse resolutions are exact', () => {
    const cases: Array<[number, number, number]> = [
      [9, 4_102_444_800, 999_999_999], // year 2100 in ns: > 2^53 units
      [6, 4_294_967_296 + 5, 123_456_000], // past 2106
      [0, 12345, 0],
      [0x80 | 30, T0, 15_625_000 * 63],
      [0x80 | 0, 77, 0],
      [12, 10_000_000, 123_456_789], // picoseconds (the BigInt path): 64 bits hold ~213 days
    ];
    for (const [tsresol, tsSec, tsNsec] of cases) {
      const r = parseAll(writePcapng([{ interfaces: [{ linkType: 1, tsresol }], packets: [{ interfaceId: 0, tsSec, tsNsec, data: bytesOf(4, 1) }] }]));
      clean(r);
      assert.deepEqual([r.frames[0].tsSec, r.frames[0].tsNsec], [tsSec, tsNsec], `tsresol 0x${tsresol.toString(16)}`);
    }
  });

  it('a file with only a Section Header Block has no packets and no error', () => {
    const r = parseAll(writePcapng([{ interfaces: [], packets: [] }]));
    clean(r);
    assert.equal(r.frames.length, 0);
    assert.equal(r.format, 'pcapng');
  });
});

describe('record-level damage is an anomaly and reading goes on', () => {
  it('caplen > snaplen (data cut to snaplen), caplen > origlen, empty packets, fraction out of range', () => {
    const d = bytesOf(60, 1);
    const bytes = new Bytes().u32(0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(40).u32(1)
      .u32(1).u32(0).u32(60).u32(60).raw(d)
      .u32(2).u32(0).u32(30).u32(20).raw(d.subarray(0, 30))
      .u32(3).u32(0).u32(0).u32(0)
      .u32(4).u32(2_500_000).u32(10).u32(10).raw(d.subarray(0, 10))
      .done();
    const r = parseAll(bytes);
    assert.equal(r.error, null);
    assert.equal(r.frames.length, 4);
    assert.deepEqual(r.frames[0].data, d.subarray(0, 40));
    assert.equal(r.frames[2].data.length, 0);
    assert.deepEqual([r.frames[3].tsSec, r.frames[3].tsNsec], [6, 500_000_000]);
    assert.deepEqual(r.anomalies.map((a) => [a.frame, a.code]), [
      [1, 'caplen-exceeds-snaplen'],
      [2, 'caplen-exceeds-origlen'],
      [3, 'zero-length-packet'],
      [4, 'timestamp-fraction-out-of-range'],
    ]);
    assert.equal(r.anomalies[0].offset, 24 + 8);
  });

  it('EPB caplen > snaplen is an anomaly too (libpcap would stop; Wireshark reads on)', () => {
    const bytes = writePcapng([{ interfaces: [{ linkType: 1, snaplen: 16 }], packets: [{ interfaceId: 0, tsSec: 1, tsNsec: 0, data: bytesOf(40, 2) }] }]);
    const r = parseAll(bytes);
    assert.equal(r.error, null);
    assert.equal(r.frames[0].data.length, 16);
    assert.deepEqual(r.anomalies.map((a) => a.code), ['caplen-exceeds-snaplen']);
  });
});

/** Assert the parse delivered `n` packets and then failed with a CaptureFormatError at `offset` mentioning `text`. */
function expectError(r: Parsed, n: number, offset: number, text: RegExp): void {
  assert.ok(r.error instanceof CaptureFormatError, 'expected a CaptureFormatError');
  assert.equal(r.error.code, 'ERR_CAPTURE_FORMAT');
  assert.equal(r.frames.length, n, 'packets delivered before the error');
  assert.equal(r.error.offset, offset, r.error.message);
  assert.match(r.error.message, text);
  assert.match(r.error.message, new RegExp(`offset ${offset}\\b`));
}

describe('file-level damage throws CaptureFormatError after the good packets', () => {
  const good = pcap({ linkType: 1 }, pkts(2, 0, 1));

  it('empty input', () => {
    const r = parseAll(new Uint8Array(0));
    assert.ok(r.error instanceof CaptureFormatError);
    assert.equal(r.error.message, 'empty file, not a capture');
    assert.equal(r.error.offset, 0);
  });

  it('wrong magic', () => {
    expectError(parseAll(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n')), 0, 0, /not a pcap or pcapng capture.*47 45 54 20.*text/);
    const gz = parseAll(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0));
    assert.match(gz.error?.message ?? '', /gzip/);
  });

  it('archaic and unknown pcap versions', () => {
    const v = (major: number, minor: number) => new Bytes().u32(0xa1b2c3d4).u16(major).u16(minor).u32(0).u32(0).u32(0).u32(1).done();
    expectError(parseAll(v(1, 0)), 0, 4, /archaic/);
    expectError(parseAll(v(2, 5)), 0, 4, /unsupported pcap file format version 2\.5/);
  });

  it('absurd caplen, detected from the record header alone (no buffering of a claimed length)', () => {
    const bad = concatBytes([good, new Bytes().u32(1).u32(0).u32(0x7fffffff).u32(0x7fffffff).done()]);
    expectError(parseAll(bad), 2, good.length, /claims 2147483647 captured bytes, more than the maximum of 262144/);
    // Pushing just the header throws at once, not at end().
    const p = createCaptureParser({ packet() {} });
    assert.throws(() => p.push(bad), CaptureFormatError);
    // …and the failed parser keeps failing the same way.
    assert.throws(() => p.push(Uint8Array.of(1)), /claims 2147483647/);
    assert.throws(() => p.end(), /claims 2147483647/);
  });

  it('caplen above 262144 is refused for Ethernet but fine for D-Bus (libpcap limits)', () => {
    const big = bytesOf(300_000, 1);
    const eth = pcap({ linkType: 1, snaplen: 400_000 }, [{ tsSec: 1, tsNsec: 0, data: big }]);
    expectError(parseAll(eth), 0, 24, /more than the maximum of 262144 for link type 1/);
    const dbus = parseAll(pcap({ linkType: 231, snaplen: 400_000 }, [{ tsSec: 1, tsNsec: 0, data: big }]), 65536);
    clean(dbus);
    assert.deepEqual(dbus.frames[0].data, big);
  });

  const ng = writePcapng([{ interfaces: [{ linkType: 1 }], packets: [{ interfaceId: 0, tsSec: 1, tsNsec: 0, data: bytesOf(20, 1) }] }]);
  const blk = (type: number, len: number, trailer = len) => new Bytes().u32(type).u32(len).raw(new Uint8Array(Math.max(0, len - 12))).u32(trailer).done();

  it('pcapng block length not a multiple of 4, too small, too large, trailer differing', () => {
    expectError(parseAll(concatBytes([ng, blk(6, 30)])), 1, ng.length, /total length of 30, which is not a multiple of 4/);
    expectError(parseAll(concatBytes([ng, new Bytes().u32(6).u32(8).u32(8).done()])), 1, ng.length, /total length of 8, less than the minimum 12/);
    expectError(parseAll(concatBytes([ng, new Bytes().u32(6).u32(0x40000000).done()])), 1, ng.length, /total length of 1073741824, more than the maximum/);
    expectError(parseAll(concatBytes([ng, blk(0x0bad, 16, 20)])), 1, ng.length, /total length 16 in its header but 20 in its trailer/);
  });

  it('pcapng packets referring to missing interfaces, EPB data beyond its block, bad sections', () => {
    const shbOnly = writePcapng([{ interfaces: [], packets: [] }]);
    const epb = pcapngBlock(6, new Bytes().u32(0).u32(0).u32(0).u32(4).u32(4).u32(0).done());
    expectError(parseAll(concatBytes([shbOnly, epb])), 0, shbOnly.length, /refers to interface 0, but no interface/);
    expectError(parseAll(concatBytes([ng, shbOnly, epb])), 1, ng.length + shbOnly.length, /Interface Description Block missing/);
    const long = pcapngBlock(6, new Bytes().u32(0).u32(0).u32(0).u32(400).u32(400).u32(0).done());
    expectError(parseAll(concatBytes([ng, long])), 1, ng.length, /claims 400 captured bytes but holds only 4/);
    const badBom = new Bytes().u32(0x0a0d0d0a).u32(28).u32(0x12345678).u16(1).u16(0).u32(0).u32(0).u32(28).done();
    expectError(parseAll(concatBytes([ng, badBom])), 1, ng.length, /byte-order magic 0x12345678/);
    const v2 = new Bytes().u32(0x0a0d0d0a).u32(28).u32(0x1a2b3c4d).u16(2).u16(0).u32(0).u32(0).u32(28).done();
    expectError(parseAll(concatBytes([ng, v2])), 1, ng.length, /unsupported pcapng version 2\.0/);
  });
});

/** Byte offsets where units end (header, records or blocks) in a valid file. */
function boundaries(bytes: Uint8Array): number[] {
  const ends: number[] = [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) === 0x0a0d0d0a) {
    let le = true;
    for (let o = 0; o < bytes.length; ) {
      if (v.getUint32(o, true) === 0x0a0d0d0a) le = v.getUint32(o + 8, true) === 0x1a2b3c4d;
      o += v.getUint32(o + 4, le);
      ends.push(o);
    }
  } else {
    const magic = v.getUint32(0, true);
    const le = [0xa1b2c3d4, 0xa1b23c4d, 0xa1b2cd34].includes(magic);
    const hs = (le ? magic : v.getUint32(0, false)) === 0xa1b2cd34 ? 24 : 16;
    ends.push(24);
    for (let o = 24; o < bytes.length; ) {
      o += hs + v.getUint32(o + 8, le);
      ends.push(o);
    }
  }
  return ends;
}

function samples(): Array<[string, Uint8Array]> {
  return [
    ['pcap µs LE', pcap({ linkType: 1 }, pkts(3, 1000, 1))],
    ['pcap ns BE', pcap({ linkType: 113, nanosecond: true, bigEndian: true }, pkts(3, 7, 2))],
    ['kuznetzov', kuznetzov(pkts(2, 1000, 3))],
    ['pcapng mixed', mixedPcapng().bytes],
  ];
}

describe('chunking', () => {
  for (const [name, bytes] of samples()) {
    it(`${name}: chunks of every size 1..64 give the same result as one push`, () => {
      const whole = parseAll(bytes);
      assert.equal(whole.error, null);
      assert.ok(whole.frames.length > 0);
      for (let cs = 1; cs <= 64; cs++) assert.deepEqual(parseAll(bytes, cs), whole, `chunk size ${cs}`);
      // Damaged variants too: the same error at the same offset, after the same packets.
      const cut = bytes.subarray(0, bytes.length - 3);
      const cutWhole = parseAll(cut);
      assert.ok(cutWhole.error);
      for (let cs = 1; cs <= 64; cs += 7) assert.deepEqual(parseAll(cut, cs), cutWhole, `cut, chunk size ${cs}`);
    });
  }

  it('data is a view into the pushed chunk when the record lies within it', () => {
    const bytes = pcap({ linkType: 1 }, pkts(3, 0, 4));
    const seen: Array<[ArrayBufferLike, PacketRecord]> = [];
    const p = createCaptureParser({
      packet(r) {
        seen.push([r.data.buffer, r]);
      },
    });
    p.push(bytes);
    p.end();
    assert.equal(seen.length, 3);
    for (const [buf] of seen) assert.equal(buf, bytes.buffer);
    // One record object, reused.
    assert.equal(seen[0][1], seen[2][1]);
    assert.equal(p.packets, 3);
    assert.equal(p.bytes, bytes.length);
  });
});

describe('truncation at every byte offset', () => {
  for (const [name, bytes] of samples()) {
    it(name, () => {
      const ends = boundaries(bytes);
      const whole = parseAll(bytes);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const r = parseAll(bytes.subarray(0, cut), 13);
        const complete = ends.filter((e) => e <= cut);
        const unitStart = complete.length ? complete[complete.length - 1] : 0;
        // Packets: those wholly before the cut, identical to the complete parse.
        const n = r.frames.length;
        assert.deepEqual(r.frames, whole.frames.slice(0, n), `cut ${cut}`);
        if (cut === unitStart && cut > 0) {
          assert.equal(r.error, null, `cut ${cut} at a boundary: ${r.error?.message}`);
        } else {
          assert.ok(r.error instanceof CaptureFormatError, `cut ${cut}: expected an error`);
          assert.equal(r.error.offset, cut === 0 ? 0 : unitStart, `cut ${cut}: ${r.error.message}`);
          if (cut > 0) assert.match(r.error.message, /capture cut off/);
        }
      }
    });
  }
});

describe('fuzz (seeded, bounded)', () => {
  const prefixes = [
    new Uint8Array(0),
    new PcapWriter({ linkType: 1 }).header(),
    new PcapWriter({ linkType: 231, nanosecond: true, bigEndian: true }).header(),
    writePcapng([{ interfaces: [], packets: [] }]),
    writePcapng([{ bigEndian: true, interfaces: [{ linkType: 1, tsresol: 0x85 }], packets: [] }]),
  ];
  const valid = samples().map(([, b]) => b);

  /** Only CaptureFormatError may escape (parseAll rethrows anything else), and chunking changes nothing. */
  function check(bytes: Uint8Array, chunk: number): void {
    const whole = parseAll(bytes);
    const chunked = parseAll(bytes, chunk);
    assert.deepEqual(chunked, whole);
    whole.frames.forEach((f, i) => assert.equal(f.frame, i + 1));
  }

  it('random bytes behind plausible headers', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 97 }), (pre, tail, chunk) => {
        check(concatBytes([pre, tail]), chunk);
      }),
      { seed: 20241125, numRuns: 2500 },
    );
  });

  it('valid files with bytes overwritten and cut', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.integer({ min: 1, max: 64 }),
        (file, edits, cut, chunk) => {
          const b = file.slice(0, file.length - (cut % 8 === 0 ? cut % file.length : 0));
          for (const [pos, val] of edits) if (b.length) b[pos % b.length] = val;
          check(b, chunk);
        },
      ),
      { seed: 7, numRuns: 2500 },
    );
  });
});

describe('zero-copy record', () => {
  it('offers bytes/dataOffset/dataLength for the same bytes as data, without changing what spreads and keys see', () => {
    const files = [pcap({ linkType: 1 }, pkts(5, 1000, 3)), mixedPcapng().bytes];
    for (const bytes of files) {
      for (const chunk of [bytes.length, 7, 100]) {
        let n = 0;
        const p = createCaptureParser({
          packet(r: PacketRecord) {
            n++;
            assert.ok(r.bytes !== undefined && r.dataOffset !== undefined && r.dataLength !== undefined);
            const inPlace = r.bytes.subarray(r.dataOffset, r.dataOffset + r.dataLength);
            assert.deepEqual(inPlace, r.data);
            assert.equal(r.data, r.data, 'one view per packet');
            assert.deepEqual(Object.keys(r), ['frame', 'tsSec', 'tsNsec', 'linkType', 'interfaceId', 'data', 'origLen']);
            assert.deepEqual(Object.keys({ ...r }), Object.keys(r));
            // A consumer may replace data; the zero-copy fields follow.
            const copy = r.data.slice();
            r.data = copy;
            assert.equal(r.data, copy);
            assert.equal(r.bytes, copy);
            assert.equal(r.dataOffset, 0);
            assert.equal(r.dataLength, copy.length);
          },
        });
        for (let o = 0; o < bytes.length; o += chunk) p.push(bytes.subarray(o, o + chunk));
        p.end();
        assert.ok(n > 0);
        assert.equal(n, parseAll(bytes).frames.length);
      }
    }
  });
});
