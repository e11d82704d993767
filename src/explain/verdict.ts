// RST verdicts: given one RST and its connection, decide who sent it and why. Contract:
// `judgeRst(ctx, conn)` is pure and total — every RST gets exactly one cause from causes.ts, a
// confidence, the rule that fired, evidence lines a person can check against the packets, and what
// the applications most likely saw. First the RST is reduced to one `Finding` (what the packets
// show); then an exhaustive switch maps each finding to a cause, each arm citing the RFC or the
// kernel function it mirrors (style of smoltcp's socket/tcp.rs).

import { assertNever } from '../errors.js';
import { mode } from '../tcp/index.js';
import type { Connection, RstContext, SegmentSummary } from '../tcp/index.js';
import { formatEndpoint } from '../wire/addr.js';
import { seqAdd, seqDiff, seqInRange, seqRelative } from '../wire/seq.js';
import { TcpFlag } from '../wire/types.js';
import type { Cause, Confidence, LinuxRstReason } from './causes.js';
import { hopDistance, NO_PROFILE, profileText, senderProfile } from './profile.js';
import type { SenderProfile } from './profile.js';
import { idFollows } from './host-ids.js';
import type { HostCounter } from './host-ids.js';

export { hopDistance, INITIAL_TTLS } from './profile.js';

/** Another source address whose RSTs share this RST's IPv4 ID counter (Explainer's RST ring). */
export interface SharedCounterPeer { addr: string; frame: number; ident: number }

/** What the connection alone does not tell, from the rest of the capture (engine.ts). */
export interface RstHints {
  /** The sender's profile (computed from the connection when absent). */
  profile?: SenderProfile;
  /** RSTs from other addresses, same TTL, whose IPv4 IDs continue this one's within seconds: one
   *  box generating resets on behalf of several hosts (RFC 6864 §5: a global ID counter). */
  sharedCounter?: SharedCounterPeer[];
  /** The sender host's IPv4 ID counter across its connections (host-ids.ts), consulted only for a
   *  RST whose sender has no packet of its own in the connection. */
  hostCounter?: HostCounter | null;
  /** The RST's receiver's profile (the connecting client's, for a refused SYN). */
  receiverProfile?: SenderProfile;
  /** This connection's SYN repeats one refused on the same ports with the same ISN, its SYN in
   *  `synFrame` at `time`; `attempt`: how many attempts were refused before this one. */
  refusedBefore?: { synFrame: number; time: number; attempt: number } | null;
}

/** How the RST was built, judged from its fields: Linux's two kinds of reset, from a live socket
 *  (tcp_send_active_reset) or from the segment alone (tcp_v4_send_reset); docs/explain.md, `form`. */
export type RstForm = 'active' | 'stateless' | 'unknown';

export interface RstVerdict {
  frame: number;
  time: number;
  connection: number;
  from: string;
  to: string;
  /** Which side of the connection sent it. */
  sender: 'orig' | 'resp';
  cause: Cause;
  confidence: Confidence;
  form: RstForm;
  /** One sentence: why this cause. */
  summary: string;
  /** Facts from the packets, each checkable. */
  evidence: string[];
  /** Frame of the segment the RST answers, when there is one. */
  trigger: number | null;
  /** What the applications most likely reported. */
  app: { receiver: string; sender?: string };
  /** The `sk_rst_reason`s a Linux sender could have logged for this RST (causes.ts, "Linux's own
   *  reasons"), most likely first; empty when the sender is not Linux's TCP as far as the packets tell. */
  linuxReasons: LinuxRstReason[];
  /** The reason itself when only one fits, else null. */
  linuxReason: LinuxRstReason | null;
  /** What the sender's own packets say about its stack (profile.ts). */
  senderProfile: SenderProfile;
}

/** What the packets show about one RST, before naming a cause. */
type Finding =
  | { kind: 'answers-syn'; syn: SegmentSummary; exact: boolean }
  | { kind: 'forged'; rstTtl: number; endpointTtl: number; tosDiffers: boolean; keptSending: number[] }
  | { kind: 'shared-counter'; peers: SharedCounterPeer[] }
  | { kind: 'device-diagnostic'; initialTtl: number; hops: number }
  | { kind: 'not-acceptable'; expected: number; inWindow: boolean; challengeAck: SegmentSummary | null }
  | { kind: 'probes-exhausted'; probes: number; retransmissions: number }
  | { kind: 'after-close'; finFrame: number; trigger: SegmentSummary }
  | { kind: 'stateless'; trigger: SegmentSummary | null; exact: boolean }
  /** `gap`: bytes between the last data the capture shows from the sender and the RST's seq. */
  | { kind: 'active'; exact: boolean; bare: boolean; gap?: number }
  | { kind: 'unknown' };

/** Flags as tcpdump prints them, in its order: `[S]`, `[S.]`, `[P.]`, `[F.]`, `[R]`, `[R.]`. */
export function flagString(flags: number): string {
  let s = '';
  for (let i = 0; i < FLAG_BITS.length; i += 1) if (flags & FLAG_BITS[i]) s += FLAG_CHARS[i];
  return `[${s || 'none'}]`;
}
// (Two flat constant lists, not a list of pairs built per call, which is slower for V8 to optimize.)
const FLAG_BITS: readonly number[] = [TcpFlag.FIN, TcpFlag.SYN, TcpFlag.RST, TcpFlag.PSH, TcpFlag.ACK, TcpFlag.URG, TcpFlag.ECE, TcpFlag.CWR, TcpFlag.AE];
const FLAG_CHARS = 'FSRP.UEWe';

/** How many items a list in a summary or an evidence line names before it counts the rest: a box
 *  resetting for many hosts shares its counter with up to the ring's 256 RSTs (engine.ts, RstRing). */
const LISTED = 8;

