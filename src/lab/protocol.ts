// The JSON-lines protocol between the lab and its child processes (client drivers and servers).
// Each child gets its configuration as one JSON argument (argv[2] for the Node programs; the last
// argument for the Java and Python drivers), writes one JSON object per line on stdout, and reads
// commands, one per line, on stdin. Anything a child prints on stderr is kept for diagnosis only.

import type { AppOutcome } from '../report/outcome.js';
import type { Software } from '../report/results.js';

/** Client names as they appear in the matrix, results.json and on the command line. */
export const CLIENTS = ['node-net', 'node-http', 'node-https', 'node-http2', 'node-fetch', 'okhttp', 'curl', 'python', 'python-requests', 'python-httpx', 'python-aiohttp', 'go', 'java-httpclient'] as const;
export type ClientName = (typeof CLIENTS)[number];

export interface HostPort { host: string; port: number }

/** What a client driver is asked to do. */
export interface DriverConfig {
  client: ClientName;
  /** `tcp`: raw bytes (node-net only); `http`; `https` (HTTP/1.1 over TLS); `h2` (HTTP/2 over TLS, ALPN). */
  scheme: 'tcp' | 'http' | 'https' | 'h2';
  /** The origin server. */
  target: HostPort;
  /** Request path (http schemes), e.g. `/` or `/large`. */
  path: string;
  /** An HTTP proxy: CONNECT for https/h2; absolute-form request for http (as the client library does it). */
  proxy?: HostPort;
  /**
   * Hold right after the connection is set up (TCP connected; through a proxy, after the CONNECT
   * tunnel; for TLS, before the ClientHello) — the seed's breakpoint. The driver prints
   * `{"event":"connected"}` and waits for the line `go` on stdin.
   */
  pause: boolean;
  /** PEM file of the CA that signed the server's certificate. */
  caFile?: string;
  /** Raw TCP (node-net) behaviour after `go` (or at once without pause). */
  tcp?: {
    /** Bytes to send (UTF-8) after connecting. */
    send?: string;
    /** Read this many bytes, then close the socket. */
    closeAfterBytes?: number;
    /** On that close: stop reading first so unread data stays in the receive queue (Linux then sends RST). */
    leaveUnread?: boolean;
    /** Enable TCP keepalive with this idle time (ms) and wait for the connection to fail. */
    keepAliveMs?: number;
    /** After `send`, shut the sending side down (FIN) and read nothing for this long (ms): the
     *  peer's data fills the receive window; then read until an error or the end. */
    halfCloseReadAfterMs?: number;
    /** Resend `send` this often (ms) until an error, a bounded number of times (`repeat`). */
    repeatEveryMs?: number;
    repeat?: number;
  };
  /**
   * HTTP schemes: a connection reused from the library's own pool (the keep-alive race). The driver
   * makes a first request to `/` and reads its whole response; the connection goes back to the
   * library's pool; the driver prints `{"event":"idle"}` and waits — for the line `go` when `pause`
   * is set (the lab acts in between, e.g. makes the server close the idle connection), else for
   * `idleMs` — then makes the second request to `path` through the same client object, letting the
   * library pick the connection as it does in production. The result is the second request's
   * outcome, with the library's own retries (if any) left on unless `noRetry`. A driver whose
   * library offers no pool says so with `cannotReuse` on its result.
   */
  reuse?: {
    idleMs?: number;
    /** The second request's method; POST (with a small body) is not retried by most libraries. */
    method?: 'GET' | 'POST';
    /** Turn the library's transparent retry off where it has a switch (OkHttp's retryOnConnectionFailure). */
    noRetry?: boolean;
  };
  /** Safety net: the driver gives up and reports `timeout-internal` after this long. */
  timeoutMs: number;
}

export type DriverEvent =
  /** `software`: what the driver runs (read from the library or tool at start-up), when it can tell. */
  | { event: 'ready'; software?: Software }
  /** Connected (when paused: at the pause point); `local` is the client's own address:port of the connection. */
  | { event: 'connected'; local: string; remote: string }
  /** `reuse`: the first response is read and its connection is back in the pool; with `pause`,
   *  the driver now waits for `go`. */
  | { event: 'idle' }
  /** The first response bytes arrived (headers for HTTP). */
  | { event: 'response-started'; status?: number }
  | {
      event: 'result';
      outcome: Outcome;
      timings: { connectMs?: number; totalMs: number };
      /** Set when `pause` was asked for but the client cannot hold at the pause point (curl): it ran without holding. */
      cannotPause?: true;
      /** Set when `reuse` was asked for but the library keeps no pool of connections. */
      cannotReuse?: true;
    };

/** What the application saw, as the client library reported it. */
export type Outcome = AppOutcome;

