// Zeek's view of a TCP connection, kept beside rstlab's own so that `conn_state` and `history` are
// Zeek's (zeek/zeek at a13de64: src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc,
// src/analyzer/protocol/tcp/TCP_Endpoint.cc and TCP_Reassembler.cc, src/Conn.cc, and
// scripts/base/protocols/conn/main.zeek). Contract:
// - `zeekSegment(c, fromOrig, flags, seq, ack, len)` is TCPSessionAdapter::Process for one
//   segment, in its order: init_endpoint, update_history, update_window (zero windows),
//   init_peer, update_last_seq (retransmissions), UpdateStateMachine, AckReceived (content gaps),
//   DataSent (what reassembly has seen), ConnectionClosed (did_close). It writes only numbers and
//   booleans of the connection's two EndpointTracks (their `z*` fields) and the connection's
//   `history`, `histSeen` and `flipPending`: no object per packet or per connection.
// - Orientation: rstlab's originator is the SYN's sender (the receiver of a first SYN-ACK) from the
//   start, and a connection first seen mid-stream is turned around at once when Zeek's
//   WantConnection would (`flipsAtStart`: a likely server port, the history then starts with `^`).
//   A connection that starts with a SYN-ACK whose sender Zeek keeps as the originator until it
//   flips the connection (TCP_Endpoint::CheckHistory on the first A or D, or the SYN/SYN-ACK
//   reversal of UpdateInactiveState) is `flipPending` until then: the letters are written in
//   Zeek's orientation (the SYN-ACK's sender upper case), and `zeekConnState` reads the states in it.
// - Relative sequence numbers are 32-bit differences from the endpoint's start (Zeek counts
//   wraps; rstlab's are exact for a direction that sends less than 2 GiB); the sequence numbers
//   themselves are held as int32 (unboxed by V8: each field costs a word), compared via seqDiff.
// - Reassembly is followed as one contiguous edge per direction plus one block beyond it, enough
//   for Zeek's Gap() calls (an ACK beyond data never seen while both sides are established or
//   closing cleanly); Zeek keeps every block.
// - Checksums: by default rstlab reads a capture as `zeek -C` does (a capture taken on a sending
//   host carries offloaded, "bad" checksums on every outgoing packet), so no `C`/`c`. With
//   checksum verification (explain --verify-checksums, as `zeek` without -C) a segment whose
//   checksum is wrong reaches only `zeekChecksumError`: TCPSessionAdapter::ValidateChecksum's
//   Weird and TCP_Endpoint::ChecksumError (the scaled `C`/`c`), nothing else of the segment.
// - Likely server ports are those of Zeek's default scripts unless the tracker is given others
//   (`zeek -b` registers none but what its script loads).

import { seqAdd, seqDiff } from '../wire/seq.js';
import { TcpFlag } from '../wire/types.js';
import { connStateOf } from './conn-state.js';
import type { ConnState } from './conn-state.js';
import type { EndpointTrack } from './endpoint-track.js';

/** Zeek's tcp_attempt_delay (scripts/base/init-bare.zeek): an attempt unanswered this long is over. */
export const ZEEK_ATTEMPT_DELAY_SEC = 5;
/** Zeek's tcp_close_delay (and tcp_reset_delay): a connection is removed this long after its close
 *  completed (ConnectionClosed's ConnDeleteTimer). */
export const ZEEK_CLOSE_DELAY_SEC = 5;
/** Zeek's tcp_inactivity_timeout: a connection past its handshake is removed after this long
 *  without a packet. */
export const ZEEK_INACTIVITY_TIMEOUT_SEC = 300;

/** What zeekSegment reads and writes of a connection (the tracker's Track). */
export interface ZeekConn {
  readonly orig: EndpointTrack;
  readonly resp: EndpointTrack;
  history: string;
  /** Connection::hist_seen: Zeek's once-only letters seen, the originator's in the low 16 bits. */
  histSeen: number;
  /** Zeek still holds the SYN-ACK's sender (rstlab's responder) as the originator. */
  flipPending: boolean;
  /** TCPSessionAdapter::is_partial: the connection did not start with a plain SYN. */
  zPartial: boolean;
  /** Capture time of Zeek's pending removal timer (-1: none): the AttemptTimer, or once the close
   *  completed (`closeTimer`) the ConnDeleteTimer, which makes the attempt's condition false for
   *  good (an endpoint is then CLOSED or RESET), so one field holds either. */
  timerAt: number;
  closeTimer: boolean;
}

