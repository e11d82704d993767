// The scenarios as data: unique ids, IPv6 twins, and — for the kernel oracle — a saved fixture
// (a real capture with the kernel's record of its RSTs) for every reason a scenario constructs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LINUX_RST_REASONS } from '../explain/index.js';
import { repoRoot } from '../paths.js';
import { REASONS_NOT_CONSTRUCTED, SCENARIOS } from './scenarios.js';

test('scenario ids are unique; every IPv6 twin runs node-net in the namespaces over IPv6', () => {
  const ids = SCENARIOS.map((s) => s.id);
  assert.equal(new Set(ids).size, ids.length);
  const twins = SCENARIOS.filter((s) => s.family === 6);
  assert.ok(twins.length >= 10);
  for (const t of twins) {
    assert.ok(ids.includes(t.id.replace(/-ipv6$/, '')), `${t.id} twins a scenario`);
    assert.deepEqual([t.needs, [...t.clients]], ['netns', ['node-net']]);
  }
});

test('every reason Linux can give has a fixture with the kernel\'s record, unless the lab says why none can be constructed', () => {
  const dir = path.join(repoRoot(), 'fixtures', 'captures');
  const seen = new Set<string>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.kernel.json'))) {
    const k = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { rsts: Array<{ kernel: { reason: string } | null }>; notCaptured: Array<{ reason: string }> };
    for (const r of k.rsts) if (r.kernel) seen.add(r.kernel.reason);
  }
  const want = LINUX_RST_REASONS.filter((r) => !(r in REASONS_NOT_CONSTRUCTED));
  assert.deepEqual(want.filter((r) => !seen.has(r)), [], `reasons seen in fixtures: ${[...seen].join(', ')}`);
  for (const r of Object.keys(REASONS_NOT_CONSTRUCTED)) assert.ok(!seen.has(r), `${r} has a fixture, yet the lab says it cannot be constructed`);
});