/** `items` joined with commas, the first LISTED of them and "and N <rest>" after. */
function firstOf(items: readonly string[], rest: string): string {
  return items.length <= LISTED ? items.join(', ') : `${items.slice(0, LISTED).join(', ')} and ${items.length - LISTED} ${rest}`;
}

function hasFlag(s: SegmentSummary, f: number): boolean {
  return (s.flags & f) !== 0;
}

/** Sequence space the trigger occupies: payload + SYN + FIN (RFC 9293 SEG.LEN). */
function segLen(s: SegmentSummary): number {
  return s.payloadLength + (hasFlag(s, TcpFlag.SYN) ? 1 : 0) + (hasFlag(s, TcpFlag.FIN) ? 1 : 0);
}

/**
 * Whether `rst` is exactly the reset a host with no connection sends for `trigger` (RFC 9293
 * §3.10.7.1; Linux tcp_v4_send_reset / tcp_v6_send_reset): for a trigger with ACK,
 * <SEQ=SEG.ACK><CTL=RST>; for one without, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
 */
function isNoSocketReply(rst: SegmentSummary, trigger: SegmentSummary): boolean {
  if (hasFlag(trigger, TcpFlag.ACK)) return !hasFlag(rst, TcpFlag.ACK) && rst.seqNumber === trigger.ackNumber;
  return hasFlag(rst, TcpFlag.ACK) && rst.seqNumber === 0 && rst.ackNumber === seqAdd(trigger.seqNumber, segLen(trigger));
}

/**
 * Judge the form from the RST's own fields; returns the form and the signals behind it. The order
 * of evidence (issue 18): the strong signals — sequence-number structure, the ACK flag, the
 * timestamps option a live socket keeps — decide; the weak ones — window, IPv4 ID — only break a
 * tie between them (an ID that happens to be the previous +1 in random IDs, or a stack that
 * leaves its window on its resets, never overrides the sequence numbers).
 */
export function rstForm(ctx: RstContext): { form: RstForm; signals: string[] } {
  const r = ctx.seg;
  const t = ctx.trigger;
  const s = ctx.sender;
  let active = 0;
  let stateless = 0;
  let weakActive = 0;
  let weakStateless = 0;
  const signals: string[] = [];
  const ack = hasFlag(r, TcpFlag.ACK);
  if (!ack && t && hasFlag(t, TcpFlag.ACK)) {
    stateless += 2;
    signals.push('RST without ACK: a live socket always sets ACK on its resets (tcp_send_active_reset)');
  }
  if (t && !hasFlag(t, TcpFlag.ACK) && isNoSocketReply(r, t)) {
    stateless += 3;
    signals.push(`seq 0 and ack = trigger's seq + length: the reply built for a segment without ACK (tcp_v4_send_reset)`);
  }
  if (r.window === 0) { weakStateless += 1; signals.push('window 0'); } else { weakActive += 1; signals.push(`window ${r.window}`); }
  if (s.usesTimestamps) {
    if (r.optionKinds.includes('timestamps')) { active += 2; signals.push('carries the connection\'s timestamps option'); }
    else { stateless += 1; signals.push('no timestamps although the connection uses them'); }
  }
  if (r.ident !== null) {
    if (r.ident === 0 && s.lastIdent !== null && s.lastIdent !== 0) { weakStateless += 1; signals.push('IPv4 ID 0'); }
    else if (identContinues(ctx)) { weakActive += 1; signals.push(`IPv4 ID continues the sender's counter (+${identStep(ctx)})`); }
  }
  if (ack && s.nextSeq !== null && r.seqNumber === s.nextSeq) active += 1;
  if (active === stateless) { active += weakActive; stateless += weakStateless; }
  const form: RstForm = active > stateless ? 'active' : stateless > active ? 'stateless' : 'unknown';
  return { form, signals };
}

/** How far the RST's IPv4 ID is past the sender's last one (mod 2^16), or null. */
function identStep(ctx: RstContext): number | null {
  const r = ctx.seg;
  const last = ctx.sender.lastIdent;
  if (r.ident === null || r.ident === 0 || last === null) return null;
  return (r.ident - last + 0x10000) % 0x10000;
}

/** The RST's IPv4 ID continues the sender's counter (+1…16): a weak signal (RFC 6864 §4: IDs of
 *  atomic datagrams carry no meaning; random IDs continue by chance one time in 4096). */
function identContinues(ctx: RstContext): boolean {
  const d = identStep(ctx);
  return d !== null && d >= 1 && d <= 16;
}

