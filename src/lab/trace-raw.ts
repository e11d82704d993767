// The kernel's trace ring buffer in binary (`per_cpu/cpuN/trace_pipe_raw`), decoded in JS into the
// same KernelTraceEvent objects that `parseTraceLine` makes of `trace_pipe` text — without the
// kernel formatting each event as text, and without parsing that text here. Pure: formats and
// pages in, events out (kernel-trace.ts does the I/O). Contract:
// - Every layout comes from the kernel's own description, read at start-up: the sub-buffer
//   ("page") header from `events/header_page`, the event header's type numbers from
//   `events/header_event`, each event's field offsets and sizes from its `format` file (the common
//   fields included), and the numbers behind `reason` and `family` from the `__print_symbolic`
//   pairs of its `print fmt:`. Nothing is at a hard-coded offset. What the files do not give is
//   taken from the kernel's ABI and named where used: the event header's bit layout (5 bits of
//   type_len under 27 bits of time delta, `struct ring_buffer_event`), the page's missed-events
//   flags (ring_buffer.c), the trace flags (`enum trace_flag_type`) and, because this kernel's
//   format shows `TCP_ESTABLISHED`… as names rather than numbers, the TCP states of
//   include/net/tcp_states.h (the numbers /proc/net/tcp prints).
// - `parseFormats(files)` checks that the fields the decoder reads are there with the sizes it
//   reads them at; anything else throws FormatError, and the caller falls back to text.
// - `RawDecoder.page(buf, cpu, out)` decodes one page as `trace_pipe_raw` returns it: the page
//   header's time stamp plus each event's delta (time extends; absolute time stamps; padding and
//   discarded events skipped) give nanoseconds on the instance's clock; `ts` is rounded to the
//   microsecond exactly as trace_pipe prints it (ns2usecs). Events of other types are skipped.
// - Values print as trace_pipe prints them: `state` 0 is `UNKNOWN` (the format's `?:`), a number
//   with no symbol is `0x…` (as __print_symbolic prints it), addresses as %pISpc / %pI4 / %pI6c
//   (IPv6 compressed as the kernel does, a v4-mapped or ISATAP tail as dotted quad), then in
//   explain's form (`10.0.0.1:80`, `[fd00::1]:80`); `inIrq` is the flag column's h/H/s (hard or
//   soft interrupt, not NMI). A receive event of a dual-stack socket talking IPv4 (AF_INET6,
//   v4-mapped addresses) gives its IPv4 fields, as the packets and the send events show them.
// - comm: a raw event carries only common_pid; `comm(pid)` (given by the caller) names it. pid 0
//   is `<idle>`, as trace_pipe prints it.
// - A mark is any `ftrace:print` event of the instance (its `buf`, trimmed): in an instance only
//   `trace_marker` writes make them (trace_pipe's text also showed them as tracing_mark_write).
// - `mergeByTime(perCpu)` interleaves the CPUs' events by time as trace_pipe does (the earliest
//   first; on a tie the lower CPU).

import type { KernelTraceEvent } from './kernel-trace.js';
import { formatEndpoint } from '../wire/addr.js';

export class FormatError extends Error {}

export interface Field { name: string; offset: number; size: number; signed: boolean }

export interface EventFormat {
  name: string;
  id: number;
  fields: Map<string, Field>;
  /** `__print_symbolic(REC->field, { value, "name" }…)` of the print fmt: value → name per field.
   *  Values that are names (enum constants the kernel did not turn into numbers) are kept in
   *  `symbolNames` (constant → name) for the decoder to resolve. */
  symbols: Map<string, Map<number, string>>;
  symbolNames: Map<string, Map<string, string>>;
  /** `REC->field ? … : "TEXT"`: what 0 prints as. */
  zero: Map<string, string>;
}

