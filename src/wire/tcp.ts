// TCP segment view (RFC 9293; ECN flags RFC 3168; AE RFC 9768) and option decoding. Zero-copy over
// (bytes, offset, end) where `end` is the end of the captured part of the segment. `TcpSegment.check`
// is the one bounds check: the 20-byte fixed header is captured and the data offset is ≥ 5 — exactly
// what tcpdump needs before it prints `Flags [...]`. After that, getters cannot fail; options and
// payload are read only as far as they were captured.

import type { TcpOption, TcpSegmentView } from './types.js';
import { TcpFlag } from './types.js';
import { dataViewOf, readU16, readU32 } from './bytes.js';

/** Field offsets from the start of the TCP header. */
export const TcpField = {
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ_NUM: 4,
  ACK_NUM: 8,
  /** Data offset (high nibble), reserved bits, AE (low bit). */
  OFF_AE: 12,
  FLAGS: 13,
  WIN_SIZE: 14,
  CHECKSUM: 16,
  URGENT: 18,
  OPTIONS: 20,
} as const;

export const TCP_MIN_HEADER_LEN = 20;

/** Option kinds (IANA "TCP Option Kind Numbers"). */
export const TcpOptionKind = {
  EOL: 0, NOP: 1, MSS: 2, WINDOW_SCALE: 3, SACK_PERMITTED: 4, SACK: 5, TIMESTAMPS: 8, MD5: 19,
} as const;

export type TcpCheckError = 'tcp-truncated' | 'tcp-bad-offset';

export class TcpSegment implements TcpSegmentView {
  /** `bytes` as a DataView, for the fields read per packet (bytes.ts): set with `bytes` by the
   *  constructor and `repoint`, the only ways to point the view elsewhere. */
  private dv: DataView;

  /**
   * Unchecked constructor: call `TcpSegment.check` first. `end` is the end of the captured bytes of
   * this segment (never beyond the IP packet).
   */
  constructor(public bytes: Uint8Array, public offset: number, public end: number) {
    this.dv = dataViewOf(bytes);
  }

  /** Point this view at another (checked) segment: for decoders that reuse one view per frame. */
  repoint(bytes: Uint8Array, offset: number, end: number): this {
    if (bytes !== this.bytes) {
      this.bytes = bytes;
      this.dv = dataViewOf(bytes);
    }
    this.offset = offset;
    this.end = end;
    return this;
  }

  static check(bytes: Uint8Array, offset: number, end: number): TcpCheckError | null {
    if (end - offset < TCP_MIN_HEADER_LEN) return 'tcp-truncated';
    if (bytes[offset + TcpField.OFF_AE] >> 4 < 5) return 'tcp-bad-offset';
    return null;
  }

  static newChecked(bytes: Uint8Array, offset: number, end = bytes.length): TcpSegment | TcpCheckError {
    const err = TcpSegment.check(bytes, offset, end);
    return err === null ? new TcpSegment(bytes, offset, end) : err;
  }

  get srcPort(): number { return this.dv.getUint16(this.offset); }
  get dstPort(): number { return this.dv.getUint16(this.offset + TcpField.DST_PORT); }
  get seqNumber(): number { return this.dv.getUint32(this.offset + TcpField.SEQ_NUM); }
  get ackNumber(): number { return this.dv.getUint32(this.offset + TcpField.ACK_NUM); }
  get headerLength(): number { return (this.bytes[this.offset + TcpField.OFF_AE] >> 4) * 4; }
  get flags(): number {
    return this.bytes[this.offset + TcpField.FLAGS] | ((this.bytes[this.offset + TcpField.OFF_AE] & 1) << 8);
  }
  get fin(): boolean { return (this.bytes[this.offset + TcpField.FLAGS] & TcpFlag.FIN) !== 0; }
  get syn(): boolean { return (this.bytes[this.offset + TcpField.FLAGS] & TcpFlag.SYN) !== 0; }
  get rst(): boolean { return (this.bytes[this.offset + TcpField.FLAGS] & TcpFlag.RST) !== 0; }
  get psh(): boolean { return (this.bytes[this.offset + TcpField.FLAGS] & TcpFlag.PSH) !== 0; }
  get ack(): boolean { return (this.bytes[this.offset + TcpField.FLAGS] & TcpFlag.ACK) !== 0; }
  get urg(): boolean { return (this.bytes[this.offset + TcpField.FLAGS] & TcpFlag.URG) !== 0; }
  get ece(): boolean { return (this.bytes[this.offset + TcpField.FLAGS] & TcpFlag.ECE) !== 0; }
  get cwr(): boolean { return (this.bytes[this.offset + TcpField.FLAGS] & TcpFlag.CWR) !== 0; }
  get ae(): boolean { return (this.bytes[this.offset + TcpField.OFF_AE] & 1) !== 0; }
  get window(): number { return this.dv.getUint16(this.offset + TcpField.WIN_SIZE); }
  get checksum(): number { return readU16(this.bytes, this.offset + TcpField.CHECKSUM); }
  get urgentPointer(): number { return readU16(this.bytes, this.offset + TcpField.URGENT); }

