// Compatibility: the official toxiproxy-node-client, unmodified, drives rstlab proxy through every
// call it offers; raw HTTP checks the status codes and error bodies for bad input; real sockets
// check that Toxiproxy's toxics act as Toxiproxy documents them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Toxiproxy, ToxiproxyError } from 'toxiproxy-node-client';
import { startProxy, type RunningProxy } from './index.js';
import { echoServer, serve, talk, sleep, type Served } from './testkit.js';

let rp: RunningProxy;
let echo: Served;
let client: Toxiproxy;

before(async () => {
  echo = await echoServer();
  rp = await startProxy({ port: 0 });
  client = new Toxiproxy(rp.url);
});
after(async () => {
  await rp?.stop();
  await echo?.close();
});

async function raw(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; text: string; headers: Headers }> {
  const res = await fetch(rp.url + path, { method, body, headers });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text, headers: res.headers };
}

test('the control API listens on loopback by default', () => {
  assert.equal(rp.host, '127.0.0.1');
});

test('toxiproxy-node-client: version, create, list, get, update, toxics, populate, reset, delete', async () => {
  const version = await client.getVersion();
  assert.equal(JSON.parse(version).version, '2.12.0');

  const proxy = await client.createProxy({ name: 'echo', listen: 'localhost:0', upstream: `127.0.0.1:${echo.port}` });
  assert.equal(proxy.name, 'echo');
  assert.equal(proxy.enabled, true);
  assert.match(proxy.listen, /^127\.0\.0\.1:\d+$/);
  const port = Number(proxy.listen.split(':')[1]);
  assert.notEqual(port, 0);
  assert.equal((await talk(port, ['ping'], { endAfterSend: true })).data.toString(), 'ping');

  const all = await client.getAll();
  assert.deepEqual(Object.keys(all), ['echo']);
  assert.equal(all.echo.upstream, `127.0.0.1:${echo.port}`);
  const got = await client.get('echo');
  assert.equal(got.listen, proxy.listen);

  // Disable: the port refuses; enable again: it relays.
  const disabled = await got.update({ enabled: false, listen: got.listen, upstream: got.upstream });
  assert.equal(disabled.enabled, false);
  assert.equal((await talk(port, ['x'])).ending, 'ECONNREFUSED');
  const enabled = await disabled.update({ enabled: true, listen: got.listen, upstream: got.upstream });
  assert.equal(enabled.enabled, true);
  assert.equal((await talk(port, ['pong'], { endAfterSend: true })).data.toString(), 'pong');

  // Toxics: default name <type>_<stream>, default stream downstream, toxicity 1.
  const lat = await enabled.addToxic({ type: 'latency', attributes: { latency: 150, jitter: 0 } } as never);
  assert.equal(lat.name, 'latency_downstream');
  assert.equal(lat.stream, 'downstream');
  assert.equal(lat.toxicity, 1);
  assert.deepEqual(lat.attributes, { latency: 150, jitter: 0 });
  const t0 = performance.now();
  assert.equal((await talk(port, ['slow'], { endAfterSend: true })).data.toString(), 'slow');
  assert.ok(performance.now() - t0 >= 140, 'the latency toxic delays the reply');
  const fetched = await enabled.getToxic('latency_downstream');
  assert.deepEqual(fetched.toJson(), lat.toJson());
  const updated = await fetched.update({ attributes: { latency: 10 }, toxicity: 0.5 } as never);
  assert.deepEqual(updated.attributes, { latency: 10, jitter: 0 });
  assert.equal(updated.toxicity, 0.5);
  assert.equal((await client.get('echo')).toJson().name, 'echo');
  const listed = await raw('GET', '/proxies/echo/toxics');
  assert.equal(listed.json.length, 1);
  await updated.remove();
  assert.deepEqual((await raw('GET', '/proxies/echo/toxics')).json, []);

  // Populate: creates new ones, returns {proxies: [...]}.
  const populated = await client.populate([
    { name: 'p1', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` },
    { name: 'p2', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}`, enabled: false },
  ]);
  assert.deepEqual(Object.keys(populated).sort(), ['p1', 'p2']);
  assert.equal(populated.p2.enabled, false);

  // Reset: everything enabled, every toxic gone.
  await (await client.get('p1')).addToxic({ type: 'timeout', attributes: { timeout: 0 } } as never);
  await client.reset();
  const afterReset = await client.getAll();
  assert.equal(afterReset.p2.enabled, true);
  assert.deepEqual((await raw('GET', '/proxies/p1')).json.toxics, []);

  // Delete: 204, then 404 through the client.
  await afterReset.p1.remove();
  await afterReset.p2.remove();
  await assert.rejects(client.get('p1'), (e: Error) => e instanceof ToxiproxyError && /404/.test(e.message));
  await assert.rejects(afterReset.p1.remove(), /404/);
  await proxy.remove();
  assert.deepEqual(await client.getAll(), {});
});

