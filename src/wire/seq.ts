// TCP sequence-number arithmetic (RFC 9293 §3.4): 32-bit, wrapping. Every comparison of sequence
// or acknowledgement numbers in rstlab goes through this module — never a raw `<` on two of them.

const MOD = 0x1_0000_0000;

/** a + n, modulo 2^32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Signed distance a − b in [−2^31, 2^31): positive when a is "after" b. */
export function seqDiff(a: number, b: number): number {
  return ((a - b) | 0);
}

export function seqLt(a: number, b: number): boolean { return seqDiff(a, b) < 0; }
export function seqLe(a: number, b: number): boolean { return seqDiff(a, b) <= 0; }
export function seqGt(a: number, b: number): boolean { return seqDiff(a, b) > 0; }
export function seqGe(a: number, b: number): boolean { return seqDiff(a, b) >= 0; }

/** lo ≤ x < hi, wrap-aware (an empty window when lo = hi). */
export function seqInRange(x: number, lo: number, hi: number): boolean {
  return seqGe(x, lo) && seqLt(x, hi);
}

/** The number relative to an initial sequence number, as Wireshark shows "relative sequence numbers";
 *  the number itself when the ISN is unknown (null). */
export function seqRelative(x: number, isn: number | null): number {
  return isn === null ? x : (x - isn + MOD) % MOD;
}