// TCP_Endpoint's HIST_* masks.
const HIST_SYN = 0x1;
const HIST_FIN = 0x2;
const HIST_RST = 0x4;
const HIST_FIN_RST = 0x8;
const HIST_DATA = 0x10;
const HIST_ACK = 0x20;
const HIST_MULTI_FLAG = 0x40;

/**
 * Ports Zeek's default scripts register as likely servers (`likely_server_ports`, filled by the
 * analyzers' register_for_ports); rstlab runs no analyzers, so it takes the ones of Zeek's
 * default analyzers. `zeek -b` loads fewer (and so flips fewer connections).
 */
export const LIKELY_SERVER_PORTS: ReadonlySet<number> = new Set([
  21, 22, 23, 25, 53, 80, 81, 88, 110, 111, 135, 137, 139, 143, 179, 389, 443, 445, 464, 465, 502, 514, 563, 585, 587, 614,
  631, 636, 989, 990, 992, 993, 994, 995, 1080, 1194, 1433, 1723, 1812, 2049, 3128, 3268, 3306, 3389, 5060, 5222, 5223,
  5269, 5432, 5671, 5672, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8443, 8888, 9200, 11211, 20000, 27017,
]);

/** TCPAnalyzer::WantConnection: does Zeek turn a connection around at its first segment? (Only
 *  one that starts without a SYN, or with a SYN-ACK, from a likely server port.) */
export function flipsAtStart(syn: boolean, ack: boolean, srcPort: number, dstPort: number,
  likely: ReadonlySet<number> = LIKELY_SERVER_PORTS): boolean {
  if (syn && !ack) return false;
  if (!likely.has(srcPort)) return false;
  if (likely.has(dstPort)) return !syn && srcPort < dstPort;
  return true;
}

/** The connection's conn_state, from Zeek's endpoints (main.zeek, function conn_state). */
export function zeekConnState(c: ZeekConn): ConnState {
  const o = c.flipPending ? c.resp : c.orig;
  const r = c.flipPending ? c.orig : c.resp;
  return connStateOf(o.zState, r.zState, o.bytes, r.bytes, c.history);
}

/** The pending timer fired and removed the connection: TCPSessionAdapter::ConnDeleteTimer, or
 *  AttemptTimer when, at its time, Zeek's originator is still in SYN_SENT / SYN_ACK_SENT and its
 *  responder INACTIVE. */
function timerFired(c: ZeekConn, now: number): boolean {
  if (c.timerAt < 0 || now < c.timerAt) return false;
  if (c.closeTimer) return true;
  const o = c.flipPending ? c.resp : c.orig;
  const r = c.flipPending ? c.orig : c.resp;
  if ((o.zState === 'SYN_SENT' || o.zState === 'SYN_ACK_SENT') && r.zState === 'INACTIVE') return true;
  c.timerAt = -1; // the timer fired and found the connection answered
  return false;
}

/**
 * Whether Zeek has removed the connection by capture time `now` (its last packet at `last`), so
 * that the next segment on the tuple starts a new one: its AttemptTimer (above), the ConnDeleteTimer
 * set when its close completed, or the inactivity timer once past the handshake
 * (TCP_Endpoint::SetState arms it; Connection::InactivityTimer fires it).
 */
export function zeekRemoved(c: ZeekConn, now: number, last: number): boolean {
  if (now - last >= ZEEK_INACTIVITY_TIMEOUT_SEC && !(isHandshake(c.orig.zState) && isHandshake(c.resp.zState))) return true;
  return timerFired(c, now);
}

/** TCP_Endpoint.cc's is_handshake. */
const isHandshake = (s: EndpointTrack['zState']): boolean => s === 'INACTIVE' || s === 'SYN_SENT' || s === 'SYN_ACK_SENT';

/** TCPSessionAdapter::IsReuse: does this SYN (`ack`: a SYN-ACK) from the sender of `seq` start a
 *  new connection on the tuple? */
