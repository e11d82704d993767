// `rstlab watch`: every reset on a live host (or inside one network namespace), as it happens.
// Contract:
// - Two sources, each optional, merged by watch/join.ts: the kernel's `tcp_send_reset` /
//   `tcp_receive_reset` events from a private tracefs instance (lab/kernel-trace.ts, removed on
//   every exit path) and packets from a live `tcpdump -U --immediate-mode -w -` judged by the
//   explain engine in live mode (an ended connection is judged LIVE_LINGER_SEC after its last
//   packet by the wall clock). Either may be switched off or unavailable (no root, no tracefs, no
//   tcpdump): `onNote` gets one line saying which and why, and the other goes on; with neither,
//   WatchError.
// - Only this host's traffic: kernel events (which carry no namespace) are kept when one end is
//   an address of the watched host or namespace (`ip -j addr`); `ports` / `hosts` filter both
//   sources (tcpdump's filter, and the events' addresses); `pid` / `comm` keep the records whose
//   local process matches.
// - Socket owners come from `ss -tanpH` in the watched namespace (watch/owners.ts), never per
//   event: read at the start; then, checked every OWNERS_REFRESH_MS, read again when the
//   namespace's TCP open counters moved (/proc/net/snmp, of a process inside it for --netns: a new
//   connection exists that ss has not named; where they cannot be read, every time), and when a
//   kernel event of a socket came whose owner is not known (rate-limited). A flood of resets
//   without sockets (SYNs to closed ports) costs no `ss` at all.
// - Without packets (`capture` off or unavailable) kernel events are emitted as they are read
//   (watch/join.ts), in writes gathered by the caller.
// - Counting in the kernel (`kernelSource` 'bpftrace', or 'auto' where bpftrace can run; only
//   without packets, for a watch that writes no record per reset): lab/kernel-count.ts counts the
//   same events in BPF maps, printed every second (PRINT_MS); each distinct key comes here once with
//   its count and goes through the same filters, owners and joiner (a record with `count`). What
//   differs: a reset to a closed port keeps no remote port, the task an event ran in is never
//   taken as the socket's closer (bpftrace does not say whether it was a softirq), and nothing is
//   lost to a full ring buffer (an update that did not fit a full map is counted as lost).
// - It runs until `signal` aborts, `durationSec` passes or tcpdump ends; then it judges what is
//   held, emits the rest and resolves with the summary. Every child (tcpdump, ss, bpftrace) dies
//   with it.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { readCapture } from '../capture/reader.js';
import { CaptureFormatError, RstlabError } from '../errors.js';
import { Explainer } from '../explain/index.js';
import { startKernelCount } from '../lab/kernel-count.js';
import type { KernelCount } from '../lab/kernel-count.js';
import { startKernelTrace } from '../lab/kernel-trace.js';
import type { KernelTrace } from '../lab/kernel-trace.js';
import { findExecutable } from '../lab/proc.js';
import { run } from '../lab/topology.js';
import { parseEndpoint } from '../wire/addr.js';
import { WatchJoiner } from './join.js';
import type { JoinOptions, WatchRecord } from './join.js';
import type { WatchMetrics } from './metrics.js';
import { SocketOwners, tcpOpens } from './owners.js';

/** An ended connection is judged this long after its last packet (wall clock). */
export const WATCH_LINGER_SEC = 0.2;
const TICK_MS = 50;
/** Bytes kept per packet: the headers (link, IPv6 with extensions, TCP with options) are what the
 *  explainer reads. A whole-packet snap length makes each slot of tcpdump's ring 256 KiB, so a
 *  burst fills its 2 MiB and the kernel drops packets while the pipe to us drains. */
const SNAPLEN = 256;
const CAPTURE_BUFFER_KB = 8192;
const OWNERS_REFRESH_MS = 250;

export class WatchError extends RstlabError {
  readonly code = 'WATCH_FAILED';
}

export interface WatchOptions {
  netns?: string;
  iface?: string;
  ports: number[];
  hosts: string[];
  pid?: number;
  comm?: string;
  kernel: boolean;
  capture: boolean;
  /** Where the kernel's events come from: the tracefs ring buffer (default), counts made in the
   *  kernel by bpftrace (only with `capture` off), or bpftrace where it can run and the ring
   *  buffer elsewhere ('auto'). */
  kernelSource?: 'tracefs' | 'bpftrace' | 'auto';
  durationSec?: number;
  signal?: AbortSignal;
  metrics?: WatchMetrics;
  onRecord: (r: WatchRecord) => void;
  onNote: (line: string) => void;
  /** Both sources are up (those that could be started): resets from now on are seen. `counting`:
   *  the kernel's resets are counted in the kernel (bpftrace). */
  onReady?: (sources: { kernel: boolean; capture: boolean; counting: boolean }) => void;
}

