// A small hand-made LabResults (the results.json model of ../results.ts) for the report and catalog
// tests, shaped like a real netns run: 4 scenarios, 4 clients (not every pair run), with a skipped
// run, a mismatch, a failed run, a proxy scenario and the seed's OkHttp messages. Typed against
// LabResults so that it cannot drift from the schema. Where rstlab-out/results.json exists, the
// HTML browser test (html.e2e.test.ts) checks the real lab output as well.

import { LAB_SCHEMA } from '../results.js';
import type { LabResults, LadderSegment, RunRecord } from '../results.js';

const S = 'server' as const;
const C = 'client' as const;
const P = 'proxy' as const;

function seg(frame: number, ms: number, from: LadderSegment['from'], to: LadderSegment['to'], flags: string, seq: number, ack: number, len = 0, cause?: LadderSegment['cause']): LadderSegment {
  return { frame, ms, from, to, flags, seq, ack, len, ...(cause ? { cause } : {}) };
}

const base = (scenario: string, client: string): Pick<RunRecord, 'id' | 'scenario' | 'client' | 'capture' | 'serverEvents' | 'problems' | 'connections'> => ({
  id: `${scenario}--${client}`, scenario, client, capture: `captures/${scenario}--${client}.pcap`, serverEvents: [], problems: [],
  connections: [{ id: 1, orig: '198.51.100.1:43210', resp: '203.0.113.2:40123', history: 'ShADadFr', connState: 'RSTR' }],
});

const refused = (client: string, outcome: RunRecord['outcome']): RunRecord => ({
  ...base('refused', client),
  status: 'ok',
  outcome,
  rsts: [{ frame: 2, cause: 'refused', confidence: 'high', from: '203.0.113.2:40001', to: '198.51.100.1:43210', role: 'server', summary: 'nothing listens on 203.0.113.2:40001: the RST answers the SYN in frame 1', linuxReasons: ['NO_SOCKET'], linuxReason: 'NO_SOCKET', kernel: { reason: 'NO_SOCKET', state: 'UNKNOWN' } }],
  fins: [],
  connections: [{ id: 1, orig: '198.51.100.1:43210', resp: '203.0.113.2:40001', history: 'Sr', connState: 'REJ' }],
  ladder: [seg(1, 21.4, C, S, '[S]', 0, 0), seg(2, 21.5, S, C, '[R.]', 0, 1, 0, 'refused')],
  timeline: [{ ms: 24.0, who: 'client', kind: 'result' }],
  durationMs: 180,
});

const killBefore = (client: string, outcome: RunRecord['outcome'], requestLen: number): RunRecord => ({
  ...base('kill-server-before-request-http', client),
  status: 'ok',
  outcome,
  rsts: [{ frame: 7, cause: 'reset-after-close', confidence: 'high', from: '203.0.113.2:40123', to: '198.51.100.1:43210', role: 'server', summary: `203.0.113.2:40123 had closed (FIN in frame 4); the ${requestLen} bytes in frame 6 reached a closed socket`, linuxReasons: ['TCP_TIMEWAIT_SOCKET', 'TCP_ABORT_ON_DATA'], linuxReason: null, kernel: { reason: 'TCP_TIMEWAIT_SOCKET', state: 'TCP_TIME_WAIT' } }],
  fins: [{ frame: 4, from: '203.0.113.2:40123', role: 'server' }],
  ladder: [
    seg(1, 30.1, C, S, '[S]', 0, 0), seg(2, 30.2, S, C, '[S.]', 0, 1), seg(3, 30.3, C, S, '[.]', 1, 1),
    seg(4, 95.7, S, C, '[F.]', 1, 1), seg(5, 95.9, C, S, '[.]', 1, 2),
    seg(6, 352.4, C, S, '[P.]', 1, 2, requestLen), seg(7, 352.5, S, C, '[R]', 2, 0, 0, 'reset-after-close'),
  ],
  timeline: [
    { ms: 31.0, who: 'client', kind: 'event', text: 'connected 198.51.100.1:43210' },
    { ms: 31.5, who: 'server', kind: 'event', text: 'accepted 198.51.100.1:43210' },
    { ms: 95.0, who: 'lab', kind: 'action', host: 'server', text: 'SIGKILL server' },
    { ms: 350.2, who: 'lab', kind: 'release' },
    { ms: 355.0, who: 'client', kind: 'result' },
  ],
  durationMs: 610,
});

