// Helpers shared by the capture tests (not part of the public API): run the parser over bytes in
// chunks of a given size and collect everything it reports (copies, since records are reused),
// build the odd files no writer produces, and find a tool on PATH (`which`). The tcpdump test
// corpus is found by src/paths.ts (sharedCorpus).

import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { CaptureFormatError } from '../errors.js';
import { createCaptureParser } from './parser.js';
import type { CaptureAnomaly, CaptureFormat } from './types.js';
import { PcapWriter, pcapngBlock, writePcapng, type PcapWriterOptions } from './writer.js';

export interface Frame {
  frame: number;
  tsSec: number;
  tsNsec: number;
  linkType: number;
  interfaceId: number;
  origLen: number;
  data: Uint8Array;
}

export interface Parsed {
  format: CaptureFormat | null;
  frames: Frame[];
  anomalies: CaptureAnomaly[];
  /** The CaptureFormatError thrown, if any (anything else is rethrown). */
  error: CaptureFormatError | null;
}

/** Parse `bytes` fed in chunks of `chunk` bytes (whole when omitted), then end(). */
export function parseAll(bytes: Uint8Array, chunk = bytes.length || 1): Parsed {
  const frames: Frame[] = [];
  const anomalies: CaptureAnomaly[] = [];
  const p = createCaptureParser({
    packet(r) {
      frames.push({ ...r, data: r.data.slice() });
    },
    anomaly(a) {
      anomalies.push(a);
    },
  });
  let error: CaptureFormatError | null = null;
  try {
    for (let o = 0; o < bytes.length; o += chunk) p.push(bytes.subarray(o, o + chunk));
    p.end();
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    error = e;
  }
  return { format: p.format, frames, anomalies, error };
}

