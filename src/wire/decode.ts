// decodeFrame: one captured frame → its innermost TCP segment, or data saying why there is none.
// Link (Ethernet with 802.1Q/802.1ad/QinQ tags, LLC/SNAP, MPLS, PPPoE; BSD NULL/LOOP; raw IP;
// Linux SLL/SLL2; PPP; Cisco HDLC) → IPv4 / IPv6 (extension headers, AH) → TCP, through IP-in-IP,
// IPv6-in-IPv4/IPv6, GRE, and VXLAN/Geneve on their UDP ports — the tunnels tcpdump follows — and
// Teredo (IPv6 in UDP, found as Wireshark's and Zeek's heuristics find it).
// Never throws on any input: every read is preceded by a bounds check; encapsulation depth is
// bounded (MAX_DEPTH), so it always ends.
//
// Hot path: no exceptions, no closures, no strings per packet (addresses are formatted only when a
// getter is read); the only allocations for a TCP frame are the result and its two views — and
// none with `decodeFrameAt`, which decodes bytes[start…] in place into a caller-owned
// DecodeScratch whose views are re-pointed (same results as `decodeFrame` on the subarray). The
// "what is TCP" line follows tcpdump 4.99: a segment is TCP when its 20-byte fixed header is
// captured and its data offset is ≥ 5 (otherwise tcpdump prints `[|tcp]` or `bad hdr length`).
//
// The views in a FrameTcp point into `data` (zero-copy): when `data` is a reader's reusable buffer,
// read what you need during the callback, or copy.
//
// Lengths: `wire` is where the frame ends on the wire (origLen), `cap` where the captured bytes end.
// An IP length beyond the captured bytes but within the wire length is `snaplen-cut`; beyond the
// wire length it is malformed (`ipv4-length-exceeds-frame`), since no snap length explains it.

import type { FrameDecode, FrameTcp, IpHeaderView } from './types.js';
import { readU16, readU32, readU32le } from './bytes.js';
import { IpProtocol, Ipv4Packet } from './ipv4.js';
import { Ipv6Packet } from './ipv6.js';
import { scanTcpOptions, TcpSegment } from './tcp.js';
import {
  ARPHRD_NETLINK, BsdAf, EtherType, ETHERNET_HEADER_LEN, LinkType, PppProtocol,
} from './link.js';

/** Upper bound on encapsulation steps (VLAN tags, MPLS labels, tunnels, AH headers) per frame. */
export const MAX_DEPTH = 32;

// Anomaly bits, turned into a shared frozen string array at the end (no per-packet array).
const A_FRAGMENT = 1;
const A_SNAPLEN = 2;
const A_TUNNEL = 4;
const A_OPTS = 8;
const A_HDR_EXCEEDS = 16;
const A_LEN_GUESSED = 32;
const A_HDR_CUT = 64;
/** Names of the anomaly bits, lowest bit first. */
export const FRAME_ANOMALIES = [
  'ip-fragment',                // first fragment of several: the segment is decoded, the rest is elsewhere
  'snaplen-cut',                // the IP packet is longer than what was captured (snap length)
  'tunnelled',                  // inside an outer packet: IP-in-IP, 6in4, GRE, VXLAN, Geneve or Teredo
  'tcp-options-malformed',      // an option with an impossible length (see TcpSegment.options())
  'tcp-header-exceeds-segment', // data offset points past the end of the IP payload
  'ip-length-guessed',          // IPv4 total length 0 (TSO) or IPv6 payload length 0 without jumbo option
  'tcp-header-cut',             // the TCP options were not all captured
] as const;
const ANOMALY_LISTS: ReadonlyArray<readonly string[]> = (() => {
  const lists: (readonly string[])[] = [];
  for (let mask = 0; mask < 1 << FRAME_ANOMALIES.length; mask += 1) {
    lists.push(Object.freeze(FRAME_ANOMALIES.filter((_, i) => (mask & (1 << i)) !== 0)));
  }
  return lists;
})();

type NotTcp = Extract<FrameDecode, { kind: 'not-tcp' }>;
type Malformed = Extract<FrameDecode, { kind: 'malformed' }>;

function notTcp(what: string): NotTcp {
  return Object.freeze({ kind: 'not-tcp', what }) as NotTcp;
}

