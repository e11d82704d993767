// Zeek's conn_state (base/protocols/conn/main.zeek, function `conn_state`): one code per
// connection, derived from the two endpoints' final states, their payload bytes and the history.
// `connStateOf` is Zeek's rule, branch for branch, over Zeek's endpoint states (the tracker follows
// them in zeek-conn.ts); `connState` reads the code the tracker gave a finalized Connection.

import type { Connection, EndpointState } from './types.js';

/** Zeek's conn_state codes, with their meanings as Zeek's conn.log documents them. */
export type ConnState =
  /** Connection attempt seen, no reply. */
  | 'S0'
  /** Connection established, not terminated. */
  | 'S1'
  /** Normal establishment and termination. */
  | 'SF'
  /** Connection attempt rejected. */
  | 'REJ'
  /** Connection established and close attempt by originator seen (but no reply from responder). */
  | 'S2'
  /** Connection established and close attempt by responder seen (but no reply from originator). */
  | 'S3'
  /** Connection established, originator aborted (sent a RST). */
  | 'RSTO'
  /** Responder sent a RST. */
  | 'RSTR'
  /** Originator sent a SYN followed by a RST, never saw a SYN-ACK from the responder. */
  | 'RSTOS0'
  /** Responder sent a SYN-ACK followed by a RST, never saw a SYN from the (purported) originator. */
  | 'RSTRH'
  /** Originator sent a SYN followed by a FIN, never saw a SYN-ACK from the responder (half open). */
  | 'SH'
  /** Responder sent a SYN-ACK followed by a FIN, never saw a SYN from the originator. */
  | 'SHR'
  /** No SYN seen, just midstream traffic (one example: a partial connection not later closed). */
  | 'OTH';

/** The conn_state of a finalized connection (the tracker's, from Zeek's endpoint states). */
export function connState(c: Connection): ConnState {
  return c.connState;
}

/** `connState` from the parts it reads: the endpoint states, their payload bytes and the history. */
export function connStateOf(os: EndpointState, rs: EndpointState, origBytes: number, respBytes: number, history: string): ConnState {
  const oInactive = os === 'INACTIVE' || os === 'PARTIAL';
  const rInactive = rs === 'INACTIVE' || rs === 'PARTIAL';
  if (rs === 'RESET') {
    if (os === 'SYN_SENT' || os === 'SYN_ACK_SENT' || (os === 'RESET' && origBytes === 0 && respBytes === 0)) return 'REJ';
    if (oInactive) return 'RSTRH';
    return 'RSTR';
  }
  if (os === 'RESET') {
    if (rInactive) return /^\^?S[^HAFGIQ]*R/.test(history) ? 'RSTOS0' : 'OTH';
    return 'RSTO';
  }
  if (rs === 'CLOSED' && os === 'CLOSED') return 'SF';
  if (os === 'CLOSED') return rInactive ? 'SH' : 'S2';
  if (rs === 'CLOSED') return oInactive ? 'SHR' : 'S3';
  if (os === 'SYN_SENT' && rs === 'INACTIVE') return 'S0';
  if (os === 'ESTABLISHED' && rs === 'ESTABLISHED') return 'S1';
  return 'OTH';
}
