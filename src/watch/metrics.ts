// Prometheus metrics of `rstlab watch --metrics HOST:PORT` (prom-client), for an existing
// Prometheus to scrape at `/metrics`. Contract:
// - `WatchMetrics.observe(record, isLocal)` counts one reset in `rstlab_watch_resets_total` by
//   `direction` (sent: this host's kernel sent it; received: a local socket accepted it; seen:
//   on the wire only), `kernel_reason`, `cause`, `local_port` and `process`, and its connection's
//   age in `rstlab_watch_reset_connection_age_seconds`. `lost(n)` sets the kernel events the trace
//   buffer lost so far (`rstlab_watch_kernel_events_lost_total`).
// - Cardinality is bounded: `kernel_reason` and `cause` are closed sets; `local_port` keeps the
//   first LABEL_VALUES_MAX ports seen and `process` the first LABEL_VALUES_MAX process names, the
//   rest count as `other` (an ephemeral client port never becomes a series of its own once the
//   budget is used; a host's listening ports come first in practice). Empty values are `none`.
// - `serve(host, port)` listens (node:http) and answers GET /metrics; anything else is 404.
//   The watch command binds to 127.0.0.1 unless told another host.

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';
import { parseEndpoint } from '../wire/addr.js';
import type { WatchRecord } from './join.js';

/** Distinct values kept per open-ended label (`local_port`, `process`). */
export const LABEL_VALUES_MAX = 50;

class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}
  value(v: string | null | undefined): string {
    if (v === null || v === undefined || v === '') return 'none';
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max) return 'other';
    this.seen.add(v);
    return v;
  }
}

export class WatchMetrics {
  readonly registry = new Registry();
  private readonly resets = new Counter({
    name: 'rstlab_watch_resets_total',
    help: 'TCP resets seen by rstlab watch, by direction, the kernel\'s reason, the explainer\'s cause, local port and local process',
    labelNames: ['direction', 'kernel_reason', 'cause', 'local_port', 'process'] as const,
    registers: [this.registry],
  });
  private readonly age = new Histogram({
    name: 'rstlab_watch_reset_connection_age_seconds',
    help: 'Age of the connection (first packet seen to the reset) when it was reset',
    buckets: [0.001, 0.01, 0.1, 1, 10, 60, 600, 3600],
    registers: [this.registry],
  });
  private readonly lostEvents = new Counter({
    name: 'rstlab_watch_kernel_events_lost_total',
    help: 'Kernel reset events the trace buffer lost (overrun + dropped)',
    registers: [this.registry],
  });
  private lostSoFar = 0;
  private readonly ports = new BoundedLabel(LABEL_VALUES_MAX);
  private readonly processes = new BoundedLabel(LABEL_VALUES_MAX);

  /** Count one record (`r.count` resets when the kernel counted them); `isLocal` tells the
   *  watched host's addresses (its local port is the label). */
  observe(r: WatchRecord, isLocal: (addr: string) => boolean): void {
    const direction = r.sender === 'this-kernel' ? 'sent' : r.accepted ? 'received' : 'seen';
    const local = direction === 'sent' || isLocal(parseEndpoint(r.from).addr) ? r.from : r.to;
    this.resets.inc({
      direction,
      kernel_reason: r.kernel?.reason ?? 'none',
      cause: r.cause ?? 'none',
      local_port: this.ports.value(String(parseEndpoint(local).port)),
      process: this.processes.value(r.process?.comm),
    }, r.count ?? 1);
    if (r.connection) this.age.observe(r.connection.ageSec);
  }

  /** The trace buffer's lost events so far (a running total). */
  lost(total: number): void {
    if (total > this.lostSoFar) this.lostEvents.inc(total - this.lostSoFar);
    this.lostSoFar = Math.max(this.lostSoFar, total);
  }

  serve(host: string, port: number): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('rstlab watch serves /metrics\n');
        return;
      }
      this.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': this.registry.contentType }).end(text);
      }, (err: Error) => res.writeHead(500).end(err.message));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolve(server); });
    });
  }
}
