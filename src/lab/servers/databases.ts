// The real database servers of the lab: PostgreSQL 15, Redis 7 and MariaDB, each run by
// tools/db-server.py inside the lab's server namespace as its own unprivileged user.
//
// Contract:
// - `databaseUnavailable(kind)`: why this machine cannot run that server (a missing Debian package,
//   not root, no cgroup v2), or null.
// - `prepareDatabase(kind, opts)` gives one run's server: a directory of its own under this lab
//   process's temp folder, holding a copy of the data directory's template (initdb and
//   mariadb-install-db run once per lab process, the first time a kind is needed), owned by the
//   daemon's user; a cgroup v2 of its own; the argv of the wrapper that starts the daemon in it
//   (`adopt(pid)` moves the started wrapper into the cgroup: inside `ip netns exec` /sys is the
//   namespace's own, without the cgroup hierarchy).
//   `kill()` SIGKILLs every process of the server at once (cgroup.kill: the wrapper, the
//   postmaster and each backend) and waits until the cgroup is empty; `hops(software)` reads the
//   daemon's own log lines for the run (after its readiness line); `dispose()` kills what is left,
//   removes the cgroup and the run's directory.
// - `cleanupDatabaseLeftovers()` (for `rstlab lab --cleanup`) removes those of labs that died.
// - `disposeDatabases()` removes everything this module made (templates too); it runs at the end
//   of runLab and from its signal cleanup, and synchronously on process exit as a last resort.

import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, rmdirSync, writeFileSync, chmodSync, chownSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabError } from '../../errors.js';
import { repoFile } from '../../paths.js';
import type { HopReport, Software } from '../../report/results.js';
import { hasCommand } from '../tools.js';

export const DATABASE_KINDS = ['postgres', 'redis', 'mariadb'] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

export function isDatabaseKind(kind: string): kind is DatabaseKind {
  return (DATABASE_KINDS as readonly string[]).includes(kind);
}

export const PG_BIN = '/usr/lib/postgresql/15/bin';

/** Each daemon's user, binary, Debian package and log file (in the run's directory). */
const DAEMON: Record<DatabaseKind, { user: string; bin: string; pkg: string; log: string }> = {
  postgres: { user: 'postgres', bin: `${PG_BIN}/postgres`, pkg: 'postgresql (15)', log: 'postgresql.log' },
  redis: { user: 'redis', bin: 'redis-server', pkg: 'redis-server', log: 'redis.log' },
  mariadb: { user: 'mysql', bin: 'mariadbd', pkg: 'mariadb-server', log: 'mariadb.err' },
};

/** The daemon's line that says it accepts connections: the hop's lines for the run follow it. */
const READY: Record<DatabaseKind, RegExp> = {
  postgres: /database system is ready to accept connections/,
  redis: /Ready to accept connections/,
  mariadb: /ready for connections/,
};

export interface DatabaseServer {
  argv: string[];
  /** Moves the started wrapper (by pid) into the run's cgroup; it waits for that before it forks. */
  adopt(pid: number): void;
  kill(): Promise<void>;
  hops(software: Software | undefined): HopReport[];
  dispose(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Template makers still running (initdb, mariadb-install-db): each leads its process group. */
const makers = new Set<number>();

function exec(argv: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid;
    if (pid) makers.add(pid);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => killGroup(pid), timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); if (pid) makers.delete(pid); resolve({ code: -1, stdout, stderr: err.message }); });
    child.on('close', (code) => { clearTimeout(timer); if (pid) makers.delete(pid); resolve({ code: code ?? -1, stdout, stderr }); });
  });
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
}

function userIds(name: string): { uid: number; gid: number } | null {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return null;
  }
}

/** The cgroup v2 hierarchy: /sys/fs/cgroup itself (unified) or its `unified` mount (hybrid). */
export function cgroup2Root(): string | null {
  try {
    for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
      const [, dir, type] = line.split(' ');
      if (type === 'cgroup2' && dir && existsSync(path.join(dir, 'cgroup.procs'))) return dir;
    }
  } catch { /* no /proc */ }
  return null;
}