export function zeekIsReuse(c: ZeekConn, ack: boolean, seqNumber: number): boolean {
  const seq = seqNumber | 0;
  const o = c.flipPending ? c.resp : c.orig;
  const r = c.flipPending ? c.orig : c.resp;
  let connOrig = o;
  if (ack) {
    if (o.zState !== 'INACTIVE') return false; // not a half connection
    connOrig = r;
  }
  if (!(o.zDidClose || r.zDidClose)) {
    if (seq === connOrig.zStart) return false;
    // The SYN and SYN-ACK reversed on the way (two interfaces): not a reuse.
    if (!ack && connOrig.zState === 'SYN_ACK_SENT' && r.zState === 'INACTIVE' && seq === r.zStart) return false;
  }
  return true;
}

/** Connection::ScaledHistoryEntry with its default base 10: the letter at the 1st, 10th, 100th… */
const scaled = (n: number): boolean => n === 1 || n === 10 || n === 100 || n === 1000 || n === 10000 || n === 100000;

/** Zeek's orientation of rstlab's endpoint `e` (fromOrig: rstlab's). */
const zIsOrig = (c: ZeekConn, fromOrig: boolean): boolean => fromOrig !== c.flipPending;

/** Connection::AddHistory for an endpoint (upper case for Zeek's originator). */
function addHistory(c: ZeekConn, isOrig: boolean, code: string): void {
  c.history = historyWith(c.history, isOrig ? code : code.toLowerCase());
}

/** Short histories, shared: a port scan holds ~150,000 connections at once, nearly all with one
 *  of a few histories ("Sr", "ShR"), which would otherwise be a string each. */
const HISTORIES = new Map<string, string>();
const HISTORIES_MAX = 4096;

function historyWith(h: string, letters: string): string {
  const n = h + letters;
  if (n.length > 12) return n;
  const known = HISTORIES.get(n);
  if (known !== undefined) return known;
  if (HISTORIES.size < HISTORIES_MAX) HISTORIES.set(n, n);
  return n;
}

/** TCP_Endpoint::CheckHistory: a once-only letter; true when it was seen already. Mirrors the flip
 *  of a connection that began with a SYN-ACK at its first A or D (history "H" → "^h"). */
function checkHistory(c: ZeekConn, fromOrig: boolean, mask: number, code: string): boolean {
  if ((code === 'A' || code === 'D') && c.flipPending && c.history === 'H') {
    c.flipPending = false;
    c.history = '^h';
  }
  const isOrig = zIsOrig(c, fromOrig);
  const m = isOrig ? mask : mask << 16;
  if ((c.histSeen & m) === 0) {
    c.histSeen |= m;
    addHistory(c, isOrig, code);
    return false;
  }
  return true;
}

/** TCPSessionAdapter's static update_history. */
function updateHistory(c: ZeekConn, e: EndpointTrack, fromOrig: boolean, flags: number, relSeq: number, len: number): void {
  const syn = (flags & TcpFlag.SYN) !== 0;
  const fin = (flags & TcpFlag.FIN) !== 0;
  const rst = (flags & TcpFlag.RST) !== 0;
  const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
  if (bits > 1) {
    if (fin && rst) checkHistory(c, fromOrig, HIST_FIN_RST, 'I');
    else checkHistory(c, fromOrig, HIST_MULTI_FLAG, 'Q');
  } else if (bits === 1) {
    if (syn) {
      const code = (flags & TcpFlag.ACK) !== 0 ? 'H' : 'S';
      if (checkHistory(c, fromOrig, HIST_SYN, code) && relSeq !== e.zHistSyn) addHistory(c, zIsOrig(c, fromOrig), code);
      e.zHistSyn = relSeq;
    }
    if (fin) {
      // A FIN's number is at the end of its data.
      if (checkHistory(c, fromOrig, HIST_FIN, 'F') && relSeq + len !== e.zHistFin) addHistory(c, zIsOrig(c, fromOrig), 'F');
      e.zHistFin = relSeq + len;
    }
    if (rst) {
      if (checkHistory(c, fromOrig, HIST_RST, 'R') && relSeq !== e.zHistRst) addHistory(c, zIsOrig(c, fromOrig), 'R');
      e.zHistRst = relSeq;
    }
  } else if (len > 0) {
    checkHistory(c, fromOrig, HIST_DATA, 'D');
  } else if ((flags & TcpFlag.ACK) !== 0) {
    checkHistory(c, fromOrig, HIST_ACK, 'A');
  }
}

