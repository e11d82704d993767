// Big-endian integer reads over a Uint8Array at an absolute offset. Callers have already checked
// bounds (views check once when built); these never allocate and never throw. For views read once
// per packet, `dataViewOf(bytes)`: a DataView over the same bytes, kept for the last Uint8Array
// asked for (a capture's packets arrive in a few reused buffers), whose 16- and 32-bit reads are
// one bounds check and one load each where the byte-wise reads below are two or four of each.

let lastBytes: Uint8Array | null = null;
let lastView: DataView | null = null;

/** A DataView of exactly `bytes` (offsets count from its start), made anew only for another array. */
export function dataViewOf(bytes: Uint8Array): DataView {
  if (bytes !== lastBytes) {
    lastBytes = bytes;
    lastView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return lastView!;
}

/** Unsigned 16-bit big-endian integer at `o`. */
export function readU16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** Unsigned 32-bit big-endian integer at `o`. */
export function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** Unsigned 32-bit little-endian integer at `o`. */
export function readU32le(b: Uint8Array, o: number): number {
  return ((b[o + 3] << 24) | (b[o + 2] << 16) | (b[o + 1] << 8) | b[o]) >>> 0;
}

export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
