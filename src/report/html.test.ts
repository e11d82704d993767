// HTML reports without a browser: self-contained (no external reference of any kind), the claim
// verdicts, the matrix cells and the runs of the fixture, escaping, print rules. The browser test
// (html.e2e.test.ts) checks the same page rendered in Chromium.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { PcapWriter } from '../capture/writer.js';
import { explainCapture } from '../explain/index.js';
import { Conversation } from '../tcp/index.js';
import { outcomeText, renderExplainHtml, renderLabHtml } from './html.js';
import { LAB_FIXTURE } from './testdata/lab-results.js';

/** Anything that would make a browser fetch: src/href to another origin, CSS url(), @import, srcset. */
function externalReferences(html: string): string[] {
  const found: string[] = [];
  for (const m of html.matchAll(/\b(src|href|srcset|action|xlink:href|poster|data)\s*=\s*"([^"]*)"/g)) {
    const [, attr, value] = m;
    if (attr === 'data') continue;
    if (attr === 'href' && (value.startsWith('#') || /^captures\/[^/:]+$/.test(value))) continue;
    found.push(`${attr}=${value}`);
  }
  for (const m of html.matchAll(/url\(|@import|<link\b|<iframe\b|<img\b|<object\b|<embed\b|<script\s+src/gi)) found.push(m[0]);
  return found;
}

test('the lab report is self-contained and forbids fetching', () => {
  const html = renderLabHtml(LAB_FIXTURE);
  assert.deepEqual(externalReferences(html), []);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  assert.match(html, /@media print/);
});

test('the lab report has the verdicts, the matrix and one collapsible block per run', () => {
  const html = renderLabHtml(LAB_FIXTURE);
  for (const c of LAB_FIXTURE.claims) assert.match(html, new RegExp(`<tr data-claim="${c.id}" data-verdict="${c.verdict}">`));
  assert.match(html, />2 reproduced<\/span><span class="badge v-differs">1 differ<\/span><span class="badge v-unavailable">1 unavailable</);
  assert.match(html, /data-scenario="refused" data-client="node-http" data-status="ok" title="Error \[ECONNREFUSED\]: connect ECONNREFUSED 203\.0\.113\.2:40001"><a href="#run-refused--node-http">ECONNREFUSED<\/a>/);
  assert.match(html, /data-scenario="kill-server-mid-response-h2" data-client="node-http" data-status="none"/);
  assert.match(html, /data-scenario="kill-server-before-request-http" data-client="curl" data-status="mismatch"/);
  for (const r of LAB_FIXTURE.runs) assert.match(html, new RegExp(`<details class="run" id="run-${r.id}" data-run="${r.id}"`));
  const ladders = LAB_FIXTURE.runs.filter((r) => r.status !== 'skipped' && r.status !== 'failed').length;
  assert.equal((html.match(/<figure class="ladder"/g) ?? []).length, ladders);
  assert.match(html, /<a class="capture" href="captures\/refused--okhttp\.pcap">/);
  // The explainer against the kernel: causes × reasons, and every reason Linux can give.
  assert.match(html, /<tr data-cause="refused" data-kernel-reason="NO_SOCKET" data-agree="yes">/);
  assert.match(html, /<tr data-kernel-reason="NO_SOCKET" data-produced="yes"><td class="mono">NO_SOCKET<\/td><td><a href="#scenario-refused">refused<\/a>/);
  assert.match(html, /<tr data-kernel-reason="TCP_ABORT_ON_MEMORY" data-produced="no">.*not produced: tcp_max_orphans and tcp_mem are global sysctls/);
});

test('error texts are escaped and shown with their cause chain', () => {
  const okhttp = LAB_FIXTURE.runs.find((r) => r.id === 'refused--okhttp')!;
  assert.equal(outcomeText(okhttp.outcome), 'java.net.ConnectException: Failed to connect to /203.0.113.2:40001\n  caused by java.net.ConnectException: Connection refused');
  const evil = structuredClone(LAB_FIXTURE);
  evil.runs[0].outcome = { kind: 'error', error: 'Error', message: '<img src=x onerror=alert(1)>', causes: [] };
  const html = renderLabHtml(evil);
  assert.doesNotMatch(html, /<img/);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
});

test('the explain report shows each abnormal connection with its ladder and RST evidence', async () => {
  const conv = new Conversation({ client: '198.51.100.1:43211', server: '203.0.113.2:80' })
    .handshake().wait(0.05).fin('s').ack('c').wait(0.2).data('c', 74).statelessRst('s');
  const w = new PcapWriter({ linkType: conv.linkType });
  const pcap = Buffer.concat([w.header(), ...conv.frames.map((f) => w.record(f.tsSec, f.tsNsec, f.data))]);
  const res = await explainCapture(Readable.from([pcap]));
  const html = renderExplainHtml(res, 'killed <server>.pcap');
  assert.deepEqual(externalReferences(html), []);
  assert.match(html, /killed &lt;server&gt;\.pcap/);
  assert.match(html, /<tr data-cause="reset-after-close"><td><span class="badge cause">reset-after-close<\/span><\/td><td>1<\/td>/);
  assert.match(html, /<figure class="ladder" data-connection="1">/);
  assert.match(html, /data-frame="7" data-flags="\[R\]" data-cause="reset-after-close"/);
  assert.match(html, /<div class="small" data-linux-reasons="TCP_TIMEWAIT_SOCKET TCP_ABORT_ON_DATA NO_SOCKET">Linux would log one of TCP_TIMEWAIT_SOCKET, TCP_ABORT_ON_DATA, NO_SOCKET \(the packets cannot tell which\)<\/div>/);
  for (const e of res.rsts[0].evidence) assert.ok(html.includes(e.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')), e);
});
