// The HTML reports in a real headless Chromium (Debian's `chromium`, driven by playwright-core with
// executablePath — no downloaded browser). The report is loaded from a file:// URL; every request
// the page makes is recorded and routed, and only the report itself may load. Checked: the claim
// verdicts, the matrix cells and the ladder SVGs of known runs as the browser renders them, that
// print media shows the collapsed runs, and a screenshot saved under the OS temp dir (its path is
// printed) for a person to look at. Real lab results are checked too: rstlab-out/results.json when
// present, else (as root) a small real lab run made by the test.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { PcapWriter } from '../capture/writer.js';
import { explainCapture } from '../explain/index.js';
import { Conversation } from '../tcp/index.js';
import { renderExplainHtml, renderLabHtml } from './html.js';
import { LAB_SCHEMA } from './results.js';
import type { LabResults } from './results.js';
import { LAB_FIXTURE } from './testdata/lab-results.js';
import { repoRoot } from '../paths.js';
import { skipOutsideCi } from '../testkit.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = (() => { try { accessSync(CHROMIUM, constants.X_OK); return true; } catch { return false; } })();
const skip = skipOutsideCi(hasChromium ? false : 'chromium is not installed (apt-get install chromium)');


let tmp = '';
let context: BrowserContext | null = null;

before(async () => {
  if (!hasChromium) return;
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rstlab-html-'));
  context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1366, height: 800 },
    offline: true,
  });
});

