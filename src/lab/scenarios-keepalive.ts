// The keep-alive race, the most common reset in production: a client reuses a pooled HTTP/1.1
// connection that the server has just closed (its keep-alive timeout), before the server's FIN
// has reached it. Constructed deterministically, like the seed's breakpoints: the client makes a
// first request, its connection goes back to the library's pool and the driver holds at the idle
// point (protocol.ts `reuse` + `pause`); the router then drops the server's FIN on this
// connection (the close is "in flight"), the server closes its idle connections (`close-idle`,
// as its keep-alive timer would), and the client is released: its second request goes out on the
// reused connection and reaches a socket the server has closed, whose kernel answers with RST.
// Libraries that retry an idempotent request on a fresh connection then succeed (the driver notes
// `new-connections=1`): OkHttp 3.13, Go 1.19 and JDK 17's HttpClient do; Node 20's http,
// undici 6 and the Python libraries (requests/urllib3 with Retry(0, read=False), httpx, aiohttp,
// http.client) do not. The POST variant (and OkHttp's retryOnConnectionFailure off) shows the error
// each library gives the application. A natural-timing twin (server keepAliveTimeoutMs = client
// idle time, no firewall) is left out: which of the FIN and the request comes first is a race of
// a millisecond, so it cannot run as constructed every time.

import type { ClientName } from './protocol.js';
import type { Scenario, ScenarioActions } from './scenarios.js';

const KEEPALIVE_CLIENTS = ['node-http', 'node-fetch', 'okhttp', 'go', 'python-requests'] as const satisfies readonly ClientName[];
const KEEPALIVE_ALL = [...KEEPALIVE_CLIENTS, 'java-httpclient', 'python-httpx', 'python-aiohttp', 'python'] as const satisfies readonly ClientName[];

/** At the idle point: the server's FIN is lost on the way, the server closes the idle connection. */
async function closeWhileFinInFlight(a: ScenarioActions): Promise<void> {
  await a.firewall('router', ['-I', 'FORWARD', '-p', 'tcp', '--sport', String(a.serverPort), '--tcp-flags', 'FIN', 'FIN', '-j', 'DROP']);
  a.note('router drops the server\'s FIN');
  a.command({ cmd: 'close-idle' });
  await a.serverEvent('closed', 3000);
}

async function heal(a: ScenarioActions): Promise<void> {
  await a.sleep(150);
  await a.healFirewall();
  a.note('router forwards again');
}

function race(id: string, method: 'GET' | 'POST'): Scenario {
  const post = method === 'POST';
  return {
    id,
    title: post
      ? 'Keep-alive race: a POST on a pooled connection the server has just closed (no retry)'
      : 'Keep-alive race: a request on a pooled connection the server has just closed',
    description: (post
      ? 'A POST (with OkHttp\'s retryOnConnectionFailure off) on the reused connection: no library retries it, each reports its own error. '
      : 'A GET on the reused connection: OkHttp (retryOnConnectionFailure), Go\'s net/http (an idempotent request on a reused connection) and the JDK\'s HttpClient retry it transparently on a new connection and the application sees 200 (a second connection in the capture; the drivers note new-connections=1); Node\'s http and undici (fetch) and the Python libraries (requests, httpx, aiohttp, http.client) surface ECONNRESET. ')
      + 'The first request\'s connection is pooled; at the idle point the router drops the server\'s FIN and the server closes its idle connections (as its keep-alive timeout would); then the client reuses the connection: the request reaches the closed socket and the server\'s kernel resets it.',
    claims: [],
    clients: KEEPALIVE_CLIENTS,
    allClients: KEEPALIVE_ALL,
    needs: 'netns',
    scheme: () => 'http',
    server: () => ({ kind: 'http' }),
    pause: true,
    reuse: post ? { method: 'POST', noRetry: true } : { method: 'GET' },
    atPause: closeWhileFinInFlight,
    afterResult: heal,
    // The reused request reaches the server's orphan in FIN-WAIT-1 (its FIN lost): tcp_rcv_state_process
    // resets data after the close (the kernel's TCP_ABORT_ON_DATA). The capture, on the client's
    // side of the router, never sees that FIN: from the wire the RST says the server has no
    // connection for the request (no-connection). A retry's fresh connection ends normally.
    expect: { allow: { server: ['no-connection'] }, must: [['server', 'no-connection']] },
  };
}

export const KEEPALIVE_SCENARIOS: Scenario[] = [race('keepalive-race', 'GET'), race('keepalive-race-post', 'POST')];
