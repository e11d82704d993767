// IPv4 header view (RFC 791). Zero-copy over (bytes, offset): `Ipv4Packet.check` is the one bounds
// and sanity check; once it passes, `new Ipv4Packet(bytes, offset)` has getters that cannot fail.
// Addresses become strings only when `src`/`dst` are read.

import type { IpHeaderView } from './types.js';
import { dataViewOf, readU16 } from './bytes.js';
import { formatIpv4 } from './addr.js';

/** Field offsets from the start of the IPv4 header. */
export const Ipv4Field = {
  VER_IHL: 0,
  DSCP_ECN: 1,
  LENGTH: 2,
  IDENT: 4,
  FLG_OFF: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC_ADDR: 12,
  DST_ADDR: 16,
} as const;

export const IPV4_MIN_HEADER_LEN = 20;

/** Why an IPv4 view cannot be built. */
export type Ipv4CheckError = 'ipv4-truncated' | 'ipv4-bad-version' | 'ipv4-bad-header-length';

/** IP protocol numbers rstlab dispatches on (IANA "Assigned Internet Protocol Numbers"). */
export const IpProtocol = {
  HOPOPT: 0, ICMP: 1, IGMP: 2, IPIP: 4, TCP: 6, UDP: 17, IPV6: 41, IPV6_ROUTE: 43, IPV6_FRAG: 44,
  GRE: 47, ESP: 50, AH: 51, ICMPV6: 58, IPV6_NONXT: 59, IPV6_OPTS: 60, OSPF: 89, PIM: 103,
  VRRP: 112, SCTP: 132, MOBILITY: 135,
} as const;

export class Ipv4Packet implements IpHeaderView {
  /** `bytes` as a DataView, for the fields read per packet (bytes.ts): set with `bytes` by the
   *  constructor and `repoint`, the only ways to point the view elsewhere. */
  private dv: DataView;

  /** Unchecked constructor: call `Ipv4Packet.check` first (smoltcp's `new_unchecked`). */
  constructor(public bytes: Uint8Array, public offset: number) {
    this.dv = dataViewOf(bytes);
  }

  /** Point this view at another (checked) header: for decoders that reuse one view per frame. */
  repoint(bytes: Uint8Array, offset: number): this {
    if (bytes !== this.bytes) {
      this.bytes = bytes;
      this.dv = dataViewOf(bytes);
    }
    this.offset = offset;
    return this;
  }

  /**
   * The bounds check: version 4, IHL ≥ 5, and the whole header (with options) inside `end`.
   * Returns null when a view may be built.
   */
  static check(bytes: Uint8Array, offset: number, end: number): Ipv4CheckError | null {
    if (end - offset < IPV4_MIN_HEADER_LEN) return 'ipv4-truncated';
    const vihl = bytes[offset];
    if (vihl >> 4 !== 4) return 'ipv4-bad-version';
    const hl = (vihl & 0x0f) * 4;
    if (hl < IPV4_MIN_HEADER_LEN) return 'ipv4-bad-header-length';
    if (end - offset < hl) return 'ipv4-truncated';
    return null;
  }

  /** `check` then construct: a view, or the reason there is none. */
  static newChecked(bytes: Uint8Array, offset: number, end = bytes.length): Ipv4Packet | Ipv4CheckError {
    const err = Ipv4Packet.check(bytes, offset, end);
    return err === null ? new Ipv4Packet(bytes, offset) : err;
  }

  get version(): 4 { return 4; }
  /** Header length in bytes (IHL × 4). */
  get headerLength(): number { return (this.bytes[this.offset] & 0x0f) * 4; }
  get tos(): number { return this.bytes[this.offset + Ipv4Field.DSCP_ECN]; }
  get dscp(): number { return this.tos >> 2; }
  get ecn(): number { return this.tos & 3; }
  /** Total length field: header plus payload, as on the wire. */
  get totalLength(): number { return readU16(this.bytes, this.offset + Ipv4Field.LENGTH); }
  get ident(): number { return this.dv.getUint16(this.offset + Ipv4Field.IDENT); }
  get dontFragment(): boolean { return (this.bytes[this.offset + Ipv4Field.FLG_OFF] & 0x40) !== 0; }
  get moreFragments(): boolean { return (this.bytes[this.offset + Ipv4Field.FLG_OFF] & 0x20) !== 0; }
  /** Fragment offset in bytes (the field counts 8-byte units). */
  get fragmentOffset(): number { return (readU16(this.bytes, this.offset + Ipv4Field.FLG_OFF) & 0x1fff) * 8; }
  get ttl(): number { return this.bytes[this.offset + Ipv4Field.TTL]; }
  get protocol(): number { return this.bytes[this.offset + Ipv4Field.PROTOCOL]; }
  get checksum(): number { return readU16(this.bytes, this.offset + Ipv4Field.CHECKSUM); }
  /** The source address as a number (big-endian), as the tracker keys connections. */
  get srcNumber(): number { return this.dv.getUint32(this.offset + Ipv4Field.SRC_ADDR); }
  get dstNumber(): number { return this.dv.getUint32(this.offset + Ipv4Field.DST_ADDR); }
  get src(): string { return formatIpv4(this.bytes, this.offset + Ipv4Field.SRC_ADDR); }
  get dst(): string { return formatIpv4(this.bytes, this.offset + Ipv4Field.DST_ADDR); }
  /** The 4 address bytes (a view, not a copy). */
  srcBytes(): Uint8Array { return this.bytes.subarray(this.offset + 12, this.offset + 16); }
  dstBytes(): Uint8Array { return this.bytes.subarray(this.offset + 16, this.offset + 20); }
  get optionsLength(): number { return this.headerLength - IPV4_MIN_HEADER_LEN; }
  /** True when the header checksum is right (RFC 1071 sum over the header is 0xffff). */
  verifyChecksum(): boolean {
    let sum = 0;
    const b = this.bytes;
    const end = this.offset + this.headerLength;
    for (let i = this.offset; i < end; i += 2) sum += (b[i] << 8) | b[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    return sum === 0xffff;
  }
}
