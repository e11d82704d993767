// Frame builders for tests and benchmarks: one TCP segment inside IPv4 or IPv6 inside a chosen link
// header, with correct IPv4 header and TCP checksums. Fast enough to write millions of frames:
// addresses are parsed once and cached, a caller may pass a reusable output buffer, and a payload
// given as a length is zero-filled and costs nothing in the checksum. Misuse (an address that does
// not parse, options longer than 40 bytes, a packet longer than its IP length field holds, an
// output buffer too small) throws WireBuildError.

import { RstlabError } from '../errors.js';
import { parseIpv4, parseIpv6 } from './addr.js';
import { writeU16, writeU32 } from './bytes.js';
import { finishChecksum, pseudoHeaderSum, sumWords } from './checksum.js';
import { EtherType, LinkType } from './link.js';
import type { TcpOption } from './types.js';

/** A builder was given a spec it cannot encode. */
export class WireBuildError extends RstlabError {
  readonly code = 'ERR_WIRE_BUILD';
}

/** Link headers the builder writes (see linkTypeOf for the LINKTYPE each is captured under). */
export type BuildLink = 'ethernet' | 'vlan' | 'qinq' | 'pppoe' | 'raw' | 'null' | 'loop' | 'sll' | 'sll2' | 'ppp';

/** Options the builder writes: the decoded kinds, plus NOP/EOL and unknown options with their bytes. */
export type BuildTcpOption =
  | Exclude<TcpOption, { kind: 'unknown' } | { kind: 'malformed' } | { kind: 'md5' }>
  | { kind: 'md5'; digest?: Uint8Array }
  | { kind: 'unknown'; type: number; data?: Uint8Array; length?: number }
  | { kind: 'nop' }
  | { kind: 'eol' };

export interface TcpFrameSpec {
  link: BuildLink;
  /** VLAN IDs, outermost first: for 'vlan' (default [100]) and 'qinq' (default [200, 100]). */
  vlanIds?: readonly number[];
  ip: {
    version: 4 | 6;
    src: string;
    dst: string;
    ttl?: number;
    tos?: number;
    ident?: number;
    dontFragment?: boolean;
    flowLabel?: number;
  };
  tcp: {
    srcPort: number;
    dstPort: number;
    seqNumber: number;
    ackNumber: number;
    /** TcpFlag bits, AE (0x100) included. */
    flags: number;
    window?: number;
    urgentPointer?: number;
    options?: readonly BuildTcpOption[];
    /** Option bytes written verbatim after `options` (for malformed ones); padded to 4 bytes. */
    rawOptions?: Uint8Array;
    /** Payload bytes, or the length of a zero-filled payload. */
    payload?: Uint8Array | number;
  };
}

/** LINKTYPE_* number under which frames built with `link` are captured. */
export function linkTypeOf(link: BuildLink): number {
  switch (link) {
    case 'ethernet': case 'vlan': case 'qinq': case 'pppoe': return LinkType.ETHERNET;
    case 'raw': return LinkType.RAW;
    case 'null': return LinkType.NULL;
    case 'loop': return LinkType.LOOP;
    case 'sll': return LinkType.LINUX_SLL;
    case 'sll2': return LinkType.LINUX_SLL2;
    case 'ppp': return LinkType.PPP;
  }
}

const MAC_DST = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
const MAC_SRC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

const addrCache = new Map<string, Uint8Array>();
function addressBytes(text: string, version: 4 | 6): Uint8Array {
  const key = version === 4 ? text : `6/${text}`;
  let a = addrCache.get(key);
  if (a === undefined) {
    try {
      a = version === 4 ? parseIpv4(text) : parseIpv6(text);
    } catch {
      throw new WireBuildError(`not an IPv${version} address: ${text}`);
    }
    if (addrCache.size > 4096) addrCache.clear();
    addrCache.set(key, a);
  }
  return a;
}

function vlanIdsOf(spec: TcpFrameSpec): readonly number[] {
  if (spec.link === 'vlan') return spec.vlanIds ?? [100];
  if (spec.link === 'qinq') return spec.vlanIds ?? [200, 100];
  return [];
}

function linkHeaderLength(spec: TcpFrameSpec): number {
  switch (spec.link) {
    case 'ethernet': return 14;
    case 'vlan': case 'qinq': return 14 + 4 * vlanIdsOf(spec).length;
    case 'pppoe': return 14 + 8;
    case 'raw': return 0;
    case 'null': case 'loop': return 4;
    case 'sll': return 16;
    case 'sll2': return 20;
    case 'ppp': return 4;
  }
}

function optionLength(opt: BuildTcpOption): number {
  switch (opt.kind) {
    case 'nop': case 'eol': return 1;
    case 'mss': return 4;
    case 'window-scale': return 3;
    case 'sack-permitted': return 2;
    case 'sack': return 2 + 8 * opt.blocks.length;
    case 'timestamps': return 10;
    case 'md5': return 18;
    case 'unknown': return 2 + (opt.data?.length ?? Math.max(0, (opt.length ?? 2) - 2));
  }
}

