import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReorderBuffer } from './reorder.js';

const r = (firstFrame: number, id = firstFrame) => ({ firstFrame, id });

test('release gives back, in first-frame order, what starts before the oldest pending connection', () => {
  const b = new ReorderBuffer<{ firstFrame: number; id: number }>(100);
  for (const f of [9, 3, 7, 1, 5]) b.push(r(f));
  assert.deepEqual(b.release(6).map((x) => x.firstFrame), [1, 3, 5]);
  assert.equal(b.size, 2);
  assert.deepEqual(b.release(6), []);
  assert.deepEqual(b.drain().map((x) => x.firstFrame), [7, 9]);
  assert.equal(b.size, 0);
});

test('ties keep the order they were pushed in', () => {
  const b = new ReorderBuffer<{ firstFrame: number; id: number }>(100);
  for (let i = 0; i < 20; i++) b.push(r(i % 3, i));
  const out = b.drain();
  assert.deepEqual(out.map((x) => x.firstFrame), [...Array(7).fill(0), ...Array(7).fill(1), ...Array(6).fill(2)]);
  for (let i = 1; i < out.length; i++) if (out[i]!.firstFrame === out[i - 1]!.firstFrame) assert.ok(out[i]!.id > out[i - 1]!.id);
});

test('memory is bounded by the window: the earliest go out once more than it wait', () => {
  const b = new ReorderBuffer<{ firstFrame: number; id: number }>(10);
  const out: number[] = [];
  // Frame 0 is still pending the whole time (a long connection), so nothing is released by order.
  for (let f = 1000; f > 0; f--) {
    b.push(r(f));
    out.push(...b.release(0).map((x) => x.firstFrame));
    assert.ok(b.size <= 10);
  }
  out.push(...b.drain().map((x) => x.firstFrame));
  assert.equal(out.length, 1000);
  assert.deepEqual([...out].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i + 1));
});

test('random arrival orders come out sorted when release follows the pending bound', () => {
  for (let seed = 1; seed <= 20; seed++) {
    let x = seed;
    const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const frames = Array.from({ length: 300 }, (_, i) => i);
    for (let i = frames.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [frames[i], frames[j]] = [frames[j]!, frames[i]!]; }
    const b = new ReorderBuffer<{ firstFrame: number; id: number }>(1000);
    const pending = new Set(frames);
    const out: number[] = [];
    for (const f of frames) {
      pending.delete(f);
      b.push(r(f));
      out.push(...b.release(Math.min(Infinity, ...pending)).map((y) => y.firstFrame));
    }
    out.push(...b.drain().map((y) => y.firstFrame));
    assert.deepEqual(out, Array.from({ length: 300 }, (_, i) => i));
  }
});
