// Unit tests of the browser drivers' shared part: the Outcome a browser run turns into, the
// profile sweep (dead drivers' folders go, live ones stay), and the matrix cell it shows as.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { shortOutcome } from '../../report/lab-text.js';
import { browserOutcome, browserTarget, pageFetch, sweepProfiles } from './browser-runtime.js';

test('browserOutcome: the network layer\'s name is code and message; the page\'s error is a note', () => {
  const o = browserOutcome('chromium', { status: 200, bytes: 262144, error: { name: 'TypeError', message: 'network error' } }, 'net::ERR_CONTENT_LENGTH_MISMATCH', ['protocol=http/1.1']);
  assert.deepEqual(o, {
    kind: 'error', error: 'chromium', code: 'net::ERR_CONTENT_LENGTH_MISMATCH', message: 'net::ERR_CONTENT_LENGTH_MISMATCH',
    status: 200, bytes: 262144, causes: [], notes: ['protocol=http/1.1', 'fetch: TypeError: network error'],
  });
  assert.equal(shortOutcome(o, 40), 'net::ERR_CONTENT_LENGTH_MISMATCH');
  const refused = browserOutcome('firefox', { bytes: 0, error: { name: 'TypeError', message: 'NetworkError when attempting to fetch resource.' } }, 'NS_ERROR_CONNECTION_REFUSED', []);
  assert.equal(refused.status, undefined);
  assert.equal(refused.bytes, undefined);
  assert.equal(shortOutcome(refused, 40), 'NS_ERROR_CONNECTION_REFUSED');
  // No network event (a page-level failure): the page's error is the message, and it says so.
  const bare = browserOutcome('firefox', { bytes: 0, error: { name: 'TypeError', message: 'x' } }, undefined, []);
  assert.equal(bare.code, undefined);
  assert.equal(bare.message, 'TypeError: x');
  assert.ok(bare.notes?.includes('no-network-error-reported'));
  assert.deepEqual(browserOutcome('chromium', { status: 200, bytes: 5 }, undefined, []), { kind: 'ok', status: 200, bytes: 5, causes: [], notes: [] });
});

test('browserTarget and pageFetch: same origin, and a function that survives toString()', () => {
  const t = browserTarget({ client: 'firefox', scheme: 'h2', target: { host: '2001:db8::2', port: 8443 }, path: '/large', pause: false, timeoutMs: 1 });
  assert.deepEqual(t, { origin: 'https://[2001:db8::2]:8443', url: 'https://[2001:db8::2]:8443/large', originPage: 'https://[2001:db8::2]:8443/' });
  const src = pageFetch.toString();
  assert.match(src, /^async function pageFetch\(url\)/);
  assert.doesNotMatch(src, /\b(import|require)\b/);
});

test('sweepProfiles removes the folders of drivers that are gone, and only those', () => {
  const root = path.join(os.tmpdir(), `rstlab-browsers-${process.getuid?.() ?? 0}`);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  // A pid above the kernel's pid_max cannot be alive.
  const dead = path.join(root, '4194305-chromium-test');
  const live = path.join(root, `${process.pid}-firefox-test`);
  mkdirSync(dead, { recursive: true });
  mkdirSync(live, { recursive: true });
  try {
    const removed = sweepProfiles();
    assert.ok(removed.includes(dead));
    assert.equal(existsSync(dead), false);
    assert.equal(existsSync(live), true);
  } finally {
    rmSync(live, { recursive: true, force: true });
    rmSync(dead, { recursive: true, force: true });
  }
});
