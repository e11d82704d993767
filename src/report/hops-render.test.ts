// A run's hops (what a real proxy wrote) in the terminal line and the HTML report's run details.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderLabHtml } from './html.js';
import { hopLine, renderRunLine } from './lab-text.js';
import type { HopReport, LabResults } from './results.js';
import { LAB_FIXTURE } from './testdata/lab-results.js';

const NGINX: HopReport = {
  role: 'proxy', software: { family: 'nginx', version: '1.22.1' }, code: '502',
  lines: [
    '2026/12/04 01:18:58 [info] 9254#9254: *2 client 198.51.100.2 closed keepalive connection',
    '2026/12/04 01:18:58 [error] 9254#9254: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 198.51.100.2, server: , request: "GET / HTTP/1.1", upstream: "http://203.0.113.2:45349/", host: "192.0.2.2:42409"',
    '198.51.100.2:47972 [04/Dec/2026:01:18:58 +0000] "GET / HTTP/1.1" 502 157 upstream=203.0.113.2:45349 upstream_status=502',
  ],
};

test('the terminal shows a hop\'s software, code and first error line', () => {
  assert.equal(hopLine(NGINX, 400), `nginx 1.22.1 502: ${NGINX.lines[1]} (+2 more)`);
  assert.equal(hopLine({ ...NGINX, code: undefined, lines: [] }), 'nginx 1.22.1: (wrote nothing for this run)');
  assert.ok(hopLine(NGINX, 80).length < 100);
  const run = { ...LAB_FIXTURE.runs[0]!, hops: [NGINX] };
  assert.match(renderRunLine(run, 0, 1), /\n {6}nginx 1\.22\.1 502: .*connect\(\) failed \(111: Connection refused\)/);
});

test('the HTML run details show what the proxy wrote, escaped', () => {
  const res: LabResults = { ...LAB_FIXTURE, runs: LAB_FIXTURE.runs.map((r, i) => (i === 0 ? { ...r, hops: [NGINX] } : r)) };
  const html = renderLabHtml(res);
  assert.match(html, /<h4>What the proxy wrote: nginx 1\.22\.1 <code data-hop-code>502<\/code><\/h4>/);
  assert.match(html, /<pre class="hop" data-hop="nginx">[^<]*connect\(\) failed \(111: Connection refused\)[^<]*request: &quot;GET/);
});
