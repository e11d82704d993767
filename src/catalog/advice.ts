// What to do about a reset, per wire cause — advice lives with the causes, never with one error
// message: the same message can come from several causes and the catalog (build.ts) says which.
// Besides the RST causes of src/explain/causes.ts there are two wire signatures without a RST that
// applications also report as errors: the peer closed with FIN (`peer-closed`), or nothing came
// back (`silent`). Contract: data only; every WireCause has an entry (the Record type makes a
// missing one a compile error).

import { CAUSES } from '../explain/causes.js';
import type { Advice, WireCause } from './types.js';

export const WIRE_ONLY = {
  'peer-closed': {
    title: 'the peer closed with FIN, no RST',
    meaning: 'The other side closed the connection normally (FIN) before the exchange was complete: its process exited or closed the socket, with nothing unread; the client found the stream ended early.',
  },
  silent: {
    title: 'nothing came back',
    meaning: 'No RST and no FIN reached the client: the peer or the path went silent and the client gave up on its own timer.',
  },
} as const;

export const ADVICE: Record<WireCause, Advice> = {
  refused: {
    retry: 'safe',
    retryWhy: 'the connection was never set up, so no request reached the server; retry with backoff while the service starts.',
    change: [
      'check host and port, and that the service is running and listening on that address (0.0.0.0 or the right interface, not only 127.0.0.1)',
      'during deploys and restarts, retry connects with backoff or drain before stopping the old process',
      'a firewall rule `REJECT --reject-with tcp-reset` looks the same: check the path',
    ],
  },
  abort: {
    retry: 'idempotent-only',
    retryWhy: 'the peer had the connection and may already have acted on the request before it aborted.',
    change: [
      'on the side that reset: read the whole request before closing (closing with unread data sends RST instead of FIN), do not set SO_LINGER {1,0} unless meant',
      'look for a crash, an OOM kill or a killed socket (ss -K) on that side at the time of the reset',
      'if the server limits request size or time, make it answer with an HTTP error instead of dropping the connection',
    ],
  },
  'reset-after-close': {
    retry: 'safe',
    retryWhy: 'the peer had already closed (sent FIN) before the data arrived, so the data that drew the RST was never processed — this is the stale keep-alive connection case that clients retry automatically.',
    change: [
      'reused idle connections: make the client\'s pool idle timeout shorter than the server\'s (or proxy\'s) keep-alive timeout',
      'enable the client\'s retry on connection failure for requests that were never answered (OkHttp retryOnConnectionFailure, the default)',
      'if the server process died (FIN with no response), find out why: crash, restart, deploy',
    ],
  },
  'no-connection': {
    retry: 'idempotent-only',
    retryWhy: 'the segment that drew the RST reached no socket, but earlier parts of the exchange on that connection may have been processed before the state was lost.',
    change: [
      'the peer lost the connection: a restart or crash, a load balancer or NAT that dropped idle state — keep idle connections shorter than the shortest idle timeout on the path, or enable TCP keepalive',
      'after a restart the client keeps sending on dead connections: close pooled connections on the first error and reconnect',
      'check that all packets of a connection reach the same backend (ECMP/NAT rehashing)',
    ],
  },
  timeout: {
    retry: 'idempotent-only',
    retryWhy: 'nothing was heard from the peer for a while: the request may or may not have been processed.',
    change: [
      'the peer or the path became unreachable: check routes, firewalls that drop silently, and the peer\'s health',
      'tune keepalive (idle, interval, probes) or TCP_USER_TIMEOUT to detect dead peers as fast as you need',
    ],
  },
  middlebox: {
    retry: 'no',
    retryWhy: 'something on the path forged the reset; the same request through the same path is likely reset again.',
    change: [
      'find the firewall, IDS, proxy or load balancer that injects resets (its TTL differs from the endpoint\'s) and its rule',
      'the real endpoint may still hold the connection open: look at both ends',
    ],
  },
  'out-of-window': {
    retry: 'not-needed',
    retryWhy: 'the receiver must ignore this reset (RFC 5961) and the connection goes on.',
    change: [
      'if the application still failed, the RST is not why: look at the rest of the capture',
      'repeated blind resets are an attack or a confused middlebox: find their source',
    ],
  },
  unexplained: {
    retry: 'idempotent-only',
    retryWhy: 'the cause is unknown, so assume the request may have been processed.',
    change: ['run `rstlab explain` on a capture from both ends and compare'],
  },
  'peer-closed': {
    retry: 'idempotent-only',
    retryWhy: 'the peer closed before the exchange ended: if it closed an idle reused connection the request was never processed (safe), but a response cut short means it may have been.',
    change: [
      'if the connection was idle and reused: make the client\'s pool idle timeout shorter than the server\'s keep-alive timeout',
      'if the response was cut short: the server process exited or closed early — look at its logs at that time',
    ],
  },
  silent: {
    retry: 'idempotent-only',
    retryWhy: 'the client gave up without hearing from the peer: the request may have been processed.',
    change: [
      'check reachability of the peer (routes, firewalls that drop without answering)',
      'set connect, read and overall timeouts that match what the caller can wait for',
    ],
  },
};

/** Title and meaning of a wire cause (RST causes from causes.ts). */
export function wireCauseInfo(c: WireCause): { title: string; meaning: string } {
  if (c === 'peer-closed' || c === 'silent') return WIRE_ONLY[c];
  return { title: CAUSES[c].title, meaning: CAUSES[c].meaning };
}
