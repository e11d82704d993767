// Read-ahead for large regular files: a worker thread reads the file into a ring of shared
// buffers while the calling thread parses, so the kernel's copy of the bytes runs on another core
// (its share of `explain`'s time: docs/performance.md). Memory is fixed: SLOTS + 1 chunks.
//
// Contract:
// - startReadAhead(fd, chunk) starts the worker and returns a ReadAhead at once, or null when
//   worker threads are unavailable.
// - ra.take(offset) (first call: where to start) or ra.take() returns the next `chunk` bytes of
//   the file (fewer at its end), a view valid until the next take() or stop(); or null once it has
//   nothing more to give: after the end of the file as it was read (a short chunk), or a failed
//   read. The caller then reads on from ra.offset itself, which finds the end (or what was
//   appended since, as a plain reader would) or meets the error.
// - take() never waits for a worker that is not reading: a chunk the worker has not started on is
//   read by take() itself — all of them while the worker boots, and any it falls behind on later
//   (a worker that waits for a core never stalls the parser). A chunk the worker is reading is
//   waited for up to STALL_MS; then take() returns null.
// - ra.offset: the file offset just past the last chunk taken; ra.fromWorker: the bytes taken
//   that the worker read; ra.ahead: how many chunks past the last one taken are claimed (by the
//   worker, reading ahead).
// - ra.stop() tells the worker to stop and resolves once it has (so that the caller may close the
//   descriptor the worker reads from); idempotent.
// Nothing here throws on I/O.
//
// The protocol: chunk k is the `chunk` bytes at start + k·chunk, read in full (a short read is
// continued) into slot k mod SLOTS. Whoever moves `claimed` from k to k + 1 (compare-and-swap)
// reads chunk k: the worker, ahead of the parser while the ring has room, or take() when the chunk
// it needs is unclaimed. A slot's stamp says which chunk it holds; `consumed` says which chunks the
// parser is done with, so that their slots may be refilled. A worker that finds the ring full
// sleeps until half of it is free and says from which `consumed` on (`wakeAt`): the parser wakes it
// then, not at every chunk.

import { Worker } from 'node:worker_threads';
import { readSync } from 'node:fs';

/** Ring slots: ahead of the parser by up to this many chunks. */
const SLOTS = 16;
/** How long take() waits for a chunk the worker is reading before giving up on it (null: the
 *  caller reads on itself). */
const STALL_MS = 2000;

// Control words (Int32 in a SharedArrayBuffer).
const C_CLAIMED = 0; // chunks claimed so far (by the worker or the caller)
const C_CONSUMED = 1; // chunks released by the caller
const C_STATE = 2;
const C_START_LO = 3; // start offset, low and high 24 bits (files up to 2^48 bytes)
const C_START_HI = 4;
const C_WAKE_AT = 5; // while the worker sleeps on a full ring: the C_CONSUMED that wakes it (-1: awake)
const C_STAMPS = 8; // per slot: the chunk it holds (-1: none yet)
const C_LENS = C_STAMPS + SLOTS; // per slot: its bytes; -1: the read failed
const CONTROL_WORDS = C_LENS + SLOTS;

const S_BOOTING = 0;
const S_READY = 1; // the worker waits for the start offset
const S_RUNNING = 2;
const S_STOP = 3;

/** Read `len` bytes at `pos` into `into`, continuing short reads; fewer only at the end of the file. */
function readFull(fd: number, into: Uint8Array, len: number, pos: number): number {
  let n = 0;
  while (n < len) {
    const r = readSync(fd, into, n, len - n, pos + n);
    if (r === 0) break;
    n += r;
  }
  return n;
}

