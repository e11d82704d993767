// Sender profiles: what an endpoint's own packets say about the TCP/IP stack that sent them.
// Contract: `senderProfile(ep)` is pure, computed once per endpoint when its connection is
// reported (never per packet), from EndpointStats: the initial TTL and hop count, the option
// layout, window and window scale of its SYN or SYN-ACK, its IPv4 ID behaviour, and a likely stack
// family with the facts it rests on. `profileText` is its evidence line. The family is a hint for
// the verdicts' stack-specific rules (verdict.ts), never a verdict by itself.
//
// Sources of the signatures:
// - Initial TTLs 32/64/128/255 and the "smallest initial TTL ≥ observed" inference: p0f v3
//   (p0f.fp, "ittl" field; README "TTL"), Nmap's OS detection (nmap-os-db, "T=" / "TG=").
// - SYN option layouts: p0f v3's fingerprint database p0f.fp, field "olayout" (lcamtuf/p0f, p0f.fp):
//   Linux 3.x+ `mss,sok,ts,nop,ws`; Windows 7/8/10 `mss,nop,ws,nop,nop,sok`; Windows XP
//   `mss,nop,nop,sok`; Mac OS X / iOS `mss,nop,ws,nop,nop,ts,sok,eol+1`; FreeBSD
//   `mss,nop,ws,sok,ts`; OpenBSD `mss,nop,nop,sok,nop,ws,nop,nop,ts`. Windows' own option order is
//   also documented in Microsoft's "Description of Windows TCP features" (KB 224829: window scale,
//   SACK, timestamps off by default). A SYN-ACK echoes only what the SYN offered, so a layout is
//   read together with the TTL: one without the other never names a family.
// - Network devices (routers, firewalls, load balancers: Cisco IOS, Juniper, F5…) start at TTL
//   255 (p0f.fp "ittl 255" entries; Cisco IOS Configuration Guide, "ip ttl" default 255).
// - IPv4 ID: RFC 6864 §4 (IDs of atomic datagrams — DF set — carry no meaning and may be zero,
//   per-connection or global counters); RFC 7739 §5 (Windows: one global counter; Linux: one
//   counter per socket/destination, 0 on some stateless replies). One counter across a host's
//   connections is told from several connections (host-ids.ts), and passed in as `globalCounter`.

import { OPTION_LAYOUT_NAMES, optionLayoutText } from '../wire/tcp.js';
import type { EndpointStats } from '../tcp/index.js';
import { mode } from '../tcp/index.js';

export type StackFamily = 'linux' | 'windows' | 'macos/bsd' | 'network-device' | 'unknown';
/** `global`: one counter across the host's connections (HostIdCounters, host-ids.ts), which a
 *  single connection cannot show; `incrementing`: a counter within the connection. */
export type IpIdBehaviour = 'zero' | 'incrementing' | 'random' | 'global' | 'none';

export interface SenderProfile {
  /** The TTL (hop limit) its own non-RST packets arrived with most often; null without any. */
  ttl: number | null;
  /** Inferred initial TTL and hops from the capture point (null without packets). */
  initialTtl: number | null;
  hops: number | null;
  /** Its SYN or SYN-ACK: options in order (p0f's spelling), window, window scale; null without one. */
  synOptions: string | null;
  synWindow: number | null;
  windowScale: number | null;
  /** IPv4 ID behaviour over its packets in this connection (RFC 6864); `none` for IPv6 or too few. */
  ipId: IpIdBehaviour;
  family: StackFamily;
  /** The facts the family rests on (empty for `unknown` without any). */
  basis: string[];
}

/** The initial TTLs (IPv6 hop limits) stacks start with: 32 (old Windows 9x, some devices), 64
 *  (Linux, macOS/BSD, Android), 128 (Windows), 255 (network devices, Solaris): a packet seen with
 *  TTL t left the smallest of them that is ≥ t (the usual inference: p0f, Nmap's OS detection). */
export const INITIAL_TTLS = [32, 64, 128, 255] as const;

