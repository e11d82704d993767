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

// --- Linux's own reasons (tracepoint tcp:tcp_send_reset, `enum sk_rst_reason`, Linux ≥ 6.10) ---
// Every RST a Linux TCP stack sends carries one of these in the kernel; the lab records them
// (lab/kernel-trace.ts) and checks the explainer against them. From packets alone the explainer
// names the reasons a Linux sender could have logged for what it saw (`linuxReasons`), and the
// reason itself (`linuxReason`) when only one fits. Cause ↔ reason, and why they are not one-to-one
// (each row checked on this machine's kernel; docs/explain.md, "Linux's reason"):
//
// | cause             | reasons a Linux sender logs                  | why more than one / what tells them apart |
// |-------------------|----------------------------------------------|-------------------------------------------|
// | refused           | NO_SOCKET                                    | tcp_v4_rcv finds no socket for the SYN. A firewall REJECT looks the same and logs nothing. |
// | no-connection     | NO_SOCKET, TCP_FLAGS, TCP_ABORT_ON_DATA      | no socket at all (NO_SOCKET), or a listener that has no request for this ACK (TCP_FLAGS, tcp_v4_do_rcv → tcp_rcv_state_process on a LISTEN socket); the packets do not show whether a listener exists. Or the application closed with data still unsent, its FIN queued behind it (FIN-WAIT-1 with no FIN on the wire yet: TCP_ABORT_ON_DATA), first when the sender was sending under a second before (found by `rstlab lab --random`). |
// |                   | TCP_TIMEWAIT_SOCKET, NO_SOCKET, TCP_ABORT_ON_DATA | when the sender had sent FIN: its TIME_WAIT socket answers (tcp_timewait_state_process → TCP_TW_RST), or it is gone, or — the FIN not yet acknowledged — the data crossed the FIN and reached the closed socket (FIN-WAIT-1, first then; found by `rstlab lab --random`). |
// |                   | INVALID_SYN, TCP_FLAGS, NO_SOCKET            | the handshake's last ACK refused (sender in SYN-RECEIVED): accept queue full with tcp_abort_on_overflow (INVALID_SYN), request gone (TCP_FLAGS), listener closed (NO_SOCKET). |
// |                   | NO_SOCKET, TCP_FLAGS, TCP_TIMEWAIT_SOCKET    | when the sender closed second (its FIN acked the peer's) and its FIN was acknowledged: LAST-ACK ends in CLOSED without a TIME_WAIT socket, so nothing or the listener answers; TIME_WAIT only when both FINs crossed (CLOSING), which the capture's order may hide. |
// |                   | TCP_INVALID_ACK_SEQUENCE                     | a SYN-SENT socket answering an ACK that does not ack its SYN (tcp_rcv_synsent_state_process): a SYN-ACK for another SYN, or the peer's challenge ACK for a half-open older connection (RFC 5961 §4; `rstlab lab` half-open-reconnect). |
// | reset-after-close | TCP_ABORT_ON_DATA                            | data after our FIN while the FIN is unacknowledged (FIN-WAIT-1: tcp_rcv_state_process, "RFC 1122 says we MUST send a reset"). |
// |                   | + TCP_TIMEWAIT_SOCKET, NO_SOCKET             | once the FIN is acknowledged it depends on sysctls no capture shows: with tcp_fin_timeout ≤ 60 s the orphan became a TIME_WAIT socket (TCP_TIMEWAIT_SOCKET), else it stayed a full socket (TCP_ABORT_ON_DATA); past tcp_fin_timeout or the TIME_WAIT period it is gone (NO_SOCKET, first after 60 s). |
// | abort             | TCP_ABORT_ON_CLOSE, TCP_STATE, TCP_DISCONNECT_WITH_DATA, TCP_ABORT_ON_MEMORY | close() with unread data (__tcp_close), SO_LINGER {1,0}/ss -K/connect(AF_UNSPEC) (tcp_disconnect, tcp_abort), unsent data in CLOSING/LAST-ACK, memory pressure: the same RST+ACK at SND.NXT. Reads are invisible; only "the peer never sent data" rules out TCP_ABORT_ON_CLOSE. |
// |                   | + TCP_ABORT_ON_LINGER                        | after the sender's FIN: close() in FIN-WAIT-2 with TCP_LINGER2 < 0. |
// | timeout           | TCP_KEEPALIVE_TIMEOUT                        | tcp_keepalive_timer; Linux sends nothing when retransmissions run out, so a RST after retransmissions only is not Linux's. |
// | middlebox, out-of-window, unexplained | none                 | not sent by the endpoint's own TCP as far as the packets tell (a middlebox, a stale or blind RST), or no rule fits. |
//
// None at all when the RST's TTL / hop limit is above 64: Linux starts at 64 (Windows 128, most
// network devices 255), so such a sender is not Linux.

export const LINUX_RST_REASONS = [
  'NOT_SPECIFIED', 'NO_SOCKET', 'TCP_INVALID_ACK_SEQUENCE', 'TCP_RFC7323_PAWS', 'TCP_TOO_OLD_ACK',
  'TCP_ACK_UNSENT_DATA', 'TCP_FLAGS', 'TCP_OLD_ACK', 'TCP_ABORT_ON_DATA', 'TCP_TIMEWAIT_SOCKET',
  'INVALID_SYN', 'TCP_ABORT_ON_CLOSE', 'TCP_ABORT_ON_LINGER', 'TCP_ABORT_ON_MEMORY', 'TCP_STATE',
  'TCP_KEEPALIVE_TIMEOUT', 'TCP_DISCONNECT_WITH_DATA', 'ERROR',
] as const;

export type LinuxRstReason = (typeof LINUX_RST_REASONS)[number];

/** The reasons tcp_send_active_reset logs: a live socket's own RST, always with ACK at SND.NXT
 *  (every other reason is logged by tcp_v4_send_reset / tcp_v6_send_reset, built from a segment). */
export const LINUX_ACTIVE_RESET_REASONS: ReadonlySet<string> = new Set<LinuxRstReason>([
  'TCP_ABORT_ON_CLOSE', 'TCP_ABORT_ON_LINGER', 'TCP_ABORT_ON_MEMORY', 'TCP_STATE', 'TCP_KEEPALIVE_TIMEOUT', 'TCP_DISCONNECT_WITH_DATA',
]);
