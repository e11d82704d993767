// Matching pasted error texts against a catalog built from the lab results fixture: normalisation,
// fuzzy matching, causes ranked. A property test checks that any catalog message, with its varying
// parts changed, still finds its own entry first.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LAB_FIXTURE } from '../report/testdata/lab-results.js';
import { buildCatalog } from './build.js';
import { renderWhyText } from '../report/why-text.js';
import { answerWhy, matchError, normalizeMessage, rankCauses } from './match.js';

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

test('matches and ranked causes are the input of the why answer (report/why-text.ts) as they are', () => {
  const matches = matchError(catalog, 'socket hang up');
  const causes = rankCauses(matches);
  assert.equal(causes[0].advice.retry, 'safe');
  const out = renderWhyText('socket hang up', matches, causes);
  assert.match(out, /1\. reset-after-close — data arrived after the sender had closed/);
  assert.match(out, /\[lab\] SIGKILL server/);
});

test('answerWhy: the family and condition of the pasted text; another software\'s observation of that condition, said so', () => {
  const a = answerWhy(catalog, '2024/11/03 06:09:29 [error] 184#184: *94 upstream prematurely closed connection while reading response header from upstream, client: 192.168.58.11, server: x, request: "GET / HTTP/1.1", upstream: "http://10.244.3.84:5601/", host: "x"');
  assert.equal(a.family?.family, 'nginx');
  assert.equal(a.condition?.condition, 'closed-before-response');
  assert.equal(a.stripped, 'upstream prematurely closed connection while reading response header from upstream');
  assert.equal(a.sameFamily, false, 'the fixture has no nginx run');
  assert.ok(a.matches.length && a.matches.every((m) => m.reasons.some((r) => r.startsWith('condition: closed before any response'))), JSON.stringify(a.matches.map((m) => m.reasons)));
  assert.equal(a.causes[0].cause, 'reset-after-close');

  const node = answerWhy(catalog, 'Error: socket hang up');
  assert.equal(node.family?.family, 'node');
  assert.equal(node.sameFamily, true);
  assert.equal(node.matches[0].entry.pattern, 'socket hang up');

  const win = answerWhy(catalog, 'System.Net.Sockets.SocketException (10054): An existing connection was forcibly closed by the remote host.');
  assert.equal(win.family?.family, 'dotnet');
  assert.equal(win.condition?.condition, 'reset');
  assert.ok(win.synonyms.some((s) => /WSAECONNRESET/.test(s)), 'the Windows wording is a documented synonym');
});

test('answerWhy: a message match whose condition contradicts the text is dropped; no TCP event is said plainly', () => {
  const refused = answerWhy(catalog, 'connect() failed (111: Connection refused) while connecting to upstream');
  assert.ok(refused.causes.length && refused.causes.every((c) => c.cause === 'refused'));
  const overflow = answerWhy(catalog, 'upstream connect error or disconnect/reset before headers. reset reason: overflow');
  assert.match(overflow.notTcp?.what ?? '', /circuit breaker/);
  assert.deepEqual([overflow.matches, overflow.causes], [[], []]);
  assert.equal(answerWhy(catalog, 'java.lang.OutOfMemoryError: Java heap space').matches.length, 0);
});
