// IPv6 header view (RFC 8200) and its extension-header walk. `Ipv6Packet.check` is the bounds check
// of the fixed 40-byte header; `walkExtensions` then follows hop-by-hop (0), routing (43), fragment
// (44), destination options (60), mobility (135) and AH (51, RFC 4302) headers to the upper layer,
// at most IPV6_MAX_EXTENSIONS of them, each inside the captured bytes, and records where it stopped.
// Addresses become strings only when `src`/`dst` are read.

import type { IpHeaderView } from './types.js';
import { readU16, readU32 } from './bytes.js';
import { formatIpv6 } from './addr.js';
import { IpProtocol } from './ipv4.js';

/** Field offsets from the start of the IPv6 header. */
export const Ipv6Field = {
  VER_TC_FLOW: 0,
  LENGTH: 4,
  NXT_HDR: 6,
  HOP_LIMIT: 7,
  SRC_ADDR: 8,
  DST_ADDR: 24,
} as const;

export const IPV6_HEADER_LEN = 40;
/** Bound on the extension-header chain (RFC 8200 allows each type once or twice). */
export const IPV6_MAX_EXTENSIONS = 16;

export type Ipv6CheckError = 'ipv6-truncated' | 'ipv6-bad-version';

/** How the extension walk ended. `upper` = reached an upper-layer protocol (see `upperProtocol`). */
export type Ipv6WalkResult =
  | 'upper'
  | 'ipv6-fragment'            // a non-first fragment: no upper-layer header here
  | 'esp'                      // encrypted: unreadable
  | 'ipv6-no-next-header'
  | 'ipv6-truncated'           // an extension header is cut off in the captured bytes
  | 'ipv6-bad-extension-length' // an extension header runs past the payload length
  | 'ipv6-too-many-extensions';

export class Ipv6Packet implements IpHeaderView {
  /** Offset of the upper-layer header (after the extension headers); set by `walkExtensions`. */
  upperOffset: number;
  /** Protocol number of the upper layer (or of the header where the walk stopped). */
  upperProtocol: number;
  /** Identification of a fragment header, or -1 when there is none. */
  fragmentIdent = -1;
  /** True when a fragment header says more fragments follow (first fragment of several). */
  fragmented = false;
  /** Jumbo payload length from a hop-by-hop Jumbo Payload option (RFC 2675), or -1. */
  jumboLength = -1;

  /** Unchecked constructor: call `Ipv6Packet.check` first. */
  constructor(public bytes: Uint8Array, public offset: number) {
    this.upperOffset = offset + IPV6_HEADER_LEN;
    this.upperProtocol = bytes[offset + Ipv6Field.NXT_HDR];
  }

  /** Point this view at another (checked) header, as freshly constructed: for decoders that reuse one view. */
  repoint(bytes: Uint8Array, offset: number): this {
    this.bytes = bytes;
    this.offset = offset;
    this.upperOffset = offset + IPV6_HEADER_LEN;
    this.upperProtocol = bytes[offset + Ipv6Field.NXT_HDR];
    this.fragmentIdent = -1;
    this.fragmented = false;
    this.jumboLength = -1;
    return this;
  }

  static check(bytes: Uint8Array, offset: number, end: number): Ipv6CheckError | null {
    if (end - offset < IPV6_HEADER_LEN) return 'ipv6-truncated';
    if (bytes[offset] >> 4 !== 6) return 'ipv6-bad-version';
    return null;
  }

  static newChecked(bytes: Uint8Array, offset: number, end = bytes.length): Ipv6Packet | Ipv6CheckError {
    const err = Ipv6Packet.check(bytes, offset, end);
    return err === null ? new Ipv6Packet(bytes, offset) : err;
  }