/** Deterministic pseudo-random bytes (xorshift), for packet contents. */
export function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Little helper to build binary fixtures field by field. */
export class Bytes {
  private readonly parts: number[] = [];
  constructor(private readonly le = true) {}
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.le ? this.u8(v).u8(v >>> 8) : this.u8(v >>> 8).u8(v);
  }
  u32(v: number): this {
    return this.le ? this.u16(v & 0xffff).u16(v >>> 16) : this.u16(v >>> 16).u16(v & 0xffff);
  }
  raw(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** Absolute path of an executable on PATH, or null. */
export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

// --- sample files -------------------------------------------------------------------------------

export interface Pkt {
  tsSec: number;
  tsNsec: number;
  data: Uint8Array;
  origLen?: number;
}

export const T0 = 1_700_000_000;

export function pkts(n: number, nsStep: number, seed: number): Pkt[] {
  const out: Pkt[] = [];
  for (let i = 0; i < n; i++) {
    const ns = (i * nsStep) % 1e9;
    out.push({ tsSec: T0 + i, tsNsec: ns, data: bytesOf(14 + ((i * 37 + seed) % 300), seed + i) });
  }
  return out;
}

export function pcap(opts: PcapWriterOptions, list: Pkt[]): Uint8Array {
  const w = new PcapWriter(opts);
  return concatBytes([w.header(), ...list.map((p) => w.record(p.tsSec, p.tsNsec, p.data, p.origLen))]);
}

/** A classic pcap written by the "modified" (Kuznetzov) libpcap: 24-byte record headers. */
export function kuznetzov(list: Pkt[], le = true): Uint8Array {
  const b = new Bytes(le).u32(0xa1b2cd34).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(101);
  for (const p of list) {
    b.u32(p.tsSec).u32(Math.floor(p.tsNsec / 1000)).u32(p.data.length).u32(p.data.length);
    b.u32(3).u16(0x0800).u8(0).u8(0); // ifindex, protocol, pkt_type, pad
    b.raw(p.data);
  }
  return b.done();
}

/** A mixed pcapng: two sections of different byte order, several interfaces and resolutions, SPB, PB, skipped blocks. */
export function mixedPcapng(): { bytes: Uint8Array; want: Array<Pkt & { linkType: number; interfaceId: number }> } {
  const want: Array<Pkt & { linkType: number; interfaceId: number }> = [];
  const a = pkts(4, 123_456_789, 1);
  const s1 = writePcapng([
    {
      interfaces: [{ linkType: 1 }, { linkType: 101, tsresol: 9 }, { linkType: 113, tsresol: 3 }],
      packets: [
        { interfaceId: 0, tsSec: a[0].tsSec, tsNsec: 5000, data: a[0].data },
        { interfaceId: 1, tsSec: a[1].tsSec, tsNsec: a[1].tsNsec, data: a[1].data, origLen: 1500 },
        { interfaceId: 2, tsSec: a[2].tsSec, tsNsec: 7_000_000, data: a[2].data },
      ],
    },
  ]);
  want.push({ tsSec: a[0].tsSec, tsNsec: 5000, data: a[0].data, linkType: 1, interfaceId: 0 });
  want.push({ ...a[1], origLen: 1500, linkType: 101, interfaceId: 1 });
  want.push({ tsSec: a[2].tsSec, tsNsec: 7_000_000, data: a[2].data, linkType: 113, interfaceId: 2 });
  // Simple Packet Block (interface 0, no timestamp), a Name Resolution Block (skipped silently),
  // an obsolete Packet Block on interface 1 (ns), an Interface Statistics Block.
  const spbData = bytesOf(61, 9);
  const spb = pcapngBlock(3, new Bytes().u32(61).raw(spbData).done());
  want.push({ tsSec: 0, tsNsec: 0, data: spbData, linkType: 1, interfaceId: 0 });
  const nrb = pcapngBlock(4, new Bytes().u16(0).u16(0).done());
  const pbData = bytesOf(33, 10);
  const ts = BigInt(T0 + 50) * 1_000_000_000n + 42n;
  const pb = pcapngBlock(
    2,
    new Bytes().u16(1).u16(0).u32(Number(ts >> 32n)).u32(Number(ts & 0xffffffffn)).u32(33).u32(40).raw(pbData).done(),
  );
  want.push({ tsSec: T0 + 50, tsNsec: 42, data: pbData, origLen: 40, linkType: 101, interfaceId: 1 });
  const isb = pcapngBlock(5, new Bytes().u32(0).u32(0).u32(0).u16(0).u16(0).done());
  // Section 2, big-endian: binary resolution 2^-20 with an offset, and 10^-9.
  const b = pkts(3, 0, 2);
  const s2 = writePcapng([
    {
      bigEndian: true,
      interfaces: [
        { linkType: 228, tsresol: 0x80 | 20, tsoffset: 1_000_000 },
        { linkType: 1, tsresol: 9, tsoffset: -5 },
      ],
      packets: [
        { interfaceId: 1, tsSec: b[0].tsSec, tsNsec: 999_999_999, data: b[0].data },
        { interfaceId: 0, tsSec: b[1].tsSec, tsNsec: 15_625_000 * 37, data: b[1].data },
        { interfaceId: 0, tsSec: b[2].tsSec, tsNsec: 500_000_000, data: b[2].data },
      ],
    },
  ]);
  want.push({ tsSec: b[0].tsSec, tsNsec: 999_999_999, data: b[0].data, linkType: 1, interfaceId: 1 });
  want.push({ tsSec: b[1].tsSec, tsNsec: 15_625_000 * 37, data: b[1].data, linkType: 228, interfaceId: 0 });
  want.push({ tsSec: b[2].tsSec, tsNsec: 500_000_000, data: b[2].data, linkType: 228, interfaceId: 0 });
  // Section 3, little-endian again, one interface: interface ids restart.
  const s3 = writePcapng([{ interfaces: [{ linkType: 1 }], packets: [{ interfaceId: 0, tsSec: T0, tsNsec: 1000, data: a[3].data }] }]);
  want.push({ tsSec: T0, tsNsec: 1000, data: a[3].data, linkType: 1, interfaceId: 0 });
  return { bytes: concatBytes([s1, spb, nrb, pb, isb, s2, s3]), want };
}