/** The static init_endpoint: an endpoint's start, on its first segment or a SYN that restarts it. */
function initEndpoint(e: EndpointTrack, syn: boolean, seq: number, onePast: number): void {
  switch (e.zState) {
    case 'INACTIVE':
      if (syn) {
        e.zStart = seq;
        e.zLast = onePast;
      } else {
        // A partial connection: numbered as though its SYN had been seen; its first segment is
        // not a duplicate.
        e.zStart = int32Add(seq, -1);
        e.zLast = seq;
      }
      break;
    case 'SYN_SENT':
    case 'SYN_ACK_SENT':
      if (syn && seq !== e.zStart) { e.zStart = seq; e.zLast = onePast; }
      break;
    case 'ESTABLISHED':
    case 'PARTIAL':
      if (syn) { e.zStart = seq; e.zLast = onePast; }
      break;
    case 'RESET':
      if (syn && e.zPrev === 'INACTIVE') { e.zStart = seq; e.zLast = onePast; }
      break;
    default:
      break;
  }
}

/** TCP_Endpoint::SetState. */
function setState(e: EndpointTrack, s: EndpointTrack['zState']): void {
  if (s !== e.zState) {
    e.zPrev = e.zState;
    e.zState = s;
  }
}

/** ScaledHistoryEntry for T, W, G: TCP_Endpoint::DidRxmit, ZeroWindow, Gap. */
function retransmitted(c: ZeekConn, e: EndpointTrack, fromOrig: boolean): void {
  if (scaled(++e.zRxmt)) addHistory(c, zIsOrig(c, fromOrig), 'T');
}
function zeroWindow(c: ZeekConn, e: EndpointTrack, fromOrig: boolean): void {
  if (scaled(++e.zWin0)) addHistory(c, zIsOrig(c, fromOrig), 'W');
}
function gap(c: ZeekConn, e: EndpointTrack, fromOrig: boolean): void {
  if (scaled(++e.zGap)) addHistory(c, zIsOrig(c, fromOrig), 'G');
}

/** TCP_Endpoint::ChecksumError: a segment with a bad checksum (Zeek without -C), the scaled `C`. */
export function zeekChecksumError(c: ZeekConn, e: EndpointTrack, fromOrig: boolean): void {
  if (scaled(++e.zChk)) addHistory(c, zIsOrig(c, fromOrig), 'C');
}

/** TCP_Reassembler's is_clean, for established_or_cleanly_closing. */
const isClean = (e: EndpointTrack): boolean => e.zState === 'ESTABLISHED' || (e.zState === 'CLOSED' && e.zPrev === 'ESTABLISHED');

/**
 * TCP_Reassembler::AckReceived on the data of `e` (rstlab orientation `fromOrig`), acknowledged up
 * to `relAck`: Reassembler::TrimToSeq → Undelivered → Gap for what was never seen below it.
 */
function ackReceived(c: ZeekConn, e: EndpointTrack, peer: EndpointTrack, fromOrig: boolean, relAck: number): void {
  let seq = relAck;
  if (e.zFinSeq >= 0 && seq >= e.zFinSeq) seq = e.zFinSeq - 1;
  if (seq <= e.zReassem) return;
  // TCP_Reassembler::Undelivered: a partial connection's first ack (its faked-up start) is not a gap.
  if (seq <= 2 && c.zPartial) return;
  const clean = isClean(e) && isClean(peer);
  if (e.zAheadHi > e.zAheadLo && e.zAheadLo < seq) {
    // A block received beyond a hole: the hole is a gap, the block is delivered.
    if (clean) gap(c, e, fromOrig);
    e.zReassem = e.zAheadHi;
    e.zAheadLo = 0;
    e.zAheadHi = 0;
  }
  if (seq > e.zReassem) {
    if (clean) gap(c, e, fromOrig);
    e.zReassem = seq;
  }
}