/** Server programs the lab runs; each is one child process. */
export type ServerKind = 'tcp' | 'http' | 'https' | 'h2' | 'proxy';

export interface ServerConfig {
  kind: ServerKind;
  /** Address to listen on, port 0 for any. */
  listen: HostPort;
  /** TLS certificate and key (PEM files) for https/h2. */
  certFile?: string;
  keyFile?: string;
  /** Raw TCP server behaviour for each accepted connection. */
  tcp?: {
    /** Never read from the socket (data piles up in the receive queue). */
    noRead?: boolean;
    /** Write this many bytes (then hold) or, with `forever`, keep writing until an error. */
    sendBytes?: number;
    /** Keep writing until an error; bounded by `sendBytes` when given, else 64 MiB. */
    forever?: boolean;
    /** Use SO_LINGER {1,0} (abortive close) when told to close. */
    abortOnClose?: boolean;
    /** Do not close our side when the peer's FIN arrives (stay half-open, keep sending on `send`). */
    keepOpenOnFin?: boolean;
    /** Listen but never accept(): connections stay in the kernel's accept queue. */
    noAccept?: boolean;
    /** With noAccept: the listen() backlog (default 16); the queue holds backlog + 1 connections. */
    backlog?: number;
    /** Instead of the Node server: tools/actor.py accepts one connection and runs these steps
     *  (socket options Node cannot set: TCP_LINGER2, TCP_USER_TIMEOUT). */
    actor?: ActorStep[];
  };
  /** Bytes of the `/large` response body; the server writes `largeFirstChunk` bytes, reports
   *  `mid-response` and holds the rest until killed (or `continue`). */
  largeBytes?: number;
  largeFirstChunk?: number;
  /** http/https kinds: close a keep-alive connection after this long idle (Node's
   *  `server.keepAliveTimeout`); default 0, the lab holds connections as long as it likes. */
  keepAliveTimeoutMs?: number;
}

export type ServerEvent =
  | { event: 'listening'; host: string; port: number }
  | { event: 'accepted'; peer: string }
  | { event: 'request'; method: string; path: string; peer: string }
  /** `/large`: headers and the first chunk are written; the server now holds. */
  | { event: 'mid-response'; bytes: number; peer: string }
  /** proxy: a tunnel (CONNECT) or forward to `target` is up for `peer`. */
  | { event: 'tunnel'; peer: string; target: string }
  /** `by`: who ended it (`server` = a close/abort command; `peer` = a FIN or RST came in). `tcp` kind
   *  adds the socket's byte counters. */
  | {
      event: 'closed';
      peer: string;
      how: 'fin' | 'rst' | 'error';
      error?: string;
      by?: 'peer' | 'server';
      bytesRead?: number;
      bytesWritten?: number;
    }
  /** tcp kind: `sendBytes` (or the `forever` cap) were all handed to the kernel. */
  | { event: 'sent'; peer: string; bytes: number }
  | { event: 'error'; message: string; step?: number }
  /** tools/actor.py: step `i` is done; then all of them. */
  | { event: 'step'; i: number; op: ActorStep['op'] }
  | { event: 'done' };

/** One step of tools/actor.py, the lab's Python socket end (randomized runs, and servers that need
 *  socket options Node does not offer). `recv` reads up to N bytes for at most 200 ms. */
export type ActorStep =
  | { op: 'send'; bytes: number }
  /** Without blocking: what the send buffer takes, up to N bytes. */
  | { op: 'send-some'; bytes: number }
  | { op: 'recv'; bytes: number }
  | { op: 'sleep'; ms: number }
  /** SO_LINGER {1,0}: close() resets. */
  | { op: 'linger0' }
  /** TCP_LINGER2 = -1: a close() in FIN-WAIT-2 resets. */
  | { op: 'linger2' }
  | { op: 'user-timeout'; ms: number }
  | { op: 'shutdown'; how: 'wr' | 'rdwr' }
  | { op: 'close' }
  /** Until stdin closes or the lab kills the process. */
  | { op: 'hold' };

/** Commands the lab writes to a server's stdin, one JSON per line. */
export type ServerCommand =
  /** Close every accepted connection (abortively with SO_LINGER 0 when `abortOnClose`). */
  | { cmd: 'close' }
  | { cmd: 'abort' }
  /** http/https kinds: close every idle keep-alive connection now (`server.closeIdleConnections()`),
   *  as a keep-alive timeout would; the server reports `closed` for each. */
  | { cmd: 'close-idle' }
  /** Let a held `/large` response finish. */
  | { cmd: 'continue' }
  /** tcp kind: write this many more bytes on every open connection. */
  | { cmd: 'send'; bytes: number };
