// nginx and HAProxy as reverse proxies in front of the lab's origin (hops.ts): the origin is
// missing, resets or dies mid-response, or the proxy itself dies. The capture is on the proxy
// host's link, so both connections are in it: client↔proxy and proxy↔origin; RSTs are checked by
// the sender's role (`proxy` for both of the proxy's sockets). Each run also keeps what the proxy
// wrote (RunRecord.hops): nginx's error and access log lines, HAProxy's log line and its
// termination state.

import type { ReverseProxyKind } from './hops.js';
import type { ClientName } from './protocol.js';
import type { Scenario } from './scenarios.js';
import { LARGE_RESPONSE, midResponse } from './scenario-steps.js';

const CLIENTS = ['node-http', 'curl', 'okhttp'] as const satisfies readonly ClientName[];
const ALL_CLIENTS = [...CLIENTS, 'node-fetch', 'python'] as const satisfies readonly ClientName[];
const LARGE = { kind: 'http' as const, ...LARGE_RESPONSE };
const NAME: Record<ReverseProxyKind, string> = { nginx: 'nginx', haproxy: 'HAProxy' };

function forBoth(make: (p: ReverseProxyKind) => Omit<Scenario, 'allClients' | 'needs' | 'scheme' | 'reverseProxy' | 'clients'> & { clients?: Scenario['clients'] }): Scenario[] {
  return (['nginx', 'haproxy'] as const).map((p) => {
    const s = make(p);
    return { ...s, clients: s.clients ?? CLIENTS, allClients: [...new Set([...(s.clients ?? CLIENTS), ...ALL_CLIENTS])], needs: 'netns', scheme: () => 'http', reverseProxy: p };
  });
}

