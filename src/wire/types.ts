// Contract of the wire layer as the rest of rstlab sees it: one call decodes a captured frame down
// to its TCP segment (or says, as data, why it cannot). Views are zero-copy over the frame's bytes:
// one bounds check when built, then getters cannot fail. Unknown values are kept, never dropped.

/** What an IP header offers to the tracker and the explainer, for IPv4 and IPv6 alike. */
export interface IpHeaderView {
  readonly version: 4 | 6;
  /** Textual address: dotted quad, or RFC 5952 compressed IPv6. */
  readonly src: string;
  readonly dst: string;
  /** IPv4 TTL or IPv6 hop limit. */
  readonly ttl: number;
  /** IPv4 TOS byte or IPv6 traffic class (DSCP << 2 | ECN). */
  readonly tos: number;
  /** IPv4 identification; null for IPv6 (no ID unless a fragment header is present). */
  readonly ident: number | null;
  /** IPv4 DF bit; null for IPv6. */
  readonly dontFragment: boolean | null;
  /** Bytes of IPv4 options or IPv6 extension headers before the upper layer. */
  readonly optionsLength: number;
}

export type TcpOption =
  | { kind: 'mss'; value: number }
  | { kind: 'window-scale'; shift: number }
  | { kind: 'sack-permitted' }
  | { kind: 'sack'; blocks: ReadonlyArray<readonly [left: number, right: number]> }
  | { kind: 'timestamps'; tsVal: number; tsEcr: number }
  | { kind: 'md5'; }
  | { kind: 'unknown'; type: number; length: number }
  /**
   * An option whose length byte is impossible; decoding stops there (the segment is still used).
   * `offset` is the option's byte offset from the start of the TCP header (≥ 20).
   */
  | { kind: 'malformed'; type: number; offset: number };

/** TCP flag bits (RFC 9293 plus ECN, RFC 3168; AE from RFC 9768 in the reserved bit). */
export const TcpFlag = {
  FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80, AE: 0x100,
} as const;

export interface TcpSegmentView {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seqNumber: number;
  readonly ackNumber: number;
  /** Header length in bytes (data offset × 4). */
  readonly headerLength: number;
  /** All flag bits including AE (bit 8), see TcpFlag. */
  readonly flags: number;
  readonly fin: boolean; readonly syn: boolean; readonly rst: boolean; readonly psh: boolean;
  readonly ack: boolean; readonly urg: boolean; readonly ece: boolean; readonly cwr: boolean;
  readonly window: number;
  readonly checksum: number;
  readonly urgentPointer: number;
  /** Decoded options (only those present in the captured bytes). */
  options(): TcpOption[];
  /** The captured part of the payload (may be shorter than FrameTcp.payloadLength). */
  readonly payload: Uint8Array;
}

/** The result of decoding one frame. */
export type FrameDecode =
  | FrameTcp
  /** An IP or link packet that carries no TCP: `what` names it (`arp`, `udp`, `icmp`, `ethertype-0x88cc`). */
  | { kind: 'not-tcp'; what: string }
  /** Damaged or cut before the TCP flags could be read: a named anomaly (`ipv4-truncated`, `tcp-bad-offset`…). */
  | { kind: 'malformed'; layer: 'link' | 'ipv4' | 'ipv6' | 'tcp'; anomaly: string; detail: string }
  | { kind: 'unknown-linktype'; value: number };

export interface FrameTcp {
  kind: 'tcp';
  /** The innermost IP header carrying the segment. */
  ip: IpHeaderView;
  tcp: TcpSegmentView;
  /** Payload length according to the IP header (what was on the wire, not what was captured). */
  payloadLength: number;
  /** Oddities that do not prevent use: `ip-fragment`, `snaplen-cut`, `tunnelled`, `tcp-options-malformed`… */
  anomalies: readonly string[];
}