  /** End of the captured option bytes. */
  private get optionsEnd(): number { return Math.min(this.offset + this.headerLength, this.end); }

  /** True when the header (with options) is entirely captured. */
  get headerCaptured(): boolean { return this.offset + this.headerLength <= this.end; }

  /** The captured payload (a view, not a copy). */
  get payload(): Uint8Array {
    const start = Math.min(this.offset + this.headerLength, this.end);
    return this.bytes.subarray(start, this.end);
  }

  /** Decoded options present in the captured bytes; EOL ends the list, NOPs are skipped. */
  options(): TcpOption[] {
    return decodeTcpOptions(this.bytes, this.offset + TCP_MIN_HEADER_LEN, this.offset + this.headerLength, this.optionsEnd);
  }

  /** Allocation-free summary of `options()` into `out` (see `scanTcpOptionKinds`). */
  scanOptionKinds(out: TcpOptionScan): void {
    scanTcpOptionKinds(this.bytes, this.offset + TCP_MIN_HEADER_LEN, this.offset + this.headerLength, this.optionsEnd, out);
  }

  /** The order of the options as captured, NOP and EOL included, as one number (`tcpOptionLayout`). */
  optionLayoutCode(): number {
    return tcpOptionLayout(this.bytes, this.offset + TCP_MIN_HEADER_LEN, this.offset + this.headerLength, this.optionsEnd);
  }

  /**
   * Allocation-free scan of the option lengths: false when some option has an impossible length
   * (what `options()` would report as `malformed`).
   */
  optionsWellFormed(): boolean {
    return scanTcpOptions(this.bytes, this.offset + TCP_MIN_HEADER_LEN, this.offset + this.headerLength, this.optionsEnd);
  }
}

/** The one fixed length of each known option kind; 0 = variable or unknown. */
function fixedLength(kind: number): number {
  switch (kind) {
    case TcpOptionKind.MSS: return 4;
    case TcpOptionKind.WINDOW_SCALE: return 3;
    case TcpOptionKind.SACK_PERMITTED: return 2;
    case TcpOptionKind.TIMESTAMPS: return 10;
    case TcpOptionKind.MD5: return 18;
    default: return 0;
  }
}

/** Is `len` a possible total length for an option of `kind` with `room` bytes left in the header? */
function lengthPossible(kind: number, len: number, room: number): boolean {
  if (len < 2 || len > room) return false;
  const fixed = fixedLength(kind);
  if (fixed !== 0) return len === fixed;
  if (kind === TcpOptionKind.SACK) return (len - 2) % 8 === 0;
  return true;
}

/**
 * One step of the walk over the options in [start, hdrEnd), reading only bytes before `capEnd`: the
 * length of the option at `o` (1 for NOP); 0 where the list ends (EOL, the end of what was
 * captured, or an option cut off by the capture: silently); -1 for an impossible length (the
 * option is malformed and the list ends). Every option walk below goes through it.
 */
function optionStep(b: Uint8Array, o: number, hdrEnd: number, capEnd: number): number {
  if (o >= capEnd) return 0;
  const kind = b[o];
  if (kind === TcpOptionKind.EOL) return 0;
  if (kind === TcpOptionKind.NOP) return 1;
  if (o + 1 >= capEnd) return 0;
  const len = b[o + 1];
  if (!lengthPossible(kind, len, hdrEnd - o)) return -1;
  return o + len > capEnd ? 0 : len;
}

/**
 * Decode options in [start, hdrEnd) reading only bytes before `capEnd`. An option cut off by the
 * capture ends the list silently; an impossible length yields `malformed` and ends it.
 */
