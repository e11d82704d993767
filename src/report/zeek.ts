// Zeek's conn.log in Zeek's ASCII (TSV) form, for `rstlab explain --format zeek`. Pure: reports in,
// text out. Contract:
// - `zeekHeader(open)` is the eight header lines Zeek writes (#separator … #types), `zeekRow(c)` one
//   connection's row, `zeekFooter(close)` the #close line; each ends with a newline. The columns are
//   CONN_FIELDS: Zeek's conn.log fields in Zeek's order (ip_proto last, as current Zeek writes
//   them), then rstlab's rst_cause, rst_frame and rst_sender (one entry per RST, in frame order).
// - Values as Zeek's ASCII writer formats them: times and intervals with six decimals, a
//   container's elements joined by `,`, `-` for a field that is not set. What rstlab does not know
//   (service, local_orig/local_resp, missed_bytes, orig_ip_bytes/resp_ip_bytes, tunnel_parents) is
//   written unset, never guessed; duration, orig_bytes and resp_bytes are unset for a connection of
//   no duration, as Zeek leaves them.
// - `uid` comes from the connection's id alone (`C` + 17 base-62 digits): the same capture gives the
//   same uids on every run. The dates of #open/#close are times the caller passes (the capture's
//   first and latest packet), written in UTC, so that the output is reproducible.

import type { ConnectionReport, RstVerdict } from '../explain/index.js';
import { parseEndpoint } from '../wire/addr.js';

/** Zeek's ASCII writer's defaults, which its header lines announce. */
export const SEPARATOR = '\t';
export const SET_SEPARATOR = ',';
export const EMPTY_FIELD = '(empty)';
export const UNSET_FIELD = '-';

/** A connection's endpoints, split once for the address and port columns. */
interface Endpoints { orig: { addr: string; port: number }; resp: { addr: string; port: number } }

export interface ZeekField {
  name: string;
  /** Zeek's type name, as in the #types line. */
  type: string;
  value(c: ConnectionReport, e: Endpoints): string;
}

const unset = (): string => UNSET_FIELD;
/** Zeek's rendering of a `time` or `interval`: fixed, six decimals (trailing zeros kept). */
const seconds = (t: number): string => t.toFixed(6);
/** Zeek leaves duration, orig_bytes and resp_bytes unset unless the duration is positive. */
const timed = (c: ConnectionReport, s: string): string => (c.duration > 0 ? s : UNSET_FIELD);
/** A container with one element per RST; unset when the connection has none. */
const perRst = (c: ConnectionReport, f: (r: RstVerdict) => string | number): string =>
  (c.rsts.length ? c.rsts.map(f).join(SET_SEPARATOR) : UNSET_FIELD);

export const CONN_FIELDS: readonly ZeekField[] = [
  { name: 'ts', type: 'time', value: (c) => seconds(c.start) },
  { name: 'uid', type: 'string', value: (c) => zeekUid(c.id) },
  { name: 'id.orig_h', type: 'addr', value: (_, e) => zeekAddr(e.orig.addr) },
  { name: 'id.orig_p', type: 'port', value: (_, e) => String(e.orig.port) },
  { name: 'id.resp_h', type: 'addr', value: (_, e) => zeekAddr(e.resp.addr) },
  { name: 'id.resp_p', type: 'port', value: (_, e) => String(e.resp.port) },
  { name: 'proto', type: 'enum', value: () => 'tcp' },
  { name: 'service', type: 'string', value: unset },
  { name: 'duration', type: 'interval', value: (c) => timed(c, seconds(c.duration)) },
  { name: 'orig_bytes', type: 'count', value: (c) => timed(c, String(c.origBytes)) },
  { name: 'resp_bytes', type: 'count', value: (c) => timed(c, String(c.respBytes)) },
  { name: 'conn_state', type: 'string', value: (c) => c.connState },
  { name: 'local_orig', type: 'bool', value: unset },
  { name: 'local_resp', type: 'bool', value: unset },
  { name: 'missed_bytes', type: 'count', value: unset },
  { name: 'history', type: 'string', value: (c) => c.history || UNSET_FIELD },
  { name: 'orig_pkts', type: 'count', value: (c) => String(c.origPackets) },
  { name: 'orig_ip_bytes', type: 'count', value: unset },
  { name: 'resp_pkts', type: 'count', value: (c) => String(c.respPackets) },
  { name: 'resp_ip_bytes', type: 'count', value: unset },
  { name: 'tunnel_parents', type: 'set[string]', value: unset },
  { name: 'ip_proto', type: 'count', value: () => '6' },
  { name: 'rst_cause', type: 'vector[string]', value: (c) => perRst(c, (r) => r.cause) },
  { name: 'rst_frame', type: 'vector[count]', value: (c) => perRst(c, (r) => r.frame) },
  { name: 'rst_sender', type: 'vector[string]', value: (c) => perRst(c, (r) => r.sender) },
];

/** The header lines Zeek writes before the first row; `open` is a time in seconds since the epoch
 *  (null: no packet was read; the epoch is written). */
export function zeekHeader(open: number | null): string {
  return [
    '#separator \\x09',
    `#set_separator${SEPARATOR}${SET_SEPARATOR}`,
    `#empty_field${SEPARATOR}${EMPTY_FIELD}`,
    `#unset_field${SEPARATOR}${UNSET_FIELD}`,
    `#path${SEPARATOR}conn`,
    `#open${SEPARATOR}${zeekDate(open)}`,
    ['#fields', ...CONN_FIELDS.map((f) => f.name)].join(SEPARATOR),
    ['#types', ...CONN_FIELDS.map((f) => f.type)].join(SEPARATOR),
  ].join('\n') + '\n';
}

/** One connection's row. */
export function zeekRow(c: ConnectionReport): string {
  const e: Endpoints = { orig: parseEndpoint(c.orig), resp: parseEndpoint(c.resp) };
  let row = '';
  for (let i = 0; i < CONN_FIELDS.length; i += 1) row += (i ? SEPARATOR : '') + CONN_FIELDS[i].value(c, e);
  return row + '\n';
}

/** The line Zeek writes when it closes the log. */
export function zeekFooter(close: number | null): string {
  return `#close${SEPARATOR}${zeekDate(close)}\n`;
}

/** Zeek's header date, `%Y-%m-%d-%H-%M-%S`, in UTC (Zeek writes its local time). */
export function zeekDate(t: number | null): string {
  const d = new Date(Math.floor(t ?? 0) * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}-${two(d.getUTCHours())}-${two(d.getUTCMinutes())}-${two(d.getUTCSeconds())}`;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Digits of a uid after its `C`: as many as Zeek's longest (96 random bits in base 62). */
export const UID_DIGITS = 17;

/** A Zeek-shaped connection uid from rstlab's connection id: `C` + the id in base 62, zero-padded. */
export function zeekUid(id: number): string {
  let digits = '';
  for (let n = id; n > 0; n = Math.floor(n / 62)) digits = BASE62[n % 62] + digits;
  return `C${digits.padStart(UID_DIGITS, '0')}`;
}

/** An address as Zeek writes it: IPv6 without brackets (already so), an IPv4-mapped IPv6 address
 *  as the IPv4 address it stands for (Zeek holds those as IPv4). */
export function zeekAddr(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}