export async function databaseUnavailable(kind: DatabaseKind): Promise<string | null> {
  const d = DAEMON[kind];
  const present = d.bin.startsWith('/') ? existsSync(d.bin) : await hasCommand(d.bin);
  if (!present) return `${d.bin} is missing: install ${d.pkg}`;
  if (process.getuid?.() !== 0) return `${kind} runs as its own user (${d.user}) in a cgroup of the lab's: needs root`;
  if (!userIds(d.user)) return `the user ${d.user} is missing: install ${d.pkg}`;
  const cg = cgroup2Root();
  if (!cg) return 'needs cgroup v2 (to kill every process of the server at once: cgroup.kill)';
  try { accessSync(cg, constants.W_OK); } catch { return `the cgroup v2 hierarchy (${cg}) is read-only here: the server's processes could not be killed at once`; }
  return null;
}

let root: string | null = null;
const templates = new Map<DatabaseKind, Promise<string>>();
const cgroups = new Set<string>();
let exitHook = false;

/** This lab process's temp folder (0755: the daemons' users must reach their directories). */
function labRoot(): string {
  if (root) return root;
  root = mkdtempSync(path.join(os.tmpdir(), `rstlab-db-${process.pid}-`));
  chmodSync(root, 0o755);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => disposeSync());
  }
  return root;
}

function chownTree(dir: string, ids: { uid: number; gid: number }): void {
  execFileSync('chown', ['-R', `${ids.uid}:${ids.gid}`, dir]);
}