function optionsLength(spec: TcpFrameSpec): number {
  let n = 0;
  for (const opt of spec.tcp.options ?? []) n += optionLength(opt);
  n += spec.tcp.rawOptions?.length ?? 0;
  const padded = (n + 3) & ~3;
  if (padded > 40) throw new WireBuildError(`TCP options take ${n} bytes; at most 40 fit`);
  return padded;
}

function payloadLengthOf(spec: TcpFrameSpec): number {
  const p = spec.tcp.payload;
  return p === undefined ? 0 : typeof p === 'number' ? p : p.length;
}

/** Length of the frame buildTcpFrame(spec) writes. */
export function tcpFrameLength(spec: TcpFrameSpec): number {
  const ipHeader = spec.ip.version === 4 ? 20 : 40;
  return linkHeaderLength(spec) + ipHeader + 20 + optionsLength(spec) + payloadLengthOf(spec);
}

function writeOptions(out: Uint8Array, o: number, spec: TcpFrameSpec, end: number): void {
  for (const opt of spec.tcp.options ?? []) {
    switch (opt.kind) {
      case 'eol': out[o++] = 0; break;
      case 'nop': out[o++] = 1; break;
      case 'mss': out[o] = 2; out[o + 1] = 4; writeU16(out, o + 2, opt.value); o += 4; break;
      case 'window-scale': out[o] = 3; out[o + 1] = 3; out[o + 2] = opt.shift; o += 3; break;
      case 'sack-permitted': out[o] = 4; out[o + 1] = 2; o += 2; break;
      case 'sack':
        out[o] = 5; out[o + 1] = 2 + 8 * opt.blocks.length; o += 2;
        for (const [l, r] of opt.blocks) { writeU32(out, o, l); writeU32(out, o + 4, r); o += 8; }
        break;
      case 'timestamps':
        out[o] = 8; out[o + 1] = 10; writeU32(out, o + 2, opt.tsVal); writeU32(out, o + 6, opt.tsEcr); o += 10;
        break;
      case 'md5':
        out[o] = 19; out[o + 1] = 18;
        if (opt.digest) out.set(opt.digest.subarray(0, 16), o + 2); else out.fill(0, o + 2, o + 18);
        o += 18;
        break;
      case 'unknown': {
        const len = optionLength(opt);
        out[o] = opt.type; out[o + 1] = opt.length ?? len;
        if (opt.data) out.set(opt.data, o + 2); else out.fill(0, o + 2, o + len);
        o += len;
        break;
      }
    }
  }
  if (spec.tcp.rawOptions) { out.set(spec.tcp.rawOptions, o); o += spec.tcp.rawOptions.length; }
  out.fill(0, o, end); // pad with EOL
}

function writeEthernet(out: Uint8Array, type: number): number {
  out.set(MAC_DST, 0);
  out.set(MAC_SRC, 6);
  writeU16(out, 12, type);
  return 14;
}

function writeLinkHeader(out: Uint8Array, spec: TcpFrameSpec, ipLength: number): number {
  const v6 = spec.ip.version === 6;
  const etherType = v6 ? EtherType.IPV6 : EtherType.IPV4;
  switch (spec.link) {
    case 'ethernet': return writeEthernet(out, etherType);
    case 'vlan': case 'qinq': {
      const ids = vlanIdsOf(spec);
      if (ids.length === 0) return writeEthernet(out, etherType);
      let o = writeEthernet(out, spec.link === 'qinq' && ids.length > 1 ? EtherType.QINQ : EtherType.VLAN);
      for (let i = 0; i < ids.length; i += 1) {
        writeU16(out, o, ids[i] & 0x0fff);
        writeU16(out, o + 2, i === ids.length - 1 ? etherType : EtherType.VLAN);
        o += 4;
      }
      return o;
    }
    case 'pppoe': {
      let o = writeEthernet(out, EtherType.PPPOE_SESSION);
      out[o] = 0x11; out[o + 1] = 0; writeU16(out, o + 2, 0x0001); writeU16(out, o + 4, ipLength + 2);
      writeU16(out, o + 6, v6 ? 0x0057 : 0x0021);
      o += 8;
      return o;
    }
    case 'raw': return 0;
    case 'null': // host byte order of a little-endian machine; macOS AF_INET6
      writeU32(out, 0, 0);
      out[0] = v6 ? 30 : 2;
      return 4;
    case 'loop': // network byte order; OpenBSD AF_INET6
      writeU32(out, 0, v6 ? 24 : 2);
      return 4;
    case 'sll':
      writeU16(out, 0, 0); // PACKET_HOST
      writeU16(out, 2, 1); // ARPHRD_ETHER
      writeU16(out, 4, 6);
      out.set(MAC_SRC, 6);
      out[12] = 0; out[13] = 0;
      writeU16(out, 14, etherType);
      return 16;
    case 'sll2':
      writeU16(out, 0, etherType);
      writeU16(out, 2, 0);
      writeU32(out, 4, 1); // ifindex
      writeU16(out, 8, 1); // ARPHRD_ETHER
      out[10] = 0; // PACKET_HOST
      out[11] = 6;
      out.set(MAC_SRC, 12);
      out[18] = 0; out[19] = 0;
      return 20;
    case 'ppp':
      out[0] = 0xff; out[1] = 0x03; writeU16(out, 2, v6 ? 0x0057 : 0x0021);
      return 4;
  }
}

