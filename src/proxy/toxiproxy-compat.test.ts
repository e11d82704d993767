// Compatibility with Toxiproxy 2.12, against real loopback rstlab proxies (control API on port 0):
// Toxiproxy's own API tests (api_test.go) and toxic tests (toxics/*_test.go, toxic_test.go,
// proxy_test.go), re-written here as the HTTP requests the Go client sends and the answers
// Toxiproxy gives, plus the differences issue 21 found (headers, error bodies and Go's decode
// errors, listen addresses compared resolved, partial populate, toxic order, timeout's timer,
// reset_peer's SO_LINGER quirks, the compatibility mode). Toxiproxy's fixed ports (7070, 3310…)
// are replaced by free ports, found by binding port 0. Timing bounds are wider than Toxiproxy's
// (it allows 10 ms; this machine is shared), never open-ended.
//
// Toxiproxy's own suite has one test that fails against a released Toxiproxy 2.12.0:
// TestVersionEndpointReturnsVersion expects `{"version": "git"}`, the version of an unstamped
// development build; the release (and rstlab) answer `{"version": "2.12.0"}`, which is asserted
// here instead.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startProxy, type RunningProxy } from './index.js';
import { echoServer, sleep, until, type Served } from './testkit.js';

let rp: RunningProxy;
let compat: RunningProxy;
let echo: Served;
/** The proxy the helpers talk to by default: each test of `both` sets it. */
let srv: RunningProxy;

/** One of Toxiproxy's tests, run against rstlab proxy in both modes (default, and --toxiproxy). */
function both(name: string, fn: (t: import('node:test').TestContext) => Promise<void>): void {
  test(`${name} [rstlab]`, (t) => { srv = rp; return fn(t); });
  test(`${name} [--toxiproxy]`, (t) => { srv = compat; return fn(t); });
}

before(async () => {
  echo = await echoServer();
  rp = await startProxy({ port: 0 });
  compat = await startProxy({ port: 0, toxiproxy: true });
});
after(async () => {
  await rp?.stop();
  await compat?.stop();
  await echo?.close();
});

interface Answer { status: number; text: string; json: any; headers: Headers }

async function http(method: string, path: string, body?: unknown, opts: { server?: RunningProxy; headers?: Record<string, string> } = {}): Promise<Answer> {
  const res = await fetch((opts.server ?? srv).url + path, {
    method, headers: opts.headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, text, json, headers: res.headers };
}

/** Toxiproxy's WithServer: every test starts with an empty collection. */
async function clear(server = srv): Promise<void> {
  for (const name of Object.keys((await http('GET', '/proxies', undefined, { server })).json)) await http('DELETE', `/proxies/${name}`, undefined, { server });
}

/** The Go client's CreateProxy: POST /proxies with enabled true. */
const createProxy = (name: string, listen: string, upstream: string, server = srv) =>
  http('POST', '/proxies', { name, listen, upstream, enabled: true }, { server });

/** The Go client's AddToxic (stream omitted when empty, toxicity -1 sent as 1). */
function addToxic(proxy: string, name: string, type: string, stream: string, toxicity: number, attributes: Record<string, unknown> | null, server = srv) {
  const body: Record<string, unknown> = { name, type };
  if (stream !== '') body.stream = stream;
  body.toxicity = toxicity === -1 ? 1 : toxicity;
  body.attributes = attributes;
  return http('POST', `/proxies/${proxy}/toxics`, body, { server });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const portOf = (listen: string) => Number(listen.slice(listen.lastIndexOf(':') + 1));

/** Toxiproxy's AssertProxyUp: a TCP connect to the listen address succeeds, or is refused. */
async function isUp(listen: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: portOf(listen) });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** A TCP server whose accepted sockets are handed out in order. */
async function acceptor(): Promise<{ port: number; next(): Promise<net.Socket>; close(): Promise<void> }> {
  const queue: net.Socket[] = [];
  const waiting: Array<(s: net.Socket) => void> = [];
  const all = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    all.add(s);
    s.on('error', () => {});
    const w = waiting.shift();
    if (w) w(s); else queue.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    next: () => new Promise((r) => { const s = queue.shift(); if (s) r(s); else waiting.push(r); }),
    close: () => new Promise((r) => { for (const s of all) s.destroy(); server.close(() => r()); }),
  };
}

