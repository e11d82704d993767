// A scripted TCP conversation between two endpoints, for tests and benchmarks: each call emits one
// frame (built by wire/build.ts with correct checksums) and keeps both sides' SND.NXT/RCV.NXT, so
// that scripts read like a ladder diagram: `c.syn('c'); c.synAck(); c.ack('c'); c.data('c', 100)…`.
// Any field of any segment can be overridden to script what a misbehaving stack or a middlebox does.

import { parseEndpoint } from '../wire/addr.js';
import { buildTcpFrame, linkTypeOf } from '../wire/build.js';
import type { BuildLink, BuildTcpOption } from '../wire/build.js';
import { seqAdd } from '../wire/seq.js';
import { TcpFlag } from '../wire/types.js';

export type Side = 'c' | 's';

export interface ConversationFrame { tsSec: number; tsNsec: number; data: Uint8Array }

interface Endpoint { addr: string; port: number; ttl: number; sndNxt: number; rcvNxt: number; window: number; ident: number }

export interface SegmentOverrides {
  seqNumber?: number;
  ackNumber?: number;
  window?: number;
  ttl?: number;
  tos?: number;
  ident?: number;
  options?: BuildTcpOption[];
  /** Do not advance SND.NXT (a retransmission or a probe). */
  noAdvance?: boolean;
}

export class Conversation {
  readonly frames: ConversationFrame[] = [];
  readonly linkType: number;
  private readonly ep: Record<Side, Endpoint>;
  private time: number;

  constructor(private readonly opts: {
    client: string; server: string; link?: BuildLink; start?: number; clientTtl?: number; serverTtl?: number;
    clientIsn?: number; serverIsn?: number; version?: 4 | 6;
  }) {
    const c = parseEndpoint(opts.client);
    const s = parseEndpoint(opts.server);
    this.ep = {
      c: { ...c, ttl: opts.clientTtl ?? 64, sndNxt: opts.clientIsn ?? 1000, rcvNxt: 0, window: 64240, ident: 100 },
      s: { ...s, ttl: opts.serverTtl ?? 64, sndNxt: opts.serverIsn ?? 5000, rcvNxt: 0, window: 65160, ident: 9000 },
    };
    this.linkType = linkTypeOf(opts.link ?? 'ethernet');
    this.time = opts.start ?? 1_700_000_000;
  }

  /** Advance the clock (seconds). */
  wait(sec: number): this {
    this.time += sec;
    return this;
  }

  /** Next sequence number a side will send (its SND.NXT). */
  sndNxt(side: Side): number {
    return this.ep[side].sndNxt;
  }

  segment(side: Side, flags: number, payload = 0, o: SegmentOverrides = {}): this {
    const me = this.ep[side];
    const peer = this.ep[side === 'c' ? 's' : 'c'];
    const seq = o.seqNumber ?? me.sndNxt;
    const hasAck = (flags & TcpFlag.ACK) !== 0;
    const frame = buildTcpFrame({
      link: this.opts.link ?? 'ethernet',
      ip: {
        version: this.opts.version ?? 4, src: me.addr, dst: peer.addr, ttl: o.ttl ?? me.ttl, tos: o.tos ?? 0,
        ident: o.ident ?? (me.ident = (me.ident + 1) & 0xffff), dontFragment: true,
      },
      tcp: {
        srcPort: me.port, dstPort: peer.port, seqNumber: seq, ackNumber: o.ackNumber ?? (hasAck ? me.rcvNxt : 0),
        flags, window: o.window ?? ((flags & TcpFlag.RST) ? 0 : me.window), payload, ...(o.options ? { options: o.options } : {}),
      },
    });
    const sec = Math.floor(this.time);
    this.frames.push({ tsSec: sec, tsNsec: Math.round((this.time - sec) * 1e9), data: frame });
    this.time += 0.0001;
    const len = payload + ((flags & TcpFlag.SYN) ? 1 : 0) + ((flags & TcpFlag.FIN) ? 1 : 0);
    if (!o.noAdvance && !(flags & TcpFlag.RST) && o.seqNumber === undefined) me.sndNxt = seqAdd(me.sndNxt, len);
    // The peer receives it (scripts that drop segments use overrides instead).
    if (!(flags & TcpFlag.RST) && len > 0) {
      const end = seqAdd(seq, len);
      if (flags & TcpFlag.SYN) peer.rcvNxt = end;
      else if (end !== peer.rcvNxt && ((end - peer.rcvNxt) | 0) > 0) peer.rcvNxt = end;
    }
    return this;
  }

  syn(side: Side = 'c', o?: SegmentOverrides): this { return this.segment(side, TcpFlag.SYN, 0, o); }
  synAck(side: Side = 's', o?: SegmentOverrides): this { return this.segment(side, TcpFlag.SYN | TcpFlag.ACK, 0, o); }
  ack(side: Side, o?: SegmentOverrides): this { return this.segment(side, TcpFlag.ACK, 0, o); }
  data(side: Side, bytes: number, o?: SegmentOverrides): this { return this.segment(side, TcpFlag.ACK | TcpFlag.PSH, bytes, o); }
  fin(side: Side, o?: SegmentOverrides): this { return this.segment(side, TcpFlag.FIN | TcpFlag.ACK, 0, o); }
  /** RST+ACK at SND.NXT — what a live socket sends (tcp_send_active_reset). */
  activeRst(side: Side, o?: SegmentOverrides): this { return this.segment(side, TcpFlag.RST | TcpFlag.ACK, 0, o); }
  /** Bare RST with seq = the ACK the peer last sent — what a host with no socket sends. */
  statelessRst(side: Side, o?: SegmentOverrides): this {
    const peer = this.ep[side === 'c' ? 's' : 'c'];
    return this.segment(side, TcpFlag.RST, 0, { seqNumber: peer.rcvNxt, ackNumber: 0, ident: 0, ...o });
  }
  /** The full three-way handshake. */
  handshake(): this { return this.syn('c').synAck('s').ack('c'); }
}
