// The lab, run for real through its command line (CI is root): the full default matrix with every
// RST checked against the scenario that constructed it, a Ctrl-C in the middle of a run, a run as
// an unprivileged user (loopback fallback), and bad input (unknown names, missing tools — hidden in
// a private mount namespace, so the machine itself is untouched).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LabResults } from '../report/results.js';
import { LINUX_RST_REASONS } from '../explain/index.js';
import { CLAIM_IDS } from './claims.js';
import { listLabInstances } from './kernel-trace.js';
import { netnsList } from './testkit.js';
import { repoFile } from '../paths.js';

const root = process.getuid?.() === 0;
const bin = repoFile('bin/rstlab.js');
const notRoot = root ? false : 'needs root (network namespaces, tcpdump)';

function labNamespaces(): string[] {
  return netnsList().filter((n) => n.startsWith('rstlab-'));
}

function processesMatching(pattern: string): string[] {
  const r = spawnSync('pgrep', ['-af', pattern], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l && !l.includes('pgrep'));
}

function lab(args: string[], opts: { timeoutMs?: number; prefix?: string[] } = {}) {
  const argv = [...(opts.prefix ?? []), process.execPath, bin, 'lab', '--no-color', ...args];
  return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: opts.timeoutMs ?? 420_000 });
}

