// rstlab proxy's Node API: startProxy() starts the Toxiproxy-compatible control API (loopback
// :8474 by default) and, from a config (Toxiproxy's populate format), its proxies; the returned
// handle gives the collection, the event log, per-proxy captures, and stop(). A config that cannot
// be read or applied rejects with InputError, and a control API that cannot listen with its own
// error; either way the proxies already made are stopped first. `toxiproxy: true` is the
// compatibility mode: Toxiproxy 2.12's behaviour where rstlab deliberately differs (docs/proxy.md).

import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { ProxyApiError } from './api-error.js';
import { ProxyCollection, serveControlApi, type ProxyConfig } from './api.js';
import { explainCaptureFile, startTcpdump, type ExplainedRst } from './capture.js';
import { EventLog } from './events.js';
import type { ProxyInstance } from './proxy.js';

export { ProxyCollection, API_VERSION, RSTLAB_VERSION, route, type ProxyConfig } from './api.js';
export { ProxyApiError } from './api-error.js';
export { ConnectionEngine } from './engine.js';
export { EventLog, type ProxyEvent, type ProxyCounters } from './events.js';
export { ProxyInstance } from './proxy.js';
export { TOXICS, toxicDef } from './toxics.js';
export type * from './types.js';

export interface StartProxyOptions {
  /** Control API host (default 127.0.0.1: loopback unless told). */
  host?: string;
  /** Control API port (default 8474; 0 picks a free one). */
  port?: number;
  /** Proxies to create at start: a JSON file path or the array itself (Toxiproxy's populate format). */
  config?: string | ProxyConfig[];
  /** Append every event as a JSON line to this file. */
  eventsFile?: string;
  /** Events kept in memory (default 10,000). */
  eventCapacity?: number;
  /** Compatibility mode: Toxiproxy 2.12's behaviour where rstlab deliberately differs. */
  toxiproxy?: boolean;
}

export interface ProxyCapture {
  file: string;
  /** Stop capturing (tcpdump flushes the file). */
  stop(): Promise<void>;
  /** Stop if needed, then run the explainer on the file. */
  explain(): Promise<{ rsts: ExplainedRst[] }>;
}

export interface RunningProxy {
  url: string;
  host: string;
  port: number;
  collection: ProxyCollection;
  events: EventLog;
  proxy(name: string): ProxyInstance;
  /** Capture the proxy's traffic on both of its ports (listen and upstream) on lo. */
  capture(name: string, file: string): Promise<ProxyCapture>;
  stop(): Promise<void>;
}

export async function loadConfig(config: string | ProxyConfig[]): Promise<unknown> {
  if (typeof config !== 'string') return config;
  let text: string;
  try { text = await readFile(config, 'utf8'); } catch (e) {
    throw new InputError(`cannot read config ${config}: ${(e as Error).message}`);
  }
  try { return JSON.parse(text); } catch (e) {
    throw new InputError(`config ${config} is not JSON: ${(e as Error).message}`, 'it must be an array of {name, listen, upstream, enabled}');
  }
}

export async function startProxy(opts: StartProxyOptions = {}): Promise<RunningProxy> {
  const events = new EventLog(opts.eventCapacity ?? 10_000, opts.eventsFile);
  const collection = new ProxyCollection(events, { toxiproxy: opts.toxiproxy });
  if (opts.config !== undefined) {
    try {
      const r = await collection.populate(await loadConfig(opts.config));
      if (r.error) throw r.error;
    } catch (e) {
      await collection.stopAll();
      if (e instanceof ProxyApiError) throw new InputError(`config: ${e.message}`);
      throw e;
    }
  }
  let control;
  try {
    control = await serveControlApi(collection, opts.host ?? '127.0.0.1', opts.port ?? 8474);
  } catch (e) {
    await collection.stopAll();
    throw e;
  }
  const captures = new Set<ProxyCapture>();
  return {
    url: control.url,
    host: control.host,
    port: control.port,
    collection,
    events,
    proxy: (name) => collection.get(name),
    capture: async (name, file) => {
      const p = collection.get(name);
      const listenPort = Number(p.listen.slice(p.listen.lastIndexOf(':') + 1));
      const upPort = Number(p.upstream.slice(p.upstream.lastIndexOf(':') + 1));
      const td = await startTcpdump(file, `tcp port ${listenPort} or tcp port ${upPort}`);
      const cap: ProxyCapture = {
        file,
        stop: async () => { captures.delete(cap); await td.stop(); },
        explain: async () => { await cap.stop(); return explainCaptureFile(file); },
      };
      captures.add(cap);
      return cap;
    },
    stop: async () => {
      for (const c of [...captures]) await c.stop();
      await collection.stopAll();
      await control.close();
    },
  };
}