/** TCP_Endpoint::DataSent → the reassembler: the contiguous edge, and one block beyond a hole. */
function dataSent(e: EndpointTrack, relDataSeq: number, len: number): void {
  const end = relDataSeq + len;
  if (relDataSeq <= e.zReassem) {
    if (end > e.zReassem) e.zReassem = end;
    if (e.zAheadHi > e.zAheadLo && e.zAheadLo <= e.zReassem) {
      if (e.zAheadHi > e.zReassem) e.zReassem = e.zAheadHi;
      e.zAheadLo = 0;
      e.zAheadHi = 0;
    }
  } else if (e.zAheadHi <= e.zAheadLo) {
    e.zAheadLo = relDataSeq;
    e.zAheadHi = end;
  } else if (relDataSeq <= e.zAheadHi && end >= e.zAheadLo) {
    if (relDataSeq < e.zAheadLo) e.zAheadLo = relDataSeq;
    if (end > e.zAheadHi) e.zAheadHi = end;
  }
}

/**
 * One segment (rstlab's orientation: `fromOrig`), as TCPSessionAdapter::Process takes it: its
 * flags, numbers, payload length and raw window; `cut`: its payload was not captured whole (Zeek
 * then skips DataSent: `remaining >= len` fails); `time` its capture time (for the timers).
 */
export function zeekSegment(c: ZeekConn, fromOrig: boolean, flags: number, seqNumber: number, ackNumber: number, len: number,
  window: number, cut: boolean, time: number): void {
  const seq = seqNumber | 0;
  const ack = ackNumber | 0;
  const e = fromOrig ? c.orig : c.resp;
  const peer = fromOrig ? c.resp : c.orig;
  const syn = (flags & TcpFlag.SYN) !== 0;
  const fin = (flags & TcpFlag.FIN) !== 0;
  const rst = (flags & TcpFlag.RST) !== 0;
  const isAck = (flags & TcpFlag.ACK) !== 0;

  // get_segment_len: SYN and FIN take a number each; a RST's payload is not in the stream.
  const segLen = len + (syn ? 1 : 0) + (fin ? 1 : 0) - (rst ? len : 0);
  const onePast = int32Add(seq, segLen);
  initEndpoint(e, syn, seq, onePast);
  const relSeq = seqDiff(seq, e.zStart);
  const seqUnderflow = relSeq < 0;

  updateHistory(c, e, fromOrig, flags, relSeq, len);

  // update_window: a zero window is news unless it comes with or after a RST of its sender's, or
  // after its peer's FIN.
  if (window === 0 && !rst && peer.zState !== 'CLOSED' && e.zState !== 'RESET') zeroWindow(c, e, fromOrig);

  if (fin) e.zFinSeq = relSeq + segLen; // (FIN_cnt > 0: zFinSeq ≥ 0)

  let relAck = 0;
  if (isAck) {
    if (peer.zState === 'INACTIVE') {
      // init_peer: the peer numbered as though its SYN had been seen.
      relAck = 1;
      peer.zStart = int32Add(ack, -1);
      peer.zLast = int32Add(ack, -1);
    } else {
      relAck = seqDiff(ack, peer.zStart);
      if (relAck < 0) relAck = 0; // TCP_ack_underflow_or_misorder
    }
  }

  // update_last_seq: payload at or below the highest number sent is a retransmission.
  const deltaLast = seqDiff(onePast, e.zLast);
  if ((syn || rst) && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
    // untrusted
  } else if (fin && e.zLast === int32Add(e.zStart, 1)) {
    e.zLast = onePast;
  } else if (e.zState === 'RESET') {
    // nothing after a RST is trusted
  } else if (deltaLast > 0) {
    e.zLast = onePast;
  } else if (len > 0) {
    retransmitted(c, e, fromOrig);
  }

  const doClose = updateStateMachine(c, e, peer, fromOrig, flags, seq, len, time);

  if (isAck) ackReceived(c, peer, e, !fromOrig, relAck);

  if (len > 0 && !cut && !rst && !seqUnderflow) dataSent(e, syn ? relSeq + 1 : relSeq, len);

  if (doClose && !e.zDidClose) connectionClosed(c, e, peer, time);
}

/** TCPSessionAdapter::ConnectionClosed (its deferral while data is pending is not followed): once
 *  the close is complete (a RST, both sides closed, or a silent peer) the connection is removed
 *  tcp_close_delay later. */
