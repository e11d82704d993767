// The error catalog: built from lab results (the hand-made fixture of src/report/testdata, typed
// against results.ts), grouped across runs whose messages differ only in addresses and numbers,
// with each run's wire signature; fuzzy matching of pasted error texts; causes ranked; advice for
// every cause. A property test checks that any catalog message, with its varying parts changed,
// still finds its own entry first.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LAB_FIXTURE } from '../report/testdata/lab-results.js';
import { ADVICE } from './advice.js';
import { buildCatalog, matchError, normalizeMessage, rankCauses } from './catalog.js';
import { CAUSE_CODES } from './causes.js';

const catalog = buildCatalog([LAB_FIXTURE]);

test('normalisation removes what varies between runs and keeps the words', () => {
  const cases: Array<[string, string]> = [
    ['unexpected end of stream on Connection{203.0.113.2:40123, proxy=DIRECT hostAddress=/203.0.113.2:40123 cipherSuite=none protocol=http/1.1}', 'unexpected end of stream on Connection{…}'],
    ['unexpected end of stream on http://example.com/...', 'unexpected end of stream on <url>'],
    ['Failed to connect to /203.0.113.2:40001', 'Failed to connect to <addr>'],
    ['Failed to connect to localhost/127.0.0.1:8080', 'Failed to connect to <addr>'],
    ['connect ECONNREFUSED [::1]:3000', 'connect ECONNREFUSED <addr>'],
    ['connect ECONNREFUSED ::1:3000', 'connect ECONNREFUSED <addr>'],
    ['Failed to connect to 10.0.0.2 port 8080 after 3 ms: Couldn\'t connect to server', 'Failed to connect to <addr> port <n> after <n> ms: Couldn\'t connect to server'],
    ['Read error: ssl=0x7d4e1a2b00: I/O error during system call', 'Read error: ssl=<hex>: I/O error during system call'],
    ['[Errno 104] Connection reset by peer', '[Errno <n>] Connection reset by peer'],
    ['stream was reset: CANCEL', 'stream was reset: CANCEL'],
  ];
  for (const [input, want] of cases) assert.equal(normalizeMessage(input), want, input);
});

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

const top = (text: string) => matchError(catalog, text)[0];

test('the seed\'s OkHttp messages and Node\'s errors find the runs that produced them', () => {
  const expect: Array<[string, string, string]> = [
    ['unexpected end of stream on Connection{...}', 'java.io.IOException', 'kill-server-before-request-http'],
    ['java.io.IOException: unexpected end of stream on Connection{example.com:80, proxy=DIRECT hostAddress=example.com/93.184.216.34:80 cipherSuite=none protocol=http/1.1}', 'java.io.IOException', 'kill-server-before-request-http'],
    ['stream was reset: CANCEL', 'okhttp3.internal.http2.StreamResetException', 'kill-server-mid-response-h2'],
    ['okhttp3.internal.http2.StreamResetException: stream was reset: CANCEL', 'okhttp3.internal.http2.StreamResetException', 'kill-server-mid-response-h2'],
    ['Failed to connect to /...', 'java.net.ConnectException', 'refused'],
    ['java.net.ConnectException: Failed to connect to /192.168.1.20:442', 'java.net.ConnectException', 'refused'],
    ['Connection closed by peer', 'javax.net.ssl.SSLHandshakeException', 'kill-proxy-before-request-https'],
    ['ECONNREFUSED', 'Error', 'refused'],
    ['Error: connect ECONNREFUSED 127.0.0.1:8080', 'Error', 'refused'],
    ['socket hang up', 'Error', 'kill-server-before-request-http'],
    ['ECONNRESET', 'Error', 'kill-server-before-request-http'],
    ['Error: socket hang up\n    at connResetException (node:internal/errors:720:14)\n    at Socket.socketOnEnd (node:_http_client:525:23)', 'Error', 'kill-server-before-request-http'],
  ];
  for (const [text, error, scenario] of expect) {
    const m = top(text);
    assert.ok(m, `${text}: no match`);
    assert.equal(m.entry.error, error, text);
    assert.ok(m.entry.occurrences.some((o) => o.scenario === scenario), `${text}: ${m.entry.id}`);
    assert.ok(rankCauses(matchError(catalog, text)).some((c) => c.scenarios.includes(scenario)), `${text}: causes name ${scenario}`);
  }
  assert.ok(top('Connection closed by peer').reasons.some((r) => r.startsWith('synonym')), 'the Android wording is matched as a platform variant');
});

test('text that is no error of the catalog matches nothing', () => {
  for (const text of ['hello world', 'java.lang.OutOfMemoryError: Java heap space', 'ENOENT: no such file or directory', '']) {
    assert.deepEqual(matchError(catalog, text), [], text);
  }
});

test('a class name or errno that contradicts the entry lowers its score', () => {
  const right = top('java.io.IOException: unexpected end of stream on Connection{x}');
  const wrongClass = matchError(catalog, 'java.net.ProtocolException: unexpected end of stream on Connection{x}')[0];
  assert.ok(right && wrongClass && wrongClass.score < right.score);
  const code = matchError(catalog, 'ECONNREFUSED')[0];
  assert.equal(code.entry.code, 'ECONNREFUSED');
});

test('causes are ranked and their shares add up to one', () => {
  const many = buildCatalog([LAB_FIXTURE]);
  const causes = rankCauses(matchError(many, 'Failed to connect'));
  assert.equal(causes[0].cause, 'refused');
  const total = causes.reduce((s, c) => s + c.share, 0);
  assert.ok(Math.abs(total - 1) < 0.01, String(total));
  for (const c of causes) for (let i = 1; i < c.hits.length; i++) assert.ok(c.hits[i - 1].score >= c.hits[i].score);
});

test('every cause code, and each close without RST, has advice', () => {
  for (const c of [...CAUSE_CODES, 'peer-closed', 'silent'] as const) {
    const a = ADVICE[c];
    assert.ok(a && a.change.length > 0 && a.retryWhy.length > 10, c);
    assert.ok(['safe', 'idempotent-only', 'no', 'not-needed'].includes(a.retry), c);
  }
});

test('property: a catalog message with other addresses, ports and numbers still finds its own entry first', () => {
  const entries = catalog.entries;
  const octet = fc.integer({ min: 1, max: 254 });
  fc.assert(fc.property(
    fc.integer({ min: 0, max: entries.length - 1 }), octet, octet, fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 99999 }),
    (i, a, b, port, n) => {
      const e = entries[i];
      const text = `${e.error}: ${e.message}`
        .replace(/\d{1,3}(?:\.\d{1,3}){3}/g, `10.${a}.${b}.7`)
        .replace(/:\d{2,5}\b/g, `:${port}`)
        .replace(/\b(after|port) \d+/g, `$1 ${n}`);
      const m = matchError(catalog, text);
      return m.length > 0 && m[0].entry.pattern === e.pattern && m[0].entry.error === e.error;
    },
  ), { numRuns: 200 });
});
