// tcpdump's own test captures (../shared/corpus/tcpdump-tests, 830 files, many damaged) through the
// whole explain engine: every file is read to its end without an exception, and the RSTs rstlab
// reports are exactly the frames tcpdump prints as TCP with R in its flags (`tcpdump -# -nr FILE`).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { sharedCorpus } from '../paths.js';
import { skipOutsideCi } from '../testkit.js';
import { tcpdumpRstFrames } from '../wire/tcpdump-oracle.js';
import { explainCapture } from './engine.js';

const dir = sharedCorpus('tcpdump-tests');
const MISSING = 'tcpdump test corpus not found: ../shared/corpus/tcpdump-tests beside the repository, or set RSTLAB_TCPDUMP_CORPUS';

test('tcpdump corpus through the explain engine: no crash, RST frames equal tcpdump\'s', { skip: skipOutsideCi(dir ? false : MISSING), timeout: 300_000 }, async () => {
  const corpus = dir ?? assert.fail(MISSING);
  const files = readdirSync(corpus).sort();
  assert.ok(files.length >= 800, `${files.length} files`);
  const withRst: string[] = [];
  let rsts = 0;
  for (const f of files) {
    const res = await explainCapture(path.join(corpus, f)).catch((err: unknown) => assert.fail(`${f}: ${String(err)}`));
    for (const r of res.rsts) assert.ok(r.cause && r.evidence.length > 0, `${f} frame ${r.frame}`);
    if (res.rsts.length) { withRst.push(f); rsts += res.rsts.length; }
    assert.equal(res.summary.rsts, res.rsts.length);
  }
  // The corpus README: 13 files carry RST segments (19 frames); compare each with tcpdump itself.
  assert.equal(withRst.length, 13, withRst.join(', '));
  assert.equal(rsts, 19);
  for (const f of withRst) {
    const want = tcpdumpRstFrames(execFileSync('tcpdump', ['-#', '-nr', path.join(corpus, f)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const got = (await explainCapture(path.join(corpus, f))).rsts.map((r) => r.frame);
    assert.deepEqual(got, want, f);
  }
});
