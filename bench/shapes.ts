// Synthetic captures for the explain benchmarks, one generator per traffic shape. Every packet is a
// Conversation frame (wire/build.ts: correct IP and TCP checksums, sequence numbers that follow),
// connections are interleaved as on a real link and the clock only moves forward: the new shapes
// hand their frames to a Link, which writes them in timestamp order.
//
//   long        bulk transfers, 1 in 5 ending in a RST (the shape explain-throughput.ts has always
//               written: its frames and its output stay what they were)
//   scan        a SYN scan seen at the targets: 192.0.2.66 probes many ports of 508 hosts; a closed
//               port answers RST+ACK (most), an open one SYN-ACK and the scanner's kernel RSTs (3 %)
//   short       HTTP/1.0-style flows of about 14 packets from many clients, 40 % ending in a RST
//               (refused, abort, reset-after-close, no-connection)
//   storm       10,000 long-lived connections carry data, then a middlebox resets all of them (RSTs
//               with a TTL the server's own packets never have) while data keeps flowing on the ones
//               not reset yet, and a third of the servers, which never heard of it, keep sending
//               (answered by the client host's RST)
//   concurrent  50,000 connections opened before any closes, data trickled over all of them, then
//               90 % closed normally and 10 % reset
//
// Addresses are documentation and benchmarking ranges only (192.0.2.0/24, 198.51.100.0/24,
// 203.0.113.0/24, 198.18.0.0/15) except in `long`, which keeps its historic 10/8 and 172.16/12 ones.
// Contract: deterministic (the same shape and size write the same bytes); sizes are targets, the
// file ends at the first connection boundary past them (and a shape's fixed parts — storm's and
// concurrent's opening and closing — are written even when they alone pass the target).

import { createPcapFileWriter } from '../src/capture/writer.js';
import type { PcapFileWriter } from '../src/capture/writer.js';
import { Conversation } from '../src/tcp/index.js';
import type { ConversationFrame } from '../src/tcp/index.js';
import { TcpFlag } from '../src/wire/types.js';
import { seededRandom } from '../src/seeded.js';

export const SHAPES = ['long', 'scan', 'short', 'storm', 'concurrent'] as const;
export type ShapeName = typeof SHAPES[number];

export interface CaptureInfo {
  packets: number;
  bytes: number;
  connections: number;
  /** Connections ending in (or hit by) a RST, as scripted. */
  reset?: number;
  /** Most connections open at one time (for the shapes that script it). */
  maxAlive?: number;
}

export const SHAPE_DESCRIPTION: Record<ShapeName, string> = {
  long: 'long bulk connections, 1 in 5 ends in a RST (refused, abort, reset-after-close, no-connection)',
  scan: 'SYN scan from 192.0.2.66 seen at the targets: closed ports RST+ACK, 3 % open (SYN, SYN-ACK, RST)',
  short: 'HTTP/1.0-style flows of ~14 packets, many clients, 40 % end in a RST (refused, abort, reset-after-close, no-connection)',
  storm: '10,000 long-lived connections, then a middlebox (other TTL) resets all of them while data keeps flowing on some',
  concurrent: '50,000 connections alive at once: all opened, data trickled over them, then 90 % closed, 10 % reset',
};

export function writeShape(shape: ShapeName, file: string, targetBytes: number): Promise<CaptureInfo> {
  switch (shape) {
    case 'long': return writeLong(file, targetBytes);
    case 'scan': return withLink(file, (l) => scan(l, targetBytes));
    case 'short': return withLink(file, (l) => short(l, targetBytes));
    case 'storm': return withLink(file, (l) => storm(l, targetBytes));
    case 'concurrent': return withLink(file, (l) => concurrent(l, targetBytes));
  }
}

// ---- long: the historic shape, unchanged ----

/** One connection's frames: a bulk transfer that closes normally, or one ending in a kind of RST. */
function connection(i: number, start: number): Conversation {
  const a = 10 + (i >> 16 & 0xff);
  const client = `10.${a}.${(i >> 8) & 0xff}.${i & 0xff}:${10000 + (i % 50000)}`;
  const server = `172.16.${i % 200}.1:${[80, 443, 8080][i % 3]}`;
  const c = new Conversation({ client, server, start, clientIsn: (i * 2654435761) >>> 0, serverIsn: (i * 40503 + 7) >>> 0 });
  const kind = i % 20;
  if (kind === 0) { // refused
    c.syn('c').segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: (c.sndNxt('c')) >>> 0 });
    return c;
  }
  c.handshake().data('c', 300);
  const segments = 40 + (i % 40);
  for (let k = 0; k < segments; k++) {
    c.data('s', 1448);
    if (k % 2 === 1) c.ack('c');
  }
  switch (kind) {
    case 1: c.activeRst('s'); break; // abort
    case 2: c.fin('s').ack('c').data('c', 200).statelessRst('s'); break; // reset-after-close
    case 3: c.data('c', 100).statelessRst('s'); break; // no-connection
    default: c.fin('c').fin('s').ack('c'); // normal close
  }
  return c;
}

