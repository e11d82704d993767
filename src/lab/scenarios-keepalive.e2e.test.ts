// The keep-alive race scenarios through the real lab (CLI, namespaces, capture, kernel trace; CI
// is root): every run behaves as constructed, the capture shows the reused request answered by
// the server's RST with no FIN from the server before it (the FIN is lost on the router), and
// each library's answer to it: Node's http and undici surface ECONNRESET; OkHttp and Go retry the
// GET on a new connection (ok, new-connections=1) but not the POST.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LabResults, RunRecord } from '../report/results.js';
import { repoFile } from '../paths.js';

const notRoot = process.getuid?.() === 0 ? false : 'needs root (network namespaces, tcpdump)';

/** The ladder up to the first RST: the two requests and the response of the first connection, then the server's RST. */
function raceOnTheWire(run: RunRecord): void {
  const i = run.ladder.findIndex((s) => s.flags.includes('R'));
  assert.ok(i > 0, `${run.id}: no RST in the capture`);
  const before = run.ladder.slice(0, i);
  const rst = run.ladder[i]!;
  assert.equal(rst.from, 'server', `${run.id}: the RST comes from the server`);
  const requests = before.filter((s) => s.from === 'client' && s.len > 0);
  assert.equal(requests.length, 2, `${run.id}: request 1 and the reused request 2 before the RST`);
  assert.equal(before.at(-1), requests[1], `${run.id}: the RST answers the reused request`);
  assert.ok(!before.some((s) => s.from === 'server' && s.flags.includes('F')), `${run.id}: no FIN from the server reached the client first`);
  assert.ok(!before.some((s) => s.flags.includes('S') && s !== before[0] && s.from === 'client'), `${run.id}: one connection up to the RST`);
}

test('keepalive-race and keepalive-race-post: the reused request meets the RST; who retries', { skip: notRoot, timeout: 300_000 }, (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'rstlab-keepalive-'));
  try {
    const r = spawnSync(process.execPath, [repoFile('bin/rstlab.js'), 'lab', '--no-color', '--scenario', 'keepalive-race,keepalive-race-post',
      '--client', 'node-http,node-fetch,okhttp,go', '--out', out], { encoding: 'utf8', timeout: 280_000 });
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as LabResults;
    const run = (id: string): RunRecord => {
      const x = results.runs.find((y) => y.id === id);
      assert.ok(x, `no run ${id}`);
      return x;
    };
    for (const x of results.runs) {
      t.diagnostic(`${x.id}: ${x.status} ${JSON.stringify(x.outcome)}`);
      assert.equal(x.status, 'ok', `${x.id}: ${x.reason ?? ''} ${x.problems.join('; ')}\n${r.stdout.slice(-2000)}${r.stderr}`);
      raceOnTheWire(x);
      assert.ok(x.rsts.every((rst) => rst.kernel?.reason === 'TCP_ABORT_ON_DATA'), `${x.id}: the server's kernel resets data after close: ${JSON.stringify(x.rsts)}`);
    }
    assert.equal(results.runs.length, 8);
    // Who retries the GET transparently (a second connection in the capture), and who does not.
    for (const client of ['okhttp', 'go']) {
      const x = run(`keepalive-race--${client}`);
      assert.equal(x.outcome?.kind, 'ok', JSON.stringify(x.outcome));
      assert.ok(x.outcome?.notes?.includes('new-connections=1'), JSON.stringify(x.outcome));
      assert.equal(x.connections.length, 2);
    }
    assert.equal(run('keepalive-race--node-http').outcome?.code, 'ECONNRESET');
    assert.equal(run('keepalive-race--node-fetch').outcome?.causes[0]?.code, 'ECONNRESET');
    // POST (and OkHttp's retryOnConnectionFailure off): every library surfaces the reset.
    assert.equal(run('keepalive-race-post--go').outcome?.code, 'ECONNRESET');
    assert.match(run('keepalive-race-post--go').outcome?.message ?? '', /^Post "http:\/\/[\d.]+:\d+\/": read tcp [\d.:]+->[\d.:]+: read: connection reset by peer$/);
    assert.equal(run('keepalive-race-post--okhttp').outcome?.error, 'java.net.SocketException');
    assert.equal(run('keepalive-race-post--okhttp').outcome?.message, 'Connection reset');
    assert.equal(run('keepalive-race-post--node-http').outcome?.code, 'ECONNRESET');
    for (const x of results.runs.filter((y) => y.scenario === 'keepalive-race-post')) assert.equal(x.connections.length, 1, x.id);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