test('the full lab: every run behaves as its scenario constructs, every claim gets a verdict', { skip: notRoot, timeout: 900_000 }, (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'rstlab-lab-'));
  try {
    const r = lab(['--out', out]);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as LabResults;
    const bad = results.runs.filter((x) => x.status === 'mismatch' || x.status === 'failed');
    // A real kernel has races (which packet the killed process's kernel sees first): a run that
    // mismatches is run once more on its own and must then behave; the first result is reported.
    const still = bad.filter((x) => {
      t.diagnostic(`re-running ${x.id}: ${x.status} ${x.reason ?? ''} ${x.problems.join('; ')}`);
      const again = mkdtempSync(path.join(os.tmpdir(), 'rstlab-again-'));
      try {
        lab(['--scenario', x.scenario, '--client', x.client, '--out', again]);
        const rerun = (JSON.parse(readFileSync(path.join(again, 'results.json'), 'utf8')) as LabResults).runs[0]!;
        return rerun.status !== 'ok';
      } finally {
        rmSync(again, { recursive: true, force: true });
      }
    });
    assert.deepEqual(still.map((x) => `${x.id}: ${x.status} ${x.reason ?? ''} ${x.problems.join('; ')}`), [], r.stdout.slice(-3000) + r.stderr);
    if (!bad.length) assert.equal(r.status, 0, r.stderr);
    assert.equal(results.host.mode, 'netns');
    assert.equal(results.schema, 'rstlab-lab/2');
    // Every claim of SEED-CLAIMS.md has a verdict, backed by frames in a saved capture where it ran.
    assert.deepEqual(results.claims.map((c) => c.id).sort(), [...CLAIM_IDS].sort());
    for (const c of results.claims) {
      assert.ok(['reproduced', 'differs', 'unavailable'].includes(c.verdict), c.id);
      if (c.verdict !== 'unavailable') {
        assert.ok(c.evidence.length > 0, `${c.id} has evidence`);
        for (const e of c.evidence) if (e.capture) assert.ok(existsSync(path.join(out, e.capture)), e.capture);
      }
    }
    // The seed's own client ran: OkHttp's errors are compared with the seed's texts.
    const okhttp = results.runs.filter((x) => x.client === 'okhttp' && x.status === 'ok');
    assert.ok(okhttp.length >= 10, `OkHttp ran in ${okhttp.length} scenarios`);
    for (const id of ['C1.2', 'C2a.2', 'C2a.5', 'C2b.4']) {
      const c = results.claims.find((x) => x.id === id)!;
      assert.notEqual(c.verdict, 'unavailable', `${id}: ${c.summary}`);
      assert.match(c.summary, /okhttp/, id);
    }
    // Each run that ran has a capture and a client outcome; RSTs carry frames inside it.
    for (const x of results.runs.filter((y) => y.status === 'ok')) {
      assert.ok(x.capture && existsSync(path.join(out, x.capture)), `${x.id} capture`);
      assert.ok(x.outcome, `${x.id} outcome`);
      for (const rst of x.rsts) assert.ok(rst.frame >= 1);
    }
    // Skips are explained.
    for (const x of results.runs.filter((y) => y.status === 'skipped')) assert.ok(x.reason && x.reason.length > 10, x.id);
    assert.match(r.stdout, /Seed claims/);
    // The kernel's own reasons were read, none lost; every reason the scenarios construct was sent
    // and matched to a captured RST (a run whose reason contradicts the explainer is a mismatch,
    // checked above); the RSTs no kernel sent are the router's REJECT and the forged ones.
    assert.deepEqual(results.host.kernelTrace, { available: true, lost: 0 });
    const rsts = results.runs.filter((x) => x.status === 'ok').flatMap((x) => x.rsts);
    const reasons = new Set(rsts.flatMap((x) => (x.kernel ? [x.kernel.reason] : [])));
    // Every reason of enum sk_rst_reason is produced, or the lab says why no scenario constructs it.
    const notConstructed = results.host.reasonsNotConstructed ?? {};
    for (const want of LINUX_RST_REASONS.filter((x) => !(x in notConstructed))) {
      assert.ok(reasons.has(want), `no captured RST with the kernel's reason ${want}: ${[...reasons].join(', ')}`);
    }
    for (const [reason, why] of Object.entries(notConstructed)) {
      assert.ok(!reasons.has(reason), `${reason} was produced, yet listed as not constructed`);
      assert.match(r.stdout, new RegExp(`not produced: ${reason} — ${why.slice(0, 20).replace(/[()]/g, '.')}`));
    }
    // Each reason a scenario constructs is produced over IPv6 too, by the scenario's IPv6 twin.
    const reasonsOf = (runs: LabResults['runs']) => runs.filter((x) => x.status === 'ok').flatMap((x) => x.rsts.flatMap((y) => (y.kernel ? [y.kernel.reason] : [])));
    const reasons6 = new Set(reasonsOf(results.runs.filter((x) => x.scenario.endsWith('-ipv6'))));
    // The kernel's path can differ from run to run (which of close and the peer's data comes first,
    // on a loaded machine): the twins of the IPv4 scenarios that gave a reason the IPv6 runs did not
    // run once more on their own, as a mismatched run does above.
    for (const reason of [...reasons].filter((x) => !reasons6.has(x))) {
      const twins = [...new Set(results.runs.filter((x) => x.status === 'ok' && x.rsts.some((y) => y.kernel?.reason === reason)).map((x) => `${x.scenario}-ipv6`))]
        .filter((id) => results.scenarios.some((sc) => sc.id === id));
      for (const id of twins) {
        t.diagnostic(`${reason} not seen over IPv6: running ${id} once more`);
        const again = mkdtempSync(path.join(os.tmpdir(), 'rstlab-again-'));
        try {
          lab(['--scenario', id, '--out', again]);
          for (const x of reasonsOf((JSON.parse(readFileSync(path.join(again, 'results.json'), 'utf8')) as LabResults).runs)) reasons6.add(x);
        } finally {
          rmSync(again, { recursive: true, force: true });
        }
      }
    }
    const v6 = results.runs.filter((x) => x.scenario.endsWith('-ipv6')).map((x) => `${x.id} ${x.status}: ${x.rsts.map((y) => `${y.frame} ${y.cause}/${y.kernel?.reason ?? 'no kernel event'}`).join(', ')}`);
    assert.deepEqual([...reasons].filter((x) => !reasons6.has(x)), [], `reasons seen over IPv4 only; the IPv6 runs:\n${v6.join('\n')}`);
    for (const x of rsts.filter((y) => y.kernel === null)) assert.ok(x.cause === 'middlebox' || x.cause === 'out-of-window', `frame ${x.frame} (${x.cause}) has no kernel event`);
    assert.match(r.stdout, /RSTs sent by the kernel: the explainer allows its reason for \d+ \(100\.0%\)/);
    assert.equal(labNamespaces().length, 0, 'no namespace left');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('Ctrl-C in the middle of a run leaves no namespace, rule or process', { skip: notRoot, timeout: 60_000 }, async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'rstlab-sigint-'));
  try {
    const child = spawn(process.execPath, [bin, 'lab', '--no-color', '--scenario', 'retransmission-timeout,keepalive-timeout', '--client', 'node-net', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    // Wait until the run is under way: namespaces exist and a server process runs in them.
    const deadline = Date.now() + 20_000;
    // Every child of this run names the run's folder on its command line (certificates, CA, capture file).
    while (Date.now() < deadline && !(labNamespaces().length >= 4 && processesMatching(`servers/server.js.*${out}`).length > 0)) await new Promise((r) => setTimeout(r, 100));
    assert.ok(labNamespaces().length >= 4, 'the lab had created its namespaces');
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 130, stderr);
    assert.deepEqual(labNamespaces(), []);
    // (Its own instance: one a crashed earlier lab left is `--cleanup`'s business, not this run's.)
    assert.deepEqual(listLabInstances().filter((i) => i.pid === child.pid), [], 'no tracefs instance left');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(processesMatching(out), []);
    // Host firewall untouched: the lab's rules lived only in its namespaces.
    assert.doesNotMatch(execFileSync('iptables-save', { encoding: 'utf8' }), /rstlab|REJECT --reject-with tcp-reset/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('an unprivileged user gets the loopback fallback, with reasons for what is skipped', { skip: notRoot, timeout: 60_000 }, (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'rstlab-nobody-'));
  chmodSync(out, 0o777);
  try {
    const probe = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(bin)})`]);
    if (probe.status !== 0) { t.skip('the checkout is not readable by the user nobody here'); return; }
    const r = lab(['--scenario', 'refused,linger-zero,state-lost', '--client', 'node-net,node-http', '--out', out], { prefix: ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'] });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as LabResults;
    assert.equal(results.host.mode, 'loopback');
    assert.equal(results.host.capture, false);
    assert.deepEqual(results.host.kernelTrace, { available: false, why: 'the kernel\'s reset reasons need root (tracefs)' });
    assert.match(r.stdout, /kernel reasons: none \(the kernel's reset reasons need root \(tracefs\)\)/);
    const refused = results.runs.find((x) => x.id === 'refused--node-net')!;
    assert.equal(refused.outcome?.code, 'ECONNREFUSED');
    const abort = results.runs.find((x) => x.id === 'linger-zero--node-http')!;
    assert.equal(abort.outcome?.code, 'ECONNRESET');
    const lost = results.runs.find((x) => x.id === 'state-lost--node-net')!;
    assert.equal(lost.status, 'skipped');
    assert.match(lost.reason ?? '', /namespaces/);
    assert.match(results.claims.find((c) => c.id === 'C1.1')!.summary, /capture/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('unknown scenario or client names: one clear line, exit 2', () => {
  const a = lab(['--scenario', 'no-such-thing']);
  assert.equal(a.status, 2);
  assert.match(a.stderr, /unknown scenario: no-such-thing/);
  assert.match(a.stderr, /known scenarios: refused/);
  assert.doesNotMatch(a.stderr, /\n\s+at /, 'no stack trace');
  const b = lab(['--client', 'telnet']);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /unknown client: telnet/);
});

test('a missing tcpdump is named with its Debian package; missing OkHttp only empties its column', { skip: notRoot, timeout: 120_000 }, () => {
  const tcpdump = execFileSync('sh', ['-c', 'command -v tcpdump'], { encoding: 'utf8' }).trim();
  // A private mount namespace where tcpdump is not executable: the host keeps its tcpdump.
  const a = spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind /dev/null ${tcpdump} && exec "$@"`, 'sh', process.execPath, bin, 'lab', '--scenario', 'refused'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(a.status, 2, a.stderr);
  assert.match(a.stderr, /tcpdump is not installed/);
  assert.match(a.stderr, /apt-get install tcpdump/);

  const out = mkdtempSync(path.join(os.tmpdir(), 'rstlab-nojava-'));
  try {
    const b = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs none /usr/share/java && exec "$@"', 'sh', process.execPath, bin, 'lab', '--no-color', '--scenario', 'refused', '--client', 'node-net,okhttp', '--out', out], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(b.status, 0, b.stdout + b.stderr);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as LabResults;
    const ok = results.runs.find((x) => x.id === 'refused--okhttp')!;
    assert.equal(ok.status, 'skipped');
    assert.match(ok.reason ?? '', /libokhttp-java/);
    assert.equal(results.runs.find((x) => x.id === 'refused--node-net')!.status, 'ok');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
