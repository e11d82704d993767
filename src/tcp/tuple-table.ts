// An open-addressing map (linear probing, backward-shift deletion) from an IPv4 4-tuple, given as
// three int32 keys (the canonical address pair and the two ports), to a value: the tracker's
// lookup of a packet's connection. Contract: `get` finds a key or returns undefined; `add` inserts
// a key known to be absent; `delete` removes a key if present (and says whether it was). The table
// doubles when three quarters full (half full took 10.5 MB for a port scan's ~150,000 connections
// instead of 5.2 MB; its strong hash keeps the probes short) and never shrinks. Keys live in
// Int32Arrays and values in a parallel array, so a lookup allocates nothing.

export class TupleTable<V extends object> {
  private mask = 0;
  private ka = new Int32Array(0);
  private kb = new Int32Array(0);
  private kp = new Int32Array(0);
  private vals: Array<V | undefined> = [];
  private size = 0;

  constructor() {
    // Allocated by the same method that grows the table, so that V8 sees these fields written
    // twice from the start: code optimized before the first growth then does not depend on them
    // being constant (a growth would throw that code away in the middle of a capture).
    this.resize(1024);
  }

  private static hash(a: number, b: number, p: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b ^ (b >>> 15), 0x85ebca6b) ^ Math.imul(p, 0xc2b2ae35);
    h ^= h >>> 16;
    h = Math.imul(h, 0x7feb352d);
    return h ^ (h >>> 15);
  }

  get(a: number, b: number, p: number): V | undefined {
    const { ka, kb, kp, vals, mask } = this;
    let i = TupleTable.hash(a, b, p) & mask;
    for (;;) {
      const v = vals[i];
      if (v === undefined) return undefined;
      if (ka[i] === a && kb[i] === b && kp[i] === p) return v;
      i = (i + 1) & mask;
    }
  }

  /** Insert a key known to be absent. */
  add(a: number, b: number, p: number, v: V): void {
    if ((this.size + 1) * 4 > (this.mask + 1) * 3) this.grow();
    this.put(a, b, p, v);
    this.size += 1;
  }

  /** Remove a key; whether it was there. */
  delete(a: number, b: number, p: number): boolean {
    const { ka, kb, kp, vals, mask } = this;
    let i = TupleTable.hash(a, b, p) & mask;
    for (;;) {
      const v = vals[i];
      if (v === undefined) return false;
      if (ka[i] === a && kb[i] === b && kp[i] === p) break;
      i = (i + 1) & mask;
    }
    // Backward shift: move later entries of the probe run into the hole when their home allows.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (vals[j] === undefined) break;
      const home = TupleTable.hash(ka[j], kb[j], kp[j]) & mask;
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (between) continue;
      ka[i] = ka[j];
      kb[i] = kb[j];
      kp[i] = kp[j];
      vals[i] = vals[j];
      i = j;
    }
    vals[i] = undefined;
    this.size -= 1;
    return true;
  }

  private put(a: number, b: number, p: number, v: V): void {
    const { ka, kb, kp, vals, mask } = this;
    let i = TupleTable.hash(a, b, p) & mask;
    while (vals[i] !== undefined) i = (i + 1) & mask;
    ka[i] = a;
    kb[i] = b;
    kp[i] = p;
    vals[i] = v;
  }

  private grow(): void {
    this.resize((this.mask + 1) * 2);
  }

  private resize(cap: number): void {
    const { ka, kb, kp, vals } = this;
    this.mask = cap - 1;
    this.ka = new Int32Array(cap);
    this.kb = new Int32Array(cap);
    this.kp = new Int32Array(cap);
    this.vals = new Array<V | undefined>(cap).fill(undefined);
    for (let i = 0; i < vals.length; i += 1) {
      const v = vals[i];
      if (v !== undefined) this.put(ka[i], kb[i], kp[i], v);
    }
  }
}
