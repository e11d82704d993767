// The real proxies' configurations, checked by the programs' own parsers (`nginx -t`, `haproxy -c`;
// skipped with the reason when the package is absent), and the parsers of their log lines on lines
// they wrote in the lab (nginx 1.22.1, HAProxy 2.6.12).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findExecutable } from './proc.js';
import { haproxyConfig, haproxyTermination, hopAvailable, hopSoftware, mitmproxyArgv, nginxConfig, nginxStatus } from './hops.js';

const missing = (bin: string, pkg: string) => (findExecutable(bin) ? false : `${bin} is not installed (${pkg})`);

async function freeLoopbackPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('nginx: the generated configuration passes nginx -t and keeps every file in the run folder', { skip: missing('nginx', 'nginx-light') }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rstlab-nginx-'));
  try {
    const conf = nginxConfig({ dir, listen: { host: '127.0.0.1', port: await freeLoopbackPort() }, upstream: { host: '203.0.113.2', port: 8080 } });
    assert.match(conf, /^daemon off;$/m);
    assert.match(conf, /^master_process on;$/m);
    assert.match(conf, new RegExp(`error_log ${dir}/error\\.log info;`));
    assert.match(conf, /\$upstream_status/);
    assert.match(conf, /server 203\.0\.113\.2:8080;/);
    // Every absolute path in it is under the run's folder.
    for (const m of conf.matchAll(/ (\/[^\s;']+)/g)) assert.ok(m[1]!.startsWith(dir), m[1]);
    const file = path.join(dir, 'nginx.conf');
    writeFileSync(file, conf);
    const r = spawnSync('nginx', ['-t', '-q', '-p', dir, '-e', path.join(dir, 'error.log'), '-c', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nginx: IPv6 addresses in brackets', () => {
  const conf = nginxConfig({ dir: '/x', listen: { host: '2001:db8:3::2', port: 81 }, upstream: { host: '2001:db8:2::2', port: 82 } });
  assert.match(conf, /listen \[2001:db8:3::2\]:81;/);
  assert.match(conf, /server \[2001:db8:2::2\]:82;/);
});

test('HAProxy: the generated configuration passes haproxy -c, logs in the default HTTP format to stdout', { skip: missing('haproxy', 'haproxy') }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rstlab-haproxy-'));
  try {
    const conf = haproxyConfig({ dir, listen: { host: '192.0.2.2', port: 8443 }, upstream: { host: '203.0.113.2', port: 8080 } });
    assert.match(conf, /log stdout format raw local0/);
    assert.match(conf, /mode http/);
    assert.match(conf, /option httplog/);
    assert.match(conf, /bind 192\.0\.2\.2:8443/);
    assert.match(conf, /server origin 203\.0\.113\.2:8080/);
    const file = path.join(dir, 'haproxy.cfg');
    writeFileSync(file, conf);
    const out = execFileSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' });
    assert.match(out, /Configuration file is valid/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mitmproxy: its confdir is the run folder, it listens on the proxy host and trusts the lab CA upstream', () => {
  const argv = mitmproxyArgv({ dir: '/out/hops/x', listen: { host: '192.0.2.2', port: 8080 }, caFile: '/out/certs/ca.pem' });
  assert.equal(argv[0], 'mitmdump');
  assert.deepEqual(argv.slice(1, 5), ['--listen-host', '192.0.2.2', '--listen-port', '8080']);
  assert.ok(argv.includes('confdir=/out/hops/x'));
  assert.ok(argv.includes('ssl_verify_upstream_trusted_ca=/out/certs/ca.pem'));
  assert.ok(argv.includes('flow_detail=0'));
});

test('HAProxy termination state and nginx status from lines they wrote in the lab', () => {
  assert.equal(haproxyTermination('198.51.100.2:37540 [04/Dec/2026:01:19:07.063] rstlab origin/origin 0/0/-1/-1/1508 503 217 - - SC-- 1/1/0/0/3 0/0 "GET / HTTP/1.1"'), 'SC--');
  assert.equal(haproxyTermination('198.51.100.2:37244 [04/Dec/2026:01:19:27.730] rstlab origin/origin 0/0/0/21/137 200 262268 - - SD-- 1/1/0/0/0 0/0 "GET /large HTTP/1.1"'), 'SD--');
  assert.equal(haproxyTermination('198.51.100.2:1 [04/Dec/2026:01:19:27.730] rstlab origin/origin 0/0/0/21/137 200 262268 - - CD-- 1/1/0/0/+1 0/0 "GET /large HTTP/1.1"'), 'CD--');
  assert.equal(haproxyTermination('[WARNING]  (1234) : config : log format ignored'), undefined);
  assert.equal(nginxStatus('198.51.100.2:47972 [04/Dec/2026:01:18:58 +0000] "GET / HTTP/1.1" 502 157 upstream=203.0.113.2:45349 upstream_status=502 request_time=0.000 upstream_response_time=0.001'), '502');
  assert.equal(nginxStatus('2026/12/04 01:18:58 [error] 9254#9254: *1 connect() failed (111: Connection refused) while connecting to upstream'), undefined);
});

test('availability and versions come from the programs themselves', async () => {
  for (const [kind, bin] of [['nginx', 'nginx'], ['haproxy', 'haproxy'], ['mitmproxy', 'mitmdump']] as const) {
    const a = await hopAvailable(kind);
    if (!findExecutable(bin)) {
      assert.equal(a.ok, false);
      continue;
    }
    assert.deepEqual(a, { ok: true });
    const v = await hopSoftware(kind);
    assert.equal(v.family, kind);
    assert.match(v.version, /^\d+\.\d+/, `${kind}: ${v.version}`);
  }
});
