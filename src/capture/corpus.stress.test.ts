// The tcpdump test corpus (830 pcap/pcapng files, many deliberately malformed) against libpcap
// itself: every file must be read to its end without throwing (tcpdump exits 0 on all of them),
// with tcpdump's packet count (`--count`) and, frame by frame, tcpdump's timestamps
// (`-# -tt --nano`). Should libpcap stop with an error on some file, rstlab must stop too, with a
// CaptureFormatError after the same number of packets. Skipped when the corpus or tcpdump is absent,
// except in CI, where that fails.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CaptureFormatError } from '../errors.js';
import { readCapture } from './reader.js';
import { sharedCorpus } from '../paths.js';
import { skipOutsideCi } from '../testkit.js';
import { parseAll, which } from './testkit.js';

const CORPUS = sharedCorpus('tcpdump-tests');
const TCPDUMP = which('tcpdump');
const missing = !CORPUS ? 'tcpdump test corpus not found: ../shared/corpus/tcpdump-tests beside the repository, or set RSTLAB_TCPDUMP_CORPUS'
  : !TCPDUMP ? 'tcpdump is not installed (apt-get install tcpdump)' : false;
const skip = skipOutsideCi(missing);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function tcpdump(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(TCPDUMP as string, args, { encoding: 'latin1', maxBuffer: 1 << 28 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

const TWO32 = 2n ** 32n;

describe('tcpdump test corpus', { skip }, () => {
  it('every file reads to its end with tcpdump\'s packet count and timestamps', { timeout: 180_000 }, async () => {
    assert.ok(missing === false, String(missing));
    const dir = CORPUS as string;
    const files = readdirSync(dir).filter((f) => /\.(pcap|pcapng|cap)(\.gz)?$/.test(f)).sort();
    assert.ok(files.length > 0, `no captures in ${dir}`);
    const problems: string[] = [];
    let libpcapErrors = 0;
    let framesChecked = 0;

    await pool(files, 2, async (name) => {
      const path = join(dir, name);
      const frames: Array<{ sec: number; nsec: number }> = [];
      const oddTime = new Set<number>();
      let ourError: unknown = null;
      let summaryPackets = -1;
      try {
        const s = await readCapture(path, {
          packet(p) {
            frames.push({ sec: p.tsSec, nsec: p.tsNsec });
          },
          anomaly(a) {
            if (a.code === 'timestamp-fraction-out-of-range' && a.frame !== null) oddTime.add(a.frame);
          },
        });
        summaryPackets = s.packets;
      } catch (e) {
        ourError = e;
      }
      const [count, listing] = await Promise.all([tcpdump(['-r', path, '--count']), tcpdump(['-#', '-tt', '--nano', '-n', '-r', path])]);
      const m = /^(\d+) packets?$/m.exec(count.stdout);
      if (!m) {
        problems.push(`${name}: tcpdump --count printed no count (exit ${count.code}): ${count.stderr.trim()}`);
        return;
      }
      const want = Number(m[1]);
      if (count.code !== 0) {
        // libpcap stopped with an error: rstlab must stop too, after the same packets.
        libpcapErrors++;
        if (!(ourError instanceof CaptureFormatError)) problems.push(`${name}: libpcap failed (${count.stderr.trim()}) but rstlab did not`);
        if (frames.length !== want) problems.push(`${name}: ${frames.length} packets before the error, libpcap ${want}`);
        return;
      }
      if (ourError) {
        problems.push(`${name}: ${(ourError as Error).message}`);
        return;
      }
      if (summaryPackets !== want || frames.length !== want) {
        problems.push(`${name}: ${frames.length} packets, tcpdump --count ${want}`);
        return;
      }
      // Timestamps, frame by frame. tcpdump prints no time for records it calls invalid
      // (caplen 0, len 0, len < caplen) or cannot convert, prints seconds modulo 2^32, and prints
      // out-of-range fractions raw where rstlab carries them into the seconds: skip those.
      const printed = new Map<number, string | null>();
      for (const line of listing.stdout.split('\n')) {
        const lm = /^ *(\d+)  (\S+)/.exec(line);
        if (!lm || printed.has(Number(lm[1]))) continue;
        printed.set(Number(lm[1]), /^\d+\.\d{9}$/.test(lm[2]) ? lm[2] : null);
      }
      if (printed.size !== want) problems.push(`${name}: tcpdump listed ${printed.size} frames, --count says ${want}`);
      frames.forEach((f, i) => {
        const t = printed.get(i + 1);
        if (t === undefined) {
          problems.push(`${name}: frame ${i + 1} missing from tcpdump's listing`);
          return;
        }
        if (t === null || oddTime.has(i + 1)) return;
        const [s, ns] = t.split('.');
        if (BigInt(f.sec) % TWO32 === BigInt(s) % TWO32 && f.nsec === Number(ns)) {
          framesChecked++;
          return;
        }
        problems.push(`${name}: frame ${i + 1} at ${f.sec}.${String(f.nsec).padStart(9, '0')}, tcpdump says ${t}`);
      });
    });
    assert.deepEqual(problems.slice(0, 30), [], `${problems.length} problem(s)`);
    assert.equal(libpcapErrors, 0, 'tcpdump reads every corpus file to its end (README claim)');
    assert.ok(framesChecked > 9000, `${framesChecked} timestamps compared`);
  });

  it('feeding each file in 7-byte chunks gives the same packets and anomalies', { skip, timeout: 60_000 }, () => {
    assert.ok(missing === false, String(missing));
    const dir = CORPUS as string;
    for (const name of readdirSync(dir).sort()) {
      const bytes = readFileSync(join(dir, name));
      const whole = parseAll(bytes);
      const chunked = parseAll(bytes, 7);
      assert.equal(chunked.frames.length, whole.frames.length, name);
      assert.deepEqual(chunked.anomalies, whole.anomalies, name);
      assert.deepEqual(chunked.frames.at(-1), whole.frames.at(-1), name);
    }
  });
});
