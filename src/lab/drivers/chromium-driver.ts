// The chromium client driver: Debian's /usr/bin/chromium, headless, driven through playwright-core
// (CDP over a pipe), as `node chromium-driver.js '<DriverConfig JSON>'`, speaking ../protocol.ts.
// Start-up: launch (a persistent context in a private profile, browser-runtime.ts), then `ready`
// with `software` {family: 'chromium', version: browser.version()}; the safety net (timeoutMs)
// starts only then. The request is a same-origin fetch() from a page put on the target's origin by
// request interception (browser-runtime.ts says why not a navigation); `response-started` when the
// response head arrives; one `result`. Chromium cannot hold at the pause point (`cannotPause`), and
// with `reuse` says `cannotReuse` (one request per run: the keep-alive race is not driven here).
// Outcome: `code`/`message` = the request's errorText from Playwright's `requestfailed` (CDP
// Network.loadingFailed), e.g. `net::ERR_CONNECTION_RESET`; the page's TypeError and the console
// line ("Failed to load resource: net::ERR_…") in `notes`.
// Flags: --no-sandbox (the lab runs it as root in the client's namespace); with a proxy
// --proxy-server=http://host:port and --proxy-bypass-list=<-loopback> (Chromium otherwise never
// proxies loopback targets); for https the lab's certificates are accepted with
// --ignore-certificate-errors-spki-list: Chromium reads no CA file, and on Linux trusts only the NSS
// db of $HOME (certutil is not installed), so the SPKI hashes of the lab's CA and of its server
// certificate (server.pem beside the CA file, see ../certs.ts) are listed — the certificate is still
// checked against that key, not ignored wholesale (noted as `spki-pinned-lab-cert`).
// The browser dies with the driver: right after the result Playwright's exit handler kills it; Chromium
// also exits when Playwright's pipe closes (so on a SIGKILL of the driver too).

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DriverConfig } from '../protocol.js';
import { browserOutcome, browserTarget, makeProfile, ORIGIN_PAGE, pageFetch, spkiHashes, type PageResult } from './browser-runtime.js';
import { Run, emit, errorOutcome, formatAddress, readConfig } from './runtime.js';

export const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_TIMEOUT_MS = 60_000;

/** Chromium's command-line flags for a DriverConfig (besides Playwright's own). Exported for tests. */
export function chromiumArgs(cfg: DriverConfig): { args: string[]; notes: string[] } {
  const args = ['--no-sandbox', '--disable-crash-reporter', '--no-first-run'];
  const notes: string[] = [];
  if (cfg.proxy) {
    args.push(`--proxy-server=http://${formatAddress(cfg.proxy.host, cfg.proxy.port)}`, '--proxy-bypass-list=<-loopback>');
  }
  if ((cfg.scheme === 'https' || cfg.scheme === 'h2') && cfg.caFile) {
    const files = [cfg.caFile, path.join(path.dirname(cfg.caFile), 'server.pem')].filter((f) => existsSync(f));
    const hashes = files.flatMap((f) => spkiHashes(f));
    if (hashes.length > 0) {
      args.push(`--ignore-certificate-errors-spki-list=${hashes.join(',')}`);
      notes.push('spki-pinned-lab-cert');
    }
  }
  return { args, notes };
}

let run: Run | undefined;

async function main(): Promise<void> {
  const cfg = readConfig();
  const { chromium } = (await import('playwright-core')).default;
  const target = browserTarget(cfg);
  const { args, notes } = chromiumArgs(cfg);
  const profile = makeProfile('chromium');
  // "Preload pages" off: the synthetic origin page would otherwise make Chromium open a second,
  // speculative connection to the origin besides the fetch's own.
  mkdirSync(path.join(profile, 'Default'));
  writeFileSync(path.join(profile, 'Default', 'Preferences'), JSON.stringify({ net: { network_prediction_options: 2 } }));
  const launchTimer = setTimeout(() => {
    process.stderr.write(`chromium did not start within ${LAUNCH_TIMEOUT_MS} ms\n`);
    process.exit(4);
  }, LAUNCH_TIMEOUT_MS);
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, timeout: LAUNCH_TIMEOUT_MS });
  clearTimeout(launchTimer);
  const version = context.browser()?.version() ?? 'unknown';
  emit({ event: 'ready', software: { family: 'chromium', version } });
  run = new Run(cfg);
  if (cfg.pause) run.cannotPause = true;
  // The browser keeps a pool, but this driver makes one request: the keep-alive race is not done here.
  if (cfg.reuse) run.cannotReuse = true;
  const page = context.pages()[0] ?? (await context.newPage());
  let netError: string | undefined;
  let failed: (() => void) | undefined;
  // Events of the fetched URL count only once the fetch runs (the origin page may have the same URL).
  let fetching = false;
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') notes.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (fetching && r.url() === target.url) emit({ event: 'response-started', status: r.status() });
  });
  page.on('requestfailed', (r) => {
    if (!fetching || r.url() !== target.url) return;
    netError = r.failure()?.errorText;
    failed?.();
  });
  // The protocol the response came over (Playwright's Response does not tell): CDP's own event.
  const cdp = await context.newCDPSession(page);
  cdp.on('Network.responseReceived', (e) => {
    if (fetching && e.response.url === target.url && e.response.protocol) notes.push(`protocol=${e.response.protocol}`);
  });
  await cdp.send('Network.enable');
  await page.route(target.originPage, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: ORIGIN_PAGE }));
  await page.goto(target.originPage);
  await page.unrouteAll();
  fetching = true;
  const result: PageResult = await page.evaluate(pageFetch, target.url);
  if (result.error && netError === undefined) {
    // The page's rejection and the network event travel separately; give the event a moment.
    await new Promise<void>((resolve) => {
      failed = resolve;
      setTimeout(resolve, 1000).unref();
    });
  }
  // The result first; Playwright's exit handler then kills the browser (and the pipe closes).
  run.finish(browserOutcome('chromium', result, netError, notes));
}

main().catch((err: unknown) => {
  // Launch or protocol failures: the driver's own outcome (the lab shows it; nothing hangs).
  if (run) run.finish(errorOutcome(err, { notes: ['driver-error'] }));
  else {
    emit({ event: 'result', outcome: errorOutcome(err, { notes: ['driver-error'] }), timings: { totalMs: 0 } });
    process.exit(0);
  }
});
