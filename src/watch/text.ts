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

/** Whether a string can go into JSON as it is (no quote, backslash or control character). */
function plain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}
const str = (s: string | null) => (s === null ? 'null' : plain(s) ? `"${s}"` : JSON.stringify(s));
const num = (n: number) => (Number.isFinite(n) ? String(n) : 'null');
/** A time in seconds as String() writes it, without its general double-to-text conversion where
 *  the time is a whole number of microseconds (as watch makes the kernel's): seconds and the
 *  fraction as two small integers. */
function seconds(t: number): string {
  if (!(t >= 0 && t < 4e9)) return num(t);
  const us = Math.round(t * 1e6);
  if (us / 1e6 !== t) return num(t);
  const sec = Math.floor(us / 1e6);
  let frac = us - sec * 1e6;
  if (frac === 0) return String(sec);
  let digits = 6;
  while (frac % 10 === 0) { frac /= 10; digits--; }
  const f = String(frac);
  return `${sec}.${f.length < digits ? '0'.repeat(digits - f.length) + f : f}`;
}
const pid = (r: WatchRecord) => (r.process ? `{"pid":${num(r.process.pid)},"comm":${str(r.process.comm)},"via":"${r.process.via}"}` : 'null');
/** What every record with the kernel's view alone has after `kernel`. */
const KERNEL_ONLY_MIDDLE = ',"cause":null,"confidence":null,"summary":null,"linux_reason":null,"linux_reasons":[],"agrees":null,"app":null,"connection":null,"process":';

/** `--json`: the record as one line, snake_case as explain's records. Written field by field (a
 *  record with the kernel's view alone by one template): one record per reset at tens of
 *  thousands a second made JSON.stringify of a fresh object the largest cost of `watch --json`
 *  after the kernel's own. The same JSON as stringify gives (text.test.ts). */
export function watchJson(r: WatchRecord): string {
  const k = r.kernel ? `{"reason":${str(r.kernel.reason)},"state":${str(r.kernel.state)}}` : 'null';
  const head = `{"type":"rst","ts":${seconds(r.time)},"from":${str(r.from)},"to":${str(r.to)},"sender":"${r.sender}","kernel":${k},"accepted":${r.accepted === null ? 'null' : r.accepted}`;
  if (r.connection === null && r.cause === null && r.summary === null && r.app === null && r.agrees === null && r.linuxReason === null && r.confidence === null && r.linuxReasons.length === 0) {
    return `${head}${KERNEL_ONLY_MIDDLE}${pid(r)}}`;
  }
  const c = r.connection
    ? `{"orig":${str(r.connection.orig)},"resp":${str(r.connection.resp)},"history":${str(r.connection.history)},"conn_state":${str(r.connection.connState)},"age":${num(r.connection.ageSec)}}`
    : 'null';
  const reasons = r.linuxReasons.length ? `[${r.linuxReasons.map(str).join(',')}]` : '[]';
  return `${head},"cause":${str(r.cause)},"confidence":${str(r.confidence)},"summary":${str(r.summary)},"linux_reason":${str(r.linuxReason)},"linux_reasons":${reasons}`
    + `,"agrees":${r.agrees === null ? 'null' : r.agrees},"app":${str(r.app)},"connection":${c},"process":${pid(r)}}`;
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