export const REVERSE_PROXY_SCENARIOS: Scenario[] = [
  ...forBoth((p) => ({
    id: `${p}-backend-down`,
    title: `Nothing listens behind ${NAME[p]}`,
    description: `The client asks ${NAME[p]} for /; its upstream is a port of the origin host where nothing listens: the origin's kernel refuses each connection ${NAME[p]} tries.`,
    claims: [],
    server: () => null,
    pause: false,
    // nginx tries once (502); HAProxy tries again `retries 3` times (503 after the last, each a
    // second apart at most: min(timeout connect, 1 s)). Every SYN is refused by the origin's kernel.
    // Who closes the client's keep-alive connection afterwards is the client's business (undici
    // keeps it in its pool): no FIN is required.
    expect: { allow: { server: ['refused'] }, must: [['server', 'refused']] },
  })),
  ...forBoth((p) => ({
    id: `${p}-upstream-reset`,
    title: `The origin resets mid-response behind ${NAME[p]}`,
    description: `The client downloads 8 MiB through ${NAME[p]}; the origin writes the headers and 256 KiB, then closes abortively (SO_LINGER {1,0}): a RST to ${NAME[p]}.`,
    claims: [],
    server: () => LARGE,
    path: '/large',
    pause: false,
    async afterGo(a) { await midResponse(a); a.command({ cmd: 'abort' }); a.note('origin: close with SO_LINGER {1,0}', 'server'); },
    afterResult: (a) => a.sleep(250),
    // The RST stays on the proxy↔origin connection: the proxy ends the client's connection with a
    // FIN after the part of the body it had (nginx: `readv() failed (104: Connection reset by peer)
    // while reading upstream`; HAProxy: termination state SD--).
    expect: { allow: { server: ['abort'] }, must: [['server', 'abort']], fin: ['proxy'] },
  })),
  ...forBoth((p) => ({
    id: `${p}-upstream-killed`,
    title: `The origin is killed mid-response behind ${NAME[p]}`,
    description: `The client downloads 8 MiB through ${NAME[p]}; the origin writes the headers and 256 KiB, then its process is SIGKILLed.`,
    claims: [],
    server: () => LARGE,
    path: '/large',
    pause: false,
    async afterGo(a) { await midResponse(a); await a.kill('server'); },
    afterResult: (a) => a.sleep(250),
    // The origin's kernel closes with FIN (nothing unread); the proxy passes it on as a FIN after a
    // short body (nginx: `upstream prematurely closed connection while reading upstream`; HAProxy: SD--).
    expect: { allow: {}, fin: ['server', 'proxy'] },
  })),
  ...forBoth((p) => ({
    id: `${p}-upstream-killed-before-response`,
    title: `The origin dies before it answers, behind ${NAME[p]}`,
    description: `${NAME[p]} forwards the client's request; the origin (raw TCP) reads it and never answers; its process is SIGKILLed: its kernel closes the upstream connection with FIN before any response header (the most common cause of a 502 behind a proxy: the backend crashed or was restarted).`,
    claims: [],
    server: () => ({ kind: 'tcp' }),
    pause: false,
    async afterGo(a) { await a.serverEvent('accepted', 5000); await a.sleep(200); await a.kill('server'); },
    afterResult: (a) => a.sleep(250),
    // nginx: `upstream prematurely closed connection while reading response header from upstream`,
    // 502; HAProxy: termination state SH--, 502. The request had been read: FIN, no RST.
    expect: { allow: {}, fin: ['server'] },
  })),
  ...forBoth((p) => ({
    id: `${p}-upstream-aborts-before-response`,
    title: `The origin dies with the request unread, behind ${NAME[p]}`,
    description: `As ${p}-upstream-killed-before-response, but the origin never reads the request: the process dies with it in its receive queue, and its kernel resets the upstream connection instead of closing it.`,
    claims: [],
    server: () => ({ kind: 'tcp', tcp: { noRead: true } }),
    pause: false,
    async afterGo(a) { await a.serverEvent('accepted', 5000); await a.sleep(200); await a.kill('server'); },
    afterResult: (a) => a.sleep(250),
    // tcp_close with unread data → tcp_send_active_reset (TCP_ABORT_ON_CLOSE). nginx: `recv()
    // failed (104: Connection reset by peer) while reading response header from upstream`, 502.
    expect: { allow: { server: ['abort'] }, must: [['server', 'abort']] },
  })),
  ...forBoth((p) => ({
    id: `${p}-killed-mid-response`,
    title: `${NAME[p]} is killed mid-response`,
    description: `The client downloads 8 MiB through ${NAME[p]}; once the origin has written the headers and 256 KiB, ${p === 'nginx' ? 'every nginx process (master and worker) is' : 'HAProxy is'} SIGKILLed.`,
    claims: [],
    server: () => LARGE,
    path: '/large',
    pause: false,
    async afterGo(a) { await midResponse(a); await a.kill('proxy'); },
    afterResult: (a) => a.sleep(250),
    // The proxy had read everything the origin sent (the origin holds after 256 KiB): its kernel
    // closes both connections with FIN, and the proxy writes no log line for the request.
    expect: { allow: {}, fin: ['proxy', 'server'] },
  })),
  ...forBoth((p) => ({
    id: `${p}-upstream-keepalive-closed`,
    title: `The origin closes ${NAME[p]}'s idle upstream connection unseen; a new client's request follows`,
    description: `A first request (curl, from the client host) leaves an idle keep-alive connection in ${NAME[p]}'s upstream pool; the origin closes it (its keep-alive timeout, now) while the router drops the origin's FIN, so ${NAME[p]} does not learn of it; then the client sends its request.`,
    claims: [],
    clients: ['node-http', 'okhttp', 'curl'],
    server: () => ({ kind: 'http' }),
    pause: true,
    async atPause(a) {
      const warm = await a.exec('client', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${a.hosts.proxy}:${a.proxyPort}/`]);
      if (warm.stdout !== '200') throw new Error(`the first request through ${p} failed: ${warm.stdout} ${warm.stderr.trim()}`);
      a.note(`a first request leaves an idle upstream connection in ${NAME[p]}'s pool`, 'client');
      await a.firewall('router', ['-I', 'FORWARD', '-p', 'tcp', '-s', a.hosts.server, '--sport', String(a.serverPort), '--tcp-flags', 'FIN', 'FIN', '-j', 'DROP']);
      a.note('router drops the origin\'s FINs');
      a.command({ cmd: 'close-idle' });
      await a.serverEvent('closed', 3000);
      await a.sleep(50);
    },
    async afterResult(a) { await a.healFirewall(); await a.sleep(250); },
    // nginx sends the request on the pooled connection: the origin's orphaned socket (FIN-WAIT-1,
    // its FIN lost) resets it (TCP_ABORT_ON_DATA); nginx logs `recv() failed (104: Connection reset
    // by peer) while reading response header from upstream` and retries on a new connection
    // (`upstream_status=502, 200`): the client gets its 200. HAProxy (`http-reuse safe`) sends a
    // session's first request on a connection of its own: no RST at all.
    expect: p === 'nginx' ? { allow: { server: ['no-connection', 'reset-after-close'] }, must: [['server', 'no-connection']] } : { allow: {} },
  })),
  {
    id: 'haproxy-health-check',
    title: 'HAProxy\'s health checks of the origin',
    description: 'HAProxy checks its backend every 200 ms (`option httpchk GET /`, `check inter 200ms`) while the client makes one request through it. Each check is an HTTP/1.0 GET; the origin answers and closes (FIN); HAProxy then closes its end with SO_LINGER {1,0}: a RST from the balancer for every check, a steady stream of resets in captures and firewall logs although nothing is wrong (an origin that still had the connection open would see ECONNRESET).',
    claims: [],
    clients: ['node-http', 'curl'],
    allClients: ['node-http', 'curl', 'okhttp', 'python'],
    needs: 'netns',
    scheme: () => 'http',
    reverseProxy: 'haproxy',
    healthCheckMs: 200,
    server: () => ({ kind: 'http' }),
    pause: false,
    afterResult: (a) => a.sleep(1000),
    // HAProxy closes a finished check with SO_LINGER {1,0} (no TIME-WAIT on the balancer): a RST
    // from its socket after the origin's FIN (tcp_disconnect; the kernel logs TCP_STATE) per check.
    // When HAProxy's RST crosses the origin's FIN, that FIN finds no socket: a stateless RST
    // (NO_SOCKET) answers it.
    expect: { allow: { proxy: ['abort', 'no-connection'] }, must: [['proxy', 'abort']] },
  },
];
