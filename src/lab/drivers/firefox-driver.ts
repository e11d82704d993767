// The firefox client driver: Debian's firefox-esr, headless, driven over WebDriver BiDi (W3C) by a
// small client of our own on undici's WebSocket, as `node firefox-driver.js '<DriverConfig JSON>'`,
// speaking ../protocol.ts. (playwright-core's BiDi Firefox channel does not work with
// firefox-esr 153: newPage fails with `emulation.setMediaFeaturesOverride: unknown command`; and
// Firefox no longer has CDP.)
// Start-up: a private profile (browser-runtime.ts) with a user.js that turns off Firefox's own
// background traffic and, with a proxy, sets network.proxy.* (type 1, http and ssl to the proxy,
// allow_hijacking_localhost, no bypass list); `firefox-esr --headless --no-remote
// --remote-debugging-port=0 --profile DIR` under `setpriv --pdeathsig KILL` (the kernel kills it
// when the driver dies, even by SIGKILL), reading `WebDriver BiDi listening on ws://…` from its
// stderr; session.new; then `ready` with `software` {family: 'firefox', version: browserVersion};
// the safety net (timeoutMs) starts only then.
// The request: network.addIntercept + network.provideResponse answer the document request for the
// origin's `/` with ORIGIN_PAGE (no network traffic), then script.callFunction runs pageFetch (see
// browser-runtime.ts); `response-started` on network.responseStarted of the fetched URL; one
// `result`. Outcome: `code`/`message` = network.fetchError's errorText for that URL (e.g.
// `NS_ERROR_NET_RESET`); the page's TypeError in `notes`. Firefox cannot hold at the pause point
// (`cannotPause`; with `reuse`, `cannotReuse`: one request per run).
// TLS: Firefox reads no CA file and certutil (libnss3-tools) is not installed, so the lab's CA
// cannot be put into the profile's NSS db: the session asks for `acceptInsecureCerts` (noted as
// `accept-insecure-certs` on https runs).
// Exit: firefox-esr is SIGKILLed (a graceful browser.close takes seconds) and waited for before the
// result; on any other exit path (safety net, signals) it is SIGKILLed on the way out; the profile
// is removed on every path the driver sees.

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DriverConfig } from '../protocol.js';
import { browserOutcome, browserTarget, makeProfile, onDriverExit, ORIGIN_PAGE, pageFetch, type PageResult } from './browser-runtime.js';
import { Run, emit, errorOutcome, readConfig } from './runtime.js';
import { findExecutable } from '../proc.js';

export const FIREFOX = '/usr/bin/firefox-esr';
const LAUNCH_TIMEOUT_MS = 60_000;
const COMMAND_TIMEOUT_MS = 30_000;

/** The profile's user.js for a DriverConfig. Exported for tests. */
export function firefoxPrefs(cfg: DriverConfig): string {
  const prefs: Record<string, string | number | boolean> = {
    // Quiet: no traffic of Firefox's own (updates, telemetry, remote settings, portals, prefetch).
    'app.update.disabledForTesting': true,
    'app.normandy.enabled': false,
    'browser.shell.checkDefaultBrowser': false,
    'browser.startup.homepage_override.mstone': 'ignore',
    'browser.startup.page': 0,
    'browser.newtabpage.enabled': false,
    'browser.safebrowsing.malware.enabled': false,
    'browser.safebrowsing.phishing.enabled': false,
    'browser.safebrowsing.downloads.enabled': false,
    'browser.safebrowsing.blockedURIs.enabled': false,
    'browser.region.network.url': '',
    'browser.search.update': false,
    'datareporting.policy.dataSubmissionEnabled': false,
    'datareporting.healthreport.uploadEnabled': false,
    'toolkit.telemetry.reportingpolicy.firstRun': false,
    'toolkit.telemetry.enabled': false,
    'extensions.update.enabled': false,
    'extensions.getAddons.cache.enabled': false,
    'services.settings.server': 'data:,#remote-settings-disabled',
    'messaging-system.rsexperimentloader.enabled': false,
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    'network.dns.disablePrefetch': true,
    'network.prefetch-next': false,
    'network.http.speculative-parallel-limit': 0,
    'dom.push.connection.enabled': false,
    'dom.security.https_first': false,
  };
  if (cfg.proxy) {
    Object.assign(prefs, {
      'network.proxy.type': 1,
      'network.proxy.http': cfg.proxy.host,
      'network.proxy.http_port': cfg.proxy.port,
      'network.proxy.ssl': cfg.proxy.host,
      'network.proxy.ssl_port': cfg.proxy.port,
      'network.proxy.no_proxies_on': '',
      'network.proxy.allow_hijacking_localhost': true,
    });
  } else {
    prefs['network.proxy.type'] = 0;
  }
  return Object.entries(prefs).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join('\n') + '\n';
}