const IP_PROTO_NAMES: Record<number, string> = {
  0: 'ipv6-hop-by-hop', 1: 'icmp', 2: 'igmp', 8: 'egp', 9: 'igp', 17: 'udp', 33: 'dccp', 46: 'rsvp',
  50: 'esp', 58: 'icmpv6', 88: 'eigrp', 89: 'ospf', 103: 'pim', 108: 'ipcomp', 112: 'vrrp',
  115: 'l2tp', 132: 'sctp', 136: 'udplite',
};
/** One shared result per IP protocol number. */
const NOT_TCP_PROTO: readonly NotTcp[] = Array.from({ length: 256 }, (_, p) => notTcp(IP_PROTO_NAMES[p] ?? `ip-proto-${p}`));
const ETHERTYPE_NAMES: Record<number, string> = {
  0x0806: 'arp', 0x8035: 'rarp', 0x88cc: 'lldp', 0x8863: 'pppoe-discovery', 0x888e: 'eapol',
  0x8809: 'slow-protocols', 0x88f7: 'ptp', 0x8906: 'fcoe', 0x0842: 'wake-on-lan', 0x22f3: 'trill',
  0x9000: 'loopback', 0x88e5: 'macsec', 0x8137: 'ipx', 0x809b: 'appletalk', 0x6003: 'decnet',
};
const notTcpEtherCache = new Map<number, NotTcp>();
function notTcpEthertype(type: number): NotTcp {
  let r = notTcpEtherCache.get(type);
  if (r === undefined) {
    r = notTcp(ETHERTYPE_NAMES[type] ?? `ethertype-0x${type.toString(16).padStart(4, '0')}`);
    notTcpEtherCache.set(type, r);
  }
  return r;
}
const NOT_TCP_IPV4_FRAGMENT = notTcp('ipv4-fragment');
const NOT_TCP_IPV6_FRAGMENT = notTcp('ipv6-fragment');
const NOT_TCP_ESP = notTcp('esp');
const NOT_TCP_NO_NEXT = notTcp('ipv6-no-next-header');
const NOT_TCP_LLC = notTcp('llc');
const NOT_TCP_MPLS = notTcp('mpls');
const NOT_TCP_NETLINK = notTcp('netlink');
const NOT_TCP_GRE = notTcp('gre');
const NOT_TCP_VJ = notTcp('ppp-vj-compressed');

function malformed(layer: Malformed['layer'], anomaly: string, detail: string): Malformed {
  return { kind: 'malformed', layer, anomaly, detail };
}

function cut(layer: Malformed['layer'], anomaly: string, what: string, need: number, have: number): Malformed {
  return malformed(layer, anomaly, `${what}: need ${need} bytes, ${have < 0 ? 0 : have} captured`);
}

function tooDeep(): Malformed {
  return malformed('link', 'too-many-encapsulations', `more than ${MAX_DEPTH} nested headers`);
}

/**
 * Decode one frame of link type `linkType`. `data` are the captured bytes, `origLen` the frame's
 * length on the wire. Never throws.
 */
export function decodeFrame(linkType: number, data: Uint8Array, origLen: number): FrameDecode {
  const cap = data.length;
  return decodeLink(linkType, data, 0, cap, origLen > cap ? origLen : cap);
}

const EMPTY = new Uint8Array(0);

/**
 * Caller-owned objects that `decodeFrameAt` re-points for every frame instead of allocating: one
 * view of each kind and one FrameTcp. A result (and its `ip`/`tcp` views) is valid only until the
 * next `decodeFrameAt` with the same scratch; results other than `tcp` are not affected.
 */
export class DecodeScratch {
  readonly v4 = new Ipv4Packet(EMPTY, 0);
  readonly v6 = new Ipv6Packet(EMPTY, 0);
  readonly tcp = new TcpSegment(EMPTY, 0, 0);
  readonly frame: FrameTcp = { kind: 'tcp', ip: this.v4, tcp: this.tcp, payloadLength: 0, anomalies: ANOMALY_LISTS[0] };
}

/** The scratch of the `decodeFrameAt` call in progress, or null (fresh objects, as `decodeFrame`). */
let scratch: DecodeScratch | null = null;