after(async () => {
  await context?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Open `html` written as `name` in a fresh page; every request is recorded, only the file itself may load. */
async function open(html: string, name: string): Promise<{ page: Page; requests: string[]; blocked: string[]; errors: string[]; url: string }> {
  assert.ok(context);
  const dir = path.join(tmp, name.replace(/\W+/g, '-'));
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'report.html');
  writeFileSync(file, html);
  const url = pathToFileURL(file).href;
  const page = await context.newPage();
  const requests: string[] = [];
  const blocked: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.route('**/*', async (route) => {
    if (route.request().url() === url) await route.continue();
    else { blocked.push(route.request().url()); await route.abort(); }
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, requests, blocked, errors, url };
}

function checkNoNetwork(r: { requests: string[]; blocked: string[]; errors: string[]; url: string }): void {
  assert.deepEqual(r.blocked, [], 'the page tried to load something');
  assert.deepEqual(r.requests.filter((u) => u !== r.url), [], 'requests besides the report itself');
  assert.deepEqual(r.errors.filter((e) => /Content Security Policy|Refused to/i.test(e)), [], 'CSP violations');
}

test('lab report in Chromium: verdicts, matrix, ladders, no network, print, screenshot', { skip, timeout: 60_000 }, async (t) => {
  const r = await open(renderLabHtml(LAB_FIXTURE), 'lab');
  const { page } = r;
  try {
    assert.equal(await page.title(), 'rstlab lab report');

    // Verdicts.
    const verdicts = await page.$$eval('table.claims tr[data-claim]', (rows) => rows.map((row) => [row.getAttribute('data-claim'), row.querySelector('.badge')?.textContent]));
    assert.deepEqual(verdicts, LAB_FIXTURE.claims.map((c) => [c.id, c.verdict]));

    // Matrix: scenarios × clients, cells as the browser shows them.
    const header = await page.$$eval('table.matrix thead th', (ths) => ths.map((th) => th.textContent?.trim()));
    assert.deepEqual(header, ['scenario', 'node-http', 'okhttp', 'curl', 'python']);
    const rows = await page.$$eval('table.matrix tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent?.trim())));
    assert.deepEqual(rows, [
      ['refused', 'ECONNREFUSED', 'ConnectException: Failed to conne…', 'curl 7: Failed to connect to 203.…', 'lab failed'],
      ['kill-server-before-request-http', 'ECONNRESET', 'IOException: unexpected end of st…', 'ok 200', '·'],
      ['kill-proxy-before-request-https', 'skipped', 'SSLHandshakeException: Remote hos…', '·', '·'],
      ['kill-server-mid-response-h2', '·', 'StreamResetException: stream was …', '·', '·'],
    ]);
    const cell = page.locator('td[data-scenario="kill-server-before-request-http"][data-client="okhttp"]');
    assert.match((await cell.getAttribute('title')) ?? '', /unexpected end of stream on Connection\{203\.0\.113\.2:40123/);
    assert.equal(await page.locator('td[data-scenario="kill-server-before-request-http"][data-client="curl"]').getAttribute('data-status'), 'mismatch');

    // A matrix cell leads to its run; the run's ladder shows the kill, the FIN, the RST and the error.
    await cell.locator('a').click();
    const run = page.locator('details#run-kill-server-before-request-http--okhttp');
    await run.locator('summary').click();
    assert.equal(await run.evaluate((d) => (d as HTMLDetailsElement).open), true);
    const svg = run.locator('svg.ladder');
    assert.equal(await svg.count(), 1);
    const box = await svg.boundingBox();
    assert.ok(box && box.width > 300 && box.height > 150, `ladder is drawn (${JSON.stringify(box)})`);
    assert.deepEqual(await svg.locator('g[data-kind="host"]').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-host'))), ['client', 'server']);
    assert.equal(await svg.locator('g[data-kind="segment"]').count(), 7);
    assert.equal(await svg.locator('g[data-kind="segment"][data-cause="reset-after-close"]').getAttribute('data-frame'), '7');
    const notes = await svg.locator('g[data-kind="note"] text').allTextContents();
    assert.ok(notes.some((n) => /SIGKILL server/.test(n)), notes.join(' | '));
    assert.ok(notes.some((n) => /^error: IOException: unexpected end of stream/.test(n)), notes.join(' | '));
    // The RST is drawn in red, from the server's line towards the client's.
    const [rstLine, clientX, serverX] = await svg.evaluate((s) => {
      const line = s.querySelector('g[data-cause] line') as SVGLineElement;
      const lanes = [...s.querySelectorAll('g[data-kind="host"] line')].map((l) => Number(l.getAttribute('x1')));
      return [{ x1: Number(line.getAttribute('x1')), x2: Number(line.getAttribute('x2')), stroke: line.getAttribute('stroke') }, lanes[0], lanes[1]];
    });
    assert.equal(rstLine.x1, serverX);
    assert.ok(rstLine.x2 < serverX && rstLine.x2 > clientX);
    assert.equal(rstLine.stroke, '#c62828');
    assert.equal(await run.locator('.rst[data-cause="reset-after-close"]').count(), 1);
    assert.equal(await run.locator('a.capture').getAttribute('href'), 'captures/kill-server-before-request-http--okhttp.pcap');

    // Every run that ran has a ladder; the proxy run has three lines.
    assert.equal(await page.locator('figure.ladder svg').count(), LAB_FIXTURE.runs.filter((x) => x.status !== 'skipped' && x.status !== 'failed').length);
    assert.deepEqual(await page.locator('details#run-kill-proxy-before-request-https--okhttp g[data-kind="host"]').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-host'))), ['client', 'proxy', 'server']);

    // Print media: collapsed runs print open.
    const closed = page.locator('details#run-refused--curl svg.ladder');
    assert.equal(await closed.isVisible(), false, 'hidden on screen while collapsed');
    await page.emulateMedia({ media: 'print' });
    const printed = await closed.boundingBox();
    assert.ok(printed && printed.height > 50, 'collapsed runs are shown when printing');
    assert.equal(await page.locator('nav').isVisible(), false, 'navigation is not printed');
    await page.emulateMedia({ media: 'screen' });

    // Screenshot for a person: open the first run of each scenario.
    for (const d of await page.locator('section.scenario details.run:first-of-type').all()) await d.evaluate((el) => { (el as HTMLDetailsElement).open = true; });
    const shot = path.join(os.tmpdir(), `rstlab-report-${process.pid}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);
    assert.ok(readFileSync(shot).length > 10_000);

    checkNoNetwork(r);
  } finally {
    await page.close();
  }
});

test('explain report in Chromium: causes, connection ladders, no network', { skip, timeout: 30_000 }, async () => {
  const conv = new Conversation({ client: '198.51.100.1:43211', server: '203.0.113.2:80' })
    .handshake().wait(0.05).fin('s').ack('c').wait(0.2).data('c', 74).statelessRst('s');
  conv.wait(1);
  const refused = new Conversation({ client: '198.51.100.1:43300', server: '203.0.113.2:442', start: 1_700_000_001 });
  refused.syn('c').segment('s', 0x14, 0, { seqNumber: 0, ackNumber: 1001 });
  const w = new PcapWriter({ linkType: conv.linkType });
  const frames = [...conv.frames, ...refused.frames].sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
  const res = await explainCapture(Readable.from([Buffer.concat([w.header(), ...frames.map((f) => w.record(f.tsSec, f.tsNsec, f.data))])]));
  const r = await open(renderExplainHtml(res, 'two.pcap'), 'explain');
  try {
    const causes = await r.page.$$eval('#causes tr[data-cause]', (rows) => rows.map((row) => row.getAttribute('data-cause')));
    assert.deepEqual(causes.sort(), ['refused', 'reset-after-close']);
    assert.equal(await r.page.locator('details[data-connection]').count(), 2);
    assert.equal(await r.page.locator('figure.ladder svg g[data-kind="segment"][data-cause="refused"]').count(), 1);
    assert.equal(await r.page.locator('figure.ladder svg g[data-kind="segment"][data-cause="reset-after-close"]').count(), 1);
    assert.ok(await r.page.locator('figure.ladder svg').first().isVisible());
    checkNoNetwork(r);
  } finally {
    await r.page.close();
  }
});

test('the no-network check catches a page that loads something (with and without the CSP)', { skip, timeout: 30_000 }, async () => {
  const html = renderLabHtml(LAB_FIXTURE);
  const withImage = html.replace('<body>', '<body><img src="http://192.0.2.1/x.png" alt="">');
  const a = await open(withImage, 'csp-img');
  try {
    assert.throws(() => checkNoNetwork(a), /tried to load|requests besides|CSP violations/);
  } finally { await a.page.close(); }
  const b = await open(withImage.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, ''), 'no-csp-img');
  try {
    await b.page.waitForTimeout(200);
    assert.throws(() => checkNoNetwork(b), /tried to load|requests besides/);
  } finally { await b.page.close(); }
});

/** Real lab results: rstlab-out/results.json when a lab ran here, else (as root) a small real lab run made now. */
function realLabResults(): LabResults | string {
  const parse = (file: string): LabResults | null => {
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as LabResults;
      return data.schema === LAB_SCHEMA && data.runs.some((x) => x.outcome) ? data : null;
    } catch { return null; }
  };
  const existing = parse(path.join(repoRoot(), 'rstlab-out', 'results.json'));
  if (existing) return existing;
  if (process.getuid?.() !== 0) return 'no rstlab-out/results.json, and making one needs root';
  const out = mkdtempSync(path.join(os.tmpdir(), 'rstlab-html-lab-'));
  try {
    spawnSync(process.execPath, [path.join(repoRoot(), 'bin', 'rstlab.js'), 'lab', '--no-color', '--out', out,
      '--scenario', 'refused,kill-server-before-request-http,firewall-reset,blind-reset', '--client', 'node-http,okhttp,curl'], { stdio: 'ignore', timeout: 120_000 });
    return parse(path.join(out, 'results.json')) ?? 'the small lab run made no results';
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test('report of the real lab results in Chromium: a cell and a ladder for every run', { skip, timeout: 180_000 }, async (t) => {
  const real = realLabResults();
  if (typeof real === 'string') { t.skip(real); return; }
  assert.ok(real.runs.length >= 4);
  const r = await open(renderLabHtml(real), 'real');
  try {
    for (const run of real.runs) {
      const cell = r.page.locator(`td[data-scenario="${run.scenario}"][data-client="${run.client}"]`);
      assert.equal(await cell.getAttribute('data-status'), run.status, run.id);
      const ladder = r.page.locator(`details[data-run="${run.id}"] svg.ladder`);
      assert.equal(await ladder.count(), run.status === 'skipped' || run.status === 'failed' ? 0 : 1, run.id);
      for (const rst of run.rsts.filter((x) => run.ladder.some((s) => s.frame === x.frame))) {
        assert.equal(await ladder.locator(`g[data-frame="${rst.frame}"]`).getAttribute('data-cause'), rst.cause, `${run.id} frame ${rst.frame}`);
      }
    }
    checkNoNetwork(r);
  } finally {
    await r.page.close();
  }
});