/** A packet's inferred initial TTL and the hops it has come (initial − observed). */
export function hopDistance(ttl: number): { initial: number; hops: number } {
  const initial = INITIAL_TTLS.find((i) => ttl <= i) ?? 255;
  return { initial, hops: initial - ttl };
}

/** SYN/SYN-ACK option layouts (p0f.fp "olayout", see the header) and the family and initial TTL
 *  they belong to. Matched on the layout's start, EOL padding ignored. */
const LAYOUTS: ReadonlyArray<{ layout: string; family: StackFamily; ttl: number; name: string }> = [
  { layout: 'mss,sok,ts,nop,ws', family: 'linux', ttl: 64, name: 'Linux 3.x+ / Android' },
  { layout: 'mss,nop,nop,sok,nop,ws', family: 'linux', ttl: 64, name: 'Linux without timestamps' },
  { layout: 'mss,nop,ws,nop,nop,ts,sok', family: 'macos/bsd', ttl: 64, name: 'macOS / iOS' },
  { layout: 'mss,nop,ws,sok,ts', family: 'macos/bsd', ttl: 64, name: 'FreeBSD' },
  { layout: 'mss,nop,nop,sok,nop,ws,nop,nop,ts', family: 'macos/bsd', ttl: 64, name: 'OpenBSD' },
  { layout: 'mss,nop,ws,nop,nop,sok', family: 'windows', ttl: 128, name: 'Windows 7/8/10/11' },
  { layout: 'mss,nop,ws,sok,ts', family: 'windows', ttl: 128, name: 'Windows with timestamps' },
  { layout: 'mss,nop,nop,sok', family: 'windows', ttl: 128, name: 'Windows XP / 2003' },
];
/** LAYOUTS' layouts as wire/tcp.ts codes and their lengths (in options), matched as numbers. */
const LAYOUT_CODES: ReadonlyArray<{ code: number; n: number }> = LAYOUTS.map((l) => {
  const names = l.layout.split(',');
  return { code: names.reduce((c, name) => c * 16 + OPTION_LAYOUT_NAMES.indexOf(name), 0), n: names.length };
});

/** LAYOUTS' indices, longest layout first: a layout that extends another is the better match
 *  (OpenBSD's `mss,nop,nop,sok,nop,ws,nop,nop,ts` starts with Linux's without timestamps). */
const BY_LENGTH: readonly number[] = LAYOUT_CODES.map((_, i) => i).sort((a, b) => LAYOUT_CODES[b]!.n - LAYOUT_CODES[a]!.n);

/** The longest LAYOUTS entry a layout code starts with (trailing EOLs dropped), or undefined. */
function layoutMatch(code: number): (typeof LAYOUTS)[number] | undefined {
  let c = code;
  let n = 0;
  while (c > 0 && c % 16 === 1) c = Math.floor(c / 16);
  for (let x = c; x > 0; x = Math.floor(x / 16)) n += 1;
  for (const i of BY_LENGTH) {
    const l = LAYOUT_CODES[i]!;
    if (l.n <= n && Math.floor(c / 16 ** (n - l.n)) === l.code) return LAYOUTS[i];
  }
  return undefined;
}

function ipIdOf(ep: EndpointStats): IpIdBehaviour {
  if (ep.idSeen < 2) return 'none';
  if (ep.idZero === ep.idSeen) return 'zero';
  // Steps between consecutive packets of the endpoint: a counter moves by small positive steps.
  return ep.idIncr * 4 >= (ep.idSeen - 1) * 3 ? 'incrementing' : 'random';
}

/**
 * The profile of one endpoint from its own packets in its connection. Profiles are shared: the
 * same inputs give the same (frozen) object, from a bounded cache, since a capture's endpoints
 * are mostly a few stacks seen many times (once per connection: cheap, not per packet).
 */
