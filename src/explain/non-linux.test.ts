// Hand-labelled captures of non-Linux stacks (fixtures/non-linux: Windows hosts and servers,
// macOS, OpenBSD, network devices, a NAT router): every RST gets the cause its note (`<file>.md`,
// the "Hand labels" table: frame, sender, cause, why) gives it, with the sender's profile in its
// evidence; a RST whose label rstlab does not share is listed under "## Not agreed" instead (the
// note says why) and is only required to be a RST; the whole output equals the saved
// `<file>.expected.txt` (RSTLAB_UPDATE=1 rewrites it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderConnectionText, renderSummaryText } from '../report/text.js';
import { repoRoot } from '../paths.js';
import { explainCapture } from './engine.js';

const dir = path.join(repoRoot(), 'fixtures', 'non-linux');
const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f)).sort() : [];
const update = process.env.RSTLAB_UPDATE === '1';

/** The label rows of a table: `| frame | sender | cause | …`. */
function rows(text: string): Array<{ frame: number; cause: string }> {
  return [...text.matchAll(/^\|\s*(\d+)\s*\|[^|]*\|\s*([a-z-]+)\s*\|/gm)].map((m) => ({ frame: Number(m[1]), cause: m[2]! }));
}

/** The note's agreed labels (before "## Not agreed") and the frames listed after it. */
function labels(note: string): { agreed: Array<{ frame: number; cause: string }>; notAgreed: number[] } {
  const at = note.search(/^## Not agreed/m);
  return at < 0 ? { agreed: rows(note), notAgreed: [] } : { agreed: rows(note.slice(0, at)), notAgreed: rows(note.slice(at)).map((r) => r.frame) };
}

test('the non-Linux fixtures are there, each with its note', () => {
  assert.ok(files.length >= 2, `expected hand-labelled captures in ${dir}`);
  for (const f of files) assert.ok(existsSync(path.join(dir, `${f}.md`)), `${f}.md`);
});

for (const f of files) {
  test(`hand labels: ${f}`, async () => {
    const file = path.join(dir, f);
    const res = await explainCapture(file);
    const { agreed: want, notAgreed } = labels(readFileSync(`${file}.md`, 'utf8'));
    assert.deepEqual(res.rsts.map((r) => r.frame), [...want.map((w) => w.frame), ...notAgreed].sort((a, b) => a - b), 'every RST is labelled, and only RSTs');
    for (const w of want) {
      const r = res.rsts.find((x) => x.frame === w.frame)!;
      assert.equal(r.cause, w.cause, `frame ${w.frame}: ${r.summary}\n${r.evidence.join('\n')}`);
      assert.ok(r.evidence.some((e) => e.startsWith(`sender profile of ${r.from}:`)), `frame ${w.frame}: no sender profile`);
    }
    const got = `${res.connections.map((c) => renderConnectionText(c, res.summary.firstTime)).join('\n\n')}\n\n${renderSummaryText(res.summary)}\n`;
    const expectedFile = `${file}.expected.txt`;
    if (update) writeFileSync(expectedFile, got);
    else assert.equal(got, readFileSync(expectedFile, 'utf8'));
  });
}
