// A connection's segment summaries, stored as rows of numbers in one array of doubles (a Store),
// and turned back into SegmentSummary objects only when asked. Contract:
// - A row is STRIDE numbers at row * STRIDE, fields F_*; rows 0 and 1 are the originator's and the
//   responder's spill rows, rows FIRST_LIST_ROW… the connection's bounded list (the tracker fills
//   them: the first `maxSegments/2` rows fixed, the rest a ring of the latest).
// - `summaryAt` builds the summary of a row (`summaryFrom`, of a row's copy elsewhere);
//   `listSummaries` the list in segment order; `spill` copies an endpoint's last segment to its
//   spill row before the ring overwrites it; `grownStore` returns a larger copy.
// With `maxSegments` 0 there is no list: an endpoint's segments take turns in its two rows (0 and
// 2, or 1 and 3), so its last one stays readable.
// A plain array, not a Float64Array: typed arrays of this size live outside the V8 heap and are
// freed only by full collections.

import { optionKindNames } from '../wire/tcp.js';
import type { SegmentSummary } from './types.js';

export const F_FRAME = 0;
export const F_TIME = 1;
export const F_SEQ = 2;
export const F_ACK = 3;
export const F_LEN = 4;
/** IPv4 ID or IPv6 fragment ID; -1 for null. */
export const F_IDENT = 5;
/** flags (9 bits) | fromOrig << 9 | notes << 10. */
export const F_BITS = 6;
/** window | ttl << 16 | tos << 24 (as int32). */
export const F_WTT = 7;
export const F_KINDS_LO = 8;
export const F_KINDS_HI = 9;
export const STRIDE = 10;
export const FIRST_LIST_ROW = 2;
/** A new connection's store: the two spill rows and the first 6 of the list; then a full one. */
export const INITIAL_ROWS = 8;
/** The store with maxSegments 0 (no list): each endpoint's two rows, 0/2 and 1/3. */
export const ENDPOINT_ROWS = 4;

export const FROM_ORIG_BIT = 0x200;
export const NOTE_SHIFT = 10;
export const N_RETRANSMISSION = 1;
export const N_KEEPALIVE = 2;
export const N_ZERO_WINDOW = 4;

export type Store = number[];

export function newStore(rows: number): Store {
  return newDoubles(rows * STRIDE);
}

/** A plain array of `n` numbers that holds them unboxed (filled with a double, so that V8 gives it
 *  double elements: integers written later stay unboxed too). */
export function newDoubles(n: number): number[] {
  return new Array<number>(n).fill(0.5);
}

/** The notes of each mask, shared by every summary (frozen: a summary holds no list of its own). */
const NOTE_LISTS: ReadonlyArray<readonly string[]> = Array.from({ length: 8 }, (_, mask) => Object.freeze([
  ...(mask & N_RETRANSMISSION ? ['retransmission'] : []),
  ...(mask & N_KEEPALIVE ? ['keepalive'] : []),
  ...(mask & N_ZERO_WINDOW ? ['zero-window'] : []),
]));
const NO_KINDS: readonly string[] = Object.freeze([]);

export function summaryAt(st: Store, row: number): SegmentSummary {
  return summaryFrom(st, row * STRIDE);
}

/** The summary of the STRIDE numbers at `st[o]` (a row, or a copy of one elsewhere). */
export function summaryFrom(st: readonly number[], o: number): SegmentSummary {
  const bits = st[o + F_BITS];
  const wtt = st[o + F_WTT];
  const ident = st[o + F_IDENT];
  return {
    frame: st[o + F_FRAME],
    time: st[o + F_TIME],
    fromOrig: (bits & FROM_ORIG_BIT) !== 0,
    flags: bits & 0x1ff,
    seqNumber: st[o + F_SEQ],
    ackNumber: st[o + F_ACK],
    payloadLength: st[o + F_LEN],
    window: wtt & 0xffff,
    ttl: (wtt >>> 16) & 0xff,
    ident: ident < 0 ? null : ident,
    tos: wtt >>> 24,
    optionKinds: st[o + F_KINDS_LO] === 0 && st[o + F_KINDS_HI] === 0 ? NO_KINDS : optionKindNames(st[o + F_KINDS_LO], st[o + F_KINDS_HI]),
    notes: NOTE_LISTS[bits >>> NOTE_SHIFT]!,
  };
}

/** The bounded list's summaries in segment order, after `n` segments were offered to a list of at
 *  most `max` rows whose first `head` rows are fixed (the rest a ring of the latest). */
export function listSummaries(st: Store, n: number, max: number, head: number): SegmentSummary[] {
  const segments: SegmentSummary[] = [];
  if (n <= max) {
    for (let i = 0; i < n; i += 1) segments.push(summaryAt(st, FIRST_LIST_ROW + i));
  } else {
    const ring = max - head;
    for (let i = 0; i < head; i += 1) segments.push(summaryAt(st, FIRST_LIST_ROW + i));
    for (let k = n - ring; k < n; k += 1) segments.push(summaryAt(st, FIRST_LIST_ROW + head + ((k - head) % ring)));
  }
  return segments;
}

/** An endpoint's rows: where its last segment is (-1: none), and its own spill row. */
export interface EndpointRows {
  lastRow: number;
  readonly spillRow: number;
}

/** Copy the endpoint's last segment from its list row to its spill row (the ring is about to
 *  overwrite the list row). */
export function spill(st: Store, e: EndpointRows): void {
  copyRow(st, e.lastRow * STRIDE, st, e.spillRow * STRIDE);
  e.lastRow = e.spillRow;
}

/** Copy the STRIDE numbers of a row from `src[from]` to `dst[to]`. */
export function copyRow(src: readonly number[], from: number, dst: number[], to: number): void {
  for (let i = 0; i < STRIDE; i += 1) dst[to + i] = src[from + i];
}

/** A copy of the store with room for `rows` rows. */
export function grownStore(st: Store, rows: number): Store {
  const g = newStore(rows);
  for (let i = 0; i < st.length; i += 1) g[i] = st[i];
  return g;
}