/** Everything a socket reads, and how its reading ended (`end`, an errno code) once it did. */
function watch(s: net.Socket): { data: () => Buffer; ended: Promise<string>; readAt: () => number } {
  const parts: Buffer[] = [];
  let last = 0;
  s.on('data', (b) => { parts.push(b); last = performance.now(); });
  const ended = new Promise<string>((resolve) => {
    s.once('end', () => resolve('end'));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
  return { data: () => Buffer.concat(parts), ended, readAt: () => last };
}

/** A promise that resolves to `timeout` after `ms`. */
const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  Promise.race([p, sleep(ms).then(() => 'timeout' as const)]);

async function dial(port: number): Promise<net.Socket> {
  const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  s.on('error', () => {});
  await new Promise<void>((r, j) => { s.once('connect', () => r()); s.once('error', j); });
  return s;
}

/** Toxiproxy's WithEstablishedProxy: a client and the upstream's socket, data checked both ways. */
async function established(proxy: string, upstreamPort: number, a: Awaited<ReturnType<typeof acceptor>>, server = srv) {
  const created = await createProxy(proxy, '127.0.0.1:0', `127.0.0.1:${upstreamPort}`, server);
  assert.equal(created.status, 201, created.text);
  const client = await dial(portOf(created.json.listen));
  const upstream = await a.next();
  const c = watch(client);
  const u = watch(upstream);
  client.write('foobar');
  await until(() => u.data().toString() === 'foobar', 1000, 'foobar upstream', 2);
  upstream.write('foobar');
  await until(() => c.data().toString() === 'foobar', 1000, 'foobar downstream', 2);
  return { client, upstream, c, u, listen: created.json.listen as string };
}

// ---------------------------------------------------------------- api_test.go

both('api: every handled answer has an X-Toxiproxy-Request-Id (TestRequestId); unknown routes have none', async () => {
  const v = await http('GET', '/version', undefined, { headers: { 'user-agent': 'curl' } });
  assert.match(v.headers.get('x-toxiproxy-request-id') ?? '', /^[0-9a-v]{20}$/);
  const other = await http('GET', '/version');
  assert.notEqual(other.headers.get('x-toxiproxy-request-id'), v.headers.get('x-toxiproxy-request-id'));
  const missing = await http('GET', '/nothing');
  assert.equal(missing.status, 404);
  assert.equal(missing.text, '404 page not found\n');
  assert.equal(missing.headers.get('x-toxiproxy-request-id'), null);
  assert.equal(missing.headers.get('content-length'), '19', 'Go sends a Content-Length, never chunks');
  const wrongMethod = await http('PUT', '/proxies');
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.text, '');
  assert.equal((await http('GET', '/proxies/')).status, 404, 'no trailing-slash route, as gorilla/mux');
});

both('api: a browser User-Agent gets 403 (TestBrowserGets403), another does not (TestNonBrowserGets200)', async () => {
  const ua = 'Mozilla/5.0 (Linux; Android 4.4.2); Nexus 5 Build/KOT49H) AppleWebKit/537.36(KHTML, like Gecko) Chrome/33.0.1750.117 Mobile Safari/537.36 OPR/20.0.1396.72047';
  const b = await http('GET', '/proxies', undefined, { headers: { 'user-agent': ua } });
  assert.equal(b.status, 403);
  assert.equal(b.text, 'User agent not allowed\n');
  assert.notEqual((await http('GET', '/proxies', undefined, { headers: { 'user-agent': 'Wget/2.1' } })).status, 403);
});

both('api: index with no proxies (TestIndexWithNoProxies); blank name or upstream (TestCreateProxyBlankName/Upstream)', async () => {
  await clear();
  const idx = await http('GET', '/proxies');
  assert.equal(idx.status, 200);
  assert.equal(idx.text, '{}');
  const blank = await createProxy('', '', '');
  assert.equal(blank.status, 400);
  assert.equal(blank.text, '{"error":"missing required field: name","status":400}\n');
  assert.equal(blank.headers.get('content-type'), 'text/plain; charset=utf-8', "Go's http.Error");
  assert.equal(blank.headers.get('x-content-type-options'), 'nosniff');
  assert.equal((await createProxy('test', '', '')).json.error, 'missing required field: upstream');
});

both('api: populate creates proxies in order and they listen (TestPopulateProxy, TestPopulateDefaultEnabled)', async (t) => {
  await clear();
  t.after(() => clear());
  const [p1, p2] = [await freePort(), await freePort()];
  const r = await http('POST', '/populate', [
    { name: 'one', listen: `localhost:${p1}`, upstream: 'localhost:7171', enabled: true },
    { name: 'two', listen: `localhost:${p2}`, upstream: 'localhost:7474', enabled: true },
  ]);
  assert.equal(r.status, 201);
  assert.deepEqual(r.json.proxies.map((p: { name: string }) => p.name), ['one', 'two']);
  for (const p of r.json.proxies) assert.equal(await isUp(p.listen), true);
  await clear();
  const d = await http('POST', '/populate', `[{"name": "test", "listen": "localhost:${p1}", "upstream": "localhost:7171"}]`);
  assert.equal(d.status, 201, d.text);
  const all = (await http('GET', '/proxies')).json;
  assert.deepEqual(Object.keys(all), ['test']);
  assert.equal(await isUp(all.test.listen), true);
});

both('api: populate with a disabled proxy (TestPopulateDisabledProxy)', async (t) => {
  await clear();
  t.after(() => clear());
  const [p1, p2] = [await freePort(), await freePort()];
  const r = await http('POST', '/populate', [
    { name: 'one', listen: `localhost:${p1}`, upstream: 'localhost:7171', enabled: false },
    { name: 'two', listen: `localhost:${p2}`, upstream: 'localhost:7474', enabled: true },
  ]);
  assert.equal(r.status, 201);
  assert.deepEqual(r.json.proxies.map((p: { name: string }) => p.name), ['one', 'two']);
  assert.equal(await isUp(`localhost:${p1}`), false);
  assert.equal(await isUp(`localhost:${p2}`), true);
});

both('api: populate keeps a proxy whose listen address resolves to the bound one, toxics included (TestPopulateExistingProxy)', async (t) => {
  await clear();
  t.after(() => clear());
  const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
  assert.equal((await createProxy('one', `localhost:${p1}`, 'localhost:7171')).status, 201);
  assert.equal((await createProxy('two', `localhost:${p2}`, 'localhost:7474')).status, 201);
  assert.equal((await addToxic('one', '', 'latency', 'downstream', 1, null)).status, 200);
  const r = await http('POST', '/populate', [
    { name: 'one', listen: `localhost:${p1}`, upstream: 'localhost:7171', enabled: true },
    { name: 'two', listen: `127.0.0.1:${p3}`, upstream: 'localhost:7676', enabled: true },
  ]);
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json.proxies.map((p: { listen: string }) => p.listen), [`127.0.0.1:${p1}`, `127.0.0.1:${p3}`]);
  const toxics = (await http('GET', '/proxies/one/toxics')).json;
  assert.deepEqual(toxics.map((x: { type: string }) => x.type), ['latency'], 'populate did not preserve the existing proxy');
  for (const p of r.json.proxies) assert.equal(await isUp(p.listen), true);
});

both('api: a populate entry without a name changes nothing (TestPopulateWithBadName)', async () => {
  await clear();
  const p1 = await freePort();
  const r = await http('POST', '/populate', [
    { name: 'one', listen: `localhost:${p1}`, upstream: 'localhost:7171', enabled: true },
    { name: '', listen: '', upstream: '', enabled: true },
  ]);
  assert.equal(r.status, 400);
  assert.deepEqual(r.json, { error: 'missing required field: name at proxy 2', status: 400, proxies: null });
  assert.equal(r.headers.get('content-type'), 'application/json', 'populate answers its errors as JSON');
  assert.deepEqual((await http('GET', '/proxies')).json, {});
});

