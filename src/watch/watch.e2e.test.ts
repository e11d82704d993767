// `rstlab watch` as a user runs it (root), inside one of the lab's namespaces while real sockets
// reset there: every reset once, with the kernel's reason, the process and the explainer's cause;
// a router's forged RST from the packets only; the metrics scraped over HTTP and parsed as
// Prometheus text; nothing left behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { listLabInstances, TRACEFS } from '../lab/kernel-trace.js';
import { createTopology } from '../lab/topology.js';
import { repoFile } from '../paths.js';
import { skipOutsideCi } from '../testkit.js';

// tracefs not mounted (a fresh machine) is no reason to skip: watch mounts it itself. In CI
// nothing is skipped for the tracepoint: a kernel without it fails there, visibly.
const skip = process.getuid?.() !== 0 ? 'needs root (namespaces, tracefs, tcpdump)'
  : skipOutsideCi(existsSync(path.join(TRACEFS, 'events')) && !existsSync(path.join(TRACEFS, 'events', 'tcp', 'tcp_send_reset')) ? 'needs the tcp:tcp_send_reset tracepoint' : false);
const bin = repoFile('bin/rstlab.js');
const actor = repoFile('src/lab/tools/actor.py');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Rec {
  type: string; from: string; to: string; sender: string; kernel: { reason: string } | null; accepted: boolean | null;
  cause: string | null; agrees: boolean | null; process: { pid: number; comm: string; via: string } | null;
}