function find(ctx: RstContext, conn: Connection, form: RstForm, hints: RstHints, profile: SenderProfile): Finding {
  const r = ctx.seg;
  const t = ctx.trigger;
  const s = ctx.sender;
  const rcv = ctx.receiver;
  const senderFinal = ctx.fromOrig ? conn.orig : conn.resp;

  // 1. Hop distance: the endpoint's own packets vs this RST (RFC 9293 is silent; this is how
  //    injected resets are told apart — nf_send_reset builds its own IP header at its own hop).
  const endpointTtl = mode(senderFinal.ttls);
  if (endpointTtl !== null && senderFinal.ttls.size >= 1 && !senderFinal.ttls.has(r.ttl)) {
    const endpointTos = mode(senderFinal.toss);
    return { kind: 'forged', rstTtl: r.ttl, endpointTtl, tosDiffers: endpointTos !== null && endpointTos !== r.tos, keptSending: ctx.keptSending };
  }

  // 1b. No packet of the sender's own in this connection, and its ID counter shared with RSTs "from"
  //    other addresses at the same TTL: one box (a NAT, load balancer or firewall) built them all,
  //    on those hosts' behalf (RFC 6864 §5: one global counter per box). Only without packets of the
  //    sender's own: those, when present, say more (step 1), and the sequence numbers come next.
  if (senderFinal.ttls.size === 0 && hints.sharedCounter && hints.sharedCounter.length > 0) {
    return { kind: 'shared-counter', peers: hints.sharedCounter };
  }

  // 1c. A RST carrying data from a stack that starts at TTL 255, with no packet of the sender's own
  //    to compare: a network device's reset with its diagnostic text (RFC 9293 §3.5.3 and RFC 1122
  //    §4.2.2.12 allow a RST to carry diagnostic data; F5 BIG-IP puts its reset cause there with
  //    tm.rstcause.pkt, F5 K13223; Linux never sends data in a RST).
  if (senderFinal.ttls.size === 0 && ctx.payloadLength > 0 && hopDistance(r.ttl).initial === 255) {
    const hd = hopDistance(r.ttl);
    return { kind: 'device-diagnostic', initialTtl: hd.initial, hops: hd.hops };
  }

  // 2. A RST answering a SYN, from a side that never sent SYN-ACK: no listener (RFC 9293 §3.10.7.1).
  if (t && hasFlag(t, TcpFlag.SYN) && !hasFlag(t, TcpFlag.ACK) && (s.state === 'INACTIVE' || s.state === 'RESET')) {
    return { kind: 'answers-syn', syn: t, exact: isNoSocketReply(r, t) };
  }

  // 3. Acceptability (RFC 5961 §3.2, tcp_validate_incoming): only a RST whose seq is exactly
  //    RCV.NXT resets; in-window → challenge ACK; outside → dropped. RCV.NXT as observed is the
  //    receiver's highest ACK, or the sender's SND.NXT when the receiver has not ACKed it yet.
  if (rcv.lastAck !== null && rcv.state !== 'SYN_SENT') {
    // After its FIN also the FIN's own seq: the ACK of a segment the receiver sent before the FIN
    // reached it. A stateless reply to that segment (BSD/macOS tcp_dropwithreset: seq = SEG.ACK)
    // is judged against the segment it answers, not the receiver's later ones (issue 18).
    const candidates = [rcv.lastAck, s.nextSeq, s.finFrame !== null ? s.finSeq : null].filter((x): x is number => x !== null);
    const exact = candidates.some((c) => c === r.seqNumber);
    if (!exact) {
      const wnd = Math.max(rcv.window, 1);
      const inWindow = seqInRange(r.seqNumber, rcv.lastAck, seqAdd(rcv.lastAck, wnd));
      const challengeAck = ctx.after.find((x) => x.payloadLength === 0 && !hasFlag(x, TcpFlag.RST)
        && !hasFlag(x, TcpFlag.SYN) && hasFlag(x, TcpFlag.ACK)) ?? null;
      // A stateless reply to a segment whose ACK the receiver later moved past is still exact for
      // that segment: accept seq = trigger's ACK.
      // 3a. A live socket's own reset at an SND.NXT the capture never saw: RST+ACK in the active
      //     form (the connection's timestamps; a blind RST carries none), in the window and past
      //     every byte the capture shows from the sender, which the receiver never acknowledged —
      //     data lost on the path or by the capture before the sender aborted (tcp_send_active_reset
      //     uses SND.NXT). Not the attacker's blind RST RFC 5961 is about: the kernel logged such a
      //     RST as TCP_STATE in the lab, under load, with 26 KB missing before it.
      const gap = s.nextSeq !== null ? seqDiff(r.seqNumber, s.nextSeq) : 0;
      if (inWindow && form === 'active' && hasFlag(r, TcpFlag.ACK) && gap > 0) {
        return { kind: 'active', exact: false, bare: false, gap };
      }
      if (!(t && hasFlag(t, TcpFlag.ACK) && isNoSocketReply(r, t))) {
        return { kind: 'not-acceptable', expected: rcv.lastAck, inWindow, challengeAck: inWindow ? challengeAck : null };
      }
    }
  }

  // 3b. Windows aborts a live connection with a bare RST: no ACK flag, seq at SND.NXT, on an
  //    abortive closesocket (SO_LINGER {1,0}, the process ending: Microsoft, "Graceful Shutdown,
  //    Linger Options, and Socket Closure", learn.microsoft.com/windows/win32/winsock; the bare
  //    form as issue 18's Windows captures show it). The sequence numbers fit both that and a reply
  //    from no socket (RFC 9293 §3.10.7.1: seq = SEG.ACK = SND.NXT on a live connection), so the
  //    profile (Windows) and the ID continuing its counter break the tie, and only on a connection
  //    still open on the sender's side (no FIN, no RST yet).
  if (!hasFlag(r, TcpFlag.ACK) && profile.family === 'windows' && s.nextSeq !== null && r.seqNumber === s.nextSeq
    && s.state === 'ESTABLISHED' && s.finFrame === null && ctx.earlierRsts.length === 0 && identContinues(ctx)) {
    return { kind: 'active', exact: true, bare: true };
  }

  // 4. Unanswered keepalive probes / retransmissions, then an active reset (tcp_keepalive_timer;
  //    BSD's tcp_drop when retransmissions run out).
  if (form !== 'stateless' && (s.probesSinceHeard >= 1 || s.retransSinceHeard >= 3)) {
    return { kind: 'probes-exhausted', probes: s.probesSinceHeard, retransmissions: s.retransSinceHeard };
  }

  // 5. Stateless resets: after our FIN (RFC 1122 must-reset) or with no socket at all. Only the
  //    first RST after the FIN answers the closed socket: sending it dropped the connection (BSD
  //    tcp_input "rcvafterclose": tcp_close, then dropwithreset; Linux tcp_reset → tcp_done), so
  //    whatever arrives after it — data or a FIN — meets no connection (RFC 9293 §3.10.7.1).
  if (form === 'stateless') {
    if (s.finFrame !== null && s.state !== 'RESET' && t && (t.payloadLength > 0 || hasFlag(t, TcpFlag.FIN)) && t.frame > s.finFrame) {
      return { kind: 'after-close', finFrame: s.finFrame, trigger: t };
    }
    return { kind: 'stateless', trigger: t, exact: t !== null && hasFlag(t, TcpFlag.ACK) && isNoSocketReply(r, t) };
  }

  // 6. Active resets: the sender still had its socket and dropped it.
  if (form === 'active' || hasFlag(r, TcpFlag.ACK)) {
    const exact = s.nextSeq !== null && r.seqNumber === s.nextSeq;
    return { kind: 'active', exact, bare: false };
  }
  return { kind: 'unknown' };
}

