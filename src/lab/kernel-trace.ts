// The kernel as the oracle: Linux's own reason for every RST its TCP stack sends (tracepoint
// tcp:tcp_send_reset, `enum sk_rst_reason`, Linux ≥ 6.10) and every RST a socket accepts
// (tcp:tcp_receive_reset), read from a private tracefs instance while the lab runs.
// Contract:
// - `parseTraceLine(line)` turns one line of `trace_pipe` text into a KernelTraceEvent (send,
//   receive, or a `trace_marker` mark), or null for anything else. Pure; addresses are formatted as
//   explain formats them (`10.0.0.1:80`, `[fd00::1]:80`), so events and RSTs compare as strings.
// - `startKernelTrace(name)` makes `instances/<name>` (never the global buffer), gives it a buffer
//   of BUFFER_KB per CPU, enables the two events there and opens, without blocking, each CPU's
//   `per_cpu/cpuN/trace_pipe_raw`, decoded by trace-raw.ts into the same events parseTraceLine
//   gives (`mode: 'raw'`: the kernel formats no text, nothing parses it). Where raw pages cannot be
//   read (no trace_pipe_raw, a format the decoder does not know, a big-endian host, or `{ text:
//   true }`) it reads `trace_pipe` text as before (`mode: 'text'`). Where neither can be done (no
//   root, no tracefs, a kernel without the `reason` field) it returns `{ unavailable: why }` in one
//   line and changes nothing. tracefs is mounted at TRACEFS only when it is not mounted anywhere,
//   and unmounted by the last rstlab process to stop (tracefs-mount.ts).
// - comm in raw mode: a raw event has only its pid. It is named from the kernel's saved_cmdlines
//   (what trace_pipe prints), else /proc/<pid>/comm, else `<...>` (as trace_pipe prints an unknown
//   pid), remembered for a couple of seconds. A short-lived task that is gone before its event is
//   read and that saved_cmdlines does not list stays `<...>`, as in the text; one whose pid was
//   reused, or that exec'd another program, in that time may be named after the newer one.
// - The instance's trace clock is `mono` (CLOCK_MONOTONIC); `wallOffset` turns its times into
//   wall-clock seconds, to match events with captured packets (to a few milliseconds).
// - `mark(text)` writes a mark into the instance's own buffer, in order with the events: the lab
//   marks each run's start and end. `read()` drains what the kernel has written so far (call it
//   often: the buffer is bounded); `until(mark)` drains until that mark is seen (bounded wait).
// - `stop()` drains, reads the lost-event counters (`per_cpu/cpu*/stats`: overrun + dropped),
//   disables the events and removes the instance; it is safe to call twice, and the lab calls it
//   on every exit path (cleanup.ts also removes instances a crashed lab left).
// - `TracePool` shares one recorder among runs going on at once (the lab's lanes): each run
//   `begin`s with its start mark and `end`s with its end mark, getting every event between the two;
//   one reader drains at a time, and events are kept while a run that began before them is open.
// Events from every network namespace share the buffer and carry no namespace: the lab tells its
// hosts apart by address (its addresses exist only inside its namespaces). A send event's pid and
// comm are whichever task ran: for RSTs sent in softirq context often an unrelated one.

import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import path from 'node:path';
import { formatEndpoint } from '../wire/addr.js';
import { releaseTracefs, TRACEFS, useTracefs } from './tracefs-mount.js';
import { FormatError, mergeByTime, parseFormats } from './trace-raw.js';
import type { RawDecoder } from './trace-raw.js';

export { TRACEFS };
/** Instances the lab makes are named `rstlab-p<pid>-<suffix>` (cleanup.ts finds their owner). */
export const INSTANCE_PREFIX = 'rstlab-p';
/** Ring buffer per CPU, in KiB: ~75k events/s are read here, each ~100 bytes in the buffer. */
const BUFFER_KB = 4096;
const EVENTS = ['tcp_send_reset', 'tcp_receive_reset'] as const;

