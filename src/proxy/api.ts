// The Toxiproxy-compatible control API: the proxy collection (create, populate, update, delete,
// reset, toxics) and its HTTP server. Same routes, JSON shapes, status codes, headers and error
// bodies as Toxiproxy 2.12 (api.go, proxy_collection.go): bodies are decoded as Go decodes them
// (go-json.ts) and errors are Go's words; an error is its JSON `{"error","status"}` and a newline
// sent as text/plain (Go's http.Error), except populate's, which is application/json with the
// proxies it did create. Every answer of a known route carries an X-Toxiproxy-Request-Id.
// rstlab adds GET /events, GET /proxies/{proxy}/stats and GET /toxic-types. Browsers (a
// User-Agent starting `Mozilla/`) are refused (403) on every known route, as Toxiproxy refuses
// them, so a web page cannot drive a loopback control API.

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { ProxyApiError, badRequestBody, missingField, proxyAlreadyExists, proxyNotFound, toxicNotFound } from './api-error.js';
import { EventLog } from './events.js';
import { decodeStruct, GoJsonError, readGoJson, TypeErrors, type GoStructSpec } from './go-json.js';
import { ProxyInstance, resolveListen } from './proxy.js';
import { GoBody, goValueOf, parseToxicCreate, parseToxicUpdate, TOXICS } from './toxics.js';
import type { ProxyJson, ToxicJson } from './types.js';

/** The version /version reports: Toxiproxy's release, so version checks (`>= 2.6.0`) pass. */
export const API_VERSION = '2.12.0';
/** rstlab's own version, sent as the X-Rstlab-Version header of every answer. */
export const RSTLAB_VERSION = '0.1.0';

/** A proxy as written in a config file or a populate body. */
export interface ProxyConfig {
  name: string;
  listen?: string;
  upstream: string;
  enabled?: boolean;
}

export interface CollectionOptions {
  /** Toxiproxy 2.12's behaviour where rstlab deliberately differs (docs/proxy.md, "Compatibility mode"). */
  toxiproxy?: boolean;
}

const PROXY_FIELDS = [{ name: 'name', type: 'string' }, { name: 'listen', type: 'string' }, { name: 'upstream', type: 'string' }, { name: 'enabled', type: 'bool' }] as const;
const PROXY: GoStructSpec = { structName: 'Proxy', typeString: 'toxiproxy.Proxy', fields: PROXY_FIELDS };
const POPULATE_ITEM = 'struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }';
const POPULATE: GoStructSpec = { structName: '', typeString: POPULATE_ITEM, fields: PROXY_FIELDS };

type ProxyFields = { name?: string; listen?: string; upstream?: string; enabled?: boolean };

/** Decode a body into Go's struct, or throw `bad request body: <Go's words>`. */
function decodeProxyBody(body: unknown, spec: GoStructSpec): ProxyFields {
  const errs = new TypeErrors();
  const out = decodeStruct(goValueOf(body), spec, errs) as ProxyFields;
  if (errs.first) throw badRequestBody(errs.first.message);
  return out;
}

/** The entries of a populate body, as Go decodes them into a slice (null is an empty list). */
function decodePopulate(body: unknown): ProxyFields[] {
  const v = goValueOf(body);
  const errs = new TypeErrors();
  let out: ProxyFields[] = [];
  if (v.kind === 'array') out = v.items.map((it) => decodeStruct(it, POPULATE, errs) as ProxyFields);
  else if (v.kind !== 'null') errs.save(`json: cannot unmarshal ${v.kind} into Go value of type []${POPULATE_ITEM}`);
  if (errs.first) throw badRequestBody(errs.first.message);
  return out;
}

/** What a populate did: the proxies it went through (in order) and the error that stopped it. */
export interface PopulateResult {
  proxies: ProxyInstance[];
  error?: ProxyApiError;
}

export class ProxyCollection {
  readonly proxies = new Map<string, ProxyInstance>();
  readonly compat: boolean;
  constructor(readonly events: EventLog, opts: CollectionOptions = {}) {
    this.compat = opts.toxiproxy === true;
  }

