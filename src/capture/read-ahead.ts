// Read-ahead for large regular files: a worker thread reads the file into a ring of shared
// buffers while the calling thread parses, so the kernel's copy of the bytes (a sixth to a third of
// `explain`'s time on a file in the page cache) runs on another core.
//
// Contract:
// - startReadAhead(fd, size, chunk) starts the worker at once and returns a ReadAhead, or null when
//   worker threads are unavailable. The worker stays idle until take() is first called with the
//   offset to start from, so the caller reads the first chunks itself while the worker boots.
// - ra.ready is true once the worker is waiting for its offset (never blocks).
// - ra.take(offset) (first call) or ra.take() returns the next chunk: a view of one ring slot,
//   valid until the next take() or stop(); an empty view at the end of the file; null when the
//   worker failed to read or stopped answering (the caller then reads from ra.offset itself and
//   gets the real error, if any). Blocks the thread while the ring is empty (Atomics.wait).
// - ra.offset: the file offset just past the last chunk taken.
// - ra.stop() tells the worker to stop and resolves once it has (so that the caller may close the
//   descriptor the worker reads from); idempotent.
// Nothing here throws on I/O: every failure is a null from take(), handled by the caller's own read.

import { Worker } from 'node:worker_threads';

/** Ring slots: ahead of the parser by up to this many chunks. */
const SLOTS = 16;
/** How long take() waits for one chunk before giving up on the worker (a stalled disk still answers
 *  the caller's own read, which then blocks as a plain read would). */
const STALL_MS = 2000;

// Control words (Int32 in a SharedArrayBuffer).
const C_PRODUCED = 0; // chunks written by the worker
const C_CONSUMED = 1; // chunks released by the reader
const C_STATE = 2;
const C_START_LO = 3; // start offset, low and high 24 bits (files up to 2^48 bytes)
const C_START_HI = 4;
const C_LENS = 8; // bytes in each slot; -1: the read failed
const CONTROL_WORDS = C_LENS + SLOTS;

// 0: the worker is starting.
const S_READY = 1; // waiting for the start offset
const S_RUNNING = 2;
const S_STOP = 3;

// The worker, as CommonJS source (eval: true), so that it needs no file of its own beside a
// bundled or unbundled build. It reads with positional reads on the caller's descriptor.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { fd, ring, control, chunk, slots } = workerData;
const c = new Int32Array(control);
Atomics.store(c, ${C_STATE}, ${S_READY});
Atomics.notify(c, ${C_STATE});
while (Atomics.load(c, ${C_STATE}) === ${S_READY}) Atomics.wait(c, ${C_STATE}, ${S_READY});
let pos = c[${C_START_LO}] + c[${C_START_HI}] * 16777216;
for (let k = 0; Atomics.load(c, ${C_STATE}) === ${S_RUNNING}; k++) {
  if (k - Atomics.load(c, ${C_CONSUMED}) >= slots) {
    // The ring is full: sleep until half of it is free, not just one slot, so that waking up
    // (slow on a virtual machine's idle core) happens while the reader still has half a ring.
    for (;;) {
      const consumed = Atomics.load(c, ${C_CONSUMED});
      if (k - consumed <= slots / 2 || Atomics.load(c, ${C_STATE}) !== ${S_RUNNING}) break;
      Atomics.wait(c, ${C_CONSUMED}, consumed, 1000);
    }
  }
  if (Atomics.load(c, ${C_STATE}) !== ${S_RUNNING}) break;
  const s = k % slots;
  let n;
  try { n = readSync(fd, new Uint8Array(ring, s * chunk, chunk), 0, chunk, pos); } catch { n = -1; }
  c[${C_LENS} + s] = n;
  Atomics.store(c, ${C_PRODUCED}, k + 1);
  Atomics.notify(c, ${C_PRODUCED});
  if (n <= 0) break;
  pos += n;
}
`;

export interface ReadAhead {
  readonly ready: boolean;
  readonly offset: number;
  take(startOffset?: number): Uint8Array | null;
  stop(): Promise<void>;
}

export function startReadAhead(fd: number, chunk: number): ReadAhead | null {
  let worker: Worker;
  const ring = new SharedArrayBuffer(chunk * SLOTS);
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { fd, ring, control, chunk, slots: SLOTS } });
  } catch {
    return null;
  }
  worker.unref();
  worker.on('error', () => undefined); // reported as a null chunk: the caller reads for itself
  const c = new Int32Array(control);
  // The same view of a slot every time (see regularFileSource on why a chunk is the same object).
  const views = Array.from({ length: SLOTS }, (_, i) => new Uint8Array(ring, i * chunk, chunk));
  let taken = 0;
  let offset = 0;
  let stopped: Promise<void> | null = null;

  const stop = (): Promise<void> => {
    if (stopped === null) {
      Atomics.store(c, C_STATE, S_STOP);
      Atomics.notify(c, C_STATE);
      Atomics.notify(c, C_CONSUMED);
      // Resolves once the worker's thread has stopped (after a read in progress returns).
      stopped = worker.terminate().then(() => undefined, () => undefined);
    }
    return stopped;
  };

  return {
    get ready() {
      return stopped === null && Atomics.load(c, C_STATE) === S_READY;
    },
    get offset() {
      return offset;
    },
    take(startOffset?: number): Uint8Array | null {
      if (stopped !== null) return null;
      if (taken === 0 && Atomics.load(c, C_STATE) === S_READY && Atomics.load(c, C_PRODUCED) === 0) {
        offset = startOffset ?? 0;
        c[C_START_LO] = offset % 16777216;
        c[C_START_HI] = Math.floor(offset / 16777216);
        Atomics.store(c, C_STATE, S_RUNNING);
        Atomics.notify(c, C_STATE);
      } else {
        // The previous chunk is no longer in use: its slot may be refilled.
        Atomics.store(c, C_CONSUMED, taken);
        Atomics.notify(c, C_CONSUMED);
      }
      for (;;) {
        const produced = Atomics.load(c, C_PRODUCED);
        if (produced > taken) break;
        if (Atomics.wait(c, C_PRODUCED, produced, STALL_MS) === 'timed-out' && Atomics.load(c, C_PRODUCED) === produced) {
          void stop();
          return null;
        }
      }
      const s = taken % SLOTS;
      const n = c[C_LENS + s];
      taken++;
      if (n < 0) {
        void stop();
        return null;
      }
      offset += n;
      if (n === 0) void stop();
      return n === chunk ? views[s] : views[s].subarray(0, n);
    },
    stop,
  };
}
