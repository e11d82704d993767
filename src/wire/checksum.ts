// Internet checksum (RFC 1071) for IPv4 headers and TCP over IPv4/IPv6 (pseudo-headers of RFC 9293
// §3.1 and RFC 8200 §8.1). Pure arithmetic over byte ranges; no allocation.

import type { FrameTcp } from './types.js';
import { Ipv4Packet } from './ipv4.js';
import { Ipv6Packet } from './ipv6.js';
import { TcpSegment } from './tcp.js';

/** Unfolded one's-complement sum of the 16-bit big-endian words of b[start, end), plus `initial`. */
export function sumWords(b: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  // Fold now and then so the sum stays a small integer.
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** Fold a sum to 16 bits and complement it: the value to put in a checksum field. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Checksum of an IPv4 header at `o` of `headerLength` bytes (the checksum field taken as zero). */
export function ipv4HeaderChecksum(b: Uint8Array, o: number, headerLength: number): number {
  const sum = sumWords(b, o, o + headerLength) - ((b[o + 10] << 8) | b[o + 11]);
  return finishChecksum(sum < 0 ? sum + 0xffff : sum);
}

/**
 * Sum of the TCP pseudo-header for a segment of `tcpLength` bytes under the IP header at `ipOffset`
 * (version read from the header; for IPv6 the addresses are the fixed header's).
 */
export function pseudoHeaderSum(b: Uint8Array, ipOffset: number, tcpLength: number, protocol = 6): number {
  if (b[ipOffset] >> 4 === 4) {
    return sumWords(b, ipOffset + 12, ipOffset + 20, protocol + tcpLength);
  }
  return sumWords(b, ipOffset + 8, ipOffset + 40, protocol + Math.floor(tcpLength / 0x10000) + (tcpLength & 0xffff));
}

/** Checksum of the TCP segment b[tcpOffset, tcpOffset+tcpLength) with its checksum field taken as zero. */
export function tcpChecksum(b: Uint8Array, ipOffset: number, tcpOffset: number, tcpLength: number): number {
  let sum = pseudoHeaderSum(b, ipOffset, tcpLength);
  sum = sumWords(b, tcpOffset, tcpOffset + tcpLength, sum);
  sum -= (b[tcpOffset + 16] << 8) | b[tcpOffset + 17];
  return finishChecksum(sum < 0 ? sum + 0xffff : sum);
}

/**
 * Whether a decoded segment's checksum is right; null when it cannot be told (segment not entirely
 * captured, or an IPv4 fragment).
 */
export function verifyTcpChecksum(frame: FrameTcp): boolean | null {
  const ip = frame.ip;
  const tcp = frame.tcp;
  if (!(tcp instanceof TcpSegment)) return null;
  if (!(ip instanceof Ipv4Packet) && !(ip instanceof Ipv6Packet)) return null;
  if (frame.anomalies.includes('ip-fragment')) return null;
  const tcpLength = tcp.headerLength + frame.payloadLength;
  if (tcp.offset + tcpLength > tcp.end) return null;
  return tcpChecksum(tcp.bytes, ip.offset, tcp.offset, tcpLength) === tcp.checksum;
}
