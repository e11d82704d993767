// The closed set of RST cause codes — the one place they are documented. Every RST rstlab sees
// gets exactly one of these. The codes are part of rstlab's interface (JSON output, results.json,
// the error catalog): add one only with a reason, never rename.

export const CAUSES = {
  refused: {
    title: 'port refused the connection',
    seed: 'C1',
    meaning: 'The RST answers a SYN: nothing listens on that port (or a firewall rejects it the same way).',
    kernel: 'tcp_v4_rcv finds no socket → tcp_v4_send_reset(NULL, skb): RST+ACK, seq 0, ack = SEG.SEQ + SEG.LEN (ISN+1 for a SYN without data; RFC 9293 §3.10.7.1)',
  },
  abort: {
    title: 'the sender aborted the connection',
    seed: 'C2, C5',
    meaning: 'An endpoint with a live socket dropped the connection without FIN: it closed with unread data in its receive queue, closed with SO_LINGER {1,0}, or the socket was killed.',
    kernel: '__tcp_close (data_was_unread) / tcp_disconnect / tcp_abort → tcp_send_active_reset: RST+ACK at SND.NXT',
  },
  'reset-after-close': {
    title: 'data arrived after the sender had closed',
    seed: 'C2a, C2c',
    meaning: 'The sender had already sent its FIN (its application closed); data or a FIN that reached it afterwards is answered with a RST, as RFC 1122 requires.',
    kernel: 'tcp_rcv_state_process, FIN_WAIT1/2 with RCV_SHUTDOWN ("RFC 1122 says we MUST send a reset"), or tcp_timewait_state_process → TCP_TW_RST',
  },
  'no-connection': {
    title: 'the sender has no such connection',
    seed: 'C3',
    meaning: 'The sender has no state at all for this connection — socket destroyed, process or host restarted, NAT or firewall state lost, or already reset — and answers a segment with a RST whose sequence number is that segment\'s ACK.',
    kernel: 'tcp_v4_rcv finds no socket → tcp_v4_send_reset(NULL, skb): RST, seq = SEG.ACK (RFC 9293 §3.10.7.1)',
  },
  timeout: {
    title: 'the sender gave up after unanswered probes or retransmissions',
    seed: 'C4',
    meaning: 'The sender\'s keepalive probes (or, on BSD-derived stacks, its retransmissions) went unanswered; it reset the connection to release it. Linux sends nothing when retransmissions run out.',
    kernel: 'tcp_keepalive_timer → tcp_send_active_reset after tcp_keepalive_probes; BSD tcp_timer_rexmt → tcp_drop',
  },
  middlebox: {
    title: 'forged by something on the path',
    seed: '—',
    meaning: 'The RST claims to come from the endpoint but its IP TTL/hop limit (or TOS) disagrees with the endpoint\'s own packets: a firewall, load balancer or censor injected it. The real endpoint may still think the connection is open.',
    kernel: 'netfilter nf_send_reset (REJECT --reject-with tcp-reset): TOS 0, TTL from the firewall\'s hop',
  },
  'out-of-window': {
    title: 'a RST the receiver must ignore',
    seed: '—',
    meaning: 'The RST\'s sequence number is not exactly the receiver\'s next expected one: RFC 5961 says to drop it (outside the window) or answer with a challenge ACK (inside), and keep the connection.',
    kernel: 'tcp_validate_incoming → tcp_send_challenge_ack (RFC 5961 §3.2)',
  },
  unexplained: {
    title: 'no known cause fits',
    seed: '—',
    meaning: 'None of the rules above fits; the evidence still says what was seen.',
    kernel: '—',
  },
} as const;

export type Cause = keyof typeof CAUSES;
export const CAUSE_CODES = Object.keys(CAUSES) as Cause[];
export type Confidence = 'high' | 'medium' | 'low';
