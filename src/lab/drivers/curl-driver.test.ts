// curlArgs: one transfer, or with `reuse` two in one invocation (`--next`), the second being the result.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DriverConfig } from '../protocol.js';
import { curlArgs } from './curl-driver.js';

const base: DriverConfig = { client: 'curl', scheme: 'http', target: { host: '10.0.0.2', port: 8080 }, path: '/large', pause: false, timeoutMs: 1000 };
const writeOut = '%{stderr}\n%{http_code} %{size_download}\n';

test('one transfer: the options, then -- and the URL', () => {
  assert.deepEqual(curlArgs(base), ['--silent', '--show-error', '--http1.1', '--output', '-', '--write-out', writeOut, '--', 'http://10.0.0.2:8080/large']);
  assert.deepEqual(curlArgs({ ...base, scheme: 'h2', caFile: '/ca.pem', target: { host: '::1', port: 443 } }).slice(2, 5), ['--http2', '--cacert', '/ca.pem']);
  assert.equal(curlArgs({ ...base, target: { host: '::1', port: 443 }, scheme: 'https' }).at(-1), 'https://[::1]:443/large');
});

test('reuse: / to /dev/null, --next, then the result transfer (POST with a body)', () => {
  const args = curlArgs({ ...base, proxy: { host: '10.0.0.3', port: 3128 }, reuse: { method: 'POST' } });
  const common = ['--silent', '--show-error', '--http1.1', '--proxy', 'http://10.0.0.3:3128'];
  assert.deepEqual(args, [
    ...common, '--output', '/dev/null', 'http://10.0.0.2:8080/', '--next',
    ...common, '--output', '-', '--write-out', writeOut, '--data', 'rstlab=1', 'http://10.0.0.2:8080/large',
  ]);
  assert.ok(!curlArgs({ ...base, reuse: {} }).includes('--data'));
});
