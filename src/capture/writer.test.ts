// Tests of the writers: exact header bytes, the batching file writer, and the real oracles —
// tcpdump (libpcap) and tshark (Wireshark) must read the files back with the same packet count,
// timestamps and lengths as rstlab's own parser.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { skipOutsideCi } from '../testkit.js';
import { bytesOf, mixedPcapng, parseAll, pcap, pkts, T0, which, type Frame } from './testkit.js';
import { createPcapFileWriter, PcapWriter, writePcapng } from './writer.js';

const run = promisify(execFile);
const TCPDUMP = which('tcpdump');
const TSHARK = which('tshark');

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rstlab-capture-writer-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('PcapWriter', () => {
  it('writes the libpcap file header, both byte orders and resolutions', () => {
    assert.deepEqual(
      Array.from(new PcapWriter({ linkType: 1 }).header()),
      [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0],
    );
    assert.deepEqual(
      Array.from(new PcapWriter({ linkType: 113, snaplen: 65535, nanosecond: true, bigEndian: true }).header()),
      [0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 113],
    );
  });

  it('writes records: µs from ns, caplen cut to snaplen, origLen kept', () => {
    const w = new PcapWriter({ linkType: 1, snaplen: 4 });
    const rec = w.record(0x01020304, 5_678_999, Uint8Array.of(9, 8, 7, 6, 5, 4), 1000);
    assert.deepEqual(Array.from(rec), [4, 3, 2, 1, 0x2e, 0x16, 0, 0, 4, 0, 0, 0, 0xe8, 3, 0, 0, 9, 8, 7, 6]);
  });
});

describe('createPcapFileWriter', () => {
  it('batches many records, and writes a record larger than the batch directly', async () => {
    const path = join(dir, 'batched.pcap');
    const w = createPcapFileWriter(path, { linkType: 231, snaplen: 4 << 20 }); // D-Bus: libpcap allows 128 MiB packets
    const list = pkts(5000, 987_654_321, 7);
    const huge = bytesOf(1_500_000, 3);
    let expected = 24;
    list.forEach((p, i) => {
      w.write(p.tsSec, p.tsNsec, p.data);
      expected += 16 + p.data.length;
      if (i === 2500) {
        w.write(T0, 0, huge);
        expected += 16 + huge.length;
      }
    });
    assert.equal(w.bytes, expected);
    await w.close();
    await w.close(); // idempotent
    assert.throws(() => w.write(1, 0, huge), /closed/);
    const bytes = readFileSync(path);
    assert.equal(bytes.length, expected);
    const r = parseAll(bytes, 1 << 20);
    assert.equal(r.error, null);
    assert.equal(r.frames.length, 5001);
    assert.deepEqual(r.frames[2501].data, huge);
    assert.deepEqual(r.frames[4000].data, list[3999].data);
    assert.equal(r.frames[4000].tsNsec, Math.floor(list[3999].tsNsec / 1000) * 1000);
  });

  it('refuses a path it cannot create with InputError', () => {
    assert.throws(() => createPcapFileWriter(join(dir, 'no', 'such', 'dir.pcap'), { linkType: 1 }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ERR_INPUT');
      assert.match(e.message, /cannot create capture file/);
      return true;
    });
  });
});

// --- oracles ----------------------------------------------------------------------------------

const ns = (sec: number | bigint, nsec: number | bigint): bigint => BigInt(sec) * 1_000_000_000n + BigInt(nsec);

/** "1700000000.123456789" → ns */
function parseEpoch(s: string): bigint {
  const [a, b = ''] = s.trim().split('.');
  return ns(BigInt(a), BigInt((b + '000000000').slice(0, 9)));
}

async function tcpdumpCount(path: string): Promise<number> {
  const { stdout, stderr } = await run(TCPDUMP as string, ['-r', path, '--count'], { encoding: 'latin1' });
  const m = /^(\d+) packets?/m.exec(stdout + stderr);
  assert.ok(m, `tcpdump --count said: ${stdout} ${stderr}`);
  return Number(m[1]);
}

/** frame number → timestamp, from `tcpdump -# -tt --nano`. */
async function tcpdumpTimes(path: string): Promise<Map<number, bigint>> {
  const { stdout } = await run(TCPDUMP as string, ['-#', '-tt', '--nano', '-n', '-r', path], { encoding: 'latin1', maxBuffer: 1 << 26 });
  const out = new Map<number, bigint>();
  for (const line of stdout.split('\n')) {
    const m = /^ *(\d+)  (\d+\.\d+) /.exec(line);
    if (m && !out.has(Number(m[1]))) out.set(Number(m[1]), parseEpoch(m[2]));
  }
  return out;
}

