// Reading the shapes of pasted error texts (shapes.ts, errno.ts): log framing stripped, errno
// names and numbers of every platform, the family from the text's shape, the condition from the
// wording or the errno, and texts that are no TCP event. Each case is a real form (most from
// testdata/real-errors.json, with addresses changed).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ERRNO_TABLE, errnoNames } from './errno.js';
import { canonicalFamily, conditionOf, detectFamily, familyOfClient, notTcpEvent, stripFraming, WORDING_SYNONYMS } from './shapes.js';

test('framing: timestamps, nginx and PostgreSQL prefixes, nginx tails and request ids are stripped', () => {
  const cases: Array<[string, string]> = [
    ['2021/06/18 14:49:16 [error] 1379649#1379649: *9 recv() failed (104: Connection reset by peer) while reading response header from upstream, client: ::ffff:41.43.9.21, server: localhost, request: "GET /robots.txt HTTP/1.1", upstream: "http://85.10.200.69:8080/robots.txt", host: "octobermageg.com"',
      'recv() failed (104: Connection reset by peer) while reading response header from upstream'],
    ['2017/06/16 14:28:54 [error] 5626#0: recv() failed (104: Connection reset by peer)', 'recv() failed (104: Connection reset by peer)'],
    ['2022-03-25 21:12:43 CET [37218]: [1-1] user=repmgr,db=repmgr,client=x.x.x.138 LOG:  could not receive data from client: Connection reset by peer', 'LOG:  could not receive data from client: Connection reset by peer'],
    ['2024-03-21 15:29:36.228 UTC [55] LOG:  could not receive data from client: Connection reset by peer', 'LOG:  could not receive data from client: Connection reset by peer'],
    ['2024-07-25 05:26:19.004 UTC [12356] bbot_rt_2@SIMDB LOG:  could not send data to client: Connection reset by peer', 'LOG:  could not send data to client: Connection reset by peer'],
    ['Jul 21 11:10:41 web1 app[2211]: ConnectionResetError: [Errno 104] Connection reset by peer', 'ConnectionResetError: [Errno 104] Connection reset by peer'],
    ['[2022-07-21 11:10:41,919] ERROR in resilientsession: boom', 'ERROR in resilientsession: boom'],
    ['01-03 13:10:42.886 27691-29071/xx.xx.xx W/System.err: java.io.IOException: unexpected end of stream', 'java.io.IOException: unexpected end of stream'],
    ['request 3f2b6c1e-9a4d-4c1b-8f00-1234567890ab failed: EOF', 'request <id> failed: EOF'],
    ['socket hang up', 'socket hang up'],
    ['<134>Oct  1 12:00:00 lb haproxy[811]: 10.0.0.1:5123 [01/Oct/2024:12:00:00.100] fe be/s1 0/0/1/-1/2 502 204 - - SH-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"', 'termination state SH-- status 502'],
  ];
  for (const [input, want] of cases) assert.equal(stripFraming(input), want, input);
});

test('errno: names and numbers of Linux, BSD/macOS and Windows give the portable name and platform', () => {
  const cases: Array<[string, string, string | null]> = [
    ['recv() failed (104: Connection reset by peer)', 'ECONNRESET', 'linux'],
    ["error(54, 'Connection reset by peer')", 'ECONNRESET', 'bsd'],
    ['[Errno 54] Connection reset by peer', 'ECONNRESET', 'bsd'],
    ['[WinError 10054] 远程主机强迫关闭了一个现有的连接。', 'ECONNRESET', 'windows'],
    ['SocketException (10054): An existing connection was forcibly closed', 'ECONNRESET', 'windows'],
    ['(os error 10054)', 'ECONNRESET', 'windows'],
    ['"errno":54,"os_error":"Connection reset by peer"', 'ECONNRESET', 'bsd'],
    ["OSError(\"(10054, 'WSAECONNRESET')\",)", 'ECONNRESET', 'windows'],
    ['connect() failed (111: Connection refused)', 'ECONNREFUSED', 'linux'],
    ['[Errno 61] Connection refused', 'ECONNREFUSED', 'bsd'],
    ['delayed connect error: 111', 'ECONNREFUSED', 'linux'],
    ['Error 10061', 'ECONNREFUSED', 'windows'],
    ['upstream timed out (110: Connection timed out)', 'ETIMEDOUT', 'linux'],
    ['[Errno 32] Broken pipe', 'EPIPE', 'linux'],
    ['read ECONNRESET', 'ECONNRESET', null],
    ['WSAECONNABORTED', 'ECONNABORTED', 'windows'],
  ];
  for (const [text, name, platform] of cases) {
    const [hit] = errnoNames(text);
    assert.ok(hit, text);
    assert.equal(hit.name, name, text);
    assert.equal(hit.platform, platform, text);
  }
  assert.deepEqual(errnoNames('HTTP/1.1 200 OK, 104 bytes'), [], 'a number outside an errno context is no errno');
  const numbers = ERRNO_TABLE.map((r) => r.number);
  assert.equal(new Set(numbers).size, numbers.length, 'no number names two errors');
});