/**
 * `decodeFrame` of the `caplen` bytes at `bytes[start…]` (no subarray needed) into `into`'s
 * reused objects: the same result as `decodeFrame(linkType, bytes.subarray(start, start + caplen),
 * origLen)`, except that views hold `bytes` with offsets counted from its start, and a `tcp`
 * result is `into.frame`. Never reads outside [start, start + caplen). Never throws.
 */
export function decodeFrameAt(
  linkType: number, bytes: Uint8Array, start: number, caplen: number, origLen: number, into: DecodeScratch,
): FrameDecode {
  if (linkType === LinkType.ETHERNET) {
    const r = fastEthernetIpv4Tcp(bytes, start, start + caplen, into);
    if (r !== null) return r;
  }
  scratch = into;
  try {
    return decodeLink(linkType, bytes, start, start + caplen, start + (origLen > caplen ? origLen : caplen));
  } finally {
    scratch = null;
  }
}

/**
 * The common case in one step: Ethernet, IPv4 without options that is neither a fragment nor cut
 * by the snap length, carrying TCP with a header that fits in it. Exactly what the general path
 * answers for such a frame; null for anything else (the general path decides then).
 */
function fastEthernetIpv4Tcp(b: Uint8Array, s: number, cap: number, into: DecodeScratch): FrameTcp | null {
  const o = s + ETHERNET_HEADER_LEN;
  if (cap - o < 40) return null;
  if (b[s + 12] !== 0x08 || b[s + 13] !== 0x00 || b[o] !== 0x45 || b[o + 9] !== IpProtocol.TCP) return null;
  // Not a fragment (offset 0, MF clear): DF and the reserved bit do not matter.
  if ((b[o + 6] & 0x3f) !== 0 || b[o + 7] !== 0) return null;
  const ipEnd = o + readU16(b, o + 2);
  if (ipEnd < o + 40 || ipEnd > cap) return null; // short, TSO (0), or beyond the captured bytes
  const t = o + 20;
  const off = b[t + 12] >> 4;
  if (off < 5) return null;
  const hl = off * 4;
  const payloadLength = ipEnd - t - hl;
  if (payloadLength < 0) return null;
  const flags = hl > 20 && !scanTcpOptions(b, t + 20, t + hl, t + hl) ? A_OPTS : 0;
  const r = into.frame;
  r.ip = into.v4.repoint(b, o);
  r.tcp = into.tcp.repoint(b, t, ipEnd);
  r.payloadLength = payloadLength;
  r.anomalies = ANOMALY_LISTS[flags];
  return r;
}

/** The link layer of a frame in data[s, cap); `wire` is where it ends on the wire (≥ cap). */
function decodeLink(linkType: number, data: Uint8Array, s: number, cap: number, wire: number): FrameDecode {
  switch (linkType) {
    case LinkType.ETHERNET:
      return decodeEthernet(data, s, cap, wire, 0, 0);
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (cap - s < 4) return cut('link', 'null-truncated', 'BSD loopback header', 4, cap - s);
      // Host byte order of the capturing machine (NULL) or network order (LOOP): like tcpdump,
      // take whichever reading fits in 16 bits.
      let af = readU32le(data, s);
      if ((af & 0xffff0000) !== 0) af = readU32(data, s);
      switch (af) {
        case BsdAf.INET: return decodeIpv4(data, s + 4, cap, wire, 0, 0);
        case BsdAf.INET6_BSD:
        case BsdAf.INET6_FREEBSD:
        case BsdAf.INET6_DARWIN: return decodeIpv6(data, s + 4, cap, wire, 0, 0);
        default: return notTcp(`af-${af}`);
      }
    }
    case LinkType.RAW:
    case LinkType.RAW_DLT12:
    case LinkType.RAW_DLT14:
      return decodeIpByVersion(data, s, cap, wire, 0, 0);
    case LinkType.IPV4:
      return decodeIpv4(data, s, cap, wire, 0, 0);
    case LinkType.IPV6:
      return decodeIpv6(data, s, cap, wire, 0, 0);
    case LinkType.LINUX_SLL: {
      if (cap - s < 16) return cut('link', 'sll-truncated', 'Linux cooked header', 16, cap - s);
      if (readU16(data, s + 2) === ARPHRD_NETLINK) return NOT_TCP_NETLINK;
      return decodeSllProtocol(readU16(data, s + 14), data, s + 16, cap, wire);
    }
    case LinkType.LINUX_SLL2: {
      if (cap - s < 20) return cut('link', 'sll2-truncated', 'Linux cooked v2 header', 20, cap - s);
      if (readU16(data, s + 8) === ARPHRD_NETLINK) return NOT_TCP_NETLINK;
      return decodeSllProtocol(readU16(data, s), data, s + 20, cap, wire);
    }
    case LinkType.PPP:
    case LinkType.PPP_HDLC:
      if (cap - s >= 1 && (data[s] === 0x0f || data[s] === 0x8f)) return decodeChdlc(data, s, cap, wire);
      return decodePpp(data, s, cap, wire, 0, 0);
    case LinkType.PPP_ETHER:
      return decodePppoe(data, s, cap, wire, 0, 0);
    case LinkType.C_HDLC:
      return decodeChdlc(data, s, cap, wire);
    default:
      return { kind: 'unknown-linktype', value: linkType };
  }
}

