// Claim verdicts: every claim of docs/seed-claims.md, judged from the lab's runs — packets
// (frame numbers in each run's saved capture) and the clients' errors. Contract: `judgeClaims(runs)`
// is pure; each claim gets `reproduced`, `differs` (saying what was seen instead) or `unavailable`
// (saying why: a client or the capture was missing, or the scenario could not run here). The seed
// is a witness, not an oracle: where Linux does something else, the verdict says so.

import type { ClaimVerdict, QuestionAnswer, Role, RunRecord, Verdict } from '../report/results.js';

type Judge = (runs: RunRecord[]) => Omit<ClaimVerdict, 'id' | 'claim'>;

const ran = (r: RunRecord) => r.status === 'ok' || r.status === 'mismatch';
const withCapture = (r: RunRecord) => ran(r) && r.capture !== null;

function pick(runs: RunRecord[], scenario: string, client?: string): RunRecord[] {
  return runs.filter((r) => r.scenario === scenario && (client === undefined || r.client === client));
}

function unavailable(runs: RunRecord[], what: string): Omit<ClaimVerdict, 'id' | 'claim'> {
  const why = runs.find((r) => r.reason)?.reason ?? (runs.length ? 'no capture was made (capturing needs root)' : 'the scenario was not selected');
  return { verdict: 'unavailable', summary: `${what}: ${why}`, evidence: [] };
}

const firstFin = (r: RunRecord, role?: Role) => r.fins.find((f) => role === undefined || f.role === role) ?? null;
const rstsOf = (r: RunRecord, role: Role) => r.rsts.filter((x) => x.role === role);

/** An error as one line: class: message, then the causes. */
export function errorLine(r: RunRecord): string {
  const o = r.outcome;
  if (!o) return 'no result';
  if (o.kind === 'ok') return `no error (status ${o.status ?? '-'}, ${o.bytes ?? 0} bytes)`;
  const head = `${o.error ?? o.kind}${o.code && o.code !== o.error ? ` [${o.code}]` : ''}: ${o.message ?? ''}`.trim();
  const causes = o.causes.map((c) => `${c.error}: ${c.message}`);
  return [head, ...causes].join(' ← ');
}

function allText(r: RunRecord): string {
  const o = r.outcome;
  if (!o) return '';
  return [o.error, o.code, o.message, ...o.causes.flatMap((c) => [c.error, c.code, c.message])].filter(Boolean).join(' \n');
}

/** The seed's packet pattern "killed peer sends FIN; the client's next data gets RST". */
function finThenReset(r: RunRecord, killed: Role): { ok: boolean; frames: number[]; note: string } {
  const fin = firstFin(r, killed);
  const rst = rstsOf(r, killed)[0];
  if (!fin) return { ok: false, frames: rst ? [rst.frame] : [], note: `no FIN from the ${killed}${rst ? `; first RST frame ${rst.frame} (${rst.cause})` : ''}` };
  if (!rst) {
    // No data after the FIN means nothing reached the closed socket: consistent with the claim.
    const dataAfter = r.ladder.some((s) => s.from === 'client' && s.len > 0 && s.frame > fin.frame);
    return dataAfter
      ? { ok: false, frames: [fin.frame], note: `FIN from the ${killed} in frame ${fin.frame}; the client sent data after it, but no RST followed` }
      : { ok: true, frames: [fin.frame], note: `FIN from the ${killed} in frame ${fin.frame}; the client sent no data after it (it closed instead), so nothing drew a RST` };
  }
  const ok = fin.frame < rst.frame && (rst.cause === 'reset-after-close' || rst.cause === 'no-connection');
  return { ok, frames: [fin.frame, rst.frame], note: `FIN from the ${killed} in frame ${fin.frame}; RST in frame ${rst.frame} (${rst.cause})` };
}