  /** All proxies by name, in name order (Go marshals a map with sorted keys). */
  list(): Record<string, ProxyJson> {
    const out: Record<string, ProxyJson> = {};
    for (const name of [...this.proxies.keys()].sort()) out[name] = this.proxies.get(name)!.toJSON();
    return out;
  }

  get(name: string): ProxyInstance {
    const p = this.proxies.get(name);
    if (!p) throw proxyNotFound();
    return p;
  }

  private make(name: string, listen: string | undefined, upstream: string): ProxyInstance {
    const l = listen === undefined || listen === '' ? (this.compat ? '' : '127.0.0.1:0') : listen;
    return new ProxyInstance(name, l, upstream, this.events, this.compat);
  }

  async create(body: unknown): Promise<ProxyInstance> {
    const f = decodeProxyBody(body, PROXY);
    if (!f.name) throw missingField('name');
    if (!f.upstream) throw missingField('upstream');
    if (this.proxies.has(f.name)) throw proxyAlreadyExists();
    const p = this.make(f.name, f.listen, f.upstream);
    if (f.enabled ?? true) await p.start();
    this.proxies.set(f.name, p);
    return p;
  }

  /** Whether `p` would change for this listen/upstream (Toxiproxy's Differs: the listen address resolved). */
  private async differs(p: ProxyInstance, listen: string, upstream: string): Promise<boolean> {
    return p.listen !== await resolveListen(listen, this.compat) || p.upstream !== upstream;
  }

  /**
   * Create or replace a list of proxies, as Toxiproxy's PopulateJson: the whole body is decoded
   * and every entry checked for a name and an upstream first (an error there changes nothing);
   * then the entries are applied in order, an entry whose resolved listen address and upstream
   * match its proxy keeping it (toxics, connections), and the first that fails stops the rest,
   * the ones before it staying applied. The same name twice: the last one wins.
   */
  async populate(body: unknown): Promise<PopulateResult> {
    const wanted = decodePopulate(body);
    wanted.forEach((w, i) => {
      if (!w.name) throw missingField(`name at proxy ${i + 1}`);
      if (!w.upstream) throw missingField(`upstream at proxy ${i + 1}`);
    });
    const proxies: ProxyInstance[] = [];
    for (const w of wanted) {
      const name = w.name!;
      const upstream = w.upstream!;
      try {
        const old = this.proxies.get(name);
        if (old) {
          if (!await this.differs(old, w.listen ?? '', upstream)) { proxies.push(old); continue; }
          await old.stop();
        }
        const p = this.make(name, w.listen, upstream);
        if (w.enabled ?? true) await p.start();
        this.proxies.set(name, p);
        proxies.push(p);
      } catch (e) {
        if (e instanceof ProxyApiError) return { proxies, error: e };
        return { proxies, error: new ProxyApiError((e as Error).message, 500) };
      }
    }
    return { proxies };
  }