// The worker, as CommonJS source (eval: true), so that it needs no file of its own beside a
// bundled or unbundled build. Positional reads on the caller's descriptor.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { fd, ring, control, chunk, slots } = workerData;
const c = new Int32Array(control);
const running = () => Atomics.load(c, ${C_STATE}) === ${S_RUNNING};
Atomics.compareExchange(c, ${C_STATE}, ${S_BOOTING}, ${S_READY}); // (unless the caller has started it already)
while (Atomics.load(c, ${C_STATE}) === ${S_READY}) Atomics.wait(c, ${C_STATE}, ${S_READY});
const start = c[${C_START_LO}] + c[${C_START_HI}] * 16777216;
while (running()) {
  const k = Atomics.load(c, ${C_CLAIMED});
  if (k - Atomics.load(c, ${C_CONSUMED}) >= slots) {
    // The ring is full: sleep until half of it is free, not just one slot, so that waking up
    // happens while the caller still has half a ring to parse. The caller wakes it only then
    // (C_WAKE_AT): a wake-up per chunk cost the caller a system call each, ~9% of a run.
    Atomics.store(c, ${C_WAKE_AT}, k - slots / 2);
    for (;;) {
      const consumed = Atomics.load(c, ${C_CONSUMED});
      if (k - consumed <= slots / 2 || !running()) break;
      Atomics.wait(c, ${C_CONSUMED}, consumed, 1000);
    }
    Atomics.store(c, ${C_WAKE_AT}, -1);
    continue;
  }
  if (Atomics.compareExchange(c, ${C_CLAIMED}, k, k + 1) !== k) continue; // the caller took it
  const s = k % slots;
  const into = new Uint8Array(ring, s * chunk, chunk);
  let n = 0;
  try {
    while (n < chunk) { const r = readSync(fd, into, n, chunk - n, start + k * chunk + n); if (r === 0) break; n += r; }
  } catch { n = -1; }
  c[${C_LENS} + s] = n;
  Atomics.store(c, ${C_STAMPS} + s, k);
  Atomics.notify(c, ${C_STAMPS} + s);
  if (n < chunk) break; // the end of the file, or a failed read
}
`;

export interface ReadAhead {
  readonly offset: number;
  readonly fromWorker: number;
  readonly ahead: number;
  take(startOffset?: number): Uint8Array | null;
  stop(): Promise<void>;
}

export function startReadAhead(fd: number, chunk: number): ReadAhead | null {
  let worker: Worker;
  const ring = new SharedArrayBuffer(chunk * SLOTS);
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const c = new Int32Array(control);
  c.fill(-1, C_STAMPS, C_STAMPS + SLOTS);
  c[C_WAKE_AT] = -1;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { fd, ring, control, chunk, slots: SLOTS } });
  } catch {
    return null;
  }
  worker.unref();
  worker.on('error', () => undefined); // it then claims nothing more: take() reads for itself
  // The same view of a slot every time (see regularFileSource on why a chunk is the same object).
  const views = Array.from({ length: SLOTS }, (_, i) => new Uint8Array(ring, i * chunk, chunk));
  const own = new Uint8Array(chunk);
  let begun = false;
  let start = 0;
  let taken = 0;
  let offset = 0;
  let fromWorker = 0;
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

  /** Chunk k read here; null if the read fails. */
  const readHere = (k: number): Uint8Array | null => {
    let n: number;
    try {
      n = readFull(fd, own, chunk, start + k * chunk);
    } catch {
      return null;
    }
    return n === chunk ? own : own.subarray(0, n);
  };

  return {
    get offset() {
      return offset;
    },
    get fromWorker() {
      return fromWorker;
    },
    get ahead() {
      return Math.max(0, Atomics.load(c, C_CLAIMED) - taken);
    },
    take(startOffset?: number): Uint8Array | null {
      if (stopped !== null) return null;
      if (!begun) {
        begun = true;
        offset = start = startOffset ?? 0;
        c[C_START_LO] = start % 16777216; // (seen by the worker once it sees the state change)
        c[C_START_HI] = Math.floor(start / 16777216);
        Atomics.store(c, C_STATE, S_RUNNING);
        Atomics.notify(c, C_STATE);
      } else {
        // The previous chunk is no longer in use: its slot may be refilled. The worker is woken
        // only when it sleeps for this (it stores C_WAKE_AT, then reads C_CONSUMED; here the other
        // way round: with sequentially consistent atomics one of the two sees the other's store).
        Atomics.store(c, C_CONSUMED, taken);
        const wakeAt = Atomics.load(c, C_WAKE_AT);
        if (wakeAt >= 0 && taken >= wakeAt) Atomics.notify(c, C_CONSUMED);
      }
      const k = taken;
      const s = k % SLOTS;
      let got: Uint8Array | null = null;
      for (;;) {
        const stamp = Atomics.load(c, C_STAMPS + s);
        if (stamp === k) {
          const n = c[C_LENS + s];
          got = n < 0 ? null : n === chunk ? views[s] : views[s].subarray(0, n);
          if (got !== null) fromWorker += n;
          break;
        }
        // Not read yet: read it here unless the worker has started on it.
        if (Atomics.load(c, C_CLAIMED) === k && Atomics.compareExchange(c, C_CLAIMED, k, k + 1) === k) {
          got = readHere(k);
          break;
        }
        if (Atomics.wait(c, C_STAMPS + s, stamp, STALL_MS) === 'timed-out' && Atomics.load(c, C_STAMPS + s) === stamp) {
          got = null; // a read that does not return: the caller's own read will show why
          break;
        }
      }
      if (got === null) {
        void stop();
        return null;
      }
      taken++;
      offset += got.length;
      if (got.length < chunk) void stop(); // the end of the file as it was read: nothing more here
      return got.length > 0 ? got : null;
    },
    stop,
  };
}
