// Writers for classic pcap (the format `tcpdump -w` writes) and a small pcapng writer.
//
// Contract:
// - PcapWriter encodes: header() gives the 24-byte file header, record() one 16-byte record header
//   plus the data cut to the snap length. Timestamps are given as seconds + nanoseconds; a
//   microsecond file (the default, magic a1b2c3d4) stores floor(tsNsec / 1000), a nanosecond file
//   (magic a1b23c4d) stores tsNsec. Byte order is little-endian unless `bigEndian` is set.
// - createPcapFileWriter() writes such a file to disk, batching records into 1 MiB writes; the
//   writes are synchronous (bounded memory, no back-pressure to manage), close() flushes. Failing to
//   create the file throws InputError.
// - writePcapng() builds a whole pcapng file in memory (for tests and small fixtures): per section an
//   SHB, one IDB per interface (with if_tsresol / if_tsoffset when given) and one EPB per packet.
//   A packet on an interface the section does not describe, or a timestamp that does not fit in 64
//   bits of its resolution, throws RangeError.

import { closeSync, openSync, writeSync } from 'node:fs';
import { InputError } from '../errors.js';

export interface PcapWriterOptions {
  /** LINKTYPE_* of every packet (1 = Ethernet, 101 = raw IP, 113 = Linux cooked…). */
  linkType: number;
  /** Snap length in the header; longer data is cut to it. Default 262144. */
  snaplen?: number;
  /** Nanosecond timestamps (magic a1b23c4d). Default false: microseconds. */
  nanosecond?: boolean;
  /** Write big-endian (as a big-endian host would). Default false. */
  bigEndian?: boolean;
}

export class PcapWriter {
  readonly linkType: number;
  readonly snaplen: number;
  readonly nanosecond: boolean;
  readonly bigEndian: boolean;

  constructor(opts: PcapWriterOptions) {
    this.linkType = opts.linkType;
    this.snaplen = opts.snaplen ?? 262144;
    this.nanosecond = opts.nanosecond ?? false;
    this.bigEndian = opts.bigEndian ?? false;
  }

  header(): Uint8Array {
    const out = new Uint8Array(24);
    const v = new DataView(out.buffer);
    const le = !this.bigEndian;
    v.setUint32(0, this.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, le);
    v.setUint16(4, 2, le);
    v.setUint16(6, 4, le);
    v.setInt32(8, 0, le); // thiszone
    v.setUint32(12, 0, le); // sigfigs
    v.setUint32(16, this.snaplen, le);
    v.setUint32(20, this.linkType, le);
    return out;
  }

  /** Bytes this record takes in the file. */
  recordSize(data: Uint8Array): number {
    return 16 + Math.min(data.length, this.snaplen);
  }

  record(tsSec: number, tsNsec: number, data: Uint8Array, origLen?: number): Uint8Array {
    const out = new Uint8Array(this.recordSize(data));
    this.recordInto(out, new DataView(out.buffer), 0, tsSec, tsNsec, data, origLen);
    return out;
  }

  /** Encode a record into `out` at `off` (view must cover out); returns the offset after it. */
  recordInto(out: Uint8Array, view: DataView, off: number, tsSec: number, tsNsec: number, data: Uint8Array, origLen?: number): number {
    const le = !this.bigEndian;
    const cap = Math.min(data.length, this.snaplen);
    view.setUint32(off, tsSec, le);
    view.setUint32(off + 4, this.nanosecond ? tsNsec : Math.floor(tsNsec / 1000), le);
    view.setUint32(off + 8, cap, le);
    view.setUint32(off + 12, origLen ?? data.length, le);
    out.set(cap === data.length ? data : data.subarray(0, cap), off + 16);
    return off + 16 + cap;
  }
}

export interface PcapFileWriter {
  write(tsSec: number, tsNsec: number, data: Uint8Array, origLen?: number): void;
  /** Flush and close the file. */
  close(): Promise<void>;
  /** Bytes written so far (header included), counting what is still buffered. */
  readonly bytes: number;
}

const BATCH = 1 << 20;

export function createPcapFileWriter(path: string, opts: PcapWriterOptions): PcapFileWriter {
  const enc = new PcapWriter(opts);
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new InputError(`cannot create capture file ${path}: ${(e as Error).message}`);
  }
  const buf = new Uint8Array(BATCH);
  const view = new DataView(buf.buffer);
  let used = 0;
  let written = 0;
  let closed = false;
  const flush = (): void => {
    let off = 0;
    while (off < used) off += writeSync(fd, buf, off, used - off);
    written += used;
    used = 0;
  };
  const head = enc.header();
  buf.set(head, 0);
  used = head.length;
  return {
    write(tsSec, tsNsec, data, origLen) {
      if (closed) throw new InputError(`capture file ${path} is already closed`);
      const size = enc.recordSize(data);
      if (used + size > BATCH) flush();
      if (size > BATCH) {
        const rec = enc.record(tsSec, tsNsec, data, origLen);
        let off = 0;
        while (off < rec.length) off += writeSync(fd, rec, off, rec.length - off);
        written += rec.length;
        return;
      }
      used = enc.recordInto(buf, view, used, tsSec, tsNsec, data, origLen);
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        flush();
      } finally {
        closeSync(fd);
      }
    },
    get bytes() {
      return written + used;
    },
  };
}