both('api: a populate entry that cannot listen keeps the ones before it and lists them (TestPopulateProxyWithBadDataShouldReturnError)', async (t) => {
  await clear();
  t.after(() => clear());
  const [p1, p3] = [await freePort(), await freePort()];
  const r = await http('POST', '/populate', [
    { name: 'one', listen: `localhost:${p1}`, upstream: 'localhost:7171', enabled: true },
    { name: 'two', listen: 'local373', upstream: 'localhost:7474', enabled: true },
    { name: 'three', listen: `localhost:${p3}`, upstream: 'localhost:7676', enabled: true },
  ]);
  assert.equal(r.status, 500);
  assert.equal(r.json.error, 'listen tcp: address local373: missing port in address');
  assert.deepEqual(r.json.proxies.map((p: { name: string }) => p.name), ['one']);
  assert.deepEqual(Object.keys((await http('GET', '/proxies')).json), ['one']);
  assert.equal(await isUp(`localhost:${p1}`), true);
  // The first entry failing: nothing to list, "proxies": null.
  const first = await http('POST', '/populate', [{ name: 'bad', listen: 'nope', upstream: 'x:1' }]);
  assert.equal(first.text, '{"error":"listen tcp: address nope: missing port in address","status":500,"proxies":null}');
});

both('api: the same name twice in one populate: 201, the last one wins (Toxiproxy\'s AddOrReplace)', async (t) => {
  await clear();
  t.after(() => clear());
  const r = await http('POST', '/populate', [
    { name: 'd', listen: '127.0.0.1:0', upstream: 'x:1' },
    { name: 'd', listen: '127.0.0.1:0', upstream: 'x:2' },
  ]);
  assert.equal(r.status, 201, r.text);
  // Both entries are answered: the first proxy (stopped when the second replaced it), then the second.
  assert.deepEqual(r.json.proxies.map((p: { upstream: string; enabled: boolean }) => [p.upstream, p.enabled]), [['x:1', false], ['x:2', true]]);
  assert.equal((await http('GET', '/proxies/d')).json.upstream, 'x:2');
});

both('api: populate then add a toxic (TestPopulateAddToxic)', async (t) => {
  await clear();
  t.after(() => clear());
  const r = await http('POST', '/populate', [{ name: 'one', listen: `localhost:${await freePort()}`, upstream: 'localhost:7171', enabled: true }]);
  assert.deepEqual(r.json.proxies.map((p: { name: string }) => p.name), ['one']);
  assert.equal((await addToxic('one', '', 'latency', 'downstream', 1, null)).status, 200);
});

both('api: listing, creating and getting proxies; proxy JSON field for field (TestListingProxies, TestCreateAndGetProxy, TestCreateProxyWithSave)', async (t) => {
  await clear();
  t.after(() => clear());
  const port = await freePort();
  const created = await createProxy('mysql_master', `localhost:${port}`, 'localhost:20001');
  assert.equal(created.status, 201);
  assert.equal(created.text, `{"name":"mysql_master","listen":"127.0.0.1:${port}","upstream":"localhost:20001","enabled":true,"Logger":{},"toxics":[]}`);
  const all = (await http('GET', '/proxies')).json;
  assert.equal(all.mysql_master.listen, `127.0.0.1:${port}`);
  assert.deepEqual(all.mysql_master.toxics, []);
  const one = (await http('GET', '/proxies/mysql_master')).json;
  assert.deepEqual([one.name, one.listen, one.upstream, one.enabled], ['mysql_master', `127.0.0.1:${port}`, 'localhost:20001', true]);
  // Save() of a new proxy posts the client's whole struct, toxics: null included.
  await clear();
  const saved = await http('POST', '/proxies', { name: 'mysql_master', listen: `localhost:${port}`, upstream: 'localhost:20001', enabled: true, toxics: null });
  assert.equal(saved.status, 201);
  assert.equal(await isUp(saved.json.listen), true);
});

both('api: a disabled proxy keeps its listen address as given; enable, disable (TestCreateDisabledProxy, TestCreateDisabledProxyAndEnable)', async (t) => {
  await clear();
  t.after(() => clear());
  const port = await freePort();
  const listen = `localhost:${port}`;
  const saved = await http('POST', '/proxies', { name: 'mysql_master', listen, upstream: 'localhost:20001', enabled: false, toxics: null });
  assert.equal(saved.status, 201);
  const got = (await http('GET', '/proxies/mysql_master')).json;
  assert.deepEqual([got.listen, got.enabled], [listen, false]);
  assert.equal(await isUp(listen), false);
  // Save() of a created proxy: POST /proxies/{name} with the struct.
  const on = await http('POST', '/proxies/mysql_master', { ...got, enabled: true });
  assert.equal(on.status, 200);
  assert.equal(await isUp(on.json.listen), true);
  const off = await http('POST', '/proxies/mysql_master', { ...on.json, enabled: false });
  assert.equal(off.json.enabled, false);
  assert.equal(await isUp(on.json.listen), false);
});

both('api: delete a proxy, then again (TestDeleteProxy)', async () => {
  await clear();
  const created = await createProxy('mysql_master', `localhost:${await freePort()}`, 'localhost:20001');
  assert.equal(await isUp(created.json.listen), true);
  const del = await http('DELETE', '/proxies/mysql_master');
  assert.equal(del.status, 204);
  assert.equal(del.text, '');
  assert.equal(await isUp(created.json.listen), false);
  assert.deepEqual((await http('GET', '/proxies')).json, {});
  const again = await http('DELETE', '/proxies/mysql_master');
  assert.equal(again.status, 404);
  assert.equal(again.json.error, 'proxy not found');
});

both('api: a port in use is 500 with Go\'s words, a name in use 409 (TestCreateProxyPortConflict, TestCreateProxyNameConflict)', async (t) => {
  await clear();
  t.after(() => clear());
  const port = await freePort();
  assert.equal((await createProxy('mysql_master', `localhost:${port}`, 'localhost:20001')).status, 201);
  const clash = await createProxy('test', `localhost:${port}`, 'localhost:20001');
  assert.equal(clash.status, 500);
  assert.equal(clash.json.error, `listen tcp 127.0.0.1:${port}: bind: address already in use`);
  const name = await createProxy('mysql_master', `localhost:${await freePort()}`, 'localhost:20001');
  assert.equal(name.status, 409);
  assert.equal(name.json.error, 'proxy already exists');
  assert.equal((await http('DELETE', '/proxies/mysql_master')).status, 204);
  assert.equal((await createProxy('test', `localhost:${port}`, 'localhost:20001')).status, 201);
});

