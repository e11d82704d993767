// Building the catalog from lab results (the hand-made fixture of src/report/testdata, typed
// against results.ts): grouped across runs whose messages differ only in addresses and numbers,
// with each run's wire signature; the same input gives the same catalog.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAB_FIXTURE } from '../report/testdata/lab-results.js';
import { buildCatalog } from './build.js';
import { answerWhy } from './match.js';

const catalog = buildCatalog([LAB_FIXTURE]);

test('the catalog has one entry per client error, each run that reported it, and its wire signature', () => {
  const errorRuns = LAB_FIXTURE.runs.filter((r) => (r.status === 'ok' || r.status === 'mismatch') && r.outcome?.kind === 'error');
  assert.equal(catalog.entries.reduce((n, e) => n + e.occurrences.length, 0), errorRuns.length, 'every error run, nothing else');
  assert.equal(catalog.sources[0].runs, errorRuns.length);
  assert.ok(!catalog.entries.some((e) => e.occurrences.some((o) => o.run.includes('--python') || o.run === 'kill-server-before-request-http--curl')), 'failed runs and ok outcomes are not errors');

  const okhttp = catalog.entries.find((e) => e.client === 'okhttp' && e.error === 'java.io.IOException');
  assert.ok(okhttp);
  assert.equal(okhttp.pattern, 'unexpected end of stream on Connection{…}');
  assert.equal(okhttp.causes[0].error, 'java.io.EOFException');
  const [occ] = okhttp.occurrences;
  assert.equal(occ.scenario, 'kill-server-before-request-http');
  assert.deepEqual(occ.claims, ['C2.0', 'C2a.5', 'C2a.6']);
  assert.equal(occ.capture, 'captures/kill-server-before-request-http--okhttp.pcap');
  assert.equal(occ.wire.cause, 'reset-after-close');
  assert.equal(occ.wire.summary, 'SIGKILL server → server FIN → client data → server RST (reset-after-close) → client error');
  assert.deepEqual(occ.wire.fins, [{ role: 'server', frame: 4, ms: 95.7, beforeError: true }]);
  assert.deepEqual(occ.wire.rsts, [{ role: 'server', frame: 7, ms: 352.5, cause: 'reset-after-close', beforeError: true }]);

  const refused = catalog.entries.find((e) => e.client === 'node-http' && e.code === 'ECONNREFUSED');
  assert.equal(refused?.occurrences[0].wire.summary, 'client SYN → server RST (refused) → client error');
});

test('runs whose messages differ only in addresses and ports fall into one entry; the build is deterministic', () => {
  const second = structuredClone(LAB_FIXTURE);
  second.startedAt = '2026-11-21T10:00:00.000Z';
  for (const r of second.runs) {
    if (r.outcome?.message) r.outcome.message = r.outcome.message.replace(/203\.0\.113\.2:\d+/g, '203.0.113.9:51515').replace(/port \d+/, 'port 51515');
  }
  const both = buildCatalog([LAB_FIXTURE, second]);
  assert.equal(both.entries.length, catalog.entries.length);
  for (const e of both.entries) assert.deepEqual(e.occurrences.map((o) => o.source), [0, 1], e.id);
  assert.equal(JSON.stringify(buildCatalog([LAB_FIXTURE, second])), JSON.stringify(both));
});

test('each entry carries its software family and version; hop reports become entries with the run\'s wire', () => {
  assert.ok(catalog.entries.every((e) => e.family && e.version === null), 'the fixture\'s runs report no software: families from client names');
  assert.equal(catalog.entries.find((e) => e.client === 'node-http')?.family, 'node');

  const withHops = structuredClone(LAB_FIXTURE);
  const run = withHops.runs.find((r) => r.id === 'kill-server-before-request-http--node-http')!;
  run.software = { family: 'node', version: '20.19.2' };
  run.hops = [{
    role: 'proxy',
    software: { family: 'nginx', version: '1.22.1' },
    lines: ['2026/12/04 01:00:00 [error] 1234#1234: *1 upstream prematurely closed connection while reading response header from upstream, client: 198.51.100.1, server: _, request: "GET / HTTP/1.1", upstream: "http://203.0.113.2:8080/", host: "203.0.113.2:8080"'],
    code: '502',
  }];
  const built = buildCatalog([withHops]);
  const client = built.entries.find((e) => e.occurrences.some((o) => o.run === run.id) && !e.hop);
  assert.deepEqual([client?.family, client?.version], ['node', '20.19.2']);
  const hop = built.entries.find((e) => e.hop === 'proxy');
  assert.ok(hop, 'the hop\'s report is an entry');
  assert.deepEqual([hop.family, hop.version, hop.error, hop.code, hop.client], ['nginx', '1.22.1', 'nginx', '502', 'node-http']);
  assert.equal(hop.pattern, 'upstream prematurely closed connection while reading response header from upstream');
  assert.equal(hop.occurrences[0].wire.summary, client?.occurrences[0].wire.summary, 'the hop entry has the run\'s wire signature');
  assert.equal(built.entries.length, catalog.entries.length + 1);

  // A pasted nginx line from elsewhere (other time, pid, addresses, request) finds the nginx observation itself.
  const a = answerWhy(built, '2024/11/03 06:09:29 [error] 184#184: *94 upstream prematurely closed connection while reading response header from upstream, client: 192.168.58.11, server: opensearch-dashboard.hi.local, request: "GET / HTTP/1.1", upstream: "http://10.244.3.84:5601/", host: "opensearch-dashboard.hi.local"');
  assert.equal(a.matches[0].entry, hop);
  assert.equal(a.sameFamily, true);
  assert.equal(a.causes[0].cause, hop.occurrences[0].wire.cause);

  // HAProxy: the termination state is the hop's code; a pasted JSON log line with the same state finds it.
  run.hops = [{ role: 'proxy', software: { family: 'haproxy', version: '2.6.12' }, code: 'SD--', lines: ['<134>Dec  4 01:00:00 haproxy[811]: 198.51.100.1:40000 [04/Dec/2026:01:00:00.000] fe be/s1 0/0/0/-1/95 -1 0 - - SD-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"'] }];
  const withHaproxy = buildCatalog([withHops]);
  const hp = withHaproxy.entries.find((e) => e.family === 'haproxy')!;
  const h = answerWhy(withHaproxy, '{"haproxy_timestamp":"29/May/2022:17:43:23 +0000","http_status":-1,"bytes_read":0,"termination_state":"SD"}');
  assert.equal(h.family?.family, 'haproxy');
  assert.equal(h.matches[0].entry, hp);
  assert.ok(h.matches[0].reasons.includes('code TS:SD'), h.matches[0].reasons.join(', '));
});
