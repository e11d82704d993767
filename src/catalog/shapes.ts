// The shapes of the world's error texts, read before matching. Contract: data and pure functions.
// - `stripFraming(text)`: the text without its log-line framing — timestamps in the common forms,
//   syslog / logcat prefixes, nginx's `[error] 123#123: *45`, PostgreSQL's `[pid]: [1-1] user=…`
//   prefix, nginx's `, client: … server: … request: "…" upstream: "…" host: "…"` tail, request ids
//   and UUIDs — so that only what the software said is left.
// - `detectFamily(text)`: which software printed it, from its shape (Go's `read tcp a->b: read:`,
//   Python's exception reprs, .NET wording, Java class names, nginx/HAProxy/Envoy log forms,
//   `net::ERR_*`, `NS_ERROR_*`, libpq/redis/mysql/gRPC forms), with the shape that told.
// - `conditionOf(text)`: what happened to the connection as the text words it (refused, reset on
//   read, reset on write, closed before / during the response, closed during TLS, timed out), from
//   the software's wording and its errno (errno.ts, all platforms).
// - `notTcpEvent(text)`: texts that are no TCP event at all (a circuit breaker, no healthy host,
//   a certificate error, a Unix-domain socket, the browser closing its own socket): what it is
//   instead and what to do.
// - `familyOfClient(client, software?)`: the family of a lab client (RunRecord.software, else the
//   client's name).
// - `WORDING_SYNONYMS`: the documented equivalences between platforms' wordings, each with where it
//   is documented. They are matching knowledge, never observations.

import { errnoNames } from './errno.js';
import type { Software } from '../report/results.js';

// ---------------------------------------------------------------------------------------------
// Framing