both('api: reset enables every proxy and removes every toxic (TestResetState)', async (t) => {
  await clear();
  t.after(() => clear());
  const created = await createProxy('mysql_master', `localhost:${await freePort()}`, 'localhost:20001');
  const lat = await addToxic('mysql_master', '', 'latency', 'downstream', 1, { latency: 100, jitter: 10 });
  assert.deepEqual(lat.json.attributes, { latency: 100, jitter: 10 });
  await http('POST', '/proxies/mysql_master', { enabled: false });
  const reset = await http('POST', '/reset');
  assert.equal(reset.status, 204);
  const p = (await http('GET', '/proxies')).json.mysql_master;
  assert.equal(p.enabled, true);
  assert.deepEqual(p.toxics, []);
  assert.equal(await isUp(created.json.listen), true);
});

both('api: toxics: list, add, several, conflicts, toxicity, noop, update, remove (TestListingToxics … TestRemoveToxic)', async (t) => {
  await clear();
  t.after(() => clear());
  await createProxy('mysql_master', `localhost:${await freePort()}`, 'localhost:20001');
  assert.equal((await http('GET', '/proxies/mysql_master/toxics')).text, '[]');
  const foobar = await addToxic('mysql_master', 'foobar', 'latency', 'downstream', 1, { latency: 100, jitter: 10 });
  assert.equal(foobar.status, 200);
  assert.equal(foobar.text, '{"attributes":{"latency":100,"jitter":10},"name":"foobar","type":"latency","stream":"downstream","toxicity":1}');
  // Several of one type; defaults 0.
  await addToxic('mysql_master', 'latency1', 'latency', 'downstream', 1, null);
  const l2 = await addToxic('mysql_master', 'latency2', 'latency', 'downstream', 1, null);
  assert.deepEqual(l2.json.attributes, { latency: 0, jitter: 0 });
  // A name taken, in either stream: 409.
  const clash = await addToxic('mysql_master', 'foobar', 'slow_close', 'downstream', 1, null);
  assert.deepEqual([clash.status, clash.json.error], [409, 'toxic already exists']);
  const clashUp = await addToxic('mysql_master', 'foobar', 'latency', 'upstream', 1, null);
  assert.equal(clashUp.status, 409);
  // Default names per stream.
  assert.equal((await addToxic('mysql_master', '', 'latency', 'upstream', 1, null)).json.name, 'latency_upstream');
  assert.equal((await addToxic('mysql_master', '', 'latency', 'downstream', 0.2, { latency: 100, jitter: 10 })).json.toxicity, 0.2);
  // noop, stream omitted: downstream.
  const noop = await addToxic('mysql_master', 'nop', 'noop', '', 1, null);
  assert.deepEqual([noop.status, noop.json.type, noop.json.stream, noop.json.attributes], [200, 'noop', 'downstream', {}]);
  // Listed as Toxiproxy lists them: the upstream chain first, then the downstream one, each in creation order.
  const names = (await http('GET', '/proxies/mysql_master/toxics')).json.map((x: { name: string }) => x.name);
  assert.deepEqual(names, ['latency_upstream', 'foobar', 'latency1', 'latency2', 'latency_downstream', 'nop']);
  // Update: attributes merge, toxicity kept when not sent.
  const u1 = await http('PATCH', '/proxies/mysql_master/toxics/latency_downstream', { attributes: { latency: 1000 }, toxicity: 0.5 });
  assert.deepEqual([u1.json.toxicity, u1.json.attributes], [0.5, { latency: 1000, jitter: 10 }]);
  const u2 = await http('PATCH', '/proxies/mysql_master/toxics/latency_downstream', { attributes: { latency: 500 } });
  assert.deepEqual([u2.json.toxicity, u2.json.attributes], [0.5, { latency: 500, jitter: 10 }]);
  // Remove.
  assert.equal((await http('DELETE', '/proxies/mysql_master/toxics/latency_downstream')).status, 204);
  assert.equal((await http('GET', '/proxies/mysql_master/toxics/latency_downstream')).status, 404);
  // An invalid stream (TestInvalidStream).
  const bad = await addToxic('mysql_master', '', 'latency', 'walrustream', 1, null);
  assert.deepEqual([bad.status, bad.json.error], [400, 'stream was invalid, can be either upstream or downstream']);
  // Go matches the stream case-insensitively and keeps it as given.
  const upper = await addToxic('mysql_master', '', 'slow_close', 'UPSTREAM', 1, null);
  assert.deepEqual([upper.status, upper.json.name, upper.json.stream], [200, 'slow_close_UPSTREAM', 'UPSTREAM']);
});

both('api: /version is the release\'s body, so `>= 2.12.0` checks pass (TestVersionEndpointReturnsVersion expects an unstamped "git")', async () => {
  const v = await http('GET', '/version');
  assert.equal(v.text, '{"version": "2.12.0"}\n');
  assert.equal(v.headers.get('content-type'), 'application/json;charset=utf-8');
  const [maj, min, patch] = v.json.version.split('.').map(Number);
  assert.ok(!v.json.version.includes('-'), 'no semver prerelease');
  assert.ok(maj > 2 || (maj === 2 && (min > 12 || (min === 12 && patch >= 0))));
});

