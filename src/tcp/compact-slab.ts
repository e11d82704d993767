// The compact form of connections that ended (a RST, or both FINs) and only wait out their linger:
// both endpoints and the store rows still read (each endpoint's last segment, the row a pending
// RST snapshot needs) as bytes in a slot of chunks shared by all such connections, so that a
// lingering connection holds no EndpointTrack and no store of its own (a port scan keeps ~150,000
// of them). Contract:
// - `pack(orig, resp, st, extraRow, lastFrame)` writes the two endpoints (EndpointTrack.pack) and
//   the rows `orig.lastRow`, `resp.lastRow` and `extraRow` (-1: none) of `st` into a slot and
//   returns its handle (≥ 0); -1 when something does not fit the int32 fields exactly (see
//   EndpointTrack.pack; a row's frame, IP ID, lengths) or a frame is past `lastFrame` (the
//   connection's last, which its frame numbers are written against): the connection then stays
//   as it is, and nothing is held.
// - `unpack(handle, orig, resp, st, lastFrame)` (the same lastFrame) writes them back into fresh
//   endpoints (every field but spillRow) and a store (those rows, at their places; the other rows
//   are not read again: with no segment list a store holds only each endpoint's two latest rows),
//   and frees the slot.
// - `used`: slots held; `bytes`: the bytes their encodings take (without the rounding to a class);
//   `heldBytes`: the bytes of the chunks held.
// The fields are first written as numbers into one scratch slot (SLOT_F64 doubles, SLOT_I32 int32),
// which is then encoded (encodeSlot): most of an ended connection's int32 fields are 0, -1 or small
// (a refused probe's 106 take ~90 bytes instead of 424), its doubles are -1 or whole numbers but
// for its times. Slots come in size classes 16 bytes apart, each class in chunks of CHUNK_BYTES,
// so that the chunks are a few hundred objects for V8's collector however many connections are
// packed. A class fills its lowest chunks first and gives back the empty ones at its end: a long
// capture's encodings drift to the next class as its frame numbers grow a byte longer, and the
// class they leave must not keep the chunks it needed at its largest.

import { PACK_F64, PACK_I32, putInt32 } from './endpoint-track.js';
import type { EndpointTrack } from './endpoint-track.js';
import { F_ACK, F_BITS, F_FRAME, F_IDENT, F_KINDS_HI, F_KINDS_LO, F_LEN, F_SEQ, F_TIME, F_WTT, STRIDE } from './segment-store.js';
import type { Store } from './segment-store.js';

const ROWS = 3;
/** Per row: its index (-1: none) and 9 fields as int32; its time as a double. */
const ROW_I32 = 10;
export const SLOT_F64 = 2 * PACK_F64 + ROWS;
export const SLOT_I32 = 2 * PACK_I32 + ROWS * ROW_I32;
/** The longest encoding: the doubles' tags, each double raw, each int32 in 5 bytes. */
export const MAX_SLOT_BYTES = 4 + 8 * SLOT_F64 + 5 * SLOT_I32;
const CLASS_STEP = 16;
const CLASS_SHIFT = 24;
const CHUNK_BYTES = 1 << 16;
/** The int32 fields that hold frame numbers: each endpoint's FIN and last segment (EndpointTrack.pack),
 *  each row's frame (packRow). */
const FRAME_FIELDS = [2, 20, PACK_I32 + 2, PACK_I32 + 20, 2 * PACK_I32 + 1, 2 * PACK_I32 + ROW_I32 + 1, 2 * PACK_I32 + 2 * ROW_I32 + 1];

/** One chunk of a size class: its bytes, as a DataView (the raw doubles) and as int32 (copied a
 *  word at a time); its free slots (a stack of indexes within it, `nFree` of them, below `made`,
 *  the slots ever handed out); how many it holds. */
interface Chunk {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly words: Int32Array;
  readonly free: Uint16Array;
  nFree: number;
  made: number;
  used: number;
}

/** One size class: slots of `size` bytes (a multiple of 16), `perChunk` to a chunk. A slot is
 *  taken from the lowest chunk that has one free (`lowest`, no chunk below it has), so that the
 *  slots held gather in the first chunks and the last ones empty: the class gives back its trailing
 *  chunks once two are empty (it keeps one, for a class held by a few slots at a time). */
interface SizeClass {
  readonly size: number;
  readonly perChunk: number;
  readonly chunks: Chunk[];
  lowest: number;
}

export class CompactSlab {
  private readonly sf = new Float64Array(SLOT_F64);
  private readonly si = new Int32Array(SLOT_I32);
  private readonly buf = new Uint8Array((MAX_SLOT_BYTES + 3) & ~3);
  private readonly bufView = new DataView(this.buf.buffer);
  private readonly bufWords = new Int32Array(this.buf.buffer);
  private readonly classes: SizeClass[] = [];
  /** Slots held. */
  used = 0;
  /** Bytes the held slots' encodings take. */
  bytes = 0;

