// The database scenarios for real (root: the lab's namespaces, the daemons' own users, a cgroup per
// server): PostgreSQL, Redis and MariaDB killed or timing out under psql, redis-cli and mariadb,
// through runLab. Every run must behave as its scenario constructs; the clients' own error texts,
// the servers' own log lines and the wire are asserted; afterwards no daemon process, cgroup or
// temp directory of the lab is left.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunRecord } from '../report/results.js';
import { runLab } from './run.js';
import { isAlive } from './testkit.js';
import { repoFile } from '../paths.js';
import { SCENARIOS, scenarioById } from './scenarios.js';
import { DB_CLIENTS } from './scenarios-databases.js';
import { cgroup2Root, databaseUnavailable, DATABASE_KINDS } from './servers/databases.js';

const root = process.getuid?.() === 0;

/** Live processes of the daemons' users (the lab's databases run as nobody else); zombies count
 *  as gone (testkit.ts: pid 1 here reaps orphans when it gets to them). */
function daemonProcesses(): string[] {
  const r = spawnSync('pgrep', ['-u', 'postgres,redis,mysql'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number).filter(isAlive)
    .map((pid) => { try { return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ")}`; } catch { return `${pid}`; } });
}

/** The database folders and cgroups of the lab process `pid` (any lab's, without it). */
function labLeftovers(pid?: number): string[] {
  const cg = cgroup2Root();
  const prefix = pid === undefined ? 'rstlab-db-' : `rstlab-db-${pid}-`;
  return [
    ...readdirSync(os.tmpdir()).filter((n) => n.startsWith(prefix)).map((n) => path.join(os.tmpdir(), n)),
    ...(cg ? readdirSync(cg).filter((n) => n.startsWith(prefix)).map((n) => path.join(cg, n)) : []),
  ];
}

const EXPECTED: Record<string, Record<string, { code: string; message: RegExp; notes?: string[] }>> = {
  'db-refused': {
    psql: { code: '2', message: /^psql: error: connection to server at "[\d.]+", port \d+ failed: Connection refused\n\tIs the server running on that host and accepting TCP\/IP connections\?$/ },
    'redis-cli': { code: '0', message: /^Could not connect to Redis at [\d.]+:\d+: Connection refused$/m },
    mariadb: { code: '1', message: /^ERROR 2002 \(HY000\): Can't connect to server on '[\d.]+' \(115\)$/ },
  },
  'db-server-killed-idle': {
    psql: { code: '2', message: /^server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while processing the request\.\nconnection to server was lost$/ },
    'redis-cli': { code: '0', message: /^Error: Server closed the connection$/ },
    mariadb: { code: '1', message: /^ERROR 2013 \(HY000\) at line 2: Lost connection to server during query$/ },
  },
  'db-server-killed-mid-query': {
    psql: { code: '2', message: /^server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while processing the request\.\nconnection to server was lost$/ },
    'redis-cli': { code: '0', message: /^Error: Server closed the connection$/ },
    mariadb: { code: '1', message: /^ERROR 2013 \(HY000\) at line 2: Lost connection to server during query$/, notes: ['statement: select sleep(5)'] },
  },
  'db-idle-timeout': {
    psql: { code: '2', message: /^FATAL: {2}terminating connection due to idle-session timeout\nserver closed the connection unexpectedly\n/ },
    'redis-cli': { code: '0', message: /^Error: Server closed the connection$/ },
    mariadb: { code: '1', message: /^ERROR 2006 \(HY000\) at line 2: Server has gone away$/, notes: ['statement: select 1'] },
  },
};

/** The server's own log line for the idle timeout. */
const IDLE_LOG: Record<string, RegExp> = {
  psql: /postgres@postgres FATAL: {2}terminating connection due to idle-session timeout/,
  'redis-cli': / - Closing idle client$/,
  mariadb: /\[Warning\] Aborted connection \d+ to db: 'unconnected' user: 'root' host: '' \(Got timeout reading communication packets\)/,
};

const FAMILY: Record<string, string> = { psql: 'postgresql', 'redis-cli': 'redis', mariadb: 'mariadb' };

test('database servers killed and timing out under their real CLIs: as constructed, the CLIs\' own errors, nothing left', {
  skip: root ? false : 'needs root (network namespaces, the daemons\' users, cgroups)', timeout: 300_000,
}, async (t) => {
  for (const kind of DATABASE_KINDS) {
    const why = await databaseUnavailable(kind);
    if (why) { t.skip(why); return; }
  }
  const before = daemonProcesses();
  if (before.length) t.diagnostic(`processes of the daemons' users before the test (not the lab's): ${before.join('; ')}`);
  const out = mkdtempSync(path.join(os.tmpdir(), 'rstlab-dbtest-'));
  try {
    const scenarios = Object.keys(EXPECTED).map((id) => scenarioById(id)!);
    const lab = await runLab({ outDir: out, scenarios, clients: [...DB_CLIENTS], mode: 'auto' });
    assert.equal(lab.mode, 'netns');
    assert.equal(lab.runs.length, 12);
    const byId = new Map<string, RunRecord>(lab.runs.map((r) => [r.id, r]));
    for (const [scenario, clients] of Object.entries(EXPECTED)) {
      for (const [client, want] of Object.entries(clients)) {
        const r = byId.get(`${scenario}--${client}`)!;
        assert.equal(r.status, 'ok', `${r.id}: ${r.reason ?? ''} ${r.problems.join('; ')}`);
        assert.equal(r.outcome?.kind, 'error', r.id);
        assert.equal(r.outcome?.error, client, r.id);
        assert.equal(r.outcome?.code, want.code, `${r.id}: ${r.outcome?.message}`);
        assert.match(r.outcome?.message ?? '', want.message, r.id);
        if (want.notes) assert.deepEqual(r.outcome?.notes, want.notes, r.id);
        assert.equal(r.software?.family, client, r.id);
        assert.match(r.software?.version ?? '', /^\d+\.\d+/, r.id);
        if (scenario === 'db-refused') {
          assert.ok(r.rsts.length > 0 && r.rsts.every((x) => x.cause === 'refused' && x.kernel?.reason === 'NO_SOCKET'), r.id);
          continue;
        }
        // The server ran and said what it is; its log lines for the run are the hop's report.
        const hop = r.hops?.[0];
        assert.equal(hop?.role, 'server', r.id);
        assert.equal(hop?.software.family, FAMILY[client], r.id);
        assert.match(hop?.software.version ?? '', /^\d+\.\d+/, r.id);
        if (client !== 'mariadb') assert.ok(r.serverEvents.some((e) => e.event === 'accepted'), `${r.id}: accepted from the log`);
        if (scenario === 'db-server-killed-mid-query') {
          // The query had been read: the killed server's socket closes with FIN, the client reads
          // the end while it waits for the result and closes too; nothing is reset.
          assert.ok(r.fins.some((f) => f.role === 'server') && r.fins.some((f) => f.role === 'client'), `${r.id}: ${JSON.stringify(r.fins)}`);
          assert.deepEqual(r.rsts.map((x) => x.cause), [], r.id);
        } else if (scenario === 'db-server-killed-idle') {
          assert.ok(r.timeline.some((e) => e.kind === 'action' && e.text === 'SIGKILL server'), r.id);
          // Killed with nothing unread: FIN; the next query is answered with a RST by the server's kernel.
          assert.ok(r.fins.some((f) => f.role === 'server'), `${r.id}: FIN from the server`);
          assert.ok(r.rsts.some((x) => x.role === 'server' && x.cause === 'reset-after-close'), `${r.id}: ${r.rsts.map((x) => x.cause).join(', ')}`);
        } else {
          assert.ok(hop!.lines.some((l) => IDLE_LOG[client]!.test(l)), `${r.id}: ${hop!.lines.join(' | ')}`);
          if (client === 'mariadb') {
            // MariaDB resets the timed-out session itself, with no FIN: the query never leaves the client.
            assert.ok(!r.fins.some((f) => f.role === 'server'), r.id);
            assert.ok(r.rsts.some((x) => x.role === 'server' && x.cause === 'abort' && x.kernel?.reason === 'TCP_STATE'), `${r.id}: ${JSON.stringify(r.rsts)}`);
          } else {
            assert.ok(r.fins.some((f) => f.role === 'server'), `${r.id}: FIN from the server`);
            assert.ok(r.rsts.some((x) => x.role === 'server' && x.cause === 'reset-after-close'), `${r.id}: ${r.rsts.map((x) => x.cause).join(', ')}`);
          }
        }
      }
    }
    // Every process of every server died for real (a postmaster and its backends included), and
    // the data directories, templates and cgroups are gone.
    assert.deepEqual(daemonProcesses().filter((p) => !before.includes(p)), []);
    assert.deepEqual(labLeftovers(process.pid), []);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('a database client never runs a scenario that is not a database one', () => {
  for (const s of SCENARIOS.filter((x) => !x.id.startsWith('db-'))) {
    for (const c of DB_CLIENTS) assert.ok(!s.clients.includes(c) && !(s.allClients ?? []).includes(c), `${s.id} lists ${c}`);
  }
  for (const id of Object.keys(EXPECTED)) assert.deepEqual([...scenarioById(id)!.clients], [...DB_CLIENTS]);
});

test('a missing database server or CLI is a skipped run naming its Debian package', { skip: root ? false : 'needs root (a private mount namespace)', timeout: 120_000 }, () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'rstlab-dbmissing-'));
  try {
    // A private mount namespace where redis-server and the mariadb CLI are not executable: the
    // machine keeps its own.
    const hide = ['redis-server', 'mariadb'].map((c) => `mount --bind /dev/null "$(readlink -f "$(command -v ${c})")"`).join(' && ');
    const r = spawnSync('unshare', ['-m', 'sh', '-c', `${hide} && exec "$@"`, 'sh', process.execPath, repoFile('bin/rstlab.js'), 'lab', '--no-color',
      '--scenario', 'db-server-killed-idle', '--client', 'redis-cli,mariadb', '--out', out], { encoding: 'utf8', timeout: 100_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { runs: RunRecord[] };
    const reason = (id: string) => results.runs.find((x) => x.id === id)!;
    assert.equal(reason('db-server-killed-idle--redis-cli').status, 'skipped');
    assert.match(reason('db-server-killed-idle--redis-cli').reason ?? '', /redis-server is missing: install redis-server/);
    assert.equal(reason('db-server-killed-idle--mariadb').status, 'skipped');
    assert.match(reason('db-server-killed-idle--mariadb').reason ?? '', /mariadb is missing: install mariadb-client/);
    assert.deepEqual(labLeftovers(), []);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