/** The RST refuses the handshake's last ACK: its sender had answered with SYN-ACK and sent nothing
 *  since, and the trigger is a bare ACK of that SYN-ACK (the observed state may already say
 *  ESTABLISHED: the ACK was seen on its way). */
function handshakeAckRefused(ctx: RstContext): boolean {
  if (ctx.sender.state === 'SYN_ACK_SENT') return true;
  const last = ctx.sender.lastSeg;
  const t = ctx.trigger;
  return last !== null && hasFlag(last, TcpFlag.SYN) && hasFlag(last, TcpFlag.ACK) && t !== null && segLen(t) === 0
    && hasFlag(t, TcpFlag.ACK) && ctx.sender.isn !== null && t.ackNumber === seqAdd(ctx.sender.isn, 1);
}

/** Before its FIN the sender had acknowledged data from the peer (the peer's ISN seen: beyond
 *  its SYN), which the closing application may not have read. */
function peerDataBeforeFin(ctx: RstContext): boolean {
  const s = ctx.sender;
  const p = ctx.receiver;
  return s.finFrame !== null && s.lastAck !== null && p.isn !== null && p.sawSyn && seqDiff(s.lastAck, p.isn) > 1;
}

/** The sender was sending data until just before the RST (its last segment carried data, under a
 *  second earlier): rather than lost state, an application that closed with data still unsent. */
function closedWhileSending(ctx: RstContext): boolean {
  const last = ctx.sender.lastSeg;
  return last !== null && last.payloadLength > 0 && ctx.seg.time - last.time < 1;
}

/** The sender is connecting (SYN-SENT) and the segment it answers acknowledges something other
 *  than its SYN: RFC 9293 §3.10.7.3 resets it (tcp_rcv_synsent_state_process). A bare ACK there is
 *  the peer's challenge ACK for an older connection on the same ports (half-open, RFC 5961 §4). */
function synSentRefusesAck(ctx: RstContext): boolean {
  const { sender: s, trigger: t } = ctx;
  // SYN-SENT as the packets show it: a SYN, and never an ACK, data or FIN since (Zeek's endpoint
  // state turns ESTABLISHED at the peer's ACK, whatever it acknowledges).
  return s.sawSyn && s.isn !== null && s.lastAck === null && s.bytes === 0 && s.finFrame === null
    && t !== null && hasFlag(t, TcpFlag.ACK) && t.ackNumber !== seqAdd(s.isn, 1);
}

/** The sender closed second (its FIN acknowledged the receiver's) and its FIN was acknowledged:
 *  LAST-ACK, then CLOSED, with no TIME_WAIT socket (RFC 9293 §3.6; tcp_rcv_state_process). */
function closedSecond(ctx: RstContext): boolean {
  const { sender: s, receiver: r } = ctx;
  return finAcked(ctx) && s.finFrame !== null && r.finFrame !== null && r.finFrame < s.finFrame && r.finSeq !== null && s.lastAck === seqAdd(r.finSeq, 1);
}

/** The receiver had acknowledged the RST sender's FIN before the RST. */
function finAcked(ctx: RstContext): boolean {
  const { finSeq } = ctx.sender;
  return finSeq !== null && ctx.receiver.lastAck !== null && seqAdd(finSeq, 1) === ctx.receiver.lastAck;
}