const TIMESTAMP_PREFIXES: RegExp[] = [
  // syslog PRI: <134>
  /^<\d{1,3}>/,
  // 2024-03-21 15:29:36.228 UTC / 2022-03-25 21:12:43 CET / 2023-11-10T13:31:04.874Z / [2022-07-21 11:10:41,919]
  /^\[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?(?: (?:UTC|GMT|CES?T|EES?T|WES?T|[ECMP][SD]T|JST|IST|[+-]\d{4}))?\s+/,
  // nginx / Go log: 2021/06/18 14:49:16
  /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?\s+/,
  // syslog: Jul 21 11:10:41 host prog[123]:   (the host and program are optional)
  /^[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}(?: [\w.-]+(?: [\w./-]+(?:\[\d+\])?:)?)?\s+/,
  // "Jul 21 11:" — a truncated syslog stamp as pasted from journald
  /^[A-Z][a-z]{2} \d{1,2} \d{2}:/,
  // Android logcat: 01-03 13:10:42.886 27691-29071/pkg W/System.err:
  /^\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+ +\d+-\d+\/\S+ [VDIWEF]\/[\w.]+:\s*/,
  // [HH:MM:SS] or HH:MM:SS LEVEL
  /^\[?\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\]?\s+(?:(?:INFO|WARN|WARNING|ERROR|DEBUG|FATAL)\s+)?/,
];

/** A log line reduced to what the software said about the error. */
export function stripFraming(text: string): string {
  return text.split(/\r?\n/).map((line) => {
    let l = line;
    for (let i = 0; i < 3; i++) {
      const before = l;
      for (const re of TIMESTAMP_PREFIXES) l = l.replace(re, '');
      if (l === before) break;
    }
    // HAProxy's HTTP log line: client, accept date, frontend, backend/server, timers, status, bytes,
    // cookies, termination state, connection counts, queues, request — its fixed fields reduced to
    // what tells how the session ended.
    const hap = /(?:^|\s)\S+:\d+ \[\d{2}\/\w{3}\/\d{4}:[^\]]+\] \S+ \S+ [-\d/+]+ (-?\d+) \+?\d+ \S+ \S+ ([A-Za-z-]{4}) /.exec(l);
    if (hap) return `termination state ${hap[2]} status ${hap[1]}`;
    return l
      // nginx: [error] 1379649#1379649: *9
      .replace(/^\[(?:emerg|alert|crit|error|warn|notice|info|debug)\] \d+#\d+: (?:\*\d+ )?/, '')
      // PostgreSQL log_line_prefix: [37218]: [1-1] user=x,db=y,client=z   /  [55]   / bbot@SIMDB
      .replace(/^\[\d+\](?::? \[\d+-\d+\])?\s+(?:user=\S*\s+)?(?:[\w-]+@[\w-]+\s+)?(?=(?:LOG|ERROR|FATAL|PANIC|WARNING|DETAIL|HINT|STATEMENT):)/, '')
      // nginx's tail: , client: …, server: …, request: "…", upstream: "…", host: "…", referrer: "…"
      .replace(/,\s*client: .*$/, '')
      // request ids
      .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>');
  }).join('\n').replace(/\n(?=while |HTTP\/)/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------
// Families

export interface FamilyGuess { family: string; shape: string }

/** Ordered: wrappers and proxies before the languages they run on (ioredis before Node, gRPC
 *  before the socket error it carries, Python's exception reprs before the Windows wording inside). */
const FAMILY_SHAPES: Array<{ family: string; shape: string; re: RegExp }> = [
  { family: 'envoy', shape: "Envoy's local reply", re: /upstream connect error or disconnect\/reset before headers|upstream_reset_before_response_started|no[ _]healthy[ _]upstream|reset reason: /i },
  { family: 'grpc', shape: 'a gRPC status', re: /\b\d{1,2} (?:UNAVAILABLE|INTERNAL|DEADLINE_EXCEEDED|CANCELLED|UNKNOWN):|StatusCode\.[A-Z_]+|"grpc_status"|GRPC::|code = Unavailable desc =/ },
  { family: 'redis', shape: 'a Redis client', re: /\[ioredis\]|Redis connection to .* failed|\bRedis::\w+\(\)|redis\.exceptions\.|JedisConnectionException|RedisConnectionException|Error while reading line from the server/i },
  { family: 'mysql', shape: 'a MySQL client error', re: /MySQL server|ERROR \d{4} \(HY000\)|pymysql|mysqli|\(20(?:06|13), '|\[(?:mysql|MySQL)\] \d{4}\/|\bpackets\.go:\d+:/ },
  { family: 'postgresql', shape: "PostgreSQL's server log", re: /\b(?:LOG|FATAL|ERROR):\s+(?:could not (?:receive|send) data (?:from|to) client|connection to client lost|terminating connection)/ },
  { family: 'psql', shape: "libpq's wording", re: /server closed the connection unexpectedly|SSL SYSCALL error|connection to server at "[^"]*"(?: \([^)]*\))?, port \d+ failed|Is the server running on (?:that host|host)|could not (?:receive|send) data (?:from|to) server|could not connect to server|\bpsql: |PG::|psycopg2?\b|This probably means the server terminated abnormally/ },
  { family: 'nginx', shape: 'an nginx error.log line', re: /\[(?:emerg|alert|crit|error|warn)\] \d+#\d+:|\b(?:recv|send|connect|writev|readv|SSL_read|SSL_do_handshake)\(\) failed \(\d+: |while (?:reading response header from|connecting to|reading|sending request to|SSL handshaking to|proxying upgraded connection)|upstream (?:prematurely closed|timed out)|no live upstreams/ },
  { family: 'haproxy', shape: 'an HAProxy log line', re: /"termination_state"|\bhaproxy\[\d+\]|\s[CSPLRIDKUcs-][RQCHDLT-][-NIDVCU][-NIPRDU]\s+\d+\/\d+\/\d+\/\d+\/\d+\s/ },
  { family: 'chromium', shape: "Chromium's net error", re: /\bnet::ERR_[A-Z0-9_]+|\bERR_(?:CONNECTION_(?:RESET|CLOSED|REFUSED|ABORTED|FAILED|TIMED_OUT)|EMPTY_RESPONSE|TIMED_OUT|NAME_NOT_RESOLVED|INTERNET_DISCONNECTED|ADDRESS_UNREACHABLE|CONTENT_LENGTH_MISMATCH|INCOMPLETE_CHUNKED_ENCODING)\b/ },
  { family: 'firefox', shape: "Firefox's (Necko) error", re: /\bNS_ERROR_[A-Z_]+|was interrupted while the page was loading|SEC_ERROR_[A-Z_]+/ },
  { family: 'python-httpx', shape: 'httpx / httpcore', re: /\bhttpx\.|\bhttpcore\.|Server disconnected without sending a response|role=SERVER and state=SEND_RESPONSE/ },
  { family: 'aiohttp', shape: 'aiohttp', re: /\baiohttp\b|ServerDisconnectedError|ClientOSError|ClientConnectorError|ClientPayloadError/ },
  { family: 'python-requests', shape: 'requests / urllib3', re: /\brequests\.exceptions\.|\burllib3\b|\('Connection aborted\.', |HTTPS?ConnectionPool\(|Max retries exceeded with url/ },
  { family: 'okhttp', shape: 'OkHttp', re: /\bokhttp3?\b|com\.(?:android|squareup)\.okhttp|unexpected end of stream on|StreamResetException|Connection\{[^}]*proxy=/ },
  { family: 'dotnet', shape: '.NET', re: /\bSystem\.(?:Net|IO)\.[A-Z]\w+|(?<![\w.])HttpRequestException\b|Unable to (?:read|write) data (?:from|to) the transport connection|SocketException \(\d+\)/ },
  { family: 'java', shape: 'a Java class name', re: /\b(?:java|javax|sun|jdk)\.(?:[a-z]\w*\.)+[A-Z]\w*|\bio\.netty\.|\borg\.apache\.(?:catalina|http)\./ },
  { family: 'python', shape: "Python's exception", re: /\b(?:ConnectionResetError|ConnectionRefusedError|ConnectionAbortedError|BrokenPipeError|TimeoutError|RemoteDisconnected|IncompleteRead|socket\.(?:error|timeout)|ssl\.SSL\w+Error|OSError)\b|http\.client\.|\[(?:Errno|WinError) \d+\]|Traceback \(most recent call last\)/ },
  { family: 'curl', shape: 'curl', re: /\bcurl: \(\d+\)|\bcURL error \d+|Recv failure: |Empty reply from server|Failed to connect to .* port \d+|transfer closed with \d+ bytes remaining/i },
  { family: 'go-net-http', shape: "Go's net.OpError / net/http", re: /\b(?:read|write|dial) (?:tcp|tcp4|tcp6|unix) [^\s]+(?:->[^\s]+)?: |\b(?:wsarecv|wsasend|connectex|wsaioctl): |\bhttp: server closed idle connection|readLoopPeekFailLocked|\bnet\/http: |\bx509: |^(?:Get|Post|Put|Delete|Head|Patch) "?https?:\/\/\S+"?: |(?:^|: )(?:unexpected )?EOF$/m },
  { family: 'node', shape: "Node's error", re: /\bE(?:CONNRESET|CONNREFUSED|PIPE|TIMEDOUT)\b|socket hang up|UND_ERR_[A-Z_]+|SocketError: |other side closed|fetch failed|node:internal|_http_client|TCP\.onStreamRead|Client network socket disconnected/ },
];

export function detectFamily(text: string): FamilyGuess | null {
  for (const f of FAMILY_SHAPES) if (f.re.test(text)) return { family: f.family, shape: f.shape };
  return null;
}

/** Other names of the same software family: a driver may report its library (`undici` for Node's
 *  fetch), a client may be named after its tool (`redis-cli`, `mariadb`, `java-httpclient`). */
const FAMILY_ALIASES: Record<string, string> = {
  undici: 'node', 'python-aiohttp': 'aiohttp', httpx: 'python-httpx', requests: 'python-requests', urllib3: 'python-requests',
  'redis-cli': 'redis', ioredis: 'redis', mariadb: 'mysql', 'mariadb-client': 'mysql', libpq: 'psql',
  'java-httpclient': 'java', jdk: 'java', go: 'go-net-http', chrome: 'chromium', 'google-chrome': 'chromium', 'firefox-esr': 'firefox',
};

/** The family a name stands for, for comparing the pasted text's family with a lab run's. */
export function canonicalFamily(family: string): string {
  if (family.startsWith('node-')) return 'node';
  if (family.startsWith('go-') && family !== 'go-net-http') return 'go-net-http';
  return FAMILY_ALIASES[family] ?? family;
}

/** A lab client's family: what its driver reported (RunRecord.software), else from its name. */
export function familyOfClient(client: string, software?: Software): string {
  if (software?.family) return software.family;
  return canonicalFamily(client);
}

// ---------------------------------------------------------------------------------------------
// Conditions

/** What happened to the connection, as error texts word it, independent of the software. */
export type Condition = 'refused' | 'reset' | 'write-reset' | 'closed-before-response' | 'closed-mid-response' | 'closed' | 'tls-closed' | 'timeout';

export const CONDITION_TITLES: Record<Condition, string> = {
  refused: 'connection refused',
  reset: 'connection reset by the peer',
  'write-reset': 'reset or broken pipe on write',
  'closed-before-response': 'closed before any response',
  'closed-mid-response': 'closed in the middle of the response',
  closed: 'connection closed by the peer',
  'tls-closed': 'closed during the TLS handshake',
  timeout: 'timed out',
};

/** Which catalog conditions answer a query's condition, best first (the first that has entries wins). */
export const CONDITION_FALLBACKS: Record<Condition, Condition[]> = {
  refused: ['refused'],
  reset: ['reset', 'write-reset'],
  'write-reset': ['write-reset', 'reset'],
  'closed-before-response': ['closed-before-response', 'closed', 'closed-mid-response'],
  'closed-mid-response': ['closed-mid-response', 'closed', 'closed-before-response'],
  closed: ['closed', 'closed-before-response', 'closed-mid-response'],
  'tls-closed': ['tls-closed', 'closed-before-response'],
  timeout: ['timeout'],
};

/** Ordered: the specific wordings (a Node `socket hang up` carries code ECONNRESET but is a close
 *  without response) before the errno names and numbers. */
const CONDITION_RULES: Array<{ condition: Condition; re: RegExp }> = [
  { condition: 'tls-closed', re: /Client network socket disconnected before secure TLS|Remote host terminated the handshake|SSL peer shut down incorrectly|EOF occurred in violation of protocol|UNEXPECTED_EOF_WHILE_READING|^(?:\S+: )?Connection closed by peer$/m },
  { condition: 'closed-mid-response', re: /IncompleteRead|transfer closed with \d+ bytes remaining|(?:^|Error: )aborted$|\bterminated$|NS_ERROR_NET_INTERRUPT|ERR_CONTENT_LENGTH_MISMATCH|ERR_INCOMPLETE_CHUNKED_ENCODING|prematurely closed connection while reading upstream|ClientPayloadError|Response payload is not completed|ProtocolException: unexpected end of stream$|unexpected EOF$|termination_state":"S[D]"|\bS[D]-- /m },
  { condition: 'closed-before-response', re: /Remote end closed connection without response|Server disconnected|ServerDisconnectedError|socket hang up|unexpected end of stream|Empty reply from server|\b(?:curl: \(|cURL error )52\b|ERR_EMPTY_RESPONSE|prematurely closed connection while reading response header|server closed idle connection|ConnectionClosed when role=SERVER|connection[ _]termination|server closed the connection unexpectedly|MySQL server has gone away|(?:^|: )EOF$|termination_state":"SH"|\bSH-- /m },
  { condition: 'refused', re: /connection refused|ECONNREFUSED|actively refused|CONNECTION_REFUSED|Couldn't connect to server|Failed to connect to|reset reason: connection failure|termination_state":"SC"|\bSC-- /i },
  { condition: 'write-reset', re: /broken pipe|\bEPIPE\b|\bwrite E(?:CONNRESET|CONNABORTED|PIPE)\b|write: connection reset|could not send data to client: Connection reset|Write failed|sendto failed/i },
  { condition: 'timeout', re: /timed out|\bETIMEDOUT\b|\bWSAETIMEDOUT\b|ERR_(?:CONNECTION_)?TIMED_OUT|NS_ERROR_NET_TIMEOUT|termination_state":"[cs][A-Z]"|\b[cs][RHDC]-- /i },
  { condition: 'reset', re: /connection reset|\bECONNRESET\b|\bWSAECONNRESET\b|forcibly closed|ERR_CONNECTION_RESET|NS_ERROR_NET_RESET|远程主机强迫关闭了一个现有的连接|Connection reset$/im },
  { condition: 'closed', re: /ERR_CONNECTION_CLOSED|other side closed|SSL SYSCALL error: EOF detected|Lost connection to (?:MySQL )?server|connection (?:was )?closed|termination_state":"C[A-Z]"|\bC[RQHD]-- /i },
];

const ERRNO_CONDITION: Record<string, Condition | undefined> = {
  ECONNRESET: 'reset', ECONNREFUSED: 'refused', EPIPE: 'write-reset', ETIMEDOUT: 'timeout', ECONNABORTED: 'reset',
};

export interface ConditionHit { condition: Condition; because: string }

/** The condition a text words, and what told (the wording or the errno). */
export function conditionOf(text: string): ConditionHit | null {
  const errnos = errnoNames(text);
  const errnoWord = (c: Condition) => {
    const e = errnos.find((x) => ERRNO_CONDITION[x.name] === c || (c === 'write-reset' && x.name === 'ECONNRESET'));
    return e?.number ? ` and errno ${e.number} (${e.platform} ${e.symbol})` : '';
  };
  for (const r of CONDITION_RULES) {
    const m = r.re.exec(text);
    if (m) return { condition: r.condition, because: `wording "${m[0].trim()}"${errnoWord(r.condition)}` };
  }
  for (const e of errnos) {
    const c = ERRNO_CONDITION[e.name];
    if (c) return { condition: c, because: `errno ${e.number ?? e.symbol}${e.platform ? ` (${e.platform} ${e.symbol})` : ''}` };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Not a TCP event

export interface NotTcp {
  /** What it is instead, in one line. */
  what: string;
  /** What to look at instead. */
  instead: string;
}

const NOT_TCP_RULES: Array<{ re: RegExp; what: string; instead: string }> = [
  {
    re: /reset reason: overflow|upstream_reset_before_response_started\{overflow\}|\bUO\b.*overflow/,
    what: "Envoy's circuit breaker: a connection-pool or pending-request limit of the cluster overflowed and Envoy answered 503 itself, without sending the request",
    instead: "raise or set the cluster's circuit_breakers thresholds (max_pending_requests, max_connections, max_requests; Istio's DestinationRule connectionPool), or find why the upstream is slow enough to fill them",
  },
  {
    re: /no[ _]healthy[ _]upstream/i,
    what: 'Envoy found no healthy host in the cluster (response flag UH) and answered 503 without connecting',
    instead: "the cluster's endpoints and health checks (EDS, DNS, outlier detection); no TCP connection was tried",
  },
  {
    re: /no live upstreams/,
    what: 'nginx had marked every server of the upstream block as failed (max_fails / fail_timeout) and did not connect',
    instead: 'the earlier error.log lines for the same upstream: they hold the TCP failures that marked the servers down',
  },
  {
    re: /CallNotPermittedException|CircuitBreaker '.+' is (?:OPEN|FORCED_OPEN)|Hystrix circuit short-circuited|circuit breaker is open|BrokenCircuitException/i,
    what: 'a client-side circuit breaker refused the call; nothing was sent',
    instead: 'the failures that opened the breaker (its metrics and earlier errors)',
  },
  {
    re: /x509: |certificate (?:verify failed|signed by unknown authority|has expired|is not valid)|CERTIFICATE_VERIFY_FAILED|PKIX path building failed|ERR_CERT_[A-Z_]+|SEC_ERROR_[A-Z_]+|SSL_ERROR_BAD_CERT|The remote certificate is invalid/i,
    what: 'a TLS certificate error: the client refused the server\'s certificate after the TCP connection worked',
    instead: 'the certificate chain, its names and dates, and the client\'s trust store',
  },
  {
    re: /\bunix:\/|\bunix:[^\s"]*\.sock|\b(?:read|write|dial) unix /,
    what: 'a Unix-domain socket: the reset did not cross any TCP connection, so no wire shows it',
    instead: 'the local server process behind the socket (php-fpm, uwsgi, gunicorn): its log and whether it restarted or hit a limit',
  },
  {
    re: /was interrupted while the page was loading/,
    what: 'Firefox closed its own connection (a WebSocket or a load) because the page was unloaded or navigated away — no event from the peer',
    instead: 'nothing on the network; close the WebSocket in a beforeunload / pagehide handler to silence it',
  },
  {
    re: /(?:status code|HTTP\/\d(?:\.\d)?|\bstatus[=:] ?)\s*50[0-4]\b|\b50[0-4] (?:Internal Server Error|Bad Gateway|Service (?:Temporarily )?Unavailable|Gateway Time-?out)\b/,
    what: 'an HTTP 5xx response: the connection worked and a server or proxy answered with an error',
    instead: 'the log of whoever wrote the response (the proxy for 502/503/504, the application for 500)',
  },
];

/** When the text is no TCP event: what it is instead. HTTP 5xx counts only when no TCP condition is named. */
export function notTcpEvent(text: string): NotTcp | null {
  const tcp = conditionOf(text);
  for (const [i, r] of NOT_TCP_RULES.entries()) {
    if (i === NOT_TCP_RULES.length - 1 && tcp) continue;
    if (r.re.test(text)) return { what: r.what, instead: r.instead };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Documented wording synonyms

/**
 * The same socket error in other platforms' words, each with where it is documented. A text that
 * matches `pattern` is also matched as `code`; the answer says the match went through a synonym.
 */
export const WORDING_SYNONYMS: Array<{ pattern: RegExp; code: string; note: string; source: string }> = [
  { pattern: /An existing connection was forcibly closed by the remote host|远程主机强迫关闭了一个现有的连接/, code: 'ECONNRESET', note: 'Windows / .NET "An existing connection was forcibly closed by the remote host" is WSAECONNRESET (10054), ECONNRESET', source: 'learn.microsoft.com, Windows Sockets Error Codes, WSAECONNRESET' },
  { pattern: /No connection could be made because the target machine actively refused it/, code: 'ECONNREFUSED', note: 'Windows "actively refused" is WSAECONNREFUSED (10061), ECONNREFUSED', source: 'learn.microsoft.com, Windows Sockets Error Codes, WSAECONNREFUSED' },
  { pattern: /An established connection was aborted by the software in your host machine/, code: 'ECONNABORTED', note: 'Windows WSAECONNABORTED (10053)', source: 'learn.microsoft.com, Windows Sockets Error Codes, WSAECONNABORTED' },
  { pattern: /did not properly respond after a period of time/, code: 'ETIMEDOUT', note: 'Windows WSAETIMEDOUT (10060)', source: 'learn.microsoft.com, Windows Sockets Error Codes, WSAETIMEDOUT' },
  { pattern: /net::ERR_CONNECTION_RESET|\bERR_CONNECTION_RESET\b/, code: 'ECONNRESET', note: 'Chromium ERR_CONNECTION_RESET (-101) is a TCP RST, ECONNRESET', source: 'chromium net/base/net_error_list.h: "A connection was reset (corresponding to a TCP RST)"' },
  { pattern: /\bERR_CONNECTION_REFUSED\b/, code: 'ECONNREFUSED', note: 'Chromium ERR_CONNECTION_REFUSED (-102) is ECONNREFUSED', source: 'chromium net/base/net_error_list.h' },
  { pattern: /\bERR_CONNECTION_CLOSED\b/, code: 'EOF', note: 'Chromium ERR_CONNECTION_CLOSED (-100) is a TCP FIN', source: 'chromium net/base/net_error_list.h: "A connection was closed (corresponding to a TCP FIN)"' },
  { pattern: /\bERR_EMPTY_RESPONSE\b/, code: 'EOF', note: 'Chromium ERR_EMPTY_RESPONSE (-324): the connection closed without sending any data', source: 'chromium net/base/net_error_list.h' },
  { pattern: /\bNS_ERROR_NET_RESET\b/, code: 'ECONNRESET', note: 'Firefox NS_ERROR_NET_RESET is NSPR\'s PR_CONNECT_RESET_ERROR, ECONNRESET', source: 'mozilla netwerk/base/ErrorList.py and nsprpub ECONNRESET → PR_CONNECT_RESET_ERROR' },
  { pattern: /\bNS_ERROR_CONNECTION_REFUSED\b/, code: 'ECONNREFUSED', note: 'Firefox NS_ERROR_CONNECTION_REFUSED is ECONNREFUSED', source: 'mozilla netwerk/base/ErrorList.py' },
  { pattern: /java\.net\.SocketException: Connection reset$/m, code: 'ECONNRESET', note: 'the JDK words ECONNRESET on read as "Connection reset" (without "by peer")', source: 'OpenJDK NioSocketImpl / SocketChannelImpl.throwConnectionReset' },
];
