// Golden tests: every capture in fixtures/captures (real captures made by the lab on a real kernel
// with tcpdump --immediate-mode, see scripts/refresh-fixtures.sh) is explained and compared with its
// saved `<name>.expected.txt`. RSTLAB_UPDATE=1 rewrites the expected files instead of comparing.
// tshark is the second oracle on the same files: frame count, RST frames, TCP conversations.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderConnectionText, renderSummaryText } from '../report/text.js';
import { explainCapture } from './engine.js';
import { repoRoot } from '../paths.js';
import { skipOutsideCi } from '../testkit.js';


const dir = path.join(repoRoot(), 'fixtures', 'captures');
const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f)).sort() : [];
const update = process.env.RSTLAB_UPDATE === '1';
/** Captures where rstlab cuts a 4-tuple into connections as Zeek does and tshark's tcp.stream
 *  does not: how many more connections rstlab has, and why. */
const MORE_THAN_TSHARK: Record<string, [number, string]> = {
  'half-open-reconnect--node-net.pcap': [1, 'the SYN retransmitted after its RST starts a new connection (Zeek: IsReuse after a reset); tshark keeps it in the stream of the SYN it repeats'],
  'half-open-reconnect-ipv6--node-net.pcap': [1, 'as over IPv4'],
};
const hasTshark = (() => { try { execFileSync('tshark', ['-v'], { stdio: 'ignore' }); return true; } catch { return false; } })();

async function render(file: string): Promise<string> {
  const res = await explainCapture(file);
  const blocks = res.connections.map((c) => renderConnectionText(c, res.summary.firstTime));
  return `${blocks.join('\n\n')}\n\n${renderSummaryText(res.summary)}\n`;
}

test('the fixture corpus holds a real capture for every cause the lab can construct', () => {
  assert.ok(files.length >= 10, `expected at least 10 fixture captures in ${dir}, found ${files.length}`);
  const expected = files.map((f) => readFileSync(path.join(dir, `${f}.expected.txt`), 'utf8')).join('\n');
  for (const cause of ['refused', 'abort', 'reset-after-close', 'no-connection', 'timeout', 'middlebox', 'out-of-window']) {
    assert.match(expected, new RegExp(`RST .* ${cause} \\(`), `no fixture shows a ${cause} RST`);
  }
});

for (const f of files) {
  test(`golden: ${f}`, async () => {
    const got = await render(path.join(dir, f));
    const expectedFile = path.join(dir, `${f}.expected.txt`);
    if (update || !existsSync(expectedFile)) {
      if (!update) assert.fail(`${expectedFile} is missing: run the tests with RSTLAB_UPDATE=1 to create it`);
      writeFileSync(expectedFile, got);
      return;
    }
    assert.equal(got, readFileSync(expectedFile, 'utf8'));
  });

  test(`tshark agrees: ${f}`, { skip: skipOutsideCi(hasTshark ? false : 'tshark is not installed (Debian package tshark)') }, async () => {
    const file = path.join(dir, f);
    const res = await explainCapture(file);
    // One pass of tshark: each frame's number, RST flag and TCP stream (empty for a frame without TCP).
    const rows = execFileSync('tshark', ['-n', '-r', file, '-T', 'fields', '-E', 'separator=,', '-e', 'frame.number', '-e', 'tcp.flags.reset', '-e', 'tcp.stream'], { encoding: 'utf8' })
      .trim().split('\n').filter(Boolean).map((l) => l.split(','));
    assert.equal(res.summary.packets, rows.length, 'frame count');
    const rsts = rows.filter(([, rst]) => rst === '1' || rst === 'True').map(([frame]) => Number(frame));
    assert.deepEqual(res.rsts.map((r) => r.frame), rsts, 'RST frames');
    const streams = new Set(rows.map(([, , stream]) => stream).filter((x) => x !== undefined && x !== ''));
    const [more, why] = MORE_THAN_TSHARK[f] ?? [0, ''];
    assert.equal(res.connections.length, streams.size + more, `TCP connections (tshark tcp.stream)${why ? ` + ${more}: ${why}` : ''}`);
  });
}
