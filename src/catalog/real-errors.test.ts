// The measure of `rstlab why` on the world's error texts: every text of testdata/real-errors.json
// (verbatim from public bug reports and Q&A threads, each with its source URL, the software that
// printed it, the wire causes that can produce it and whether it is a TCP event at all) is answered
// against the shipped catalog (data/error-catalog.json). A text counts as cause-right when the
// answer's first cause is one of its causes — or, for a text that is no TCP event, when the answer
// says so — and family-right when the detected family is its family. The shares are printed and
// held above floors set at what this version reaches (the README records the figures), so that a
// change that answers fewer of them fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { repoFile } from '../paths.js';
import { defaultCatalogPath, loadCatalog } from './load.js';
import { answerWhy } from './match.js';
import { ADVICE } from './advice.js';
import type { WireCause } from './types.js';

interface RealError { text: string; source: string; family: string; causes: WireCause[]; tcp: boolean; note: string }

const corpus = JSON.parse(readFileSync(repoFile('src/catalog/testdata/real-errors.json'), 'utf8')) as RealError[];
const catalog = loadCatalog(defaultCatalogPath());

/** Floors at what this version reaches on the shipped catalog (cause 91/91, family 91/91 when set).
 *  Lower them only with a reason; raise them when the matching gets better. */
const CAUSE_FLOOR = 0.95;
const FAMILY_FLOOR = 0.95;

test('the corpus is well formed: verbatim texts with a source, a family, causes of the closed set', () => {
  assert.ok(corpus.length >= 60, `${corpus.length} texts`);
  for (const r of corpus) {
    assert.ok(r.text.length > 0 && /^https:\/\/\S+$/.test(r.source), JSON.stringify(r));
    assert.ok(r.family && r.note, r.text);
    for (const c of r.causes) assert.ok(Object.hasOwn(ADVICE, c), `${c} is no wire cause: ${r.text}`);
    assert.equal(r.tcp, r.causes.length > 0, `a TCP event has causes, a non-TCP one none: ${r.text}`);
  }
  assert.ok(corpus.filter((r) => !r.tcp).length >= 5, 'some texts are no TCP event');
  assert.ok(new Set(corpus.map((r) => r.family)).size >= 15, 'many families');
});

test('why on the world\'s error texts: first cause and family shares above their floors', () => {
  let causeRight = 0;
  let familyRight = 0;
  const misses: string[] = [];
  for (const r of corpus) {
    const a = answerWhy(catalog, r.text);
    const first = a.causes[0]?.cause;
    const causeOk = r.tcp ? !a.notTcp && first !== undefined && r.causes.includes(first) : a.notTcp !== null;
    const familyOk = a.family?.family === r.family;
    if (causeOk) causeRight++;
    if (familyOk) familyRight++;
    if (!causeOk || !familyOk) {
      misses.push(`${causeOk ? '  ' : 'C '}${familyOk ? '  ' : 'F '}${r.family} → ${a.family?.family ?? '-'}; ${r.tcp ? r.causes.join('|') : 'not-tcp'} → ${a.notTcp ? 'not-tcp' : first ?? 'nothing'}: ${r.text.slice(0, 100).replace(/\n/g, '\\n')}`);
    }
  }
  const causeShare = causeRight / corpus.length;
  const familyShare = familyRight / corpus.length;
  console.log(`real-errors: ${corpus.length} texts; first cause right ${causeRight} (${(causeShare * 100).toFixed(1)}%), family right ${familyRight} (${(familyShare * 100).toFixed(1)}%)`);
  for (const m of misses) console.log(`  ${m}`);
  assert.ok(causeShare >= CAUSE_FLOOR, `cause share ${causeShare.toFixed(3)} < ${CAUSE_FLOOR}`);
  assert.ok(familyShare >= FAMILY_FLOOR, `family share ${familyShare.toFixed(3)} < ${FAMILY_FLOOR}`);
});
