// How `rstlab watch` prints: one block per reset (text) or one JSON object per line (`--json`),
// and the closing summary. Pure: records in, strings out.

import type { Painter } from '../report/text.js';
import type { WatchRecord } from './join.js';
import type { WatchSummary } from './run.js';

const SENDER_TEXT: Record<WatchRecord['sender'], string> = {
  'this-kernel': 'sent by this host\'s kernel',
  'not-this-kernel': 'from this host\'s address, not sent by its TCP (a firewall REJECT or a forged RST)',
  remote: 'from the peer (or the path, in its name)',
  unknown: 'seen by the kernel only',
};

function clock(t: number): string {
  const d = new Date(t * 1000);
  return `${d.toISOString().slice(11, 23)}`;
}

export function renderWatchRecord(r: WatchRecord, p: Painter): string {
  const lines: string[] = [];
  const who = r.process ? ` · ${r.process.comm} pid ${r.process.pid}${r.process.via === 'listener' ? ' (its listener)' : ''}` : '';
  lines.push(`${p.dim(clock(r.time))}  ${p.bold(`RST ${r.from} → ${r.to}`)}  ${SENDER_TEXT[r.sender]}${who}`);
  const parts: string[] = [];
  if (r.kernel) parts.push(`kernel: ${p.bold(r.kernel.reason)} (${r.kernel.state})`);
  if (r.cause) parts.push(`explainer: ${p.bold(r.cause)} (${r.confidence})${r.kernel ? (r.agrees ? p.green(' ✓') : p.red(` ✗ allows ${r.linuxReasons.join(', ') || 'no Linux reason'}`)) : r.linuxReason ? `, Linux would log ${r.linuxReason}` : ''}`);
  if (r.accepted) parts.push('accepted by a local socket');
  if (parts.length) lines.push(`    ${parts.join(' · ')}`);
  if (r.summary) lines.push(`    ${r.summary}`);
  if (r.connection) lines.push(p.dim(`    connection ${r.connection.orig} → ${r.connection.resp}  ${r.connection.connState}  history ${r.connection.history}  age ${r.connection.ageSec.toFixed(3)} s`));
  if (r.app) lines.push(`    app at ${r.to}: ${r.app}`);
  return lines.join('\n');
}

/** `--json`: the record as one line, snake_case as explain's records. */
export function watchJson(r: WatchRecord): string {
  return JSON.stringify({
    type: 'rst', ts: r.time, from: r.from, to: r.to, sender: r.sender, kernel: r.kernel, accepted: r.accepted,
    cause: r.cause, confidence: r.confidence, summary: r.summary, linux_reason: r.linuxReason, linux_reasons: r.linuxReasons,
    agrees: r.agrees, app: r.app, connection: r.connection ? { orig: r.connection.orig, resp: r.connection.resp, history: r.connection.history, conn_state: r.connection.connState, age: r.connection.ageSec } : null,
    process: r.process,
  });
}

export function renderWatchSummary(s: WatchSummary, p: Painter): string {
  const counts = (m: Record<string, number>) => Object.entries(m).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  return [
    p.bold(`watch: ${s.records} RST${s.records === 1 ? '' : 's'} in ${s.durationSec.toFixed(1)} s`)
      + ` — sent by this kernel ${s.bySender['this-kernel']}, from peers ${s.bySender.remote}, from this host but not its TCP ${s.bySender['not-this-kernel']}, kernel only ${s.bySender.unknown}`,
    `  kernel reasons: ${counts(s.byKernelReason)}`,
    `  causes: ${counts(s.byCause)}`,
    `  ${s.packets} packets read${s.packetsDropped ? p.red(`, ${s.packetsDropped} dropped by the kernel before tcpdump read them`) : ''}${s.lost === null ? '; the kernel was not watched' : `; ${s.lost} kernel events lost`}`,
  ].join('\n');
}

export function watchSummaryJson(s: WatchSummary): string {
  return JSON.stringify({ type: 'summary', records: s.records, by_sender: s.bySender, by_kernel_reason: s.byKernelReason, by_cause: s.byCause, packets: s.packets, packets_dropped: s.packetsDropped, lost: s.lost, duration: s.durationSec });
}