  get version(): 6 { return 6; }
  get tos(): number { return (readU16(this.bytes, this.offset) >> 4) & 0xff; }
  get trafficClass(): number { return this.tos; }
  get flowLabel(): number { return readU32(this.bytes, this.offset) & 0xfffff; }
  /** Payload length field (0 for a jumbogram). */
  get payloadLength(): number { return readU16(this.bytes, this.offset + Ipv6Field.LENGTH); }
  get nextHeader(): number { return this.bytes[this.offset + Ipv6Field.NXT_HDR]; }
  get hopLimit(): number { return this.bytes[this.offset + Ipv6Field.HOP_LIMIT]; }
  get ttl(): number { return this.hopLimit; }
  get ident(): number | null { return this.fragmentIdent < 0 ? null : this.fragmentIdent; }
  get dontFragment(): null { return null; }
  get src(): string { return formatIpv6(this.bytes, this.offset + Ipv6Field.SRC_ADDR); }
  get dst(): string { return formatIpv6(this.bytes, this.offset + Ipv6Field.DST_ADDR); }
  srcBytes(): Uint8Array { return this.bytes.subarray(this.offset + 8, this.offset + 24); }
  dstBytes(): Uint8Array { return this.bytes.subarray(this.offset + 24, this.offset + 40); }
  /** Bytes of extension headers between the fixed header and the upper layer. */
  get optionsLength(): number { return this.upperOffset - this.offset - IPV6_HEADER_LEN; }

  /**
   * Follow the extension headers. `capEnd` is the end of the captured bytes, `wireEnd` the end of
   * the packet as on the wire (from the payload length). Never reads outside `capEnd`.
   */
  walkExtensions(capEnd: number, wireEnd: number): Ipv6WalkResult {
    const b = this.bytes;
    let nh = b[this.offset + Ipv6Field.NXT_HDR];
    let o = this.offset + IPV6_HEADER_LEN;
    for (let n = 0; ; n += 1) {
      this.upperOffset = o;
      this.upperProtocol = nh;
      let len: number;
      switch (nh) {
        case IpProtocol.HOPOPT:
        case IpProtocol.IPV6_ROUTE:
        case IpProtocol.IPV6_OPTS:
        case IpProtocol.MOBILITY:
          if (capEnd - o < 2) return 'ipv6-truncated';
          len = (b[o + 1] + 1) * 8;
          if (nh === IpProtocol.HOPOPT && o + len <= capEnd) this.scanJumbo(o + 2, o + len);
          break;
        case IpProtocol.AH:
          if (capEnd - o < 2) return 'ipv6-truncated';
          len = (b[o + 1] + 2) * 4;
          break;
        case IpProtocol.IPV6_FRAG: {
          len = 8;
          if (capEnd - o < 8) return 'ipv6-truncated';
          const offMore = readU16(b, o + 2);
          this.fragmentIdent = readU32(b, o + 4);
          if ((offMore & 0xfff8) !== 0) return 'ipv6-fragment';
          if ((offMore & 1) !== 0) this.fragmented = true;
          break;
        }
        case IpProtocol.ESP:
          return 'esp';
        case IpProtocol.IPV6_NONXT:
          return 'ipv6-no-next-header';
        default:
          return 'upper';
      }
      if (n >= IPV6_MAX_EXTENSIONS) return 'ipv6-too-many-extensions';
      if (o + len > wireEnd) return 'ipv6-bad-extension-length';
      if (o + len > capEnd) return 'ipv6-truncated';
      nh = b[o];
      o += len;
    }
  }

  /** Look for a Jumbo Payload option (type 0xC2, length 4) in hop-by-hop options [o, end). */
  private scanJumbo(o: number, end: number): void {
    const b = this.bytes;
    while (o < end) {
      const t = b[o];
      if (t === 0) { o += 1; continue; } // Pad1
      if (o + 2 > end) return;
      const l = b[o + 1];
      if (t === 0xc2 && l === 4 && o + 6 <= end) { this.jumboLength = readU32(b, o + 2); return; }
      o += 2 + l;
    }
  }
}
