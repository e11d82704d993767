// Connection reports back in the order of their first frame, in bounded memory. The explainer
// reports a connection when it is finalized (one that ended some seconds of capture time after its
// last packet, a long one at the end of the input), not in the order connections started.
// Contract:
// - push(report) holds a report; release(oldestPending) returns, in first-frame order, every held
//   report that starts before `oldestPending` (the first frame of the oldest connection not yet
//   reported: no report still to come starts before it), then, while more than `window` are held,
//   the earliest of the rest. Memory is bounded by `window` reports; the order is exact unless a
//   connection outlives `window` reports that started after it.
// - drain() returns all that is held, in first-frame order (ties: in the order pushed).

export class ReorderBuffer<T extends { firstFrame: number }> {
  /** A binary min-heap by (firstFrame, push order). */
  private readonly heap: Array<{ key: number; seq: number; item: T }> = [];
  private pushed = 0;

  constructor(private readonly window: number) {}

  get size(): number {
    return this.heap.length;
  }

  push(item: T): void {
    const h = this.heap;
    h.push({ key: item.firstFrame, seq: this.pushed++, item });
    for (let i = h.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (!this.less(i, up)) break;
      [h[i], h[up]] = [h[up]!, h[i]!];
      i = up;
    }
  }

  release(oldestPending: number): T[] {
    const out: T[] = [];
    while (this.heap.length > 0 && (this.heap[0]!.key < oldestPending || this.heap.length > this.window)) out.push(this.pop());
    return out;
  }

  drain(): T[] {
    const out: T[] = [];
    while (this.heap.length > 0) out.push(this.pop());
    return out;
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    return x.key < y.key || (x.key === y.key && x.seq < y.seq);
  }

  private pop(): T {
    const h = this.heap;
    const top = h[0]!.item;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(l, m)) m = l;
        if (r < h.length && this.less(r, m)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