interface SharkRow {
  time: bigint;
  len: number;
  capLen: number;
  interfaceId: number;
}

async function tshark(path: string): Promise<SharkRow[]> {
  const { stdout } = await run(
    TSHARK as string,
    ['-r', path, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.interface_id'],
    { encoding: 'latin1', maxBuffer: 1 << 26 },
  );
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [t, len, cap, id] = l.split('\t');
      return { time: parseEpoch(t), len: Number(len), capLen: Number(cap), interfaceId: Number(id || 0) };
    });
}

function variants(): Array<{ name: string; bytes: Uint8Array; tcpdump: boolean }> {
  const list = pkts(9, 123_456_789, 11);
  const sameLinkType = writePcapng([
    {
      interfaces: [{ linkType: 1, tsresol: 9 }, { linkType: 1 }, { linkType: 1, tsresol: 0x80 | 20, tsoffset: 3600 }],
      packets: list.slice(0, 5).map((p, i) => ({ interfaceId: i % 3, tsSec: p.tsSec, tsNsec: i % 3 === 0 ? p.tsNsec : 15_625_000 * (i + 1), data: p.data })),
    },
    {
      interfaces: [{ linkType: 1, tsresol: 3, tsoffset: -7 }],
      packets: list.slice(5).map((p, i) => ({ interfaceId: 0, tsSec: p.tsSec, tsNsec: 1_000_000 * (i + 1), data: p.data, origLen: p.data.length + 100 })),
    },
  ]);
  return [
    { name: 'pcap µs little-endian', bytes: pcap({ linkType: 1 }, list), tcpdump: true },
    { name: 'pcap µs big-endian', bytes: pcap({ linkType: 1, bigEndian: true }, list), tcpdump: true },
    { name: 'pcap ns little-endian', bytes: pcap({ linkType: 1, nanosecond: true }, list), tcpdump: true },
    { name: 'pcap ns big-endian, snaplen 100', bytes: pcap({ linkType: 1, nanosecond: true, bigEndian: true, snaplen: 100 }, list), tcpdump: true },
    { name: 'pcapng 2 sections, 3 interfaces, tsresol 10^-9 / 2^-20 / 10^-3, tsoffset', bytes: sameLinkType, tcpdump: true },
    // libpcap refuses interfaces of different link types and sections of different byte order: tshark only.
    { name: 'pcapng mixed link types and byte orders, SPB, PB', bytes: mixedPcapng().bytes, tcpdump: false },
  ];
}

function ours(bytes: Uint8Array): Frame[] {
  const r = parseAll(bytes);
  assert.equal(r.error, null, r.error?.message);
  return r.frames;
}

describe('tcpdump reads the written files back identically', { skip: skipOutsideCi(TCPDUMP ? false : 'tcpdump is not installed (apt-get install tcpdump)') }, () => {
  for (const v of variants().filter((x) => x.tcpdump)) {
    it(v.name, async () => {
      const path = join(dir, v.name.replace(/\W+/g, '_') + '.cap');
      writeFileSync(path, v.bytes);
      const frames = ours(v.bytes);
      assert.equal(await tcpdumpCount(path), frames.length);
      const times = await tcpdumpTimes(path);
      assert.equal(times.size, frames.length);
      for (const f of frames) assert.equal(times.get(f.frame), ns(f.tsSec, f.tsNsec), `frame ${f.frame}`);
    });
  }
});

describe('tshark reads the written files back identically', { skip: skipOutsideCi(TSHARK ? false : 'tshark is not installed (apt-get install tshark)') }, () => {
  for (const v of variants()) {
    it(v.name, async () => {
      const path = join(dir, 'shark_' + v.name.replace(/\W+/g, '_') + '.cap');
      writeFileSync(path, v.bytes);
      const frames = ours(v.bytes);
      const rows = await tshark(path);
      assert.equal(rows.length, frames.length);
      frames.forEach((f, i) => {
        const row = rows[i];
        assert.equal(row.time, ns(f.tsSec, f.tsNsec), `time of frame ${f.frame}`);
        assert.equal(row.len, f.origLen, `length of frame ${f.frame}`);
        assert.equal(row.capLen, f.data.length, `captured length of frame ${f.frame}`);
        assert.equal(row.interfaceId, f.interfaceId, `interface of frame ${f.frame}`);
      });
    });
  }
});