both('api: bodies are decoded as Go\'s encoding/json decodes them, with its words', async (t) => {
  await clear();
  t.after(() => clear());
  await createProxy('a', '127.0.0.1:0', `127.0.0.1:${echo.port}`);
  const cases: Array<[string, string, string, string]> = [
    ['POST', '/proxies', '', 'bad request body: EOF'],
    ['POST', '/proxies', '{"name": "x",', 'bad request body: unexpected EOF'],
    ['POST', '/proxies', 'not json', "bad request body: invalid character 'o' in literal null (expecting 'u')"],
    ['POST', '/proxies', '{"name" "x"}', "bad request body: invalid character '\"' after object key"],
    ['POST', '/proxies', '{"name": 5, "upstream": "x:1"}', 'bad request body: json: cannot unmarshal number into Go struct field Proxy.name of type string'],
    ['POST', '/proxies', '{"name": "q", "upstream": "x:1", "enabled": "yes"}', 'bad request body: json: cannot unmarshal string into Go struct field Proxy.enabled of type bool'],
    ['POST', '/proxies', '[]', 'bad request body: json: cannot unmarshal array into Go value of type toxiproxy.Proxy'],
    ['POST', '/populate', '{}', 'bad request body: json: cannot unmarshal object into Go value of type []struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }'],
    ['POST', '/proxies/a/toxics', '{"type": "latency", "attributes": {"latency": 1.5}}', 'bad request body: json: cannot unmarshal number 1.5 into Go struct field LatencyToxic.attributes.latency of type int64'],
    ['POST', '/proxies/a/toxics', '{"type": "latency", "toxicity": "high"}', 'bad request body: json: cannot unmarshal string into Go struct field ToxicWrapper.toxicity of type float32'],
    ['PATCH', '/proxies/a/toxics/l', '{"toxicity": "x"}', 'bad request body: json: cannot unmarshal string into Go struct field .toxicity of type float32'],
    ['POST', '/proxies/a/toxics', '{"type": "latency", "stream": ""}', 'stream was invalid, can be either upstream or downstream'],
  ];
  await addToxic('a', 'l', 'latency', '', 1, null);
  for (const [method, path, body, error] of cases) {
    const r = await http(method, path, body);
    assert.equal(r.json?.error, error, `${method} ${path} ${body}: ${r.text}`);
  }
  // What Go accepts: keys in any case, text after the first value, a negative latency.
  const ok = await http('POST', '/proxies', '{"NAME": "b", "Upstream": "x:1", "listen": "127.0.0.1:0"} trailing');
  assert.deepEqual([ok.status, ok.json.name], [201, 'b']);
  assert.equal((await addToxic('a', 'neg', 'latency', '', 1, { latency: -5 })).json.attributes.latency, -5);
  // Go escapes HTML characters in JSON.
  assert.match((await http('POST', '/proxies', { name: '<b>', upstream: 'x:1', listen: '127.0.0.1:0' })).text, /"name":"\\u003cb\\u003e"/);
});

both('api: PATCH with a listen address naming the bound one (localhost vs 127.0.0.1) keeps toxics and connections', async (t) => {
  await clear();
  t.after(() => clear());
  const a = await acceptor();
  t.after(() => a.close());
  const e = await established('p', a.port, a);
  await addToxic('p', 'keep', 'noop', '', 1, null);
  const port = portOf(e.listen);
  const r = await http('PATCH', '/proxies/p', { listen: `localhost:${port}` });
  assert.equal(r.status, 200);
  assert.equal(r.json.listen, `127.0.0.1:${port}`);
  assert.deepEqual(r.json.toxics.map((x: { name: string }) => x.name), ['keep']);
  e.client.write('still');
  await until(() => e.u.data().toString() === 'foobarstill', 1000, 'the connection survived');
  // An address Go cannot resolve: 500 in Go's words (ResolveTCPAddr's, without `listen tcp`), nothing changes.
  const bad = await http('PATCH', '/proxies/p', { listen: 'nonsense' });
  assert.deepEqual([bad.status, bad.json.error], [500, 'address nonsense: missing port in address']);
  // A real change (another upstream) restarts the proxy and drops the connection.
  await http('PATCH', '/proxies/p', { upstream: `127.0.0.1:${echo.port}` });
  assert.equal(await within(e.c.ended, 1000), 'end');
  e.client.destroy();
});

both('api: an update to localhost:0 moves the proxy to a new port; the same address again keeps it; disabled it refuses (TestProxyUpdate)', async (t) => {
  await clear();
  t.after(() => clear());
  const created = await createProxy('up', '127.0.0.1:0', `127.0.0.1:${echo.port}`);
  const before = created.json.listen;
  const moved = await http('PATCH', '/proxies/up', { listen: 'localhost:0', upstream: `127.0.0.1:${echo.port}`, enabled: true });
  assert.equal(moved.status, 200);
  assert.notEqual(moved.json.listen, before);
  assert.notEqual(moved.json.listen, 'localhost:0');
  assert.equal(await isUp(moved.json.listen), true);
  assert.equal(await isUp(before), false);
  const same = await http('PATCH', '/proxies/up', { listen: moved.json.listen, upstream: `127.0.0.1:${echo.port}`, enabled: true });
  assert.equal(same.json.listen, moved.json.listen);
  assert.equal(await isUp(same.json.listen), true);
  await http('PATCH', '/proxies/up', { listen: moved.json.listen, upstream: `127.0.0.1:${echo.port}`, enabled: false });
  assert.equal(await isUp(moved.json.listen), false);
});

both('api: a proxy that could not listen starts once the port is free (TestRestartFailedToStartProxy, TestStartTwoProxiesOnSameAddress)', async (t) => {
  await clear();
  t.after(() => clear());
  const first = await createProxy('first', '127.0.0.1:0', `127.0.0.1:${echo.port}`);
  const saved = await http('POST', '/proxies', { name: 'second', listen: first.json.listen, upstream: `127.0.0.1:${echo.port}`, enabled: false });
  assert.equal(saved.status, 201);
  const clash = await http('PATCH', '/proxies/second', { enabled: true });
  assert.deepEqual([clash.status, clash.json.error], [500, `listen tcp ${first.json.listen}: bind: address already in use`]);
  assert.equal((await http('GET', '/proxies/second')).json.enabled, false);
  await http('DELETE', '/proxies/first');
  const started = await http('PATCH', '/proxies/second', { enabled: true });
  assert.equal(started.status, 200, started.text);
  assert.equal(await isUp(started.json.listen), true);
});