/** Linux's reasons that fit a finding (the table in causes.ts; each arm says why). */
function linuxReasonsOf(finding: Finding, ctx: RstContext): LinuxRstReason[] {
  // Linux's initial TTL / hop limit is 64: a RST that arrives with more was not sent by Linux.
  if (ctx.seg.ttl > 64) return [];
  const s = ctx.sender;
  const t = ctx.trigger;
  // A Linux socket that has sent a RST is gone (tcp_done; a TIME_WAIT socket is descheduled):
  // whatever reaches it afterwards finds no socket, or a listener on the port. Not for a RST of a
  // live socket's own form: that one was sent first, and reached the wire after the stateless one
  // (the two are sent from different contexts, found by `rstlab lab --random`).
  if (s.state === 'RESET' && (finding.kind === 'answers-syn' || finding.kind === 'after-close' || finding.kind === 'stateless')) return ['NO_SOCKET', 'TCP_FLAGS'];
  switch (finding.kind) {
    case 'answers-syn':
      // tcp_v4_rcv / tcp_v6_rcv: no socket for the SYN → tcp_v4_send_reset(NULL, skb).
      return finding.exact ? ['NO_SOCKET'] : [];
    case 'forged':
    case 'shared-counter':
    case 'device-diagnostic':
    case 'not-acceptable':
    case 'unknown':
      return [];
    case 'probes-exhausted':
      // tcp_keepalive_timer → tcp_send_active_reset(SK_RST_REASON_TCP_KEEPALIVE_TIMEOUT); Linux is
      // silent when retransmissions run out (tcp_write_timeout → tcp_done).
      return finding.probes >= 1 ? ['TCP_KEEPALIVE_TIMEOUT'] : [];
    case 'after-close': {
      // FIN-WAIT-1 (FIN not yet acknowledged): tcp_rcv_state_process → ABORT_ON_DATA. Acknowledged:
      // TIME_WAIT socket (tcp_fin_timeout ≤ 60 s: tcp_timewait_state_process) or still a full one.
      // Past tcp_fin_timeout (FIN-WAIT-2) or the TIME_WAIT period the orphan is gone: NO_SOCKET.
      // Both are sysctls (60 s by default), so any wait may be past them; after 60 s it is likely.
      if (!finAcked(ctx)) return ['TCP_ABORT_ON_DATA'];
      const waited = s.lastSeg !== null && ctx.seg.time - s.lastSeg.time > 60;
      return waited ? ['NO_SOCKET', 'TCP_TIMEWAIT_SOCKET', 'TCP_ABORT_ON_DATA'] : ['TCP_TIMEWAIT_SOCKET', 'TCP_ABORT_ON_DATA', 'NO_SOCKET'];
    }
    case 'stateless':
      // tcp_rcv_synsent_state_process: an ACK (with SYN or, a challenge ACK, without) that does not ack our SYN.
      if (synSentRefusesAck(ctx)) return ['TCP_INVALID_ACK_SEQUENCE'];
      // The handshake's last ACK refused by the listener side (tcp_check_req / tcp_v4_do_rcv).
      if (handshakeAckRefused(ctx)) return ['INVALID_SYN', 'TCP_FLAGS', 'NO_SOCKET'];
      // After its FIN: the TIME_WAIT socket, or none any more; or, while the FIN is not yet
      // acknowledged, the closed socket itself (FIN-WAIT-1: data that crossed the FIN on the way,
      // seen before it where the capture is), as in after-close. Closed second and acknowledged:
      // gone, so no socket or the listener (TCP_FLAGS) answers — unless both FINs crossed
      // (CLOSING → TIME_WAIT), which the capture's order may hide.
      if (closedSecond(ctx)) return ['NO_SOCKET', 'TCP_FLAGS', 'TCP_TIMEWAIT_SOCKET'];
      if (s.finFrame !== null) {
        return finAcked(ctx) ? ['TCP_TIMEWAIT_SOCKET', 'NO_SOCKET', 'TCP_ABORT_ON_DATA'] : ['TCP_ABORT_ON_DATA', 'TCP_TIMEWAIT_SOCKET', 'NO_SOCKET'];
      }
      // No FIN seen, but the sender may have closed with data still unsent (its FIN queued behind
      // it, FIN-WAIT-1): tcp_rcv_state_process resets what arrives then, as after a FIN.
      return closedWhileSending(ctx) ? ['TCP_ABORT_ON_DATA', 'NO_SOCKET', 'TCP_FLAGS'] : ['NO_SOCKET', 'TCP_FLAGS', 'TCP_ABORT_ON_DATA'];
    case 'active': {
      // tcp_send_active_reset from __tcp_close (unread data), tcp_disconnect, tcp_abort,
      // tcp_check_oom; after FIN, also tcp_close in FIN-WAIT-2 with TCP_LINGER2 < 0.
      const peerSentData = ctx.receiver.bytes > 0;
      const unreadLikely = t !== null && t.payloadLength > 0;
      const reasons: LinuxRstReason[] = unreadLikely ? ['TCP_ABORT_ON_CLOSE', 'TCP_STATE'] : peerSentData ? ['TCP_STATE', 'TCP_ABORT_ON_CLOSE'] : ['TCP_STATE'];
      reasons.push('TCP_DISCONNECT_WITH_DATA', 'TCP_ABORT_ON_MEMORY');
      if (s.finFrame !== null) reasons.push('TCP_ABORT_ON_LINGER');
      return reasons;
    }
    default:
      return assertNever(finding, 'RST finding');
  }
}

/** Predicted application errors for the receiver of a reset, from the receiver's state. */
function receiverSees(ctx: RstContext): string {
  if (ctx.receiver.state === 'SYN_SENT') return 'connect() fails: ECONNREFUSED (Node: connect ECONNREFUSED; Java: java.net.ConnectException: Connection refused)';
  const { sender: s, receiver: r } = ctx;
  if (s.finFrame !== null && r.finFrame !== null && r.finSeq !== null && s.lastAck === seqAdd(r.finSeq, 1)) {
    // Both closed, the receiver's FIN acknowledged: TIME-WAIT or CLOSED (RFC 9293 §3.10.7.4).
    return 'nothing: both ends had closed and its FIN was acknowledged; at most the reset ends its TIME-WAIT early (RFC 1337)';
  }
  if (s.finFrame !== null && s.finFrame < ctx.seg.frame) {
    return 'reads had already returned EOF (the FIN); the reset then fails the next write with EPIPE (Node: EPIPE / "socket hang up" for a request with no response; OkHttp: "unexpected end of stream")';
  }
  return 'ECONNRESET on the next read or write, after any data already buffered (Node: read ECONNRESET / "socket hang up"; Java: java.net.SocketException: Connection reset)';
}

/** Where the RST was built, from hop distances (not raw TTL differences: an endpoint at TTL 116
 *  and a RST at TTL 250 are 12 and 5 hops away, not 134 apart). */
export function hopEvidence(endpointTtl: number, rstTtl: number): string {
  const e = hopDistance(endpointTtl);
  const r = hopDistance(rstTtl);
  const d = e.hops - r.hops;
  const where = d === 0 ? 'it was built as many hops from the capture point as the endpoint\'s packets'
    : `it was built ${Math.abs(d)} hop(s) ${d > 0 ? 'closer to' : 'farther from'} the capture point`;
  const starts = e.initial === r.initial ? `initial TTL ${e.initial} for both`
    : `initial TTL ${e.initial} for the endpoint's packets, ${r.initial} for the RST: another stack built it`;
  return `${where} (${starts}; the endpoint's packets came ${e.hops} hop(s), the RST ${r.hops})`;
}