async function makeTemplate(kind: DatabaseKind): Promise<string> {
  const d = DAEMON[kind];
  const ids = userIds(d.user)!;
  const dir = path.join(labRoot(), `template-${kind}`);
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, ids.uid, ids.gid);
  const data = path.join(dir, 'data');
  // In a cgroup of its own, entered before anything is forked (so that a lab killed meanwhile
  // leaves nothing --cleanup cannot find), as the daemon's user, dying with the lab.
  const cgroup = path.join(cgroup2Root()!, `rstlab-db-${process.pid}-template-${kind}`);
  mkdirSync(cgroup);
  cgroups.add(cgroup);
  const as = ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup,
    'setpriv', `--reuid=${d.user}`, `--regid=${d.user}`, '--clear-groups', '--pdeathsig', 'KILL'];
  if (kind === 'postgres') {
    const r = await exec([...as, `${PG_BIN}/initdb`, '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    if (r.code !== 0) throw new LabError(`initdb failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  } else if (kind === 'mariadb') {
    const r = await exec([...as, 'mariadb-install-db', '--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal',
      '--skip-test-db', '--skip-name-resolve', '--innodb-log-file-size=4M', '--innodb-data-file-path=ibdata1:4M:autoextend']);
    if (r.code !== 0) throw new LabError(`mariadb-install-db failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  } else {
    mkdirSync(data);
    chownSync(data, ids.uid, ids.gid);
  }
  for (let i = 0; i < 200 && cgroupPopulated(cgroup); i++) await sleep(10);
  removeCgroup(cgroup);
  return data;
}

let serial = 0;

export async function prepareDatabase(kind: DatabaseKind, opts: { host: string; clientHost: string; idleTimeoutMs?: number }): Promise<DatabaseServer> {
  const d = DAEMON[kind];
  const ids = userIds(d.user);
  const cg = cgroup2Root();
  if (!ids || !cg) throw new LabError(`${kind}: ${await databaseUnavailable(kind) ?? 'unavailable'}`);
  let tpl = templates.get(kind);
  if (!tpl) {
    tpl = makeTemplate(kind);
    templates.set(kind, tpl);
    tpl.catch(() => templates.delete(kind));
  }
  const template = await tpl;
  // This run's number, taken once: runs on other lanes take theirs while this one awaits.
  const n = ++serial;
  const dir = path.join(labRoot(), `run-${kind}-${n}`);
  mkdirSync(dir, { mode: 0o700 });
  const cp = await exec(['cp', '-a', '--sparse=always', template, path.join(dir, 'data')]);
  if (cp.code !== 0) throw new LabError(`copying the ${kind} template failed: ${cp.stderr.trim()}`);
  if (kind === 'postgres') {
    // Trust for the lab's client address only (and the local socket, for the lab's own checks).
    writeFileSync(path.join(dir, 'data', 'pg_hba.conf'), `local all all trust\nhost all all ${opts.clientHost}/${opts.clientHost.includes(':') ? 128 : 32} trust\n`);
  }
  chownTree(dir, ids);
  const cgroup = path.join(cg, `rstlab-db-${process.pid}-${n}`);
  mkdirSync(cgroup);
  cgroups.add(cgroup);
  const config = { kind, host: opts.host, dir, cgroup: `/${path.relative(cg, cgroup)}`, user: d.user, clientHost: opts.clientHost, ...(opts.idleTimeoutMs ? { idleTimeoutMs: opts.idleTimeoutMs } : {}) };
  const logFile = path.join(dir, d.log);

  const kill = async () => {
    if (!existsSync(cgroup)) return;
    writeFileSync(path.join(cgroup, 'cgroup.kill'), '1');
    // Bounded: SIGKILL cannot be caught; the processes are gone once the kernel has torn them down.
    for (let i = 0; i < 200 && cgroupPopulated(cgroup); i++) await sleep(10);
    if (cgroupPopulated(cgroup)) throw new LabError(`${kind}: processes left in ${cgroup} after cgroup.kill: ${readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8').trim()}`);
  };
  return {
    argv: ['python3', repoFile('src/lab/tools/db-server.py'), JSON.stringify(config)],
    adopt(pid) { writeFileSync(path.join(cgroup, 'cgroup.procs'), String(pid)); },
    kill,
    hops(software) {
      let text = '';
      try { text = readFileSync(logFile, 'utf8'); } catch { return []; }
      const all = text.split('\n').filter((l) => l.trim() !== '');
      const ready = all.findIndex((l) => READY[kind].test(l));
      // MariaDB's "Version: '…' socket: … port: …" line follows its readiness line.
      const from = ready < 0 ? 0 : ready + 1 + (kind === 'mariadb' && /^Version: /.test(all[ready + 1] ?? '') ? 1 : 0);
      const lines = all.slice(from).slice(0, 200);
      return [{ role: 'server', software: software ?? { family: kind === 'postgres' ? 'postgresql' : kind, version: 'unknown' }, lines }];
    },
    async dispose() {
      await kill().catch(() => undefined);
      removeCgroup(cgroup);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function cgroupPopulated(cgroup: string): boolean {
  try {
    return /populated 1/.test(readFileSync(path.join(cgroup, 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}

function removeCgroup(cgroup: string): void {
  try { rmdirSync(cgroup); } catch { /* still populated or gone */ }
  if (!existsSync(cgroup)) cgroups.delete(cgroup);
}

/** Removes every cgroup, run directory and template this lab process made. */
export async function disposeDatabases(): Promise<void> {
  for (const pid of makers) killGroup(pid);
  for (const cg of [...cgroups]) {
    try { writeFileSync(path.join(cg, 'cgroup.kill'), '1'); } catch { /* gone */ }
    for (let i = 0; i < 200 && cgroupPopulated(cg); i++) await sleep(10);
    removeCgroup(cg);
  }
  await Promise.all([...templates.values()].map((t) => t.catch(() => undefined)));
  templates.clear();
  if (root) rmSync(root, { recursive: true, force: true });
  root = null;
}

function disposeSync(): void {
  for (const pid of makers) killGroup(pid);
  for (const cg of cgroups) {
    try { writeFileSync(path.join(cg, 'cgroup.kill'), '1'); } catch { /* gone */ }
  }
  const end = Date.now() + 2000;
  for (const cg of [...cgroups]) {
    while (cgroupPopulated(cg) && Date.now() < end) { /* bounded busy wait: exit handlers cannot await */ }
    removeCgroup(cg);
  }
  if (root) rmSync(root, { recursive: true, force: true });
  root = null;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** For `rstlab lab --cleanup`: the cgroups (their processes killed) and temp folders
 *  (`rstlab-db-<pid>-…`) of lab processes that are gone (any but this process's, with `force`). */
export async function cleanupDatabaseLeftovers(force = false): Promise<string[]> {
  const removed: string[] = [];
  const stale = (name: string) => {
    const pid = Number(/^rstlab-db-(\d+)-/.exec(name)?.[1] ?? NaN);
    return Number.isInteger(pid) && pid !== process.pid && (force || !alive(pid));
  };
  const cg = cgroup2Root();
  for (const name of cg ? readdirSync(cg).filter(stale) : []) {
    const dir = path.join(cg!, name);
    try { writeFileSync(path.join(dir, 'cgroup.kill'), '1'); } catch { /* empty or gone */ }
    for (let i = 0; i < 200 && cgroupPopulated(dir); i++) await sleep(10);
    try { rmdirSync(dir); removed.push(`cgroup ${dir}`); } catch { /* still populated */ }
  }
  for (const name of readdirSync(os.tmpdir()).filter(stale)) {
    rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
    removed.push(`database folder ${path.join(os.tmpdir(), name)}`);
  }
  return removed;
}