/** SLL protocol field: an EtherType, or one of the Linux pseudo types below 0x0600. */
function decodeSllProtocol(proto: number, data: Uint8Array, o: number, cap: number, wire: number): FrameDecode {
  if (proto < 0x0600) {
    // 0x0001 802.3 (Novell), 0x0004 802.2 LLC, 0x000c CAN, 0x0010 HDLC...; only LLC/SNAP can carry IP.
    if (proto === 0x0004) return decodeEtherType(0x0000, data, o, cap, wire, 0, 0);
    return notTcp(`sll-protocol-0x${proto.toString(16).padStart(4, '0')}`);
  }
  return decodeEtherType(proto, data, o, cap, wire, 0, 0);
}

function decodeChdlc(data: Uint8Array, o: number, cap: number, wire: number): FrameDecode {
  if (cap - o < 4) return cut('link', 'chdlc-truncated', 'Cisco HDLC header', 4, cap - o);
  return decodeEtherType(readU16(data, o + 2), data, o + 4, cap, wire, 0, 0);
}

function decodeEthernet(data: Uint8Array, o: number, cap: number, wire: number, flags: number, depth: number): FrameDecode {
  if (cap - o < ETHERNET_HEADER_LEN) return cut('link', 'ethernet-truncated', 'Ethernet header', ETHERNET_HEADER_LEN, cap - o);
  return decodeEtherType(readU16(data, o + 12), data, o + 14, cap, wire, flags, depth);
}

/**
 * Dispatch on an EtherType at payload offset `o`, peeling VLAN tags and LLC/SNAP in a bounded loop.
 * A type ≤ 1500 is an 802.3 length: only LLC/SNAP with an EtherType goes on.
 */
function decodeEtherType(type: number, data: Uint8Array, o: number, cap: number, wire: number, flags: number, depth: number): FrameDecode {
  for (;;) {
    if (depth > MAX_DEPTH) return tooDeep();
    switch (type) {
      case EtherType.IPV4: return decodeIpv4(data, o, cap, wire, flags, depth);
      case EtherType.IPV6: return decodeIpv6(data, o, cap, wire, flags, depth);
      case EtherType.VLAN:
      case EtherType.QINQ:
      case EtherType.QINQ_OLD1:
      case EtherType.QINQ_OLD2:
        if (cap - o < 4) return cut('link', 'vlan-truncated', '802.1Q tag', 4, cap - o);
        type = readU16(data, o + 2);
        o += 4;
        depth += 1;
        continue;
      case EtherType.MPLS_UNICAST:
      case EtherType.MPLS_MULTICAST:
        return decodeMpls(data, o, cap, wire, flags, depth);
      case EtherType.PPPOE_SESSION:
        return decodePppoe(data, o, cap, wire, flags, depth);
      case EtherType.TEB:
        return decodeEthernet(data, o, cap, wire, flags, depth + 1);
      default:
        if (type <= 1500) {
          // IEEE 802.3 length + 802.2 LLC; SNAP (AA AA 03, OUI 00-00-00 or 00-00-F8) carries an EtherType.
          if (cap - o < 3) return cut('link', 'llc-truncated', '802.2 LLC header', 3, cap - o);
          if (data[o] !== 0xaa || data[o + 1] !== 0xaa || data[o + 2] !== 0x03) return NOT_TCP_LLC;
          if (cap - o < 8) return cut('link', 'llc-truncated', 'SNAP header', 8, cap - o);
          if (data[o + 3] !== 0 || data[o + 4] !== 0 || (data[o + 5] !== 0 && data[o + 5] !== 0xf8)) return NOT_TCP_LLC;
          type = readU16(data, o + 6);
          if (type <= 1500) return NOT_TCP_LLC;
          o += 8;
          depth += 1;
          continue;
        }
        return notTcpEthertype(type);
    }
  }
}

