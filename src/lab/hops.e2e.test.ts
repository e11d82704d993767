// The real proxies in the lab (root: namespaces, tcpdump): every scenario of
// scenarios-reverse-proxy.ts and scenarios-mitmproxy.ts through runLab, each ok, with the proxy's
// own words in RunRecord.hops (nginx's `111: Connection refused`, HAProxy's termination state);
// the same proxies carrying a request that succeeds (mitmproxy intercepting TLS with the lab's CA);
// and a Ctrl-C while nginx, HAProxy or mitmproxy runs leaves none of them behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoFile } from '../paths.js';
import type { RunRecord } from '../report/results.js';
import { runLab } from './run.js';
import { MITMPROXY_SCENARIOS } from './scenarios-mitmproxy.js';
import { REVERSE_PROXY_SCENARIOS } from './scenarios-reverse-proxy.js';
import type { Scenario } from './scenarios.js';
import { parseOwner } from './cleanup.js';
import { isAlive, netnsList } from './testkit.js';

const notRoot = process.getuid?.() === 0 ? false : 'needs root (network namespaces, tcpdump)';

/** Processes whose command line names `text` (the run's out folder is on every hop's). */
function processesNaming(text: string): string[] {
  const r = spawnSync('pgrep', ['-af', text], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l && !l.includes('pgrep'));
}

/** The lab namespaces a process owns (topology.ts writes the owner on each one's `lo`; other
 *  labs may be running on this machine). */
function namespacesOf(pid: number): string[] {
  return netnsList().filter((ns) => ns.startsWith('rstlab-') && parseOwner(spawnSync('ip', ['-n', ns, '-o', 'link', 'show', 'dev', 'lo'], { encoding: 'utf8' }).stdout.replace(/.*alias /, ''))?.pid === pid);
}

function lab(scenarios: Scenario[], clients: RunRecord['client'][], out: string) {
  return runLab({ outDir: out, scenarios, clients: clients as never, mode: 'netns' });
}

