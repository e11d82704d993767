// A small subset of tcpdump's own test captures, vendored in fixtures/tcpdump-subset (provenance and
// licence in its README), through the whole explain engine, on every machine: each file is read to
// its end without an exception, with tcpdump's packet count, and the RSTs rstlab reports are exactly
// the frames tcpdump prints as TCP with R in its flags. tcpdump's view of each file is saved in
// `expected.json` (tcpdump 4.99); RSTLAB_UPDATE=1 remakes it with the tcpdump installed.
// The whole corpus (830 files) is checked against tcpdump itself by corpus.stress.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoFile } from '../paths.js';
import { tcpdumpRstFrames } from '../wire/tcpdump-oracle.js';
import { explainCapture } from './engine.js';

interface Expected { tcpdump: string; files: Record<string, { packets: number; rstFrames: number[] }> }

const dir = repoFile('fixtures/tcpdump-subset');
const expectedFile = path.join(dir, 'expected.json');
const files = readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f)).sort();

function tcpdump(args: string[]): string {
  return execFileSync('tcpdump', args, { encoding: 'latin1', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
}

if (process.env.RSTLAB_UPDATE === '1') {
  const version = /tcpdump version (\S+)/.exec(execFileSync('tcpdump', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  const out: Expected = { tcpdump: version, files: {} };
  for (const f of files) {
    const file = path.join(dir, f);
    const packets = Number(/(\d+) packets?/.exec(tcpdump(['--count', '-r', file]))?.[1]);
    out.files[f] = { packets, rstFrames: tcpdumpRstFrames(tcpdump(['-#', '-nr', file])) };
  }
  writeFileSync(expectedFile, JSON.stringify(out, null, 1) + '\n');
}

const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as Expected;

test('the vendored subset: every file has tcpdump\'s saved view, and the RST files are all there', () => {
  assert.deepEqual(Object.keys(expected.files).sort(), files);
  const withRst = files.filter((f) => expected.files[f].rstFrames.length > 0);
  // tcpdump's corpus has 13 files with RST segments (19 frames); the subset keeps every one.
  assert.equal(withRst.length, 13);
  assert.equal(withRst.reduce((n, f) => n + expected.files[f].rstFrames.length, 0), 19);
});

for (const f of files) {
  test(`tcpdump subset: ${f}`, async () => {
    const res = await explainCapture(path.join(dir, f));
    const want = expected.files[f];
    assert.equal(res.summary.packets, want.packets, 'packets (tcpdump --count)');
    assert.deepEqual(res.rsts.map((r) => r.frame), want.rstFrames, 'RST frames (tcpdump -#)');
    for (const r of res.rsts) assert.ok(r.evidence.length > 0, `frame ${r.frame} has evidence`);
  });
}