both('proxy: a message, a big one, one in two parts reach the upstream; an upstream that is down closes the client (TestProxySimpleMessage … TestProxyToDownUpstream)', async (t) => {
  await clear();
  t.after(() => clear());
  const a = await acceptor();
  t.after(() => a.close());
  const p = await createProxy('msg', '127.0.0.1:0', `127.0.0.1:${a.port}`);
  const big = Buffer.alloc(32 * 1024, 'a');
  for (const parts of [['hello world'], [big.toString()], ['hello ', 'world']]) {
    const client = await dial(portOf(p.json.listen));
    const up = watch(await a.next());
    for (const part of parts) { client.write(part); await sleep(10); }
    await until(() => up.data().length >= parts.join('').length, 1000, 'the message', 2);
    assert.equal(up.data().toString(), parts.join(''));
    client.destroy();
  }
  const gone = await freePort();
  const down = await createProxy('down', '127.0.0.1:0', `127.0.0.1:${gone}`);
  const client = await dial(portOf(down.json.listen));
  assert.equal(await within(watch(client).ended, 1000), 'end');
  client.destroy();
});

// ---------------------------------------------------------------- toxics/*_test.go on real sockets

/** Send one line through a proxy to a server that answers it, timing the round trip. */
async function roundTrip(listen: string): Promise<number> {
  const s = await dial(portOf(listen));
  const w = watch(s);
  const t0 = performance.now();
  s.write('omg\n');
  await until(() => w.data().includes(0x0a), 3000, 'the reply', 1);
  s.destroy();
  return performance.now() - t0;
}

both('toxics: latency upstream, downstream, both, two toxics added up (TestUpstreamLatency … TestTwoLatencyToxics)', async (t) => {
  await clear();
  t.after(() => clear());
  const p = await createProxy('lat', '127.0.0.1:0', `127.0.0.1:${echo.port}`);
  const base = await roundTrip(p.json.listen);
  const check = async (expected: number) => {
    const ms = await roundTrip(p.json.listen);
    assert.ok(ms >= expected - 2 && ms < expected + 150 + base, `round trip ${ms.toFixed(1)} ms, expected ${expected}`);
  };
  await addToxic('lat', '', 'latency', 'upstream', 1, { latency: 100 });
  await check(100);
  await addToxic('lat', '', 'latency', 'downstream', 1, { latency: 100 });
  await check(200);
  await http('DELETE', '/proxies/lat/toxics/latency_upstream');
  await addToxic('lat', 'second', 'latency', 'downstream', 1, { latency: 50 });
  await check(150);
});

both('toxics: adding and removing a latency toxic around short connections leaves the proxy working (TestLatencyToxicCloseRace)', async (t) => {
  await clear();
  t.after(() => clear());
  const p = await createProxy('race', '127.0.0.1:0', `127.0.0.1:${echo.port}`);
  for (let i = 0; i < 100; i++) {
    await addToxic('race', '', 'latency', 'upstream', 1, { latency: 10 });
    const s = await dial(portOf(p.json.listen));
    s.end('hello');
    s.destroy();
    assert.equal((await http('DELETE', '/proxies/race/toxics/latency_upstream')).status, 204);
  }
  assert.ok((await roundTrip(p.json.listen)) < 500, 'the proxy still relays');
});

both('toxics: latency delays each chunk, it does not space them out: a stream keeps its rate (TestLatencyToxicBandwidth)', async (t) => {
  await clear();
  t.after(() => clear());
  const a = await acceptor();
  t.after(() => a.close());
  const p = await createProxy('lbw', '127.0.0.1:0', `127.0.0.1:${a.port}`);
  const client = await dial(portOf(p.json.listen));
  const up = await a.next();
  const payload = Buffer.from('hello world '.repeat(1000));
  let writing = true;
  const pump = () => { while (writing && up.write(payload)); if (writing) up.once('drain', pump); };
  up.on('close', () => { writing = false; });
  pump();
  t.after(() => { writing = false; up.destroy(); client.destroy(); });
  await addToxic('lbw', '', 'latency', '', 1, { latency: 100 });
  await sleep(150);
  let got = 0;
  const want = 100 * payload.length;
  const t0 = performance.now();
  await new Promise<void>((resolve) => { client.on('data', (b) => { got += b.length; if (got >= want) resolve(); }); });
  const ms = performance.now() - t0;
  // Toxiproxy asserts >= 100 MB/s; a latency that spaced chunks 100 ms apart would take seconds here.
  assert.ok(ms < 150, `${(want / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms`);
});

both('toxics: bandwidth 1000 KB/s carries 480 KB in about 480 ms (TestBandwidthToxic)', async (t) => {
  await clear();
  t.after(() => clear());
  const a = await acceptor();
  t.after(() => a.close());
  const p = await createProxy('bw', '127.0.0.1:0', `127.0.0.1:${a.port}`);
  const client = await dial(portOf(p.json.listen));
  const up = watch(await a.next());
  await addToxic('bw', '', 'bandwidth', 'upstream', 1, { rate: 1000 });
  const payload = Buffer.from('hello world '.repeat(40000));
  const t0 = performance.now();
  client.end(payload);
  await until(() => up.data().length >= payload.length, 5000, 'the payload');
  const ms = performance.now() - t0;
  assert.ok(up.data().equals(payload));
  assert.ok(ms >= 470 && ms < 800, `${ms.toFixed(0)} ms for 480 KB at 1000 KB/s`);
});

both('toxics: limit_data passes exactly `bytes`, then closes; 0 closes on the first data (TestLimitDataToxic*)', async (t) => {
  await clear();
  t.after(() => clear());
  const a = await acceptor();
  t.after(() => a.close());
  const p = await createProxy('lim', '127.0.0.1:0', `127.0.0.1:${a.port}`);
  await addToxic('lim', '', 'limit_data', 'upstream', 1, { bytes: 100 });
  for (const sends of [[90, 20], [100], [150], [50, 50]]) {
    const client = await dial(portOf(p.json.listen));
    const c = watch(client);
    const up = watch(await a.next());
    for (const n of sends) { client.write(Buffer.alloc(n, 7)); await sleep(20); }
    assert.equal(await within(up.ended, 1000), 'end', `${sends}: the upstream is closed`);
    assert.equal(up.data().length, 100, `${sends}: exactly 100 bytes`);
    assert.equal(await within(c.ended, 1000), 'end', `${sends}: and so is the client`);
    client.destroy();
  }
  await http('PATCH', '/proxies/lim/toxics/limit_data_upstream', { attributes: { bytes: 0 } });
  const client = await dial(portOf(p.json.listen));
  const up = watch(await a.next());
  client.write('x');
  assert.equal(await within(up.ended, 1000), 'end');
  assert.equal(up.data().length, 0);
  client.destroy();
});