export const LAB_FIXTURE: LabResults = {
  schema: LAB_SCHEMA,
  startedAt: '2026-11-20T10:00:00.000Z',
  durationMs: 9_400,
  host: { kernel: '6.1.0-test', node: 'v20.20.0', mode: 'netns', modeReason: 'running as root', capture: true, kernelTrace: { available: true, lost: 0 }, reasonsNotConstructed: { TCP_ABORT_ON_MEMORY: 'tcp_max_orphans and tcp_mem are global sysctls' } },
  scenarios: [
    { id: 'refused', title: 'Connect to a port with no listener', description: 'The client connects to a port of the server host where nothing listens (the seed used port 442).', claims: ['C1.1', 'C1.2'] },
    { id: 'kill-server-before-request-http', title: 'Server killed after connect, before the request (HTTP, direct)', description: 'The client is held right after the TCP connection is set up; the server process is SIGKILLed; then the client sends.', claims: ['C2.0', 'C2a.5', 'C2a.6'] },
    { id: 'kill-proxy-before-request-https', title: 'Proxy killed after the CONNECT tunnel is up (HTTPS through a proxy)', description: 'The client sets up a CONNECT tunnel through the proxy and is held; the proxy is SIGKILLed; then the client starts TLS.', claims: ['C2a.1', 'C2a.2'] },
    { id: 'kill-server-mid-response-h2', title: 'Server killed mid-response (HTTP/2)', description: 'The server sends part of a large body and holds; the lab SIGKILLs it while the client reads.', claims: ['C2b.2', 'C2b.4'] },
  ],
  clients: ['node-http', 'okhttp', 'curl', 'python'],
  claims: [
    { id: 'C1.1', claim: 'A SYN to a port with no listener is answered at once by [RST, ACK].', verdict: 'reproduced', summary: 'every client\'s SYN was answered by RST+ACK (cause refused)', evidence: [{ run: 'refused--okhttp', capture: 'captures/refused--okhttp.pcap', frames: [1, 2], note: 'SYN, then RST+ACK seq 0 ack 1' }] },
    { id: 'C2a.5', claim: 'HTTP directly, server killed: FIN, then RST on the request; OkHttp: unexpected end of stream.', verdict: 'reproduced', summary: 'FIN from the killed server, RST for the request; OkHttp reported "unexpected end of stream on Connection{…}"', evidence: [{ run: 'kill-server-before-request-http--okhttp', capture: 'captures/kill-server-before-request-http--okhttp.pcap', frames: [4, 6, 7], note: 'FIN, request, RST' }] },
    { id: 'C2a.2', claim: 'HTTPS through a killed proxy: OkHttp throws SSLException: Connection closed by peer.', verdict: 'differs', summary: 'on the JVM OkHttp reports SSLHandshakeException: Remote host terminated the handshake (Conscrypt\'s text is Android-only)', evidence: [{ run: 'kill-proxy-before-request-https--okhttp', capture: 'captures/kill-proxy-before-request-https--okhttp.pcap', frames: [9, 10], note: 'ClientHello, RST' }] },
    { id: 'C4.1', claim: 'A side whose retransmissions are exhausted sends RST.', verdict: 'unavailable', summary: 'needs the lab\'s namespaces (loopback cannot drop packets)', evidence: [] },
  ],
  questions: [
    { id: 'Q1', question: 'Why does a killed process sometimes yield FIN and sometimes RST?', answer: 'RST when its receive queue held unread data (__tcp_close: data_was_unread), FIN otherwise.', evidence: [] },
  ],
  runs: [
    refused('node-http', { kind: 'error', error: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 203.0.113.2:40001', causes: [] }),
    refused('okhttp', { kind: 'error', error: 'java.net.ConnectException', message: 'Failed to connect to /203.0.113.2:40001', causes: [{ error: 'java.net.ConnectException', message: 'Connection refused' }] }),
    refused('curl', { kind: 'error', error: 'curl', code: '7', message: 'Failed to connect to 203.0.113.2 port 40001 after 0 ms: Couldn\'t connect to server', causes: [] }),
    killBefore('node-http', { kind: 'error', error: 'Error', code: 'ECONNRESET', message: 'socket hang up', causes: [] }, 74),
    killBefore('okhttp', {
      kind: 'error', error: 'java.io.IOException',
      message: 'unexpected end of stream on Connection{203.0.113.2:40123, proxy=DIRECT hostAddress=/203.0.113.2:40123 cipherSuite=none protocol=http/1.1}',
      causes: [{ error: 'java.io.EOFException', message: '\\n not found: limit=0 content=…' }],
    }, 118),
    {
      ...base('kill-server-before-request-http', 'curl'),
      status: 'mismatch', cannotPause: true,
      outcome: { kind: 'ok', status: 200, bytes: 13, causes: [] },
      rsts: [], fins: [{ frame: 6, from: '198.51.100.1:43212', role: 'client' }],
      ladder: [
        seg(1, 20.0, C, S, '[S]', 0, 0), seg(2, 20.1, S, C, '[S.]', 0, 1), seg(3, 20.2, C, S, '[.]', 1, 1),
        seg(4, 20.5, C, S, '[P.]', 1, 1, 80), seg(5, 21.0, S, C, '[P.]', 1, 81, 120), seg(6, 21.3, C, S, '[F.]', 81, 121),
      ],
      timeline: [{ ms: 22.0, who: 'client', kind: 'result' }, { ms: 60.0, who: 'lab', kind: 'action', host: 'server', text: 'SIGKILL server' }],
      problems: ['curl cannot hold at the pause point: the request completed before the server was killed'],
      durationMs: 300,
    },
    {
      ...base('kill-proxy-before-request-https', 'okhttp'),
      status: 'ok',
      outcome: {
        kind: 'error', error: 'javax.net.ssl.SSLHandshakeException', message: 'Remote host terminated the handshake',
        causes: [{ error: 'java.io.EOFException', message: 'SSL peer shut down incorrectly' }],
      },
      rsts: [{ frame: 10, cause: 'reset-after-close', confidence: 'high', from: '192.0.2.2:3128', to: '198.51.100.1:43300', role: 'proxy', summary: '192.0.2.2:3128 had closed (FIN in frame 7); the 517 bytes in frame 9 reached a closed socket', linuxReasons: ['TCP_TIMEWAIT_SOCKET', 'TCP_ABORT_ON_DATA'], linuxReason: null, kernel: { reason: 'TCP_ABORT_ON_DATA', state: 'TCP_CLOSE' } }],
      fins: [{ frame: 7, from: '192.0.2.2:3128', role: 'proxy' }],
      connections: [{ id: 1, orig: '198.51.100.1:43300', resp: '192.0.2.2:3128', history: 'ShADadFr', connState: 'RSTR' }],
      ladder: [
        seg(1, 40.0, C, P, '[S]', 0, 0), seg(2, 40.1, P, C, '[S.]', 0, 1), seg(3, 40.2, C, P, '[.]', 1, 1),
        seg(4, 41.0, C, P, '[P.]', 1, 1, 102), seg(5, 44.0, P, C, '[P.]', 1, 103, 39), seg(6, 44.2, C, P, '[.]', 103, 40),
        seg(7, 120.3, P, C, '[F.]', 40, 103), seg(8, 120.5, C, P, '[.]', 103, 41),
        seg(9, 381.0, C, P, '[P.]', 103, 41, 517), seg(10, 381.1, P, C, '[R]', 41, 0, 0, 'reset-after-close'),
      ],
      timeline: [
        { ms: 44.5, who: 'client', kind: 'event', text: 'connected 198.51.100.1:43300' },
        { ms: 119.8, who: 'lab', kind: 'action', host: 'proxy', text: 'SIGKILL proxy' },
        { ms: 380.0, who: 'lab', kind: 'release' },
        { ms: 384.0, who: 'client', kind: 'result' },
      ],
      durationMs: 700,
    },
    {
      ...base('kill-proxy-before-request-https', 'node-http'),
      status: 'skipped', reason: 'node-http does not speak HTTPS', outcome: null, capture: null,
      rsts: [], fins: [], connections: [], ladder: [], timeline: [], durationMs: 0,
    },
    {
      ...base('kill-server-mid-response-h2', 'okhttp'),
      status: 'ok',
      outcome: { kind: 'error', error: 'okhttp3.internal.http2.StreamResetException', message: 'stream was reset: CANCEL', causes: [], notes: ['alpn=h2'] },
      rsts: [{ frame: 14, cause: 'reset-after-close', confidence: 'high', from: '203.0.113.2:40200', to: '198.51.100.1:43400', role: 'server', summary: '203.0.113.2:40200 had closed (FIN in frame 11); the 33 bytes in frame 13 reached a closed socket', linuxReasons: ['TCP_TIMEWAIT_SOCKET', 'TCP_ABORT_ON_DATA'], linuxReason: null, kernel: null }],
      fins: [{ frame: 11, from: '203.0.113.2:40200', role: 'server' }],
      connections: [{ id: 1, orig: '198.51.100.1:43400', resp: '203.0.113.2:40200', history: 'ShADadFr', connState: 'RSTR' }],
      ladder: [
        seg(1, 10.0, C, S, '[S]', 0, 0), seg(2, 10.1, S, C, '[S.]', 0, 1), seg(3, 10.2, C, S, '[.]', 1, 1),
        seg(4, 12.0, C, S, '[P.]', 1, 1, 517), seg(5, 13.5, S, C, '[P.]', 1, 518, 1400), seg(6, 14.0, C, S, '[P.]', 518, 1401, 180),
        seg(7, 16.0, S, C, '[P.]', 1401, 698, 16384), seg(8, 16.2, C, S, '[.]', 698, 17785), seg(9, 16.4, S, C, '[P.]', 17785, 698, 16384),
        seg(10, 16.5, C, S, '[.]', 698, 34169),
        seg(11, 260.0, S, C, '[F.]', 34169, 698), seg(12, 260.3, C, S, '[.]', 698, 34170),
        seg(13, 261.0, C, S, '[P.]', 698, 34170, 33), seg(14, 261.1, S, C, '[R]', 34170, 0, 0, 'reset-after-close'),
      ],
      timeline: [
        { ms: 16.8, who: 'client', kind: 'event', text: 'response 200' },
        { ms: 17.0, who: 'server', kind: 'event', text: 'mid-response (32768 bytes sent)' },
        { ms: 259.5, who: 'lab', kind: 'action', host: 'server', text: 'SIGKILL server' },
        { ms: 262.0, who: 'client', kind: 'result' },
      ],
      durationMs: 520,
    },
    {
      ...base('refused', 'python'),
      status: 'failed', reason: 'python3 driver crashed: ModuleNotFoundError', outcome: null, capture: null,
      rsts: [], fins: [], connections: [], ladder: [], timeline: [], durationMs: 5,
    },
  ],
};
