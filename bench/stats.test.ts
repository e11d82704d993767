import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { median, parseChildUsage } from './stats.js';

test('median: middle value, mean of the two middle ones for an even count, NaN when empty', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
  const xs = [5, 1, 4];
  median(xs);
  assert.deepEqual(xs, [5, 1, 4], 'the input is not sorted in place');
});

test('parseChildUsage reads cminflt, cutime and cstime, also after a command name with spaces and parentheses', () => {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
  const line = '4242 (we(ird) name) S 1 4242 4242 0 -1 4194304 900 1234 0 0 50 7 250 37 20 0 1 0 100 0 0';
  assert.deepEqual(parseChildUsage(line), { cpuSeconds: 2.87, minorFaults: 1234 });
  assert.equal(parseChildUsage('garbage'), null);
  assert.equal(parseChildUsage('1 (x) S 1 2'), null);
});

test('parseChildUsage sees the CPU time of a child once it has been waited for', () => {
  const before = parseChildUsage(readFileSync('/proc/self/stat', 'utf8'));
  assert.ok(before);
  // A child that burns 0.3 s of its own CPU time (counted by itself, so a busy machine that
  // deschedules it does not shorten it; 10 s of wall time at most), waited for by spawnSync.
  const burn = 'const t = Date.now(); let x = 0; while (process.cpuUsage().user < 3e5 && Date.now() - t < 1e4) x++;';
  const r = spawnSync(process.execPath, ['-e', burn]);
  assert.equal(r.status, 0);
  const after = parseChildUsage(readFileSync('/proc/self/stat', 'utf8'));
  assert.ok(after);
  const cpu = after.cpuSeconds - before.cpuSeconds;
  assert.ok(cpu >= 0.25 && cpu < 12, `child CPU ${cpu} s`);
  assert.ok(after.minorFaults > before.minorFaults, 'a new Node process maps fresh pages');
});
