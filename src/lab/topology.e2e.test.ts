// Tests for topology.ts on the real kernel. As root: the namespaces come up, TCP (v4 and v6)
// crosses the router, a REJECT in the router's FORWARD chain sends a RST whose TTL proves it came
// from the router (one hop less decremented than the server's packets), a DROP makes connect()
// time out, sysctls change inside only, and destroy leaves no namespace, interface or process.
// Loopback mode runs as root and, via setpriv, as the unprivileged user `nobody`.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import { findExecutable, spawnChild, type Child } from './proc.js';
import { startCapture } from './capture.js';
import {
  createTopology, deleteArgs, inferFamily, netnsName, newRunId, SHORT_TCP_TIMERS, HOST_NAMES,
  type Topology,
} from './topology.js';
import { waitGone, netnsList } from './testkit.js';

const NODE = process.execPath;
const isRoot = process.getuid?.() === 0;
const NOT_ROOT = isRoot ? false : 'needs root (network namespaces, iptables, tcpdump)';

// A TCP echo server: argv host port.
const ECHO_SERVER = `
const net = require('net');
const out = (o) => console.log(JSON.stringify(o));
const srv = net.createServer((s) => {
  out({ event: 'accepted', peer: s.remoteAddress + ':' + s.remotePort });
  s.on('error', (e) => out({ event: 'closed', how: 'error', error: e.code }));
  s.pipe(s);
});
srv.listen(Number(process.argv[2]), process.argv[1], () => out({ event: 'listening', host: process.argv[1], port: srv.address().port }));
setTimeout(() => process.exit(0), 60000);
`;
// A TCP client: argv host port giveUpMs. Sends "ping", reports the echo; on "go" sends "again".
const ECHO_CLIENT = `
const net = require('net');
const out = (o) => console.log(JSON.stringify(o));
const s = net.connect({ host: process.argv[1], port: Number(process.argv[2]) });
const t0 = Date.now();
s.on('connect', () => { out({ event: 'connected', local: s.localAddress + ':' + s.localPort }); s.write('ping'); });
s.on('data', (d) => out({ event: 'echo', data: String(d) }));
s.on('error', (e) => out({ event: 'error', code: e.code, ms: Date.now() - t0 }));
s.on('close', () => { out({ event: 'closed' }); process.exit(0); });
process.stdin.on('data', (d) => { if (String(d).trim() === 'go') s.write('again'); });
setTimeout(() => { out({ event: 'gave-up' }); process.exit(2); }, Number(process.argv[3]) || 10000);
`;

function hostSysctl(key: string): string {
  return readFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, 'utf8').trim();
}



async function echoServer(topo: Topology, host: 'server' | 'proxy', addr: string, port = 0): Promise<{ child: Child; port: number }> {
  const child = topo.spawn(host, [NODE, '-e', ECHO_SERVER, addr, String(port)], { label: `echo-server@${host}` });
  const ev = await child.waitFor('listening', 5000);
  return { child, port: Number(ev.port) };
}

const HOST_KEYS = [...Object.keys(SHORT_TCP_TIMERS), 'net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'];

test('pure helpers: iptables delete form and address family', () => {
  assert.deepEqual(deleteArgs(['-A', 'FORWARD', '-p', 'tcp', '-j', 'DROP']), ['-D', 'FORWARD', '-p', 'tcp', '-j', 'DROP']);
  assert.deepEqual(deleteArgs(['-I', 'FORWARD', '1', '-p', 'tcp', '-j', 'DROP']), ['-D', 'FORWARD', '-p', 'tcp', '-j', 'DROP']);
  assert.deepEqual(deleteArgs(['-t', 'filter', '-I', 'INPUT', '-j', 'DROP']), ['-t', 'filter', '-D', 'INPUT', '-j', 'DROP']);
  assert.throws(() => deleteArgs(['-F']), LabError);
  assert.throws(() => deleteArgs(['-A', 'FORWARD', '-F']), LabError);
  assert.equal(inferFamily(['-A', 'FORWARD', '-d', '203.0.113.2', '-j', 'DROP']), 4);
  assert.equal(inferFamily(['-A', 'FORWARD', '-d', '2001:db8:2::2/128', '-j', 'DROP']), 6);
  assert.equal(inferFamily(['-A', 'FORWARD', '-p', 'tcp', '--dport', '80', '-j', 'DROP']), 'both');
  assert.match(newRunId(), /^[a-z0-9]{8}$/);
});

test('invalid run ids are refused', async () => {
  await assert.rejects(createTopology({ runId: 'Bad Id', mode: 'loopback' }), LabError);
  await assert.rejects(createTopology({ runId: '../x', mode: 'loopback' }), LabError);
});