export interface KernelSend {
  kind: 'send';
  /** Seconds on the instance's trace clock (`mono`: CLOCK_MONOTONIC; KernelTrace.wallOffset turns
   *  it into the capture's wall-clock time). */
  ts: number;
  cpu: number;
  /** The task that ran when the event fired: the process that closed or aborted the socket in
   *  process context; an unrelated one when `inIrq` (softirq: a packet or a timer). */
  pid: number;
  comm: string;
  inIrq: boolean;
  src: string;
  dst: string;
  /** The socket's state (`TCP_ESTABLISHED`…, `UNKNOWN` when no socket). */
  state: string;
  /** `enum sk_rst_reason` (`NO_SOCKET`, `TCP_ABORT_ON_CLOSE`…). */
  reason: string;
  /** How many events with these fields this one stands for (kernel-count.ts, which counts them
   *  in the kernel); absent: one. */
  count?: number;
}

export interface KernelReceive {
  kind: 'receive';
  ts: number;
  cpu: number;
  pid: number;
  comm: string;
  inIrq: boolean;
  /** The socket that accepted the RST: its own address, and the peer that sent the RST. */
  local: string;
  remote: string;
  /** The socket's cookie (hex in the event; `ss -e` prints it as `sk:`; -1 when counted). */
  cookie: number;
  /** As KernelSend's. */
  count?: number;
}

export interface KernelMark { kind: 'mark'; ts: number; text: string }

export type KernelTraceEvent = KernelSend | KernelReceive | KernelMark;

const LINE = /^\s*(.*?)-(\d+)\s+\[(\d+)\]\s+(\S+)\s+(\d+\.\d+): (tcp_send_reset|tcp_receive_reset|tracing_mark_write): (.*)$/;

/** `key=value` pairs of an event's text. */
function fields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of text.split(' ')) {
    const eq = part.indexOf('=');
    if (eq > 0) m.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return m;
}

