// Textual IP addresses, both ways. Formatting reads straight from the frame bytes (no copy):
// IPv4 as a dotted quad, IPv6 in RFC 5952 canonical form (lowercase hex, no leading zeros, the
// longest run of two or more zero groups compressed to `::`, the first on a tie), with the two
// embedded-IPv4 forms exactly as glibc's inet_ntop(3) — and so tcpdump and tshark — print them:
// IPv4-mapped `::ffff:a.b.c.d`, and the deprecated IPv4-compatible `::a.b.c.d` (96 zero bits and a
// non-zero 7th group; so `::1` stays `::1`). Parsing accepts the
// forms the builders and tests write and throws a plain TypeError on anything else.

/** Dotted quad of the 4 bytes at `o`. */
export function formatIpv4(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** RFC 5952 text of the 16 bytes at `o`. */
export function formatIpv6(b: Uint8Array, o: number): string {
  // IPv4-mapped: 80 zero bits, 16 one bits, then the IPv4 address.
  let mapped = b[o + 10] === 0xff && b[o + 11] === 0xff;
  for (let i = 0; mapped && i < 10; i += 1) if (b[o + i] !== 0) mapped = false;
  if (mapped) return `::ffff:${formatIpv4(b, o + 12)}`;
  let compat = b[o + 12] !== 0 || b[o + 13] !== 0;
  for (let i = 0; compat && i < 12; i += 1) if (b[o + i] !== 0) compat = false;
  if (compat) return `::${formatIpv4(b, o + 12)}`;

  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let g = 0; g < 8; g += 1) {
    const zero = b[o + 2 * g] === 0 && b[o + 2 * g + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
      const len = g - runStart + 1;
      if (len > bestLen) { bestLen = len; bestStart = runStart; }
    } else {
      runStart = -1;
    }
  }
  if (bestLen < 2) bestStart = -1; // RFC 5952 §4.2.2: a single 0 group is not compressed
  let out = '';
  for (let g = 0; g < 8; g += 1) {
    if (g === bestStart) {
      out += '::';
      g += bestLen - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(':')) out += ':';
    out += ((b[o + 2 * g] << 8) | b[o + 2 * g + 1]).toString(16);
  }
  return out;
}

/** Parse a dotted quad into 4 bytes. */
export function parseIpv4(text: string, out: Uint8Array = new Uint8Array(4), o = 0): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4) throw new TypeError(`not an IPv4 address: ${text}`);
  for (let i = 0; i < 4; i += 1) {
    const p = parts[i];
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new TypeError(`not an IPv4 address: ${text}`);
    out[o + i] = Number(p);
  }
  return out;
}

/** Parse an IPv6 address (full, `::`-compressed, or with a trailing dotted quad) into 16 bytes. */
export function parseIpv6(text: string, out: Uint8Array = new Uint8Array(16), o = 0): Uint8Array {
  const bad = (): never => { throw new TypeError(`not an IPv6 address: ${text}`); };
  const groups: number[] = [];
  const parseSide = (side: string): number[] => {
    if (side === '') return [];
    const res: number[] = [];
    const items = side.split(':');
    for (let i = 0; i < items.length; i += 1) {
      const it = items[i];
      if (i === items.length - 1 && it.includes('.')) {
        const v4 = parseIpv4(it);
        res.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(it)) {
        res.push(parseInt(it, 16));
      } else {
        bad();
      }
    }
    return res;
  };
  const halves = text.split('::');
  if (halves.length > 2) bad();
  if (halves.length === 2) {
    const head = parseSide(halves[0]);
    const tail = parseSide(halves[1]);
    if (head.length + tail.length > 7) bad();
    groups.push(...head);
    for (let i = head.length + tail.length; i < 8; i += 1) groups.push(0);
    groups.push(...tail);
  } else {
    groups.push(...parseSide(text));
    if (groups.length !== 8) bad();
  }
  for (let g = 0; g < 8; g += 1) {
    out[o + 2 * g] = groups[g] >>> 8;
    out[o + 2 * g + 1] = groups[g] & 0xff;
  }
  return out;
}

/** An endpoint as rstlab writes it everywhere: `ip:port`, or `[ipv6]:port` (`port` may be a placeholder such as `?`). */
export function formatEndpoint(addr: string, port: number | string): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** The inverse of formatEndpoint (brackets optional around an IPv6 address). */
export function parseEndpoint(text: string): { addr: string; port: number } {
  const i = text.lastIndexOf(':');
  return { addr: text.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(text.slice(i + 1)) };
}
