// tracefs shared by rstlab processes (root): the last one to stop unmounts what rstlab mounted, a
// live registration of another process keeps it mounted, a dead one does not, and a mount rstlab
// did not make is never unmounted. Another process is a real one (`sleep`), registered as
// tracefs-mount.ts registers every process.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { releaseTracefs, TRACEFS, unmountIfUnused, useTracefs } from './tracefs-mount.js';

const mounted = () => existsSync(path.join(TRACEFS, 'events'));

test('tracefs: mounted by the first use, kept while another live rstlab process is registered, unmounted by the last; the machine\'s own mount is left alone', { skip: process.getuid?.() !== 0 ? 'needs root (mount)' : false, timeout: 30_000 }, async () => {
  const before = mounted();
  const markBefore = existsSync('/run/rstlab-tracefs/mounted-by-rstlab');
  assert.equal(await useTracefs(), true, 'tracefs is there once used');
  assert.equal(await useTracefs(), true, 'a second use in the same process');
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    writeFileSync(`/run/rstlab-tracefs/users/${other.pid}`, '');
    await releaseTracefs();
    assert.equal(mounted(), true, 'one use of this process is left');
    await releaseTracefs();
    assert.equal(mounted(), true, 'another live process is registered');
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
    // The other process died without releasing: the next check skips it.
    const unmounted = await unmountIfUnused();
    if (before && !markBefore) {
      assert.equal(unmounted, false);
      assert.equal(mounted(), true, 'the machine\'s own mount is left');
      assert.equal(existsSync('/run/rstlab-tracefs'), false, 'and no state');
    } else if (!before) {
      assert.equal(unmounted, true);
      assert.equal(mounted(), false, 'the last use unmounted what rstlab mounted');
      assert.equal(existsSync('/run/rstlab-tracefs'), false, 'and left no state');
    } // (else: another rstlab process mounted it, and it is that one's to unmount)
  } finally {
    if (other.exitCode === null && other.signalCode === null) other.kill('SIGKILL');
  }
});