export function parseEventFormat(text: string): EventFormat {
  const name = /^name: (\S+)$/m.exec(text)?.[1];
  const id = Number(/^ID: (\d+)$/m.exec(text)?.[1]);
  if (!name || !Number.isInteger(id)) throw new FormatError('no name or ID in the event format');
  const fields = new Map<string, Field>();
  for (const m of text.matchAll(/^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d);/gm)) {
    // `unsigned char common_flags`, `__u8 saddr[28]`, `char buf[]`: the name is the last word.
    const decl = m[1]!.trim().replace(/\[.*\]$/, '');
    const fname = /(\w+)$/.exec(decl)?.[1];
    if (fname) fields.set(fname, { name: fname, offset: Number(m[2]), size: Number(m[3]), signed: m[4] === '1' });
  }
  const printFmt = /^print fmt: (.*)$/m.exec(text)?.[1] ?? '';
  const symbols = new Map<string, Map<number, string>>();
  const symbolNames = new Map<string, Map<string, string>>();
  for (const m of printFmt.matchAll(/__print_symbolic\(REC->(\w+),((?:\s*\{[^}]*\}\s*,?)*)\)/g)) {
    const byValue = new Map<number, string>();
    const byName = new Map<string, string>();
    for (const p of m[2]!.matchAll(/\{\s*([^,]+?)\s*,\s*"([^"]*)"\s*\}/g)) {
      const v = p[1]!;
      if (/^-?(0x[0-9a-f]+|\d+)$/i.test(v)) byValue.set(Number(v), p[2]!);
      else byName.set(v, p[2]!);
    }
    symbols.set(m[1]!, byValue);
    symbolNames.set(m[1]!, byName);
  }
  const zero = new Map<string, string>();
  for (const m of printFmt.matchAll(/REC->(\w+) \? __print_symbolic\(REC->\1,(?:\s*\{[^}]*\}\s*,?)*\) : "([^"]*)"/g)) zero.set(m[1]!, m[2]!);
  return { name, id, fields, symbols, symbolNames, zero };
}

export interface PageLayout {
  timestampOffset: number;
  commitOffset: number;
  dataOffset: number;
  /** Bytes of a whole page as trace_pipe_raw returns it (header + data). */
  pageSize: number;
}

/** `events/header_page`; `subbufBytes` is the instance's `buffer_subbuf_size_kb` × 1024 when it
 *  has one (the data area is then the sub-buffer less the header). */
export function parseHeaderPage(text: string, subbufBytes?: number): PageLayout {
  const f = new Map<string, { offset: number; size: number }>();
  for (const m of text.matchAll(/field: (?:\w+\s+)+?(\w+);\s*offset:(\d+);\s*size:(\d+);/g)) f.set(m[1]!, { offset: Number(m[2]), size: Number(m[3]) });
  const ts = f.get('timestamp');
  const commit = f.get('commit');
  const data = f.get('data');
  if (!ts || ts.size !== 8 || !commit || (commit.size !== 8 && commit.size !== 4) || !data) throw new FormatError('header_page lacks timestamp, commit or data');
  return { timestampOffset: ts.offset, commitOffset: commit.offset, dataOffset: data.offset, pageSize: subbufBytes ?? data.offset + data.size };
}

export interface EventHeader { padding: number; timeExtend: number; timeStamp: number; dataMax: number }

/** `events/header_event`: the type_len values of padding, time extend, time stamp, longest data. */
export function parseHeaderEvent(text: string): EventHeader {
  const n = (re: RegExp) => Number(re.exec(text)?.[1]);
  const h = { padding: n(/padding\s*: type == (\d+)/), timeExtend: n(/time_extend\s*: type == (\d+)/), timeStamp: n(/time_stamp\s*: type == (\d+)/), dataMax: n(/data max type_len\s*== (\d+)/) };
  if (!/type_len\s*:\s*5 bits/.test(text) || !/time_delta\s*:\s*27 bits/.test(text) || Object.values(h).some((v) => !Number.isInteger(v))) throw new FormatError('header_event is not the 5/27-bit layout this decoder reads');
  return h;
}

export interface RawFormats {
  headerPage: string;
  headerEvent: string;
  subbufBytes?: number;
  send: string;
  receive: string;
  print: string;
}

/** include/net/tcp_states.h: the TCP states' numbers (for print fmts that show them as names). */
const TCP_STATES: Record<string, number> = {
  TCP_ESTABLISHED: 1, TCP_SYN_SENT: 2, TCP_SYN_RECV: 3, TCP_FIN_WAIT1: 4, TCP_FIN_WAIT2: 5, TCP_TIME_WAIT: 6, TCP_CLOSE: 7,
  TCP_CLOSE_WAIT: 8, TCP_LAST_ACK: 9, TCP_LISTEN: 10, TCP_CLOSING: 11, TCP_NEW_SYN_RECV: 12, TCP_BOUND_INACTIVE: 13,
};
/** enum trace_flag_type (include/linux/trace_events.h). */
const FLAG_HARDIRQ = 0x08;
const FLAG_SOFTIRQ = 0x10;
const FLAG_NMI = 0x40;
/** ring_buffer.c: RB_MISSED_EVENTS / RB_MISSED_STORED live in the commit word's top bits. */
const COMMIT_MASK = 0x3fffffff;

