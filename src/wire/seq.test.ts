import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seqAdd, seqDiff, seqGe, seqGt, seqInRange, seqLe, seqLt, seqRelative } from './seq.js';

test('comparisons wrap around 2^32', () => {
  assert.ok(seqLt(0xffff_fff0, 0x10));
  assert.ok(seqGt(0x10, 0xffff_fff0));
  assert.ok(seqLe(5, 5) && seqGe(5, 5) && !seqLt(5, 5));
  assert.equal(seqDiff(0x10, 0xffff_fff0), 0x20);
  assert.equal(seqDiff(0xffff_fff0, 0x10), -0x20);
});

test('add and relative numbers stay in 32 bits', () => {
  assert.equal(seqAdd(0xffff_ffff, 2), 1);
  assert.equal(seqRelative(3, 0xffff_fffe), 5);
  assert.equal(seqRelative(0xffff_fffe, 0xffff_fffe), 0);
});

test('seqInRange is half-open and wrap-aware', () => {
  assert.ok(seqInRange(0xffff_ffff, 0xffff_fff0, 0x10));
  assert.ok(seqInRange(0x0f, 0xffff_fff0, 0x10));
  assert.ok(!seqInRange(0x10, 0xffff_fff0, 0x10));
  assert.ok(!seqInRange(7, 7, 7));
});
