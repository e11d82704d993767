// Loading a catalog file: the shipped one and one built from the fixture load; each kind of bad
// file is refused with one InputError naming the file and what is wrong.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../errors.js';
import { LAB_FIXTURE } from '../report/testdata/lab-results.js';
import { buildCatalog } from './build.js';
import { defaultCatalogPath, loadCatalog } from './load.js';
import { CATALOG_SCHEMA } from './types.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rstlab-catalog-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: unknown) => {
  const f = path.join(dir, name);
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
};

test('the shipped catalog and one built from lab results load as they are', () => {
  assert.equal(loadCatalog(defaultCatalogPath()).schema, CATALOG_SCHEMA);
  const built = buildCatalog([LAB_FIXTURE]);
  assert.deepEqual(loadCatalog(file('built.json', built)), built);
});

test('a bad file is one InputError that names the file and the first problem', () => {
  const good = buildCatalog([LAB_FIXTURE]);
  const broken = structuredClone(good) as unknown as { entries: Array<{ occurrences: Array<{ wire: Record<string, unknown>; ladder: Array<Record<string, unknown>> }> }> };
  delete broken.entries[1].occurrences[0].wire.summary;
  const badSeg = structuredClone(good) as unknown as typeof broken;
  badSeg.entries[0].occurrences[0].ladder[1].flags = 7;
  const freeText = structuredClone(good) as unknown as { entries: Array<{ occurrences: Array<{ timeline: unknown[] }> }> };
  freeText.entries[0].occurrences[0].timeline[0] = { ms: 95, who: 'lab', what: 'SIGKILL server' };
  const cases: Array<[string, RegExp]> = [
    [path.join(dir, 'missing.json'), /^cannot read the error catalog .*missing\.json/],
    [file('text.json', 'not json'), /text\.json is not JSON/],
    [file('other.json', { schema: 'rstlab-lab/1', runs: [] }), /other\.json is not an rstlab error catalog \(schema rstlab-catalog\/\d\)/],
    [file('v2.json', { ...good, schema: 'rstlab-catalog/2' }), /v2\.json is an error catalog of another rstlab version \(schema rstlab-catalog\/2; this one reads rstlab-catalog\/3\)/],
    [file('future.json', { ...good, schema: 'rstlab-catalog/99' }), /future\.json is an error catalog of another rstlab version \(schema rstlab-catalog\/99/],
    [file('broken.json', broken), /broken\.json is not a valid error catalog: entries\[1\]\.occurrences\[0\]\.wire\.summary: missing/],
    [file('v1.json', { ...good, schema: 'rstlab-catalog/1' }), /v1\.json is an error catalog of another rstlab version \(schema rstlab-catalog\/1; this one reads rstlab-catalog\/3\)/],
    [file('free.json', freeText), /free\.json is not a valid error catalog: entries\[0\]\.occurrences\[0\]\.timeline\[0\]\.kind: missing/],
    [file('seg.json', badSeg), /seg\.json is not a valid error catalog: entries\[0\]\.occurrences\[0\]\.ladder\[1\]\.flags: not a string/],
  ];
  for (const [f, message] of cases) {
    assert.throws(() => loadCatalog(f), (err: unknown) => err instanceof InputError && message.test(err.message), f);
  }
});
