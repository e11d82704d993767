// The compact form of connections that ended (a RST, or both FINs) and only wait out their linger:
// both endpoints and the store rows still read (each endpoint's last segment, the row a pending
// RST snapshot needs) as numbers in slots of typed arrays shared by all such connections, so that
// a lingering connection holds no EndpointTrack and no store of its own (a port scan keeps ~150,000
// of them). Contract:
// - `alloc()` gives a free slot, `release(slot)` takes it back; slots live in chunks of
//   CHUNK_SLOTS that are never freed (a slot is reused, last released first).
// - `pack(slot, orig, resp, st, extraRow)` writes the two endpoints (EndpointTrack.pack) and the
//   rows `orig.lastRow`, `resp.lastRow` and `extraRow` (-1: none) of `st`; false when something
//   does not fit the slot's int32 fields exactly (see EndpointTrack.pack; a row's frame, IP ID,
//   lengths): the connection then stays as it is. `unpack(slot, orig, resp, st)` writes them back
//   into fresh endpoints (every field but spillRow) and a store (those rows, at their places; the
//   other rows are not read again: with no segment list a store holds only each endpoint's two
//   latest rows).
// Typed arrays, not plain ones: a slot holds int32 where the objects held words and boxed doubles,
// and the chunks are a handful of objects for V8's collector, however many slots are in use.

import { PACK_F64, PACK_I32, putInt32 } from './endpoint-track.js';
import type { EndpointTrack } from './endpoint-track.js';
import { F_ACK, F_BITS, F_FRAME, F_IDENT, F_KINDS_HI, F_KINDS_LO, F_LEN, F_SEQ, F_TIME, F_WTT, STRIDE } from './segment-store.js';
import type { Store } from './segment-store.js';

export const CHUNK_SLOTS = 4096;
const ROWS = 3;
/** Per row: its index (-1: none) and 9 fields as int32; its time as a double. */
const ROW_I32 = 10;
export const SLOT_F64 = 2 * PACK_F64 + ROWS;
export const SLOT_I32 = 2 * PACK_I32 + ROWS * ROW_I32;

export class CompactSlab {
  private readonly fs: Float64Array[] = [];
  private readonly is: Int32Array[] = [];
  private free = new Int32Array(CHUNK_SLOTS);
  private nFree = 0;
  /** Slots made so far (CHUNK_SLOTS per chunk). */
  private made = 0;
  /** Slots in use. */
  used = 0;

  alloc(): number {
    this.used++;
    if (this.nFree > 0) return this.free[--this.nFree];
    if (this.made === this.fs.length * CHUNK_SLOTS) {
      this.fs.push(new Float64Array(CHUNK_SLOTS * SLOT_F64));
      this.is.push(new Int32Array(CHUNK_SLOTS * SLOT_I32));
    }
    return this.made++;
  }

  release(slot: number): void {
    this.used--;
    if (this.nFree === this.free.length) {
      const grown = new Int32Array(this.free.length * 2);
      grown.set(this.free);
      this.free = grown;
    }
    this.free[this.nFree++] = slot;
  }

  pack(slot: number, orig: EndpointTrack, resp: EndpointTrack, st: Store, extraRow: number): boolean {
    const f = this.fs[slot >>> 12]!;
    const i = this.is[slot >>> 12]!;
    const fo = (slot & (CHUNK_SLOTS - 1)) * SLOT_F64;
    const io = (slot & (CHUNK_SLOTS - 1)) * SLOT_I32;
    if (!orig.pack(f, fo, i, io) || !resp.pack(f, fo + PACK_F64, i, io + PACK_I32)) return false;
    const extra = extraRow === orig.lastRow || extraRow === resp.lastRow ? -1 : extraRow;
    return packRow(st, orig.lastRow, f, fo + 2 * PACK_F64, i, io + 2 * PACK_I32)
      && packRow(st, resp.lastRow, f, fo + 2 * PACK_F64 + 1, i, io + 2 * PACK_I32 + ROW_I32)
      && packRow(st, extra, f, fo + 2 * PACK_F64 + 2, i, io + 2 * PACK_I32 + 2 * ROW_I32);
  }

  unpack(slot: number, orig: EndpointTrack, resp: EndpointTrack, st: Store): void {
    const f = this.fs[slot >>> 12]!;
    const i = this.is[slot >>> 12]!;
    const fo = (slot & (CHUNK_SLOTS - 1)) * SLOT_F64;
    const io = (slot & (CHUNK_SLOTS - 1)) * SLOT_I32;
    orig.unpack(f, fo, i, io);
    resp.unpack(f, fo + PACK_F64, i, io + PACK_I32);
    for (let r = 0; r < ROWS; r += 1) unpackRow(st, f, fo + 2 * PACK_F64 + r, i, io + 2 * PACK_I32 + r * ROW_I32);
  }
}

// The CHUNK_SLOTS shift above (4096 = 1 << 12).
if (CHUNK_SLOTS !== 1 << 12) throw new Error('compact-slab: CHUNK_SLOTS must be 1 << 12');

/** Row `row` of `st` (-1: none) as int32 at `i[io]` (its index first) and its time at `f[fo]`. */
function packRow(st: Store, row: number, f: Float64Array, fo: number, i: Int32Array, io: number): boolean {
  i[io] = row;
  if (row < 0) return true;
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