export interface WatchSummary {
  records: number;
  bySender: Record<WatchRecord['sender'], number>;
  byKernelReason: Record<string, number>;
  byCause: Record<string, number>;
  /** Kernel events the trace buffer lost (null: the kernel was not watched). */
  lost: number | null;
  packets: number;
  /** Packets tcpdump says the kernel dropped (its ring was full): RSTs that may be missing. */
  packetsDropped: number;
  durationSec: number;
}

/** An endpoint's address and port as explain writes it (`1.2.3.4:80`, `[::1]:80`), without
 *  parseEndpoint's objects and regex: this runs for every kernel event. */
const addrOf = (ep: string) => (ep.charCodeAt(0) === 91 ? ep.slice(1, ep.lastIndexOf(':') - 1) : ep.slice(0, ep.lastIndexOf(':')));
function portOf(ep: string): number {
  let n = 0;
  let m = 1;
  for (let i = ep.length - 1; i >= 0; i--) {
    const c = ep.charCodeAt(i);
    if (c === 58) return n;
    n += (c - 48) * m;
    m *= 10;
  }
  return Number.NaN;
}

/** ActiveOpens + PassiveOpens of the watched namespace (see the header); null when they cannot
 *  be read (then ss is read every time). For --netns: /proc/<pid>/net/snmp of a process in that
 *  namespace (found by its ns/net inode, looked for again at most once a second); with no
 *  process there the count is 0: no process, no socket owner for ss to name. */
function opensCounter(netns: string | undefined): () => number | null {
  if (!netns) {
    return () => { try { return tcpOpens(readFileSync('/proc/net/snmp', 'utf8')); } catch { return null; } };
  }
  let ino: string;
  try { ino = `net:[${statSync(`/run/netns/${netns}`).ino}]`; } catch { return () => null; }
  let pid: string | null = null;
  let looked = -Infinity;
  const find = () => {
    looked = Date.now();
    for (const p of readdirSync('/proc')) {
      if (p.charCodeAt(0) < 48 || p.charCodeAt(0) > 57) continue;
      try { if (readlinkSync(`/proc/${p}/ns/net`) === ino) return p; } catch { /* gone */ }
    }
    return null;
  };
  return () => {
    for (let k = 0; k < 2; k++) {
      if (pid === null && Date.now() - looked >= 1000) pid = find();
      if (pid === null) return 0;
      try {
        if (readlinkSync(`/proc/${pid}/ns/net`) === ino) return tcpOpens(readFileSync(`/proc/${pid}/net/snmp`, 'utf8'));
      } catch { /* that process is gone */ }
      pid = null;
      looked = -Infinity;
    }
    return 0;
  };
}

const inNetns = (netns: string | undefined, argv: string[]) => (netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv);

/** The watched host's (or namespace's) own addresses, as explain formats them. */
async function localAddresses(netns: string | undefined): Promise<Set<string>> {
  const r = await run(['ip', ...(netns ? ['-n', netns] : []), '-j', 'addr', 'show']);
  if (r.code !== 0) throw new WatchError(`cannot list the addresses${netns ? ` of namespace ${netns}` : ''}: ${r.stderr.trim() || `ip exited with ${r.code}`}`, netns ? 'check the name with `ip netns list`' : undefined);
  const links = JSON.parse(r.stdout) as Array<{ addr_info?: Array<{ local?: string }> }>;
  return new Set(links.flatMap((l) => (l.addr_info ?? []).flatMap((a) => (a.local ? [a.local] : []))));
}

function bpfFilter(ports: number[], hosts: string[]): string {
  const parts = ['tcp'];
  if (ports.length) parts.push(`(${ports.map((p) => `port ${p}`).join(' or ')})`);
  if (hosts.length) parts.push(`(${hosts.map((h) => `host ${h}`).join(' or ')})`);
  return parts.join(' and ');
}

/** tcpdump writing pcap to its stdout; resolves once it says it is listening. */
function startTcpdump(netns: string | undefined, iface: string, filter: string): Promise<ChildProcess> {
  const setpriv = findExecutable('setpriv');
  const argv = [...(setpriv ? [setpriv, '--pdeathsig', 'KILL'] : []), ...inNetns(netns, ['tcpdump', '-i', iface, '-n', '-U', '--immediate-mode', '-s', String(SNAPLEN), '-B', String(CAPTURE_BUFFER_KB), '-w', '-', filter])];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new WatchError(`tcpdump did not start listening within 5 s: ${err.trim()}`)); }, 5000);
    child.on('error', (e) => { clearTimeout(timer); reject(new WatchError(`cannot run tcpdump: ${e.message}`, 'install it: apt-get install tcpdump')); });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      err += d;
      if (/listening on /.test(err)) { clearTimeout(timer); resolve(child); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new WatchError(`tcpdump exited (${code}): ${err.trim().split('\n').slice(-2).join(' ')}`, /permission|not permitted/i.test(err) ? 'capturing needs root (or CAP_NET_RAW)' : undefined)); });
  });
}