/** `127.0.0.1:80` or `[fd00::1]:80` as the kernel prints a sockaddr (%pISpc), in explain's form. */
function endpoint(s: string | undefined): string | null {
  if (s === undefined) return null;
  const m = /^\[(.+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  return m ? formatEndpoint(m[1]!, Number(m[2])) : null;
}

/** An IPv4-mapped address as the kernel and bpftrace print it (`::ffff:10.0.0.1`): a dual-stack
 *  socket's receive event is then read by its IPv4 fields (here, trace-raw.ts, kernel-count.ts). */
export const isV4MappedText = (addr: string) => /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(addr);

export function parseTraceLine(line: string): KernelTraceEvent | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const [, comm, pid, cpu, flags, ts, event, text] = m as unknown as [string, string, string, string, string, string, string, string];
  // The flags' third character: h / H / s when the event ran in a hard or soft interrupt.
  const base = { ts: Number(ts), cpu: Number(cpu), pid: Number(pid), comm, inIrq: /^..[hHs]/.test(flags) };
  if (event === 'tracing_mark_write') return { kind: 'mark', ts: base.ts, text: text.trim() };
  const f = fields(text);
  if (event === 'tcp_send_reset') {
    const src = endpoint(f.get('src'));
    const dst = endpoint(f.get('dest'));
    if (src === null || dst === null) return null;
    return { kind: 'send', ...base, src, dst, state: f.get('state') ?? 'UNKNOWN', reason: f.get('reason') ?? 'NOT_SPECIFIED' };
  }
  // tcp_receive_reset: the socket's own address and port, then the peer's (family decides which).
  // A dual-stack socket talking IPv4 logs AF_INET6 with v4-mapped addresses, and the IPv4 ones
  // beside them: those, as its packets and send events show it (trace-raw.ts does the same).
  const v6 = f.get('family') === 'AF_INET6' && !isV4MappedText(f.get('saddrv6') ?? '');
  const local = f.get(v6 ? 'saddrv6' : 'saddr');
  const remote = f.get(v6 ? 'daddrv6' : 'daddr');
  if (local === undefined || remote === undefined) return null;
  return {
    kind: 'receive', ...base,
    local: formatEndpoint(local, Number(f.get('sport'))), remote: formatEndpoint(remote, Number(f.get('dport'))),
    cookie: parseInt(f.get('sock_cookie') ?? '-1', 16),
  };
}

export interface KernelTrace {
  readonly instance: string;
  /** Add to an event's `ts` for wall-clock seconds (as pcap timestamps are). */
  readonly wallOffset: number;
  /** `raw`: the binary ring buffer (trace-raw.ts); `text`: trace_pipe, where raw cannot be read. */
  readonly mode: 'raw' | 'text';
  mark(text: string): void;
  read(): KernelTraceEvent[];
  until(markText: string, timeoutMs?: number): Promise<KernelTraceEvent[]>;
  stop(): Promise<{ lost: number }>;
  /** Events the buffer has lost so far (overrun + dropped), while it runs. */
  lost(): number;
}

/** Why tracefs cannot give the kernel's reasons here, or null when it can. */
function unavailableWhy(root: string): string | null {
  if (process.platform !== 'linux') return 'the kernel\'s reset reasons need Linux';
  if (process.getuid?.() !== 0) return 'the kernel\'s reset reasons need root (tracefs)';
  const format = path.join(root, 'events', 'tcp', 'tcp_send_reset', 'format');
  if (!existsSync(format)) return `no tracepoint tcp:tcp_send_reset in ${root} (kernel without it, or tracefs not mounted)`;
  if (!/field:enum sk_rst_reason reason;/.test(readFileSync(format, 'utf8'))) return 'tcp:tcp_send_reset carries no reason on this kernel (Linux ≥ 6.10 has it)';
  if (!existsSync(path.join(root, 'instances'))) return `${root} has no instances directory`;
  return null;
}

export interface TraceOptions {
  /** Read `trace_pipe` text even where `trace_pipe_raw` can be read (tests, comparisons). */
  text?: boolean;
}

export async function startKernelTrace(suffix: string, opts: TraceOptions = {}): Promise<KernelTrace | { unavailable: string }> {
  await useTracefs(); // (without root it mounts and registers nothing, and releasing does nothing)
  const why = unavailableWhy(TRACEFS);
  if (why !== null) {
    await releaseTracefs();
    return { unavailable: why };
  }
  const name = `${INSTANCE_PREFIX}${process.pid}-${suffix}`;
  const dir = path.join(TRACEFS, 'instances', name);
  try {
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'buffer_size_kb'), String(BUFFER_KB));
    // CLOCK_MONOTONIC, which is also Node's hrtime (libuv): the offset to wall-clock time follows.
    writeFileSync(path.join(dir, 'trace_clock'), 'mono');
    const wallOffset = Date.now() / 1000 - Number(process.hrtime.bigint()) / 1e9;
    for (const e of EVENTS) writeFileSync(path.join(dir, 'events', 'tcp', e, 'enable'), '1');
    const source = (opts.text ? null : openRaw(dir)) ?? openText(dir);
    return new Recorder(name, dir, source, wallOffset);
  } catch (err) {
    removeInstance(dir);
    await releaseTracefs();
    return { unavailable: `cannot set up the tracefs instance ${name}: ${(err as Error).message}` };
  }
}

/** Where the recorder's events come from: the binary ring buffer, or the text pipe. */
interface Source {
  readonly mode: 'raw' | 'text';
  read(): KernelTraceEvent[];
  close(): void;
}

const isEagain = (err: unknown) => (err as NodeJS.ErrnoException).code === 'EAGAIN';

function openText(dir: string): Source {
  const fd = openSync(path.join(dir, 'trace_pipe'), constants.O_RDONLY | constants.O_NONBLOCK);
  const chunk = Buffer.alloc(1 << 16);
  let partial = '';
  return {
    mode: 'text',
    read() {
      const out: KernelTraceEvent[] = [];
      for (;;) {
        let n: number;
        try {
          n = readSync(fd, chunk, 0, chunk.length, null);
        } catch (err) {
          if (isEagain(err)) break;
          throw err;
        }
        if (n <= 0) break;
        const text = partial + chunk.toString('utf8', 0, n);
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) {
          const e = parseTraceLine(l);
          if (e) out.push(e);
        }
      }
      return out;
    },
    close() { closeSync(fd); },
  };
}

/** Pages read per CPU in one read() at most: more than its whole buffer (BUFFER_KB). */
const MAX_PAGES = (BUFFER_KB * 1024) / 4096 + 64;

/** The binary reader (trace-raw.ts), one non-blocking fd per CPU; null where it cannot be used
 *  (then openText is): no trace_pipe_raw, a format this decoder does not read, a big-endian host. */
