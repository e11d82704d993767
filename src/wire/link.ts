// Link-layer constants: LINKTYPE_* values (tcpdump.org/linktypes.html), EtherTypes, BSD
// address-family values, and the field offsets of every link header decodeFrame reads. The
// link layers are decoded straight from these offsets by decode.ts (no view object per frame);
// `EthernetFrame` is the view for callers who want the MAC header itself.

import { readU16 } from './bytes.js';

/** LINKTYPE_* values as they appear in pcap and pcapng files. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  PPP: 9,
  RAW: 101,
  /** DLT_RAW on most BSDs and Linux, as written into old pcap files. */
  RAW_DLT12: 12,
  /** DLT_RAW on OpenBSD. */
  RAW_DLT14: 14,
  PPP_HDLC: 50,
  PPP_ETHER: 51,
  C_HDLC: 104,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  RARP: 0x8035,
  IPV6: 0x86dd,
  MPLS_UNICAST: 0x8847,
  MPLS_MULTICAST: 0x8848,
  PPPOE_DISCOVERY: 0x8863,
  PPPOE_SESSION: 0x8864,
  QINQ: 0x88a8,
  LLDP: 0x88cc,
  /** Transparent Ethernet Bridging (Ethernet inside GRE). */
  TEB: 0x6558,
  /** Pre-standard QinQ tag types still seen on the wire. */
  QINQ_OLD1: 0x9100,
  QINQ_OLD2: 0x9200,
} as const;

/** BSD AF_* values that mean IPv4 and IPv6 in NULL/LOOP headers (they differ per OS). */
export const BsdAf = { INET: 2, INET6_BSD: 24, INET6_FREEBSD: 28, INET6_DARWIN: 30 } as const;

export const EthernetField = { DST: 0, SRC: 6, ETHERTYPE: 12, PAYLOAD: 14 } as const;
export const ETHERNET_HEADER_LEN = 14;
/** An 802.1Q/802.1ad tag: TCI then the inner EtherType. */
export const VlanField = { TCI: 0, ETHERTYPE: 2, PAYLOAD: 4 } as const;
/** Linux cooked capture v1 (16 bytes). */
export const SllField = { PKTTYPE: 0, HATYPE: 2, HALEN: 4, ADDR: 6, PROTOCOL: 14, PAYLOAD: 16 } as const;
/** Linux cooked capture v2 (20 bytes). */
export const Sll2Field = { PROTOCOL: 0, RESERVED: 2, IFINDEX: 4, HATYPE: 8, PKTTYPE: 10, HALEN: 11, ADDR: 12, PAYLOAD: 20 } as const;
/** PPPoE session header (RFC 2516) followed by the 2-byte PPP protocol. */
export const PppoeField = { VER_TYPE: 0, CODE: 1, SESSION: 2, LENGTH: 4, PPP_PROTOCOL: 6, PAYLOAD: 8 } as const;
/** Cisco HDLC: address, control, EtherType. */
export const ChdlcField = { ADDRESS: 0, CONTROL: 1, PROTOCOL: 2, PAYLOAD: 4 } as const;
/** PPP protocol numbers (RFC 1661 / IANA). */
export const PppProtocol = { IPV4: 0x0021, IPV6: 0x0057, MPLS_UNICAST: 0x0281, MPLS_MULTICAST: 0x0283 } as const;
/** Linux ARPHRD_NETLINK: SLL frames carrying netlink messages, not IP. */
export const ARPHRD_NETLINK = 824;

/** View of an Ethernet II header. `check` first; then getters cannot fail. */
export class EthernetFrame {
  constructor(readonly bytes: Uint8Array, readonly offset: number) {}
  static check(bytes: Uint8Array, offset: number, end = bytes.length): 'ethernet-truncated' | null {
    return end - offset < ETHERNET_HEADER_LEN ? 'ethernet-truncated' : null;
  }
  get dst(): string { return formatMac(this.bytes, this.offset); }
  get src(): string { return formatMac(this.bytes, this.offset + EthernetField.SRC); }
  get etherType(): number { return readU16(this.bytes, this.offset + EthernetField.ETHERTYPE); }
}

export function formatMac(b: Uint8Array, o: number): string {
  let s = '';
  for (let i = 0; i < 6; i += 1) s += (i ? ':' : '') + b[o + i].toString(16).padStart(2, '0');
  return s;
}