function need(f: EventFormat, name: string, sizes: number[]): number {
  const x = f.fields.get(name);
  if (!x || !sizes.includes(x.size)) throw new FormatError(`${f.name}: no field ${name} of size ${sizes.join('/')}`);
  return x.offset;
}

/** value → text of one symbolic field, with the print fmt's zero text and the names resolved. */
function symbolTable(f: EventFormat, field: string, names: Record<string, number> = {}): Map<number, string> {
  const t = new Map(f.symbols.get(field) ?? []);
  for (const [n, text] of f.symbolNames.get(field) ?? []) {
    if (names[n] === undefined) throw new FormatError(`${f.name}: ${field}'s symbol ${n} has no known number`);
    t.set(names[n]!, text);
  }
  const z = f.zero.get(field);
  if (z !== undefined) t.set(0, z);
  return t;
}

const symbolOf = (t: Map<number, string>, v: number) => t.get(v) ?? `0x${v.toString(16)}`;

export function parseFormats(files: RawFormats): RawDecoder {
  return new RawDecoder(parseHeaderPage(files.headerPage, files.subbufBytes), parseHeaderEvent(files.headerEvent),
    parseEventFormat(files.send), parseEventFormat(files.receive), parseEventFormat(files.print));
}

function hex16(w: number): string {
  return w.toString(16);
}

const ip4Cache = new Map<number, string>();