export function decodeTcpOptions(b: Uint8Array, start: number, hdrEnd: number, capEnd: number): TcpOption[] {
  const out: TcpOption[] = [];
  for (let o = start, len = optionStep(b, o, hdrEnd, capEnd); len !== 0; o += len, len = optionStep(b, o, hdrEnd, capEnd)) {
    const kind = b[o];
    if (len < 0) {
      out.push({ kind: 'malformed', type: kind, offset: o - start + TCP_MIN_HEADER_LEN });
      break;
    }
    if (kind === TcpOptionKind.NOP) continue;
    switch (kind) {
      case TcpOptionKind.MSS: out.push({ kind: 'mss', value: readU16(b, o + 2) }); break;
      case TcpOptionKind.WINDOW_SCALE: out.push({ kind: 'window-scale', shift: b[o + 2] }); break;
      case TcpOptionKind.SACK_PERMITTED: out.push({ kind: 'sack-permitted' }); break;
      case TcpOptionKind.SACK: {
        const blocks: Array<readonly [number, number]> = [];
        for (let p = o + 2; p + 8 <= o + len; p += 8) blocks.push([readU32(b, p), readU32(b, p + 4)]);
        out.push({ kind: 'sack', blocks });
        break;
      }
      case TcpOptionKind.TIMESTAMPS:
        out.push({ kind: 'timestamps', tsVal: readU32(b, o + 2), tsEcr: readU32(b, o + 6) });
        break;
      case TcpOptionKind.MD5: out.push({ kind: 'md5' }); break;
      default: out.push({ kind: 'unknown', type: kind, length: len });
    }
  }
  return out;
}

/** Names of the layout codes, p0f's (p0f.fp "olayout": eol, nop, mss, ws, sok, sack, ts, ?n). */
export const OPTION_LAYOUT_NAMES: readonly string[] = ['', 'eol', 'nop', 'mss', 'ws', 'sok', 'sack', 'ts', '?'];
/** At most this many options go into a layout code (16^13 < 2^53). */
const LAYOUT_MAX = 13;

/**
 * The options' order in [start, hdrEnd) as captured — NOPs and EOL included, as stacks lay them
 * out (the SYN "olayout" of p0f's fingerprints) — as one number without allocating: each option a
 * base-16 digit (1 + its index in OPTION_LAYOUT_NAMES − 1), first option most significant; 0 for
 * none. Stops at EOL (counted), at a cut or impossible length, or after LAYOUT_MAX options.
 */
export function tcpOptionLayout(b: Uint8Array, start: number, hdrEnd: number, capEnd: number): number {
  let code = 0;
  const end = Math.min(hdrEnd, capEnd);
  for (let o = start, n = 0; o < end && n < LAYOUT_MAX; n += 1) {
    const kind = b[o];
    let c: number;
    switch (kind) {
      case TcpOptionKind.EOL: c = 1; break;
      case TcpOptionKind.NOP: c = 2; break;
      case TcpOptionKind.MSS: c = 3; break;
      case TcpOptionKind.WINDOW_SCALE: c = 4; break;
      case TcpOptionKind.SACK_PERMITTED: c = 5; break;
      case TcpOptionKind.SACK: c = 6; break;
      case TcpOptionKind.TIMESTAMPS: c = 7; break;
      default: c = 8;
    }
    code = code * 16 + c;
    if (c === 1) break;
    if (c === 2) { o += 1; continue; }
    if (o + 1 >= end) break;
    const len = b[o + 1];
    if (len < 2) break;
    o += len;
  }
  return code;
}

/** A layout code as text: `mss,nop,ws,nop,nop,sok` (p0f's spelling). */
export function optionLayoutText(code: number): string {
  const names: string[] = [];
  for (let c = code; c > 0; c = Math.floor(c / 16)) names.push(OPTION_LAYOUT_NAMES[c % 16] ?? '?');
  return names.reverse().join(',');
}

/** `decodeTcpOptions` without the objects: false when it would report `malformed`. */
export function scanTcpOptions(b: Uint8Array, start: number, hdrEnd: number, capEnd: number): boolean {
  for (let o = start, len = optionStep(b, o, hdrEnd, capEnd); len !== 0; o += len, len = optionStep(b, o, hdrEnd, capEnd)) {
    if (len < 0) return false;
  }
  return true;
}