/** MPLS label stack (RFC 3032): IPv4 explicit null (0) / IPv6 explicit null (2), else guess from the first nibble as tcpdump does. */
function decodeMpls(data: Uint8Array, o: number, cap: number, wire: number, flags: number, depth: number): FrameDecode {
  let label = 0;
  for (;;) {
    if (depth > MAX_DEPTH) return tooDeep();
    if (cap - o < 4) return cut('link', 'mpls-truncated', 'MPLS label', 4, cap - o);
    const entry = readU32(data, o);
    label = entry >>> 12;
    o += 4;
    depth += 1;
    if ((entry & 0x100) !== 0) break;
  }
  if (label === 0) return decodeIpv4(data, o, cap, wire, flags, depth);
  if (label === 2) return decodeIpv6(data, o, cap, wire, flags, depth);
  if (cap - o < 1) return NOT_TCP_MPLS;
  const first = data[o];
  if (first >= 0x45 && first <= 0x4f) return decodeIpv4(data, o, cap, wire, flags, depth);
  if (first >> 4 === 6) return decodeIpv6(data, o, cap, wire, flags, depth);
  return NOT_TCP_MPLS;
}

/** PPPoE session stage (RFC 2516): 6-byte header then a PPP protocol field. */
function decodePppoe(data: Uint8Array, o: number, cap: number, wire: number, flags: number, depth: number): FrameDecode {
  if (cap - o < 6) return cut('link', 'pppoe-truncated', 'PPPoE header', 6, cap - o);
  return decodePppProtocol(data, o + 6, cap, wire, flags, depth + 1);
}

/** PPP in HDLC-like framing (RFC 1662): optional FF 03, then the protocol field. */
function decodePpp(data: Uint8Array, o: number, cap: number, wire: number, flags: number, depth: number): FrameDecode {
  if (cap - o >= 2 && data[o] === 0xff && data[o + 1] === 0x03) o += 2;
  return decodePppProtocol(data, o, cap, wire, flags, depth);
}

/** PPP protocol field, 1 byte when compressed (odd), else 2 (RFC 1661 §6.5). */
function decodePppProtocol(data: Uint8Array, o: number, cap: number, wire: number, flags: number, depth: number): FrameDecode {
  if (cap - o < 1) return cut('link', 'ppp-truncated', 'PPP protocol', 2, cap - o);
  let proto: number;
  if ((data[o] & 1) !== 0) {
    proto = data[o];
    o += 1;
  } else {
    if (cap - o < 2) return cut('link', 'ppp-truncated', 'PPP protocol', 2, cap - o);
    proto = readU16(data, o);
    o += 2;
  }
  switch (proto) {
    case PppProtocol.IPV4: return decodeIpv4(data, o, cap, wire, flags, depth);
    case PppProtocol.IPV6: return decodeIpv6(data, o, cap, wire, flags, depth);
    case PppProtocol.MPLS_UNICAST:
    case PppProtocol.MPLS_MULTICAST: return decodeMpls(data, o, cap, wire, flags, depth);
    case 0x002d:
    case 0x002f: return NOT_TCP_VJ;
    default: return notTcp(`ppp-0x${proto.toString(16).padStart(4, '0')}`);
  }
}

/** Raw IP: the version nibble decides. */
function decodeIpByVersion(data: Uint8Array, o: number, cap: number, wire: number, flags: number, depth: number): FrameDecode {
  if (cap - o < 1) return cut('link', 'raw-truncated', 'raw IP packet', 20, cap - o);
  const v = data[o] >> 4;
  if (v === 4) return decodeIpv4(data, o, cap, wire, flags, depth);
  if (v === 6) return decodeIpv6(data, o, cap, wire, flags, depth);
  return malformed('link', 'raw-bad-version', `raw IP packet with IP version ${v}`);
}

