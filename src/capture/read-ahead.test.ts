// Tests of the worker-thread read-ahead: the bytes it hands over are the file's, in order, from the
// offset it is given, across many turns of its ring; stop() ends it mid-file; a failed read is a
// null chunk (the caller then reads for itself).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startReadAhead } from './read-ahead.js';
import type { ReadAhead } from './read-ahead.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rstlab-read-ahead-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Resolves once the worker has claimed `n` chunks past the last one taken (it boots in tens of
 *  milliseconds; until then take() reads every chunk itself). */
async function whenAhead(ra: ReadAhead, n: number): Promise<void> {
  const give = Date.now() + 10_000;
  while (ra.ahead < n) {
    assert.ok(Date.now() < give, `the read-ahead worker never got ${n} chunks ahead`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const CHUNK = 64 * 1024; // 16 slots of 64 KiB: a 3 MiB file turns the ring ~3 times

describe('startReadAhead', () => {
  it('hands over the file from the given offset, in order, to its end', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 12_345);
    const path = join(dir, 'a.bin');
    writeFileSync(path, bytes);
    const fd = openSync(path, 'r');
    try {
      const ra = startReadAhead(fd, CHUNK);
      assert.ok(ra, 'worker threads are available');
      const got: Buffer[] = [Buffer.from(ra.take(1000)!)]; // read here: the worker is still booting
      await whenAhead(ra, 15); // the worker filled its ring (16 slots, one still held here)
      let c = ra.take();
      while (c !== null) {
        assert.ok(c.length > 0 && c.length <= CHUNK);
        got.push(Buffer.from(c)); // a slot is reused after the next take()
        c = ra.take();
      }
      assert.ok(Buffer.concat(got).equals(bytes.subarray(1000)), 'the bytes are the file\'s, from offset 1000');
      assert.equal(ra.offset, bytes.length, 'after the last chunk: the end of the file');
      assert.ok(ra.fromWorker >= 15 * CHUNK, `${ra.fromWorker} bytes from the worker: at least a ring's worth`);
      assert.equal(ra.take(), null, 'still nothing');
      await ra.stop();
      await ra.stop(); // idempotent
    } finally {
      closeSync(fd);
    }
  });

  it('chunks the worker has not claimed are read by take() itself, in the same order', async () => {
    const bytes = randomBytes(40 * CHUNK + 7);
    const path = join(dir, 'c.bin');
    writeFileSync(path, bytes);
    const fd = openSync(path, 'r');
    try {
      const ra = startReadAhead(fd, CHUNK)!;
      // Taken back to back from the start: the first ones before the worker runs, the rest from
      // whichever of the two claims each first.
      const got: Buffer[] = [];
      for (let c = ra.take(0); c !== null; c = ra.take()) got.push(Buffer.from(c));
      assert.ok(Buffer.concat(got).equals(bytes));
      assert.ok(ra.fromWorker < bytes.length, 'the first chunk at least was read by take()');
      await ra.stop();
    } finally {
      closeSync(fd);
    }
  });

  it('stops mid-file: take() then answers null, the offset stays after the last chunk taken', async () => {
    const bytes = randomBytes(2 * 1024 * 1024);
    const path = join(dir, 'b.bin');
    writeFileSync(path, bytes);
    const fd = openSync(path, 'r');
    try {
      const ra = startReadAhead(fd, CHUNK)!;
      const first = Buffer.from(ra.take(0)!);
      await whenAhead(ra, 4);
      const second = Buffer.from(ra.take()!);
      assert.ok(Buffer.concat([first, second]).equals(bytes.subarray(0, 2 * CHUNK)));
      await ra.stop();
      assert.equal(ra.take(), null);
      assert.equal(ra.offset, 2 * CHUNK);
    } finally {
      closeSync(fd); // only after stop() resolved: the worker no longer reads from it
    }
  });

  it('a read that fails (here: a directory) is a null chunk, for the caller to read for itself', async () => {
    const fd = openSync(dir, 'r');
    try {
      const ra = startReadAhead(fd, CHUNK)!;
      assert.equal(ra.take(0), null);
      assert.equal(ra.offset, 0);
      await ra.stop();
    } finally {
      closeSync(fd);
    }
  });
});
