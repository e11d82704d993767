// Push-style, synchronous, streaming reader for classic pcap and pcapng captures.
//
// Contract:
//   const p = createCaptureParser(sink);  p.push(chunk) …  p.end();
// - The format is detected from the first 4 bytes: classic pcap (magic a1b2c3d4 µs, a1b23c4d ns,
//   a1b2cd34 "modified"/Kuznetzov, either byte order) or pcapng (0a0d0d0a).
// - sink.packet() is called once per packet, in file order, synchronously from push(). The
//   PacketRecord object is reused for every call and `data` is a view into the pushed chunk (or
//   into the parser's carry-over buffer when a record straddles two chunks): both are valid only
//   during the callback. Copy what you keep. The view is made only when `data` is first read for
//   that packet (a getter); `bytes`/`dataOffset`/`dataLength` give the same bytes without it.
// - Frames are numbered from 1 across the whole file (all sections and interfaces), as `tcpdump -#`
//   and Wireshark number them.
// - Memory is bounded by one record: only the unconsumed tail of the previous chunk is kept.
// - Damage inside a record (caplen > snaplen, caplen > origlen, empty packet, bad option lengths,
//   timestamp fractions out of range, unknown block types…) goes to sink.anomaly() and reading
//   goes on. File-level damage (bad magic, a record cut off by the end of the stream, an impossible
//   or insanely large length) throws CaptureFormatError naming the byte offset of the record or
//   block at fault, after every good packet before it has been delivered. Once it has thrown, the
//   parser stays failed and rethrows the same error.
// - The decisions follow libpcap 1.10 (what `tcpdump -r` does), so packet counts agree with
//   `tcpdump -r FILE --count`. Deliberate exceptions, where libpcap refuses a file that the pcapng
//   specification allows or where the damage is confined to one record (Wireshark reads these too):
//   interfaces with different link types or snap lengths, sections with different byte orders,
//   pcapng minor versions other than 0 and 2, a file without any interface, malformed IDB options,
//   and EPB caplen > snaplen are accepted instead of being fatal (the minor version, the IDB options
//   and the caplen as anomalies).
// - Caplen > snaplen: the data handed over is cut to the snap length, as libpcap does.

import { CaptureFormatError } from '../errors.js';
import type { CaptureAnomaly, CaptureFormat, CaptureSink, PacketRecord } from './types.js';

export interface CaptureParser {
  /** Feed the next bytes of the capture. May call the sink any number of times; may throw CaptureFormatError. */
  push(chunk: Uint8Array): void;
  /** The stream is over: throws CaptureFormatError if it stopped inside a header or record, or was empty. */
  end(): void;
  /** Detected format, or null before the first 4 bytes. */
  readonly format: CaptureFormat | null;
  /** Bytes pushed so far (including an incomplete record still waiting for its end). */
  readonly bytes: number;
  /** Packets delivered so far. */
  readonly packets: number;
  /** Anomalies found so far (counted whether or not the sink listens). */
  readonly anomalies: number;
}

/** libpcap's MAXIMUM_SNAPLEN: the largest packet accepted for most link types. */
export const MAXIMUM_SNAPLEN = 262144;

/** libpcap's max_snaplen_for_dlt(): larger limits for the few link types whose packets can be huge. */
export function maxSnaplenForLinkType(linkType: number): number {
  switch (linkType) {
    case 231: return 128 * 1024 * 1024; // LINKTYPE_DBUS
    case 279: return 8 * 1024 * 1024; // LINKTYPE_EBHSCR
    case 249: return 1024 * 1024; // LINKTYPE_USBPCAP
    default: return MAXIMUM_SNAPLEN;
  }
}

export function createCaptureParser(sink: CaptureSink): CaptureParser {
  return new Parser(sink);
}

// ---------------------------------------------------------------------------------------------

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_KUZNETZOV = 0xa1b2cd34;
const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 1;
const BT_PB = 2;
const BT_SPB = 3;
const BT_NRB = 4;
const BT_ISB = 5;
const BT_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;
/** Block types that are valid pcapng but carry no packets: skipped silently. */
const SKIPPED_BLOCKS = new Set([
  BT_NRB, BT_ISB,
  7, // IRIG timestamp (obsolete)
  8, // ARINC 429 (obsolete)
  9, // systemd journal export
  0x0a, // Decryption Secrets Block
  0x0bad, 0x40000bad, // custom blocks
]);
/** libpcap: INITIAL_MAX_BLOCKSIZE. */
const INITIAL_MAX_BLOCK = 16 * 1024 * 1024;
/** libpcap: BT_SHB_INSANE_MAX. */
const MAX_SHB = 1024 * 1024;
const INT_MAX = 0x7fffffff;
const TWO32 = 4294967296;
/** Carry-over buffers larger than this are released once their record is processed. */
const TAIL_KEEP = 4 * 1024 * 1024;

