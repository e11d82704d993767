// The seed's own proxy, mitmproxy (mitmdump, Debian's package), in place of the lab's CONNECT proxy:
// the C2a construction of kill-proxy-before-request-* (client held after the CONNECT tunnel or the
// connection, proxy SIGKILLed, client goes on), with the real program that intercepts TLS with the
// lab's CA. hops.ts starts it; run.ts hands the lab's CA to the client as for every TLS run.

import type { Scenario } from './scenarios.js';

export const MITMPROXY_SCENARIOS: Scenario[] = (['http', 'https'] as const).map((kind): Scenario => ({
  id: `kill-mitmproxy-before-request-${kind}`,
  title: `mitmproxy killed after the ${kind === 'https' ? 'CONNECT tunnel' : 'connection'} is up (${kind.toUpperCase()} through mitmproxy)`,
  description: `As the seed: the client uses mitmproxy (mitmdump) as its HTTP proxy; it is held after connecting${kind === 'https' ? ' (after mitmproxy answered the CONNECT)' : ''}; mitmproxy is SIGKILLed; then the client sends${kind === 'https' ? ' its ClientHello' : ' its request'}.`,
  claims: kind === 'https' ? ['C2a.1', 'C2a.2', 'C2a.6'] : ['C2a.4', 'C2a.6'],
  clients: kind === 'http' ? ['node-http', 'okhttp', 'curl'] : ['node-https', 'okhttp', 'curl'],
  allClients: kind === 'http' ? ['node-http', 'okhttp', 'python', 'curl'] : ['node-https', 'node-fetch', 'okhttp', 'python', 'curl'],
  needs: 'netns',
  scheme: () => kind,
  server: () => ({ kind }),
  viaProxy: true,
  forwardProxy: 'mitmproxy',
  pause: true,
  async atPause(a) {
    // mitmproxy's own word that it took the connection (killed before accept(), a listener resets
    // its queue instead: kill-server-before-accept).
    await a.proxyLog(/client connect/, 3000);
    await a.kill('proxy');
    await a.sleep(250);
  },
  expect: { allow: { proxy: ['reset-after-close', 'no-connection'] }, fin: ['proxy'] },
}));
