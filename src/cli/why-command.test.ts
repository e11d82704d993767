// `rstlab why` and the catalog generator as a user runs them: real child processes of the compiled
// CLI (the sibling main.js) and of scripts/build-catalog.js. A catalog is generated from the
// hand-made lab results fixture; the shipped data/error-catalog.json, when it exists, is checked
// against the seed's OkHttp messages and Node's errors. Also `explain --ladder` and `--html`.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcapWriter } from '../capture/writer.js';
import type { Catalog } from '../catalog/types.js';
import { LAB_FIXTURE } from '../report/testdata/lab-results.js';
import { wrap } from '../report/why-text.js';
import { Conversation } from '../tcp/index.js';
import { repoRoot } from '../paths.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const mainJs = path.join(here, 'main.js');
const buildScript = path.join(here, '..', '..', 'scripts', 'build-catalog.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'rstlab-why-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(argv: string[]) {
  return spawnSync(process.execPath, argv, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 });
}
const rstlab = (...args: string[]) => run(['--input-type=module', '-e', `import { main } from ${JSON.stringify(`file://${mainJs}`)}; process.exitCode = await main(process.argv);`, 'rstlab', ...args]);

const resultsFile = path.join(dir, 'results.json');
writeFileSync(resultsFile, JSON.stringify(LAB_FIXTURE));
const catalogFile = path.join(dir, 'catalog.json');

test('build-catalog writes the catalog from results.json, deterministically, and --check sees it is current', () => {
  const r = run([buildScript, resultsFile, '--out', catalogFile]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /7 errors from 7 runs of 1 result file/);
  const first = readFileSync(catalogFile, 'utf8');
  const cat = JSON.parse(first) as Catalog;
  assert.equal(cat.schema, 'rstlab-catalog/3');
  assert.equal(cat.entries.length, 7);
  assert.equal(run([buildScript, resultsFile, '--out', catalogFile]).status, 0);
  assert.equal(readFileSync(catalogFile, 'utf8'), first, 'same input, same bytes');
  assert.equal(run([buildScript, resultsFile, '--out', catalogFile, '--check']).status, 0);
  writeFileSync(path.join(dir, 'stale.json'), '{}');
  assert.equal(run([buildScript, resultsFile, '--out', path.join(dir, 'stale.json'), '--check']).status, 1);
  const bad = run([buildScript, path.join(dir, 'nope.json'), '--out', path.join(dir, 'x.json')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /cannot read .*nope\.json/);
});

test('why: the cause, the scenarios, the wire, the advice and a ladder, within 100 columns', () => {
  if (!existsSync(catalogFile)) run([buildScript, resultsFile, '--out', catalogFile]);
  const r = rstlab('why', 'unexpected end of stream on Connection{...}', '--catalog', catalogFile);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /1\. reset-after-close — data arrived after the sender had closed/);
  assert.match(r.stdout, /Seen in: kill-server-before-request-http \(okhttp\)/);
  const prose = r.stdout.replace(/\n {5,}(?=\S)/g, ' ');
  assert.match(prose, /On the wire: SIGKILL server → server FIN → client data → server RST \(reset-after-close\) → client error/);
  assert.match(r.stdout, /Retry: safe —/);
  assert.match(r.stdout, /\|<=+x\| +#7 \[R\] seq 2 len 0 {2}RST: reset-after-close/);
  assert.match(r.stdout, /\[lab\] SIGKILL server/);
  for (const line of r.stdout.split('\n')) assert.ok([...line].length <= 100, `too wide: ${line}`);
});

test('why --json names the scenarios and runs; nothing matching exits 1 with a suggestion', () => {
  const r = rstlab('why', 'Error: connect ECONNREFUSED 127.0.0.1:8080', '--catalog', catalogFile, '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { causes: Array<{ cause: string; scenarios: string[]; runs: Array<{ run: string }>; advice: { retry: string } }> };
  assert.equal(j.causes[0].cause, 'refused');
  assert.deepEqual(j.causes[0].scenarios, ['refused']);
  assert.equal(j.causes[0].advice.retry, 'safe');
  assert.ok(j.causes[0].runs.some((x) => x.run === 'refused--node-http'));

  const none = rstlab('why', 'java.lang.OutOfMemoryError: Java heap space', '--catalog', catalogFile);
  assert.equal(none.status, 1);
  assert.match(none.stdout, /nothing in the catalog \(7 errors from 7 lab runs\) matches/);
  assert.match(none.stdout, /errno name|closest:/);
});

test('why without a readable catalog: one line, a hint, exit 2', () => {
  const r = rstlab('why', 'ECONNRESET', '--catalog', path.join(dir, 'missing.json'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /cannot read the error catalog .*missing\.json/);
  assert.match(r.stderr, /hint: build it from lab results/);
});

// The shipped catalog, generated from real lab runs: the seed's messages and Node's must lead to the
// scenarios whose runs reported them. Which runs reported them is read from the catalog by plain
// substring search, independent of the fuzzy matcher.
const shipped = path.join(repoRoot(), 'data', 'error-catalog.json');
const SEED_AND_NODE: Array<{ text: string; literal: RegExp }> = [
  { text: 'unexpected end of stream on Connection{...}', literal: /unexpected end of stream/i },
  { text: 'stream was reset: CANCEL', literal: /stream was reset: CANCEL/ },
  { text: 'Connection closed by peer', literal: /Connection closed by peer|Remote host terminated the handshake|SSL peer shut down incorrectly/i },
  { text: 'Failed to connect to /...', literal: /^Failed to connect to \// },
  { text: 'ECONNRESET', literal: /ECONNRESET/ },
  { text: 'socket hang up', literal: /socket hang up/ },
  { text: 'ECONNREFUSED', literal: /ECONNREFUSED/ },
];

test('shipped catalog: the seed\'s OkHttp messages and Node\'s errors name the scenarios that produced them', { skip: existsSync(shipped) ? false : `no ${shipped} yet (node dist/scripts/build-catalog.js rstlab-out/results.json)` }, (t) => {
  const cat = JSON.parse(readFileSync(shipped, 'utf8')) as Catalog;
  for (const { text, literal } of SEED_AND_NODE) {
    const producers = new Set(cat.entries
      .filter((e) => (e.client === 'okhttp' || e.client.startsWith('node')) && [e.message, e.code ?? '', ...e.causes.map((c) => c.message)].some((m) => literal.test(m)))
      .flatMap((e) => e.occurrences.map((o) => o.scenario)));
    const r = rstlab('why', text, '--json');
    if (!producers.size) {
      t.diagnostic(`no lab run reported ${JSON.stringify(text)}`);
      continue;
    }
    assert.equal(r.status, 0, `${text}: ${r.stdout}${r.stderr}`);
    const named = new Set((JSON.parse(r.stdout) as { causes: Array<{ scenarios: string[] }> }).causes.flatMap((c) => c.scenarios));
    const missing = [...producers].filter((s) => !named.has(s));
    // A message names every scenario that produced it; a bare errno name at least one of them.
    const bare = /^E[A-Z]+$/.test(text);
    assert.ok(bare ? missing.length < producers.size : missing.length === 0, `${text}: why names ${[...named].join(', ')}; produced in ${[...producers].join(', ')}`);
  }
});

// explain --ladder / --html on a scripted capture.
test('explain --ladder draws each abnormal connection; --html writes a self-contained report', () => {
  const conv = new Conversation({ client: '198.51.100.1:43211', server: '203.0.113.2:80' })
    .handshake().wait(0.05).fin('s').ack('c').wait(0.2).data('c', 74).statelessRst('s');
  const w = new PcapWriter({ linkType: conv.linkType });
  const pcap = path.join(dir, 'killed.pcap');
  writeFileSync(pcap, Buffer.concat([w.header(), ...conv.frames.map((f) => w.record(f.tsSec, f.tsNsec, f.data))]));
  const html = path.join(dir, 'killed.html');
  const r = rstlab('explain', pcap, '--ladder', '--html', html);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /198\.51\.100\.1:43211 +203\.0\.113\.2:80/);
  assert.match(r.stdout, /50\.3 +\|<-+\| +#4 \[F\.\] seq 1 ack 1 len 0/);
  assert.match(r.stdout, /\|<=+x\| +#7 \[R\] seq 2 len 0 {2}RST: reset-after-close/);
  assert.match(r.stdout, new RegExp(`report: ${html.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<figure class="ladder" data-connection="1">/);
  assert.match(page, /data-cause="reset-after-close"/);

  const plain = rstlab('explain', pcap);
  assert.doesNotMatch(plain.stdout, /#4 \[F\.\]/, 'no ladder without --ladder');
  const json = rstlab('explain', pcap, '--json', '--html', path.join(dir, 'j.html'));
  assert.equal(json.status, 0, json.stderr);
  for (const line of json.stdout.trim().split('\n')) JSON.parse(line);
  assert.ok(existsSync(path.join(dir, 'j.html')));
});

test('wrap keeps the first line\'s own indentation (regression: it was dropped)', () => {
  assert.equal(wrap('   one two three four', 12, '     '), '   one two\n     three\n     four');
});