const enum Lengths { Normal, Swapped, MaybeSwapped }

interface Iface {
  linkType: number;
  snaplen: number;
  /** Decimal resolution as units per second when ≤ 1e9 (fast path), else 0. */
  units: number;
  /** Nanoseconds per unit for the fast path. */
  nsPerUnit: number;
  /** General path (binary or finer than ns): units per second as a BigInt, or null. */
  bigUnits: bigint | null;
  /** if_tsoffset, seconds. */
  offset: number;
}

/** The parser's one PacketRecord: `data` is an accessor over bytes[dataOffset, +dataLength). */
interface Rec extends PacketRecord {
  bytes: Uint8Array;
  dataOffset: number;
  dataLength: number;
  /** `data` once made for the current packet, else null. */
  view: Uint8Array | null;
}

function getData(this: Rec): Uint8Array {
  // new Uint8Array(buffer, …) is markedly cheaper than subarray() in V8.
  return (this.view ??= new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + this.dataOffset, this.dataLength));
}

function setData(this: Rec, v: Uint8Array): void {
  this.bytes = v;
  this.dataOffset = 0;
  this.dataLength = v.length;
  this.view = v;
}

/** The record's data for this packet: bytes[offset, offset + length), no view made yet. */
function pointAt(rec: Rec, bytes: Uint8Array, offset: number, length: number): void {
  rec.bytes = bytes;
  rec.dataOffset = offset;
  rec.dataLength = length;
  rec.view = null;
}

/**
 * A record whose enumerable properties are PacketRecord's, in its order (so spreads and deep
 * equality see just those). Built by adding each property once — reconfiguring a property of an
 * existing object (data into accessor) would turn it into a slow dictionary-mode object.
 */
function newRecord(): Rec {
  const empty = new Uint8Array(0);
  // Plain stores where possible: such fields hold unboxed numbers overwritten in place
  // (defineProperty'd ones would box a new heap number for every timestamp stored).
  const rec = { frame: 0, tsSec: 0, tsNsec: 0, linkType: 0, interfaceId: 0 } as Rec;
  Object.defineProperty(rec, 'data', { get: getData, set: setData, enumerable: true, configurable: true });
  rec.origLen = 0;
  const hidden = (name: string, value: unknown) =>
    Object.defineProperty(rec, name, { value, writable: true, enumerable: false, configurable: true });
  hidden('bytes', empty);
  hidden('dataOffset', 0);
  hidden('dataLength', 0);
  hidden('view', null);
  return rec;
}

class Parser implements CaptureParser {
  private readonly sink: CaptureSink;
  private readonly rec: Rec = newRecord();
  private fmt: CaptureFormat | null = null;
  private total = 0;
  private frames = 0;
  private nAnomalies = 0;
  private failed: CaptureFormatError | null = null;

  // Carry-over of an incomplete unit (header, record or block) from the previous chunk.
  private tail = new Uint8Array(0);
  private tailView = new DataView(this.tail.buffer);
  private tailLen = 0;
  private tailStart = 0;

  // Classic pcap state.
  private headerDone = false;
  private le = true;
  private nano = false;
  private hdrSize = 16;
  private lengths = Lengths.Normal;
  private snaplen = 0;
  private linkType = 0;
  private maxCap = MAXIMUM_SNAPLEN;

  // pcapng state (le is shared: byte order of the current section).
  private ifaces: Iface[] = [];
  private maxBlock = INITIAL_MAX_BLOCK;

  constructor(sink: CaptureSink) {
    this.sink = sink;
  }

  get format(): CaptureFormat | null { return this.fmt; }
  get bytes(): number { return this.total; }
  get packets(): number { return this.frames; }
  get anomalies(): number { return this.nAnomalies; }

