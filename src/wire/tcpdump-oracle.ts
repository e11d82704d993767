// Test support: read `tcpdump -# -n` text output as an oracle. A TCP line is one where tcpdump's
// TCP printer wrote `<port> > <port>: Flags [...]` (with addresses when the IP header's next header
// is TCP, ports alone after IPv6 extension headers); other protocols that print `Flags [...]`
// (UDLD's `Flags [RT]`, VXLAN, Geneve) never have a port pair right before it. Continuation lines
// (tunnels print the inner packet on a new line) belong to the last numbered line.

const NUMBERED = /^\s*(\d+)  /;
const TCP_FLAGS = /(?:^|[\s:!])(?:\S+\.)?\d+ > (?:\S+\.)?\d+: Flags \[([^\]]*)\]/g;

/** Frame number → the flag strings of every TCP segment tcpdump printed in that frame (innermost last). */
export function tcpdumpTcpFlags(text: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  let frame = 0;
  for (const line of text.split('\n')) {
    const m = NUMBERED.exec(line);
    if (m) frame = Number(m[1]);
    if (frame === 0) continue;
    for (const t of line.matchAll(TCP_FLAGS)) {
      const list = out.get(frame) ?? [];
      list.push(t[1]);
      out.set(frame, list);
    }
  }
  return out;
}

/** Frames whose innermost TCP segment has RST set (`R` in tcpdump's flag letters). */
export function tcpdumpRstFrames(text: string): number[] {
  const frames: number[] = [];
  for (const [frame, flags] of tcpdumpTcpFlags(text)) {
    if (flags[flags.length - 1].includes('R')) frames.push(frame);
  }
  return frames.sort((a, b) => a - b);
}
