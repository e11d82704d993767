// Test support: a classic pcap file (little-endian, microsecond timestamps, RFC draft
// "PCAP Capture File Format") built in memory from frames, so wire tests can hand their frames to
// tshark and tcpdump without depending on the capture layer.

export interface FixtureFrame {
  data: Uint8Array;
  /** Length on the wire; defaults to data.length. */
  origLen?: number;
}

/** The bytes of a pcap file holding `frames`, all of link type `linkType`. */
export function pcapFile(linkType: number, frames: readonly FixtureFrame[], snaplen = 262144): Uint8Array {
  let size = 24;
  for (const f of frames) size += 16 + f.data.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, snaplen, true);
  dv.setUint32(20, linkType, true);
  let o = 24;
  frames.forEach((f, i) => {
    dv.setUint32(o, 1_700_000_000 + i, true);
    dv.setUint32(o + 4, 0, true);
    dv.setUint32(o + 8, f.data.length, true);
    dv.setUint32(o + 12, f.origLen ?? f.data.length, true);
    out.set(f.data, o + 16);
    o += 16 + f.data.length;
  });
  return out;
}