test('every reverse-proxy and mitmproxy scenario runs as constructed, with the proxy\'s own words', { skip: notRoot, timeout: 300_000 }, async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'rstlab-hops-'));
  try {
    const scenarios = [...REVERSE_PROXY_SCENARIOS, ...MITMPROXY_SCENARIOS];
    const res = await lab(scenarios, ['node-http', 'node-https'], out);
    assert.equal(res.runs.length, scenarios.length);
    const runs = new Map<string, RunRecord>();
    for (const r of res.runs) {
      let run = r;
      // A real kernel has races: a run that mismatches gets one more try on its own.
      if (run.status === 'mismatch') {
        t.diagnostic(`re-running ${run.id}: ${run.problems.join('; ')}`);
        run = (await lab([scenarios.find((s) => s.id === run.scenario)!], [run.client as RunRecord['client']], out)).runs[0]!;
      }
      assert.equal(run.status, 'ok', `${run.id}: ${run.reason ?? ''} ${run.problems.join('; ')}`);
      runs.set(run.scenario, run);
    }
    const hop = (id: string) => {
      const h = runs.get(id)?.hops;
      assert.equal(h?.length, 1, `${id} has one hop`);
      return h![0]!;
    };
    const nginx = (id: string) => { const h = hop(id); assert.equal(h.software.family, 'nginx'); assert.match(h.software.version, /^1\./); return h; };
    const haproxy = (id: string) => { const h = hop(id); assert.equal(h.software.family, 'haproxy'); assert.match(h.software.version, /^2\./); return h; };

    assert.equal(nginx('nginx-backend-down').code, '502');
    assert.match(nginx('nginx-backend-down').lines.join('\n'), /\[error\] .*connect\(\) failed \(111: Connection refused\) while connecting to upstream/);
    assert.equal(runs.get('nginx-backend-down')!.outcome?.status, 502);
    assert.equal(haproxy('haproxy-backend-down').code, 'SC--');
    assert.match(haproxy('haproxy-backend-down').lines.join('\n'), / 503 .* SC-- \d+\/\d+\/\d+\/\d+\/3 /, 'three retries, then 503');
    assert.equal(runs.get('haproxy-backend-down')!.outcome?.status, 503);

    assert.match(nginx('nginx-upstream-reset').lines.join('\n'), /recv\(\) failed \(104: Connection reset by peer\) while reading upstream|readv\(\) failed \(104: Connection reset by peer\) while reading upstream/);
    assert.equal(haproxy('haproxy-upstream-reset').code, 'SD--');
    assert.match(nginx('nginx-upstream-killed').lines.join('\n'), /upstream prematurely closed connection while reading upstream/);
    assert.equal(haproxy('haproxy-upstream-killed').code, 'SD--');
    // Killed, they write nothing about the request.
    for (const id of ['nginx-killed-mid-response', 'haproxy-killed-mid-response']) {
      assert.deepEqual(hop(id).lines.filter((l) => / \[error\] |"GET /.test(l)), [], id);
      assert.equal(hop(id).code, undefined, id);
    }
    // Behind a reverse proxy the client never sees the origin's RST: a FIN after a short body.
    for (const id of ['nginx-upstream-reset', 'haproxy-upstream-reset']) {
      const r = runs.get(id)!;
      assert.ok(r.rsts.every((x) => x.role === 'server' && x.to.startsWith('192.0.2.')), `${id}: RSTs only towards the proxy`);
      assert.equal(r.outcome?.kind, 'error');
    }
    // nginx reuses its pooled upstream connection the origin had closed: RST, then a retry the
    // client never sees; HAProxy gives a new client a connection of its own.
    const ka = nginx('nginx-upstream-keepalive-closed').lines.join('\n');
    assert.match(ka, /recv\(\) failed \(104: Connection reset by peer\) while reading response header from upstream/);
    assert.match(ka, /upstream_status=502, 200 /);
    assert.equal(runs.get('nginx-upstream-keepalive-closed')!.outcome?.status, 200);
    assert.equal(runs.get('nginx-upstream-keepalive-closed')!.rsts[0]?.kernel?.reason, 'TCP_ABORT_ON_DATA');
    assert.equal(runs.get('haproxy-upstream-keepalive-closed')!.outcome?.status, 200);
    assert.deepEqual(runs.get('haproxy-upstream-keepalive-closed')!.rsts, []);
    for (const id of ['kill-mitmproxy-before-request-http', 'kill-mitmproxy-before-request-https']) {
      const h = hop(id);
      assert.equal(h.software.family, 'mitmproxy');
      assert.match(h.lines.join('\n'), /client connect/);
    }
    assert.deepEqual(processesNaming(out), []);
    assert.deepEqual(namespacesOf(process.pid), []);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the same proxies carry a request that succeeds; mitmproxy intercepts TLS with the lab\'s CA', { skip: notRoot, timeout: 120_000 }, async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'rstlab-hops-ok-'));
  const ok = (id: string, extra: Partial<Scenario>): Scenario => ({
    id, title: id, description: id, claims: [], clients: ['node-http', 'node-https'], needs: 'netns',
    scheme: () => 'http', server: () => ({ kind: 'http' }), pause: false, expect: { allow: {} }, ...extra,
  });
  try {
    const res = await lab([
      ok('nginx-ok', { reverseProxy: 'nginx', clients: ['node-http'] }),
      ok('haproxy-ok', { reverseProxy: 'haproxy', clients: ['node-http'] }),
      // mitmproxy closes the client's connection (close_notify, FIN) as soon as the origin's ends;
      // Node's close_notify reaches the closed socket (reset-after-close; its FIN, in a segment of
      // its own, then finds no socket: no-connection), or arrives before the close and stays
      // unread (abort): a RST the finished client never sees.
      ok('mitmproxy-https-ok', {
        viaProxy: true, forwardProxy: 'mitmproxy', clients: ['node-https'], scheme: () => 'https', server: () => ({ kind: 'https' }),
        expect: { allow: { proxy: ['reset-after-close', 'abort', 'no-connection'] } },
      }),
    ], ['node-http', 'node-https'], out);
    for (const r of res.runs) {
      assert.equal(r.status, 'ok', `${r.id}: ${r.reason ?? ''} ${r.problems.join('; ')}`);
      assert.equal(r.outcome?.kind, 'ok', `${r.id}: ${JSON.stringify(r.outcome)}`);
      assert.equal(r.outcome?.status, 200, r.id);
    }
    assert.equal(res.runs[0]!.hops![0]!.code, '200');
    assert.match(res.runs[0]!.hops![0]!.lines.join('\n'), /"GET \/ HTTP\/1\.1" 200 \d+ upstream=203\.0\.113\.\d+:\d+ upstream_status=200/);
    assert.equal(res.runs[1]!.hops![0]!.code, '----');
    // connection_strategy eager: mitmproxy connects upstream on CONNECT.
    assert.match(res.runs[2]!.hops![0]!.lines.join('\n'), /client connect[\s\S]*server connect 203\.0\.113\.\d+/);
    assert.deepEqual(processesNaming(out), []);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('Ctrl-C while the real proxies run leaves no nginx, HAProxy or mitmproxy behind', { skip: notRoot, timeout: 120_000 }, async () => {
  // The programs' own command lines (nginx rewrites its title), not the lab's, which names the scenario.
  for (const [scenario, client, program] of [['nginx-upstream-killed', 'node-http', 'nginx: master process nginx -p'], ['haproxy-upstream-killed', 'node-http', 'haproxy -db -f'], ['kill-mitmproxy-before-request-https', 'node-https', 'mitmdump --listen-host']] as const) {
    const out = mkdtempSync(path.join(os.tmpdir(), 'rstlab-hops-int-'));
    try {
      const child = spawn(process.execPath, [repoFile('bin/rstlab.js'), 'lab', '--no-color', '--scenario', scenario, '--client', client, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => { stderr += d; });
      const deadline = Date.now() + 30_000;
      // The proxy names the run's folder on its command line (its config or confdir).
      while (Date.now() < deadline && !processesNaming(`${program}.*${out}`).length) await new Promise((r) => setTimeout(r, 50));
      const started = processesNaming(`${program}.*${out}`).map((l) => Number(l.split(' ')[0]));
      assert.ok(started.length > 0, `${program} started`);
      // nginx's worker names no folder ("nginx: worker process"): its pid, as the master's child.
      await new Promise((r) => setTimeout(r, 200));
      const workers = started.flatMap((pid) => spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number));
      if (program.startsWith('nginx')) assert.ok(workers.length > 0, 'nginx has its worker');
      child.kill('SIGINT');
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      assert.equal(code, 130, stderr);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(processesNaming(out), [], `${scenario}: nothing left`);
      assert.deepEqual([...started, ...workers].filter(isAlive), [], `${scenario}: ${program} and its children are gone`);
      assert.deepEqual(namespacesOf(child.pid!), []);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
});