function decodeIpv4(data: Uint8Array, o: number, cap: number, wire: number, flags: number, depth: number): FrameDecode {
  const err = Ipv4Packet.check(data, o, cap);
  if (err !== null) {
    if (err === 'ipv4-truncated') {
      const need = cap - o >= 1 && (data[o] & 0x0f) > 5 ? (data[o] & 0x0f) * 4 : 20;
      return cut('ipv4', err, cap < wire ? 'IPv4 header (cut by the snap length)' : 'IPv4 header', need, cap - o);
    }
    if (err === 'ipv4-bad-version') return malformed('ipv4', err, `IP version ${data[o] >> 4} where IPv4 was announced`);
    return malformed('ipv4', err, `header length ${(data[o] & 0x0f) * 4} < 20`);
  }
  const hl = (data[o] & 0x0f) * 4;
  let total = readU16(data, o + 2);
  if (total < hl) {
    if (total !== 0) return malformed('ipv4', 'ipv4-bad-total-length', `total length ${total} < header length ${hl}`);
    // Total length 0: a TSO super-packet captured before segmentation (tcpdump's GUESS_TSO).
    total = wire - o;
    flags |= A_LEN_GUESSED;
  }
  const ipEnd = o + total;
  if (ipEnd > wire) {
    return malformed('ipv4', 'ipv4-length-exceeds-frame', `total length ${total} > ${wire - o} bytes on the wire`);
  }
  let capEnd = ipEnd;
  if (ipEnd > cap) { capEnd = cap; flags |= A_SNAPLEN; }
  const flOff = readU16(data, o + 6);
  if ((flOff & 0x1fff) !== 0) return NOT_TCP_IPV4_FRAGMENT;
  if ((flOff & 0x2000) !== 0) flags |= A_FRAGMENT;
  const ip = scratch === null ? new Ipv4Packet(data, o) : scratch.v4.repoint(data, o);
  return decodeUpper(data[o + 9], ip, data, o + hl, capEnd, ipEnd, flags, depth);
}

function decodeIpv6(data: Uint8Array, o: number, cap: number, wire: number, flags: number, depth: number): FrameDecode {
  const err = Ipv6Packet.check(data, o, cap);
  if (err !== null) {
    if (err === 'ipv6-truncated') {
      return cut('ipv6', err, cap < wire ? 'IPv6 header (cut by the snap length)' : 'IPv6 header', 40, cap - o);
    }
    return malformed('ipv6', err, `IP version ${data[o] >> 4} where IPv6 was announced`);
  }
  const plen = readU16(data, o + 4);
  let ipEnd: number;
  if (plen === 0) {
    ipEnd = wire; // jumbogram or unknown: settled after the hop-by-hop header is read
  } else {
    ipEnd = o + 40 + plen;
    if (ipEnd > wire) {
      return malformed('ipv6', 'ipv6-length-exceeds-frame', `payload length ${plen} > ${wire - o - 40} bytes on the wire`);
    }
  }
  let capEnd = ipEnd;
  if (ipEnd > cap) { capEnd = cap; flags |= A_SNAPLEN; }
  const ip = scratch === null ? new Ipv6Packet(data, o) : scratch.v6.repoint(data, o);
  const walk = ip.walkExtensions(capEnd, ipEnd);
  if (plen === 0) {
    if (ip.jumboLength >= 0 && o + 40 + ip.jumboLength <= wire) {
      ipEnd = o + 40 + ip.jumboLength;
      if (ipEnd <= cap) { capEnd = ipEnd; flags &= ~A_SNAPLEN; }
    } else {
      flags |= A_LEN_GUESSED;
    }
  }
  switch (walk) {
    case 'upper':
      if (ip.fragmented) flags |= A_FRAGMENT;
      return decodeUpper(ip.upperProtocol, ip, data, ip.upperOffset, capEnd, ipEnd, flags, depth);
    case 'ipv6-fragment': return NOT_TCP_IPV6_FRAGMENT;
    case 'esp': return NOT_TCP_ESP;
    case 'ipv6-no-next-header': return NOT_TCP_NO_NEXT;
    case 'ipv6-truncated':
      return malformed('ipv6', walk, `extension header ${ip.upperProtocol} at offset ${ip.upperOffset - o} cut off`);
    case 'ipv6-bad-extension-length':
      return malformed('ipv6', walk, `extension header ${ip.upperProtocol} at offset ${ip.upperOffset - o} runs past the payload`);
    case 'ipv6-too-many-extensions':
      return malformed('ipv6', walk, 'extension header chain too long');
  }
}