function packetClaim(runs: RunRecord[], scenario: string, killed: Role, preferClient: string, what: string): Omit<ClaimVerdict, 'id' | 'claim'> {
  const all = pick(runs, scenario).filter(withCapture);
  if (!all.length) return unavailable(pick(runs, scenario), what);
  const preferred = all.filter((r) => r.client === preferClient);
  const judged = (preferred.length ? preferred : all).map((r) => ({ r, p: finThenReset(r, killed) }));
  const evidence = judged.map(({ r, p }) => ({ run: r.id, capture: r.capture, frames: p.frames, note: p.note }));
  const ok = judged.every(({ p }) => p.ok);
  const others = all.filter((r) => r.client !== preferClient).map((r) => ({ r, p: finThenReset(r, killed) }));
  const alike = others.filter(({ p }) => p.ok).length;
  return {
    verdict: ok ? 'reproduced' : 'differs',
    summary: ok
      ? `${what}: the ${killed} sent FIN when killed, and the client's next data was answered with RST (${judged[0]!.p.note})${others.length ? `; ${alike} of ${others.length} other client runs show the same` : ''}.`
      : `${what}: ${judged.map(({ r, p }) => `${r.client}: ${p.note}`).join('; ')}.`,
    evidence,
  };
}

function errorClaim(runs: RunRecord[], scenario: string, client: string, expected: RegExp, seedText: string): Omit<ClaimVerdict, 'id' | 'claim'> {
  const r = pick(runs, scenario, client).find(ran);
  if (!r) return unavailable(pick(runs, scenario, client), `${client} in ${scenario}`);
  const seen = errorLine(r);
  const match = expected.test(allText(r)) || expected.test(seen);
  return {
    verdict: match ? 'reproduced' : 'differs',
    summary: match
      ? `${client} reported ${seen} (seed: ${seedText}).`
      : `${client} on the JVM reported ${seen} — the seed (Android) reported ${seedText}.`,
    evidence: [{ run: r.id, capture: r.capture, frames: r.rsts.map((x) => x.frame), note: seen }],
  };
}