function connectionClosed(c: ZeekConn, e: EndpointTrack, peer: EndpointTrack, time: number): void {
  e.zDidClose = true;
  const complete = e.zState === 'RESET' || peer.zDidClose || peer.zState === 'INACTIVE';
  if (complete && !c.closeTimer) {
    c.timerAt = time + ZEEK_CLOSE_DELAY_SEC;
    c.closeTimer = true;
  }
}

/** a + n as an int32: Zeek's sequence numbers are held as int32 (the same bits as the uint32),
 *  which V8 keeps unboxed, and compared only through seqDiff. */
const int32Add = (a: number, n: number): number => seqAdd(a, n) | 0;

/** Zeek's TOO_LARGE_SEQ_DELTA (TCP_Endpoint.h). */
const TOO_LARGE_SEQ_DELTA = 1048576;

/** UpdateStateMachine and its Update*State arms; returns do_close. */
function updateStateMachine(c: ZeekConn, e: EndpointTrack, peer: EndpointTrack, fromOrig: boolean, flags: number,
  seq: number, len: number, time: number): boolean {
  const syn = (flags & TcpFlag.SYN) !== 0;
  const fin = (flags & TcpFlag.FIN) !== 0;
  const rst = (flags & TcpFlag.RST) !== 0;
  const isAck = (flags & TcpFlag.ACK) !== 0;
  const isOrig = zIsOrig(c, fromOrig);
  let doClose = false;
  switch (e.zState) {
    case 'INACTIVE': {
      // UpdateInactiveState
      if (syn) {
        if (isOrig) {
          setState(e, isAck ? 'SYN_ACK_SENT' : 'SYN_SENT');
          if (!c.closeTimer) c.timerAt = time + ZEEK_ATTEMPT_DELAY_SEC;
        } else {
          if (!isAck && peer.zState === 'SYN_ACK_SENT' && seq === e.zStart && c.flipPending) {
            // The SYN/SYN-ACK reversal (IsReuse): Zeek flips the connection and establishes it.
            c.zPartial = false;
            c.flipPending = false;
            c.history = historyWith(c.history, '^');
            setState(peer, 'ESTABLISHED');
          }
          if (peer.zState === 'SYN_SENT') setState(peer, 'ESTABLISHED');
          setState(e, 'ESTABLISHED');
        }
      }
      if (fin) {
        setState(e, 'CLOSED');
        doClose = true;
      }
      if (rst) {
        setState(e, 'RESET');
        doClose = true;
      }
      if (e.zState === 'INACTIVE') {
        const zOrig = c.flipPending ? c.resp : c.orig;
        if (!isOrig && len === 0 && zOrig.zState === 'SYN_SENT') {
          // An ACK of the SYN before the SYN-ACK: not a partial connection yet.
        } else if (isAck && peer.zState === 'ESTABLISHED') {
          // The SYN-ACK was seen, the SYN missed: established, not partial.
          setState(e, 'ESTABLISHED');
          c.zPartial = false;
        } else {
          setState(e, 'PARTIAL');
        }
      }
      break;
    }
    case 'SYN_SENT':
    case 'SYN_ACK_SENT':
      // UpdateSYN_SentState
      if (fin) {
        setState(e, 'CLOSED');
        doClose = true;
      }
      if (rst) {
        setState(e, 'RESET');
        doClose = true;
      }
      break;
    case 'ESTABLISHED':
    case 'PARTIAL':
      // UpdateEstablishedState
      if (syn && e.zState === 'PARTIAL' && peer.zState === 'INACTIVE' && !isAck) setState(e, 'SYN_SENT');
      if (fin && !rst) {
        setState(e, 'CLOSED');
        // A FIN, then a RST, from the peer: a normal close after all.
        if (peer.zState === 'RESET' && peer.zPrev === 'CLOSED') setState(peer, 'CLOSED');
        doClose = true;
      }
      if (rst) {
        setState(e, 'RESET');
        doClose = true;
      }
      break;
    case 'CLOSED':
      // UpdateClosedState: after both FINs a RST changes nothing.
      if (rst && peer.zState !== 'CLOSED') {
        setState(e, 'RESET');
        if (!e.zDidClose) doClose = true;
      }
      break;
    case 'RESET':
      // UpdateResetState: only weirds.
      break;
  }
  return doClose;
}
