// Contract of the capture layer: what a reader hands to its consumer, per packet and per anomaly.
// Readers are push-style and synchronous (bytes in, callbacks out) so that any source — a file, stdin,
// a gunzip stream, a live tcpdump pipe — can feed them, and memory stays bounded by one record.

/** One captured packet. `data` is a view into the reader's buffer: valid only during the callback. */
export interface PacketRecord {
  /** 1-based position of the packet in the file, counted across sections and interfaces, as `tcpdump -#` and Wireshark count. */
  frame: number;
  /** Timestamp: whole seconds since the epoch, and nanoseconds within that second. */
  tsSec: number;
  tsNsec: number;
  /** LINKTYPE_* value of the interface that captured the packet. */
  linkType: number;
  /** pcapng interface index within its section; 0 for classic pcap. */
  interfaceId: number;
  /** The captured bytes (possibly cut by the snap length). */
  data: Uint8Array;
  /** The packet's length on the wire. */
  origLen: number;
  /**
   * Optional zero-copy form of `data`, for consumers that decode in place: `data` is
   * bytes[dataOffset, dataOffset + dataLength). Set (not enumerable) by createCaptureParser, whose
   * `data` is then built only when read; all three are set together or not at all.
   */
  readonly bytes?: Uint8Array;
  readonly dataOffset?: number;
  readonly dataLength?: number;
}

/** Something odd in the file that does not stop reading: a named anomaly, never an exception. */
export interface CaptureAnomaly {
  /** The frame it concerns, or null for file-level oddities (unknown block type, odd section). */
  frame: number | null;
  /** Byte offset in the (decompressed) stream where it was found. */
  offset: number;
  /** Stable kebab-case code, e.g. `caplen-exceeds-snaplen`, `unknown-block-type`. */
  code: string;
  detail: string;
}

export interface CaptureSink {
  packet(p: PacketRecord): void;
  anomaly?(a: CaptureAnomaly): void;
}

export type CaptureFormat = 'pcap' | 'pcapng';

export interface CaptureSummary {
  format: CaptureFormat;
  packets: number;
  /** Bytes of (decompressed) capture read. */
  bytes: number;
  gzip: boolean;
  anomalies: number;
  /** Set when reading stopped at the caller's byte limit (readCapture's maxBytes) before the end of the input. */
  limited?: boolean;
  /** Set when the caller stopped the reading (readCapture's signal) before the end of the input. */
  interrupted?: boolean;
}
