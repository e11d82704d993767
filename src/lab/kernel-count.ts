// The kernel's resets counted in the kernel: bpftrace (Debian `bpftrace`) on the same two
// tracepoints the ring-buffer reader reads (tcp:tcp_send_reset, tcp:tcp_receive_reset), each
// event added to a BPF map keyed by what a count needs, the maps printed and cleared every
// PRINT_MS. For `rstlab watch --quiet --no-capture`: no record is written per reset, so no event
// needs to reach user space one by one (what `bpftrace -e '… { @[args->reason] = count(); }'`
// does). Contract:
// - `countProgram(ports)` is the bpftrace program. A send event's key: reason, state, both
//   sockaddrs (family, address, port) with the remote port kept only when the socket exists
//   (state ≠ 0) or the port is one of `ports` (a flood of resets to closed ports, each from
//   another source port, stays one key per local port and peer). A receive event's key: family,
//   both addresses of both families and ports (a dual-stack socket talking IPv4 is read with its
//   IPv4 addresses, as trace-raw.ts reads it). No task: bpftrace cannot tell here whether an
//   event ran in a softirq, where the task is an unrelated one, so the events are `inIrq` (pid 0,
//   comm `<...>`) and watch names the socket's owner from `ss`, never the task. The ports filter
//   is in the program (`ports` non-empty: only events with one of them at either end). `@n`
//   counts every event, so an update that did not fit a full map is counted as lost. Two sets of
//   maps are written in turn (`@flip`), so that printing and clearing one loses no event.
// - `parseCountLine(line)` reads one line of the printed maps into a KernelSend / KernelReceive
//   with `count`, or null for anything else. Pure. Addresses in explain's form; a masked remote
//   port is 0.
// - `startKernelCount(ports)` spawns bpftrace (dies with this process: setpriv --pdeathsig),
//   mounts tracefs first when it is mounted nowhere (tracefs-mount.ts: the last rstlab process to
//   stop unmounts it), and resolves
//   when the probes are attached; `{ unavailable: why }` in one line when it cannot (no root, no
//   bpftrace, no BTF, the probes do not attach). `read()` gives the events of the prints so far
//   (`ts` on the wall clock: `wallOffset` is 0; `onPrint` says when one is complete, `onExit` that
//   bpftrace ended before stop()), `lost()` the events the maps could not hold, `stop()` makes
//   bpftrace print what it holds, waits for it (bounded) and reaps it.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { formatEndpoint } from '../wire/addr.js';
import { isV4MappedText } from './kernel-trace.js';
import type { KernelReceive, KernelSend } from './kernel-trace.js';
import { findExecutable } from './proc.js';
import { releaseTracefs, TRACEFS, useTracefs } from './tracefs-mount.js';

/** How often the maps are printed and cleared (a count reaches the summary and metrics this late at most). */
export const PRINT_MS = 1000;
/** Keys per map (bpftrace's default is 4096): distinct sockets reset within one print. */
const MAP_KEYS = 65536;
const START_TIMEOUT_MS = 20_000;

export type CountedSend = KernelSend & { count: number };
export type CountedReceive = KernelReceive & { count: number };
export type CountedEvent = CountedSend | CountedReceive;

/** `enum sk_rst_reason` names by value and the TCP states, from the tracepoint's own format
 *  (the same print fmt trace-raw.ts reads). */
export interface CountSymbols { reasons: Map<number, string>; states: Map<number, string> }

export function countProgram(ports: number[]): string {
  const portIn = (v: string) => ports.map((p) => `${v} == ${p}`).join(' || ');
  const keep = (sp: string, dp: string) => (ports.length ? `if (!(${portIn(sp)} || ${portIn(dp)})) { return; }` : '');
  // Two sets of maps, written in turn: each print switches `@flip` first (in the kernel, at once),
  // then bpftrace prints and clears the set no event writes any more. With one set, the events
  // counted between its print and its clear (done by bpftrace's user space, a moment apart) were
  // lost: 0.2-0.4% at 20,000-50,000 RST/s.
  const send = (k: string) => `if ($s4->sin_family == 2) {
      @s${k}[args->reason, args->state, 2, ntop($s4->sin_addr.s_addr), $sp, ntop($d4->sin_addr.s_addr), $rp] = count();
    } else {
      @s${k}[args->reason, args->state, 10, ntop($s6->sin6_addr.in6_u.u6_addr8), $sp, ntop($d6->sin6_addr.in6_u.u6_addr8), $rp] = count();
    }
    @n${k} = count();`;
  // Both families' fields: a dual-stack socket talking IPv4 logs AF_INET6 with v4-mapped
  // addresses and the IPv4 ones beside them, which parseCountLine then takes (as trace-raw.ts).
  const receive = (k: string) => `@r${k}[args->family, ntop(args->saddr), ntop(args->saddr_v6), args->sport, ntop(args->daddr), ntop(args->daddr_v6), args->dport] = count();
    @n${k} = count();`;
  const flush = (k: string) => `print(@s${k}); print(@r${k}); print(@n${k}); clear(@s${k}); clear(@r${k}); clear(@n${k});`;
  // (struct sockaddr_in / _in6 from the kernel's BTF; bswap: the ports are in network order.)
  return `
tracepoint:tcp:tcp_send_reset {
  $s4 = (struct sockaddr_in *)args->saddr; $d4 = (struct sockaddr_in *)args->daddr;
  $s6 = (struct sockaddr_in6 *)args->saddr; $d6 = (struct sockaddr_in6 *)args->daddr;
  $sp = bswap($s4->sin_port); $dp = bswap($d4->sin_port);
  ${keep('$sp', '$dp')}
  $rp = (args->state != 0${ports.length ? ` || ${portIn('$dp')}` : ''}) ? $dp : 0;
  if (@flip == 0) {
    ${send('0')}
  } else {
    ${send('1')}
  }
}
tracepoint:tcp:tcp_receive_reset {
  ${keep('args->sport', 'args->dport')}
  if (@flip == 0) {
    ${receive('0')}
  } else {
    ${receive('1')}
  }
}
interval:ms:${PRINT_MS} {
  if (@flip == 0) { @flip = 1; ${flush('0')} } else { @flip = 0; ${flush('1')} }
  printf("--\\n");
}
END { ${flush('0')} ${flush('1')} clear(@flip); printf("--\\n"); }
`;
}