/** The `kind` names of TcpOption by code (1…8) as `scanTcpOptionKinds` numbers them; 0 is unused. */
export const TCP_OPTION_KIND_CODES: readonly TcpOption['kind'][] = [
  'malformed', 'mss', 'window-scale', 'sack-permitted', 'sack', 'timestamps', 'md5', 'unknown', 'malformed',
];
/** Kind codes per list half: at most this many kinds in `low`, the rest in `high`. */
const KINDS_PER_HALF = 10;

/**
 * What the hot path needs of a segment's options, without objects: the sequence of option kinds
 * exactly as `decodeTcpOptions(...).map((o) => o.kind)` lists them, as two base-9 numbers of codes
 * 1…8 (TCP_OPTION_KIND_CODES; the first kind is the most significant digit; 0 = no kinds), the
 * window-scale shift of the last window-scale option (-1 when none), and whether a timestamps or a
 * malformed option is present. A header has at most 40 option bytes, so at most 20 kinds.
 */
export interface TcpOptionScan {
  low: number;
  high: number;
  count: number;
  windowShift: number;
  timestamps: boolean;
  malformed: boolean;
}

export function newTcpOptionScan(): TcpOptionScan {
  return { low: 0, high: 0, count: 0, windowShift: -1, timestamps: false, malformed: false };
}

function kindCode(kind: number): number {
  switch (kind) {
    case TcpOptionKind.MSS: return 1;
    case TcpOptionKind.WINDOW_SCALE: return 2;
    case TcpOptionKind.SACK_PERMITTED: return 3;
    case TcpOptionKind.SACK: return 4;
    case TcpOptionKind.TIMESTAMPS: return 5;
    case TcpOptionKind.MD5: return 6;
    default: return 7;
  }
}

/** `decodeTcpOptions` reduced to a TcpOptionScan (same walk, same stops); never allocates. */
export function scanTcpOptionKinds(b: Uint8Array, start: number, hdrEnd: number, capEnd: number, out: TcpOptionScan): void {
  let low = 0;
  let high = 0;
  let count = 0;
  let shift = -1;
  let timestamps = false;
  let malformed = false;
  for (let o = start, len = optionStep(b, o, hdrEnd, capEnd); len !== 0; o += len, len = optionStep(b, o, hdrEnd, capEnd)) {
    const kind = b[o];
    if (kind === TcpOptionKind.NOP) continue;
    let code: number;
    if (len < 0) {
      code = 8;
      malformed = true;
    } else {
      code = kindCode(kind);
      if (code === 2) shift = b[o + 2];
      else if (code === 5) timestamps = true;
    }
    if (count < KINDS_PER_HALF) low = low * 9 + code;
    else high = high * 9 + code;
    count += 1;
    if (malformed) break;
  }
  out.low = low;
  out.high = high;
  out.count = count;
  out.windowShift = shift;
  out.timestamps = timestamps;
  out.malformed = malformed;
}

/** The same summary from decoded options (for views other than TcpSegment). */
export function scanDecodedOptions(options: readonly TcpOption[], out: TcpOptionScan): void {
  let low = 0;
  let high = 0;
  let shift = -1;
  let timestamps = false;
  let malformed = false;
  for (let i = 0; i < options.length; i += 1) {
    const o = options[i];
    const code = TCP_OPTION_KIND_CODES.indexOf(o.kind, 1);
    if (i < KINDS_PER_HALF) low = low * 9 + code;
    else high = high * 9 + code;
    if (o.kind === 'window-scale') shift = o.shift;
    else if (o.kind === 'timestamps') timestamps = true;
    else if (o.kind === 'malformed') malformed = true;
  }
  out.low = low;
  out.high = high;
  out.count = options.length;
  out.windowShift = shift;
  out.timestamps = timestamps;
  out.malformed = malformed;
}

/** The kind names of a scan's `low`/`high` pair, in order (a new array). */
export function optionKindNames(low: number, high: number): TcpOption['kind'][] {
  const out: TcpOption['kind'][] = [];
  appendKinds(low, out);
  appendKinds(high, out);
  return out;
}

function appendKinds(code: number, out: TcpOption['kind'][]): void {
  if (code === 0) return;
  const at = out.length;
  while (code > 0) {
    const d = code % 9;
    out.push(TCP_OPTION_KIND_CODES[d]);
    code = (code - d) / 9;
  }
  // Digits came out least significant first.
  for (let i = at, j = out.length - 1; i < j; i += 1, j -= 1) {
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
}
