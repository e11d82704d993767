// What the two browser drivers (chromium-driver.ts, firefox-driver.ts) share.
//
// Contract:
// - How a browser makes the request: the page is put on the target's origin without any network
//   traffic (the browser's own request interception answers the document request for `/` with
//   ORIGIN_PAGE, which also names an inline favicon so no /favicon.ico is fetched), then the page
//   runs `pageFetch(path)`: a same-origin fetch() that reads the whole body through a reader —
//   what a web application's code does. A plain navigation would not do: the lab's `/large` is
//   application/octet-stream, which a browser hands to its download manager (Chromium then reports
//   only `canceled`). So exactly one request reaches the network, as with the other clients.
// - The outcome: `error` = the browser (`chromium`, `firefox`), `code` = the network layer's name
//   for the failure exactly as the browser reports it to its devtools (`net::ERR_CONNECTION_RESET`
//   from CDP Network.loadingFailed, `NS_ERROR_NET_RESET` from BiDi network.fetchError), `message`
//   = that same errorText verbatim; `status`/`bytes` when a response head came; the page's own
//   error (`TypeError: Failed to fetch`) and console lines go into `notes` as `fetch: …` and
//   `console: …`, verbatim.
// - Profiles live in os.tmpdir()/rstlab-browsers-<uid>/<pid>-XXXXXX (mode 0700): removed when the
//   driver exits by any path it sees (result, safety net, SIGTERM/SIGINT/SIGHUP); a SIGKILLed
//   driver cannot, so each start also removes the folders of drivers no longer alive
//   (`sweepProfiles`, also called by `rstlab lab --cleanup`).
// - No browser outlives its driver: Chromium talks to Playwright over a pipe and exits when it
//   closes; Firefox is started under `setpriv --pdeathsig KILL` (and SIGKILLed on exit).

import { X509Certificate, createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DriverConfig, Outcome } from '../protocol.js';
import { formatAddress } from './runtime.js';

/** The synthetic document that puts the page on the target's origin. */
export const ORIGIN_PAGE = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>rstlab</title>';

export interface BrowserTarget {
  /** `http://host:port` or `https://host:port`. */
  origin: string;
  /** The URL the page fetches. */
  url: string;
  /** The document URL answered with ORIGIN_PAGE. */
  originPage: string;
}

export function browserTarget(cfg: DriverConfig): BrowserTarget {
  const secure = cfg.scheme === 'https' || cfg.scheme === 'h2';
  const origin = `${secure ? 'https' : 'http'}://${formatAddress(cfg.target.host, cfg.target.port)}`;
  return { origin, url: origin + cfg.path, originPage: `${origin}/` };
}

/** What pageFetch returns from the page. */
export interface PageResult {
  status?: number;
  bytes: number;
  error?: { name: string; message: string };
}

/**
 * Runs inside the page (serialized with toString(): no closures, no imports): fetch `url`
 * same-origin, read the body to the end, report status, bytes and the error the page saw.
 */
export async function pageFetch(url: string): Promise<PageResult> {
  const r: PageResult = { bytes: 0 };
  try {
    const res = await fetch(url, { cache: 'no-store' });
    r.status = res.status;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        r.bytes += value.byteLength;
      }
    }
  } catch (e) {
    const err = e as { name?: unknown; message?: unknown };
    r.error = { name: String(err?.name), message: String(err?.message) };
  }
  return r;
}

/** The Outcome of one browser run (see the contract above). */
export function browserOutcome(browser: 'chromium' | 'firefox', page: PageResult, netError: string | undefined, notes: string[]): Outcome {
  const head = page.status === undefined ? {} : { status: page.status, bytes: page.bytes };
  if (!page.error) return { kind: 'ok', ...head, causes: [], notes };
  const all = [...notes, `fetch: ${page.error.name}: ${page.error.message}`];
  if (netError === undefined) {
    return { kind: 'error', error: browser, message: `${page.error.name}: ${page.error.message}`, ...head, causes: [], notes: [...all, 'no-network-error-reported'] };
  }
  return { kind: 'error', error: browser, code: netError, message: netError, ...head, causes: [], notes: all };
}

// ------------------------------------------------------------------------------------- profiles

function profilesRoot(): string {
  return path.join(os.tmpdir(), `rstlab-browsers-${process.getuid?.() ?? 0}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the profile folders of browser drivers that are no longer running; returns their paths. */
export function sweepProfiles(): string[] {
  const root = profilesRoot();
  if (!existsSync(root)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
    const dir = path.join(root, name);
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

const exitHooks: Array<() => void> = [];
let hooksInstalled = false;

/** Run `fn` (synchronously) when the process exits, also on SIGTERM/SIGINT/SIGHUP. */
export function onDriverExit(fn: () => void): void {
  exitHooks.push(fn);
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const h of exitHooks.splice(0).reverse()) {
      try {
        h();
      } catch {
        // keep going: the other hooks still have to run
      }
    }
  });
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(sig, () => process.exit(128 + os.constants.signals[sig]));
}

/** A fresh private profile folder, removed when the driver exits. */
export function makeProfile(browser: string): string {
  const root = profilesRoot();
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const st = statSync(root);
  if (st.uid !== (process.getuid?.() ?? 0) || (st.mode & 0o077) !== 0) throw new Error(`${root} is not private to this user; remove it`);
  try {
    sweepProfiles();
  } catch {
    // a sweep that fails must not stop this run
  }
  const dir = mkdtempSync(path.join(root, `${process.pid}-${browser}-`));
  onDriverExit(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ------------------------------------------------------------------------------------- TLS

/** base64(SHA-256(SubjectPublicKeyInfo)) of every certificate in a PEM file (Chromium's
 *  --ignore-certificate-errors-spki-list format). */
export function spkiHashes(pemFile: string): string[] {
  const pem = readFileSync(pemFile, 'utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => {
    const der = new X509Certificate(b).publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(der).digest('base64');
  });
}
