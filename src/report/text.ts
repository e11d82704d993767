// Terminal rendering of explain results. Pure: data in, strings out (colour through a function
// passed in, so tests compare plain text). One block per connection, one sub-block per RST, then a
// summary line; also the newline-delimited JSON records of `rstlab explain --json`.

import type { ConnectionReport, ExplainSummary, RateLimitFinding, RstPattern, RstVerdict, SenderProfile } from '../explain/index.js';

export interface Painter {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
}

export const plain: Painter = { bold: (s) => s, dim: (s) => s, red: (s) => s, yellow: (s) => s, green: (s) => s, cyan: (s) => s };

const num = (n: number) => n.toLocaleString('en-US');

export function relTime(t: number, first: number | null): string {
  return `+${(first === null ? 0 : t - first).toFixed(6)}s`;
}

export function renderConnectionText(c: ConnectionReport, first: number | null, p: Painter = plain): string {
  const lines: string[] = [];
  const frames = c.firstFrame === c.lastFrame ? `frame ${c.firstFrame}` : `frames ${c.firstFrame}–${c.lastFrame}`;
  lines.push(`${p.bold(`#${c.id}`)}  ${c.orig} → ${c.resp}  ${p.cyan(c.connState)}  history ${c.history || '-'}  ${frames}  ${c.duration.toFixed(3)}s`);
  const extras: string[] = [];
  if (c.retransmissions) extras.push(`${c.retransmissions} retransmission(s)`);
  if (c.keepalives) extras.push(`${c.keepalives} keepalive(s)`);
  if (c.zeroWindows) extras.push(`${c.zeroWindows} zero window(s)`);
  const anomalies = Object.entries(c.anomalies).filter(([k]) => k !== 'midstream');
  if (anomalies.length) extras.push(anomalies.map(([k, n]) => `${k}×${n}`).join(' '));
  if (Object.hasOwn(c.anomalies, 'midstream')) extras.push('handshake not captured');
  if (extras.length) lines.push(`  ${p.dim(extras.join(' · '))}`);
  for (const r of c.rsts) lines.push(...renderRstText(r, first, p));
  return lines.join('\n');
}

/** The Linux reasons of a verdict in words (docs/explain.md, "Linux's reason"); the text and HTML reports. */
export function linuxReasonText(r: RstVerdict): string {
  if (r.linuxReason !== null) return r.linuxReason;
  if (r.linuxReasons.length) return `one of ${r.linuxReasons.join(', ')} (the packets cannot tell which)`;
  return 'nothing: not a Linux TCP reset as far as the packets tell';
}

export function renderRstText(r: RstVerdict, first: number | null, p: Painter = plain): string[] {
  const colour = r.cause === 'out-of-window' ? p.yellow : p.red;
  const out = [
    `  frame ${r.frame}  ${relTime(r.time, first)}  RST ${r.from} → ${r.to}  ${colour(p.bold(r.cause))} (${r.confidence})`,
    `    ${r.summary}`,
  ];
  for (const e of r.evidence) out.push(`    ${p.dim('·')} ${e}`);
  out.push(`    ${p.dim('Linux would log')} ${linuxReasonText(r)}`);
  out.push(`    ${p.dim('app at')} ${r.to}: ${r.app.receiver}`);
  if (r.app.sender) out.push(`    ${p.dim('app at')} ${r.from}: ${r.app.sender}`);
  return out;
}

/**
 * The patterns of `rstlab explain` text output: one block each, for the RSTs counted rather than
 * listed (explain/groups.ts); empty when there are none.
 */
export function renderPatternsText(patterns: readonly RstPattern[], listed: number, p: Painter = plain): string {
  if (!patterns.length) return '';
  const lines = [p.bold(`patterns (the first ${num(listed)} of each are listed above; --group 0 lists them all)`)];
  for (const x of patterns) {
    const d = describePattern(x);
    lines.push(`  ${p.yellow(d.what)}${d.scan ? ` — ${d.scan}` : ''}`);
    lines.push(p.dim(`    ${d.where}`));
  }
  return lines.join('\n');
}

/** A pattern in words (the text and HTML reports): what was counted, what it looks like when it
 *  is a port scan, and where its RSTs are. */
export function describePattern(x: RstPattern): { what: string; scan: string | null; where: string } {
  const atLeast = x.capped ? 'at least ' : '';
  const hosts = `${atLeast}${num(x.peers)} host${x.peers === 1 ? '' : 's'}`;
  const ports = `${atLeast}${num(x.ports)} port${x.ports === 1 ? '' : 's'}`;
  const counted = x.cause === 'unanswered' ? 'unanswered SYNs' : `${x.cause} RSTs`;
  const what = x.role === 'receiver'
    ? `${num(x.count)} more ${counted} to ${x.host}, from ${hosts} on ${ports}`
    : `${num(x.count)} more ${counted} from ${x.host} to ${hosts}, on ${ports}`;
  // A scan: the scanner receives the refusals, and sends the SYNs nobody answered.
  const scan = x.ports < 100 ? null
    : x.cause === 'refused' && x.role === 'receiver' ? 'a port scan'
      : x.cause === 'unanswered' && x.role === 'sender' ? 'a port scan (ports filtered, hosts absent, or RSTs rate-limited)' : null;
  return { what, scan, where: `frames ${num(x.firstFrame)}–${num(x.lastFrame)}; e.g. ${x.examples.map((id) => `#${id}`).join(', ')}` };
}

export function renderSummaryText(s: ExplainSummary, p: Painter = plain): string {
  const causes = Object.entries(s.byCause).filter(([, n]) => n > 0).map(([c, n]) => `${c} ${n}`);
  let line = `${p.bold('summary')}: ${num(s.packets)} packets (${num(s.tcpPackets)} TCP), ${num(s.connections)} connections, `
    + `${num(s.rsts)} RST${s.rsts === 1 ? '' : 's'}`;
  if (causes.length) line += ` — ${causes.join(', ')}`;
  line += `; ${num(s.abnormalConnections)} connection(s) ended abnormally`;
  const anomalies = Object.entries(s.anomalies);
  if (anomalies.length) {
    line += `\n${p.dim('anomalies')}: ${anomalies.map(([k, a]) => `${k} ×${a.count} (first: frame ${a.firstFrame ?? '-'})`).join(', ')}`;
  }
  for (const x of s.rateLimited ?? []) line += `\n${p.yellow('rate-limited RSTs')}: ${describeRateLimit(x)}`;
  return line;
}

/** A rate-limited host in words (text and HTML summaries). */
export function describeRateLimit(x: RateLimitFinding): string {
  return `${x.host} answered SYNs to closed ports with ${num(x.perSecond)} RSTs a second in each of ${num(x.seconds)} seconds`
    + ` while the SYNs it got went from ${num(x.synsMin)} to ${num(x.synsMax)} a second, and left ${num(x.unanswered)} unanswered:`
    + ' its stack limits its RSTs (FreeBSD/macOS net.inet.icmp.icmplim, 200/250 a second by default; Linux does not),'
    + ' so those ports are closed, not necessarily filtered';
}

/** `{"type":"connection",…}` as in `rstlab explain --json` (Zeek conn.log names where they exist). */
export function connectionRecord(c: ConnectionReport): Record<string, unknown> {
  return {
    type: 'connection', id: c.id, orig: c.orig, resp: c.resp, proto: 'tcp', ip_version: c.ipVersion,
    first_frame: c.firstFrame, last_frame: c.lastFrame, ts: c.start, duration: c.duration,
    history: c.history, conn_state: c.connState, orig_pkts: c.origPackets, resp_pkts: c.respPackets,
    orig_bytes: c.origBytes, resp_bytes: c.respBytes, retransmissions: c.retransmissions,
    keepalives: c.keepalives, zero_windows: c.zeroWindows, rsts: c.rsts.length, abnormal: c.abnormal,
    anomalies: c.anomalies,
    orig_profile: profileRecord(c.profiles.orig), resp_profile: profileRecord(c.profiles.resp),
  };
}

/** A sender profile (explain/profile.ts) in the records' spelling. */
export function profileRecord(p: SenderProfile): Record<string, unknown> {
  return {
    family: p.family, basis: p.basis, ttl: p.ttl, initial_ttl: p.initialTtl, hops: p.hops,
    syn_options: p.synOptions, syn_window: p.synWindow, window_scale: p.windowScale, ip_id: p.ipId,
  };
}

/** `{"type":"rst",…}` as in `rstlab explain --json`. */
export function rstRecord(r: RstVerdict): Record<string, unknown> {
  return {
    type: 'rst', frame: r.frame, ts: r.time, connection: r.connection, from: r.from, to: r.to,
    sender: r.sender, cause: r.cause, confidence: r.confidence, form: r.form, summary: r.summary,
    evidence: r.evidence, trigger: r.trigger, app: r.app,
    linux_reason: r.linuxReason, linux_reasons: r.linuxReasons, sender_profile: profileRecord(r.senderProfile),
  };
}

export function summaryRecord(s: ExplainSummary): Record<string, unknown> {
  return {
    type: 'summary', packets: s.packets, tcp_packets: s.tcpPackets, connections: s.connections,
    abnormal_connections: s.abnormalConnections, rsts: s.rsts, by_cause: s.byCause, anomalies: s.anomalies,
    ...(s.rateLimited ? {
      rate_limited: s.rateLimited.map((x) => ({
        host: x.host, per_second: x.perSecond, seconds: x.seconds, answered: x.answered, unanswered: x.unanswered, syns_min: x.synsMin, syns_max: x.synsMax,
      })),
    } : {}),
    format: s.capture?.format, gzip: s.capture?.gzip,
  };
}