test('netns topology', { skip: NOT_ROOT }, async (t) => {
  const hostBefore = Object.fromEntries(HOST_KEYS.map((k) => [k, hostSysctl(k)]));
  const runId = `t${newRunId()}`;
  const topo = await createTopology({ runId, mode: 'auto' });
  const work = mkdtempSync(join(tmpdir(), 'rstlab-topo-'));
  after(async () => {
    await topo.destroy();
    rmSync(work, { recursive: true, force: true });
  });
  assert.equal(topo.mode, 'netns');
  assert.match(topo.reason, /root/);

  await t.test('namespaces, interfaces and addresses', async () => {
    for (const h of HOST_NAMES) {
      assert.equal(topo.hosts[h].netns, netnsName(runId, h));
      assert.ok(netnsList().includes(netnsName(runId, h)));
    }
    assert.deepEqual(
      [topo.hosts.client.ipv4, topo.hosts.server.ipv4, topo.hosts.proxy.ipv4, topo.hosts.router.ipv4],
      ['198.51.100.2', '203.0.113.2', '192.0.2.2', '198.51.100.1'],
    );
    const routerLinks = (await topo.exec('router', ['ip', '-o', 'link'])).stdout;
    for (const name of ['rstlab-r-client', 'rstlab-r-server', 'rstlab-r-proxy']) {
      assert.match(routerLinks, new RegExp(`: ${name}@`));
      assert.ok(name.length <= 15);
    }
    assert.equal(topo.captureInterface('client'), 'rstlab-eth0');
    assert.equal(topo.captureInterface('router', 'server'), 'rstlab-r-server');
    const addrs = (await topo.exec('server', ['ip', '-o', 'addr'])).stdout;
    assert.match(addrs, /inet 203\.0\.113\.2\/24/);
    assert.match(addrs, /inet6 2001:db8:2::2\/64/);
    assert.doesNotMatch(addrs.split('\n').filter((l) => l.includes('2001:db8')).join('\n'), /tentative/, 'nodad: usable at once');
    // Nothing was created in the host's namespace.
    assert.doesNotMatch(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }), /rstlab-/);
  });

  await t.test('a spawned pid is the real program, inside its namespace', async () => {
    const c = topo.spawn('client', ['sleep', '30']);
    // setpriv and `ip netns exec` exec in turn, so the same pid becomes sleep.
    const comm = (): string => readFileSync(`/proc/${c.pid}/comm`, 'utf8').trim();
    for (let i = 0; i < 100 && comm() !== 'sleep'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(comm(), 'sleep');
    const inner = execFileSync('readlink', [`/proc/${c.pid}/ns/net`], { encoding: 'utf8' });
    assert.notEqual(inner, execFileSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' }));
    c.kill('SIGKILL');
    assert.equal((await c.exited).signal, 'SIGKILL');
  });

  await t.test('TCP crosses the router; a router REJECT resets it with the router\'s own TTL', { skip: findExecutable('tshark') ? false : 'tshark is not installed' }, async () => {
    const srv = await echoServer(topo, 'server', '203.0.113.2', 7000);
    const pcap = join(work, 'reject.pcap');
    const cap = await startCapture(topo, 'client', { file: pcap, filter: 'tcp port 7000' });
    const client = topo.spawn('client', [NODE, '-e', ECHO_CLIENT, '203.0.113.2', '7000', '10000'], { label: 'echo-client' });
    const conn = await client.waitFor('connected', 5000);
    assert.match(String(conn.local), /^198\.51\.100\.2:/);
    assert.equal((await client.waitFor('echo', 5000)).data, 'ping');
    assert.match(String((await srv.child.waitFor('accepted', 5000)).peer), /^198\.51\.100\.2:/);
    // Mid-flow: the router now answers the client's next segment with a RST of its own.
    const remove = await topo.firewall('router', ['-A', 'FORWARD', '-s', '198.51.100.2', '-d', '203.0.113.2', '-p', 'tcp', '--dport', '7000', '-j', 'REJECT', '--reject-with', 'tcp-reset']);
    client.send('go');
    const err = await client.waitFor('error', 5000);
    assert.equal(err.code, 'ECONNRESET');
    const { packets } = await cap.stop();
    assert.ok(packets >= 6, `captured ${packets} packets`);
    await remove();
    const rows = execFileSync('tshark', ['-r', pcap, '-T', 'fields', '-e', 'ip.src', '-e', 'ip.ttl', '-e', 'tcp.flags.reset'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim().split('\n').map((l) => l.split('\t'));
    const isRst = (f: string | undefined): boolean => f === '1' || f === 'True';
    const fromServer = rows.filter((r) => r[0] === '203.0.113.2');
    const serverTtls = new Set(fromServer.filter((r) => !isRst(r[2])).map((r) => r[1]));
    const rstTtls = new Set(fromServer.filter((r) => isRst(r[2])).map((r) => r[1]));
    assert.deepEqual([...serverTtls], ['63'], 'the server\'s packets crossed one router hop');
    assert.deepEqual([...rstTtls], ['64'], 'the RST was made by the router (not decremented)');
    // The REJECT happened at the router: the server's side of the connection saw nothing.
    await assert.rejects(srv.child.waitFor('closed', 300), /within 300 ms/);
  });

  await t.test('IPv6 crosses the router too', async () => {
    const srv = await echoServer(topo, 'proxy', '2001:db8:3::2');
    const client = topo.spawn('client', [NODE, '-e', ECHO_CLIENT, '2001:db8:3::2', String(srv.port), '10000'], { label: 'echo-client6' });
    const conn = await client.waitFor('connected', 5000);
    assert.match(String(conn.local), /^2001:db8:1::2:/);
    assert.equal((await client.waitFor('echo', 5000)).data, 'ping');
    client.kill('SIGKILL');
  });

  await t.test('sysctls change inside the namespace only', async () => {
    for (const [k, v] of Object.entries(SHORT_TCP_TIMERS)) assert.equal(await topo.getSysctl('server', k), String(v));
    assert.equal(await topo.getSysctl('router', 'net.ipv4.ip_forward'), '1');
    assert.equal(await topo.getSysctl('router', 'net.ipv6.conf.all.forwarding'), '1');
    await topo.setSysctl('client', 'net.ipv4.tcp_keepalive_time', 7);
    await topo.setSysctl('client', 'net.ipv4.tcp_fin_timeout', 3);
    assert.equal(await topo.getSysctl('client', 'net.ipv4.tcp_keepalive_time'), '7');
    assert.equal(await topo.getSysctl('server', 'net.ipv4.tcp_keepalive_time'), String(SHORT_TCP_TIMERS['net.ipv4.tcp_keepalive_time']));
    assert.deepEqual(Object.fromEntries(HOST_KEYS.map((k) => [k, hostSysctl(k)])), hostBefore, 'the host\'s values never change');
    // A global (not per-namespace) key does not exist inside: refused, host untouched.
    await assert.rejects(topo.setSysctl('client', 'net.ipv4.tcp_max_orphans', 1), LabError);
    await assert.rejects(topo.setSysctl('client', 'net.ipv4.tcp_keepalive_time; reboot', 1), LabError);
  });

  await t.test('a DROP in the router makes connect() time out (ETIMEDOUT), and its remover restores the path', async () => {
    await topo.setSysctl('client', 'net.ipv4.tcp_syn_retries', 1); // SYN at 0 s and 1 s, give up at 3 s
    const srv = await echoServer(topo, 'server', '203.0.113.2');
    const remove = await topo.firewall('router', ['-I', 'FORWARD', '1', '-p', 'tcp', '--dport', String(srv.port), '-j', 'DROP']);
    const rules6 = (await topo.exec('router', ['ip6tables', '-S', 'FORWARD'])).stdout;
    assert.match(rules6, /-j DROP/, 'a rule without addresses goes to both families');
    const client = topo.spawn('client', [NODE, '-e', ECHO_CLIENT, '203.0.113.2', String(srv.port), '8000'], { label: 'dropped-client' });
    const err = await client.waitFor((e) => e.event === 'error' || e.event === 'connected' || e.event === 'gave-up', 9000, 'the connect outcome');
    assert.equal(err.event, 'error');
    assert.equal(err.code, 'ETIMEDOUT');
    await remove();
    await remove(); // idempotent
    assert.doesNotMatch((await topo.exec('router', ['iptables', '-S', 'FORWARD'])).stdout, /DROP/);
    assert.doesNotMatch((await topo.exec('router', ['ip6tables', '-S', 'FORWARD'])).stdout, /DROP/);
    const again = topo.spawn('client', [NODE, '-e', ECHO_CLIENT, '203.0.113.2', String(srv.port), '8000'], { label: 'undropped-client' });
    assert.equal((await again.waitFor('echo', 5000)).data, 'ping');
    again.kill('SIGKILL');
  });
});

test('destroy leaves no namespace, interface or process, and is idempotent', { skip: NOT_ROOT }, async (t) => {
  const runId = `d${newRunId()}`;
  const topo = await createTopology({ runId, mode: 'netns', tcpTimers: false });
  t.after(() => topo.destroy());
  assert.equal(await topo.getSysctl('client', 'net.ipv4.tcp_syn_retries'), hostSysctl('net.ipv4.tcp_syn_retries'), 'tcpTimers:false keeps kernel defaults');
  const spawned = topo.spawn('server', ['sleep', '30']);
  // A process that escaped the lab's process groups (double fork inside the namespace).
  await topo.exec('proxy', ['sh', '-c', 'sleep 30 >/dev/null 2>&1 &']);
  const inside = execFileSync('ip', ['netns', 'pids', netnsName(runId, 'proxy')], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
  assert.equal(inside.length, 1);
  await topo.destroy();
  await topo.destroy();
  for (const h of HOST_NAMES) assert.ok(!netnsList().includes(netnsName(runId, h)));
  assert.doesNotMatch(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }), /rstlab-/);
  assert.equal((await spawned.exited).signal, 'SIGKILL');
  assert.ok(await waitGone(inside[0]!, 2000), 'the escaped process was killed');
  const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  assert.doesNotMatch(ps, new RegExp(`rstlab-${runId}`));
  assert.throws(() => topo.spawn('client', ['true']), LabError);
});

test('loopback mode (as the current user): three addresses on lo, no firewall, no sysctls', async (t) => {
  const topo = await createTopology({ runId: `l${newRunId()}`, mode: 'loopback' });
  t.after(() => topo.destroy());
  assert.equal(topo.mode, 'loopback');
  assert.equal(topo.captureInterface('server'), 'lo');
  const srv = await echoServer(topo, 'server', topo.hosts.server.ipv4);
  const client = topo.spawn('client', [NODE, '-e', ECHO_CLIENT, topo.hosts.server.ipv4, String(srv.port), '5000']);
  assert.match(String((await client.waitFor('connected', 5000)).local), /^127\.0\.0\.1:/);
  assert.equal((await client.waitFor('echo', 5000)).data, 'ping');
  const proxy = await echoServer(topo, 'proxy', topo.hosts.proxy.ipv4);
  assert.ok(proxy.port > 0);
  await assert.rejects(topo.firewall('router', ['-A', 'FORWARD', '-j', 'DROP']), /needs network namespaces/);
  await assert.rejects(topo.setSysctl('client', 'net.ipv4.tcp_syn_retries', 1), /needs network namespaces/);
  const r = await topo.exec('client', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' });
  await topo.destroy();
  assert.equal((await srv.child.exited).signal, 'SIGKILL');
});

test('loopback mode for an unprivileged user (nobody)', { skip: !isRoot ? 'needs root to switch to nobody' : findExecutable('setpriv') ? false : 'setpriv is not installed' }, async (t) => {
  const topoUrl = new URL('./topology.js', import.meta.url).href;
  const capUrl = new URL('./capture.js', import.meta.url).href;
  const script = `
    import { createTopology } from ${JSON.stringify(topoUrl)};
    import { startCapture } from ${JSON.stringify(capUrl)};
    const out = (o) => console.log(JSON.stringify(o));
    const topo = await createTopology({ runId: 'nobody1', mode: 'auto' });
    const srv = topo.spawn('server', [process.execPath, '-e', ${JSON.stringify(ECHO_SERVER)}, topo.hosts.server.ipv4, '0']);
    const { port } = await srv.waitFor('listening', 5000);
    const cl = topo.spawn('client', [process.execPath, '-e', ${JSON.stringify(ECHO_CLIENT)}, topo.hosts.server.ipv4, String(port), '5000']);
    const echo = await cl.waitFor('echo', 5000);
    const fw = await topo.firewall('router', ['-A', 'FORWARD', '-j', 'DROP']).then(() => 'accepted', (e) => e.code + ': ' + e.message);
    const capture = await startCapture(topo, 'client', { file: '/tmp/rstlab-nobody-never.pcap' }).then(() => 'started', (e) => e.code + ': ' + e.message);
    await topo.destroy();
    out({ event: 'result', uid: process.getuid(), mode: topo.mode, reason: topo.reason, echo: echo.data, fw, capture });
  `;
  const child = spawnChild({ argv: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', NODE, '--input-type=module', '-e', script], label: 'lab-as-nobody', cwd: '/' });
  t.after(() => child.killGroup('SIGKILL'));
  const r = await child.waitFor('result', 15000);
  assert.equal(r.uid, 65534);
  assert.equal(r.mode, 'loopback');
  assert.match(String(r.reason), /not root/);
  assert.equal(r.echo, 'ping');
  assert.match(String(r.fw), /^ERR_LAB: .*needs network namespaces/);
  assert.match(String(r.capture), /^ERR_(LAB|MISSING_TOOL): /);
  assert.notEqual(r.capture, 'started');
});