/** The `n` fields of a printed key (numbers and addresses: none holds ", "), or null. */
function keyFields(inside: string, n: number): string[] | null {
  const f = inside.split(', ');
  return f.length === n ? f : null;
}

const ep = (addr: string, port: number) => formatEndpoint(addr, port);
/** AF_INET6 as Linux numbers it (the receive event's `family`). */
const AF_INET6 = 10;

export function parseCountLine(line: string, sym: CountSymbols, now: number): CountedEvent | null {
  const m = /^@([sr])[01]\[(.*)\]: (\d+)$/.exec(line);
  if (!m) return null;
  const count = Number(m[3]);
  if (count === 0) return null;
  if (m[1] === 's') {
    const f = keyFields(m[2]!, 7);
    if (!f) return null;
    const [reason, state, , saddr, sport, daddr, dport] = f as [string, string, string, string, string, string, string];
    return {
      kind: 'send', ts: now, cpu: 0, pid: 0, comm: '<...>', inIrq: true,
      src: ep(saddr, Number(sport)), dst: ep(daddr, Number(dport)),
      state: Number(state) === 0 ? 'UNKNOWN' : sym.states.get(Number(state)) ?? `0x${Number(state).toString(16)}`,
      reason: sym.reasons.get(Number(reason)) ?? `0x${Number(reason).toString(16)}`,
      count,
    };
  }
  const f = keyFields(m[2]!, 7);
  if (!f) return null;
  const [family, l4, l6, lport, r4, r6, rport] = f as [string, string, string, string, string, string, string];
  const v6 = Number(family) === AF_INET6 && !isV4MappedText(l6);
  return {
    kind: 'receive', ts: now, cpu: 0, pid: 0, comm: '<...>', inIrq: true,
    local: ep(v6 ? l6 : l4, Number(lport)), remote: ep(v6 ? r6 : r4, Number(rport)), cookie: -1, count,
  };
}

/** The `@n` line of a print: every event of the interval. */
export function parseTotalLine(line: string): number | null {
  const m = /^@n[01]: (\d+)$/.exec(line);
  return m ? Number(m[1]) : null;
}

export interface KernelCount {
  readonly mode: 'bpftrace';
  readonly wallOffset: number;
  /** Called when a print is complete (its counts can be read). */
  onPrint: (() => void) | null;
  /** Called if bpftrace ends before stop() (killed, or failed): no counts come any more. */
  onExit: ((why: string) => void) | null;
  read(): CountedEvent[];
  lost(): number;
  stop(): Promise<{ lost: number }>;
}

class Counter implements KernelCount {
  readonly mode = 'bpftrace';
  readonly wallOffset = 0;
  onPrint: (() => void) | null = null;
  onExit: ((why: string) => void) | null = null;
  private events: CountedEvent[] = [];
  private interval: CountedEvent[] = [];
  private intervalTotal = 0;
  private lostSoFar = 0;
  private partial = '';
  private stopped = false;
  private readonly done: Promise<void>;
  private printed!: () => void;
  /** Resolves at the first complete print (the probes are attached by then). */
  readonly firstPrint = new Promise<void>((res) => { this.printed = res; });

