// Read a whole capture from a path, stdin ('-') or a stream into a CaptureSink.
//
// Contract:
// - readCapture(source, sink, opts) resolves with a CaptureSummary once the input is consumed and
//   every packet has been delivered (synchronously, in order, through the streaming parser).
// - gzip input (first bytes 1f 8b) is decompressed on the fly. A regular file is read with
//   synchronous 128 KiB reads (small enough to stay in the CPU cache while it is parsed) and, from
//   `readAheadMin` bytes on (default 32 MiB), by a worker thread ahead of the parser once it has
//   started (read-ahead.ts: the kernel's copy of the bytes, or the wait for the disk, then runs on
//   another core) — unless its first `readAheadProbe` bytes (default 4 MiB), read here, came at
//   page-cache speed (≥ PAGE_CACHE_BYTES_PER_NS): a file the kernel holds in memory is parsed
//   faster from the reads' own cache-warm buffer, with ~17 MiB less memory, than from a worker's
//   (docs/performance.md, 2026-12-06); the event loop gets a turn every 8 MiB. Pipes, FIFOs and
//   devices are read with asynchronous reads.
// - A missing, unreadable or directory path rejects with InputError; an empty input, a broken
//   capture or a damaged gzip stream with CaptureFormatError (after the good packets before it).
// - opts.maxBytes: stop after that many bytes of (decompressed) capture — a guard against endless
//   pipes and gzip bombs. Packets wholly inside the limit are delivered; a record cut by the limit
//   is not an error; the summary then has `limited: true`.
// - opts.backpressure, if given, is asked after every chunk handed to the parser; when it returns a
//   promise, reading waits for it (a consumer whose output is a slow pipe keeps its backlog bounded).
// - opts.onFormat, if given, hears the format (and whether the input is gzip) once it is known,
//   before the first packet is delivered.
// - opts.readAheadMin: the file size from which a worker thread may read ahead (Infinity: never);
//   opts.readAheadProbe: the bytes read and timed here first (0: the worker starts at once);
//   opts.readAheadStats, if given, gets the number of bytes the worker read (for tests).
// - opts.signal: once aborted (Ctrl-C on a live pipe), reading stops at the next chunk boundary as
//   if the input had ended there; a record cut there is not an error; the summary then has
//   `interrupted: true`.

import { readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { CaptureFormatError, InputError } from '../errors.js';
import { startReadAhead } from './read-ahead.js';
import { createCaptureParser } from './parser.js';
import type { CaptureFormat, CaptureSink, CaptureSummary } from './types.js';

export interface ReadCaptureOptions {
  maxBytes?: number;
  /** Asked after every chunk parsed: a promise to wait for before the next one, or null. */
  backpressure?: () => Promise<void> | null;
  onFormat?: (format: CaptureFormat, gzip: boolean) => void;
  readAheadMin?: number;
  readAheadProbe?: number;
  readAheadStats?: { bytes: number };
  signal?: AbortSignal;
}

const CHUNK = 1 << 17;
/** Files from this size on are read ahead on a worker thread (for smaller ones, its start costs
 *  more than it saves). */
const READ_AHEAD_MIN = 32 * 1024 * 1024;
/** The worker's reads: larger than CHUNK, since they are not parsed in the cache they were read
 *  into anyway (8 MiB in all: 16 slots, read-ahead.ts). */
const READ_AHEAD_CHUNK = 1 << 19;
/** Bytes read here and timed before a worker reads ahead, and the rate (bytes per nanosecond, GB/s)
 *  from which they came from the page cache: ~5–6 GB/s there on the benchmark machine, 0.66 GB/s
 *  from its disk after `drop_caches`. */
const READ_AHEAD_PROBE = 4 * 1024 * 1024;
const PAGE_CACHE_BYTES_PER_NS = 2;
/** Whether `bytes` read in `ns` nanoseconds came from the page cache (see PAGE_CACHE_BYTES_PER_NS). */
export const fromPageCache = (bytes: number, ns: number): boolean => bytes >= PAGE_CACHE_BYTES_PER_NS * ns;
/** Bytes read between two turns of the event loop. */
const BYTES_PER_YIELD = 8 * 1024 * 1024;

export async function readCapture(
  source: string | NodeJS.ReadableStream,
  sink: CaptureSink,
  opts: ReadCaptureOptions = {},
): Promise<CaptureSummary> {
  let input: ChunkSource;
  if (typeof source === 'string' && source !== '-') {
    input = await openFile(source, opts.readAheadMin ?? READ_AHEAD_MIN, opts.readAheadProbe ?? READ_AHEAD_PROBE, opts.readAheadStats ?? { bytes: 0 });
  } else {
    input = streamSource(source === '-' ? process.stdin : (source as NodeJS.ReadableStream), source === '-' ? 'standard input' : 'the input stream');
  }
  const name = input.name;
  const signal = opts.signal;
  if (signal) {
    // Stop waiting for the next chunk once aborted: next() then says the input has ended, and a
    // stream is destroyed (its iterator would wait for a chunk that may never come).
    const inner = input;
    const stream = typeof source === 'string' ? (source === '-' ? process.stdin : null) : source;
    const aborted = new Promise<null>((res) => {
      const stop = () => { res(null); (stream as { destroy?: () => void } | null)?.destroy?.(); };
      if (signal.aborted) stop(); else signal.addEventListener('abort', stop, { once: true });
    });
    input = { name: inner.name, next: () => (signal.aborted ? Promise.resolve(null) : Promise.race([inner.next(), aborted])), close: () => inner.close() };
  }

  let gzip = false;
  let announced = opts.onFormat === undefined;
  const parser = createCaptureParser(announced ? sink : {
    packet: (p) => {
      if (!announced) { announced = true; opts.onFormat!(parser.format ?? 'pcap', gzip); }
      sink.packet(p);
    },
    ...(sink.anomaly ? { anomaly: (a) => sink.anomaly!(a) } : {}),
  });
  const maxBytes = opts.maxBytes ?? Infinity;
  let limited = false;

  /** Push into the parser, honouring maxBytes; returns false once the limit is reached. */
  const feed = (c: Uint8Array): boolean => {
    const room = maxBytes - parser.bytes;
    if (c.length >= room) {
      if (room > 0) parser.push(c.subarray(0, room));
      limited = true;
      return false;
    }
    parser.push(c);
    return true;
  };

  try {
    // Peek at the first bytes (at least 2) to spot gzip. Chunks from a file source are views of
    // reused buffers, valid only until the following next(): copy what is held back.
    const head: Uint8Array[] = [];
    let headLen = 0;
    let done = false;
    while (headLen < 2) {
      const c = await input.next();
      if (c === null) {
        done = true;
        break;
      }
      if (c.length) {
        head.push(c.slice());
        headLen += c.length;
      }
    }
    const first = head[0];
    gzip = first !== undefined && first[0] === 0x1f && (first.length > 1 ? first[1] : head[1]?.[0]) === 0x8b;

    if (!gzip) {
      let go = true;
      for (const b of head) if (go) go = feed(b);
      while (go && !done) {
        const c = await input.next();
        if (c === null) break;
        go = feed(c);
        const wait = opts.backpressure?.();
        if (wait) await wait;
      }
    } else {
      // Loaded for gzip input only (start-up time of the common case).
      const [{ Readable }, { createGunzip }] = await Promise.all([import('node:stream'), import('node:zlib')]);
      const compressed = Readable.from(
        (async function* () {
          yield* head;
          for (;;) {
            const c = await input.next();
            if (c === null) return;
            yield c.slice(); // zlib may hold on to it longer than the source keeps it
          }
        })(),
        { objectMode: false },
      );
      const gunzip = createGunzip({ chunkSize: CHUNK });
      compressed.on('error', (e) => gunzip.destroy(e));
      compressed.pipe(gunzip);
      try {
        for await (const out of gunzip as AsyncIterable<Buffer>) {
          if (!feed(new Uint8Array(out.buffer, out.byteOffset, out.byteLength))) break;
          const wait = opts.backpressure?.();
          if (wait) await wait;
        }
      } catch (e) {
        if (e instanceof InputError || e instanceof CaptureFormatError) throw e;
        const err = e as NodeJS.ErrnoException;
        if (err.code?.startsWith('Z_') || err.code === 'ERR_ZLIB') {
          throw new CaptureFormatError(
            `gzip stream of ${name} is damaged or cut off after ${parser.bytes} bytes of capture: ${err.message}`,
            parser.bytes,
            'the compressed file is incomplete or corrupt; the packets before the damage were read',
          );
        }
        throw e;
      } finally {
        compressed.destroy();
        gunzip.destroy();
      }
    }
    if (limited) {
      if (parser.format === null) {
        throw new CaptureFormatError(`the first ${maxBytes} bytes of ${name} are too few to recognise a capture`, 0);
      }
    } else if (!signal?.aborted) {
      parser.end();
    }
  } finally {
    await input.close();
  }

  return {
    format: parser.format ?? 'pcap',
    packets: parser.packets,
    bytes: parser.bytes,
    gzip,
    anomalies: parser.anomalies,
    ...(limited ? { limited: true } : {}),
    ...(signal?.aborted ? { interrupted: true } : {}),
  };
}

/** Bytes in order; a returned chunk stays valid only until the next call to next(). */
interface ChunkSource {
  readonly name: string;
  next(): Promise<Uint8Array | null>;
  close(): Promise<void>;
}

function streamSource(stream: NodeJS.ReadableStream, name: string): ChunkSource {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<string | Buffer>;
  return {
    name,
    async next() {
      let r: IteratorResult<string | Buffer>;
      try {
        r = await it.next();
      } catch (e) {
        throw new InputError(`cannot read ${name}: ${(e as Error).message}`);
      }
      if (r.done) return null;
      const c = r.value;
      if (typeof c === 'string') throw new InputError(`${name} delivers text, not bytes: do not set an encoding on it`);
      return new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
    },
    async close() {
      try {
        await it.return?.();
      } catch {
        // already failed; the first error is the one that matters
      }
    },
  };
}

/** A regular file, read synchronously into one buffer; the event loop gets a turn every 8 MiB.
 *  `probe`: the bytes read here and timed before a worker may read ahead (read-ahead.ts), which it
 *  does if they came slower than the page cache (0: it starts at once; -1: never, a file under
 *  readAheadMin). */
function regularFileSource(handle: FileHandle, name: string, probe: number, stats: { bytes: number }): ChunkSource {
  const buf = new Uint8Array(CHUNK);
  let ahead = probe === 0 ? startReadAhead(handle.fd, READ_AHEAD_CHUNK) : null;
  /** Whether chunks come from read-ahead (false once it has nothing more to give). */
  let fromAhead = ahead !== null;
  /** Nanoseconds the probe's reads took so far (-1: no probe, or it is over). */
  let probeNs = probe > 0 ? 0 : -1;
  let pos = 0;
  let eof = false;
  let sinceYield = 0;
  return {
    name,
    async next() {
      if (eof) return null;
      if (sinceYield >= BYTES_PER_YIELD) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (fromAhead) {
        const c = ahead!.take(pos);
        pos = ahead!.offset;
        if (c !== null) {
          sinceYield += c.length;
          return c;
        }
        // Its end of the file, or a failed read: read on from there here (and find the end, what
        // was appended since, or the error).
        fromAhead = false;
      }
      let n: number;
      const t0 = probeNs >= 0 ? performance.now() : 0;
      try {
        n = readSync(handle.fd, buf, 0, CHUNK, pos);
      } catch (e) {
        throw new InputError(`cannot read ${name}: ${(e as Error).message}`);
      }
      if (n === 0) {
        eof = true;
        return null;
      }
      pos += n;
      sinceYield += n;
      if (probeNs >= 0) {
        probeNs += (performance.now() - t0) * 1e6;
        if (pos >= probe) {
          // Slower than the page cache: the disk. The worker reads the rest ahead from here on.
          if (!fromPageCache(pos, probeNs)) {
            ahead = startReadAhead(handle.fd, READ_AHEAD_CHUNK);
            fromAhead = ahead !== null;
          }
          probeNs = -1;
        }
      }
      // The same object for every full chunk: a new view per read would make each packet's
      // views (which hold it) point from old objects to a young one, a slow write barrier.
      return n === CHUNK ? buf : buf.subarray(0, n);
    },
    async close() {
      if (ahead !== null) {
        stats.bytes += ahead.fromWorker;
        await ahead.stop(); // before the descriptor it reads from is closed
      }
      await handle.close();
    },
  };
}

/** A pipe, FIFO or device, read asynchronously into two alternating buffers: the next read runs
 *  while the parser works. */
function fileSource(handle: FileHandle, name: string): ChunkSource {
  const bufs = [new Uint8Array(CHUNK), new Uint8Array(CHUNK)];
  let which = 0;
  let ahead: Promise<number> | null = null;
  let eof = false;
  const read = (buf: Uint8Array): Promise<number> =>
    handle.read(buf, 0, CHUNK, null).then(
      (r) => r.bytesRead,
      (e: Error) => {
        throw new InputError(`cannot read ${name}: ${e.message}`);
      },
    );
  return {
    name,
    async next() {
      if (eof) return null;
      const buf = bufs[which];
      const n = await (ahead ?? read(buf));
      ahead = null;
      if (n === 0) {
        eof = true;
        return null;
      }
      which ^= 1;
      ahead = read(bufs[which]);
      ahead.catch(() => undefined); // surfaced by the next next(), if there is one
      return n === CHUNK ? buf : buf.subarray(0, n);
    },
    async close() {
      if (ahead) await ahead.catch(() => undefined);
      await handle.close();
    },
  };
}

async function openFile(path: string, readAheadMin: number, probe: number, stats: { bytes: number }): Promise<ChunkSource> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    switch (err.code) {
      case 'ENOENT':
        throw new InputError(`no such file: ${path}`);
      case 'EACCES':
      case 'EPERM':
        throw new InputError(`permission denied: cannot read ${path}`);
      case 'EISDIR':
        throw new InputError(`${path} is a directory, not a capture file`);
      default:
        throw new InputError(`cannot open ${path}: ${err.message}`);
    }
  }
  let regular: boolean;
  let size = 0;
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new InputError(`${path} is a directory, not a capture file`);
    regular = st.isFile();
    size = st.size;
  } catch (e) {
    await handle.close();
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return regular ? regularFileSource(handle, path, size >= readAheadMin ? probe : -1, stats) : fileSource(handle, path);
}