interface BidiEvent { method: string; params: Record<string, unknown> }

/** A minimal WebDriver BiDi client: commands with ids, events to listeners. */
class Bidi {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly listeners = new Set<(e: BidiEvent) => void>();
  private closed: Error | undefined;

  constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (m: MessageEvent) => this.onMessage(String(m.data)));
    ws.addEventListener('close', () => this.fail(new Error('the WebDriver BiDi connection closed')));
  }

  static async connect(url: string): Promise<Bidi> {
    const { WebSocket } = await import('undici');
    const ws = new WebSocket(url) as unknown as WebSocket;
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot open ${url}`)), { once: true });
    });
    return new Bidi(ws);
  }

  private onMessage(text: string): void {
    const msg = JSON.parse(text) as { id?: number; type?: string; error?: string; message?: string; result?: Record<string, unknown>; method?: string; params?: Record<string, unknown> };
    if (typeof msg.id === 'number') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.type === 'error') p.reject(new Error(`${msg.error ?? 'error'}: ${msg.message ?? ''}`));
      else p.resolve(msg.result ?? {});
    } else if (msg.method) {
      for (const l of this.listeners) l({ method: msg.method, params: msg.params ?? {} });
    }
  }

  private fail(err: Error): void {
    this.closed ??= err;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (this.closed) return Promise.reject(this.closed);
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer within ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  on(listener: (e: BidiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    try {
      this.ws.close();
    } catch {
      // already closed
    }
  }
}

/** Start firefox-esr and resolve with its BiDi WebSocket URL. */
function launch(profile: string): Promise<{ proc: ChildProcess; wsUrl: string }> {
  const ffArgs = ['--headless', '--no-remote', '--remote-debugging-port=0', '--profile', profile, 'about:blank'];
  const setpriv = findExecutable('setpriv');
  const argv = setpriv ? [setpriv, '--pdeathsig', 'KILL', '--', FIREFOX, ...ffArgs] : [FIREFOX, ...ffArgs];
  const proc = spawn(argv[0]!, argv.slice(1), {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1', MOZ_CRASHREPORTER: '0' },
  });
  onDriverExit(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`firefox-esr printed no BiDi address within ${LAUNCH_TIMEOUT_MS} ms: ${stderr.slice(-500)}`)), LAUNCH_TIMEOUT_MS);
    proc.stderr!.setEncoding('utf8');
    const onData = (s: string): void => {
      stderr = (stderr + s).slice(-8192);
      const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        proc.stderr!.off('data', onData);
        proc.stderr!.resume();
        resolve({ proc, wsUrl: m[1]! });
      }
    };
    proc.stderr!.on('data', onData);
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`firefox-esr exited (${signal ?? code}) before it listened: ${stderr.slice(-500)}`));
    });
  });
}

let run: Run | undefined;

async function main(): Promise<void> {
  const cfg = readConfig();
  const target = browserTarget(cfg);
  const secure = cfg.scheme === 'https' || cfg.scheme === 'h2';
  const notes: string[] = secure ? ['accept-insecure-certs'] : [];
  const profile = makeProfile('firefox');
  writeFileSync(path.join(profile, 'user.js'), firefoxPrefs(cfg));
  const { proc, wsUrl } = await launch(profile);
  const bidi = await Bidi.connect(`${wsUrl}/session`);
  const session = await bidi.send('session.new', { capabilities: { alwaysMatch: { acceptInsecureCerts: secure } } });
  const caps = (session.capabilities ?? {}) as { browserVersion?: string };
  emit({ event: 'ready', software: { family: 'firefox', version: caps.browserVersion ?? 'unknown' } });
  run = new Run(cfg);
  if (cfg.pause) run.cannotPause = true;
  // The browser keeps a pool, but this driver makes one request: the keep-alive race is not done here.
  if (cfg.reuse) run.cannotReuse = true;

  const tree = await bidi.send('browsingContext.getTree', {});
  const context = ((tree.contexts as Array<{ context: string }> | undefined) ?? [])[0]?.context;
  if (!context) throw new Error('firefox-esr has no browsing context');
  let netError: string | undefined;
  let failed: (() => void) | undefined;
  // Events of the fetched URL count only once the fetch runs (the origin page may have the same URL).
  let fetching = false;
  bidi.on(({ method, params }) => {
    const request = params.request as { request?: string; url?: string } | undefined;
    if (method === 'network.beforeRequestSent' && params.isBlocked === true && request?.url === target.originPage) {
      void bidi.send('network.provideResponse', {
        request: request.request,
        statusCode: 200,
        reasonPhrase: 'OK',
        headers: [{ name: 'content-type', value: { type: 'string', value: 'text/html; charset=utf-8' } }],
        body: { type: 'string', value: ORIGIN_PAGE },
      }).catch(() => undefined);
    } else if (fetching && request?.url === target.url) {
      if (method === 'network.responseStarted') {
        const response = params.response as { status?: number; protocol?: string } | undefined;
        const status = response?.status;
        if (response?.protocol) notes.push(`protocol=${response.protocol}`);
        emit({ event: 'response-started', ...(status !== undefined ? { status } : {}) });
      } else if (method === 'network.fetchError') {
        netError = String(params.errorText);
        failed?.();
      }
    } else if (method === 'log.entryAdded' && (params.level === 'error' || params.level === 'warn')) {
      notes.push(`console: ${String(params.text)}`);
    }
  });
  await bidi.send('session.subscribe', { events: ['network.beforeRequestSent', 'network.responseStarted', 'network.fetchError', 'log.entryAdded'] });
  const intercept = await bidi.send('network.addIntercept', { phases: ['beforeRequestSent'], urlPatterns: [{ type: 'string', pattern: target.originPage }] });
  await bidi.send('browsingContext.navigate', { context, url: target.originPage, wait: 'complete' });
  await bidi.send('network.removeIntercept', { intercept: intercept.intercept });
  fetching = true;
  const called = await bidi.send('script.callFunction', {
    functionDeclaration: pageFetch.toString(),
    arguments: [{ type: 'string', value: target.url }],
    target: { context },
    awaitPromise: true,
    resultOwnership: 'none',
  });
  if (called.type === 'exception') throw new Error(`pageFetch threw: ${JSON.stringify(called.exceptionDetails)}`);
  const result = fromRemote(called.result) as unknown as PageResult;
  if (result.error && netError === undefined) {
    await new Promise<void>((resolve) => {
      failed = resolve;
      setTimeout(resolve, 1000).unref();
    });
  }
  const outcome = browserOutcome('firefox', result, netError, notes);
  // SIGKILL rather than browser.close (which takes seconds and would only delay the result), and
  // wait for the exit so that no zombie is left behind for init to reap.
  bidi.close();
  proc.kill('SIGKILL');
  await new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    setTimeout(resolve, 3000).unref();
  });
  run.finish(outcome);
}

/** A BiDi RemoteValue (objects, strings, numbers, undefined) as plain JSON. */
function fromRemote(v: unknown): unknown {
  const r = v as { type?: string; value?: unknown } | undefined;
  switch (r?.type) {
    case 'object':
      return Object.fromEntries((r.value as Array<[string | unknown, unknown]>).map(([k, x]) => [typeof k === 'string' ? k : String(fromRemote(k)), fromRemote(x)]));
    case 'array':
      return (r.value as unknown[]).map(fromRemote);
    case 'string':
    case 'number':
    case 'boolean':
      return r.value;
    case 'null':
      return null;
    default:
      return undefined;
  }
}

main().catch((err: unknown) => {
  if (run) run.finish(errorOutcome(err, { notes: ['driver-error'] }));
  else {
    emit({ event: 'result', outcome: errorOutcome(err, { notes: ['driver-error'] }), timings: { totalMs: 0 } });
    process.exit(0);
  }
});