test('watch --netns <server> --json: a refused SYN, an abort with unread data, a router\'s forged RST — each once, joined, with its process; metrics; Ctrl-C', { skip, timeout: 120_000 }, async () => {
  const topo = await createTopology({ runId: `wt${process.pid.toString(36)}`, mode: 'netns' });
  const server = topo.hosts.server;
  let watch: ReturnType<typeof spawn> | null = null;
  try {
    watch = spawn(process.execPath, [bin, 'watch', '--netns', server.netns!, '--json', '--metrics', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    watch.stdout!.on('data', (d) => { out += d; });
    watch.stderr!.on('data', (d) => { err += d; });
    const exited = new Promise<number | null>((r) => watch!.on('exit', (c) => r(c)));
    for (let i = 0; i < 100 && !/watching namespace/.test(err); i++) await sleep(100);
    assert.match(err, /watching namespace \S+: the kernel's resets, packets on any/);
    const metricsUrl = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(err)?.[1];
    assert.ok(metricsUrl, err);

    // 1. A SYN to a closed port of the server host: its kernel answers (NO_SOCKET, no process).
    const refused = await topo.exec('client', ['python3', '-c', `import socket\ns=socket.socket()\nprint(s.connect_ex((${JSON.stringify(server.ipv4)},9)))`]);
    assert.equal(refused.stdout.trim(), '111');

    // 2. The server closes with the client's request unread: RST from the closing process.
    const srv = topo.spawn('server', ['python3', actor, 'server', server.ipv4, JSON.stringify([{ op: 'sleep', ms: 300 }, { op: 'close' }, { op: 'hold' }])], { label: 'watch abort server' });
    const port = Number((await srv.waitFor('listening', 5000)).port);
    const cli = topo.spawn('client', ['python3', actor, 'client', `${server.ipv4}:${port}`, JSON.stringify([{ op: 'send', bytes: 100 }, { op: 'hold' }])], { label: 'watch abort client' });
    await srv.waitFor((e) => e.event === 'step' && e.op === 'close', 5000);

    // 3. The router rejects the server's data with a RST in the client's name (no kernel of the server's sent it).
    const srv2 = topo.spawn('server', ['python3', actor, 'server', server.ipv4, JSON.stringify([{ op: 'sleep', ms: 400 }, { op: 'send', bytes: 100 }, { op: 'hold' }])], { label: 'watch reject server' });
    const port2 = Number((await srv2.waitFor('listening', 5000)).port);
    const cli2 = topo.spawn('client', ['python3', actor, 'client', `${server.ipv4}:${port2}`, JSON.stringify([{ op: 'hold' }])], { label: 'watch reject client' });
    await srv2.waitFor('accepted', 5000);
    const heal = await topo.firewall('router', ['-I', 'FORWARD', '-p', 'tcp', '--sport', String(port2), '-j', 'REJECT', '--reject-with', 'tcp-reset']);
    await srv2.waitFor((e) => e.event === 'step' && e.op === 'send', 5000);
    await sleep(1500); // judged within a second; a little more for the slowest
    await heal();

    const metrics = parsePrometheusTextFormat(await (await fetch(metricsUrl!)).text());
    const resets = metrics.find((m) => m.name === 'rstlab_watch_resets_total')!;
    assert.equal(resets.type, 'COUNTER');
    const count = (labels: Record<string, string>) => resets.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)).reduce((n, m) => n + Number(m.value), 0);
    assert.equal(count({ direction: 'sent', kernel_reason: 'NO_SOCKET', cause: 'refused', local_port: '9' }), 1);
    assert.equal(count({ direction: 'sent', kernel_reason: 'TCP_ABORT_ON_CLOSE', cause: 'abort', process: 'python3' }), 1);
    assert.equal(count({ direction: 'received', kernel_reason: 'none', cause: 'middlebox' }), 1);
    assert.ok(metrics.some((m) => m.name === 'rstlab_watch_reset_connection_age_seconds' && m.type === 'HISTOGRAM'));
    assert.ok(metrics.some((m) => m.name === 'rstlab_watch_kernel_events_lost_total'));

    watch.kill('SIGINT');
    assert.equal(await exited, 0, err);
    const recs = out.trim().split('\n').map((l) => JSON.parse(l) as Rec);
    const summary = recs.pop()! as unknown as { type: string; packets_dropped: number; lost: number; records: number };
    assert.equal(summary.type, 'summary');
    assert.deepEqual([summary.packets_dropped, summary.lost, summary.records], [0, 0, 3]);
    const rsts = recs.filter((r) => r.type === 'rst');

    const r1 = rsts.filter((r) => r.from === `${server.ipv4}:9`);
    assert.equal(r1.length, 1, JSON.stringify(rsts));
    assert.deepEqual([r1[0]!.sender, r1[0]!.kernel?.reason, r1[0]!.cause, r1[0]!.agrees], ['this-kernel', 'NO_SOCKET', 'refused', true]);

    const r2 = rsts.filter((r) => r.from === `${server.ipv4}:${port}`);
    assert.equal(r2.length, 1, JSON.stringify(rsts));
    assert.deepEqual([r2[0]!.sender, r2[0]!.kernel?.reason, r2[0]!.cause, r2[0]!.agrees], ['this-kernel', 'TCP_ABORT_ON_CLOSE', 'abort', true]);
    assert.equal(r2[0]!.process?.pid, srv.pid, 'the server process that closed');
    assert.equal(r2[0]!.process?.comm, 'python3');

    const r3 = rsts.filter((r) => r.to === `${server.ipv4}:${port2}`);
    assert.equal(r3.length, 1, JSON.stringify(rsts));
    assert.deepEqual([r3[0]!.sender, r3[0]!.kernel, r3[0]!.cause, r3[0]!.accepted], ['remote', null, 'middlebox', true]);
    assert.equal(r3[0]!.process?.pid, srv2.pid, 'the server process whose socket it reset');
    assert.equal(rsts.length, 3, JSON.stringify(rsts));
    for (const c of [srv, cli, srv2, cli2]) c.kill('SIGKILL');
    assert.deepEqual(listLabInstances().filter((i) => i.pid === watch!.pid), [], 'its tracefs instance is gone');
  } finally {
    if (watch && watch.exitCode === null) watch.kill('SIGKILL');
    await topo.destroy();
  }
});

test('watch: bad arguments get one line and exit 2', () => {
  for (const [args, message] of [
    [['--port', 'http'], /--port takes port numbers from 1 to 65535, got "http"/],
    [['--no-kernel', '--no-capture'], /leave nothing to watch/],
    [['--metrics', 'localhost:x'], /--metrics takes PORT or HOST:PORT/],
    [['--duration', '0'], /--duration takes a number of seconds above 0/],
    [['--netns', 'no such'], /--netns takes a namespace name/],
    [['--kernel-source', 'ebpf'], /--kernel-source takes tracefs, bpftrace or auto, got "ebpf"/],
    [['--kernel-source', 'bpftrace', '--quiet'], /use it with --quiet --no-capture/],
  ] as const) {
    const r = spawnSyncOut(args);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('watch in a namespace that does not exist: one line, exit 2', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  const r = spawnSyncOut(['--netns', 'rstlab-nosuch', '--duration', '1']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /namespace rstlab-nosuch/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

function spawnSyncOut(args: readonly string[]) {
  return spawnSync(process.execPath, [bin, 'watch', ...args], { encoding: 'utf8', timeout: 20_000 });
}

test('an unprivileged user: one line for each source that cannot be read, then one line and exit 2 (nothing to watch)', { skip: process.getuid?.() !== 0 ? 'needs root (to become the user nobody)' : false }, (t) => {
  const asNobody = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
  const probe = spawnSync(asNobody[0]!, [...asNobody.slice(1), process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(bin)})`]);
  if (probe.status !== 0) { t.skip('the checkout is not readable by the user nobody here'); return; }
  const r = spawnSync(asNobody[0]!, [...asNobody.slice(1), process.execPath, bin, 'watch', '--duration', '1'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /no kernel reasons: the kernel's reset reasons need root \(tracefs\); watching packets only/);
  assert.match(r.stderr, /no packets: .*capturing needs root|no packets: .*(permission|not permitted)/i);
  assert.match(r.stderr, /nothing to watch/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

/** `rstlab watch ARGS` on this host, once it says it is watching: its output so far, on demand. */
async function watchHost(args: readonly string[]) {
  const w = spawn(process.execPath, [bin, 'watch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  w.stdout!.on('data', (d) => { out += d; });
  w.stderr!.on('data', (d) => { err += d; });
  const exited = new Promise<number | null>((r) => w.on('exit', (c) => r(c)));
  for (let i = 0; i < 100 && !/watching this host/.test(err); i++) await sleep(100);
  return { w, out: () => out, err: () => err, exited };
}

test('--no-kernel: the packets alone; a refused connect on loopback is one record, its sender unknown to the kernel side', { skip: process.getuid?.() !== 0 ? 'needs root (tcpdump)' : false, timeout: 30_000 }, async () => {
  const port = 1 + (process.pid % 20000) + 40000;
  const { w, out, err, exited } = await watchHost(['--no-kernel', '--json', '--port', String(port), '--interface', 'lo']);
  try {
    assert.match(err(), /watching this host: packets on lo/);
    const c = spawnSync('python3', ['-c', `import socket\ns=socket.socket()\nprint(s.connect_ex(('127.0.0.1',${port})))`], { encoding: 'utf8' });
    assert.equal(c.stdout.trim(), '111');
    await sleep(1000);
    w.kill('SIGTERM');
    assert.equal(await exited, 0, err());
    const recs = out().trim().split('\n').map((l) => JSON.parse(l) as Rec);
    assert.deepEqual(recs.filter((r) => r.type === 'rst').map((r) => [r.from, r.sender, r.kernel, r.accepted, r.cause]), [[`127.0.0.1:${port}`, 'unknown', null, null, 'refused']]);
  } finally {
    if (w.exitCode === null) w.kill('SIGKILL');
  }
});

test('--quiet: no record per reset, the resets still counted in the summary and the metrics (three refused connects on loopback)', { skip, timeout: 30_000 }, async () => {
  const port = 1 + ((process.pid + 7) % 20000) + 40000;
  const { w, out, err, exited } = await watchHost(['--no-capture', '--quiet', '--json', '--port', String(port), '--metrics', '127.0.0.1:0']);
  try {
    assert.match(err(), /watching this host: the kernel's resets/);
    const c = spawnSync('python3', ['-c', `import socket\nfor _ in range(3):\n  s=socket.socket(); print(s.connect_ex(('127.0.0.1',${port}))); s.close()`], { encoding: 'utf8' });
    assert.equal(c.stdout.trim(), '111\n111\n111');
    await sleep(2000); // counted in the kernel where bpftrace can run: printed every second
    const url = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(err())?.[1];
    assert.ok(url, err());
    const text = await (await fetch(url)).text();
    const resets = parsePrometheusTextFormat(text).find((f) => f.name === 'rstlab_watch_resets_total') as { metrics: Array<{ value: string; labels: Record<string, string> }> } | undefined;
    const refused = (resets?.metrics ?? []).filter((m) => m.labels.kernel_reason === 'NO_SOCKET' && m.labels.local_port === String(port));
    assert.equal(refused.reduce((n, m) => n + Number(m.value), 0), 3, text);
    w.kill('SIGTERM');
    assert.equal(await exited, 0, err());
    const lines = out().trim().split('\n').map((l) => JSON.parse(l) as { type: string; records?: number });
    assert.deepEqual(lines.map((l) => l.type), ['summary'], 'only the summary');
    assert.equal(lines[0]!.records, 3);
  } finally {
    if (w.exitCode === null) w.kill('SIGKILL');
  }
});

const noBpftrace = spawnSync('bpftrace', ['--version']).error ? 'needs bpftrace (apt-get install bpftrace)' : false;

test('--quiet --no-capture: counted in the kernel (bpftrace) and read from the ring buffer, the same resets in a namespace give the same summary and metrics', { skip: skip || noBpftrace, timeout: 120_000 }, async () => {
  const topo = await createTopology({ runId: `wq${process.pid.toString(36)}`, mode: 'netns' });
  const server = topo.hosts.server;
  const watches: Array<ReturnType<typeof spawn>> = [];
  try {
    const start = async (source: string) => {
      const w = spawn(process.execPath, [bin, 'watch', '--netns', server.netns!, '--no-capture', '--quiet', '--json', '--kernel-source', source, '--metrics', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      watches.push(w);
      let out = '';
      let err = '';
      w.stdout!.on('data', (d) => { out += d; });
      w.stderr!.on('data', (d) => { err += d; });
      const exited = new Promise<number | null>((r) => w.on('exit', (c) => r(c)));
      for (let i = 0; i < 200 && !/watching namespace/.test(err); i++) await sleep(100);
      return { w, out: () => out, err: () => err, exited };
    };
    const [bpf, ring] = [await start('bpftrace'), await start('tracefs')];
    assert.match(bpf.err(), /watching namespace \S+: the kernel's resets, counted in the kernel \(bpftrace\);/);
    assert.match(ring.err(), /watching namespace \S+: the kernel's resets;/);

    // 40 refused SYNs over IPv4 and 3 over IPv6 to a closed port of the server (NO_SOCKET, no socket:
    // the BPF maps keep one key per peer for them); 5 refused connects inside the server's own
    // namespace (a send and a receive event each: one reset); an abort with the request unread.
    // Each reset once in both summaries (a send and its receive event joined).
    const refused = await topo.exec('client', ['python3', '-c', `import socket
for a, n in ((${JSON.stringify(server.ipv4)}, 40), (${JSON.stringify(server.ipv6)}, 3)):
  for _ in range(n):
    s = socket.socket(socket.AF_INET6 if ':' in a else socket.AF_INET); print(s.connect_ex((a, 9))); s.close()`]);
    assert.deepEqual(refused.stdout.trim().split('\n'), Array(43).fill('111'));
    const inside = await topo.exec('server', ['python3', '-c', `import socket
for _ in range(5):
  s = socket.socket(); print(s.connect_ex(('127.0.0.1', 9))); s.close()`]);
    assert.deepEqual(inside.stdout.trim().split('\n'), Array(5).fill('111'));
    // A client aborting (SO_LINGER 0) its IPv4 connection to a dual-stack listener there: the
    // accepted socket's receive event has v4-mapped addresses, and is still the same reset.
    const dual = await topo.exec('server', ['python3', '-c', `import socket, struct, time
l = socket.socket(socket.AF_INET6); l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); l.bind(('::', 0)); l.listen()
c = socket.create_connection(('127.0.0.1', l.getsockname()[1])); a, _ = l.accept(); time.sleep(0.05)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); c.close(); time.sleep(0.05)
try: a.recv(1)
except ConnectionResetError: print('reset')`]);
    assert.equal(dual.stdout.trim(), 'reset');
    const srv = topo.spawn('server', ['python3', actor, 'server', server.ipv4, JSON.stringify([{ op: 'sleep', ms: 800 }, { op: 'close' }, { op: 'hold' }])], { label: 'watch-quiet abort server' });
    const port = Number((await srv.waitFor('listening', 5000)).port);
    const cli = topo.spawn('client', ['python3', actor, 'client', `${server.ipv4}:${port}`, JSON.stringify([{ op: 'send', bytes: 100 }, { op: 'hold' }])], { label: 'watch-quiet abort client' });
    await srv.waitFor((e) => e.event === 'step' && e.op === 'close', 5000);
    await sleep(2000); // bpftrace prints its counts every second

    const scrape = async (err: string) => {
      const url = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(err)?.[1];
      assert.ok(url, err);
      const resets = parsePrometheusTextFormat(await (await fetch(url)).text()).find((m) => m.name === 'rstlab_watch_resets_total') as { metrics: Array<{ value: string; labels: Record<string, string> }> } | undefined;
      const series = (resets?.metrics ?? []).map((m) => `${m.labels.direction} ${m.labels.kernel_reason} ${m.labels.local_port} = ${m.value}`);
      const abort = (resets?.metrics ?? []).find((m) => m.labels.kernel_reason === 'TCP_ABORT_ON_CLOSE');
      return { series: series.sort(), abortProcess: abort?.labels.process };
    };
    const [mb, mr] = [await scrape(bpf.err()), await scrape(ring.err())];
    assert.ok(mr.series.includes('sent NO_SOCKET 9 = 48'), mr.series.join('\n'));
    assert.ok(mr.series.includes(`sent TCP_ABORT_ON_CLOSE ${port} = 1`), mr.series.join('\n'));
    assert.deepEqual(mb.series, mr.series, 'the same series with the same counts');
    // The server's socket, known to ss for 800 ms, names its process in both. (A socket gone within
    // 50 ms, as the dual-stack one, is named by the ring buffer's process context only: bpftrace
    // does not say whether an event ran in a softirq, so counted events take no process context.)
    assert.deepEqual([mb.abortProcess, mr.abortProcess], ['python3', 'python3']);

    const summaries: unknown[] = [];
    for (const x of [bpf, ring]) {
      x.w.kill('SIGINT');
      assert.equal(await x.exited, 0, x.err());
      const lines = x.out().trim().split('\n').map((l) => JSON.parse(l) as { type: string; records: number; by_sender: unknown; by_kernel_reason: unknown; lost: number });
      assert.deepEqual(lines.map((l) => l.type), ['summary'], 'only the summary');
      const { records, by_sender, by_kernel_reason, lost } = lines[0]!;
      summaries.push({ records, by_sender, by_kernel_reason, lost });
    }
    assert.deepEqual(summaries[0], { records: 50, by_sender: { 'this-kernel': 50, 'not-this-kernel': 0, remote: 0, unknown: 0 }, by_kernel_reason: { NO_SOCKET: 48, TCP_STATE: 1, TCP_ABORT_ON_CLOSE: 1 }, lost: 0 });
    assert.deepEqual(summaries[1], summaries[0]);
    for (const c of [srv, cli]) c.kill('SIGKILL');
    assert.equal(spawnSync('pgrep', ['-f', 'tcp:tcp_send_reset']).status, 1, 'no bpftrace is left');
  } finally {
    // A watch that is still running (a failed assertion) ends as a user ends it, so that its
    // tracefs instance goes with it; SIGKILL only if it does not.
    await Promise.all(watches.filter((w) => w.exitCode === null && w.signalCode === null).map((w) => new Promise<void>((res) => {
      const t = setTimeout(() => { w.kill('SIGKILL'); res(); }, 5000);
      w.once('exit', () => { clearTimeout(t); res(); });
      w.kill('SIGINT');
    })));
    await topo.destroy();
  }
});
