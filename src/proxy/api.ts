// The Toxiproxy-compatible control API: the proxy collection (create, populate, update, delete,
// reset, toxics) and its HTTP server. Same routes, JSON shapes, status codes and error bodies as
// Toxiproxy 2.x (api.go); rstlab adds GET /events, GET /proxies/{proxy}/stats and GET /toxic-types.
// Browsers (a User-Agent starting `Mozilla/`) are refused (403), as Toxiproxy refuses them, so a web
// page cannot drive a loopback control API.

import http from 'node:http';
import { ProxyApiError, badRequestBody, missingField, proxyAlreadyExists, proxyNotFound, toxicNotFound } from './api-error.js';
import { EventLog } from './events.js';
import { ProxyInstance, splitHostPort } from './proxy.js';
import { isRecord, parseToxicCreate, parseToxicUpdate, TOXICS } from './toxics.js';
import type { ProxyJson, ToxicJson } from './types.js';

/** The version /version reports: Toxiproxy's API level, then rstlab's. */
export const API_VERSION = '2.12.0-rstlab.0.1.0';

/** A proxy as written in a config file or a populate body. */
export interface ProxyConfig {
  name: string;
  listen?: string;
  upstream: string;
  enabled?: boolean;
}

function stringField(o: Record<string, unknown>, key: string, dflt: string): string {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') throw badRequestBody(`${key} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function boolField(o: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw badRequestBody(`${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export class ProxyCollection {
  readonly proxies = new Map<string, ProxyInstance>();
  constructor(readonly events: EventLog) {}

  list(): Record<string, ProxyJson> {
    const out: Record<string, ProxyJson> = {};
    for (const [name, p] of this.proxies) out[name] = p.toJSON();
    return out;
  }

  get(name: string): ProxyInstance {
    const p = this.proxies.get(name);
    if (!p) throw proxyNotFound();
    return p;
  }

  async create(body: unknown): Promise<ProxyInstance> {
    if (!isRecord(body)) throw badRequestBody('expected a JSON object');
    const name = stringField(body, 'name', '');
    const listen = stringField(body, 'listen', '');
    const upstream = stringField(body, 'upstream', '');
    const enabled = boolField(body, 'enabled', true);
    if (name === '') throw missingField('name');
    if (upstream === '') throw missingField('upstream');
    if (this.proxies.has(name)) throw proxyAlreadyExists();
    const p = new ProxyInstance(name, listen === '' ? '127.0.0.1:0' : listen, upstream, this.events);
    if (enabled) await p.start();
    this.proxies.set(name, p);
    return p;
  }

  /** Create or replace a list of proxies; all are checked before anything changes (Toxiproxy's PopulateJson). */
  async populate(body: unknown): Promise<ProxyInstance[]> {
    if (!Array.isArray(body)) throw badRequestBody('expected a JSON array of proxies');
    const wanted: Array<{ name: string; listen: string; upstream: string; enabled: boolean }> = [];
    const names = new Set<string>();
    body.forEach((item, i) => {
      if (!isRecord(item)) throw badRequestBody(`proxy ${i + 1} must be a JSON object`);
      const name = stringField(item, 'name', '');
      const upstream = stringField(item, 'upstream', '');
      const listen = stringField(item, 'listen', '') || '127.0.0.1:0';
      const enabled = boolField(item, 'enabled', true);
      if (name === '') throw missingField(`name at proxy ${i + 1}`);
      if (upstream === '') throw missingField(`upstream at proxy ${i + 1}`);
      // Toxiproxy answers this one without a status of its own, hence 500.
      if (names.has(name)) throw new ProxyApiError(`duplicate proxy name ${JSON.stringify(name)}`, 500);
      names.add(name);
      if (enabled) splitHostPort(listen, 'listen');
      wanted.push({ name, listen, upstream, enabled });
    });
    const out: ProxyInstance[] = [];
    for (const w of wanted) {
      const old = this.proxies.get(w.name);
      if (old && old.listen === w.listen && old.upstream === w.upstream) { out.push(old); continue; }
      if (old) { await old.stop(); this.proxies.delete(w.name); }
      const p = new ProxyInstance(w.name, w.listen, w.upstream, this.events);
      if (w.enabled) await p.start();
      this.proxies.set(w.name, p);
      out.push(p);
    }
    return out;
  }

  async update(name: string, body: unknown): Promise<ProxyInstance> {
    const p = this.get(name);
    if (!isRecord(body)) throw badRequestBody('expected a JSON object');
    const listen = stringField(body, 'listen', p.listen);
    const upstream = stringField(body, 'upstream', p.upstream);
    const enabled = boolField(body, 'enabled', p.enabled);
    if (listen !== p.listen || upstream !== p.upstream) {
      // Changing the addresses restarts the proxy and drops its connections.
      await p.stop();
      p.listen = listen;
      p.upstream = upstream;
    }
    if (enabled && !p.enabled) await p.start();
    if (!enabled && p.enabled) await p.stop();
    return p;
  }

  async remove(name: string): Promise<void> {
    const p = this.get(name);
    this.proxies.delete(name);
    await p.stop();
  }

  /** Enable every proxy and remove every toxic. */
  async reset(): Promise<void> {
    for (const p of this.proxies.values()) {
      await p.start();
      p.setToxics([]);
    }
  }

  addToxic(proxy: string, body: unknown): ToxicJson {
    const p = this.get(proxy);
    const t = parseToxicCreate(body, (n) => p.toxics.some((x) => x.name === n));
    p.setToxics([...p.toxics, t]);
    return t;
  }

  getToxic(proxy: string, name: string): ToxicJson {
    const t = this.get(proxy).toxics.find((x) => x.name === name);
    if (!t) throw toxicNotFound();
    return t;
  }

  updateToxic(proxy: string, name: string, body: unknown): ToxicJson {
    const p = this.get(proxy);
    const t = parseToxicUpdate(p.toxics.find((x) => x.name === name), body);
    p.setToxics(p.toxics.map((x) => (x.name === name ? t : x)));
    return t;
  }

  removeToxic(proxy: string, name: string): void {
    const p = this.get(proxy);
    if (!p.toxics.some((x) => x.name === name)) throw toxicNotFound();
    p.setToxics(p.toxics.filter((x) => x.name !== name));
  }

  async stopAll(): Promise<void> {
    for (const p of this.proxies.values()) await p.stop();
  }
}