/** The upper layer of an IP packet: TCP, a tunnel, AH, or something else. */
function decodeUpper(
  proto: number, ip: IpHeaderView, data: Uint8Array, o: number, capEnd: number, ipEnd: number,
  flags: number, depth: number,
): FrameDecode {
  for (;;) {
    if (depth > MAX_DEPTH) return tooDeep();
    switch (proto) {
      case IpProtocol.TCP: {
        const err = TcpSegment.check(data, o, capEnd);
        if (err !== null) {
          if (err === 'tcp-truncated') return cut('tcp', err, 'TCP header', 20, capEnd - o);
          return malformed('tcp', err, `data offset ${data[o + 12] >> 4} < 5`);
        }
        const hl = (data[o + 12] >> 4) * 4;
        let payloadLength = ipEnd - o - hl;
        if (payloadLength < 0) { payloadLength = 0; flags |= A_HDR_EXCEEDS; }
        else if (o + hl > capEnd) flags |= A_HDR_CUT;
        if (hl > 20 && !scanTcpOptions(data, o + 20, o + hl, o + hl < capEnd ? o + hl : capEnd)) flags |= A_OPTS;
        if (scratch === null) {
          const r: FrameTcp = { kind: 'tcp', ip, tcp: new TcpSegment(data, o, capEnd), payloadLength, anomalies: ANOMALY_LISTS[flags] };
          return r;
        }
        const r = scratch.frame;
        r.ip = ip;
        r.tcp = scratch.tcp.repoint(data, o, capEnd);
        r.payloadLength = payloadLength;
        r.anomalies = ANOMALY_LISTS[flags];
        return r;
      }
      case IpProtocol.IPIP:
        return decodeIpv4(data, o, capEnd, ipEnd, flags | A_TUNNEL, depth + 1);
      case IpProtocol.IPV6:
        return decodeIpv6(data, o, capEnd, ipEnd, flags | A_TUNNEL, depth + 1);
      case IpProtocol.GRE:
        return decodeGre(data, o, capEnd, ipEnd, flags | A_TUNNEL, depth + 1);
      case IpProtocol.UDP:
        return decodeUdp(data, o, capEnd, ipEnd, flags, depth);
      case IpProtocol.AH: {
        // RFC 4302 (inside IPv6 the extension walk has already stepped over it).
        if (capEnd - o < 2) return cut(ip.version === 4 ? 'ipv4' : 'ipv6', 'ah-truncated', 'AH header', 12, capEnd - o);
        const len = (data[o + 1] + 2) * 4;
        if (o + len > capEnd) return cut(ip.version === 4 ? 'ipv4' : 'ipv6', 'ah-truncated', 'AH header', len, capEnd - o);
        proto = data[o];
        o += len;
        depth += 1;
        continue;
      }
      default:
        return NOT_TCP_PROTO[proto];
    }
  }
}

/** Well-known UDP ports of the tunnels tcpdump follows by default. */
export const UdpTunnelPort = { VXLAN: 4789, GENEVE: 6081, TEREDO: 3544 } as const;
const NOT_TCP_UDP = NOT_TCP_PROTO[IpProtocol.UDP];

/** UDP: plain UDP is not TCP, but VXLAN (RFC 7348) and Geneve (RFC 8926) carry frames, as tcpdump
 *  decodes them, and Teredo (RFC 4380) carries IPv6, as Wireshark and Zeek decode it. */
