// Small pure helpers shared by the server program (server.ts) and its callers: address formatting,
// CONNECT authority parsing and the size limits. Nothing that touches the network.

import { formatEndpoint } from '../../wire/addr.js';

/** `forever` writes stop here at the latest (every loop that sends traffic is bounded). */
export const FOREVER_MAX_BYTES = 64 * 1024 * 1024;
/** `/large`: whole body and the part written before the server holds (`mid-response`). */
export const DEFAULT_LARGE_BYTES = 8 * 1024 * 1024;
export const DEFAULT_LARGE_FIRST_CHUNK = 256 * 1024;
/** The body of `GET /`. */
export const SMALL_BODY = 'hello from rstlab\n';

/** `ip:port`, IPv6 in brackets: `[::1]:443` — the `peer` of every ServerEvent. */
export function formatPeer(address: string | undefined, port: number | undefined): string {
  return formatEndpoint(address ?? '?', port ?? 0);
}

/** A CONNECT request target (RFC 9110 §9.3.6 authority-form): `host:port` or `[v6]:port`.
 *  Undefined when malformed or the port is out of range. */
export function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]/\s]+)):(\d{1,5})$/.exec(authority);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? m[2]) as string, port };
}