  push(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    const n = chunk.length;
    if (n === 0) return;
    const base = this.total;
    this.total += n;
    try {
      let pos = 0;
      if (this.tailLen > 0) {
        pos = this.fillTail(chunk);
        if (pos < 0) return; // still incomplete: the whole chunk went into the tail
      }
      const view = new DataView(chunk.buffer, chunk.byteOffset, n);
      pos = this.run(chunk, view, pos, n, base);
      if (pos < n) {
        const rest = n - pos;
        if (this.tail.length < rest) this.growTail(rest);
        this.tail.set(chunk.subarray(pos), 0);
        this.tailLen = rest;
        this.tailStart = base + pos;
      }
    } catch (e) {
      if (e instanceof CaptureFormatError) this.failed = e;
      throw e;
    }
  }

  end(): void {
    if (this.failed) throw this.failed;
    let err: CaptureFormatError | null = null;
    if (this.total === 0) {
      err = new CaptureFormatError('empty file, not a capture', 0);
    } else if (this.tailLen > 0) {
      const need = this.need(this.tail, this.tailView, 0, this.tailLen, this.tailStart);
      err = new CaptureFormatError(
        `capture cut off: the ${this.unitName()} at byte offset ${this.tailStart} needs ${need} bytes, ` +
          `but the input ends after ${this.tailLen} of them (at byte ${this.total})`,
        this.tailStart,
        'the capture was probably cut short (disk full, capture killed, partial download); the packets before it were read',
      );
    }
    if (err) {
      this.failed = err;
      throw err;
    }
  }

  // --- carry-over ------------------------------------------------------------------------------

  /** Grow the carry-over buffer to hold at least `min` bytes (doubling, but never beyond `max`). */
  private growTail(min: number, max = Infinity): void {
    let cap = Math.max(64, this.tail.length * 2);
    while (cap < min) cap *= 2;
    cap = Math.max(min, Math.min(cap, max));
    const t = new Uint8Array(cap);
    t.set(this.tail.subarray(0, this.tailLen));
    this.tail = t;
    this.tailView = new DataView(t.buffer);
  }

  /**
   * Complete the unit held in the tail with bytes from the chunk and process it.
   * Returns the position in the chunk after the bytes taken, or -1 if the chunk was used up first.
   */
  private fillTail(chunk: Uint8Array): number {
    let pos = 0;
    for (;;) {
      const need = this.need(this.tail, this.tailView, 0, this.tailLen, this.tailStart);
      if (need <= this.tailLen) break;
      const take = Math.min(need - this.tailLen, chunk.length - pos);
      const want = this.tailLen + take;
      // Grow with the bytes actually present, never to a claimed length up front.
      if (this.tail.length < want) this.growTail(want, need);
      this.tail.set(chunk.subarray(pos, pos + take), this.tailLen);
      this.tailLen = want;
      pos += take;
      if (this.tailLen < need) {
        if (pos >= chunk.length) return -1;
      }
    }
    const len = this.tailLen;
    this.tailLen = 0;
    this.unit(this.tail, this.tailView, 0, len, this.tailStart);
    // Do not keep a huge buffer around after one huge record.
    if (this.tail.length > TAIL_KEEP) {
      this.tail = new Uint8Array(0);
      this.tailView = new DataView(this.tail.buffer);
    }
    return pos;
  }

  // --- the generic unit machinery ---------------------------------------------------------------

  /**
   * Total length of the next unit (file header, record or block) starting at `off`, given that
   * `avail` bytes are there. Returns a header length while the header itself is incomplete.
   * Throws on impossible lengths as soon as the header shows them.
   */
  private need(buf: Uint8Array, view: DataView, off: number, avail: number, base: number): number {
    if (this.fmt === null) {
      if (avail < 4) return 4;
      this.detect(buf, view, off, base);
    }
    if (this.fmt === 'pcap') {
      if (!this.headerDone) return 24;
      const hs = this.hdrSize;
      if (avail < hs) return hs;
      return hs + this.pcapCaplen(view, off, base);
    }
    if (avail < 8) return 8;
    return this.blockLength(view, off, avail, base);
  }

  /** Process one complete unit of `len` bytes at `off`. */
  private unit(buf: Uint8Array, view: DataView, off: number, len: number, base: number): void {
    if (this.fmt === 'pcap') {
      if (!this.headerDone) this.pcapHeader(view, off, base);
      else this.pcapRecord(buf, view, off, base);
    } else {
      this.block(buf, view, off, len, base);
    }
  }