function decodeUdp(data: Uint8Array, o: number, capEnd: number, ipEnd: number, flags: number, depth: number): FrameDecode {
  if (capEnd - o < 8) return NOT_TCP_UDP;
  const sport = readU16(data, o);
  const dport = readU16(data, o + 2);
  const u = o + 8;
  if (sport === UdpTunnelPort.VXLAN || dport === UdpTunnelPort.VXLAN) {
    if (capEnd - u < 8) return cut('link', 'vxlan-truncated', 'VXLAN header', 8, capEnd - u);
    return decodeEthernet(data, u + 8, capEnd, ipEnd, flags | A_TUNNEL, depth + 1);
  }
  if (sport === UdpTunnelPort.GENEVE || dport === UdpTunnelPort.GENEVE) {
    if (capEnd - u < 8) return cut('link', 'geneve-truncated', 'Geneve header', 8, capEnd - u);
    if (data[u] >> 6 !== 0) return NOT_TCP_UDP; // unknown version
    const hl = 8 + (data[u] & 0x3f) * 4;
    if (capEnd - u < hl) return cut('link', 'geneve-truncated', 'Geneve options', hl, capEnd - u);
    return decodeEtherType(readU16(data, u + 2), data, u + hl, capEnd, ipEnd, flags | A_TUNNEL, depth + 1);
  }
  return decodeTeredo(data, u, capEnd, Math.min(o + readU16(data, o + 4), ipEnd), flags, depth);
}

/** Teredo (RFC 4380 §5.1.1): an IPv6 packet in UDP, after an optional authentication indicator
 *  (0x0001, ID and value lengths, the client ID, the value, an 8-byte nonce, a confirmation byte)
 *  and an optional origin indication (0x0000, 8 bytes). Relays use any port (the server 3544), so,
 *  as Zeek's and Wireshark's heuristics do, any UDP datagram is Teredo when what follows the
 *  indicators is an IPv6 header whose payload length ends exactly where the datagram ends; anything
 *  else is plain UDP, never a decode error. */
function decodeTeredo(data: Uint8Array, u: number, capEnd: number, udpEnd: number, flags: number, depth: number): FrameDecode {
  let o = u;
  if (capEnd - o >= 4 && data[o] === 0 && data[o + 1] === 1) o += 4 + data[o + 2] + data[o + 3] + 9;
  if (capEnd - o >= 8 && data[o] === 0 && data[o + 1] === 0) o += 8;
  if (capEnd - o < 40 || data[o] >> 4 !== 6 || o + 40 + readU16(data, o + 4) !== udpEnd) return NOT_TCP_UDP;
  return decodeIpv6(data, o, capEnd, udpEnd, flags | A_TUNNEL, depth + 1);
}

/** GRE (RFC 2784/2890, and the PPTP version 1 of RFC 2637). */
function decodeGre(data: Uint8Array, o: number, capEnd: number, ipEnd: number, flags: number, depth: number): FrameDecode {
  if (capEnd - o < 4) return cut('link', 'gre-truncated', 'GRE header', 4, capEnd - o);
  const fv = readU16(data, o);
  const proto = readU16(data, o + 2);
  const version = fv & 7;
  let hl = 4;
  if (version === 0) {
    if ((fv & 0xc000) !== 0) hl += 4; // checksum (C) or routing (R): checksum + offset
    if ((fv & 0x2000) !== 0) hl += 4; // key
    if ((fv & 0x1000) !== 0) hl += 4; // sequence number
    if ((fv & 0x4000) !== 0) {
      // RFC 1701 source route entries, ended by one with length 0.
      for (let n = 0; ; n += 1) {
        if (n > MAX_DEPTH) return tooDeep();
        if (capEnd - o < hl + 4) return cut('link', 'gre-truncated', 'GRE source route entry', hl + 4, capEnd - o);
        const sreLen = data[o + hl + 3];
        hl += 4 + sreLen;
        if (sreLen === 0) break;
      }
    }
    if (capEnd - o < hl) return cut('link', 'gre-truncated', 'GRE header', hl, capEnd - o);
    return decodeEtherType(proto, data, o + hl, capEnd, ipEnd, flags, depth);
  }
  if (version === 1) {
    hl = 8; // key field: payload length + call ID
    if ((fv & 0x1000) !== 0) hl += 4;
    if ((fv & 0x0080) !== 0) hl += 4; // acknowledgment number
    if (capEnd - o < hl) return cut('link', 'gre-truncated', 'enhanced GRE header', hl, capEnd - o);
    if (proto === 0x880b) {
      if (o + hl === capEnd) return NOT_TCP_GRE; // ack-only
      return decodePpp(data, o + hl, capEnd, ipEnd, flags, depth);
    }
  }
  return NOT_TCP_GRE;
}
