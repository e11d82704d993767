// Socket error numbers and names across platforms, for reading pasted error texts. Contract: data
// and pure functions, no I/O. `errnoNames(text)` finds the connection errors a text names — by
// symbol (`ECONNRESET`, `WSAECONNRESET`), by number in an errno context (`[Errno 104]`, `(104: …)`,
// `error(54, …)`, `SocketException (10054)`, `os error 10054`, `"errno":54`) — and returns their
// portable names (`ECONNRESET`), each with the platform the number belongs to.
//
// Sources (the numbers are the platforms' own, copied from their headers, not guessed):
// - Linux: include/uapi/asm-generic/errno.h and errno-base.h (EPIPE 32, ENETUNREACH 101,
//   ECONNABORTED 103, ECONNRESET 104, ETIMEDOUT 110, ECONNREFUSED 111, EHOSTUNREACH 113).
// - macOS / FreeBSD (4.4BSD numbering): sys/sys/errno.h (EPIPE 32, ENETUNREACH 51, ECONNABORTED 53,
//   ECONNRESET 54, ETIMEDOUT 60, ECONNREFUSED 61, EHOSTUNREACH 65).
// - Windows: winsock2.h / "Windows Sockets Error Codes" (learn.microsoft.com, winsock-error-codes):
//   WSAENETUNREACH 10051, WSAECONNABORTED 10053, WSAECONNRESET 10054, WSAETIMEDOUT 10060,
//   WSAECONNREFUSED 10061, WSAEHOSTUNREACH 10065. Windows has no EPIPE for sockets: a write on a
//   reset socket fails with WSAECONNRESET (or WSAECONNABORTED).
// Within this set the numbers do not collide across platforms (Linux 54/60/61 are unrelated
// STREAMS errors that no socket call returns), so a number alone names its platform.

export type Platform = 'linux' | 'bsd' | 'windows';

/** The portable names rstlab reasons about. */
export type ErrnoName = 'ECONNRESET' | 'ECONNREFUSED' | 'EPIPE' | 'ETIMEDOUT' | 'ECONNABORTED' | 'EHOSTUNREACH' | 'ENETUNREACH';

export interface ErrnoRow { number: number; platform: Platform; name: ErrnoName; symbol: string }

export const ERRNO_TABLE: readonly ErrnoRow[] = [
  { number: 32, platform: 'linux', name: 'EPIPE', symbol: 'EPIPE' },
  { number: 101, platform: 'linux', name: 'ENETUNREACH', symbol: 'ENETUNREACH' },
  { number: 103, platform: 'linux', name: 'ECONNABORTED', symbol: 'ECONNABORTED' },
  { number: 104, platform: 'linux', name: 'ECONNRESET', symbol: 'ECONNRESET' },
  { number: 110, platform: 'linux', name: 'ETIMEDOUT', symbol: 'ETIMEDOUT' },
  { number: 111, platform: 'linux', name: 'ECONNREFUSED', symbol: 'ECONNREFUSED' },
  { number: 113, platform: 'linux', name: 'EHOSTUNREACH', symbol: 'EHOSTUNREACH' },
  { number: 51, platform: 'bsd', name: 'ENETUNREACH', symbol: 'ENETUNREACH' },
  { number: 53, platform: 'bsd', name: 'ECONNABORTED', symbol: 'ECONNABORTED' },
  { number: 54, platform: 'bsd', name: 'ECONNRESET', symbol: 'ECONNRESET' },
  { number: 60, platform: 'bsd', name: 'ETIMEDOUT', symbol: 'ETIMEDOUT' },
  { number: 61, platform: 'bsd', name: 'ECONNREFUSED', symbol: 'ECONNREFUSED' },
  { number: 65, platform: 'bsd', name: 'EHOSTUNREACH', symbol: 'EHOSTUNREACH' },
  { number: 10051, platform: 'windows', name: 'ENETUNREACH', symbol: 'WSAENETUNREACH' },
  { number: 10053, platform: 'windows', name: 'ECONNABORTED', symbol: 'WSAECONNABORTED' },
  { number: 10054, platform: 'windows', name: 'ECONNRESET', symbol: 'WSAECONNRESET' },
  { number: 10060, platform: 'windows', name: 'ETIMEDOUT', symbol: 'WSAETIMEDOUT' },
  { number: 10061, platform: 'windows', name: 'ECONNREFUSED', symbol: 'WSAECONNREFUSED' },
  { number: 10065, platform: 'windows', name: 'EHOSTUNREACH', symbol: 'WSAEHOSTUNREACH' },
];

/** Where a bare number is an errno: Python's `[Errno 104]` / `[WinError 10054]` / `error(54, …)` /
 *  `ConnectionResetError(104, …)`, nginx's `(104: …)`, .NET's `SocketException (10054)`, Rust's
 *  `(os error 10054)`, gRPC's `"errno":54`, `errno 104`, `Error 10054`, `error: 111`. */
const NUMBER_CONTEXTS: RegExp[] = [
  /\[(?:Errno|WinError) (\d+)\]/g,
  /\b[A-Za-z]*(?:Error|error)\((\d+),/g,
  /\((\d+): [A-Z][a-z]/g,
  /SocketException \((\d+)\)/g,
  /os error (\d+)/gi,
  /"errno":\s*(\d+)/g,
  /\berrno[ =:]+(\d+)/gi,
  /\bError (\d{5})\b/g,
  /\bconnect error: (\d+)\b/g,
  /\("\((\d+), '/g,
];

const BY_NUMBER = new Map(ERRNO_TABLE.map((r) => [r.number, r]));
const BY_SYMBOL = new Map(ERRNO_TABLE.map((r) => [r.symbol, r]));

export interface ErrnoHit { name: ErrnoName; symbol: string; platform: Platform | null; number: number | null }

/** The connection errnos a text names, in order of first appearance, without duplicates by name. */
export function errnoNames(text: string): ErrnoHit[] {
  const hits: Array<ErrnoHit & { at: number }> = [];
  for (const m of text.matchAll(/\b(WSA)?E(CONNRESET|CONNREFUSED|PIPE|TIMEDOUT|CONNABORTED|HOSTUNREACH|NETUNREACH)\b/g)) {
    const symbol = m[0];
    const row = BY_SYMBOL.get(symbol);
    hits.push({ name: `E${m[2]}` as ErrnoName, symbol, platform: m[1] ? 'windows' : null, number: row && m[1] ? row.number : null, at: m.index });
  }
  for (const re of NUMBER_CONTEXTS) {
    for (const m of text.matchAll(re)) {
      const row = BY_NUMBER.get(Number(m[1]));
      if (row) hits.push({ name: row.name, symbol: row.symbol, platform: row.platform, number: row.number, at: m.index });
    }
  }
  hits.sort((a, b) => a.at - b.at);
  const seen = new Set<string>();
  return hits.filter((h) => (seen.has(h.name) ? false : (seen.add(h.name), true))).map(({ at: _at, ...h }) => h);
}
