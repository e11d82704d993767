// `tcpdump -U -w - | rstlab explain -` as a user runs it on a live host (root, loopback): the RST of
// a refused connect is printed within a second of the packet, with no more packets to push it
// out; Ctrl-C then ends the input like its end would: the summary, exit 0.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { repoFile } from '../paths.js';
import { closedLoopbackPort } from '../testkit.js';

const skip = process.getuid?.() !== 0 ? 'needs root (tcpdump on lo)' : spawnSync('tcpdump', ['--version']).error ? 'needs tcpdump' : false;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


test('explain - on a live tcpdump pipe: each RST within a second of its packet; SIGINT prints the summary and exits 0', { skip, timeout: 60_000 }, async () => {
  const port = await closedLoopbackPort();
  const dump = spawn('tcpdump', ['-i', 'lo', '-n', '-U', '--immediate-mode', '-w', '-', `tcp port ${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const explain = spawn(process.execPath, [repoFile('bin/rstlab.js'), 'explain', '-', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
  dump.stdout.pipe(explain.stdin);
  let dumpErr = '';
  dump.stderr.on('data', (d) => { dumpErr += d; });
  const lines: Array<{ at: number; rec: Record<string, unknown> }> = [];
  let partial = '';
  explain.stdout.on('data', (d: Buffer) => {
    const text = partial + d.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) if (l) lines.push({ at: Date.now() / 1000, rec: JSON.parse(l) as Record<string, unknown> });
  });
  let stderr = '';
  explain.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((r) => explain.on('exit', (c) => r(c)));
  try {
    for (let i = 0; i < 50 && !/listening on/.test(dumpErr); i++) await sleep(100);
    assert.match(dumpErr, /listening on/);
    for (let n = 0; n < 3; n++) {
      const c = new (await import('node:net')).Socket();
      await new Promise<void>((r) => { c.once('error', () => r()); c.connect(port, '127.0.0.1'); });
      await sleep(1500);
    }
    const rsts = lines.filter((l) => l.rec.type === 'rst');
    assert.equal(rsts.length, 3, JSON.stringify(lines.map((l) => l.rec)));
    for (const r of rsts) {
      assert.equal(r.rec.cause, 'refused');
      const delay = r.at - Number(r.rec.ts);
      assert.ok(delay < 1, `printed ${delay.toFixed(3)} s after the RST`);
    }
    assert.ok(!lines.some((l) => l.rec.type === 'summary'), 'no summary before the end');
    explain.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    const summary = lines.find((l) => l.rec.type === 'summary');
    assert.ok(summary, 'the summary after SIGINT');
    assert.equal(summary!.rec.rsts, 3);
    assert.equal(stderr, '');
  } finally {
    dump.kill('SIGKILL');
    explain.kill('SIGKILL');
  }
});