function openRaw(dir: string): Source | null {
  const perCpu = path.join(dir, 'per_cpu');
  let decoder: RawDecoder;
  try {
    if (endianness() !== 'LE') return null;
    const ev = (p: string) => readFileSync(existsSync(path.join(dir, 'events', p)) ? path.join(dir, 'events', p) : path.join(TRACEFS, 'events', p), 'utf8');
    const subbuf = path.join(dir, 'buffer_subbuf_size_kb');
    decoder = parseFormats({
      headerPage: ev('header_page'), headerEvent: ev('header_event'),
      ...(existsSync(subbuf) ? { subbufBytes: Number(readFileSync(subbuf, 'utf8').trim()) * 1024 } : {}),
      send: ev('tcp/tcp_send_reset/format'), receive: ev('tcp/tcp_receive_reset/format'), print: ev('ftrace/print/format'),
    });
  } catch (err) {
    if (err instanceof FormatError || (err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const cpus: Array<{ cpu: number; fd: number }> = [];
  try {
    for (const c of readdirSync(perCpu)) {
      const m = /^cpu(\d+)$/.exec(c);
      if (!m || !existsSync(path.join(perCpu, c, 'trace_pipe_raw'))) continue;
      cpus.push({ cpu: Number(m[1]), fd: openSync(path.join(perCpu, c, 'trace_pipe_raw'), constants.O_RDONLY | constants.O_NONBLOCK) });
    }
  } catch {
    // A CPU's pipe that cannot be opened (gone, offline): the text pipe, which has them all.
    for (const c of cpus) closeSync(c.fd);
    return null;
  }
  if (cpus.length === 0) return null;
  cpus.sort((a, b) => a.cpu - b.cpu);
  const page = Buffer.alloc(decoder.pageSize);
  const names = new CommNames();
  const comm = (pid: number) => names.get(pid);
  return {
    mode: 'raw',
    read() {
      const per: Array<{ events: KernelTraceEvent[]; ns: number[] }> = [];
      names.tick();
      for (const c of cpus) {
        const events: KernelTraceEvent[] = [];
        const ns: number[] = [];
        for (let k = 0; k < MAX_PAGES; k++) {
          let n: number;
          try {
            n = readSync(c.fd, page, 0, page.length, null);
          } catch (err) {
            if (isEagain(err)) break;
            throw err;
          }
          if (n <= 0) break;
          decoder.page(page, n, c.cpu, comm, events, ns);
        }
        per.push({ events, ns });
      }
      return mergeByTime(per);
    },
    close() { for (const c of cpus) closeSync(c.fd); },
  };
}

/** comm for a pid of a raw event (which carries only the pid): the kernel's saved_cmdlines (what
 *  trace_pipe prints, recorded when the task last switched out), else /proc/<pid>/comm, else
 *  `<...>` as trace_pipe prints an unknown pid. Remembered for COMM_KEEP_MS (a pid may be reused
 *  or exec another program); saved_cmdlines is read again at most every CMDLINES_EVERY_MS. */
const COMM_KEEP_MS = 2000;
const CMDLINES_EVERY_MS = 250;
class CommNames {
  private readonly known = new Map<number, { comm: string; at: number }>();
  private saved = new Map<number, string>();
  private savedAt = -Infinity;
  private now = Date.now();

  /** Once per read(): the clock for this batch, and forget what is old. */
  tick(): void {
    this.now = Date.now();
    if (this.known.size > 4096) this.known.clear();
  }

  get(pid: number): string {
    const k = this.known.get(pid);
    if (k && this.now - k.at < COMM_KEEP_MS) return k.comm;
    let comm = this.fromSaved(pid);
    if (comm === undefined) {
      try {
        comm = readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '');
      } catch {
        comm = '<...>';
      }
    }
    this.known.set(pid, { comm, at: this.now });
    return comm;
  }

  private fromSaved(pid: number): string | undefined {
    if (!this.saved.has(pid) && this.now - this.savedAt >= CMDLINES_EVERY_MS) {
      this.savedAt = this.now;
      this.saved = new Map();
      try {
        for (const line of readFileSync(path.join(TRACEFS, 'saved_cmdlines'), 'utf8').split('\n')) {
          const sp = line.indexOf(' ');
          if (sp > 0) this.saved.set(Number(line.slice(0, sp)), line.slice(sp + 1));
        }
      } catch { /* not there: /proc names them */ }
    }
    return this.saved.get(pid);
  }
}

/** Disable the events of an instance and remove it (its trace_pipe must be closed). */
export function removeInstance(dir: string): boolean {
  for (const e of EVENTS) {
    try { writeFileSync(path.join(dir, 'events', 'tcp', e, 'enable'), '0'); } catch { /* gone already */ }
  }
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return !existsSync(dir);
  }
}

/** The lab's instances left in tracefs (by a lab that crashed): names and the pid in each. */
export function listLabInstances(): Array<{ name: string; dir: string; pid: number }> {
  const base = path.join(TRACEFS, 'instances');
  if (!existsSync(base)) return [];
  return readdirSync(base).filter((n) => n.startsWith(INSTANCE_PREFIX))
    .map((name) => ({ name, dir: path.join(base, name), pid: Number(/^rstlab-p(\d+)-/.exec(name)?.[1] ?? -1) }));
}

class Recorder implements KernelTrace {
  private stopped = false;

  constructor(readonly instance: string, private readonly dir: string, private readonly source: Source, readonly wallOffset: number) {}

  get mode(): 'raw' | 'text' { return this.source.mode; }

  mark(text: string): void {
    if (!this.stopped) writeFileSync(path.join(this.dir, 'trace_marker'), text);
  }

  read(): KernelTraceEvent[] {
    return this.stopped ? [] : this.source.read();
  }

  async until(markText: string, timeoutMs = 2000): Promise<KernelTraceEvent[]> {
    const out: KernelTraceEvent[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      out.push(...this.read());
      if (out.some((e) => e.kind === 'mark' && e.text === markText) || Date.now() > deadline || this.stopped) return out;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  lost(): number {
    let lost = 0;
    if (this.stopped) return lost;
    try {
      const cpus = readdirSync(path.join(this.dir, 'per_cpu'));
      for (const c of cpus) {
        const stats = readFileSync(path.join(this.dir, 'per_cpu', c, 'stats'), 'utf8');
        for (const m of stats.matchAll(/^(?:overrun|dropped events): (\d+)$/gm)) lost += Number(m[1]);
      }
    } catch { /* the counters are best effort; the instance is removed either way */ }
    return lost;
  }

  async stop(): Promise<{ lost: number }> {
    if (this.stopped) return { lost: 0 };
    this.read();
    const lost = this.lost();
    this.stopped = true;
    try { this.source.close(); } catch { /* closed */ }
    removeInstance(this.dir);
    await releaseTracefs();
    return { lost };
  }
}

/** One recorder shared by runs going on at the same time (see the header). */
export class TracePool {
  private readonly pool: KernelTraceEvent[] = [];
  private readonly open = new Set<string>();
  private draining: Promise<void> = Promise.resolve();

  constructor(readonly trace: KernelTrace) {}

  /** A run starts: its mark goes into the kernel's buffer, in order with the events. */
  begin(startMark: string): void {
    this.open.add(startMark);
    this.trace.mark(startMark);
  }

  /** The run is over: every event between its two marks (other runs' included: filter by address). */
  async end(startMark: string, endMark: string): Promise<KernelTraceEvent[]> {
    this.draining = this.draining.then(async () => {
      this.trace.mark(endMark);
      this.pool.push(...await this.trace.until(endMark));
    });
    await this.draining;
    const i = this.pool.findIndex((e) => e.kind === 'mark' && e.text === startMark);
    const j = this.pool.findIndex((e) => e.kind === 'mark' && e.text === endMark);
    const mine = this.pool.slice(i < 0 ? 0 : i, j < 0 ? this.pool.length : j + 1);
    this.open.delete(startMark);
    this.prune();
    return mine;
  }

  /** A run that will not `end` (it failed before its end mark). */
  abandon(startMark: string): void {
    this.open.delete(startMark);
    this.prune();
  }

  /** Drop what no open run can still ask for: everything before the oldest open run's start. */
  private prune(): void {
    const starts = this.pool.flatMap((e, k) => (e.kind === 'mark' && this.open.has(e.text) ? [k] : []));
    this.pool.splice(0, starts.length ? Math.min(...starts) : this.pool.length);
  }
}
