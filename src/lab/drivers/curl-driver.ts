// The curl client driver: runs the `curl` command line tool once, as `node curl-driver.js
// '<DriverConfig JSON>'`, speaking the JSON-lines protocol of ../protocol.ts. curl cannot be held
// at the pause point: it prints `ready`, `response-started` once body bytes arrive, and one `result`
// (with `cannotPause: true` when `pause` was asked for), never `connected`. curl runs with
// --silent --show-error (--cacert, --proxy; --http1.1 or --http2), its body is counted and
// discarded; the Outcome maps the exit status and stderr: error 'curl', code = the exit code
// (e.g. '56'), message = curl's stderr line as printed. `ready` carries `curl --version`'s first
// line. With `reuse`, one invocation fetches `/` and then, after `--next`, `path` (curl reuses the
// connection within one run) — but it cannot wait at the idle point in between: asked to pause
// there it says `cannotPause` and goes straight on.

import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DriverConfig, Outcome } from '../protocol.js';
import { Run, emit, formatAddress, readConfig } from './runtime.js';

/** The curl argv (without the program name) for a DriverConfig. Exported for tests. */
export function curlArgs(cfg: DriverConfig): string[] {
  const secure = cfg.scheme === 'https' || cfg.scheme === 'h2';
  const origin = `${secure ? 'https' : 'http'}://${formatAddress(cfg.target.host, cfg.target.port)}`;
  const common = ['--silent', '--show-error', cfg.scheme === 'h2' ? '--http2' : '--http1.1'];
  if (cfg.caFile) common.push('--cacert', cfg.caFile);
  if (cfg.proxy) common.push('--proxy', `http://${formatAddress(cfg.proxy.host, cfg.proxy.port)}`);
  const result = ['--output', '-', '--write-out', '%{stderr}\n%{http_code} %{size_download}\n'];
  // The lab's safety net is ours; curl's own connect timeout default stays as curl has it.
  if (!cfg.reuse) return [...common, ...result, '--', origin + cfg.path];
  // One invocation, two transfers: the first's body goes to /dev/null; the second's is the result.
  const post = cfg.reuse.method === 'POST' ? ['--data', 'rstlab=1'] : [];
  return [...common, '--output', '/dev/null', `${origin}/`, '--next', ...common, ...result, ...post, origin + cfg.path];
}

/** `curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 …`: the version and the whole first line. */
function curlSoftware(): Promise<{ software?: { family: string; version: string } }> {
  return new Promise((resolve) => {
    execFile('curl', ['--version'], { timeout: 5000 }, (err, stdout) => {
      const line = String(stdout).split('\n')[0]?.trim() ?? '';
      if (err || !line.startsWith('curl ')) return resolve({});
      resolve({ software: { family: 'curl', version: line.slice('curl '.length) } });
    });
  });
}

async function main(): Promise<void> {
  const cfg = readConfig();
  const run = new Run(cfg);
  if (cfg.pause) run.cannotPause = true;
  emit({ event: 'ready', ...(await curlSoftware()) });
  const child = spawn('curl', curlArgs(cfg), { stdio: ['ignore', 'pipe', 'pipe'] });
  let bytes = 0;
  let stderr = '';
  let started = false;
  child.stdout.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (!started) {
      started = true;
      emit({ event: 'response-started' });
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr += s;
  });
  child.on('error', (err: NodeJS.ErrnoException) => {
    run.finish({ kind: 'error', error: err.name, code: err.code, message: err.message, causes: [] });
  });
  child.on('close', (code, signal) => {
    // stderr: curl's error line(s) ("curl: (56) Recv failure: …"), then our --write-out line last.
    const lines = stderr.split('\n').filter((l) => l.trim() !== '');
    const written = /^(\d{3}) (\d+)$/.exec(lines.at(-1) ?? '');
    if (written) lines.pop();
    const status = written ? Number(written[1]) : undefined;
    const outcome: Outcome = { kind: code === 0 ? 'ok' : 'error', causes: [] };
    if (status !== undefined && status !== 0) outcome.status = status;
    if (status !== undefined && status !== 0) outcome.bytes = written ? Number(written[2]) : bytes;
    if (code !== 0) {
      outcome.error = 'curl';
      outcome.code = code === null ? `signal ${String(signal)}` : String(code);
      outcome.message = lines.join('\n');
    }
    run.finish(outcome);
  });
  // When the safety net (Run's timer) prints its result and exits, curl must not outlive us.
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
}

// Run as a program, not when a test imports curlArgs.
if (process.argv[1] === fileURLToPath(import.meta.url)) void main();