export async function writeLong(file: string, targetBytes: number): Promise<CaptureInfo> {
  const w = createPcapFileWriter(file, { linkType: 1 });
  let bytes = 24;
  let packets = 0;
  let i = 0;
  let t = 1_700_000_000;
  // Several connections interleaved, as on a real link.
  while (bytes < targetBytes) {
    const batch = Array.from({ length: 8 }, () => connection(i++, t));
    const frames = batch.flatMap((c) => c.frames);
    frames.sort((x, y) => x.tsSec - y.tsSec || x.tsNsec - y.tsNsec);
    for (const f of frames) {
      w.write(f.tsSec, f.tsNsec, f.data);
      bytes += 16 + f.data.length;
      packets++;
    }
    t += 0.05;
  }
  await w.close();
  return { packets, bytes, connections: i, reset: Math.ceil(i / 5) };
}

// ---- the link: frames from many conversations, written in time order ----

interface Queued { tsSec: number; tsNsec: number; ord: number; data: Uint8Array }
const before = (a: Queued, b: Queued) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec || a.ord - b.ord;

/**
 * A min-heap of frames by timestamp (then by the order they came in, so one conversation's frames
 * keep their order). Generators add a conversation's new frames as they script it, at times never
 * earlier than `now`, and call flush(now): what is older than now (less a margin) can no longer be
 * overtaken and is written. `bytes` counts what was added (the file's size once all is flushed).
 */
export class Link {
  bytes = 24;
  packets = 0;
  private heap: Queued[] = [];
  private ord = 0;
  constructor(private readonly w: PcapFileWriter) {}

  /** Take the conversation's frames so far (its frames array is emptied). */
  add(c: Conversation): void {
    for (const f of c.frames) this.push(f);
    c.frames.length = 0;
  }

  private push(f: ConversationFrame): void {
    const q: Queued = { tsSec: f.tsSec, tsNsec: f.tsNsec, ord: this.ord++, data: f.data };
    this.bytes += 16 + f.data.length;
    this.packets++;
    const h = this.heap;
    let i = h.push(q) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(h[p]!, q) <= 0) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = q;
  }

  private pop(): Queued {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const m = r < h.length && before(h[r]!, h[l]!) < 0 ? r : l;
        if (before(h[m]!, last) >= 0) break;
        h[i] = h[m]!;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }

  /** Write every frame older than `now` less 1 ms (Infinity: everything). */
  flush(now: number): void {
    const limit = now - 0.001;
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (top.tsSec + top.tsNsec / 1e9 >= limit) break;
      const f = this.pop();
      this.w.write(f.tsSec, f.tsNsec, f.data);
    }
  }
}

async function withLink(file: string, gen: (l: Link) => Omit<CaptureInfo, 'packets' | 'bytes'>): Promise<CaptureInfo> {
  const w = createPcapFileWriter(file, { linkType: 1 });
  const link = new Link(w);
  const info = gen(link);
  link.flush(Infinity);
  await w.close();
  return { packets: link.packets, bytes: link.bytes, ...info };
}

function shuffled(n: number, rand: () => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const x = p[i]!; p[i] = p[j]!; p[j] = x;
  }
  return p;
}

/** A conversation with the time its own clock has reached (after its last frame). */
interface Live { c: Conversation; t: number; rtt: number }

/** Bring a conversation's clock to `now` (if it is behind) before scripting its next frames. */
function at(l: Live, now: number): Conversation {
  if (now > l.t) l.c.wait(now - l.t);
  l.t = Math.max(l.t, now);
  return l.c;
}

/** Hand the conversation's new frames to the link and note where its clock is. */
function done(link: Link, l: Live): void {
  const last = l.c.frames[l.c.frames.length - 1];
  if (last) l.t = last.tsSec + last.tsNsec / 1e9 + 0.0001;
  link.add(l.c);
}