export function senderProfile(ep: EndpointStats, globalCounter = false): SenderProfile {
  const ttl = mode(ep.ttls);
  const own = ipIdOf(ep);
  const ipId = globalCounter && own !== 'zero' ? 'global' : own;
  const shift = ep.synWindow >= 0 ? ep.windowShift : 15;
  // (ttl 0…255 or 256 for none, window -1…65535, shift 0…15, ipId 0…4: < 2^36, exact as a double.)
  const key = ((((ttl ?? 256) * 65537 + (ep.synWindow + 1)) * 16 + shift) * 8 + IP_ID_INDEX[ipId]);
  let byKey = cache.get(ep.synLayout);
  if (byKey === undefined) {
    if (cache.size >= CACHE_MAX) cache.clear();
    byKey = new Map();
    cache.set(ep.synLayout, byKey);
  }
  let p = byKey.get(key);
  if (p === undefined) {
    if (byKey.size >= CACHE_MAX) byKey.clear();
    p = buildProfile(ep, ttl, ipId);
    Object.freeze(p.basis);
    Object.freeze(p);
    byKey.set(key, p);
  }
  return p;
}

const CACHE_MAX = 1024;
const IP_ID_INDEX: Record<IpIdBehaviour, number> = { zero: 0, incrementing: 1, random: 2, none: 3, global: 4 };
/** Profiles by SYN layout code, then by the other inputs (senderProfile's key). */
const cache = new Map<number, Map<number, SenderProfile>>();

function buildProfile(ep: EndpointStats, ttl: number | null, ipId: IpIdBehaviour): SenderProfile {
  const hd = ttl === null ? null : hopDistance(ttl);
  const synOptions = ep.synWindow >= 0 ? optionLayoutText(ep.synLayout) : null;
  const basis: string[] = [];
  let family: StackFamily = 'unknown';
  const match = synOptions === null ? undefined : layoutMatch(ep.synLayout);
  if (match && hd && hd.initial === match.ttl) {
    family = match.family;
    basis.push(`SYN layout of ${match.name} (p0f.fp)`, `initial TTL ${hd.initial}`);
  } else if (hd && hd.initial === 255) {
    family = 'network-device';
    basis.push('initial TTL 255 (routers, firewalls, load balancers)');
  } else if (hd && hd.initial === 128) {
    family = 'windows';
    basis.push('initial TTL 128');
  } else if (hd && hd.initial === 64 && match) {
    basis.push(`initial TTL 64; SYN options ${synOptions} fit ${match.name}, but a SYN-ACK echoes what the SYN offered`);
  }
  if (family === 'windows' && ipId === 'incrementing') basis.push('IPv4 ID a counter (Windows: one global counter, RFC 7739 §5)');
  if (family === 'windows' && ipId === 'global') basis.push('IPv4 ID one counter across its connections (Windows\' global counter, RFC 7739 §5)');
  return {
    ttl,
    initialTtl: hd ? hd.initial : null,
    hops: hd ? hd.hops : null,
    synOptions,
    synWindow: ep.synWindow >= 0 ? ep.synWindow : null,
    windowScale: synOptions !== null && synOptions.includes('ws') ? ep.windowShift : null,
    ipId,
    family,
    basis,
  };
}

/** The profile as one evidence line. */
export function profileText(who: string, p: SenderProfile): string {
  const parts: string[] = [];
  parts.push(p.initialTtl === null ? 'no packets of its own' : `initial TTL ${p.initialTtl}, ${p.hops} hop(s) away`);
  if (p.synOptions !== null) {
    parts.push(`SYN options ${p.synOptions || 'none'}, window ${p.synWindow}${p.windowScale !== null ? `, wscale ${p.windowScale}` : ''}`);
  }
  if (p.ipId !== 'none') parts.push(p.ipId === 'global' ? 'IP ID one counter across its connections' : `IP ID ${p.ipId}`);
  const fam = p.family === 'unknown' ? 'stack unknown' : `likely ${p.family} (${p.basis.join('; ')})`;
  return `sender profile of ${who}: ${fam}; ${parts.join('; ')}`;
}

/** The profile of an endpoint with no packets of its own (tests, made-up reports). */
export const NO_PROFILE: SenderProfile = Object.freeze({
  ttl: null, initialTtl: null, hops: null, synOptions: null, synWindow: null, windowScale: null, ipId: 'none', family: 'unknown', basis: [],
}) as SenderProfile;