interface Reply { status: number; body?: unknown; text?: string }

const MAX_BODY = 1 << 20;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_BODY) { reject(badRequestBody('body larger than 1 MiB')); req.destroy(); return; }
      parts.push(b);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') throw badRequestBody('EOF');
  try { return JSON.parse(text); } catch (e) { throw badRequestBody((e as Error).message); }
}

/** Route one request. Exported for tests that do not need a socket. */
export async function route(c: ProxyCollection, method: string, rawUrl: string, bodyText: () => Promise<string>): Promise<Reply> {
  const url = new URL(rawUrl, 'http://x');
  const seg = url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  const body = async () => parseJson(await bodyText());
  const is = (m: string) => method === m;
  const update = is('POST') || is('PATCH');
  try {
    if (seg.length === 1 && seg[0] === 'version' && is('GET')) return { status: 200, text: `{"version": "${API_VERSION}"}\n` };
    if (seg.length === 1 && seg[0] === 'reset' && is('POST')) { await c.reset(); return { status: 204 }; }
    if (seg.length === 1 && seg[0] === 'populate' && is('POST')) {
      try {
        const ps = await c.populate(await body());
        return { status: 201, body: { proxies: ps.map((p) => p.toJSON()) } };
      } catch (e) {
        if (e instanceof ProxyApiError) return { status: e.status, body: { ...e.toJSON(), proxies: null } };
        throw e;
      }
    }
    if (seg.length === 1 && seg[0] === 'events' && is('GET')) {
      const since = Number(url.searchParams.get('since') ?? 0) || 0;
      return { status: 200, body: c.events.list(since, url.searchParams.get('proxy') ?? undefined) };
    }
    if (seg.length === 1 && seg[0] === 'toxic-types' && is('GET')) return { status: 200, body: TOXICS };
    if (seg[0] === 'proxies') {
      if (seg.length === 1 && is('GET')) return { status: 200, body: c.list() };
      if (seg.length === 1 && is('POST')) return { status: 201, body: (await c.create(await body())).toJSON() };
      const name = seg[1];
      if (seg.length === 2 && is('GET')) return { status: 200, body: c.get(name).toJSON() };
      if (seg.length === 2 && update) return { status: 200, body: (await c.update(name, await body())).toJSON() };
      if (seg.length === 2 && is('DELETE')) { await c.remove(name); return { status: 204 }; }
      if (seg.length === 3 && seg[2] === 'stats' && is('GET')) {
        const p = c.get(name);
        return { status: 200, body: { ...p.counters, connectionsActive: p.liveConnections } };
      }
      if (seg.length === 3 && seg[2] === 'toxics') {
        if (is('GET')) return { status: 200, body: c.get(name).toxics };
        if (is('POST')) {
          c.get(name);
          return { status: 200, body: c.addToxic(name, await body()) };
        }
      }
      if (seg.length === 4 && seg[2] === 'toxics') {
        if (is('GET')) return { status: 200, body: c.getToxic(name, seg[3]) };
        if (update) { c.get(name); return { status: 200, body: c.updateToxic(name, seg[3], await body()) }; }
        if (is('DELETE')) { c.removeToxic(name, seg[3]); return { status: 204 }; }
      }
    }
    const known = /^\/(version|reset|populate|events|toxic-types|proxies(\/[^/]+(\/toxics(\/[^/]+)?|\/stats)?)?)\/?$/.test(url.pathname);
    return known ? { status: 405, text: '' } : { status: 404, text: '404 page not found\n' };
  } catch (e) {
    if (e instanceof ProxyApiError) return { status: e.status, body: e.toJSON() };
    return { status: 500, body: { error: (e as Error).message, status: 500 } };
  }
}

export interface ControlServer {
  server: http.Server;
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Serve the control API on host:port (loopback by default). */
export async function serveControlApi(c: ProxyCollection, host: string, port: number): Promise<ControlServer> {
  const server = http.createServer((req, res) => {
    if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('User agent not allowed\n');
      return;
    }
    route(c, req.method ?? 'GET', req.url ?? '/', () => readBody(req)).then((r) => {
      if (r.status === 204) { res.writeHead(204).end(); return; }
      if (r.text !== undefined) {
        const type = r.text.startsWith('{') ? 'application/json;charset=utf-8' : 'text/plain; charset=utf-8';
        res.writeHead(r.status, { 'content-type': type }).end(r.text);
        return;
      }
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body) + (r.status >= 400 ? '\n' : ''));
    }, (e: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(e), status: 500 }) + '\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ProxyApiError(`control API: listen tcp ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'bind: address already in use' : err.message}`, 500,
        'another rstlab proxy or Toxiproxy may be running there; pick another --port')));
    server.listen({ host, port }, () => resolve());
  });
  const a = server.address() as import('node:net').AddressInfo;
  const hostOut = a.address.includes(':') ? `[${a.address}]` : a.address;
  return {
    server, host: a.address, port: a.port, url: `http://${hostOut}:${a.port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