test('property: an errno number of the table in any context form names its row', () => {
  const forms = [(n: number) => `[Errno ${n}] x`, (n: number) => `(${n}: Something)`, (n: number) => `ConnectionResetError(${n}, 'x')`, (n: number) => `os error ${n}`, (n: number) => `"errno":${n}`];
  fc.assert(fc.property(fc.constantFrom(...ERRNO_TABLE), fc.constantFrom(...forms), (row, form) => {
    const [hit] = errnoNames(form(row.number));
    return hit !== undefined && hit.name === row.name && hit.platform === row.platform;
  }));
});

test('family: the software that printed a text, from its shape', () => {
  const cases: Array<[string, string]> = [
    ['upstream prematurely closed connection while reading response header from upstream', 'nginx'],
    ['upstream connect error or disconnect/reset before headers. reset reason: connection termination', 'envoy'],
    ['{"termination_state":"SD","backend_name":"b"}', 'haproxy'],
    ['Oct  1 12:00:00 lb haproxy[811]: 10.0.0.1:5123 [01/Oct/2024:12:00:00.100] fe be/s1 0/0/1/-1/2 502 204 - - SH-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"', 'haproxy'],
    ['GET http://localhost:8080/ net::ERR_CONNECTION_REFUSED', 'chromium'],
    ['NS_ERROR_NET_RESET', 'firefox'],
    ['read tcp 10.0.0.1:1234->10.0.0.2:80: read: connection reset by peer', 'go-net-http'],
    ['http: server closed idle connection', 'go-net-http'],
    ["requests.exceptions.ConnectionError: ('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))", 'python-requests'],
    ['httpx.RemoteProtocolError: Server disconnected without sending a response.', 'python-httpx'],
    ['aiohttp.client_exceptions.ServerDisconnectedError: Server disconnected', 'aiohttp'],
    ['http.client.RemoteDisconnected: Remote end closed connection without response', 'python'],
    ['System.Net.Sockets.SocketException (10054): An existing connection was forcibly closed by the remote host.', 'dotnet'],
    ['java.net.SocketException: Connection reset', 'java'],
    ['java.io.IOException: unexpected end of stream on Connection{10.0.0.2:80, proxy=DIRECT hostAddress=/10.0.0.2:80 cipherSuite=none protocol=http/1.1}', 'okhttp'],
    ['Error: socket hang up', 'node'],
    ['curl: (52) Empty reply from server', 'curl'],
    ['server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally', 'psql'],
    ['LOG:  could not receive data from client: Connection reset by peer', 'postgresql'],
    ['[ioredis] Unhandled error event: Error: read ECONNRESET', 'redis'],
    ['ERROR 2013 (HY000): Lost connection to MySQL server during query', 'mysql'],
    ['Error: 14 UNAVAILABLE: read ECONNRESET', 'grpc'],
  ];
  for (const [text, family] of cases) assert.equal(detectFamily(text)?.family, family, text);
  assert.equal(detectFamily('hello world'), null);
  assert.equal(familyOfClient('node-fetch'), 'node');
  assert.equal(familyOfClient('okhttp'), 'okhttp');
  assert.equal(familyOfClient('go'), 'go-net-http');
  assert.equal(familyOfClient('python', { family: 'python-requests', version: '2.31.0' }), 'python-requests');
  assert.deepEqual(['python-aiohttp', 'redis-cli', 'mariadb', 'java-httpclient', 'psql'].map((c) => familyOfClient(c)), ['aiohttp', 'redis', 'mysql', 'java', 'psql']);
  assert.equal(canonicalFamily('undici'), 'node', "Node's fetch reports its library");
});