test('bad input gets Toxiproxy\'s status codes and error bodies', async (t) => {
  t.after(async () => { await raw('DELETE', '/proxies/a'); await raw('DELETE', '/proxies/b'); });
  const created = await raw('POST', '/proxies', JSON.stringify({ name: 'a', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` }));
  assert.equal(created.status, 201);
  assert.deepEqual(Object.keys(created.json), ['name', 'listen', 'upstream', 'enabled', 'Logger', 'toxics']);

  const cases: Array<[string, string, string | undefined, number, RegExp]> = [
    ['POST', '/proxies', '{"name": "x",', 400, /^bad request body: /],
    ['POST', '/proxies', JSON.stringify({ upstream: 'x:1' }), 400, /^missing required field: name$/],
    ['POST', '/proxies', JSON.stringify({ name: 'q' }), 400, /^missing required field: upstream$/],
    ['POST', '/proxies', JSON.stringify({ name: 'a', upstream: 'x:1' }), 409, /^proxy already exists$/],
    ['POST', '/proxies', JSON.stringify({ name: 'b', listen: created.json.listen, upstream: 'x:1' }), 500, /^listen tcp 127\.0\.0\.1:\d+: bind: address already in use$/],
    ['POST', '/proxies', JSON.stringify({ name: 'c', listen: 'nonsense', upstream: 'x:1' }), 500, /missing port in address/],
    ['GET', '/proxies/nope', undefined, 404, /^proxy not found$/],
    ['POST', '/proxies/nope/toxics', JSON.stringify({ type: 'latency' }), 404, /^proxy not found$/],
    ['POST', '/proxies/a/toxics', JSON.stringify({ type: 'explode' }), 400, /^invalid toxic type$/],
    ['POST', '/proxies/a/toxics', JSON.stringify({ type: 'latency', stream: 'sideways' }), 400, /^stream was invalid, can be either upstream or downstream$/],
    ['POST', '/proxies/a/toxics', JSON.stringify({ type: 'latency', attributes: { latency: 'slow' } }), 400, /^bad request body: json: cannot unmarshal string into Go struct field LatencyToxic\.attributes\.latency of type int64$/],
    ['POST', '/proxies/a/toxics', JSON.stringify({ type: 'reset_after_bytes', attributes: { bytes: -1 } }), 400, /^bad request body: attribute reset_after_bytes\.bytes must not be negative/],
    ['POST', '/proxies/a/toxics', 'not json', 400, /^bad request body: /],
    ['GET', '/proxies/a/toxics/nope', undefined, 404, /^toxic not found$/],
    ['DELETE', '/proxies/a/toxics/nope', undefined, 404, /^toxic not found$/],
    ['POST', '/proxies/a/toxics/nope', '{}', 404, /^toxic not found$/],
    ['POST', '/populate', JSON.stringify([{ upstream: 'x:1' }]), 400, /^missing required field: name at proxy 1$/],
  ];
  for (const [method, path, body, status, message] of cases) {
    const r = await raw(method, path, body);
    assert.equal(r.status, status, `${method} ${path} ${body}: ${r.text}`);
    assert.match(r.json.error, message, `${method} ${path}`);
    assert.equal(r.json.status, status);
    if (path !== '/populate') assert.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8', `${method} ${path}: Go's http.Error`);
  }
  // A toxic name used twice: 409. Populate errors keep Toxiproxy's "proxies": null.
  assert.equal((await raw('POST', '/proxies/a/toxics', JSON.stringify({ type: 'latency' }))).status, 200);
  const dup = await raw('POST', '/proxies/a/toxics', JSON.stringify({ type: 'latency' }));
  assert.deepEqual(dup.json, { error: 'toxic already exists', status: 409 });
  assert.equal((await raw('POST', '/populate', '[{}]')).json.proxies, null);
  // Nothing of the failed populate was applied.
  assert.equal((await raw('GET', '/proxies/d')).status, 404);
  // Unknown route, and browsers.
  assert.equal((await raw('GET', '/nothing')).status, 404);
  assert.equal((await raw('GET', '/proxies', undefined, { 'user-agent': 'Mozilla/5.0' })).status, 403);
});

test('Toxiproxy toxics on real sockets: reset_peer, limit_data, timeout, slow_close, slicer, bandwidth', async (t) => {
  const p = await rp.collection.create({ name: 'tox', upstream: `127.0.0.1:${echo.port}` });
  t.after(() => rp.collection.remove('tox'));
  const port = Number(p.listen.split(':')[1]);

  rp.collection.addToxic('tox', { type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 } });
  assert.equal((await talk(port, ['hello'])).ending, 'ECONNRESET');
  rp.collection.removeToxic('tox', 'reset_peer_upstream');

  rp.collection.addToxic('tox', { type: 'limit_data', attributes: { bytes: 3 } });
  const limited = await talk(port, ['abcdef']);
  assert.equal(limited.data.toString(), 'abc');
  assert.equal(limited.ending, 'end');
  rp.collection.removeToxic('tox', 'limit_data_downstream');

  rp.collection.addToxic('tox', { type: 'timeout', attributes: { timeout: 100 } });
  const t0 = performance.now();
  const timedOut = await talk(port, ['dropped']);
  assert.equal(timedOut.data.length, 0);
  assert.equal(timedOut.ending, 'end');
  assert.ok(performance.now() - t0 >= 90);
  rp.collection.removeToxic('tox', 'timeout_downstream');

  rp.collection.addToxic('tox', { type: 'slow_close', attributes: { delay: 150 } });
  const t1 = performance.now();
  const slow = await talk(port, ['bye'], { endAfterSend: true });
  assert.equal(slow.data.toString(), 'bye');
  assert.ok(performance.now() - t1 >= 140, 'the FIN was held back');
  rp.collection.removeToxic('tox', 'slow_close_downstream');

  rp.collection.addToxic('tox', { type: 'slicer', attributes: { average_size: 2, size_variation: 1, delay: 100 } });
  const sliced = await talk(port, ['0123456789'], { endAfterSend: true });
  assert.equal(sliced.data.toString(), '0123456789');
  rp.collection.removeToxic('tox', 'slicer_downstream');

  rp.collection.addToxic('tox', { type: 'bandwidth', attributes: { rate: 100 } }); // 100 KB/s
  const t2 = performance.now();
  const bw = await talk(port, [Buffer.alloc(30_000, 1)], { endAfterSend: true });
  assert.equal(bw.data.length, 30_000);
  assert.ok(performance.now() - t2 >= 250, '30 kB at 100 KB/s takes about 300 ms');
  rp.collection.removeToxic('tox', 'bandwidth_downstream');

  // Toxicity 0: the toxic never applies.
  rp.collection.addToxic('tox', { type: 'reset_peer', toxicity: 0 });
  assert.equal((await talk(port, ['safe'], { endAfterSend: true })).data.toString(), 'safe');
});

test('counters and the event log say which fault fired on which connection', async (t) => {
  const p = await rp.collection.create({ name: 'obs', upstream: `127.0.0.1:${echo.port}` });
  t.after(() => rp.collection.remove('obs'));
  const port = Number(p.listen.split(':')[1]);
  rp.collection.addToxic('obs', { name: 'cut', type: 'reset_after_bytes', attributes: { bytes: 2 } });
  const since = rp.events.list().at(-1)?.seq ?? 0;
  const out = await talk(port, ['abcd']);
  assert.equal(out.data.toString(), 'ab');
  // The RST itself is checked on the wire in faults.e2e.test.ts; a Node client that has just read data
  // before a RST may report EOF instead of ECONNRESET, so only the data is checked here.
  assert.ok(['ECONNRESET', 'end'].includes(out.ending), out.ending);
  await sleep(50);
  const evs = (await raw('GET', `/events?since=${since}&proxy=obs`)).json as Array<{ event: string; conn: number; fault?: { toxic: string; action: string } }>;
  assert.deepEqual(evs.map((e) => e.event), ['open', 'fault', 'close']);
  assert.equal(new Set(evs.map((e) => e.conn)).size, 1);
  assert.equal(evs[1].fault?.toxic, 'cut');
  assert.equal(evs[1].fault?.action, 'rst client+upstream');
  const stats = (await raw('GET', '/proxies/obs/stats')).json;
  assert.equal(stats.connectionsTotal, 1);
  assert.equal(stats.faults.cut, 1);
  assert.equal(stats.bytesDownstream, 2);
});

test('an unreachable upstream closes the client and is logged', async (t) => {
  const dead = await serve(() => {});
  const deadPort = dead.port;
  await dead.close();
  const p = await rp.collection.create({ name: 'dead', upstream: `127.0.0.1:${deadPort}` });
  t.after(() => rp.collection.remove('dead'));
  const out = await talk(Number(p.listen.split(':')[1]), []);
  assert.equal(out.ending, 'end');
  assert.equal(rp.events.list(0, 'dead').some((e) => e.event === 'upstream-error' && e.error === 'ECONNREFUSED'), true);
});

test('a second rstlab proxy on the same control port fails with a clear message', async () => {
  await assert.rejects(startProxy({ port: rp.port }), /bind: address already in use/);
  // And the proxies of a config are not left listening behind it: their port can be bound again.
  const free = await serve(() => {});
  const port = free.port;
  await free.close();
  await assert.rejects(startProxy({ port: rp.port, config: [{ name: 'left', listen: `127.0.0.1:${port}`, upstream: `127.0.0.1:${echo.port}` }] }),
    /bind: address already in use/);
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(port, '127.0.0.1', () => resolve()); });
  await new Promise<void>((r) => s.close(() => r()));
});
