// The capture layer: pcap / pcapng bytes in, PacketRecords and anomalies out (see types.ts), plus
// writers for pcap and pcapng. Everything the rest of rstlab may use is exported from here:
// - createCaptureParser(sink): push-style streaming parser (parser.ts)
// - readCapture(path | '-' | stream, sink, { maxBytes }): whole-input reader with gzip (reader.ts)
// - PcapWriter, createPcapFileWriter, writePcapng, pcapngBlock (writer.ts)

export type { CaptureAnomaly, CaptureFormat, CaptureSink, CaptureSummary, PacketRecord } from './types.js';
export { createCaptureParser, maxSnaplenForLinkType, MAXIMUM_SNAPLEN } from './parser.js';
export type { CaptureParser } from './parser.js';
export { readCapture } from './reader.js';
export type { ReadCaptureOptions } from './reader.js';
export { PcapWriter, createPcapFileWriter, writePcapng, pcapngBlock } from './writer.js';
export type { PcapWriterOptions, PcapFileWriter, PcapngInterface, PcapngPacket, PcapngSection } from './writer.js';