/** Toxiproxy's resetTCPHelper: the client writes a line; its read fails with ECONNRESET. */
async function resetPeer(stream: string, timeout: number, server = srv): Promise<{ ending: string | 'timeout'; ms: number }> {
  const a = await acceptor();
  try {
    const p = await createProxy(`reset_${stream}_${timeout}`, '127.0.0.1:0', `127.0.0.1:${a.port}`, server);
    await addToxic(p.json.name, 'resettcp', 'reset_peer', stream, 1, { timeout }, server);
    const t0 = performance.now();
    const client = await dial(portOf(p.json.listen));
    const c = watch(client);
    a.next().then((s) => { s.once('data', () => s.write('reset toxic payload\n')); });
    client.write('reset toxic payload\n');
    const ending = await within(c.ended, 2000);
    client.destroy();
    return { ending, ms: performance.now() - t0 };
  } finally { await a.close(); }
}

both('toxics: reset_peer resets at once, or after `timeout`, upstream or downstream (TestResetToxicNoTimeout, …WithTimeout, …WithTimeoutDownstream)', async (t) => {
  await clear();
  t.after(() => clear());
  assert.equal((await resetPeer('upstream', 0)).ending, 'ECONNRESET');
  const up = await resetPeer('upstream', 100);
  assert.equal(up.ending, 'ECONNRESET');
  assert.ok(up.ms >= 98 && up.ms < 400, `${up.ms.toFixed(0)} ms`);
  const down = await resetPeer('downstream', 100);
  assert.equal(down.ending, 'ECONNRESET');
  assert.ok(down.ms >= 98 && down.ms < 400, `${down.ms.toFixed(0)} ms`);
});

both('toxics: slicer delivers every byte, in pieces (TestSlicerToxic)', async (t) => {
  await clear();
  t.after(() => clear());
  const a = await acceptor();
  t.after(() => a.close());
  const p = await createProxy('sl', '127.0.0.1:0', `127.0.0.1:${a.port}`);
  await addToxic('sl', '', 'slicer', 'upstream', 1, { average_size: 10, size_variation: 9, delay: 1000 });
  const client = await dial(portOf(p.json.listen));
  const upSock = await a.next();
  let reads = 0;
  upSock.on('data', () => reads++);
  const up = watch(upSock);
  const payload = Buffer.from('hello world '.repeat(40));
  client.write(payload);
  await until(() => up.data().length >= payload.length, 3000, 'the payload');
  assert.ok(up.data().equals(payload));
  assert.ok(reads > 5, `${reads} reads: the data came in pieces`);
  client.destroy();
});

both('toxics: timeout 0 holds the data; removing it closes both ends (TestTimeoutToxicClosesConnectionOnRemove, TestTimeoutToxicDoesNotCauseHang)', async (t) => {
  await clear();
  t.after(() => clear());
  const a = await acceptor();
  t.after(() => a.close());
  const e = await established('to', a.port, a);
  await addToxic('to', 'might_block', 'latency', 'upstream', 1, { latency: 10 });
  await addToxic('to', 'timeout', 'timeout', 'upstream', 1, { timeout: 0 });
  for (let i = 0; i < 5; i++) { e.client.write('hello'); await sleep(40); }
  const t0 = performance.now();
  assert.equal((await http('DELETE', '/proxies/to/toxics/might_block')).status, 204);
  assert.ok(performance.now() - t0 < 1000, 'removing a toxic before a timeout does not hang');
  assert.equal(e.u.data().toString(), 'foobar', 'the timeout toxic dropped the data');
  await http('DELETE', '/proxies/to/toxics/timeout');
  assert.equal(await within(e.c.ended, 1000), 'end');
  assert.equal(await within(e.u.ended, 1000), 'end');
  e.client.destroy();
});

both('toxics: timeout closes once no data came for `timeout` ms: each chunk starts the wait again (TimeoutToxic\'s Pipe)', async (t) => {
  await clear();
  t.after(() => clear());
  const a = await acceptor();
  t.after(() => a.close());
  const e = await established('tr', a.port, a);
  await addToxic('tr', '', 'timeout', 'upstream', 1, { timeout: 300 });
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) { await sleep(100); e.client.write('x'); }
  // 500 ms after the toxic came: a fixed deadline would have closed at 300 ms.
  assert.equal(await within(e.c.ended, 0), 'timeout', 'still open while chunks keep coming');
  const last = performance.now();
  assert.equal(await within(e.c.ended, 1000), 'end');
  const after = performance.now() - last;
  assert.ok(performance.now() - t0 > 700 && after > 250 && after < 600, `closed ${after.toFixed(0)} ms after the last chunk`);
  e.client.destroy();
});

both('toxics: a latency toxic added and removed again and again drops nothing, and its removal lets held data go at once (TestNoDataDropped)', async (t) => {
  await clear();
  t.after(() => clear());
  const a = await acceptor();
  t.after(() => a.close());
  const e = await established('nd', a.port, a);
  // 2,000 numbered 2-byte writes while a 1 s latency toxic comes and goes.
  let churn = true;
  const churning = (async () => {
    while (churn) {
      await addToxic('nd', 'slow', 'latency', 'downstream', 1, { latency: 1000 });
      await http('DELETE', '/proxies/nd/toxics/slow');
    }
  })();
  const expected = Buffer.alloc(4000);
  for (let i = 0; i < 2000; i++) {
    expected.writeUInt16BE(i, 2 * i);
    e.upstream.write(expected.subarray(2 * i, 2 * i + 2));
    if (i % 100 === 0) await sleep(5);
  }
  churn = false;
  await churning;
  const t0 = performance.now();
  await until(() => e.c.data().length >= 6 + 4000, 900, 'every byte, without a held-back second');
  assert.ok(e.c.data().subarray(6).equals(expected), 'in order, none lost');
  assert.ok(performance.now() - t0 < 900);
  e.client.destroy();
});