  /** Bytes of the chunks held, free slots in them included. */
  get heldBytes(): number {
    let n = 0;
    for (const c of this.classes) n += c.chunks.length * c.perChunk * c.size;
    return n;
  }

  constructor() {
    for (let size = CLASS_STEP; size < MAX_SLOT_BYTES + CLASS_STEP; size += CLASS_STEP) {
      this.classes.push({ size, perChunk: Math.floor(CHUNK_BYTES / size), chunks: [], lowest: 0 });
    }
  }

  pack(orig: EndpointTrack, resp: EndpointTrack, st: Store, extraRow: number, lastFrame: number): number {
    const f = this.sf;
    const i = this.si;
    if (!orig.pack(f, 0, i, 0) || !resp.pack(f, PACK_F64, i, PACK_I32)) return -1;
    const extra = extraRow === orig.lastRow || extraRow === resp.lastRow ? -1 : extraRow;
    if (!packRow(st, orig.lastRow, f, 2 * PACK_F64, i, 2 * PACK_I32)
      || !packRow(st, resp.lastRow, f, 2 * PACK_F64 + 1, i, 2 * PACK_I32 + ROW_I32)
      || !packRow(st, extra, f, 2 * PACK_F64 + 2, i, 2 * PACK_I32 + 2 * ROW_I32)) return -1;
    // Frame numbers as how far they are behind the connection's last frame (+1; 0 and -1, none,
    // as they are): a few bits, where a frame number's own varint grows with the capture.
    for (let k = 0; k < FRAME_FIELDS.length; k++) {
      const v = i[FRAME_FIELDS[k]!]!;
      if (v >= 1) {
        if (v > lastFrame) return -1;
        i[FRAME_FIELDS[k]!] = lastFrame - v + 1;
      }
    }
    const n = encodeSlot(f, i, this.buf, this.bufView);
    const ci = (n - 1) >> 4;
    const c = this.classes[ci]!;
    const chunks = c.chunks;
    let j = c.lowest;
    while (j < chunks.length && chunks[j]!.used === c.perChunk) j++;
    if (j === chunks.length) {
      const bytes = new Uint8Array(c.perChunk * c.size);
      chunks.push({ bytes, view: new DataView(bytes.buffer), words: new Int32Array(bytes.buffer), free: new Uint16Array(c.perChunk), nFree: 0, made: 0, used: 0 });
    }
    c.lowest = j;
    const ch = chunks[j]!;
    const k = ch.nFree > 0 ? ch.free[--ch.nFree]! : ch.made++;
    ch.used++;
    const words = ch.words;
    const at = (k * c.size) >> 2;
    const buf = this.bufWords;
    for (let w = 0, end = (n + 3) >> 2; w < end; w++) words[at + w] = buf[w]!;
    const idx = j * c.perChunk + k;
    this.used++;
    this.bytes += n;
    return (ci << CLASS_SHIFT) | idx;
  }

  unpack(handle: number, orig: EndpointTrack, resp: EndpointTrack, st: Store, lastFrame: number): void {
    const c = this.classes[handle >>> CLASS_SHIFT]!;
    const idx = handle & ((1 << CLASS_SHIFT) - 1);
    const f = this.sf;
    const i = this.si;
    const j = Math.floor(idx / c.perChunk);
    const k = idx - j * c.perChunk;
    const chunks = c.chunks;
    const ch = chunks[j]!;
    this.bytes -= decodeSlot(ch.bytes, ch.view, k * c.size, f, i);
    ch.free[ch.nFree++] = k;
    ch.used--;
    this.used--;
    if (j < c.lowest) c.lowest = j;
    // Trailing empty chunks back, but one.
    while (chunks.length > 1 && chunks[chunks.length - 1]!.used === 0 && chunks[chunks.length - 2]!.used === 0) chunks.pop();
    if (c.lowest > chunks.length) c.lowest = chunks.length;
    for (let m = 0; m < FRAME_FIELDS.length; m++) {
      const e = i[FRAME_FIELDS[m]!]!;
      if (e >= 1) i[FRAME_FIELDS[m]!] = lastFrame + 1 - e;
    }
    orig.unpack(f, 0, i, 0);
    resp.unpack(f, PACK_F64, i, PACK_I32);
    for (let r = 0; r < ROWS; r += 1) unpackRow(st, f, 2 * PACK_F64 + r, i, 2 * PACK_I32 + r * ROW_I32);
  }
}

// --- the encoding of a slot ---------------------------------------------------------------------
// First 4 bytes: a 2-bit tag per double (little-endian): 0 the double is -1, 1 a whole number in
// uint32 range (a varint follows), 2 anything else (its 8 bytes follow, little-endian).
// Then the int32 fields: a run of zeros is a 0 byte and its length (1–255); any other value its
// zigzag varint (7 bits a byte, low first; never a 0 first byte, as the value is not 0).

