// Advice: every wire cause has some, with a retry rule.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAUSE_CODES } from '../explain/causes.js';
import { ADVICE } from './advice.js';

test('every cause code, and each close without RST, has advice', () => {
  for (const c of [...CAUSE_CODES, 'peer-closed', 'silent'] as const) {
    const a = ADVICE[c];
    assert.ok(a && a.change.length > 0 && a.retryWhy.length > 10, c);
    assert.ok(['safe', 'idempotent-only', 'no', 'not-needed'].includes(a.retry), c);
  }
});