// --- pcapng -------------------------------------------------------------------------------------

export interface PcapngInterface {
  linkType: number;
  /** The raw if_tsresol byte: 6 = µs (the default, no option written), 9 = ns, 0x80 | n = 2^-n s. */
  tsresol?: number;
  /** if_tsoffset in seconds, added by readers to every timestamp of the interface. */
  tsoffset?: number;
  /** Snap length in the IDB; default 0 (no limit). */
  snaplen?: number;
}

export interface PcapngPacket {
  interfaceId: number;
  tsSec: number;
  tsNsec: number;
  data: Uint8Array;
  origLen?: number;
}

export interface PcapngSection {
  bigEndian?: boolean;
  interfaces: PcapngInterface[];
  packets: PcapngPacket[];
}

/** Build a whole pcapng file: for each section an SHB, its IDBs, then its packets as EPBs. */
export function writePcapng(sections: PcapngSection[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const s of sections) {
    const le = !s.bigEndian;
    // SHB: byte-order magic, version 1.0, section length -1 (unknown).
    const shb = new Uint8Array(16);
    const sv = new DataView(shb.buffer);
    sv.setUint32(0, 0x1a2b3c4d, le);
    sv.setUint16(4, 1, le);
    sv.setUint16(6, 0, le);
    sv.setBigInt64(8, -1n, le);
    parts.push(block(0x0a0d0d0a, shb, le));
    for (const i of s.interfaces) {
      const opts: Uint8Array[] = [];
      if (i.tsresol !== undefined) opts.push(option(9, Uint8Array.of(i.tsresol), le));
      if (i.tsoffset !== undefined) {
        const o = new Uint8Array(8);
        new DataView(o.buffer).setBigInt64(0, BigInt(i.tsoffset), le);
        opts.push(option(14, o, le));
      }
      if (opts.length) opts.push(option(0, new Uint8Array(0), le));
      const fixed = new Uint8Array(8);
      const fv = new DataView(fixed.buffer);
      fv.setUint16(0, i.linkType, le);
      fv.setUint32(4, i.snaplen ?? 0, le);
      parts.push(block(1, concat([fixed, ...opts]), le));
    }
    for (const p of s.packets) {
      const i = s.interfaces[p.interfaceId];
      if (i === undefined) throw new RangeError(`packet on interface ${p.interfaceId}, which the section does not describe`);
      const t = toUnits(p.tsSec - (i.tsoffset ?? 0), p.tsNsec, i.tsresol ?? 6);
      const fixed = new Uint8Array(20);
      const fv = new DataView(fixed.buffer);
      fv.setUint32(0, p.interfaceId, le);
      fv.setUint32(4, Number(t >> 32n), le);
      fv.setUint32(8, Number(t & 0xffffffffn), le);
      fv.setUint32(12, p.data.length, le);
      fv.setUint32(16, p.origLen ?? p.data.length, le);
      parts.push(block(6, concat([fixed, pad4(p.data)]), le));
    }
  }
  return concat(parts);
}

/** A timestamp as a count of if_tsresol units (floor). */
function toUnits(sec: number, nsec: number, tsresol: number): bigint {
  const units = tsresol & 0x80 ? 1n << BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
  const t = BigInt(sec) * units + (BigInt(nsec) * units) / 1_000_000_000n;
  if (t < 0n || t >= 1n << 64n) throw new RangeError(`timestamp ${sec}.${nsec} does not fit in 64 bits at if_tsresol 0x${tsresol.toString(16)}`);
  return t;
}

/** One pcapng block: type, total length, body (padded to 4), total length again. */
export function pcapngBlock(type: number, body: Uint8Array, littleEndian = true): Uint8Array {
  return block(type, body, littleEndian);
}

function block(type: number, body: Uint8Array, le: boolean): Uint8Array {
  const padded = pad4(body);
  const len = 12 + padded.length;
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, le);
  v.setUint32(4, len, le);
  out.set(padded, 8);
  v.setUint32(len - 4, len, le);
  return out;
}

function option(code: number, value: Uint8Array, le: boolean): Uint8Array {
  const out = new Uint8Array(4 + ((value.length + 3) & ~3));
  const v = new DataView(out.buffer);
  v.setUint16(0, code, le);
  v.setUint16(2, value.length, le);
  out.set(value, 4);
  return out;
}

function pad4(b: Uint8Array): Uint8Array {
  if (b.length % 4 === 0) return b;
  const out = new Uint8Array((b.length + 3) & ~3);
  out.set(b);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