  constructor(private readonly child: ChildProcess, private readonly sym: CountSymbols) {
    // 'close': the process has exited and its stdout has been read to the end (END's print).
    this.done = new Promise((res) => child.once('close', () => res()));
    child.once('exit', (code, signal) => { if (!this.stopped) this.onExit?.(`bpftrace ended (${signal ?? `exit ${code}`})`); });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => this.take(d));
  }

  private take(d: string): void {
    const lines = (this.partial + d).split('\n');
    this.partial = lines.pop() ?? '';
    const now = Date.now() / 1000;
    for (const l of lines) {
      if (l === '--') {
        // One print is complete: the map updates that did not fit are the rest of @n.
        let counted = 0;
        for (const e of this.interval) counted += e.count;
        if (this.intervalTotal > counted) this.lostSoFar += this.intervalTotal - counted;
        for (const e of this.interval) this.events.push(e);
        this.interval = [];
        this.intervalTotal = 0;
        this.printed();
        this.onPrint?.();
        continue;
      }
      const t = parseTotalLine(l);
      if (t !== null) { this.intervalTotal += t; continue; }
      const e = parseCountLine(l, this.sym, now);
      if (e) this.interval.push(e);
    }
  }

  read(): CountedEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  lost(): number {
    return this.lostSoFar;
  }

  async stop(): Promise<{ lost: number }> {
    if (!this.stopped) {
      this.stopped = true;
      if (this.child.exitCode === null && this.child.signalCode === null) {
        this.child.kill('SIGINT'); // END prints what the maps hold
        const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
        await this.done;
        clearTimeout(t);
      }
      await releaseTracefs();
    }
    return { lost: this.lostSoFar };
  }
}

/** The reason and state names of the tracepoint's print fmt (`{ 1, "NO_SOCKET" }`…; the states as
 *  include/net/tcp_states.h numbers them, with the `TCP_` the format prints). */
export function countSymbols(sendFormat: string): CountSymbols {
  const reasons = new Map<number, string>();
  const m = /__print_symbolic\(REC->reason,((?:\s*\{[^}]*\}\s*,?)*)\)/.exec(sendFormat);
  for (const p of (m?.[1] ?? '').matchAll(/\{\s*(\d+)\s*,\s*"([^"]*)"\s*\}/g)) reasons.set(Number(p[1]), p[2]!);
  const names = ['TCP_ESTABLISHED', 'TCP_SYN_SENT', 'TCP_SYN_RECV', 'TCP_FIN_WAIT1', 'TCP_FIN_WAIT2', 'TCP_TIME_WAIT', 'TCP_CLOSE', 'TCP_CLOSE_WAIT', 'TCP_LAST_ACK', 'TCP_LISTEN', 'TCP_CLOSING', 'TCP_NEW_SYN_RECV', 'TCP_BOUND_INACTIVE'];
  const states = new Map(names.map((n, i) => [i + 1, n] as [number, string]));
  return { reasons, states };
}

export async function startKernelCount(ports: number[]): Promise<KernelCount | { unavailable: string }> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return { unavailable: 'counting in the kernel needs root (bpftrace)' };
  const bpftrace = findExecutable('bpftrace');
  if (!bpftrace) return { unavailable: 'bpftrace is not installed (apt-get install bpftrace)' };
  if (!existsSync('/sys/kernel/btf/vmlinux')) return { unavailable: 'the kernel has no BTF (/sys/kernel/btf/vmlinux), which the counting program reads sockaddrs with' };
  await useTracefs();
  const format = path.join(TRACEFS, 'events', 'tcp', 'tcp_send_reset', 'format');
  if (!existsSync(format)) {
    await releaseTracefs();
    return { unavailable: `no tracepoint tcp:tcp_send_reset in ${TRACEFS}` };
  }
  const sendFormat = readFileSync(format, 'utf8');
  if (!/field:enum sk_rst_reason reason;/.test(sendFormat)) {
    await releaseTracefs();
    return { unavailable: 'tcp:tcp_send_reset carries no reason on this kernel (Linux ≥ 6.10 has it)' };
  }
  const setpriv = findExecutable('setpriv');
  const argv = [...(setpriv ? [setpriv, '--pdeathsig', 'KILL'] : []), bpftrace, '-e', countProgram(ports)];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BPFTRACE_MAP_KEYS_MAX: String(MAP_KEYS) } });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => { err = (err + d).slice(-4000); });
  const counter = new Counter(child, countSymbols(sendFormat));
  // Attached once the first print has come: bpftrace says "Attaching N probes..." before it does.
  const attached = await new Promise<boolean>((res) => {
    const timer = setTimeout(() => res(false), START_TIMEOUT_MS);
    child.once('error', () => { clearTimeout(timer); res(false); });
    child.once('exit', () => { clearTimeout(timer); res(false); });
    void counter.firstPrint.then(() => { clearTimeout(timer); res(true); });
  });
  if (!attached) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await releaseTracefs();
    // (bpftrace warns about RLIMIT_MEMLOCK on kernels that account BPF memory to the cgroup; not the cause.)
    const why = err.split('\n').filter((l) => /ERROR/.test(l) && !/RLIMIT_MEMLOCK/.test(l)).join(' ').trim();
    return { unavailable: `bpftrace did not attach its probes${why ? `: ${why}` : ''}` };
  }
  return counter;
}