export function judgeRst(ctx: RstContext, conn: Connection, hints: RstHints = {}): RstVerdict {
  const senderEp = ctx.fromOrig ? conn.orig : conn.resp;
  const receiverEp = ctx.fromOrig ? conn.resp : conn.orig;
  const from = formatEndpoint(senderEp.addr, senderEp.port);
  const to = formatEndpoint(receiverEp.addr, receiverEp.port);
  const r = ctx.seg;
  const t = ctx.trigger;
  const { form, signals } = rstForm(ctx);
  const profile = hints.profile ?? senderProfile(senderEp);
  const finding = find(ctx, conn, form, hints, profile);
  const senderIsn = ctx.sender.isn;
  const receiverIsn = ctx.receiver.isn;

  const numbering = senderIsn !== null && receiverIsn !== null ? 'relative numbers' : 'numbers relative where the ISN was seen';
  const evidence: string[] = [
    `RST ${flagString(r.flags)} seq ${seqRelative(r.seqNumber, senderIsn)} ack ${hasFlag(r, TcpFlag.ACK) ? seqRelative(r.ackNumber, receiverIsn) : '-'} win ${r.window} ttl ${r.ttl}${r.ident !== null ? ` id ${r.ident}` : ''} (${numbering})`,
  ];
  const noContext = ctx.sender.packets === 0 && t === null;
  if (noContext) evidence.push('no earlier packet of this connection is in the capture: the verdict rests on the RST\'s fields alone');
  // RFC 6864 §5 / RFC 7739 §5: a host with one ID counter across its connections stamps its own
  // RSTs from it too, so a RST with nothing else of its sender to compare is placed by it (a hint,
  // never the verdict: the sequence numbers decide).
  const hc = hints.hostCounter;
  if (hc && hc.global && r.ident !== null && r.ident !== 0 && (ctx.fromOrig ? conn.orig : conn.resp).ttls.size === 0) {
    const near = Math.abs(r.time - hc.lastTime) <= 10;
    evidence.push(near && idFollows(hc.lastIdent, r.ident)
      ? `its IPv4 ID ${r.ident} continues the one counter ${from.replace(/:\d+$/, '')} uses across its connections (id ${hc.lastIdent} ${(r.time - hc.lastTime).toFixed(3)} s before): its own stack built it, not a box on the path`
      : `its IPv4 ID ${r.ident} does not continue the one counter ${from.replace(/:\d+$/, '')} uses across its connections (id ${hc.lastIdent}${near ? '' : ' over 10 s away'}): another stack may have built it`);
  }
  if (t) {
    evidence.push(`it follows frame ${t.frame} from ${to}: ${flagString(t.flags)} seq ${seqRelative(t.seqNumber, receiverIsn)} ack ${seqRelative(t.ackNumber, senderIsn)} len ${t.payloadLength}, ${((r.time - t.time) * 1000).toFixed(3)} ms earlier`);
  }
  if (ctx.earlierRsts.length) evidence.push(`earlier RST(s) on this connection: frame ${ctx.earlierRsts.join(', ')}`);
  if (ctx.payloadLength > 0) evidence.push(`the RST carries ${ctx.payloadLength} bytes of data (Linux never does; other stacks and middleboxes may)`);

  let cause: Cause;
  let confidence: Confidence;
  let summary: string;
  let trigger: number | null = t ? t.frame : null;
  let senderApp: string | undefined;
  let receiverApp = receiverSees(ctx);

  switch (finding.kind) {
    case 'answers-syn':
      // RFC 9293 §3.10.7.1: a SYN to a CLOSED port gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
      cause = 'refused';
      confidence = finding.exact ? 'high' : 'medium';
      trigger = finding.syn.frame;
      summary = `nothing listens on ${from}: the RST answers the SYN in frame ${finding.syn.frame}`;
      // SEG.LEN of a SYN is 1 plus its payload (TCP Fast Open): "ISN+1" for a plain SYN.
      evidence.push(finding.exact
        ? `seq 0 and ack = ISN+${segLen(finding.syn)}: the kernel's reply for a SYN with no socket (tcp_v4_send_reset)`
        : `the RST does not have the exact form Linux gives a closed port (seq 0, ack = ISN+${segLen(finding.syn)}): another stack or a firewall`);
      evidence.push('a firewall REJECT --reject-with tcp-reset looks the same from here');
      receiverApp = 'connect() fails: ECONNREFUSED (Node: connect ECONNREFUSED; Java/OkHttp: java.net.ConnectException: Failed to connect / Connection refused)';
      if (hints.refusedBefore) {
        const b = hints.refusedBefore;
        evidence.push(`the SYN repeats, with the same ISN and ports, the one refused in frame ${b.synFrame} ${((finding.syn.time - b.time) * 1000).toFixed(0)} ms before: the client's stack retried a refused connect (attempt ${b.attempt + 1})`);
      }
      // Winsock retries a connect refused by a RST (TcpMaxConnectRetransmissions, without backing
      // off: Microsoft KB 175523, "Winsock TCP Connection Performance to Unused Ports"); connect()
      // fails only after the last, about 1-2 s later. Linux fails at the first RST.
      if ((hints.receiverProfile ?? NO_PROFILE).family === 'windows') {
        const attempt = hints.refusedBefore ? hints.refusedBefore.attempt + 1 : 1;
        evidence.push(`${to} is a Windows stack: Winsock sends the SYN again after a RST from a closed port, at its base timeout without backing off, and fails connect() only after the last attempt (Microsoft KB 175523; three by default)`);
        const error = 'WSAECONNREFUSED (10061), "No connection could be made because the target machine actively refused it"';
        receiverApp = attempt < 3
          ? `connect() does not fail at this RST (attempt ${attempt} of Windows' default 3): the SYN is sent again about 0.5 s later; after the last refusal it fails with ${error}`
          : `connect() fails at this RST, attempt ${attempt} (the last of Windows' default 3, about 1 s after the first): ${error}`;
      }
      break;
    case 'forged':
      // nf_send_reset (net/ipv4/netfilter/nf_reject_ipv4.c) builds a fresh IP header at its own hop.
      cause = 'middlebox';
      confidence = finding.endpointTtl !== finding.rstTtl ? 'high' : 'medium';
      summary = `forged on the path: TTL ${finding.rstTtl} differs from ${from}'s own packets (TTL ${finding.endpointTtl})`;
      evidence.push(`${from}'s other packets arrive with TTL ${[...senderEp.ttls.keys()].join('/')}; the RST with TTL ${finding.rstTtl}: ${hopEvidence(finding.endpointTtl, finding.rstTtl)}`);
      if (finding.tosDiffers) evidence.push(`TOS ${r.tos} differs from the endpoint's own (${mode(senderEp.toss)}); netfilter's REJECT sets TOS 0`);
      if (finding.keptSending.length) evidence.push(`${from} kept sending after the RST (frames ${finding.keptSending.slice(0, 5).join(', ')}): the real endpoint never reset`);
      receiverApp = 'ECONNRESET, although the real peer still thinks the connection is open';
      break;
    case 'shared-counter':
      // RFC 6864 §5: a source keeps one ID counter; RSTs "from" several hosts on one counter and at
      // one TTL were built by one box (NAT/LB/firewall state, e.g. conntrack ending a flow).
      cause = 'middlebox';
      confidence = finding.peers.length >= 2 ? 'high' : 'medium';
      summary = `generated on the path for ${from}: its IPv4 ID counter is shared with RSTs "from" ${firstOf([...new Set(finding.peers.map((p) => p.addr))], 'more')} (a NAT or load balancer resetting on their behalf)`;
      evidence.push(`IPv4 ID ${r.ident} continues a counter shared with ${firstOf(finding.peers.map((p) => `frame ${p.frame} "from" ${p.addr} (id ${p.ident})`), 'more RSTs')}, all at TTL ${r.ttl} (${hopDistance(r.ttl).hops} hop(s) from the capture point): one sender for several source addresses`);
      evidence.push(`no other packet from ${from} is in this connection to compare with`);
      receiverApp = 'ECONNRESET, although the real peer may still think the connection is open';
      break;
    case 'device-diagnostic':
      // RFC 1122 §4.2.2.12: a RST may carry diagnostic text; network devices (F5 BIG-IP's reset
      // cause, K13223) do, a host's TCP does not.
      cause = 'middlebox';
      confidence = 'medium';
      summary = `reset by a network device in ${from}'s name: the RST carries ${ctx.payloadLength} bytes of diagnostic data and left a stack that starts at TTL ${finding.initialTtl}`;
      evidence.push(`the RST's TTL ${r.ttl}: initial ${finding.initialTtl} (routers, firewalls, load balancers), ${finding.hops} hop(s) from the capture point; no other packet from ${from} to compare with`);
      evidence.push('a load balancer or firewall that resets a flow may say why in the RST\'s payload (F5 BIG-IP: tm.rstcause.pkt, K13223); the server behind it may still hold the connection');
      break;
    case 'not-acceptable':
      // RFC 5961 §3.2 / tcp_validate_incoming: not exactly RCV.NXT → challenge ACK or silent drop.
      cause = 'out-of-window';
      confidence = finding.challengeAck ? 'high' : 'medium';
      summary = finding.inWindow
        ? `in the window but not at RCV.NXT: ${to} must answer with a challenge ACK and keep the connection (RFC 5961)`
        : `outside ${to}'s receive window: it must be dropped (RFC 5961)`;
      evidence.push(`expected seq ${seqRelative(finding.expected, senderIsn)} (the receiver's RCV.NXT), got ${seqRelative(r.seqNumber, senderIsn)} (${seqDiff(r.seqNumber, finding.expected)} bytes off)`);
      if (finding.challengeAck) evidence.push(`challenge ACK from ${to} in frame ${finding.challengeAck.frame}`);
      receiverApp = 'nothing: the reset is ignored';
      break;
    case 'probes-exhausted':
      // tcp_keepalive_timer: after tcp_keepalive_probes unanswered probes → tcp_send_active_reset;
      // BSD tcp_timer_rexmt → tcp_drop after TCP_MAXRXTSHIFT (Linux sends nothing on retransmission give-up).
      cause = 'timeout';
      confidence = finding.probes >= 1 ? 'high' : 'medium';
      summary = finding.probes >= 1
        ? `${from} reset after ${finding.probes} unanswered keepalive probe(s)`
        : `${from} reset after ${finding.retransmissions} unanswered retransmissions (BSD/macOS/Windows behaviour; Linux stays silent)`;
      evidence.push(`${finding.probes} keepalive probe(s) and ${finding.retransmissions} retransmission(s) from ${from} since ${to} was last heard`);
      senderApp = 'ETIMEDOUT (Node: read ETIMEDOUT; Java: java.net.SocketException: Connection timed out)';
      receiverApp = `${receiverApp}; if the path is down, it gets nothing until it sends`;
      break;
    case 'after-close':
      // tcp_rcv_state_process, FIN_WAIT1/2: "RFC 793 says to queue data in these states, RFC 1122
      // says we MUST send a reset" → tcp_reset + tcp_v4_send_reset (stateless form).
      cause = 'reset-after-close';
      confidence = 'high';
      trigger = finding.trigger.frame;
      summary = `${from} had closed (FIN in frame ${finding.finFrame}); the ${finding.trigger.payloadLength > 0 ? `${finding.trigger.payloadLength} bytes` : 'FIN'} in frame ${finding.trigger.frame} reached a closed socket`;
      evidence.push(`${from} sent FIN in frame ${finding.finFrame}, before the data in frame ${finding.trigger.frame}`);
      // BSD/macOS close a socket with unread data by a FIN, discarding the data (soclose →
      // sbflush, then tcp_usrclosed), and reset only what arrives afterwards (tcp_input: data for a
      // socket with no file, "rcvafterclose"); Linux resets at once (__tcp_close, data_was_unread).
      // RFC 2525 §2.17 ("Failure to RST on close with data pending") describes the difference.
      if (profile.family === 'macos/bsd' && peerDataBeforeFin(ctx)) {
        evidence.push(`${to} had sent data that ${from} acknowledged before its FIN: if its application closed without reading it, BSD/macOS discard it and send FIN (RFC 2525 §2.17, "Failure to RST on close with data pending"), where Linux would have reset at the close; the RST came only for what arrived after`);
        receiverApp = `EOF first (the FIN), as for a graceful close, although data it sent may never have been read; then ${receiverApp}`;
      }
      break;
    case 'stateless':
      // tcp_v4_rcv → no socket → tcp_v4_send_reset(NULL, skb): <SEQ=SEG.ACK><CTL=RST>.
      cause = 'no-connection';
      confidence = finding.exact ? 'high' : 'medium';
      summary = `${from} has no connection for this segment${finding.trigger ? ` (frame ${finding.trigger.frame})` : ''}: its socket is gone`;
      if (finding.exact) evidence.push('seq = the trigger\'s ACK, no ACK flag, window 0: built from the segment alone, no socket');
      if (ctx.earlierRsts.length) evidence.push(`${from} had already reset this connection; ${to} kept sending`);
      else if (synSentRefusesAck(ctx)) {
        summary = `${from} is connecting (SYN sent) and frame ${finding.trigger!.frame} does not acknowledge its SYN: it resets that segment`;
        evidence.push(hasFlag(finding.trigger!, TcpFlag.SYN)
          ? 'a SYN-ACK for another SYN: RFC 9293 §3.10.7.3 (SYN-SENT, unacceptable ACK) answers it with <SEQ=SEG.ACK><CTL=RST>'
          : `a bare ACK answered its SYN: ${to} still has an older connection on these ports (half-open, e.g. after ${from} restarted) and sent a challenge ACK (RFC 5961 §4); this RST, at ${to}'s RCV.NXT, ends that old connection, and the SYN's retransmission can connect`);
      } else if (closedSecond(ctx)) evidence.push(`${from} closed second (its FIN in frame ${ctx.sender.finFrame} answered ${to}'s): once that FIN was acknowledged its socket was gone, with no TIME-WAIT (only the first to close keeps one)`);
      else if (ctx.sender.finFrame !== null) evidence.push(`${from} closed earlier (FIN in frame ${ctx.sender.finFrame}) and its state has since expired`);
      else if (handshakeAckRefused(ctx)) evidence.push('the handshake\'s last ACK was refused: accept queue overflow with tcp_abort_on_overflow, or the listener went away');
      else if (closedWhileSending(ctx)) evidence.push(`${from} was sending until ${((r.time - ctx.sender.lastSeg!.time) * 1000).toFixed(3)} ms before, without FIN: its application likely closed with data still unsent (the FIN waits behind it), and Linux resets what arrives then; or its state was lost`);
      else evidence.push(`${from} never sent FIN: its state was lost (process or host restarted, socket destroyed, NAT/firewall state expired), or the segment went to the wrong host`);
      break;
    case 'active':
      // __tcp_close: data_was_unread → tcp_send_active_reset; SO_LINGER {1,0} → tcp_disconnect;
      // ss -K → tcp_abort. RST+ACK at SND.NXT with the live window and options.
      cause = 'abort';
      confidence = noContext ? 'low' : finding.exact ? 'high' : 'medium';
      summary = ctx.sender.finFrame !== null
        ? `${from} aborted after its FIN (frame ${ctx.sender.finFrame}): closed with unread data after a half-close, or its orphaned socket was killed`
        : `${from} aborted the connection without FIN`;
      if (finding.bare) evidence.push('seq = the sender\'s SND.NXT without ACK, IPv4 ID continuing its counter, from a Windows stack on a connection it had not closed: Windows\' abortive close (closesocket with SO_LINGER {1,0}, or the process ending) sends a bare RST');
      else if (finding.exact) evidence.push('seq = the sender\'s SND.NXT with ACK: sent by a live socket (tcp_send_active_reset)');
      if (finding.gap) {
        evidence.push(`seq is ${finding.gap} bytes past the last data the capture shows from ${from}, none of it acknowledged by ${to}: that data was lost on the path or by the capture, and the RST carries the live socket's timestamps (a blind RST would not)`);
        // RFC 5961 §3.2: not at RCV.NXT → a challenge ACK; the sender, its socket gone, answers that with a RST at its ACK.
        receiverApp = `its kernel answers with a challenge ACK (the RST is not at RCV.NXT: RFC 5961); the sender, its socket gone, resets again at that ACK: then ${receiverApp}`;
      }
      if (t && t.payloadLength > 0 && (ctx.sender.lastSeg === null || ctx.sender.lastSeg.frame < t.frame || ctx.sender.lastSeg.payloadLength === 0)) {
        evidence.push(`${to}'s ${t.payloadLength} bytes in frame ${t.frame} were never answered: likely still unread when ${from} closed — Linux resets instead of FIN then (__tcp_close: data_was_unread)`);
      } else {
        evidence.push('no unanswered data from the peer: an abortive close (SO_LINGER {1,0} → tcp_disconnect), a killed socket (ss -K → tcp_abort), or unread data');
      }
      break;
    case 'unknown':
      cause = 'unexplained';
      confidence = 'low';
      summary = `no rule fits this RST from ${from}`;
      break;
    default:
      return assertNever(finding, 'RST finding');
  }
  evidence.push(`form: ${form}${signals.length ? ` (${signals.join('; ')})` : ''}`);
  evidence.push(profileText(from, profile));
  const linuxReasons = linuxReasonsOf(finding, ctx);

  return {
    frame: r.frame,
    time: r.time,
    connection: conn.id,
    from,
    to,
    sender: ctx.fromOrig ? 'orig' : 'resp',
    cause,
    confidence,
    form,
    summary,
    evidence,
    trigger,
    app: senderApp ? { receiver: receiverApp, sender: senderApp } : { receiver: receiverApp },
    linuxReasons,
    linuxReason: linuxReasons.length === 1 ? linuxReasons[0]! : null,
    senderProfile: profile,
  };
}