const T0 = 1_700_000_000;
const isn = (i: number, salt: number) => (Math.imul(i + salt, 2654435761) ^ (salt * 40503)) >>> 0;
/** 198.18.0.0/15 (RFC 2544's benchmarking range), host number n < 131072 (x.y.0 and .255 allowed). */
const benchAddr = (n: number) => `198.${18 + ((n >> 16) & 1)}.${(n >> 8) & 0xff}.${n & 0xff}`;

// ---- scan ----

function scan(link: Link, targetBytes: number): Omit<CaptureInfo, 'packets' | 'bytes'> {
  const rand = seededRandom(66);
  const hosts: string[] = [];
  for (const net of ['198.51.100', '203.0.113']) for (let h = 1; h <= 254; h++) hosts.push(`${net}.${h}`);
  const ports = shuffled(65535, rand); // nmap walks the ports in a random order
  const hostTtl = hosts.map((_, h) => (h % 3 === 0 ? 128 : 64));
  const hostRtt = hosts.map((_, h) => 0.0004 + (h % 37) * 0.00005);
  const srcPort = 51234; // a SYN scan keeps one source port
  let probes = 0;
  let open = 0;
  let t = T0;
  while (link.bytes < targetBytes) {
    const h = probes % hosts.length;
    const port = ports[Math.floor(probes / hosts.length) % 65535]! + 1;
    const c = new Conversation({
      client: `192.0.2.66:${srcPort}`, server: `${hosts[h]}:${port}`, start: t,
      clientTtl: 64, serverTtl: hostTtl[h], clientIsn: isn(probes, 1), serverIsn: isn(probes, 2),
    });
    c.syn('c', { window: 1024, options: [{ kind: 'mss', value: 1460 }] }).wait(hostRtt[h]!);
    const isOpen = ((Math.imul(h + 1, 0x9e3779b1) ^ Math.imul(port, 0x85ebca6b)) >>> 0) % 100 < 3;
    if (isOpen) {
      open++;
      c.synAck('s', { options: [{ kind: 'mss', value: 1460 }] }).wait(0.00002).statelessRst('c');
    } else {
      c.segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: c.sndNxt('c') });
    }
    link.add(c);
    probes++;
    t += 0.00004; // 25,000 probes a second
    if ((probes & 255) === 0) link.flush(t);
  }
  return { connections: probes, reset: probes, maxAlive: Math.ceil(0.0025 / 0.00004) };
}

// ---- short ----

function short(link: Link, targetBytes: number): Omit<CaptureInfo, 'packets' | 'bytes'> {
  const rand = seededRandom(14);
  let i = 0;
  let reset = 0;
  let t = T0;
  while (link.bytes < targetBytes) {
    const j = i % 100_000;
    const client = `${benchAddr(j)}:${32768 + ((i + Math.floor(i / 100_000) * 7919) % 28232)}`;
    const server = `203.0.113.${1 + (i % 20)}:80`;
    const rtt = 0.005 + (j % 50) * 0.001;
    const c = new Conversation({ client, server, start: t, clientTtl: 64 - (j % 20), clientIsn: isn(i, 3), serverIsn: isn(i, 4) });
    const kind = i % 10;
    c.syn('c');
    if (kind === 0) { // refused
      c.segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: c.sndNxt('c') });
    } else {
      c.synAck('s').wait(rtt).ack('c').data('c', 180 + Math.floor(rand() * 240)).ack('s').wait(0.001 + rand() * 0.002);
      c.data('s', 1448).data('s', 1448).wait(rtt).ack('c');
      if (kind === 1) { // abort: the client gives up half-way through the response
        c.activeRst('c');
      } else if (kind === 3) { // no-connection: the server restarted mid-flow
        c.wait(rtt).data('c', 100).statelessRst('s');
      } else {
        c.data('s', 1448).data('s', 200 + Math.floor(rand() * 1248)).wait(rtt).ack('c');
        if (kind === 2) c.fin('s').wait(rtt).ack('c').data('c', 200).statelessRst('s'); // reset-after-close
        else c.fin('s').wait(rtt).fin('c').ack('s'); // HTTP/1.0: the server closes
      }
    }
    if (kind <= 3) reset++;
    link.add(c);
    i++;
    t += 0.0005; // 2,000 new flows a second
    if ((i & 63) === 0) link.flush(t);
  }
  return { connections: i, reset };
}

// ---- storm ----

const STORM_CONNECTIONS = 10_000;