  private unitName(): string {
    if (this.fmt === null) return 'magic number';
    if (this.fmt === 'pcap') {
      if (!this.headerDone) return 'pcap file header';
      return this.tailLen < this.hdrSize ? 'packet record header' : 'packet record';
    }
    if (this.tailLen < 8) return 'block header';
    const type = this.tailLen >= 4 ? this.tailView.getUint32(0, this.le) : -1;
    return type === BT_SHB ? 'Section Header Block' : `block of type 0x${type.toString(16)}`;
  }

  /** Process every complete unit in buf[pos, end); returns where the first incomplete one starts. */
  private run(buf: Uint8Array, view: DataView, pos: number, end: number, base: number): number {
    for (;;) {
      if (this.fmt === 'pcap' && this.headerDone) {
        // The fast loop stops only at the first incomplete record.
        return this.pcapLoop(buf, view, pos, end, base);
      }
      const avail = end - pos;
      if (avail === 0) return pos;
      const need = this.need(buf, view, pos, avail, base);
      if (need > avail) return pos;
      this.unit(buf, view, pos, need, base);
      pos += need;
    }
  }

  // --- format detection -------------------------------------------------------------------------

  private detect(buf: Uint8Array, view: DataView, off: number, base: number): void {
    const m = view.getUint32(off, true);
    if (m === BT_SHB) {
      this.fmt = 'pcapng';
      return;
    }
    for (const le of [true, false]) {
      const v = le ? m : view.getUint32(off, false);
      if (v === PCAP_MAGIC_US || v === PCAP_MAGIC_NS || v === PCAP_MAGIC_KUZNETZOV) {
        this.fmt = 'pcap';
        this.le = le;
        this.nano = v === PCAP_MAGIC_NS;
        this.hdrSize = v === PCAP_MAGIC_KUZNETZOV ? 24 : 16;
        return;
      }
    }
    const hex = Array.from(buf.subarray(off, off + 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new CaptureFormatError(
      `not a pcap or pcapng capture: expected the magic number a1 b2 c3 d4, a1 b2 3c 4d (or byte-swapped) ` +
        `or 0a 0d 0d 0a at byte offset ${base + off}, found ${hex}${guessFormat(buf, off)}`,
      base + off,
    );
  }

  // --- classic pcap -------------------------------------------------------------------------------

  private pcapHeader(view: DataView, off: number, base: number): void {
    const le = this.le;
    const major = view.getUint16(off + 4, le);
    const minor = view.getUint16(off + 6, le);
    if (major < 2) {
      throw new CaptureFormatError(`archaic pcap file format version ${major}.${minor} at byte offset ${base + off + 4} (expected 2.4)`, base + off + 4);
    }
    if (!((major === 2 && minor <= 4) || (major === 543 && minor === 0))) {
      throw new CaptureFormatError(`unsupported pcap file format version ${major}.${minor} at byte offset ${base + off + 4} (expected 2.4)`, base + off + 4);
    }
    // Versions before 2.3 (and DG/UX's 543.0) wrote caplen and len the other way round; 2.3 did both.
    this.lengths = major === 543 || minor < 3 ? Lengths.Swapped : minor === 3 ? Lengths.MaybeSwapped : Lengths.Normal;
    const rawSnap = view.getUint32(off + 16, le);
    // The upper 6 bits of the link type carry the FCS length (LT_LINKTYPE() in libpcap).
    this.linkType = view.getUint32(off + 20, le) & 0x03ffffff;
    this.maxCap = maxSnaplenForLinkType(this.linkType);
    let snap = rawSnap === 0 || rawSnap > INT_MAX ? this.maxCap : rawSnap;
    // The Kuznetzov patch captured Ethernet in cooked mode and prepended a fake 14-byte header.
    if (this.hdrSize === 24 && this.linkType === 1) snap = Math.min(snap + 14, INT_MAX);
    this.snaplen = snap;
    this.headerDone = true;
  }

  /** The record's captured length (after libpcap's fix-ups); throws if it is beyond any sane maximum. */
  private pcapCaplen(view: DataView, off: number, base: number): number {
    let cap = view.getUint32(off + 8, this.le);
    if (this.lengths !== Lengths.Normal) {
      const len = view.getUint32(off + 12, this.le);
      if (this.lengths === Lengths.Swapped || cap > len) cap = len;
    }
    if (cap > this.maxCap) this.absurdCaplen(cap, off, base);
    return cap;
  }

  private absurdCaplen(cap: number, off: number, base: number): never {
    throw new CaptureFormatError(
      `packet record at byte offset ${base + off} claims ${cap} captured bytes, more than the maximum ` +
        `of ${this.maxCap} for link type ${this.linkType}: the file is damaged from here on`,
      base + off,
    );
  }

  /** Fast path: all complete records in buf[pos, end). */
  private pcapLoop(buf: Uint8Array, view: DataView, pos: number, end: number, base: number): number {
    const hs = this.hdrSize;
    const le = this.le;
    const maxCap = this.maxCap;
    const snaplen = this.snaplen;
    const normal = this.lengths === Lengths.Normal;
    const nano = this.nano;
    const rec = this.rec;
    const sink = this.sink;
    rec.linkType = this.linkType;
    rec.interfaceId = 0;
    while (end - pos >= hs) {
      let cap = view.getUint32(pos + 8, le);
      let len = view.getUint32(pos + 12, le);
      if (!normal) {
        if (this.lengths === Lengths.Swapped || cap > len) {
          const t = cap; cap = len; len = t;
        }
      }
      if (cap > maxCap) this.absurdCaplen(cap, pos, base);
      const next = pos + hs + cap;
      if (next > end) break;
      const sec = view.getUint32(pos, le);
      const frac = view.getUint32(pos + 4, le);
      const frame = ++this.frames;
      rec.frame = frame;
      rec.origLen = len;
      if (nano ? frac < 1e9 : frac < 1e6) {
        rec.tsSec = sec;
        rec.tsNsec = nano ? frac : frac * 1000;
      } else {
        this.fractionOutOfRange(sec, frac, nano ? 1e9 : 1e6, frame, pos, base);
      }
      // No view per packet: `data` is made only if the consumer reads it.
      let keep = cap;
      if (cap > snaplen || cap > len || cap === 0) {
        this.pcapOddLengths(cap, len, snaplen, frame, pos, base);
        keep = Math.min(cap, snaplen);
      }
      pointAt(rec, buf, pos + hs, keep);
      sink.packet(rec);
      pos = next;
    }
    return pos;
  }

  /** Slow path for one record (used when it came through the carry-over buffer). */
  private pcapRecord(buf: Uint8Array, view: DataView, off: number, base: number): void {
    const end = off + this.hdrSize + this.pcapCaplen(view, off, base);
    this.pcapLoop(buf, view, off, end, base);
  }

  private fractionOutOfRange(sec: number, frac: number, perSec: number, frame: number, pos: number, base: number): void {
    this.anomaly(frame, base + pos + 4, 'timestamp-fraction-out-of-range',
      `the fraction of a second is ${frac}, not below ${perSec}; carried into the seconds`);
    const carry = Math.floor(frac / perSec);
    this.rec.tsSec = sec + carry;
    this.rec.tsNsec = (frac - carry * perSec) * (1e9 / perSec);
  }

  private pcapOddLengths(cap: number, len: number, snaplen: number, frame: number, pos: number, base: number): void {
    if (cap > snaplen) {
      this.anomaly(frame, base + pos + 8, 'caplen-exceeds-snaplen',
        `captured length ${cap} is larger than the snap length ${snaplen}; the data is cut to ${snaplen} bytes`);
    }
    if (cap > len) {
      this.anomaly(frame, base + pos + 8, 'caplen-exceeds-origlen', `captured length ${cap} is larger than the length on the wire ${len}`);
    }
    if (cap === 0) {
      this.anomaly(frame, base + pos + 8, 'zero-length-packet', `no bytes captured (length on the wire ${len})`);
    }
  }

  // --- pcapng -------------------------------------------------------------------------------------

  /** Validated total length of the block at `off` (avail ≥ 8). */
  private blockLength(view: DataView, off: number, avail: number, base: number): number {
    const at = base + off;
    const type = view.getUint32(off, true); // only compared with the palindromic SHB type here
    let length: number;
    if (type === BT_SHB) {
      if (avail < 12) return 12;
      const bom = view.getUint32(off + 8, true);
      if (bom !== BYTE_ORDER_MAGIC && bom !== BYTE_ORDER_MAGIC_SWAPPED) {
        throw new CaptureFormatError(
          `Section Header Block at byte offset ${at} has byte-order magic 0x${bom.toString(16)} instead of 1a2b3c4d in either byte order`,
          at,
        );
      }
      length = view.getUint32(off + 4, bom === BYTE_ORDER_MAGIC);
      if (length < 28 || length > MAX_SHB) {
        throw new CaptureFormatError(
          `Section Header Block at byte offset ${at} has a total length of ${length}; expected 28 to ${MAX_SHB}`,
          at,
        );
      }
    } else {
      length = view.getUint32(off + 4, this.le);
      if (length < 12) {
        throw new CaptureFormatError(`block at byte offset ${at} has a total length of ${length}, less than the minimum 12`, at);
      }
      if (length > this.maxBlock) {
        throw new CaptureFormatError(
          `block at byte offset ${at} has a total length of ${length}, more than the maximum of ${this.maxBlock}: the file is damaged from here on`,
          at,
        );
      }
    }
    if (length % 4 !== 0) {
      throw new CaptureFormatError(`block at byte offset ${at} has a total length of ${length}, which is not a multiple of 4`, at);
    }
    return length;
  }

  private block(buf: Uint8Array, view: DataView, off: number, len: number, base: number): void {
    const at = base + off;
    let le = this.le;
    const type0 = view.getUint32(off, true);
    if (type0 === BT_SHB) {
      le = view.getUint32(off + 8, true) === BYTE_ORDER_MAGIC;
    }
    const trailer = view.getUint32(off + len - 4, le);
    if (trailer !== len) {
      throw new CaptureFormatError(
        `block at byte offset ${at} has total length ${len} in its header but ${trailer} in its trailer (at byte offset ${at + len - 4})`,
        at,
      );
    }
    const type = view.getUint32(off, le);
    const body = len - 12;
    switch (type) {
      case BT_SHB:
        this.sectionHeader(view, off, at, le);
        return;
      case BT_IDB:
        this.interfaceDescription(view, off, body, at);
        return;
      case BT_EPB:
        this.packetBlock(buf, view, off, body, at, true);
        return;
      case BT_PB:
        this.packetBlock(buf, view, off, body, at, false);
        return;
      case BT_SPB:
        this.simplePacket(buf, view, off, body, at);
        return;
      default:
        if (!SKIPPED_BLOCKS.has(type)) {
          this.anomaly(null, at, 'unknown-block-type', `block of unknown type 0x${type.toString(16)} (${len} bytes) skipped`);
        }
    }
  }

  private tooShort(what: string, at: number, body: number, need: number): never {
    throw new CaptureFormatError(`${what} at byte offset ${at} is too short: its body has ${body} bytes, at least ${need} needed`, at);
  }

  private sectionHeader(view: DataView, off: number, at: number, le: boolean): void {
    const major = view.getUint16(off + 12, le);
    const minor = view.getUint16(off + 14, le);
    if (major !== 1) {
      throw new CaptureFormatError(`Section Header Block at byte offset ${at} has unsupported pcapng version ${major}.${minor} (expected 1.0)`, at);
    }
    if (minor !== 0 && minor !== 2) {
      this.anomaly(null, at + 12, 'unsupported-section-version', `pcapng version ${major}.${minor}, read as 1.0`);
    }
    this.le = le;
    this.ifaces = [];
  }

  private interfaceDescription(view: DataView, off: number, body: number, at: number): void {
    if (body < 8) this.tooShort('Interface Description Block', at, body, 8);
    const le = this.le;
    const linkType = view.getUint16(off + 8, le);
    const rawSnap = view.getUint32(off + 12, le);
    const max = maxSnaplenForLinkType(linkType);
    const iface: Iface = {
      linkType,
      snaplen: rawSnap === 0 || rawSnap > INT_MAX ? max : rawSnap,
      units: 1e6,
      nsPerUnit: 1000,
      bigUnits: null,
      offset: 0,
    };
    let sawRes = false;
    let sawOffset = false;
    const end = off + 8 + body;
    let p = off + 16;
    while (p < end) {
      if (end - p < 4) {
        this.anomaly(null, base0(at, off, p), 'bad-option-length', `Interface Description Block options end with ${end - p} stray bytes`);
        break;
      }
      const code = view.getUint16(p, le);
      const olen = view.getUint16(p + 2, le);
      const padded = (olen + 3) & ~3;
      if (padded > end - p - 4) {
        this.anomaly(null, base0(at, off, p), 'bad-option-length',
          `Interface Description Block option ${code} claims ${olen} bytes, only ${end - p - 4} left in the block; later options ignored`);
        break;
      }
      const v = p + 4;
      p = v + padded;
      if (code === 0) break; // opt_endofopt
      if (code === 9) {
        if (olen !== 1) {
          this.anomaly(null, base0(at, off, v - 4), 'bad-option-length', `if_tsresol has length ${olen}, not 1; ignored`);
        } else if (sawRes) {
          this.anomaly(null, base0(at, off, v - 4), 'duplicate-option', 'second if_tsresol ignored');
        } else {
          sawRes = true;
          const r = view.getUint8(v);
          const exp = r & 0x7f;
          if (r & 0x80) {
            if (exp > 63) {
              this.anomaly(null, base0(at, off, v), 'unsupported-tsresol', `if_tsresol 2^-${exp} is too fine; microseconds assumed`);
            } else {
              iface.units = 0;
              iface.bigUnits = 1n << BigInt(exp);
            }
          } else if (r > 19) {
            this.anomaly(null, base0(at, off, v), 'unsupported-tsresol', `if_tsresol 10^-${r} is too fine; microseconds assumed`);
          } else if (r <= 9) {
            iface.units = 10 ** r;
            iface.nsPerUnit = 10 ** (9 - r);
          } else {
            iface.units = 0;
            iface.bigUnits = 10n ** BigInt(r);
          }
        }
      } else if (code === 14) {
        if (olen !== 8) {
          this.anomaly(null, base0(at, off, v - 4), 'bad-option-length', `if_tsoffset has length ${olen}, not 8; ignored`);
        } else if (sawOffset) {
          this.anomaly(null, base0(at, off, v - 4), 'duplicate-option', 'second if_tsoffset ignored');
        } else {
          sawOffset = true;
          iface.offset = Number(view.getBigInt64(v, le));
        }
      }
    }
    this.ifaces.push(iface);
    const mb = 8 + 20 + max + 131072 + 4;
    if (mb > this.maxBlock) this.maxBlock = mb;
  }

  private unknownInterface(id: number, at: number): never {
    const n = this.ifaces.length;
    throw new CaptureFormatError(
      `packet block at byte offset ${at} refers to interface ${id}, but ${n === 0 ? 'no interface has' : `only ${n} interface(s) have`} ` +
        'been described in this section (Interface Description Block missing)',
      at,
    );
  }

  /** EPB (enhanced = true) or the obsolete Packet Block. */
  private packetBlock(buf: Uint8Array, view: DataView, off: number, body: number, at: number, enhanced: boolean): void {
    if (body < 20) this.tooShort(enhanced ? 'Enhanced Packet Block' : 'Packet Block', at, body, 20);
    const le = this.le;
    const id = enhanced ? view.getUint32(off + 8, le) : view.getUint16(off + 8, le);
    const iface = this.ifaces[id];
    if (iface === undefined) this.unknownInterface(id, at);
    const hi = view.getUint32(off + 12, le);
    const lo = view.getUint32(off + 16, le);
    const cap = view.getUint32(off + 20, le);
    const len = view.getUint32(off + 24, le);
    if (cap > body - 20) {
      throw new CaptureFormatError(
        `${enhanced ? 'Enhanced Packet Block' : 'Packet Block'} at byte offset ${at} claims ${cap} captured bytes but holds only ${body - 20}`,
        at,
      );
    }
    const frame = ++this.frames;
    const rec = this.rec;
    rec.frame = frame;
    rec.interfaceId = id;
    rec.linkType = iface.linkType;
    rec.origLen = len;
    this.timestamp(iface, hi, lo, frame, at + 12);
    const start = off + 28;
    let keep = cap;
    if (cap > iface.snaplen || cap > len || cap === 0) {
      this.pcapOddLengths(cap, len, iface.snaplen, frame, off + 20 - 8, at - off);
      if (cap > iface.snaplen) keep = iface.snaplen;
    }
    pointAt(rec, buf, start, keep);
    // Options after the padded data (libpcap ignores them; we only check their framing).
    const optStart = start + ((cap + 3) & ~3);
    const end = off + 8 + body;
    if (optStart < end) this.checkOptions(view, optStart, end, frame, at - off);
    this.sink.packet(rec);
  }

  private simplePacket(buf: Uint8Array, view: DataView, off: number, body: number, at: number): void {
    if (body < 4) this.tooShort('Simple Packet Block', at, body, 4);
    const iface = this.ifaces[0];
    if (iface === undefined) this.unknownInterface(0, at);
    const len = view.getUint32(off + 8, this.le);
    const frame = ++this.frames;
    const rec = this.rec;
    rec.frame = frame;
    rec.interfaceId = 0;
    rec.linkType = iface.linkType;
    rec.origLen = len;
    rec.tsSec = 0;
    rec.tsNsec = 0;
    let cap = Math.min(len, iface.snaplen);
    if (cap > body - 4) {
      this.anomaly(frame, at, 'spb-data-short',
        `Simple Packet Block holds ${body - 4} bytes of data, less than min(packet length ${len}, snap length ${iface.snaplen})`);
      cap = body - 4;
    }
    if (cap === 0) this.anomaly(frame, at + 8, 'zero-length-packet', `no bytes captured (length on the wire ${len})`);
    pointAt(rec, buf, off + 12, cap);
    this.sink.packet(rec);
  }

  private checkOptions(view: DataView, p: number, end: number, frame: number, base: number): void {
    const le = this.le;
    while (p < end) {
      if (end - p < 4) {
        this.anomaly(frame, base + p, 'bad-option-length', `packet block options end with ${end - p} stray bytes`);
        return;
      }
      const code = view.getUint16(p, le);
      const olen = view.getUint16(p + 2, le);
      if (code === 0) return;
      const next = p + 4 + ((olen + 3) & ~3);
      if (next > end) {
        this.anomaly(frame, base + p, 'bad-option-length', `packet block option ${code} claims ${olen} bytes, only ${end - p - 4} left in the block`);
        return;
      }
      p = next;
    }
  }

  private timestamp(iface: Iface, hi: number, lo: number, frame: number, at: number): void {
    const rec = this.rec;
    let sec: number;
    let nsec: number;
    const R = iface.units;
    if (R !== 0) {
      // Exact long division of the 64-bit count hi:lo by R ≤ 1e9, in 16-bit steps.
      let q2 = Math.floor(hi / R);
      let r = hi - q2 * R;
      if (r < 0) { q2--; r += R; }
      let x = r * 65536 + (lo >>> 16);
      let q1 = Math.floor(x / R);
      r = x - q1 * R;
      if (r < 0) { q1--; r += R; } else if (r >= R) { q1++; r -= R; }
      x = r * 65536 + (lo & 0xffff);
      let q0 = Math.floor(x / R);
      r = x - q0 * R;
      if (r < 0) { q0--; r += R; } else if (r >= R) { q0++; r -= R; }
      sec = q2 * TWO32 + q1 * 65536 + q0;
      nsec = r * iface.nsPerUnit;
    } else {
      const units = iface.bigUnits as bigint;
      const t = (BigInt(hi) << 32n) | BigInt(lo);
      sec = Number(t / units);
      nsec = Number(((t % units) * 1_000_000_000n) / units);
    }
    sec += iface.offset;
    if (sec < 0 || sec > Number.MAX_SAFE_INTEGER) {
      this.anomaly(frame, at, 'timestamp-out-of-range', `timestamp of ${sec} seconds since the epoch`);
    }
    rec.tsSec = sec;
    rec.tsNsec = nsec;
  }

  // --- anomalies ----------------------------------------------------------------------------------

  private anomaly(frame: number | null, offset: number, code: string, detail: string): void {
    this.nAnomalies++;
    const a: CaptureAnomaly = { frame, offset, code, detail };
    this.sink.anomaly?.(a);
  }
}

function base0(at: number, off: number, p: number): number {
  return at - off + p;
}

/** A hint for the usual suspects when the magic number is wrong. */
function guessFormat(buf: Uint8Array, off: number): string {
  const b0 = buf[off], b1 = buf[off + 1], b2 = buf[off + 2], b3 = buf[off + 3];
  if (b0 === 0x1f && b1 === 0x8b) return ' (gzip-compressed data: read it with readCapture, which decompresses)';
  if (b0 === 0x42 && b1 === 0x5a && b2 === 0x68) return ' (bzip2-compressed data: decompress it first)';
  if (b0 === 0xfd && b1 === 0x37 && b2 === 0x7a && b3 === 0x58) return ' (xz-compressed data: decompress it first)';
  if (b0 === 0x28 && b1 === 0xb5 && b2 === 0x2f && b3 === 0xfd) return ' (zstd-compressed data: decompress it first)';
  if (b0 === 0x50 && b1 === 0x4b) return ' (a zip archive: extract it first)';
  if ([b0, b1, b2, b3].every((b) => b !== undefined && ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09))) {
    return ' (looks like text, e.g. tcpdump\'s printed output rather than a capture written with -w)';
  }
  return '';
}