/**
 * Build one frame. With `out` (large enough, see tcpFrameLength) the frame is written there and a
 * view of its first bytes returned; otherwise a new array is allocated.
 */
export function buildTcpFrame(spec: TcpFrameSpec, out?: Uint8Array): Uint8Array {
  const ip = spec.ip;
  const tcp = spec.tcp;
  const v6 = ip.version === 6;
  const optLen = optionsLength(spec);
  const payloadLen = payloadLengthOf(spec);
  const tcpLen = 20 + optLen + payloadLen;
  const ipHeaderLen = v6 ? 40 : 20;
  const ipLen = ipHeaderLen + tcpLen;
  if (!v6 && ipLen > 0xffff) throw new WireBuildError(`IPv4 packet of ${ipLen} bytes exceeds 65535`);
  if (v6 && tcpLen > 0xffff) throw new WireBuildError(`IPv6 payload of ${tcpLen} bytes exceeds 65535`);
  const total = linkHeaderLength(spec) + ipLen;
  let buf: Uint8Array;
  if (out !== undefined) {
    if (out.length < total) throw new WireBuildError(`output buffer of ${out.length} bytes < frame of ${total}`);
    buf = out;
  } else {
    buf = new Uint8Array(total);
  }
  const ipo = writeLinkHeader(buf, spec, ipLen);
  const src = addressBytes(ip.src, ip.version);
  const dst = addressBytes(ip.dst, ip.version);
  if (!v6) {
    buf[ipo] = 0x45;
    buf[ipo + 1] = ip.tos ?? 0;
    writeU16(buf, ipo + 2, ipLen);
    writeU16(buf, ipo + 4, ip.ident ?? 0);
    writeU16(buf, ipo + 6, (ip.dontFragment ?? true) ? 0x4000 : 0);
    buf[ipo + 8] = ip.ttl ?? 64;
    buf[ipo + 9] = 6;
    buf[ipo + 10] = 0; buf[ipo + 11] = 0;
    buf.set(src, ipo + 12);
    buf.set(dst, ipo + 16);
    writeU16(buf, ipo + 10, finishChecksum(sumWords(buf, ipo, ipo + 20)));
  } else {
    writeU32(buf, ipo, (6 << 28) | ((ip.tos ?? 0) << 20) | ((ip.flowLabel ?? 0) & 0xfffff));
    writeU16(buf, ipo + 4, tcpLen);
    buf[ipo + 6] = 6;
    buf[ipo + 7] = ip.ttl ?? 64;
    buf.set(src, ipo + 8);
    buf.set(dst, ipo + 24);
  }
  const t = ipo + ipHeaderLen;
  const hl = 20 + optLen;
  writeU16(buf, t, tcp.srcPort);
  writeU16(buf, t + 2, tcp.dstPort);
  writeU32(buf, t + 4, tcp.seqNumber);
  writeU32(buf, t + 8, tcp.ackNumber);
  buf[t + 12] = ((hl / 4) << 4) | ((tcp.flags >> 8) & 1);
  buf[t + 13] = tcp.flags & 0xff;
  writeU16(buf, t + 14, tcp.window ?? 65535);
  buf[t + 16] = 0; buf[t + 17] = 0;
  writeU16(buf, t + 18, tcp.urgentPointer ?? 0);
  if (optLen > 0) writeOptions(buf, t + 20, spec, t + hl);
  const p = tcp.payload;
  let sum = pseudoHeaderSum(buf, ipo, tcpLen);
  sum = sumWords(buf, t, t + hl, sum);
  if (typeof p === 'number') {
    if (out !== undefined) buf.fill(0, t + hl, t + hl + payloadLen);
  } else if (p !== undefined) {
    buf.set(p, t + hl);
    // A header is always an even number of bytes, so the payload's words line up.
    sum = sumWords(buf, t + hl, t + hl + payloadLen, sum);
  }
  writeU16(buf, t + 16, finishChecksum(sum));
  return out !== undefined ? buf.subarray(0, total) : buf;
}