/** Four bytes as %pI4 prints them (cached: a watched host sees few addresses). */
function ip4(b: Buffer, o: number): string {
  const k = b.readUInt32BE(o);
  let s = ip4Cache.get(k);
  if (s === undefined) {
    s = `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
    if (ip4Cache.size > 4096) ip4Cache.clear();
    ip4Cache.set(k, s);
  }
  return s;
}

/** `addr:port` / `[addr]:port` strings, one per address and port: the same string each time an
 *  endpoint recurs, so that what reads the events (maps keyed by endpoint) hashes it once. */
const endpointCache = new Map<string, Map<number, string>>();
let endpointCount = 0;
function endpoint(addr: string, port: number): string {
  let ports = endpointCache.get(addr);
  if (ports === undefined) {
    if (endpointCache.size > 4096) { endpointCache.clear(); endpointCount = 0; }
    endpointCache.set(addr, ports = new Map());
  }
  let s = ports.get(port);
  if (s === undefined) {
    if (++endpointCount > 1 << 17) { endpointCache.clear(); endpointCount = 0; endpointCache.set(addr, ports = new Map()); }
    s = formatEndpoint(addr, port);
    ports.set(port, s);
  }
  return s;
}

const ip6Cache = new Map<string, string>();

/** Sixteen bytes as %pI6c prints them (lib/vsprintf.c ip6_compressed_string): the longest run of
 *  two or more zero words (the first of equal runs) as `::`, hex words without leading zeros, and
 *  a v4-mapped or ISATAP address's last 32 bits as a dotted quad. */
export function formatIp6(b: Buffer, o: number): string {
  const key = b.toString('latin1', o, o + 16);
  let s = ip6Cache.get(key);
  if (s !== undefined) return s;
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(b.readUInt16BE(o + 2 * i));
  const v4mapped = w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff;
  const isatap = (w[4]! | 0x0200) === 0x0200 && w[5] === 0x5efe;
  const useV4 = v4mapped || isatap;
  const range = useV4 ? 6 : 8;
  let longest = 0;
  let colon = -1;
  for (let i = 0; i < range; i++) {
    let n = 0;
    while (i + n < range && w[i + n] === 0) n++;
    if (n > longest) { longest = n; colon = i; }
  }
  if (longest <= 1) colon = -1;
  let out = '';
  let needColon = false;
  for (let i = 0; i < range; i++) {
    if (i === colon) {
      if (needColon || i === 0) out += ':';
      out += ':';
      needColon = false;
      i += longest - 1;
      continue;
    }
    if (needColon) out += ':';
    out += hex16(w[i]!);
    needColon = true;
  }
  if (useV4) {
    if (needColon) out += ':';
    out += ip4(b, o + 12);
  }
  if (ip6Cache.size > 4096) ip6Cache.clear();
  ip6Cache.set(key, out);
  return out;
}

/** Sixteen bytes that are an IPv4-mapped address (`::ffff:a.b.c.d`). */
function isV4Mapped(b: Buffer, o: number): boolean {
  for (let i = 0; i < 10; i++) if (b[o + i] !== 0) return false;
  return b[o + 10] === 0xff && b[o + 11] === 0xff;
}

export class RawDecoder {
  readonly pageSize: number;
  private readonly tsOff: number;
  private readonly commitOff: number;
  private readonly dataOff: number;
  private readonly h: EventHeader;
  // Common fields (the same in every event: taken from the send event's format, checked against the others).
  private readonly typeOff: number;
  private readonly flagsOff: number;
  private readonly pidOff: number;
  private readonly sendId: number;
  private readonly recvId: number;
  private readonly printId: number;
  private readonly s: { state: number; reason: number; saddr: number; daddr: number };
  private readonly r: { sport: number; dport: number; family: number; saddr: number; daddr: number; saddr6: number; daddr6: number; cookie: number };
  private readonly printBuf: number;
  private readonly states: Map<number, string>;
  private readonly reasons: Map<number, string>;
  private readonly families: Map<number, string>;
  private readonly afInet: number;
  private readonly afInet6: number;

  constructor(page: PageLayout, header: EventHeader, send: EventFormat, recv: EventFormat, print: EventFormat) {
    this.pageSize = page.pageSize;
    this.tsOff = page.timestampOffset;
    this.commitOff = page.commitOffset;
    this.dataOff = page.dataOffset;
    this.h = header;
    this.typeOff = need(send, 'common_type', [2]);
    this.flagsOff = need(send, 'common_flags', [1]);
    this.pidOff = need(send, 'common_pid', [4]);
    for (const f of [recv, print]) {
      if (need(f, 'common_type', [2]) !== this.typeOff || need(f, 'common_flags', [1]) !== this.flagsOff || need(f, 'common_pid', [4]) !== this.pidOff) throw new FormatError(`${f.name}: common fields differ`);
    }
    this.sendId = send.id;
    this.recvId = recv.id;
    this.printId = print.id;
    this.s = {
      state: need(send, 'state', [4]), reason: need(send, 'reason', [4]),
      saddr: need(send, 'saddr', [28]), daddr: need(send, 'daddr', [28]),
    };
    this.r = {
      sport: need(recv, 'sport', [2]), dport: need(recv, 'dport', [2]), family: need(recv, 'family', [2]),
      saddr: need(recv, 'saddr', [4]), daddr: need(recv, 'daddr', [4]), saddr6: need(recv, 'saddr_v6', [16]), daddr6: need(recv, 'daddr_v6', [16]),
      cookie: need(recv, 'sock_cookie', [8]),
    };
    this.printBuf = need(print, 'buf', [0]);
    this.states = symbolTable(send, 'state', TCP_STATES);
    this.reasons = symbolTable(send, 'reason');
    this.families = symbolTable(recv, 'family');
    const byName = (t: Map<number, string>, n: string) => [...t].find(([, v]) => v === n)?.[0];
    this.afInet = byName(this.families, 'AF_INET') ?? 2;
    this.afInet6 = byName(this.families, 'AF_INET6') ?? 10;
  }

  /** A sockaddr_in / sockaddr_in6 (`__u8[28]`) as %pISpc prints it, in explain's form; null for
   *  another family (the text then reads `(einval)`, which parseTraceLine drops too). */
  private sockaddr(b: Buffer, o: number): string | null {
    const family = b.readUInt16LE(o);
    const port = b.readUInt16BE(o + 2);
    if (family === this.afInet) return endpoint(ip4(b, o + 4), port);
    if (family === this.afInet6) return endpoint(formatIp6(b, o + 8), port);
    return null;
  }

  /** Decode one page (`buf` as trace_pipe_raw gave it; `len` bytes read) into `out`, with each
   *  event's time in nanoseconds in `ns` (same index). Returns whether the kernel flagged events
   *  missed before this page. */
  page(b: Buffer, len: number, cpu: number, comm: (pid: number) => string, out: KernelTraceEvent[], ns: number[]): boolean {
    if (len < this.dataOff) return false;
    const word = b.readUInt32LE(this.commitOff);
    const missed = (word & ~COMMIT_MASK) !== 0;
    const end = Math.min(this.dataOff + (word & COMMIT_MASK), len);
    let t = b.readUInt32LE(this.tsOff) + b.readUInt32LE(this.tsOff + 4) * 0x100000000;
    let p = this.dataOff;
    const h = this.h;
    while (p + 4 <= end) {
      const w = b.readUInt32LE(p);
      const typeLen = w & 0x1f;
      const delta = w >>> 5;
      if (typeLen === h.padding) {
        if (delta === 0) break; // the rest of the page is empty
        p += 4 + b.readUInt32LE(p + 4); // a discarded event: its time does not count
        continue;
      }
      if (typeLen === h.timeExtend) {
        t += b.readUInt32LE(p + 4) * 0x8000000 + delta; // array[0] << 27 | time_delta
        p += 8;
        continue;
      }
      if (typeLen === h.timeStamp) {
        t = b.readUInt32LE(p + 4) * 0x8000000 + delta; // absolute (59 bits; a mono clock needs no more)
        p += 8;
        continue;
      }
      let data: number;
      let size: number;
      if (typeLen === 0) {
        size = b.readUInt32LE(p + 4) - 4;
        data = p + 8;
        p += 4 + size + 4;
      } else if (typeLen <= h.dataMax) {
        size = typeLen * 4;
        data = p + 4;
        p += 4 + size;
      } else break; // not a type this decoder knows: stop rather than misread the rest
      t += delta;
      if (p > end) break;
      const e = this.event(b, data, size, cpu, t, comm);
      if (e) { out.push(e); ns.push(t); }
    }
    return missed;
  }

  private event(b: Buffer, d: number, size: number, cpu: number, tns: number, comm: (pid: number) => string): KernelTraceEvent | null {
    const type = b.readUInt16LE(d + this.typeOff);
    // trace_pipe prints microseconds, rounded (ns2usecs adds 500 ns before dividing).
    const ts = Math.floor((tns + 500) / 1000) / 1e6;
    if (type === this.printId) {
      const start = d + this.printBuf;
      let stop = start;
      const limit = d + size;
      while (stop < limit && b[stop] !== 0) stop++;
      return { kind: 'mark', ts, text: b.toString('utf8', start, stop).trim() };
    }
    if (type !== this.sendId && type !== this.recvId) return null;
    const flags = b[d + this.flagsOff]!;
    const pid = b.readInt32LE(d + this.pidOff);
    const inIrq = (flags & FLAG_NMI) === 0 && (flags & (FLAG_HARDIRQ | FLAG_SOFTIRQ)) !== 0;
    const name = pid === 0 ? '<idle>' : comm(pid);
    if (type === this.sendId) {
      const s = this.s;
      const src = this.sockaddr(b, d + s.saddr);
      const dst = this.sockaddr(b, d + s.daddr);
      if (src === null || dst === null) return null;
      return {
        kind: 'send', ts, cpu, pid, comm: name, inIrq, src, dst,
        state: symbolOf(this.states, b.readInt32LE(d + s.state)), reason: symbolOf(this.reasons, b.readUInt32LE(d + s.reason)),
      };
    }
    const r = this.r;
    // A dual-stack (AF_INET6) socket talking IPv4 logs its addresses v4-mapped; the event's IPv4
    // fields hold them too, as the packets show them: those are used.
    const v6 = this.families.get(b.readUInt16LE(d + r.family)) === 'AF_INET6' && !isV4Mapped(b, d + r.saddr6);
    const local = v6 ? formatIp6(b, d + r.saddr6) : ip4(b, d + r.saddr);
    const remote = v6 ? formatIp6(b, d + r.daddr6) : ip4(b, d + r.daddr);
    return {
      kind: 'receive', ts, cpu, pid, comm: name, inIrq,
      local: endpoint(local, b.readUInt16LE(d + r.sport)), remote: endpoint(remote, b.readUInt16LE(d + r.dport)),
      cookie: b.readUInt32LE(d + r.cookie) + b.readUInt32LE(d + r.cookie + 4) * 0x100000000,
    };
  }
}

/** The CPUs' events (each in time order) as one list in time order: the earliest first, a tie to
 *  the lower CPU (as trace_pipe interleaves them). */
export function mergeByTime(perCpu: Array<{ events: KernelTraceEvent[]; ns: number[] }>): KernelTraceEvent[] {
  const lists = perCpu.filter((l) => l.events.length > 0);
  if (lists.length === 0) return [];
  if (lists.length === 1) return lists[0]!.events;
  const out: KernelTraceEvent[] = [];
  const at = lists.map(() => 0);
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      if (at[i]! >= lists[i]!.ns.length) continue;
      if (best < 0 || lists[i]!.ns[at[i]!]! < lists[best]!.ns[at[best]!]!) best = i;
    }
    if (best < 0) return out;
    out.push(lists[best]!.events[at[best]!]!);
    at[best]!++;
  }
}