test('condition: the wording first (socket hang up carries ECONNRESET but is a close), then the errno', () => {
  const cases: Array<[string, string]> = [
    ["{ [Error: socket hang up] code: 'ECONNRESET' }", 'closed-before-response'],
    ['read ECONNRESET', 'reset'],
    ['write ECONNRESET', 'write-reset'],
    ['Error: write ECONNABORTED', 'write-reset'],
    ['write tcp [::1]:62575->[::1]:8080: write: broken pipe', 'write-reset'],
    ['ConnectionResetError: [WinError 10054] 远程主机强迫关闭了一个现有的连接。', 'reset'],
    ['OSError: [Errno 10054] something localised', 'reset'],
    ['upstream timed out (110: Connection timed out) while reading response header from upstream', 'timeout'],
    ['connect() failed (111: Connection refused) while connecting to upstream', 'refused'],
    ['transport failure reason: delayed connect error: 111', 'refused'],
    ['http.client.IncompleteRead: IncompleteRead(100 bytes read, 900 more expected)', 'closed-mid-response'],
    ['java.net.ProtocolException: unexpected end of stream', 'closed-mid-response'],
    ['java.io.IOException: unexpected end of stream on Connection{…}', 'closed-before-response'],
    ['Client network socket disconnected before secure TLS connection was established', 'tls-closed'],
    ['SSL SYSCALL error: EOF detected', 'closed'],
    ['Get http://x/: EOF', 'closed-before-response'],
  ];
  for (const [text, condition] of cases) assert.equal(conditionOf(text)?.condition, condition, text);
  assert.match(conditionOf('recv() failed (104: Connection reset by peer)')!.because, /errno 104 \(linux ECONNRESET\)/);
  assert.equal(conditionOf('java.lang.OutOfMemoryError: Java heap space'), null);
});

test('not a TCP event: circuit breakers, no healthy host, certificates, Unix sockets, HTTP 5xx — said plainly', () => {
  const yes: Array<[string, RegExp]> = [
    ['upstream connect error or disconnect/reset before headers. reset reason: overflow', /circuit breaker/],
    ['no healthy upstream', /no healthy host/],
    ['io.github.resilience4j.circuitbreaker.CallNotPermittedException: CircuitBreaker \'backend\' is OPEN and does not permit further calls', /circuit breaker/],
    ['Get "https://x/": x509: certificate signed by unknown authority', /certificate/],
    ['recv() failed (104: Connection reset by peer) while reading response header from upstream, upstream: "fastcgi://unix:/run/php/php-fpm.sock:"', /Unix-domain socket/],
    ['AxiosError: Request failed with status code 503', /HTTP 5xx/],
  ];
  for (const [text, what] of yes) assert.match(notTcpEvent(text)?.what ?? '', what, text);
  for (const text of ['read ECONNRESET', 'upstream connect error or disconnect/reset before headers. reset reason: connection termination', 'recv() failed (104: Connection reset by peer) while reading response header from upstream, 502 Bad Gateway']) {
    assert.equal(notTcpEvent(text), null, text);
  }
});

test('wording synonyms are documented: each names its source', () => {
  for (const s of WORDING_SYNONYMS) assert.ok(s.source.length > 10 && s.note.length > 10, s.note);
  assert.ok(WORDING_SYNONYMS.some((s) => s.pattern.test('An existing connection was forcibly closed by the remote host') && s.code === 'ECONNRESET'));
});