both('toxics: a connection survives toxics added, reset and removed around it (TestPersistentConnections, TestToxicAddRemove)', async (t) => {
  await clear();
  t.after(() => clear());
  const a = await acceptor();
  t.after(() => a.close());
  const e = await established('pc', a.port, a);
  let sent = 'foobar';
  const echoBack = async (i: number) => {
    const m = `ping${i}`;
    e.client.write(m);
    sent += m;
    await until(() => e.u.data().toString() === sent, 1000, `ping ${i} upstream`, 2);
  };
  await addToxic('pc', 'noop_up', 'noop', 'upstream', 1, null);
  await addToxic('pc', 'noop_down', 'noop', 'downstream', 1, null);
  await echoBack(0);
  await http('POST', '/reset');
  await echoBack(1);
  for (let i = 0; i < 20; i++) {
    if (i % 2) { await addToxic('pc', 'noop_up', 'noop', 'upstream', 1, null); await http('DELETE', '/proxies/pc/toxics/noop_down'); }
    else { await http('DELETE', '/proxies/pc/toxics/noop_up'); await addToxic('pc', 'noop_down', 'noop', 'downstream', 1, null); }
    await echoBack(i + 2);
  }
  e.client.destroy();
});

// ---------------------------------------------------------------- reset_peer's SO_LINGER and the compatibility mode

/** A client that sent data, a reset_peer toxic added afterwards, then more data: how the client's connection ends. */
async function resetPeerAddedLive(server: RunningProxy): Promise<string | 'timeout'> {
  const a = await acceptor();
  try {
    const e = await established('live', a.port, a, server);
    await addToxic('live', '', 'reset_peer', 'upstream', 1, { timeout: 0 }, server);
    e.client.write('more');
    const ending = await within(e.c.ended, 1000);
    e.client.destroy();
    await http('DELETE', '/proxies/live', undefined, { server });
    return ending;
  } finally { await a.close(); }
}

test('reset_peer added to a live connection: rstlab resets; Toxiproxy (compatibility mode) closes with FIN, not having set SO_LINGER 0', async () => {
  srv = rp;
  assert.equal(await resetPeerAddedLive(rp), 'ECONNRESET');
  assert.equal(await resetPeerAddedLive(compat), 'end');
});

/** A reset_peer toxic of toxicity 0 is on the proxy; the client closes cleanly: how the upstream's connection ends. */
async function toxicityZeroClose(server: RunningProxy): Promise<string | 'timeout'> {
  const a = await acceptor();
  try {
    const p = await createProxy('t0', '127.0.0.1:0', `127.0.0.1:${a.port}`, server);
    await addToxic('t0', '', 'reset_peer', 'downstream', 0, null, server);
    const client = await dial(portOf(p.json.listen));
    const up = watch(await a.next());
    client.end();
    const ending = await within(up.ended, 1000);
    client.destroy();
    await http('DELETE', '/proxies/t0', undefined, { server });
    return ending;
  } finally { await a.close(); }
}

test('reset_peer with toxicity 0: a clean client close reaches the upstream as FIN in rstlab, as RST in Toxiproxy (SO_LINGER 0 set whatever the toxicity)', async () => {
  srv = rp;
  assert.equal(await toxicityZeroClose(rp), 'end');
  assert.equal(await toxicityZeroClose(compat), 'ECONNRESET');
});

/** The client half-closes after a request; the upstream answers after the FIN: what the client reads. */
async function halfClose(server: RunningProxy): Promise<{ data: string; ending: string | 'timeout' }> {
  const s = await serveLate();
  try {
    const p = await createProxy('hc', '127.0.0.1:0', `127.0.0.1:${s.port}`, server);
    const client = await dial(portOf(p.json.listen));
    const c = watch(client);
    client.end('request');
    const ending = await within(c.ended, 1000);
    client.destroy();
    await http('DELETE', '/proxies/hc', undefined, { server });
    return { data: c.data().toString(), ending };
  } finally { await s.close(); }
}

/** A server that reads to EOF, then answers. */
function serveLate(): Promise<Served> {
  return (async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer({ allowHalfOpen: true }, (sock) => {
      sockets.add(sock);
      sock.on('error', () => {});
      let got = '';
      sock.on('data', (b) => { got += b; });
      sock.on('end', () => { setTimeout(() => sock.end(`answer to ${got}`), 50); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { server, port: (server.address() as net.AddressInfo).port, close: () => new Promise<void>((r) => { for (const x of sockets) x.destroy(); server.close(() => r()); }) };
  })();
}

test('a half-closing client: rstlab relays the FIN and the answer after it; Toxiproxy (compatibility mode) closes the whole connection', async () => {
  srv = rp;
  assert.deepEqual(await halfClose(rp), { data: 'answer to request', ending: 'end' });
  assert.deepEqual(await halfClose(compat), { data: '', ending: 'end' });
});

test('compatibility mode: an empty listen host binds every interface, shown as Go shows it; the upstream closing closes the client', async (t) => {
  srv = rp;
  t.after(() => clear(compat));
  const r = await http('POST', '/proxies', { name: 'wild', upstream: `127.0.0.1:${echo.port}` }, { server: compat });
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.listen, /^\[::\]:\d+$/);
  assert.equal(await isUp(r.json.listen), true);
  // Default mode: loopback.
  const d = await http('POST', '/proxies', { name: 'loop', upstream: `127.0.0.1:${echo.port}` });
  t.after(() => clear());
  assert.match(d.json.listen, /^127\.0\.0\.1:\d+$/);
  // Toxiproxy compares `:port` as Go resolves it (no host), so the same `:port` recreates the proxy there.
  const port = portOf(r.json.listen);
  await addToxic('wild', 'x', 'noop', '', 1, null, compat);
  const again = await http('POST', '/populate', [{ name: 'wild', listen: `:${port}`, upstream: `127.0.0.1:${echo.port}` }], { server: compat });
  assert.equal(again.status, 201, again.text);
  assert.deepEqual(again.json.proxies[0].toxics, [], 'recreated: its toxics are gone');
});
