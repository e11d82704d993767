// Standard output for the CLI: writes that survive a closed pipe (`rstlab explain x | head`: EPIPE
// ends the process with exit 0, other stdout errors are thrown), and a gathered form for many small
// records. Order is kept: a plain write first sends what is gathered. One instance per process
// (scripts/bundle.ts keeps it out of the bundle).

let closed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') { closed = true; process.exit(0); }
  throw err;
});

/** Text gathered by writeOutGathered, not yet written. */
let pending = '';
let scheduled = false;
/** Gathered text is written once it reaches this many characters. */
const GATHER = 1 << 16;

export function writeOut(s: string): void {
  if (pending) flushOut();
  if (!closed) process.stdout.write(s);
}

/**
 * `writeOut` for many small records (`explain --json`): gathered into writes of about 64 KiB, and
 * whatever is gathered goes out when the event loop next gets a turn, so a slow input (a live
 * capture on stdin) still streams. Gathered because each stdout write costs a system call and a
 * trip through Node's stream machinery.
 */
export function writeOutGathered(s: string): void {
  pending += s;
  if (pending.length >= GATHER) flushOut();
  else if (!scheduled) {
    scheduled = true;
    setImmediate(flushOut);
  }
}

/** Output still queued in the stream beyond this many bytes makes `outputBacklog` ask to wait. */
const BACKLOG = 1 << 20;

/**
 * Back-pressure for a producer that runs ahead of standard output (a pipe to a slower reader):
 * null while less than 1 MiB waits to be written, else a promise that resolves once the stream has
 * drained. Files and terminals are written synchronously and never wait.
 */
export function outputBacklog(): Promise<void> | null {
  if (pending.length >= GATHER) flushOut();
  if (closed || process.stdout.writableLength < BACKLOG) return null;
  return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}

function flushOut(): void {
  scheduled = false;
  if (!pending) return;
  const s = pending;
  pending = '';
  // As bytes: a string queued in a pipe's stream outlives young-generation collections and is
  // moved to V8's old space, to die there: `explain --json | jq` grew to 1.2 GB of peak RSS on a
  // 64 MiB scan where writing to a file took 0.5 GB. A Buffer's bytes live outside the heap.
  if (!closed) process.stdout.write(Buffer.from(s, 'utf8'));
}
