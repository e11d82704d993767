// The kernel as the oracle, offline: lab captures in fixtures/captures with the kernel's own record
// of each of their RSTs beside them (<capture>.kernel.json, written by scripts/refresh-fixtures.sh
// from tcp:tcp_send_reset). The explainer, from the packets alone, must allow the reason the kernel
// logged for every RST a kernel sent, and name no Linux reason where no kernel TCP sent it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../paths.js';
import { explainCapture } from './engine.js';

interface KernelFixture { rsts: Array<{ frame: number; from: string; to: string; kernel: { reason: string; state: string } | null }> }

const dir = path.join(repoRoot(), 'fixtures', 'captures');
const files = readdirSync(dir).filter((f) => f.endsWith('.kernel.json')).sort();

test('fixtures with the kernel\'s record: at least the three that show INVALID_SYN, TCP_STATE from ss -K and NO_SOCKET after tcp_fin_timeout', () => {
  const reasons = new Set(files.flatMap((f) => (JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as KernelFixture).rsts.map((r) => r.kernel?.reason)));
  for (const want of ['INVALID_SYN', 'TCP_STATE', 'NO_SOCKET']) assert.ok(reasons.has(want), `no fixture whose kernel logged ${want}`);
});

for (const f of files) {
  const capture = path.join(dir, f.replace(/\.kernel\.json$/, ''));
  test(`kernel oracle: ${path.basename(capture)}`, async () => {
    assert.ok(existsSync(capture), `${capture} is missing`);
    const fixture = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as KernelFixture;
    const res = await explainCapture(capture);
    assert.deepEqual(res.rsts.map((r) => r.frame), fixture.rsts.map((r) => r.frame), 'the same RSTs');
    for (const [i, want] of fixture.rsts.entries()) {
      const got = res.rsts[i]!;
      assert.deepEqual([got.from, got.to], [want.from, want.to], `frame ${want.frame}`);
      if (want.kernel === null) assert.deepEqual(got.linuxReasons, [], `frame ${want.frame}: no kernel sent it, the explainer (${got.cause}) names ${got.linuxReasons.join(', ')}`);
      else assert.ok((got.linuxReasons as string[]).includes(want.kernel.reason), `frame ${want.frame}: the kernel logged ${want.kernel.reason}; the explainer (${got.cause}) allows ${got.linuxReasons.join(', ')}`);
    }
  });
}
