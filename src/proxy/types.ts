// The shapes shared by rstlab proxy's fault engine, its I/O shell and its control API.
// Contract: the JSON shapes (ProxyJson, ToxicJson) are Toxiproxy 2.12's, field for field; the
// engine's events and commands are plain data so the engine can be driven without sockets.

/** Toxiproxy's stream names: `upstream` is client -> server, `downstream` is server -> client. */
export type StreamName = 'upstream' | 'downstream';

/** The two sockets of one proxied connection: the accepted one (`client`) and the dialled one. */
export type Side = 'client' | 'upstream';

/** Attribute values as they travel in JSON. Every toxic attribute is a number or a string. */
export type Attributes = Record<string, number | string>;

/** A toxic as Toxiproxy's API shows it (key order as Toxiproxy marshals it). */
export interface ToxicJson {
  attributes: Attributes;
  name: string;
  type: string;
  /** `upstream` or `downstream`, in any case (Toxiproxy keeps the case it was given). */
  stream: string;
  toxicity: number;
}

/** A proxy as Toxiproxy's API shows it. */
export interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  /** Toxiproxy marshals its proxy's (exported, untagged) zerolog Logger field: always `{}`. */
  Logger: Record<string, never>;
  toxics: ToxicJson[];
}

/**
 * How a socket is closed. `fin`: close(2) the descriptor (the kernel sends FIN, or an active RST
 * when unread data is left in the receive queue: `__tcp_close` data_was_unread); `half`:
 * shutdown(SHUT_WR), FIN but keep reading; `rst`: abortive close (SO_LINGER {1,0}, Node's
 * `socket.resetAndDestroy()`), an active RST.
 */
export type CloseMode = 'fin' | 'half' | 'rst';

/** Events the I/O shell feeds into a connection's engine. `now` is in milliseconds (monotonic). */
export type EngineEvent =
  | { type: 'accepted'; now: number }
  | { type: 'connected'; now: number }
  | { type: 'connect-failed'; now: number; error: string }
  | { type: 'data'; now: number; from: Side; chunk: Uint8Array }
  | { type: 'end'; now: number; from: Side }
  | { type: 'error'; now: number; side: Side; error: string }
  | { type: 'timer'; now: number; id: number }
  /** The proxy's toxics changed; `change` says how (Toxiproxy restarts the toxic before it in its chain). */
  | { type: 'toxics'; now: number; toxics: readonly ToxicJson[]; change?: ToxicChange };

/** What changed in a proxy's toxics, for the engine's Toxiproxy restart rules. */
export type ToxicChange = { kind: 'add' | 'update' | 'remove' | 'reset'; name: string };

/** What a fault did, for the event log. */
export interface FaultRecord {
  toxic: string;
  toxicType: string;
  stream: StreamName;
  /** What happened on the wire (or to the data), e.g. `rst client+upstream`, `fin client`, `drop`. */
  action: string;
  /** Which seed claim the fault imitates, when it imitates one. */
  claim?: string;
  detail?: string;
}

/** Commands the engine gives the I/O shell. */
export type Command =
  | { type: 'connect-upstream' }
  | { type: 'read'; side: Side; on: boolean }
  | { type: 'write'; to: Side; chunk: Uint8Array }
  | { type: 'close'; side: Side; mode: CloseMode }
  | { type: 'set-timer'; id: number; ms: number }
  | { type: 'fault'; fault: FaultRecord }
  /** The engine is done: both sockets are closed or being closed; the shell forgets it. */
  | { type: 'finished' };
