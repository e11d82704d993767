// Tests of readCapture: paths, streams, stdin (through a child node process), gzip, the byte limit,
// and the errors a user can cause (missing file, directory, empty or damaged input).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CaptureFormatError, InputError } from '../errors.js';
import { fromPageCache, readCapture } from './reader.js';
import { bytesOf, concatBytes, mixedPcapng, pcap, pkts } from './testkit.js';
import type { CaptureSink, CaptureSummary } from './types.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rstlab-capture-reader-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A sink that fingerprints what it sees (count, byte sum, last frame's timestamp). */
function collector(): CaptureSink & { n: number; sum: number; last: string; anomalies: number } {
  return {
    n: 0,
    sum: 0,
    last: '',
    anomalies: 0,
    packet(p) {
      this.n++;
      for (let i = 0; i < p.data.length; i += 97) this.sum = (this.sum + p.data[i] * (i + 1)) % 1_000_000_007;
      this.last = `${p.frame}@${p.tsSec}.${p.tsNsec}`;
    },
    anomaly() {
      this.anomalies++;
    },
  };
}

function file(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

// ~3.5 MB, so that reads and gzip output span several 1 MiB chunks.
const big = pcap({ linkType: 1, nanosecond: true }, pkts(12_000, 999_999, 5));

describe('readCapture', () => {
  it('reads a path in 1 MiB chunks, with records straddling chunks', async () => {
    const a = collector();
    const s = await readCapture(file('big.pcap', big), a);
    assert.deepEqual(s, { format: 'pcap', packets: 12_000, bytes: big.length, gzip: false, anomalies: 0 });
    const b = collector();
    await readCapture(Readable.from([Buffer.from(big)]), b);
    assert.deepEqual([a.n, a.sum, a.last], [b.n, b.sum, b.last]);
    assert.equal(a.last, `12000@${1_700_000_000 + 11_999}.${(11_999 * 999_999) % 1e9}`);
  });

  it('decompresses gzip on the fly, from a path and from a stream', async () => {
    const ref = collector();
    await readCapture(file('ref.pcap', big), ref);
    const gz = gzipSync(big);
    const a = collector();
    const s = await readCapture(file('big.pcap.gz', gz), a);
    assert.deepEqual(s, { format: 'pcap', packets: 12_000, bytes: big.length, gzip: true, anomalies: 0 });
    assert.deepEqual([a.n, a.sum, a.last], [ref.n, ref.sum, ref.last]);
    // A stream delivering the gzip bytes one at a time for the first few (the magic split in two).
    const pieces = [gz.subarray(0, 1), gz.subarray(1, 2), gz.subarray(2, 100_000), gz.subarray(100_000)];
    const b = collector();
    const s2 = await readCapture(Readable.from(pieces), b);
    assert.equal(s2.gzip, true);
    assert.deepEqual([b.n, b.sum], [ref.n, ref.sum]);
  });

  it('pcapng through a stream, counted anomalies', async () => {
    const { bytes, want } = mixedPcapng();
    const c = collector();
    const s = await readCapture(createReadStream(file('m.pcapng', bytes), { highWaterMark: 17 }), c);
    assert.deepEqual(s, { format: 'pcapng', packets: want.length, bytes: bytes.length, gzip: false, anomalies: 0 });
    const odd = concatBytes([pcap({ linkType: 1 }, pkts(2, 0, 1)), new Uint8Array(16)]); // a zero-length record
    const s2 = await readCapture(Readable.from([odd]), collector());
    assert.equal(s2.anomalies, 1);
    assert.equal(s2.packets, 3);
  });

  it('reads standard input when given "-"', async () => {
    const reader = fileURLToPath(new URL('./reader.js', import.meta.url));
    const script = `import(${JSON.stringify(reader)}).then(async (m) => {
      let n = 0; const s = await m.readCapture('-', { packet() { n++; } });
      process.stdout.write(JSON.stringify({ n, s }));
    }).catch((e) => { process.stdout.write(JSON.stringify({ error: e.message })); });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.end(Buffer.from(gzipSync(big)));
    const code = await done;
    assert.equal(code, 0);
    const got = JSON.parse(out) as { n: number; s: CaptureSummary };
    assert.equal(got.n, 12_000);
    assert.equal(got.s.gzip, true);
  });

  it('stops at maxBytes without calling the cut record an error', async () => {
    const c = collector();
    const s = await readCapture(file('lim.pcap', big), c, { maxBytes: 1_000_000 });
    assert.equal(s.limited, true);
    assert.equal(s.bytes, 1_000_000);
    assert.ok(c.n > 1000 && c.n < 12_000, `${c.n} packets`);
    assert.equal(s.packets, c.n);
    await assert.rejects(readCapture(file('lim2.pcap', big), collector(), { maxBytes: 3 }), CaptureFormatError);
  });
});

describe('readCapture read-ahead', () => {
  it('a worker thread reads ahead of the parser: the same packets, most bytes from the worker', async () => {
    // ~20 MB: the worker's 8 MiB ring turns more than twice.
    const large = pcap({ linkType: 1 }, pkts(100_000, 1_000_001, 7));
    const path = file('large.pcap', large);
    const plain = collector();
    const s1 = await readCapture(path, plain, { readAheadMin: Infinity });
    const stats = { bytes: 0 };
    const ahead = collector();
    const first = ahead.packet.bind(ahead);
    let waited = false;
    ahead.packet = (p) => {
      // Hold the first packet long enough for the worker to boot (tens of milliseconds) and fill
      // its ring, so that much comes from it whatever the machine's speed.
      if (!waited) {
        waited = true;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
      }
      first(p);
    };
    const s2 = await readCapture(path, ahead, { readAheadMin: 0, readAheadProbe: 0, readAheadStats: stats });
    assert.deepEqual(s2, s1);
    assert.deepEqual([ahead.n, ahead.sum, ahead.last], [plain.n, plain.sum, plain.last]);
    assert.ok(stats.bytes >= 8 * 1024 * 1024, `${stats.bytes} of ${large.length} bytes came from the worker: at least its ring's worth`);
  });

  it('a file that grows while it is read: what was appended is read too, as with plain reads', async () => {
    const head = pcap({ linkType: 1 }, pkts(30_000, 1_000_001, 9)); // ~6 MB
    const tail = pcap({ linkType: 1 }, pkts(500, 3, 11)).subarray(24); // records only
    for (const readAheadMin of [0, Infinity]) {
      const path = file(`grows-${readAheadMin}.pcap`, head);
      const c = collector();
      const count = c.packet.bind(c);
      let appended = false;
      c.packet = (p) => {
        count(p);
        if (c.n === 30_000 && !appended) {
          appended = true;
          appendFileSync(path, tail); // the capture's writer adds 500 packets
        }
      };
      const s = await readCapture(path, c, { readAheadMin, readAheadProbe: 0 });
      assert.equal(s.packets, 30_500, `readAheadMin ${readAheadMin}`);
    }
  });

  it('a file the page cache holds is read here: its first reads come at page-cache speed, no worker starts', async () => {
    const large = pcap({ linkType: 1 }, pkts(100_000, 1_000_001, 7)); // ~20 MB, just written: in the page cache
    const path = file('cached.pcap', large);
    const plain = collector();
    const s1 = await readCapture(path, plain, { readAheadMin: Infinity });
    // (Timed reads: a run whose probe was slowed by the machine's other work starts the worker, as
    // for a disk; one of three runs must not.)
    const fromWorker: number[] = [];
    for (let run = 0; run < 3 && !fromWorker.includes(0); run++) {
      const stats = { bytes: 0 };
      const c = collector();
      const s = await readCapture(path, c, { readAheadMin: 0, readAheadProbe: 4 * 1024 * 1024, readAheadStats: stats });
      assert.deepEqual(s, s1);
      assert.deepEqual([c.n, c.sum, c.last], [plain.n, plain.sum, plain.last]);
      fromWorker.push(stats.bytes);
    }
    assert.ok(fromWorker.includes(0), `bytes from the worker in each run: ${fromWorker.join(', ')}`);
    // The rule itself: 4 MiB in 0.7 ms (the page cache) and in 6.3 ms (a disk).
    assert.equal(fromPageCache(4 << 20, 0.7e6), true);
    assert.equal(fromPageCache(4 << 20, 6.3e6), false);
  });

  it('a file too small to read ahead, and one that ends before the worker starts', async () => {
    const stats = { bytes: 0 };
    const c = collector();
    const s = await readCapture(file('small.pcap', big), c, { readAheadStats: stats });
    assert.equal(s.packets, 12_000);
    assert.equal(stats.bytes, 0, 'below the default 32 MiB: no worker');
    const d = collector();
    const s2 = await readCapture(file('tiny.pcap', pcap({ linkType: 1 }, pkts(3, 0, 1))), d, { readAheadMin: 0, readAheadProbe: 0, readAheadStats: stats });
    assert.equal(s2.packets, 3);
    assert.equal(d.n, 3);
  });
});

describe('readCapture errors', () => {
  it('missing file, directory → InputError with a clear message', async () => {
    await assert.rejects(readCapture(join(dir, 'nope.pcap'), collector()), (e: Error) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.message, `no such file: ${join(dir, 'nope.pcap')}`);
      return true;
    });
    await assert.rejects(readCapture(dir, collector()), (e: Error) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /is a directory, not a capture file/);
      return true;
    });
  });

  it('unreadable file → InputError', async () => {
    if (process.getuid?.() === 0) {
      // Root reads through file modes; /proc/self/mem opens but fails every read at offset 0 (EIO).
      await assert.rejects(readCapture('/proc/self/mem', collector()), (e: Error) => {
        assert.ok(e instanceof InputError);
        assert.match(e.message, /^cannot read \/proc\/self\/mem: EIO/);
        return true;
      });
      return;
    }
    const p = file('secret.pcap', big);
    chmodSync(p, 0o000);
    await assert.rejects(readCapture(p, collector()), /permission denied/);
  });

  it('a stream that delivers text → InputError', async () => {
    const s = Readable.from(['not bytes']);
    await assert.rejects(readCapture(s, collector()), InputError);
  });

  it('empty input → CaptureFormatError "empty file, not a capture"', async () => {
    await assert.rejects(readCapture(file('empty.pcap', new Uint8Array(0)), collector()), (e: Error) => {
      assert.ok(e instanceof CaptureFormatError);
      assert.equal(e.message, 'empty file, not a capture');
      return true;
    });
  });

  it('a cut-off capture: the good packets, then CaptureFormatError with the offset', async () => {
    const c = collector();
    const cut = big.subarray(0, 2_000_000);
    await assert.rejects(readCapture(file('cut.pcap', cut), c), (e: Error) => {
      assert.ok(e instanceof CaptureFormatError);
      assert.match(e.message, /capture cut off/);
      assert.ok(e.offset < 2_000_000 && e.offset > 1_990_000);
      return true;
    });
    assert.ok(c.n > 6000);
  });

  it('a damaged or cut gzip stream → CaptureFormatError after the packets before the damage', async () => {
    const gz = gzipSync(big);
    const c = collector();
    await assert.rejects(readCapture(file('cut.pcap.gz', gz.subarray(0, gz.length - 5000)), c), (e: Error) => {
      assert.ok(e instanceof CaptureFormatError, String(e));
      assert.match(e.message, /gzip stream .* is damaged or cut off/);
      return true;
    });
    assert.ok(c.n > 1000, `${c.n} packets before the damage`);
    const bad = Buffer.from(gz);
    bad.fill(0x55, 2000, 2100);
    await assert.rejects(readCapture(file('bad.pcap.gz', bad), collector()), CaptureFormatError);
  });

  it('gzip of something that is not a capture → CaptureFormatError about the magic', async () => {
    await assert.rejects(readCapture(file('x.gz', gzipSync(bytesOf(1000, 1))), collector()), /not a pcap or pcapng capture/);
  });
});