export async function runWatch(opts: WatchOptions): Promise<WatchSummary> {
  const started = Date.now();
  const local = await localAddresses(opts.netns);
  const isLocal = (addr: string) => local.has(addr);
  /** The `--port` / `--host` filters, on both ends of a connection. */
  const wanted = (a: { addr: string; port: number }, b: { addr: string; port: number }) =>
    (opts.ports.length === 0 || opts.ports.includes(a.port) || opts.ports.includes(b.port))
    && (opts.hosts.length === 0 || opts.hosts.includes(a.addr) || opts.hosts.includes(b.addr));
  /** The same on two endpoints' text, for kernel events: one end local (the joiner remembers
   *  which endpoints are: the raw reader gives the same string for the same endpoint), both
   *  filters. Called only once the joiner below exists. */
  const wantedEvent = (x: string, y: string) => {
    if (opts.ports.length && !opts.ports.includes(portOf(x)) && !opts.ports.includes(portOf(y))) return false;
    if (!joiner.isLocalEndpoint(x) && !joiner.isLocalEndpoint(y)) return false;
    return opts.hosts.length === 0 || opts.hosts.includes(addrOf(x)) || opts.hosts.includes(addrOf(y));
  };
  const summary: WatchSummary = {
    records: 0, bySender: { 'this-kernel': 0, 'not-this-kernel': 0, remote: 0, unknown: 0 }, byKernelReason: {}, byCause: {}, lost: null, packets: 0, packetsDropped: 0, durationSec: 0,
  };
  const owners = new SocketOwners(async () => {
    const r = await run(inNetns(opts.netns, ['ss', '-tanpH']), { timeoutMs: 5000 });
    return r.code === 0 ? r.stdout : '';
  });
  const joinOptions: JoinOptions = {
    isLocal,
    kernelWatched: opts.kernel,
    packetsWatched: opts.capture,
    owner: (l, r) => owners.owner(l, r),
    emit: (r) => {
      if (opts.pid !== undefined && r.process?.pid !== opts.pid) return;
      if (opts.comm !== undefined && r.process?.comm !== opts.comm) return;
      const n = r.count ?? 1;
      summary.records += n;
      summary.bySender[r.sender] += n;
      if (r.kernel) summary.byKernelReason[r.kernel.reason] = (summary.byKernelReason[r.kernel.reason] ?? 0) + n;
      if (r.cause) summary.byCause[r.cause] = (summary.byCause[r.cause] ?? 0) + n;
      opts.metrics?.observe(r, isLocal);
      opts.onRecord(r);
    },
  };
  const joiner = new WatchJoiner(joinOptions);
  await owners.refresh();

  let trace: KernelTrace | KernelCount | null = null;
  const source = opts.kernelSource ?? 'tracefs';
  if (source !== 'tracefs' && opts.capture) throw new WatchError('the kernel\'s resets are counted in the kernel (bpftrace) only without packets', 'add --no-capture, or leave the kernel source to tracefs');
  if (opts.kernel && source !== 'tracefs') {
    const c = await startKernelCount(opts.ports);
    if (!('unavailable' in c)) trace = c;
    else if (source === 'bpftrace') throw new WatchError(`cannot count the resets in the kernel: ${c.unavailable}`, 'install bpftrace (apt-get install bpftrace), or use --kernel-source tracefs');
    else opts.onNote(`counting with the ring buffer: ${c.unavailable}`);
  }
  if (opts.kernel && trace === null) {
    const t = await startKernelTrace(`w${Math.floor(Math.random() * 46656).toString(36)}`);
    if ('unavailable' in t) opts.onNote(`no kernel reasons: ${t.unavailable}; watching packets only`);
    else trace = t;
  }
  let tcpdump: ChildProcess | null = null;
  if (opts.capture) {
    if (!findExecutable('tcpdump')) opts.onNote('no packets: tcpdump is not installed (apt-get install tcpdump); watching the kernel only');
    else {
      try {
        tcpdump = await startTcpdump(opts.netns, opts.iface ?? 'any', bpfFilter(opts.ports, opts.hosts));
        let tail = '';
        tcpdump.stderr!.on('data', (d: string) => {
          tail = (tail + d).slice(-2000);
          const m = /(\d+) packets? dropped by kernel/.exec(tail);
          if (m) summary.packetsDropped = Number(m[1]);
        });
      } catch (err) {
        opts.onNote(`no packets: ${(err as Error).message}; watching the kernel only`);
      }
    }
  }
  if (!trace && !tcpdump) {
    throw new WatchError('nothing to watch: neither the kernel\'s reasons nor packets can be read here', 'run as root (tracefs and tcpdump need it)');
  }
  joinOptions.packetsWatched = tcpdump !== null;
  opts.onReady?.({ kernel: trace !== null, capture: tcpdump !== null, counting: trace?.mode === 'bpftrace' });

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();
  const timer = opts.durationSec !== undefined ? setTimeout(onAbort, opts.durationSec * 1000) : null;

  const drainKernel = () => {
    if (!trace) return;
    const now = Date.now() / 1000;
    let unknownOwner = false;
    for (const e of trace.read()) {
      if (e.kind === 'mark') continue;
      const [l, r] = e.kind === 'send' ? [e.src, e.dst] : [e.local, e.remote];
      if (!wantedEvent(l, r)) continue;
      // A socket's reset whose owner ss has not shown: it may be gone soon, read ss now.
      if (!unknownOwner && (e.kind === 'receive' || e.state !== 'UNKNOWN') && !owners.knows(l, r)) unknownOwner = true;
      // To the microsecond, as the kernel's time stamp is (and the JSON record writes it).
      joiner.kernel(e, Math.round((e.ts + trace.wallOffset) * 1e6) / 1e6, now);
    }
    joiner.flushKernel();
    if (unknownOwner) void owners.refresh();
  };

  const explainer = new Explainer({
    onConnection: (c) => {
      for (const v of c.rsts) if (wanted(parseEndpoint(v.from), parseEndpoint(v.to))) joiner.packet(v, c, Date.now() / 1000);
    },
  }, { segments: false, normal: false, closedLingerSec: WATCH_LINGER_SEC });
  let lastOwners = Date.now();
  const opens = opensCounter(opts.netns);
  let lastOpens = opens();
  /** Read ss again until this time: the counters moved (twice: a connection counted as opened
   *  may be accepted by its process only a moment later). */
  let ownersDirtyUntil = 0;
  const tickOnce = () => {
    const now = Date.now();
    drainKernel();
    explainer.advance(now / 1000);
    joiner.tick(now / 1000);
    if (now - lastOwners >= OWNERS_REFRESH_MS) {
      lastOwners = now;
      const n = opens();
      if (n === null || n !== lastOpens) ownersDirtyUntil = now + 2 * OWNERS_REFRESH_MS;
      lastOpens = n;
      if (now < ownersDirtyUntil) void owners.refresh(now);
    }
    if (trace) opts.metrics?.lost(trace.lost());
  };
  // Counted in the kernel: bpftrace prints every PRINT_MS, empty or not; each print is the tick
  // (one wake-up a second in all, where a timer beside it made two).
  const ticker = trace?.mode === 'bpftrace' ? null : setInterval(tickOnce, TICK_MS);
  if (trace?.mode === 'bpftrace') {
    trace.onPrint = tickOnce;
    trace.onExit = (why) => { opts.onNote(`${why}: the kernel's resets are no longer counted; stopping`); stop.abort(); };
  }

  try {
    if (tcpdump) {
      const dump = tcpdump;
      stop.signal.addEventListener('abort', () => dump.kill('SIGINT'), { once: true });
      try {
        const cap = await readCapture(dump.stdout!, { packet: explainer.packet, anomaly: explainer.captureAnomaly }, { signal: stop.signal });
        summary.packets = cap.packets;
      } catch (err) {
        if (!(err instanceof CaptureFormatError)) throw err;
        opts.onNote(`the capture ended early: ${err.message}`);
      }
      if (!stop.signal.aborted && opts.kernel && trace) {
        opts.onNote('tcpdump ended; watching the kernel only');
        joinOptions.packetsWatched = false;
      }
      if (!trace) stop.abort();
    }
    if (!stop.signal.aborted) await new Promise<void>((res) => stop.signal.addEventListener('abort', () => res(), { once: true }));
  } finally {
    if (ticker) clearInterval(ticker);
    if (trace?.mode === 'bpftrace') trace.onPrint = drainKernel;
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    if (tcpdump && tcpdump.exitCode === null) {
      tcpdump.kill('SIGINT');
      await new Promise((res) => { const t = setTimeout(() => { tcpdump!.kill('SIGKILL'); res(null); }, 2000); tcpdump!.once('exit', () => { clearTimeout(t); res(null); }); });
    }
    explainer.end();
    // Counted in the kernel: the last counts are printed as bpftrace exits.
    if (trace?.mode === 'bpftrace') summary.lost = (await trace.stop()).lost;
    drainKernel();
    joiner.end();
    if (trace) {
      if (trace.mode !== 'bpftrace') summary.lost = (await trace.stop()).lost;
      opts.metrics?.lost(summary.lost ?? 0);
    }
  }
  summary.durationSec = (Date.now() - started) / 1000;
  return summary;
}