  async update(name: string, body: unknown): Promise<ProxyInstance> {
    const p = this.get(name);
    const f = decodeProxyBody(body, PROXY);
    const listen = f.listen ?? p.listen;
    const upstream = f.upstream ?? p.upstream;
    const enabled = f.enabled ?? p.enabled;
    if (await this.differs(p, listen, upstream)) {
      // New addresses restart the proxy and drop its connections.
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

  /** Enable every proxy and remove every toxic (a proxy that cannot listen stops the reset there). */
  async reset(): Promise<void> {
    for (const p of this.proxies.values()) {
      await p.start();
      for (const t of p.orderedToxics) p.setToxics(p.toxics.filter((x) => x !== t), { kind: 'reset', name: t.name });
    }
  }

  addToxic(proxy: string, body: unknown): ToxicJson {
    const p = this.get(proxy);
    const t = parseToxicCreate(body, (n) => p.toxics.some((x) => x.name === n));
    p.setToxics([...p.toxics, t], { kind: 'add', name: t.name });
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
    p.setToxics(p.toxics.map((x) => (x.name === name ? t : x)), { kind: 'update', name });
    return t;
  }

  removeToxic(proxy: string, name: string): void {
    const p = this.get(proxy);
    if (!p.toxics.some((x) => x.name === name)) throw toxicNotFound();
    p.setToxics(p.toxics.filter((x) => x.name !== name), { kind: 'remove', name });
  }

  async stopAll(): Promise<void> {
    for (const p of this.proxies.values()) await p.stop();
  }
}

/** An answer: JSON (`body`), raw text, or a Toxiproxy error (JSON plus newline, as text/plain). */
export interface Reply { status: number; body?: unknown; text?: string; contentType?: string }

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

/** A request body read as Go's json.Decoder reads it; a syntax error is Toxiproxy's `bad request body: …`. */
function parseBody(text: string): GoBody {
  try { return new GoBody(readGoJson(text)); } catch (e) {
    if (e instanceof GoJsonError) throw badRequestBody(e.message);
    throw e;
  }
}

/** Go's json.Marshal: like JSON.stringify, with <, >, & and U+2028/9 escaped. */
export function goMarshal(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const errorReply = (e: ProxyApiError): Reply => ({ status: e.status, text: goMarshal(e.toJSON()) + '\n', contentType: 'text/plain; charset=utf-8' });

/** Whether a path is one of the routes (gorilla/mux: `{proxy}` is one non-empty segment, no trailing slash). */
function routeOf(path: string): string | null {
  const seg = path.split('/');
  if (seg[0] !== '') return null;
  const s = seg.slice(1);
  if (s.some((x) => x === '')) return null;
  if (s.length === 1 && ['version', 'reset', 'populate', 'events', 'toxic-types', 'proxies'].includes(s[0])) return s[0];
  if (s[0] !== 'proxies') return null;
  if (s.length === 2) return 'proxy';
  if (s.length === 3 && s[2] === 'toxics') return 'toxics';
  if (s.length === 3 && s[2] === 'stats') return 'stats';
  if (s.length === 4 && s[2] === 'toxics') return 'toxic';
  return null;
}

const METHODS: Record<string, string[]> = {
  version: ['GET'], reset: ['POST'], populate: ['POST'], events: ['GET'], 'toxic-types': ['GET'], proxies: ['GET', 'POST'],
  proxy: ['GET', 'POST', 'PATCH', 'DELETE'], toxics: ['GET', 'POST'], stats: ['GET'], toxic: ['GET', 'POST', 'PATCH', 'DELETE'],
};

/** Whether a request reaches a handler (`ok`), or is gorilla/mux's 404 or 405 (which skip the middleware). */
export function matchRoute(method: string, rawUrl: string): 'ok' | 404 | 405 {
  let path: string;
  try { path = decodeURIComponent(new URL(rawUrl, 'http://x').pathname); } catch { return 404; }
  const r = routeOf(path);
  if (!r) return 404;
  return METHODS[r].includes(method) ? 'ok' : 405;
}

/** Route one request. Exported for tests that do not need a socket. */
export async function route(c: ProxyCollection, method: string, rawUrl: string, bodyText: () => Promise<string>): Promise<Reply> {
  const m = matchRoute(method, rawUrl);
  if (m === 404) return { status: 404, text: '404 page not found\n', contentType: 'text/plain; charset=utf-8' };
  if (m === 405) return { status: 405, text: '' };
  const url = new URL(rawUrl, 'http://x');
  const seg = decodeURIComponent(url.pathname).split('/').slice(1);
  const body = async () => parseBody(await bodyText());
  const is = (x: string) => method === x;
  const update = is('POST') || is('PATCH');
  try {
    if (seg[0] === 'version') return { status: 200, text: `{"version": "${API_VERSION}"}\n`, contentType: 'application/json;charset=utf-8' };
    if (seg[0] === 'reset') { await c.reset(); return { status: 204 }; }
    if (seg[0] === 'populate') {
      let r: PopulateResult;
      try { r = await c.populate(await body()); } catch (e) {
        if (e instanceof ProxyApiError) return { status: e.status, body: { ...e.toJSON(), proxies: null } };
        throw e;
      }
      const proxies = r.proxies.length ? r.proxies.map((p) => p.toJSON()) : null;
      if (r.error) return { status: r.error.status, body: { ...r.error.toJSON(), proxies } };
      return { status: 201, body: { proxies } };
    }
    if (seg[0] === 'events') {
      const since = Number(url.searchParams.get('since') ?? 0) || 0;
      return { status: 200, body: c.events.list(since, url.searchParams.get('proxy') ?? undefined) };
    }
    if (seg[0] === 'toxic-types') return { status: 200, body: TOXICS };
    if (seg.length === 1 && is('GET')) return { status: 200, body: c.list() };
    if (seg.length === 1) return { status: 201, body: (await c.create(await body())).toJSON() };
    const name = seg[1];
    if (seg.length === 2 && is('GET')) return { status: 200, body: c.get(name).toJSON() };
    if (seg.length === 2 && update) return { status: 200, body: (await c.update(name, await body())).toJSON() };
    if (seg.length === 2) { await c.remove(name); return { status: 204 }; }
    if (seg[2] === 'stats') {
      const p = c.get(name);
      return { status: 200, body: { ...p.counters, connectionsActive: p.liveConnections } };
    }
    if (seg.length === 3 && is('GET')) return { status: 200, body: c.get(name).orderedToxics };
    if (seg.length === 3) { c.get(name); return { status: 200, body: c.addToxic(name, await body()) }; }
    if (is('GET')) return { status: 200, body: c.getToxic(name, seg[3]) };
    if (update) { c.get(name); return { status: 200, body: c.updateToxic(name, seg[3], await body()) }; }
    c.get(name);
    c.removeToxic(name, seg[3]);
    return { status: 204 };
  } catch (e) {
    if (e instanceof ProxyApiError) return errorReply(e);
    return errorReply(new ProxyApiError((e as Error).message, 500));
  }
}

/** An xid-shaped request id (20 characters of base32hex), as Toxiproxy's hlog.RequestIDHandler sends. */
let idCounter = randomBytes(3).readUIntBE(0, 3);
const MACHINE = randomBytes(3);
export function requestId(): string {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(Math.floor(Date.now() / 1000) >>> 0, 0);
  MACHINE.copy(b, 4);
  b.writeUInt16BE(process.pid & 0xffff, 7);
  idCounter = (idCounter + 1) & 0xffffff;
  b.writeUIntBE(idCounter, 9, 3);
  const alphabet = '0123456789abcdefghijklmnopqrstuv';
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const byte of b) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) { out += alphabet[(acc >>> (bits - 5)) & 31]; bits -= 5; }
  }
  if (bits > 0) out += alphabet[(acc << (5 - bits)) & 31];
  return out;
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
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    res.setHeader('X-Rstlab-Version', RSTLAB_VERSION);
    const matched = matchRoute(method, url) === 'ok';
    // Answers as Go's net/http sends them: a Content-Length (Toxiproxy's TimeoutHandler buffers
    // every answer), text/plain errors with nosniff.
    const send = (status: number, body: string, type?: string) => {
      const headers: Record<string, string | number> = {};
      if (type) headers['Content-Type'] = type;
      if (type?.startsWith('text/plain')) headers['X-Content-Type-Options'] = 'nosniff';
      if (status !== 204) headers['Content-Length'] = Buffer.byteLength(body);
      res.writeHead(status, headers).end(status === 204 ? undefined : body);
    };
    // Toxiproxy's middleware (request id, browser check) runs only on a matched route.
    if (matched) res.setHeader('X-Toxiproxy-Request-Id', requestId());
    if (matched && (req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
      send(403, 'User agent not allowed\n', 'text/plain; charset=utf-8');
      return;
    }
    route(c, method, url, () => readBody(req)).then((r) => {
      if (r.status === 204) send(204, '');
      else if (r.text !== undefined) send(r.status, r.text, r.contentType);
      else send(r.status, goMarshal(r.body), 'application/json');
    }, (e: unknown) => send(500, goMarshal({ error: String(e), status: 500 }) + '\n', 'text/plain; charset=utf-8'));
  });
  // Go's http.Server keeps an idle connection 60 s (Toxiproxy's IdleTimeout); Node's default is 5 s.
  server.keepAliveTimeout = 60_000;
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