const JUDGES: Array<{ id: string; claim: string; judge: Judge }> = [
  {
    id: 'C1.1', claim: 'A SYN to a port with no listener is answered at once by [RST, ACK] from the server (the seed\'s capture shows two SYNs).',
    judge(runs) {
      const rs = pick(runs, 'refused').filter(withCapture);
      if (!rs.length) return unavailable(pick(runs, 'refused'), 'refused');
      const good = rs.filter((r) => r.rsts.some((x) => x.role === 'server' && x.cause === 'refused'));
      const syns = rs.map((r) => r.connections.reduce((n, c) => n + (c.history.match(/S/g)?.length ?? 0), 0));
      return {
        verdict: good.length === rs.length ? 'reproduced' : 'differs',
        summary: `${good.length} of ${rs.length} client runs: the server host answered the SYN with RST+ACK (cause refused). Linux answers the first SYN at once, so each connection attempt shows one SYN, not two (${Math.max(...syns)} connection attempt(s) per client at most: some clients retry other addresses or not at all).`,
        evidence: rs.map((r) => ({ run: r.id, capture: r.capture, frames: r.rsts.map((x) => x.frame), note: r.rsts.map((x) => `${x.cause} from ${x.role}`).join(', ') || 'no RST' })),
      };
    },
  },
  {
    id: 'C1.2', claim: 'OkHttp throws java.net.ConnectException; the cause below says the connection was refused.',
    judge: (runs) => errorClaim(runs, 'refused', 'okhttp', /java\.net\.ConnectException[\s\S]*refused/i, 'java.net.ConnectException, cause: Connection refused'),
  },
  {
    id: 'C2.0', claim: 'The side that dies has its sockets released by its OS, which answers the peer with RST.',
    judge(runs) {
      const kills = runs.filter((r) => r.scenario.startsWith('kill-server-before-request') && withCapture(r));
      const unread = pick(runs, 'unread-data-kill').filter(withCapture);
      const queued = pick(runs, 'kill-server-before-accept').filter(withCapture);
      const queuedRst = queued.filter((r) => rstsOf(r, 'server').some((x) => x.cause === 'abort'));
      if (!kills.length) return unavailable(runs.filter((r) => r.scenario.startsWith('kill-server-before-request')), 'kill-server-before-request');
      const finFirst = kills.filter((r) => { const f = firstFin(r, 'server'); const x = rstsOf(r, 'server')[0]; return f && (!x || f.frame < x.frame); });
      const abort = unread.filter((r) => rstsOf(r, 'server').some((x) => x.cause === 'abort') && !firstFin(r, 'server'));
      return {
        verdict: 'differs',
        summary: `Linux does not reset when a process dies: in ${finFirst.length} of ${kills.length} runs the killed server's kernel closed with FIN, and RST came only when the client's data reached the closed socket (reset-after-close). It resets at once only when the dying socket still had unread data (${abort.length} of ${unread.length} unread-data-kill runs: RST, no FIN) or when the connection was still waiting in the listener's accept queue (${queuedRst.length} of ${queued.length} kill-server-before-accept runs).`,
        evidence: [...kills.slice(0, 3), ...unread.slice(0, 2), ...queued.slice(0, 1)].map((r) => ({ run: r.id, capture: r.capture, frames: [...r.fins.filter((f) => f.role === 'server').map((f) => f.frame), ...rstsOf(r, 'server').map((x) => x.frame)], note: `${r.fins.some((f) => f.role === 'server') ? 'FIN' : 'no FIN'}; RST ${rstsOf(r, 'server').map((x) => x.cause).join(', ') || 'none'}` })),
      };
    },
  },
  { id: 'C2a.1', claim: 'HTTPS through a proxy, proxy killed after the CONNECT tunnel: the proxy sends [FIN, ACK]; the client\'s ClientHello is answered with RST.', judge: (runs) => packetClaim(runs, 'kill-proxy-before-request-https', 'proxy', 'okhttp', 'HTTPS via proxy') },
  { id: 'C2a.2', claim: 'OkHttp throws javax.net.ssl.SSLException: Connection closed by peer.', judge: (runs) => errorClaim(runs, 'kill-proxy-before-request-https', 'okhttp', /SSLException[\s\S]*closed by peer/i, 'javax.net.ssl.SSLException: Connection closed by peer') },
  {
    id: 'C2a.3', claim: 'HTTPS directly to the origin, server killed: the same packets and the same exception.',
    judge(runs) {
      const p = packetClaim(runs, 'kill-server-before-request-https', 'server', 'okhttp', 'HTTPS direct');
      const e = errorClaim(runs, 'kill-server-before-request-https', 'okhttp', /SSLException[\s\S]*closed by peer/i, 'javax.net.ssl.SSLException: Connection closed by peer');
      const verdict = p.verdict === 'unavailable' ? 'unavailable' : p.verdict === 'reproduced' && e.verdict === 'reproduced' ? 'reproduced' : 'differs';
      return { verdict, summary: `${p.summary} ${e.summary}`, evidence: [...p.evidence, ...e.evidence] };
    },
  },
  { id: 'C2a.4', claim: 'HTTP through a proxy, proxy killed: it sends [FIN, ACK]; the client\'s HTTP request gets RST at once.', judge: (runs) => packetClaim(runs, 'kill-proxy-before-request-http', 'proxy', 'okhttp', 'HTTP via proxy') },
  {
    id: 'C2a.5', claim: 'HTTP directly, server killed: [FIN, ACK] from the server; OkHttp: java.io.IOException: unexpected end of stream on Connection{…}.',
    judge(runs) {
      const p = packetClaim(runs, 'kill-server-before-request-http', 'server', 'okhttp', 'HTTP direct');
      const e = errorClaim(runs, 'kill-server-before-request-http', 'okhttp', /java\.io\.IOException: unexpected end of stream on Connection\{/, 'java.io.IOException: unexpected end of stream on Connection{host:80, proxy=DIRECT hostAddress=… cipherSuite=none protocol=http/1.1}');
      const verdict = p.verdict === 'unavailable' ? 'unavailable' : p.verdict === 'reproduced' && e.verdict === 'reproduced' ? 'reproduced' : 'differs';
      return { verdict, summary: `${p.summary} ${e.summary}`, evidence: [...p.evidence, ...e.evidence] };
    },
  },
  {
    id: 'C2a.6', claim: 'A proxy or origin killed while the client sends still closes with FIN; the RST comes when data reaches the closed socket.',
    judge(runs) {
      const rs = runs.filter((r) => /^kill-(server|proxy)-before-request/.test(r.scenario) && withCapture(r));
      if (!rs.length) return unavailable(runs.filter((r) => /^kill-(server|proxy)-before-request/.test(r.scenario)), 'kill-*-before-request');
      const judged = rs.map((r) => ({ r, p: finThenReset(r, r.scenario.includes('proxy') ? 'proxy' : 'server') }));
      const ok = judged.filter(({ p }) => p.ok);
      const no = judged.filter(({ p }) => !p.ok);
      return {
        verdict: no.length === 0 ? 'reproduced' : ok.length ? 'differs' : 'differs',
        summary: `${ok.length} of ${rs.length} runs: FIN from the killed process's kernel, then RST (reset-after-close) when the client's data arrived.${no.length ? ` Not in: ${no.map(({ r, p }) => `${r.id} (${p.note})`).join('; ')}.` : ''}`,
        evidence: judged.map(({ r, p }) => ({ run: r.id, capture: r.capture, frames: p.frames, note: p.note })),
      };
    },
  },
  ...([['C2b.1', 'https', 'HTTPS: the server did not send [FIN, ACK]; the client sent [FIN, ACK] first.'], ['C2b.3', 'http', 'HTTP/1.1: the seed\'s packet list says the server closed normally (FIN), its summary that the client sent FIN first.']] as const).map(([id, kind, claim]) => ({
    id, claim,
    judge(runs: RunRecord[]) {
      const rs = pick(runs, `kill-server-mid-response-${kind}`).filter(withCapture);
      if (!rs.length) return unavailable(pick(runs, `kill-server-mid-response-${kind}`), `kill-server-mid-response-${kind}`);
      const firsts = rs.map((r) => ({ r, f: firstFin(r) }));
      const serverFirst = firsts.filter(({ f }) => f?.role === 'server');
      const clientFirst = firsts.filter(({ f }) => f?.role === 'client');
      const seedSaysClient = id === 'C2b.1';
      const verdict: Verdict = seedSaysClient ? (clientFirst.length === rs.length ? 'reproduced' : 'differs') : 'reproduced';
      return {
        verdict,
        summary: `On Linux the killed server's kernel sent the first FIN in ${serverFirst.length} of ${rs.length} runs (client first: ${clientFirst.length}). ${id === 'C2b.3' ? 'The lab decides for the packet list: the server closes normally with FIN.' : 'A SIGKILLed process\'s sockets are closed by its kernel with FIN when nothing is unread.'}`,
        evidence: firsts.map(({ r, f }) => ({ run: r.id, capture: r.capture, frames: f ? [f.frame] : [], note: f ? `first FIN from ${f.role} (frame ${f.frame})` : 'no FIN' })),
      };
    },
  })),
  {
    id: 'C2b.2', claim: 'HTTP/2: the server could not end the connection; the client sent data and got RST back.',
    judge(runs) {
      const rs = pick(runs, 'kill-server-mid-response-h2').filter(withCapture);
      if (!rs.length) return unavailable(pick(runs, 'kill-server-mid-response-h2'), 'kill-server-mid-response-h2');
      const withRst = rs.filter((r) => rstsOf(r, 'server').length > 0);
      const serverFin = rs.filter((r) => firstFin(r, 'server'));
      return {
        verdict: withRst.length ? (serverFin.length ? 'differs' : 'reproduced') : 'differs',
        summary: `${withRst.length} of ${rs.length} HTTP/2 runs: the client's frames after the kill were answered with RST (${withRst.flatMap((r) => rstsOf(r, 'server').map((x) => x.cause)).filter((v, i, a) => a.indexOf(v) === i).join(', ') || 'none'}); the server's kernel did send FIN first in ${serverFin.length} of them.`,
        evidence: rs.map((r) => ({ run: r.id, capture: r.capture, frames: [...r.fins.map((f) => f.frame), ...rstsOf(r, 'server').map((x) => x.frame)], note: `FIN from ${r.fins.map((f) => f.role).join('/') || 'nobody'}; RST ${rstsOf(r, 'server').map((x) => x.cause).join(', ') || 'none'}` })),
      };
    },
  },
  {
    id: 'C2b.4', claim: 'OkHttp: HTTPS and HTTP → java.net.ProtocolException: unexpected end of stream; HTTP/2 → okhttp3.internal.http2.StreamResetException: stream was reset: CANCEL.',
    judge(runs) {
      const parts = [
        errorClaim(runs, 'kill-server-mid-response-http', 'okhttp', /java\.net\.ProtocolException: unexpected end of stream/, 'java.net.ProtocolException: unexpected end of stream'),
        errorClaim(runs, 'kill-server-mid-response-https', 'okhttp', /java\.net\.ProtocolException: unexpected end of stream/, 'java.net.ProtocolException: unexpected end of stream'),
        errorClaim(runs, 'kill-server-mid-response-h2', 'okhttp', /StreamResetException[\s\S]*CANCEL/, 'okhttp3.internal.http2.StreamResetException: stream was reset: CANCEL'),
      ];
      const verdict: Verdict = parts.every((p) => p.verdict === 'unavailable') ? 'unavailable' : parts.every((p) => p.verdict === 'reproduced') ? 'reproduced' : 'differs';
      return { verdict, summary: parts.map((p) => p.summary).join(' '), evidence: parts.flatMap((p) => p.evidence) };
    },
  },
  {
    id: 'C2c.1', claim: 'If the client closes before the response has ended, it sends FIN; data the server sent before it saw the FIN keeps arriving, and the client answers it with RST.',
    judge(runs) {
      const rs = pick(runs, 'client-closes-early').filter(withCapture);
      const unread = pick(runs, 'client-closes-unread').filter(withCapture);
      if (!rs.length) return unavailable(pick(runs, 'client-closes-early'), 'client-closes-early');
      const ok = rs.filter((r) => { const f = firstFin(r, 'client'); const x = rstsOf(r, 'client').find((y) => y.cause === 'reset-after-close'); return f && x && f.frame < x.frame; });
      const u = unread.filter((r) => rstsOf(r, 'client').some((x) => x.cause === 'abort'));
      return {
        verdict: ok.length === rs.length ? 'reproduced' : 'differs',
        summary: `${ok.length} of ${rs.length} runs: the client's FIN, then RST (reset-after-close) for the server's later data. When the client closes with data still unread, Linux skips the FIN and resets at once (${u.length} of ${unread.length} client-closes-unread runs: abort).`,
        evidence: [...rs, ...unread].map((r) => ({ run: r.id, capture: r.capture, frames: [...r.fins.filter((f) => f.role === 'client').map((f) => f.frame), ...rstsOf(r, 'client').map((x) => x.frame)], note: `client FIN: ${r.fins.some((f) => f.role === 'client') ? 'yes' : 'no'}; client RST: ${rstsOf(r, 'client').map((x) => x.cause).join(', ') || 'none'}` })),
      };
    },
  },
  {
    id: 'C3.1', claim: 'A host that receives a segment matching none of its connections answers with RST.',
    judge(runs) {
      const rs = pick(runs, 'state-lost').filter(withCapture);
      if (!rs.length) return unavailable(pick(runs, 'state-lost'), 'state-lost');
      const ok = rs.filter((r) => rstsOf(r, 'server').some((x) => x.cause === 'no-connection'));
      return {
        verdict: ok.length === rs.length ? 'reproduced' : 'differs',
        summary: `${ok.length} of ${rs.length} runs: after the server lost its socket silently, the client's next segment was answered with a stateless RST (seq = the segment's ACK, no ACK flag): cause no-connection. Clients saw: ${rs.map((r) => `${r.client}: ${errorLine(r)}`).join('; ')}.`,
        evidence: rs.map((r) => ({ run: r.id, capture: r.capture, frames: rstsOf(r, 'server').map((x) => x.frame), note: rstsOf(r, 'server').map((x) => x.cause).join(', ') || 'no RST' })),
      };
    },
  },
  {
    id: 'C4.1', claim: 'A side that gets no acknowledgement for too long sends RST after its retransmission count or time limit is exceeded.',
    judge(runs) {
      const rt = pick(runs, 'retransmission-timeout').filter(withCapture);
      const ka = pick(runs, 'keepalive-timeout').filter(withCapture);
      if (!rt.length && !ka.length) return unavailable([...pick(runs, 'retransmission-timeout'), ...pick(runs, 'keepalive-timeout')], 'timeouts');
      const silent = rt.filter((r) => !r.rsts.some((x) => x.role === 'client' && x.cause === 'timeout'));
      const kaRst = ka.filter((r) => rstsOf(r, 'client').some((x) => x.cause === 'timeout'));
      return {
        verdict: 'differs',
        summary: `Linux: when retransmissions ran out (tcp_retries2=3) the client reported ${rt.map((r) => errorLine(r)).join(' / ') || '—'} and sent no RST in ${silent.length} of ${rt.length} runs; the server, which saw nothing, got a stateless RST (no-connection) only when it sent data later. Keepalive exhaustion does send RST: ${kaRst.length} of ${ka.length} runs (cause timeout). BSD-derived stacks reset on retransmission give-up; Linux does not.`,
        evidence: [...rt, ...ka].map((r) => ({ run: r.id, capture: r.capture, frames: r.rsts.map((x) => x.frame), note: `${errorLine(r)}; RSTs: ${r.rsts.map((x) => `${x.role} ${x.cause}`).join(', ') || 'none'}` })),
      };
    },
  },
  {
    id: 'C5.1', claim: 'Some applications release a connection with RST instead of FIN (SO_LINGER on, linger time 0).',
    judge(runs) {
      const rs = pick(runs, 'linger-zero').filter(withCapture);
      if (!rs.length) return unavailable(pick(runs, 'linger-zero'), 'linger-zero');
      const ok = rs.filter((r) => rstsOf(r, 'server').some((x) => x.cause === 'abort') && !firstFin(r, 'server'));
      return {
        verdict: ok.length === rs.length ? 'reproduced' : 'differs',
        summary: `${ok.length} of ${rs.length} runs: the server's close with SO_LINGER {1,0} sent RST+ACK at SND.NXT and no FIN (cause abort). Clients saw: ${rs.map((r) => `${r.client}: ${errorLine(r)}`).join('; ')}.`,
        evidence: rs.map((r) => ({ run: r.id, capture: r.capture, frames: rstsOf(r, 'server').map((x) => x.frame), note: rstsOf(r, 'server').map((x) => x.cause).join(', ') || 'no RST' })),
      };
    },
  },
];

export const CLAIM_IDS = JUDGES.map((j) => j.id);

export function judgeClaims(runs: RunRecord[]): ClaimVerdict[] {
  return JUDGES.map(({ id, claim, judge }) => ({ id, claim, ...judge(runs) }));
}

/** The seed's open questions, answered from the runs. */
export function answerQuestions(runs: RunRecord[]): QuestionAnswer[] {
  const ev = (rs: RunRecord[]) => rs.filter(withCapture).map((r) => ({ run: r.id, capture: r.capture, frames: r.rsts.map((x) => x.frame), note: errorLine(r) }));
  const unread = pick(runs, 'unread-data-kill');
  const idle = runs.filter((r) => r.scenario === 'kill-server-before-request-http');
  const killedClient = pick(runs, 'client-killed-while-receiving');
  const serverSaw = killedClient.flatMap((r) => r.serverEvents.filter((e) => e.event === 'closed').map((e) => ('error' in e && e.error) ? e.error : ('how' in e ? e.how : '')));
  return [
    {
      id: 'Q1', question: 'Why does a killed process sometimes yield FIN and sometimes RST?',
      answer: `Unread data. A socket closed (or whose process dies) with an empty receive queue sends FIN (${idle.filter(withCapture).filter((r) => r.fins.some((f) => f.role === 'server')).length}/${idle.filter(withCapture).length} kill-server-before-request-http runs); with unread data in its receive queue Linux sends RST+ACK instead and no FIN (${unread.filter(withCapture).filter((r) => r.rsts.some((x) => x.role === 'server' && x.cause === 'abort')).length}/${unread.filter(withCapture).length} unread-data-kill runs) — __tcp_close's data_was_unread.`,
      evidence: [...ev(idle).slice(0, 2), ...ev(unread)],
    },
    {
      id: 'Q2', question: 'What does a sender see when the receiver crashes, and a receiver when the sender crashes?',
      answer: `Receiver crashes while the server sends: the client's kernel resets (unread data), and the sending server saw ${serverSaw.join(', ') || 'nothing reported'}. Sender crashes while the client receives: the client reads EOF (the FIN) and the HTTP libraries report a truncated body — see the kill-server-mid-response rows of the matrix.`,
      evidence: ev(killedClient),
    },
  ];
}
