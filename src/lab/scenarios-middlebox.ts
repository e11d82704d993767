// Scenarios of a middlebox that forgets: a NAT or load balancer between client and server keeps a
// table of connections and drops an entry when it has been idle too long (conntrack's
// `nf_conntrack_tcp_timeout_established`, AWS NLB's 350 s, Azure Load Balancer's 4 minutes) or
// when it fails over. The next segment of the connection finds no entry. Built on the lab's router
// with Linux's own connection tracking (inside the router's namespace only): a rule that treats
// segments of unknown connections as INVALID (`nf_conntrack_tcp_loose = 0`: no pick-up of a
// connection in mid-stream), and the entry deleted with `conntrack -D` while the connection idles.
// Two answers a middlebox gives: a RST in the server's name (REJECT --reject-with tcp-reset: what
// AWS NLB does for a packet of an expired flow) or silence (DROP: the client retransmits until
// it gives up; the server stays half-open). Data + small functions, as scenarios.ts.

import type { Scenario, ScenarioActions } from './scenarios.js';

/** The router forgets this run's connection: conntrack on, mid-stream pick-up off, the entry deleted. */
async function forget(a: ScenarioActions, answer: 'REJECT' | 'DROP'): Promise<void> {
  const port = String(a.serverPort);
  const target = answer === 'REJECT' ? ['-j', 'REJECT', '--reject-with', 'tcp-reset'] : ['-j', 'DROP'];
  // Both directions: the server's own segments of a forgotten connection are INVALID too.
  await a.firewall('router', ['-I', 'FORWARD', '-p', 'tcp', '--dport', port, '-m', 'conntrack', '--ctstate', 'INVALID', ...target]);
  await a.firewall('router', ['-I', 'FORWARD', '-p', 'tcp', '--sport', port, '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP']);
  await a.sysctl('router', 'net.netfilter.nf_conntrack_tcp_loose', '0');
  // The entry, if the router was tracking already (exit 1: there was none; the effect is the same).
  const r = await a.exec('router', ['conntrack', '-D', '-p', 'tcp', '--orig-port-dst', port]);
  if (/exec of "?conntrack"? failed|No such file/.test(r.stderr)) throw new Error('needs the conntrack tool (Debian package conntrack)');
  if (r.code !== 0 && !/0 flow entries/.test(r.stderr)) throw new Error(`conntrack -D failed: ${r.stderr.trim()}`);
  a.note(`router forgets the connection (conntrack entry deleted; unknown segments: ${answer})`);
}

const REQUEST = 'GET / HTTP/1.1\r\nHost: lab\r\n\r\n';

export const MIDDLEBOX_SCENARIOS: Scenario[] = [
  {
    id: 'nat-forgets-idle-reset',
    title: 'A NAT/load balancer forgets an idle connection and answers the next segment with RST',
    description: 'The connection is set up and held idle; the router\'s connection table loses its entry (as after an idle timeout or a failover), and it rejects segments of unknown connections with a RST in the server\'s name. The client then sends: the RST comes from the middlebox, and the server never hears of it (its socket stays open).',
    claims: [],
    clients: ['node-net', 'node-http', 'okhttp'],
    needs: 'netns',
    scheme: (c) => (c === 'node-net' ? 'tcp' : 'http'),
    server: (c) => (c === 'node-net' ? { kind: 'tcp' } : { kind: 'http' }),
    pause: true,
    tcp: { send: REQUEST },
    async atPause(a) { await forget(a, 'REJECT'); },
    expect: { allow: { server: ['middlebox'] }, must: [['server', 'middlebox']] },
  },
  {
    id: 'nat-forgets-idle-drop',
    title: 'A NAT/load balancer forgets an idle connection and drops what follows',
    description: 'As nat-forgets-idle-reset, but the middlebox drops segments of unknown connections in silence: the client\'s request is retransmitted until its kernel gives up (tcp_retries2 = 3 in the lab: about 3 s) with ETIMEDOUT, and no RST is sent by anyone. The server stays half-open.',
    claims: [],
    clients: ['node-net', 'node-http'],
    needs: 'netns',
    scheme: (c) => (c === 'node-net' ? 'tcp' : 'http'),
    server: (c) => (c === 'node-net' ? { kind: 'tcp' } : { kind: 'http' }),
    pause: true,
    tcp: { send: REQUEST },
    clientTimeoutMs: 15000,
    async atPause(a) { await forget(a, 'DROP'); },
    expect: { allow: {} },
  },
];