/** `f` (SLOT_F64 doubles) and `i` (SLOT_I32 int32) encoded into `out`; how many bytes. */
export function encodeSlot(f: Float64Array, i: Int32Array, out: Uint8Array, view: DataView): number {
  let p = 4;
  let tags = 0;
  for (let k = 0; k < SLOT_F64; k++) {
    const v = f[k]!;
    if (v === -1) continue;
    if (v >= 0 && v <= 0xffffffff && Math.floor(v) === v && (v !== 0 || 1 / v > 0)) {
      tags |= 1 << (2 * k);
      p = putVarint(out, p, v >>> 0);
    } else {
      tags |= 2 << (2 * k);
      view.setFloat64(p, v, true);
      p += 8;
    }
  }
  out[0] = tags & 0xff;
  out[1] = (tags >>> 8) & 0xff;
  out[2] = (tags >>> 16) & 0xff;
  out[3] = tags >>> 24;
  for (let k = 0; k < SLOT_I32;) {
    const v = i[k]!;
    if (v === 0) {
      let run = 1;
      while (k + run < SLOT_I32 && i[k + run] === 0 && run < 255) run++;
      out[p++] = 0;
      out[p++] = run;
      k += run;
    } else {
      p = putVarint(out, p, ((v << 1) ^ (v >> 31)) >>> 0);
      k++;
    }
  }
  return p;
}

/** The slot encoded at `src[at]` back into `f` and `i`; how many bytes it took. */
export function decodeSlot(src: Uint8Array, view: DataView, at: number, f: Float64Array, i: Int32Array): number {
  let p = at + 4;
  const tags = src[at]! | (src[at + 1]! << 8) | (src[at + 2]! << 16) | (src[at + 3]! << 24);
  for (let k = 0; k < SLOT_F64; k++) {
    const tag = (tags >>> (2 * k)) & 3;
    if (tag === 0) f[k] = -1;
    else if (tag === 1) {
      let u = 0;
      let shift = 0;
      let b: number;
      do {
        b = src[p++]!;
        u |= (b & 0x7f) << shift;
        shift += 7;
      } while (b >= 0x80);
      f[k] = u >>> 0;
    } else {
      f[k] = view.getFloat64(p, true);
      p += 8;
    }
  }
  for (let k = 0; k < SLOT_I32;) {
    let b = src[p++]!;
    if (b === 0) {
      const run = src[p++]!;
      for (let r = 0; r < run; r++) i[k++] = 0;
      continue;
    }
    let u = b;
    if (b >= 0x80) {
      u = b & 0x7f;
      let shift = 7;
      do {
        b = src[p++]!;
        u |= (b & 0x7f) << shift;
        shift += 7;
      } while (b >= 0x80);
      u >>>= 0;
    }
    i[k++] = (u >>> 1) ^ -(u & 1);
  }
  return p - at;
}

function putVarint(out: Uint8Array, p: number, u: number): number {
  if (u < 0x80) {
    out[p] = u;
    return p + 1;
  }
  if (u < 0x4000) {
    out[p] = u | 0x80;
    out[p + 1] = u >>> 7;
    return p + 2;
  }
  while (u >= 0x80) {
    out[p++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  out[p++] = u;
  return p;
}

/** Row `row` of `st` (-1: none) as int32 at `i[io]` (its index first) and its time at `f[fo]`. */
function packRow(st: Store, row: number, f: Float64Array, fo: number, i: Int32Array, io: number): boolean {
  i[io] = row;
  if (row < 0) {
    // (No row: its fields as 0, which the encoding holds in two bytes, not what the scratch held.)
    f[fo] = -1;
    for (let k = 1; k < ROW_I32; k++) i[io + k] = 0;
    return true;
  }
  const o = row * STRIDE;
  f[fo] = st[o + F_TIME];
  // Sequence and acknowledgment numbers are uint32: held as int32, read back with >>> 0.
  const seq = st[o + F_SEQ];
  const ack = st[o + F_ACK];
  i[io + 2] = seq;
  i[io + 3] = ack;
  return putInt32(i, io + 1, st[o + F_FRAME]) && i[io + 2] >>> 0 === seq && i[io + 3] >>> 0 === ack
    && putInt32(i, io + 4, st[o + F_LEN]) && putInt32(i, io + 5, st[o + F_IDENT])
    && putInt32(i, io + 6, st[o + F_BITS]) && putInt32(i, io + 7, st[o + F_WTT])
    && putInt32(i, io + 8, st[o + F_KINDS_LO]) && putInt32(i, io + 9, st[o + F_KINDS_HI]);
}

function unpackRow(st: Store, f: Float64Array, fo: number, i: Int32Array, io: number): void {
  const row = i[io];
  if (row < 0) return;
  const o = row * STRIDE;
  st[o + F_TIME] = f[fo];
  st[o + F_FRAME] = i[io + 1];
  st[o + F_SEQ] = i[io + 2] >>> 0;
  st[o + F_ACK] = i[io + 3] >>> 0;
  st[o + F_LEN] = i[io + 4];
  st[o + F_IDENT] = i[io + 5];
  st[o + F_BITS] = i[io + 6];
  st[o + F_WTT] = i[io + 7];
  st[o + F_KINDS_LO] = i[io + 8];
  st[o + F_KINDS_HI] = i[io + 9];
}
