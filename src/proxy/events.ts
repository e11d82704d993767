// Observability for rstlab proxy: a JSON event log (connection opened, fault fired, connection
// closed, upstream unreachable), kept in a bounded ring in memory and optionally appended as JSON
// lines to a file (synchronously: a failed append throws from add()), plus counters per proxy and
// per toxic. No sockets here. Each event gets the next seq (1, 2, …); list() gives at most the
// newest `capacity` of them, and memory holds at most twice that many.

import { appendFileSync } from 'node:fs';
import type { FaultRecord } from './types.js';

export type ProxyEventKind = 'open' | 'fault' | 'close' | 'upstream-error';

/** One line of the event log. */
export interface ProxyEvent {
  seq: number;
  /** ISO 8601 wall-clock time. */
  time: string;
  proxy: string;
  /** Connection id, unique within this rstlab proxy process. */
  conn: number;
  /** The client's address as ip:port. */
  client: string;
  event: ProxyEventKind;
  /** For `fault`: which toxic fired and what it did. */
  fault?: FaultRecord;
  /** For `close`: bytes relayed each way; for `upstream-error`: the error code. */
  bytesUp?: number;
  bytesDown?: number;
  error?: string;
}

export interface ProxyCounters {
  connectionsTotal: number;
  connectionsActive: number;
  bytesUpstream: number;
  bytesDownstream: number;
  upstreamErrors: number;
  /** Faults fired, by toxic name. */
  faults: Record<string, number>;
}

export const emptyCounters = (): ProxyCounters =>
  ({ connectionsTotal: 0, connectionsActive: 0, bytesUpstream: 0, bytesDownstream: 0, upstreamErrors: 0, faults: {} });

export class EventLog {
  private ring: ProxyEvent[] = [];
  private seq = 0;
  private readonly listeners = new Set<(e: ProxyEvent) => void>();
  constructor(private readonly capacity = 10_000, private readonly file?: string) {}

  add(e: Omit<ProxyEvent, 'seq' | 'time'>): ProxyEvent {
    const ev: ProxyEvent = { seq: ++this.seq, time: new Date().toISOString(), ...e };
    this.ring.push(ev);
    if (this.ring.length >= 2 * this.capacity) this.ring = this.ring.slice(-this.capacity);
    if (this.file) appendFileSync(this.file, JSON.stringify(ev) + '\n');
    for (const l of this.listeners) l(ev);
    return ev;
  }

  /** Events with seq > since, optionally for one proxy. */
  list(since = 0, proxy?: string): ProxyEvent[] {
    const ring = this.ring.length > this.capacity ? this.ring.slice(-this.capacity) : this.ring;
    return ring.filter((e) => e.seq > since && (proxy === undefined || e.proxy === proxy));
  }

  on(fn: (e: ProxyEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