function storm(link: Link, targetBytes: number): Omit<CaptureInfo, 'packets' | 'bytes'> {
  const rand = seededRandom(255);
  const n = STORM_CONNECTIONS;
  const live: Live[] = [];
  let t = T0;
  // Open: a handshake and a first exchange each, 5,000 a second.
  for (let i = 0; i < n; i++) {
    const rtt = 0.01 + (i % 40) * 0.001;
    const c = new Conversation({
      client: `${benchAddr(i)}:${40000 + (i % 20000)}`, server: `203.0.113.${1 + (i % 50)}:443`, start: t,
      clientTtl: 64, serverTtl: 52, clientIsn: isn(i, 5), serverIsn: isn(i, 6),
    });
    const l: Live = { c, t, rtt };
    c.syn('c').synAck('s').wait(rtt).ack('c').data('c', 300).wait(rtt).data('s', 1200).ack('c');
    done(link, l);
    live.push(l);
    t += 0.0002;
    if ((i & 63) === 0) link.flush(t);
  }
  const dataStep = (l: Live, now: number) => {
    const c = at(l, now);
    const segs = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < segs; k++) c.data('s', 1448);
    c.wait(l.rtt).ack('c');
    if (rand() < 0.2) c.data('c', 60 + Math.floor(rand() * 200));
    done(link, l);
  };
  // Data on all of them, until what the storm will add is all that is left of the target.
  const stormReserve = n * 2200;
  let step = 0;
  while (link.bytes + stormReserve < targetBytes) {
    dataStep(live[Math.floor(rand() * n)]!, t);
    t += 0.00005;
    if ((++step & 255) === 0) link.flush(t);
  }
  // The storm: the middlebox resets one connection every 100 µs, in no particular order; the ones
  // not reset yet keep carrying data in between; a third of the servers keep sending afterwards.
  const order = shuffled(n, rand);
  for (let k = 0; k < n; k++) {
    const l = live[order[k]!]!;
    const c = at(l, t);
    c.activeRst('s', { ttl: 61, ident: (k * 7919) & 0xffff }); // forged as from the server, toward the client
    if (k % 3 === 0) c.wait(l.rtt / 2).data('s', 1448).statelessRst('c'); // the server never heard of it
    done(link, l);
    if (k + 1 < n && k % 2 === 0) {
      const rest = n - k - 1;
      dataStep(live[order[k + 1 + Math.floor(rand() * rest)]!]!, t + 0.00005);
    }
    t += 0.0001;
    if ((k & 63) === 0) link.flush(t);
  }
  return { connections: n, reset: n, maxAlive: n };
}

// ---- concurrent ----

const CONCURRENT_CONNECTIONS = 50_000;

function concurrent(link: Link, targetBytes: number): Omit<CaptureInfo, 'packets' | 'bytes'> {
  const rand = seededRandom(50);
  const n = CONCURRENT_CONNECTIONS;
  const services = [443, 5432, 6379, 8883];
  const live: Live[] = [];
  let t = T0;
  for (let i = 0; i < n; i++) {
    const rtt = 0.0005 + (i % 20) * 0.0005;
    const c = new Conversation({
      client: `${benchAddr(i)}:${40000 + (i % 20000)}`, server: `203.0.113.${1 + (i % 100)}:${services[i % 4]}`, start: t,
      clientIsn: isn(i, 7), serverIsn: isn(i, 8),
    });
    const l: Live = { c, t, rtt };
    c.syn('c').wait(rtt).synAck('s').ack('c');
    done(link, l);
    live.push(l);
    t += 0.00002;
    if ((i & 255) === 0) link.flush(t);
  }
  // Trickle: a small request and its answer on one connection every 20 µs, all connections in turn.
  const closeReserve = n * 210;
  const order = shuffled(n, rand);
  let step = 0;
  while (link.bytes + closeReserve < targetBytes) {
    const l = live[order[step % n]!]!;
    const c = at(l, t);
    c.data('c', 80 + Math.floor(rand() * 220)).wait(l.rtt).data('s', 200 + Math.floor(rand() * 1248)).ack('c');
    done(link, l);
    t += 0.00002;
    if ((++step & 255) === 0) link.flush(t);
  }
  let reset = 0;
  for (let i = 0; i < n; i++) {
    const l = live[i]!;
    const c = at(l, t);
    switch (i % 20) {
      case 0: c.activeRst('c'); reset++; break; // abort
      case 1: c.data('c', 100).statelessRst('s'); reset++; break; // no-connection
      default: c.fin('c').wait(l.rtt).fin('s').ack('c');
    }
    done(link, l);
    t += 0.00002;
    if ((i & 255) === 0) link.flush(t);
  }
  return { connections: n, reset, maxAlive: n };
}
