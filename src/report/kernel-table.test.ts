// The cause × kernel-reason table and the coverage of Linux's reasons, on the hand-made lab results.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LINUX_RST_REASONS } from '../explain/index.js';
import { allowsKernelReason, kernelTable, NO_KERNEL_EVENT } from './kernel-table.js';
import { renderLabSummary } from './lab-text.js';
import { LAB_FIXTURE } from './testdata/lab-results.js';
import type { LabResults } from './results.js';

test('every captured RST counts once, by cause and kernel reason; agreement is the explainer allowing the kernel\'s reason', () => {
  const t = kernelTable(LAB_FIXTURE)!;
  const rsts = LAB_FIXTURE.runs.flatMap((r) => r.rsts).filter((r) => r.kernel !== undefined);
  assert.equal(t.rows.reduce((n, r) => n + r.count, 0), rsts.length);
  assert.equal(t.kernelSent, rsts.filter((r) => r.kernel !== null).length);
  assert.equal(t.agree, rsts.filter((r) => allowsKernelReason(r)).length);
  for (const r of t.rows.filter((x) => x.reason === NO_KERNEL_EVENT)) assert.equal(r.agree, 0);
});

test('coverage: each Linux reason once, in the enum\'s order, with the scenarios that produced it or why none does', () => {
  const t = kernelTable(LAB_FIXTURE)!;
  assert.deepEqual(t.coverage.map((c) => c.reason), [...LINUX_RST_REASONS]);
  const noSocket = t.coverage.find((c) => c.reason === 'NO_SOCKET')!;
  assert.ok(noSocket.scenarios.includes('refused'), JSON.stringify(noSocket));
  assert.equal(noSocket.why, null);
  const memory = t.coverage.find((c) => c.reason === 'TCP_ABORT_ON_MEMORY')!;
  assert.deepEqual(memory.scenarios, []);
  assert.match(memory.why!, /global sysctls/);
  // A reason only the kernel's own record shows (the capture missed the RST) still counts as produced.
  const withOnly: LabResults = { ...LAB_FIXTURE, runs: [{ ...LAB_FIXTURE.runs[0]!, kernelOnly: [{ from: 'a:1', to: 'b:2', reason: 'TCP_ABORT_ON_LINGER', state: 'TCP_CLOSE' }] }] };
  assert.deepEqual(kernelTable(withOnly)!.coverage.find((c) => c.reason === 'TCP_ABORT_ON_LINGER')!.scenarios, [LAB_FIXTURE.runs[0]!.scenario]);
  const text = renderLabSummary(LAB_FIXTURE);
  assert.match(text, /\d+ of Linux's 18 reasons produced: .*NO_SOCKET/);
  assert.match(text, /not produced: TCP_ABORT_ON_MEMORY — tcp_max_orphans and tcp_mem are global sysctls/);
  assert.match(text, /not produced: TCP_OLD_ACK — by none of the scenarios that ran/);
});

test('no table without the kernel\'s reasons', () => {
  assert.equal(kernelTable({ ...LAB_FIXTURE, host: { ...LAB_FIXTURE.host, kernelTrace: { available: false, why: 'no root' } } }), null);
});
