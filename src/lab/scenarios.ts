// The lab's scenarios: data plus small functions. Each scenario builds one abnormal ending on a
// real kernel — a process SIGKILLed at a precise point, a socket closed abortively or with unread
// data, a firewall on the router — and says which RST causes (by sender) it constructs, so that
// every RST in every lab capture is checked against the explainer. Adding a scenario = adding an
// entry here; the runner (run.ts) does the rest.

import type { Cause, LinuxRstReason } from '../explain/index.js';
import { parseEndpoint } from '../wire/addr.js';
import type { ReverseProxyKind } from './hops.js';
import { MITMPROXY_SCENARIOS } from './scenarios-mitmproxy.js';
import { REVERSE_PROXY_SCENARIOS } from './scenarios-reverse-proxy.js';
import type { ClientName, DriverConfig, ServerConfig, ServerKind } from './protocol.js';

import type { Role } from '../report/results.js';
import { LARGE_RESPONSE, midResponse } from './scenario-steps.js';
import { MIDDLEBOX_SCENARIOS } from './scenarios-middlebox.js';
import { KEEPALIVE_SCENARIOS } from './scenarios-keepalive.js';
import { DATABASE_SCENARIOS } from './scenarios-databases.js';

/** What a scenario can do while it runs (implemented by run.ts). */
export interface ScenarioActions {
  /** SIGKILL the server or proxy process — the seed's "kill the proxy / server". */
  kill(who: 'server' | 'proxy'): Promise<void>;
  /** SIGKILL the client driver process. */
  killClient(): Promise<void>;
  /** Send a command to the server process (protocol.ts ServerCommand). */
  command(cmd: Record<string, unknown>): void;
  /** Wait for an event of the server (or the proxy) process; events already seen count. */
  serverEvent(event: string, timeoutMs?: number, who?: 'server' | 'proxy'): Promise<Record<string, unknown>>;
  /** Add an iptables rule in a namespace (removed at the end of the run); netns mode only. */
  firewall(host: 'router' | 'server' | 'client', args: string[]): Promise<() => Promise<void>>;
  /** Remove every rule this run added so far. */
  healFirewall(): Promise<void>;
  /** The next sequence number (SND.NXT) of the server towards the client, or of the client towards the server, from the live capture. */
  nextSeq(from: 'server' | 'client'): Promise<number>;
  /** Send one forged segment from the server host (tools/inject-rst.py): `flags` as letters
   *  (`R`, `A`, `PA`, …), with `payload` bytes of zeros; without `flags`, a bare RST. */
  inject(seg: { seq: number; ack?: number; flags?: string; payload?: number }): Promise<void>;
  /** Set a sysctl inside a host's namespace for the rest of the run (restored at its end); netns
   *  mode only — never on the machine's own network stack. */
  sysctl(host: 'server' | 'client' | 'router', key: string, value: string): Promise<void>;
  /** Run a command inside a host's namespace (e.g. `ss -K`). */
  exec(host: 'server' | 'client' | 'router', argv: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  sleep(ms: number): Promise<void>;
  /** Wait for a line the real proxy program writes on stdout (hops.ts: mitmproxy's termlog,
   *  HAProxy's log); null after `timeoutMs` or without such a proxy. */
  proxyLog(re: RegExp, timeoutMs?: number): Promise<string | null>;
  /** Record a lab action on the run's timeline (shown on ladders, on `host`'s line; none: the router). */
  note(action: string, host?: 'client' | 'server' | 'proxy'): void;
  /** Address facts of this run. */
  readonly serverPort: number;
  /** The port of the proxy (the lab's, mitmproxy, or a reverse proxy) when the run has one. */
  readonly proxyPort: number | null;
  readonly clientLocal: string | null;
  readonly hosts: { client: string; server: string; proxy: string };
}

export interface Scenario {
  id: string;
  title: string;
  /** What is done, in one or two sentences. */
  description: string;
  /** Claim ids of docs/seed-claims.md (Q*: the seed's open questions) this scenario is evidence for. */
  claims: string[];
  /** The clients it runs with by default (`rstlab lab`). */
  clients: readonly ClientName[];
  /** With `rstlab lab --all`: every client that can show it (default: `clients`). */
  allClients?: readonly ClientName[];
  /** `netns`: needs the lab's namespaces (firewall rules, sysctls); skipped on loopback. */
  needs: 'netns' | 'any';
  scheme(client: ClientName): DriverConfig['scheme'];
  /** The origin server; null: nothing listens (on a port of the server host run.ts found free). */
  server: (client: ClientName) => (Omit<ServerConfig, 'listen' | 'certFile' | 'keyFile'> | null);
  viaProxy?: boolean;
  /** With viaProxy: the forward proxy is mitmproxy (mitmdump), not the lab's own (hops.ts). */
  forwardProxy?: 'mitmproxy';
  /** A reverse proxy in front of the origin (hops.ts), on the proxy host: the client's target is
   *  the proxy; the capture is on the proxy host's link, which carries both connections. */
  reverseProxy?: ReverseProxyKind;
  /** With reverseProxy haproxy: it checks the origin's health this often (hops.ts). */
  healthCheckMs?: number;
  path?: string;
  /** 6: the run uses the lab's IPv6 addresses (netns only). Default 4. */
  family?: 6;
  /** The scenario kills the client process: no result is expected from it (the server's events tell the story). */
  clientKilled?: boolean;
  /** Hold the client at the seed's breakpoint until `atPause` has run (with `reuse`: at the idle
   *  point between its two requests). */
  pause: boolean;
  /** Two requests through one client object, the second on the pooled connection (protocol.ts). */
  reuse?: DriverConfig['reuse'];
  tcp?: DriverConfig['tcp'];
  /** Database schemes: what the second query is (DriverConfig.db). */
  db?: DriverConfig['db'];
  /** The client's own safety timeout (the lab waits a little longer). */
  clientTimeoutMs?: number;
  /** At the pause point, before the client goes on. */
  atPause?(a: ScenarioActions): Promise<void>;
  /** After the client went on (or at once without pause), while waiting for its result. */
  afterGo?(a: ScenarioActions): Promise<void>;
  /** After the client reported its result, before the capture stops. */
  afterResult?(a: ScenarioActions): Promise<void>;
  /**
   * The RSTs this scenario constructs. `allow`: every RST in the capture must have one of the causes
   * listed for its sender's role (a role not listed must send none). `must`: what has to be seen
   * at least once. `fin`: roles that must send a FIN.
   */
  expect: { allow: Partial<Record<Role, Cause[]>>; must?: Array<[Role, Cause]>; fin?: Role[] };
}

const HTTP_CLIENTS = ['node-http', 'node-fetch', 'okhttp', 'python', 'curl'] as const satisfies readonly ClientName[];
const HTTPS_CLIENTS = ['node-https', 'node-fetch', 'okhttp', 'python', 'curl'] as const satisfies readonly ClientName[];
const H2_CLIENTS = ['node-http2', 'okhttp'] as const satisfies readonly ClientName[];
/** The Python HTTP libraries (HTTP/1.1 over TCP or TLS), for `rstlab lab --all`. */
const PY_LIBRARIES = ['python-requests', 'python-httpx', 'python-aiohttp'] as const satisfies readonly ClientName[];
/** A scenario's `allClients`: its default clients and the Python libraries. */
const withPython = (clients: readonly ClientName[]): readonly ClientName[] => [...clients, ...PY_LIBRARIES.filter((c) => !clients.includes(c))];
/** The browsers (no pause point: only scenarios that run straight through) by what they speak here. */
const BROWSERS: Record<'http' | 'https' | 'h2', readonly ClientName[]> = { http: ['chromium', 'firefox'], https: ['chromium', 'firefox'], h2: ['chromium', 'firefox'] };

/** HTTP/1.1 over TLS for https clients, HTTP/2 for the h2 ones, plain HTTP otherwise. */
function schemeOf(kind: 'http' | 'https' | 'h2') {
  return (_c: ClientName): DriverConfig['scheme'] => kind;
}

function serverKind(kind: ServerKind, extra: Partial<ServerConfig> = {}) {
  return () => ({ kind, ...extra });
}

/** node-net speaks raw TCP to a `tcp` server; the HTTP clients speak HTTP/1.1 to an `http` one
 *  (or, with `forBoth`, to the same raw server, which then never answers in HTTP). */
function rawOrHttp(tcp?: ServerConfig['tcp'], forBoth = false): Pick<Scenario, 'scheme' | 'server'> {
  const raw = { kind: 'tcp' as const, ...(tcp ? { tcp } : {}) };
  return {
    scheme: (c) => (c === 'node-net' ? 'tcp' : 'http'),
    server: (c) => (c === 'node-net' || forBoth ? raw : { kind: 'http' }),
  };
}

const settle = (a: ScenarioActions) => a.sleep(250);

/** Destroy `host`'s socket of this run's connection (`ss -K`) with the RST that makes dropped
 *  inside that host: its peer is not told (state lost silently, as after a crash and reboot). */
async function destroySilently(a: ScenarioActions, host: 'server' | 'client'): Promise<void> {
  const port = String(a.serverPort);
  const [ours, theirs] = host === 'server' ? ['--sport', 'sport'] : ['--dport', 'dport'];
  const unblock = await a.firewall(host, ['-A', 'OUTPUT', '-p', 'tcp', ours, port, '--tcp-flags', 'RST', 'RST', '-j', 'DROP']);
  a.note(`${host} drops its own RSTs`, host);
  const r = await a.exec(host, ['ss', '-K', '-t', 'state', 'established', theirs, '=', `:${port}`]);
  if (r.code !== 0) throw new Error(`ss -K failed: ${r.stderr.trim()}`);
  a.note(`${host} socket destroyed (ss -K)${host === 'client' ? ': the server\'s side is half-open' : ''}`, host);
  await a.sleep(100);
  await unblock();
}

/** The router drops every segment of this run's connection, both ways: the peer becomes unreachable. */
async function cutThePath(a: ScenarioActions): Promise<void> {
  const port = String(a.serverPort);
  await a.firewall('router', ['-I', 'FORWARD', '-p', 'tcp', '--dport', port, '-j', 'DROP']);
  await a.firewall('router', ['-I', 'FORWARD', '-p', 'tcp', '--sport', port, '-j', 'DROP']);
  a.note('router drops the connection');
}

export const SCENARIOS: Scenario[] = [
  {
    id: 'refused',
    title: 'Connect to a port with no listener',
    description: 'The client connects to a port of the server host where nothing listens (the seed used port 442).',
    claims: ['C1.1', 'C1.2'],
    clients: ['node-net', 'node-http', 'node-https', 'node-http2', 'node-fetch', 'okhttp', 'python', 'python-requests', 'curl', 'go', 'chromium'],
    allClients: withPython(['node-net', 'node-http', 'node-https', 'node-http2', 'node-fetch', 'okhttp', 'python', 'curl', 'go', 'java-httpclient', 'chromium', 'firefox']),
    needs: 'any',
    scheme: (c) => (c === 'node-net' ? 'tcp' : c === 'node-https' ? 'https' : c === 'node-http2' ? 'h2' : 'http'),
    server: () => null,
    pause: false,
    tcp: { send: 'hello\n' },
    expect: { allow: { server: ['refused'] }, must: [['server', 'refused']] },
  },
  // --- C2a: the server or proxy is killed right after the connection is set up -------------------
  ...(['http', 'https', 'h2'] as const).map((kind): Scenario => ({
    id: `kill-server-before-request-${kind}`,
    title: `Server killed after connect, before the request (${kind === 'h2' ? 'HTTP/2' : kind.toUpperCase()}, direct)`,
    description: 'The client is held right after the TCP connection is set up (before the ClientHello for TLS); the server process is SIGKILLed; then the client sends.',
    claims: kind === 'http' ? ['C2.0', 'C2a.5', 'C2a.6'] : kind === 'https' ? ['C2.0', 'C2a.3', 'C2a.6'] : ['C2.0', 'C2a.6'],
    clients: kind === 'http' ? HTTP_CLIENTS : kind === 'https' ? HTTPS_CLIENTS : H2_CLIENTS,
    // java-httpclient cannot hold at the pause point.
    allClients: kind !== 'h2' ? [...withPython(kind === 'http' ? HTTP_CLIENTS : HTTPS_CLIENTS), 'go'] : [...H2_CLIENTS, 'go'],
    needs: 'any',
    scheme: schemeOf(kind),
    server: serverKind(kind),
    pause: true,
    // The server must hold the connection (accepted) when it dies, as in the seed; killed before
    // accept() the kernel resets it from the listen queue instead (see kill-server-before-accept).
    async atPause(a) { await a.serverEvent('accepted'); await a.kill('server'); await settle(a); },
    expect: { allow: { server: ['reset-after-close', 'no-connection'] }, fin: ['server'] },
  })),
  ...(['http', 'https'] as const).map((kind): Scenario => ({
    id: `kill-proxy-before-request-${kind}`,
    title: `Proxy killed after the ${kind === 'https' ? 'CONNECT tunnel' : 'connection'} is up (${kind.toUpperCase()} through a proxy)`,
    description: 'As the seed: the client uses an HTTP proxy; it is held after connecting (after the CONNECT tunnel for HTTPS); the proxy process is SIGKILLed; then the client sends.',
    claims: kind === 'https' ? ['C2a.1', 'C2a.2', 'C2a.6'] : ['C2a.4', 'C2a.6'],
    clients: kind === 'http' ? ['node-http', 'okhttp', 'python', 'curl'] : ['node-https', 'node-fetch', 'okhttp', 'python', 'curl'],
    allClients: [...withPython(kind === 'http' ? ['node-http', 'okhttp', 'python', 'curl'] : ['node-https', 'node-fetch', 'okhttp', 'python', 'curl']), 'go'],
    needs: 'any',
    scheme: schemeOf(kind),
    server: serverKind(kind),
    viaProxy: true,
    pause: true,
    async atPause(a) { await a.serverEvent('accepted', 5000, 'proxy'); await a.kill('proxy'); await settle(a); },
    expect: { allow: { proxy: ['reset-after-close', 'no-connection'] }, fin: ['proxy'] },
  })),
  {
    id: 'kill-server-before-accept',
    title: 'Server killed while the connection waits in its accept queue',
    description: 'The server listens but has not called accept() yet; the handshake completes in the kernel; the server process is SIGKILLed. Closing a listener resets every connection still queued on it.',
    claims: ['C2.0'],
    clients: ['node-net', 'node-http', 'okhttp'],
    allClients: withPython(['node-net', 'node-http', 'okhttp']),
    needs: 'any',
    ...rawOrHttp({ noAccept: true }, true),
    pause: true,
    tcp: { send: 'GET / HTTP/1.1\r\nHost: lab\r\n\r\n' },
    async atPause(a) { await a.kill('server'); await settle(a); },
    // inet_csk_listen_stop → tcp_disconnect → tcp_send_active_reset for each queued child.
    expect: { allow: { server: ['abort', 'no-connection'] }, must: [['server', 'abort']] },
  },
  // --- C2b: the server is killed while the client receives a large response ----------------------
  ...(['http', 'https', 'h2'] as const).map((kind): Scenario => ({
    id: `kill-server-mid-response-${kind}`,
    title: `Server killed mid-response (${kind === 'h2' ? 'HTTP/2' : kind === 'https' ? 'HTTPS' : 'HTTP/1.1'})`,
    description: 'The client downloads a large file; the server writes the headers and the first 256 KiB, then is SIGKILLed.',
    claims: kind === 'http' ? ['C2b.3', 'C2b.4'] : kind === 'https' ? ['C2b.1', 'C2b.4'] : ['C2b.2', 'C2b.4'],
    clients: kind === 'http' ? [...HTTP_CLIENTS, 'python-requests', 'go', 'chromium'] : kind === 'https' ? HTTPS_CLIENTS : H2_CLIENTS,
    allClients: kind !== 'h2' ? [...withPython(kind === 'http' ? HTTP_CLIENTS : HTTPS_CLIENTS), 'go', 'java-httpclient', ...BROWSERS[kind]] : [...H2_CLIENTS, 'go', 'java-httpclient', ...BROWSERS[kind]],
    needs: 'any',
    scheme: schemeOf(kind),
    server: serverKind(kind, LARGE_RESPONSE),
    path: '/large',
    pause: false,
    async afterGo(a) {
      await midResponse(a);
      await a.kill('server');
    },
    afterResult: settle,
    // Killed with an empty receive queue → FIN; whatever the client sends afterwards hits the orphan.
    expect: { allow: { server: ['reset-after-close', 'no-connection', 'abort'] } },
  })),
  ...(['http', 'https'] as const).map((kind): Scenario => ({
    id: `server-aborts-mid-response-${kind}`,
    title: `Server resets mid-response (${kind === 'https' ? 'HTTPS' : 'HTTP/1.1'})`,
    description: 'The client downloads a large file; the server writes the headers and the first 256 KiB, then closes the connection abortively (SO_LINGER {1,0}, as a server does that gives up on a slow client or whose connection handler crashes): a RST in the middle of the body, where a killed server sends a FIN.',
    claims: [],
    clients: kind === 'http' ? ['node-http', 'okhttp', 'curl', 'go', 'chromium'] : ['node-https', 'okhttp'],
    allClients: [...withPython(kind === 'http' ? HTTP_CLIENTS : HTTPS_CLIENTS), 'go', 'java-httpclient', ...BROWSERS[kind]],
    needs: 'any',
    scheme: schemeOf(kind),
    server: serverKind(kind, LARGE_RESPONSE),
    path: '/large',
    pause: false,
    async afterGo(a) {
      await midResponse(a);
      a.command({ cmd: 'abort' });
      a.note('server: close with SO_LINGER {1,0}', 'server');
    },
    afterResult: settle,
    // tcp_close with SO_LINGER {1,0} → tcp_disconnect → RST at SND.NXT (abort). What the client
    // sends afterwards (a TLS close_notify, a FIN) finds no socket: a stateless RST (no-connection).
    expect: { allow: { server: ['abort', 'no-connection'] }, must: [['server', 'abort']] },
  })),
  // --- C2c: the client closes while the server is still sending -----------------------------------
  {
    id: 'client-closes-early',
    title: 'Client closes after reading part of the data; the server keeps sending',
    description: 'The server sends 4 KiB; the client reads them all and closes (FIN); then the server sends more, which reaches a closed socket.',
    claims: ['C2c.1'],
    clients: ['node-net'],
    needs: 'any',
    scheme: () => 'tcp',
    server: serverKind('tcp', { tcp: { sendBytes: 4096, keepOpenOnFin: true } }),
    pause: false,
    tcp: { closeAfterBytes: 4096 },
    async afterResult(a) {
      await a.sleep(100);
      a.command({ cmd: 'send', bytes: 65536 });
      await settle(a);
    },
    expect: { allow: { client: ['reset-after-close', 'no-connection'] }, must: [['client', 'reset-after-close']], fin: ['client'] },
  },
  {
    id: 'client-closes-unread',
    title: 'Client closes with unread data in its receive queue',
    description: 'The server sends 256 KiB; the client stops reading after 4 KiB and closes with the rest still queued: Linux sends RST instead of FIN.',
    claims: ['C2c.1', 'Q1'],
    clients: ['node-net'],
    needs: 'any',
    scheme: () => 'tcp',
    server: serverKind('tcp', { tcp: { sendBytes: 256 << 10 } }),
    pause: false,
    tcp: { closeAfterBytes: 4096, leaveUnread: true },
    afterResult: settle,
    expect: { allow: { client: ['abort', 'no-connection'] }, must: [['client', 'abort']] },
  },
  {
    id: 'client-killed-while-receiving',
    title: 'Client process killed while the server is sending',
    description: 'The server streams data; the client reads slowly and its process is SIGKILLed with data still queued. What does the sender see?',
    claims: ['Q2'],
    clients: ['node-net'],
    needs: 'any',
    scheme: () => 'tcp',
    server: serverKind('tcp', { tcp: { forever: true, sendBytes: 32 << 20 } }),
    clientKilled: true,
    pause: true,
    tcp: { closeAfterBytes: 1 << 30, leaveUnread: true },
    async atPause(a) { await a.sleep(150); await a.killClient(); await a.serverEvent('closed', 3000).catch(() => undefined); },
    expect: { allow: { client: ['abort', 'no-connection'] }, must: [['client', 'abort']] },
  },
  // --- C3: a segment for a connection the receiver does not have -----------------------------------
  {
    id: 'state-lost',
    title: 'Server loses the connection silently, then the client sends',
    description: 'The server\'s socket is destroyed with its RST dropped inside the server host (as after a crash and reboot or a lost NAT entry); then the client sends data.',
    claims: ['C3.1'],
    clients: ['node-net', 'node-http', 'okhttp'],
    allClients: withPython(['node-net', 'node-http', 'okhttp']),
    needs: 'netns',
    ...rawOrHttp(),
    pause: true,
    tcp: { send: 'GET / HTTP/1.1\r\nHost: lab\r\n\r\n' },
    atPause: (a) => destroySilently(a, 'server'),
    expect: { allow: { server: ['no-connection'] }, must: [['server', 'no-connection']] },
  },
  // --- C4: the peer stops answering ----------------------------------------------------------------
  {
    id: 'retransmission-timeout',
    title: 'Peer unreachable while the client sends: retransmissions exhausted',
    description: 'After the connection is set up the router drops everything; the client sends and retransmits until tcp_retries2 (3 in the client namespace) runs out. Then the path heals and the server sends.',
    claims: ['C4.1'],
    clients: ['node-net', 'okhttp'],
    needs: 'netns',
    ...rawOrHttp(),
    pause: true,
    tcp: { send: 'hello\n' },
    clientTimeoutMs: 20000,
    atPause: cutThePath,
    async afterResult(a) {
      await a.healFirewall();
      a.note('router forwards again');
      a.command({ cmd: 'send', bytes: 100 });
      await settle(a);
    },
    // Linux sends no RST when retransmissions run out; when the server later sends, the client's
    // kernel has no socket any more.
    expect: { allow: { client: ['no-connection'] }, must: [['client', 'no-connection']] },
  },
  {
    id: 'keepalive-timeout',
    title: 'Idle connection with keepalive; the peer becomes unreachable',
    description: 'The client enables keepalive (1 s idle; the client namespace probes every second, 3 times); the router drops everything; the probes go unanswered.',
    claims: ['C4.1'],
    clients: ['node-net'],
    needs: 'netns',
    scheme: () => 'tcp',
    server: serverKind('tcp'),
    pause: true,
    tcp: { keepAliveMs: 1000 },
    clientTimeoutMs: 20000,
    atPause: cutThePath,
    expect: { allow: { client: ['timeout'] }, must: [['client', 'timeout']] },
  },
  // --- C5: abortive close on purpose ---------------------------------------------------------------
  {
    id: 'linger-zero',
    title: 'Server closes with SO_LINGER {1,0} (abortive close)',
    description: 'The server closes its connection abortively (socket.resetAndDestroy(), i.e. SO_LINGER on with timeout 0) instead of with FIN.',
    claims: ['C5.1'],
    clients: ['node-net', 'node-http', 'okhttp'],
    allClients: withPython(['node-net', 'node-http', 'okhttp']),
    needs: 'any',
    ...rawOrHttp(undefined, true),
    pause: true,
    async atPause(a) { a.command({ cmd: 'abort' }); a.note('server: close with SO_LINGER {1,0}', 'server'); await settle(a); },
    expect: { allow: { server: ['abort'] }, must: [['server', 'abort']] },
  },
  {
    id: 'unread-data-kill',
    title: 'Server killed with the request still unread',
    description: 'The server never reads; the client sends its request; the server process is SIGKILLed with the request in its receive queue: RST instead of FIN.',
    claims: ['Q1', 'C2.0'],
    clients: ['node-net', 'node-http', 'okhttp'],
    allClients: withPython(['node-net', 'node-http', 'okhttp']),
    needs: 'any',
    ...rawOrHttp({ noRead: true }, true),
    pause: true,
    tcp: { send: 'GET / HTTP/1.1\r\nHost: lab\r\n\r\n' },
    async afterGo(a) { await a.sleep(300); await a.kill('server'); },
    expect: { allow: { server: ['abort'] }, must: [['server', 'abort']] },
  },
  // --- The kernel's other reasons (issue 17: every sk_rst_reason the lab can reach) ---------------------
  {
    id: 'socket-killed',
    title: 'The server\'s socket is destroyed from outside (ss -K)',
    description: 'While the connection is idle, `ss -K` destroys the server\'s established socket (tcp_abort): the kernel sends a RST from a live socket, then the client sends.',
    claims: [],
    clients: ['node-net'],
    needs: 'netns',
    scheme: () => 'tcp',
    server: serverKind('tcp'),
    pause: true,
    tcp: { send: 'hello\n' },
    async atPause(a) {
      const port = String(a.serverPort);
      const r = await a.exec('server', ['ss', '-K', '-t', 'state', 'established', 'sport', '=', `:${port}`]);
      if (r.code !== 0) throw new Error(`ss -K failed: ${r.stderr.trim()}`);
      a.note('server socket destroyed (ss -K)', 'server');
      await settle(a);
    },
    // tcp_abort → tcp_send_active_reset(SK_RST_REASON_TCP_STATE), state ESTABLISHED in the event.
    expect: { allow: { server: ['abort', 'no-connection'] }, must: [['server', 'abort']] },
  },
  {
    id: 'fin-wait2-expired',
    title: 'Data after the closer\'s FIN-WAIT-2 timeout',
    description: 'The client closes (FIN, acknowledged); its orphaned socket waits in FIN-WAIT-2 for tcp_fin_timeout, 1 s in the client\'s namespace; 2 s later the server sends.',
    claims: [],
    clients: ['node-net'],
    needs: 'netns',
    scheme: () => 'tcp',
    server: serverKind('tcp', { tcp: { sendBytes: 4096, keepOpenOnFin: true } }),
    pause: true,
    tcp: { closeAfterBytes: 4096 },
    async atPause(a) { await a.sysctl('client', 'net.ipv4.tcp_fin_timeout', '1'); },
    async afterResult(a) {
      await a.sleep(2000);
      a.command({ cmd: 'send', bytes: 1000 });
      await settle(a);
    },
    // The orphan is gone (tcp_fin_timeout): the data finds no socket → NO_SOCKET, not TIMEWAIT.
    expect: { allow: { client: ['reset-after-close', 'no-connection'] }, must: [['client', 'reset-after-close']], fin: ['client'] },
  },
  {
    id: 'accept-queue-overflow',
    title: 'Accept queue full, with tcp_abort_on_overflow',
    description: 'The server listens with a backlog of 8 and never accepts; its queue is filled but for one place; the router holds back the client\'s handshake ACKs while 3 more connections start; once it lets them through (the server repeats its SYN-ACKs), one takes the last place and the others complete on a full queue, with tcp_abort_on_overflow=1 in the server\'s namespace.',
    claims: [],
    clients: ['node-net'],
    needs: 'netns',
    scheme: () => 'tcp',
    server: () => ({ kind: 'tcp', tcp: { noAccept: true, backlog: 8 } }),
    pause: true,
    async atPause(a) {
      await a.sysctl('server', 'net.ipv4.tcp_abort_on_overflow', '1');
      const target = `(${JSON.stringify(a.hosts.server)},${a.serverPort})`;
      // The client's connection and 7 more fill 8 of the queue's 9 places (closed, they stay queued).
      const fill = await a.exec('client', ['python3', '-c', `import socket,time\nss=[socket.create_connection(${target}) for i in range(7)]\ntime.sleep(0.2)`]);
      if (fill.code !== 0) throw new Error(`filling the accept queue failed: ${fill.stderr.trim()}`);
      a.note('7 more connections queued', 'client');
      const heal = await a.firewall('router', ['-I', 'FORWARD', '-p', 'tcp', '--dport', String(a.serverPort), '--tcp-flags', 'SYN,ACK,FIN,RST,PSH', 'ACK', '-j', 'DROP']);
      a.note('router drops the client\'s bare ACKs');
      const family = a.hosts.server.includes(':') ? 'socket.AF_INET6' : 'socket.AF_INET';
      const burst = a.exec('client', ['python3', '-c', `import socket,time\nss=[]\nfor i in range(3):\n s=socket.socket(${family}); s.setblocking(False); s.connect_ex(${target}); ss.append(s)\ntime.sleep(3)`]);
      await a.sleep(400);
      await heal();
      a.note('router forwards again');
      const r = await burst;
      if (r.code !== 0) throw new Error(`connection burst failed: ${r.stderr.trim()}`);
    },
    // tcp_check_req, listen_overflow with tcp_abort_on_overflow: the handshake's last ACK on a full
    // queue is reset (SK_RST_REASON_INVALID_SYN, from the listener: state TCP_LISTEN, no destination).
    expect: { allow: { server: ['no-connection', 'abort'], client: ['abort', 'no-connection', 'reset-after-close'] }, must: [['server', 'no-connection']] },
  },
  {
    id: 'linger2-close',
    title: 'close() in FIN-WAIT-2 with TCP_LINGER2 = -1',
    description: 'The server sets TCP_LINGER2 to -1, shuts its sending side down (FIN, acknowledged: FIN-WAIT-2), then closes the socket: Linux resets instead of waiting for the peer\'s FIN.',
    claims: [],
    clients: ['node-net'],
    needs: 'any',
    scheme: () => 'tcp',
    server: () => ({ kind: 'tcp', tcp: { actor: [{ op: 'linger2' }, { op: 'shutdown', how: 'wr' }, { op: 'sleep', ms: 300 }, { op: 'close' }, { op: 'hold' }] } }),
    pause: true,
    tcp: { send: 'hello\n' },
    async atPause(a) {
      await a.serverEvent('accepted');
      a.note('server: TCP_LINGER2 -1, shutdown(SHUT_WR), close()', 'server');
      await a.sleep(600);
    },
    // __tcp_close, FIN_WAIT2 with linger2 < 0 → tcp_send_active_reset(SK_RST_REASON_TCP_ABORT_ON_LINGER).
    expect: { allow: { server: ['abort'] }, must: [['server', 'abort']], fin: ['server'] },
  },
  {
    id: 'abort-with-unsent-data',
    title: 'Abortive close in LAST-ACK with data still unsent',
    description: 'The client sends FIN and stops reading; the server fills the client\'s receive window and its own send buffer, shuts down (its FIN waits behind the unsent data: LAST-ACK), then closes with SO_LINGER {1,0}.',
    claims: [],
    clients: ['node-net'],
    needs: 'any',
    scheme: () => 'tcp',
    server: () => ({ kind: 'tcp', tcp: { actor: [{ op: 'sleep', ms: 300 }, { op: 'send-some', bytes: 8 << 20 }, { op: 'sleep', ms: 200 }, { op: 'shutdown', how: 'wr' }, { op: 'linger0' }, { op: 'close' }, { op: 'hold' }] } }),
    pause: false,
    tcp: { halfCloseReadAfterMs: 1500 },
    // tcp_disconnect: snd_nxt != write_seq in LAST-ACK → tcp_send_active_reset(SK_RST_REASON_TCP_DISCONNECT_WITH_DATA).
    expect: { allow: { server: ['abort'] }, must: [['server', 'abort']], fin: ['client'] },
  },
  {
    id: 'close-with-unsent-data',
    title: 'Server closes with data still unsent; then the client sends',
    description: 'The client does not read; the server fills the client\'s receive window and its own send buffer, then closes: its FIN waits behind the unsent data (FIN-WAIT-1, orphaned). The client\'s request then reaches the closed socket.',
    claims: ['C2c.1'],
    clients: ['node-net'],
    needs: 'any',
    scheme: () => 'tcp',
    server: () => ({ kind: 'tcp', tcp: { actor: [{ op: 'send-some', bytes: 8 << 20 }, { op: 'sleep', ms: 200 }, { op: 'close' }, { op: 'hold' }] } }),
    pause: true,
    tcp: { send: 'GET / HTTP/1.1\r\nHost: lab\r\n\r\n' },
    async atPause(a) {
      await a.serverEvent('accepted');
      await a.sleep(600);
      a.note('server: filled the window, then close()', 'server');
    },
    // tcp_rcv_state_process, FIN_WAIT1 with RCV_SHUTDOWN and new data: "RFC 1122 says we MUST send
    // a reset" (SK_RST_REASON_TCP_ABORT_ON_DATA); the FIN never reached the wire.
    expect: { allow: { server: ['no-connection', 'reset-after-close'] } },
  },
  {
    id: 'user-timeout',
    title: 'TCP_USER_TIMEOUT expires while the server sends to an unreachable peer',
    description: 'The server sets TCP_USER_TIMEOUT to 1 s; the router drops everything; the server sends and retransmits until the timeout ends the connection (ETIMEDOUT, no RST); the path heals and the client sends.',
    claims: ['C4.1'],
    clients: ['node-net'],
    needs: 'netns',
    scheme: () => 'tcp',
    server: () => ({ kind: 'tcp', tcp: { actor: [{ op: 'user-timeout', ms: 1000 }, { op: 'sleep', ms: 500 }, { op: 'send', bytes: 1000 }, { op: 'sleep', ms: 2500 }, { op: 'send', bytes: 1 }, { op: 'hold' }] } }),
    pause: true,
    tcp: { send: 'hello\n' },
    async atPause(a) {
      await cutThePath(a);
      await a.serverEvent('error', 8000);
      await a.healFirewall();
      a.note('router forwards again');
    },
    // tcp_write_timeout → tcp_write_err: ETIMEDOUT and no RST; the client's data then finds no socket.
    expect: { allow: { server: ['no-connection'] }, must: [['server', 'no-connection']] },
  },
  {
    id: 'half-open-reconnect',
    title: 'The client loses its connection silently and reconnects from the same port',
    description: 'As after a reboot: the client\'s socket is destroyed with its RST dropped inside the client host, so the server\'s side stays open (half-open); a new connection from the same address and port sends a SYN; the server answers with a challenge ACK (RFC 5961 §4); the client\'s kernel, in SYN-SENT, resets it, and the SYN\'s retransmission connects.',
    claims: [],
    clients: ['node-net'],
    needs: 'netns',
    scheme: () => 'tcp',
    server: serverKind('tcp'),
    pause: true,
    tcp: { send: 'hello\n' },
    async atPause(a) {
      const port = String(a.serverPort);
      await destroySilently(a, 'client');
      const local = parseEndpoint(a.clientLocal ?? '');
      const family = local.addr.includes(':') ? 'socket.AF_INET6' : 'socket.AF_INET';
      a.note('new connection from the same port', 'client');
      const again = await a.exec('client', ['python3', '-c', [
        'import socket', `s=socket.socket(${family})`, 's.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)',
        `s.bind((${JSON.stringify(local.addr)},${local.port}))`, 's.settimeout(5)', `s.connect((${JSON.stringify(a.hosts.server)},${port}))`, 's.close()',
      ].join('\n')]);
      if (again.code !== 0) throw new Error(`reconnecting from the same port failed: ${again.stderr.trim()}`);
      a.note('the SYN\'s retransmission connected', 'client');
      await a.sleep(100);
    },
    // tcp_validate_incoming: SYN on ESTABLISHED → challenge ACK; tcp_rcv_synsent_state_process: an
    // ACK that does not ack our SYN → RST seq = SEG.ACK (SK_RST_REASON_TCP_INVALID_ACK_SEQUENCE),
    // which is the server's RCV.NXT: its half-open connection ends.
    expect: { allow: { client: ['no-connection'] }, must: [['client', 'no-connection']] },
  },
  {
    id: 'time-wait-segment',
    title: 'A segment for a connection in TIME-WAIT',
    description: 'The client closes first and the server answers with its FIN: the client\'s socket waits in TIME-WAIT. A forged data segment from the server\'s address arrives: TIME-WAIT answers with an ACK, not a RST. That ACK reaches the server, which closed second and kept no socket: its listener resets it, and the RST ends the TIME-WAIT early (tcp_rfc1337 = 0).',
    claims: [],
    clients: ['node-net'],
    needs: 'netns',
    scheme: () => 'tcp',
    server: serverKind('tcp', { tcp: { sendBytes: 64 } }),
    pause: false,
    tcp: { closeAfterBytes: 64 },
    async afterResult(a) {
      await a.sleep(200);
      const [seq, ack] = [await a.nextSeq('server'), await a.nextSeq('client')];
      await a.inject({ seq, ack, flags: 'PA', payload: 100 });
      await settle(a);
    },
    // tcp_timewait_state_process, TCP_TIME_WAIT substate: any segment but a RST or a new SYN gets
    // TCP_TW_ACK (RFC 9293 §3.10.7.4); only the FIN-WAIT-2 substate resets (TCP_TIMEWAIT_SOCKET).
    // The client sends no RST; the server's listener answers the ACK (tcp_v4_do_rcv: TCP_FLAGS).
    expect: { allow: { server: ['no-connection'] }, must: [['server', 'no-connection']], fin: ['client', 'server'] },
  },
  // --- RFC 5961: a reset that must be ignored -----------------------------------------------------------
  ...([['blind-reset', 1000, 'inside the window: the client\'s kernel must answer with a challenge ACK'], ['blind-reset-outside', 0x40000000, 'outside the window: the client\'s kernel must drop it silently']] as const).map(([id, offset, what]): Scenario => ({
    id,
    title: `A forged RST with a wrong sequence number, ${offset === 1000 ? 'in' : 'outside'} the window (blind reset attack)`,
    description: `While the client is idle, a RST claiming to come from the server arrives with a sequence number ${offset} past the expected one, ${what} (RFC 5961 §3.2) and keep the connection. Then the request goes through.`,
    claims: [],
    clients: ['node-net', 'node-http', 'okhttp'],
    needs: 'netns',
    ...rawOrHttp({ sendBytes: 64 }),
    pause: true,
    tcp: { send: 'ping\n', closeAfterBytes: 64 },
    async atPause(a) {
      const next = await a.nextSeq('server');
      await a.inject({ seq: (next + offset) >>> 0 });
      a.note(`forged RST, seq SND.NXT+${offset}`, 'server');
      await a.sleep(100);
    },
    expect: { allow: { server: ['out-of-window'] }, must: [['server', 'out-of-window']] },
  })),
  // --- A middlebox forges the reset -----------------------------------------------------------------
  {
    id: 'firewall-reset',
    title: 'A firewall on the router rejects the connection with a forged RST',
    description: 'After the connection is set up the router inserts `REJECT --reject-with tcp-reset` for it; the client sends; the router answers in the server\'s name.',
    claims: ['X1'],
    clients: ['node-net', 'node-http', 'okhttp'],
    allClients: withPython(['node-net', 'node-http', 'okhttp']),
    needs: 'netns',
    ...rawOrHttp(),
    pause: true,
    tcp: { send: 'GET / HTTP/1.1\r\nHost: lab\r\n\r\n' },
    async atPause(a) {
      await a.firewall('router', ['-I', 'FORWARD', '-p', 'tcp', '--dport', String(a.serverPort), '-j', 'REJECT', '--reject-with', 'tcp-reset']);
      a.note('router: REJECT --reject-with tcp-reset');
    },
    expect: { allow: { server: ['middlebox'] }, must: [['server', 'middlebox']] },
  },
  ...MIDDLEBOX_SCENARIOS,
  ...KEEPALIVE_SCENARIOS,
  ...DATABASE_SCENARIOS,
  ...MITMPROXY_SCENARIOS,
  ...REVERSE_PROXY_SCENARIOS,
];

/** The scenarios that reach one of the kernel's reasons, run once more over IPv6 (node-net). */
const IPV6_TWINS = [
  'refused', 'kill-server-before-accept', 'client-closes-early', 'client-closes-unread', 'state-lost', 'keepalive-timeout',
  'linger-zero', 'socket-killed', 'fin-wait2-expired', 'accept-queue-overflow', 'linger2-close', 'abort-with-unsent-data', 'close-with-unsent-data', 'user-timeout',
  'half-open-reconnect', 'time-wait-segment', 'blind-reset', 'firewall-reset',
];

function ipv6Twin(s: Scenario): Scenario {
  return { ...s, id: `${s.id}-ipv6`, title: `${s.title} (IPv6)`, claims: [], clients: ['node-net'], allClients: ['node-net'], needs: 'netns', family: 6 };
}

SCENARIOS.push(...IPV6_TWINS.map((id) => ipv6Twin(SCENARIOS.find((s) => s.id === id)!)));

/** The reasons of `enum sk_rst_reason` no scenario constructs, and why (shown with the lab's
 *  cause × reason table; every other reason is expected from at least one scenario). */
export const REASONS_NOT_CONSTRUCTED: Partial<Record<LinuxRstReason, string>> = {
  NOT_SPECIFIED: 'a placeholder: no TCP path of Linux 6.18 logs it',
  ERROR: 'a placeholder for unexpected errors: no TCP path of Linux 6.18 logs it',
  TCP_ABORT_ON_MEMORY: 'needs too many orphans or TCP memory pressure: tcp_max_orphans and tcp_mem are global sysctls, not per namespace, and the lab never changes the machine\'s own',
  TCP_RFC7323_PAWS: 'a SYN-SENT socket getting a SYN-ACK whose timestamp echo is not one it sent (tcp_rcv_synsent_state_process): needs a forged SYN-ACK with a timestamp option',
  TCP_TOO_OLD_ACK: 'a full socket in SYN-RECEIVED (a TCP Fast Open server\'s child, or after a simultaneous open) getting an ACK older than the window (tcp_ack)',
  TCP_ACK_UNSENT_DATA: 'a full socket in SYN-RECEIVED (TCP Fast Open, or a simultaneous open) getting an ACK for data never sent (tcp_ack)',
  TCP_OLD_ACK: 'a full socket in SYN-RECEIVED (TCP Fast Open, or a simultaneous open) getting an old ACK (tcp_rcv_state_process)',
};

export function scenarioById(id: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.id === id);
}
