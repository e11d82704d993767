// `rstlab proxy` as a command: registerProxyCommand on a commander program, run in a child
// process with --config (Toxiproxy's populate format) and --port 0; SIGTERM stops it cleanly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { echoServer, talk } from './testkit.js';

const cliModule = new URL('../cli/proxy-command.js', import.meta.url).href;

function run(args: string[]) {
  const script = `import { Command } from 'commander';
import { registerProxyCommand } from ${JSON.stringify(cliModule)};
const p = new Command('rstlab').exitOverride();
registerProxyCommand(p);
p.parseAsync(['node', 'rstlab', ...${JSON.stringify(args)}]).catch((e) => { console.error('rstlab: ' + e.message); process.exit(2); });`;
  return spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('.', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] });
}

test('rstlab proxy --config FILE --port 0 serves the API and the configured proxies until SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rstlab-proxy-cli-'));
  const echo = await echoServer();
  t.after(async () => { rmSync(dir, { recursive: true, force: true }); await echo.close(); });
  const config = join(dir, 'toxiproxy.json');
  writeFileSync(config, JSON.stringify([{ name: 'echo', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}`, enabled: true }]));
  const child = run(['proxy', '--config', config, '--port', '0']);
  t.after(() => { child.kill('SIGKILL'); });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = (await lines.next()).value as string;
  const url = /control API on (http:\/\/127\.0\.0\.1:\d+)/.exec(first)?.[1];
  assert.ok(url, first);
  const proxies = (await (await fetch(`${url}/proxies`)).json()) as Record<string, { listen: string }>;
  const port = Number(proxies.echo.listen.split(':')[1]);
  assert.equal((await talk(port, ['via cli'], { endAfterSend: true })).data.toString(), 'via cli');
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('a config that is not JSON is a clear one-line error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rstlab-proxy-cli-'));
  const config = join(dir, 'bad.json');
  writeFileSync(config, '[{"name": ');
  const child = run(['proxy', '--config', config, '--port', '0']);
  let err = '';
  child.stderr!.on('data', (b) => { err += b; });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 2);
  assert.match(err, /^rstlab: config .*bad\.json is not JSON/);
});

test('rstlab proxy --toxiproxy runs the compatibility mode: it says so, and a proxy without a listen address binds every interface', async (t) => {
  const child = run(['proxy', '--toxiproxy', '--port', '0']);
  t.after(() => { child.kill('SIGKILL'); });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = (await lines.next()).value as string;
  assert.match(first, /compatibility mode/);
  const url = /control API on (http:\/\/127\.0\.0\.1:\d+)/.exec(first)?.[1];
  assert.ok(url, first);
  const res = await fetch(`${url}/proxies`, { method: 'POST', body: JSON.stringify({ name: 'any', upstream: '127.0.0.1:1' }) });
  assert.equal(res.status, 201);
  assert.match(((await res.json()) as { listen: string }).listen, /^\[::\]:\d+$/);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
