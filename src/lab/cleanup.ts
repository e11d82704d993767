// Cleaning up after the lab: leftovers of crashed runs, and a clean exit on Ctrl-C.
//
// Contract:
// - `cleanupLeftovers()` (for `rstlab lab --cleanup`) finds network namespaces named `rstlab-*`,
//   SIGKILLs every process inside each (`ip netns pids`), deletes it, and returns one line per
//   namespace removed. A namespace whose owner (the lab pid + start time that topology.ts writes in
//   the alias of its `lo`) is still running is skipped unless `force`, so a cleanup never pulls the
//   network from under a live lab; so is one younger than 10 s with no owner yet (being set up).
//   Loopback-mode runs leave no namespaces; their children die with the lab (PDEATHSIG, proc.ts).
//   It also removes the lab's tracefs instances (`instances/rstlab-p<pid>-<runId>`,
//   kernel-trace.ts) whose lab process is gone (any, with `force`), of the lab the prefix names,
//   and (without a prefix) the profile folders of browser drivers no longer running.
// - `installSignalCleanup(fn)` runs `fn` once on SIGINT, SIGTERM, SIGHUP, an uncaught exception or
//   an unhandled rejection, then exits: 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP), 1 (error).
//   Further signals during the cleanup are ignored; a cleanup that hangs is cut off after
//   `timeoutMs` (default 15 s). Returns a function that uninstalls the handlers.

import { statSync } from 'node:fs';
import { LabError } from '../errors.js';
import { sweepProfiles } from './drivers/browser-runtime.js';
import { listLabInstances, removeInstance } from './kernel-trace.js';
import { TRACEFS, unmountIfUnused } from './tracefs-mount.js';
import { findExecutable } from './proc.js';
import { NETNS_PREFIX, processStartTime, run } from './topology.js';
import { cleanupDatabaseLeftovers } from './servers/databases.js';

export interface CleanupOptions {
  /** Only namespaces starting with this (must start with `rstlab-`); default `rstlab-`. */
  prefix?: string;
  /** Also remove namespaces whose owning lab process is still alive. */
  force?: boolean;
  /** Told about each namespace left alone, with the reason. */
  onSkip?: (netns: string, why: string) => void;
}

/** Owner recorded by topology.ts in the `lo` alias: `rstlab owner pid=N start=T`. */
export function parseOwner(alias: string | undefined): { pid: number; start: string } | undefined {
  const m = /rstlab owner pid=(\d+) start=(\S+)/.exec(alias ?? '');
  return m ? { pid: Number(m[1]), start: m[2]! } : undefined;
}

async function ownerOf(ns: string): Promise<{ pid: number; start: string } | undefined> {
  const r = await run(['ip', '-j', '-n', ns, 'link', 'show', 'dev', 'lo']);
  if (r.code !== 0) return undefined;
  try {
    const links = JSON.parse(r.stdout) as Array<{ ifalias?: string }>;
    return parseOwner(links[0]?.ifalias);
  } catch {
    return undefined;
  }
}

/** Lists the lab namespaces (names only) starting with `prefix`. */
export async function listLabNamespaces(prefix = NETNS_PREFIX): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list']);
  if (r.code !== 0) throw new LabError(`cannot list network namespaces: ${r.stderr.trim()}`, 'run as root');
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((n) => n.startsWith(prefix));
}

export async function cleanupLeftovers(opts: CleanupOptions = {}): Promise<string[]> {
  const prefix = opts.prefix ?? NETNS_PREFIX;
  if (!prefix.startsWith(NETNS_PREFIX)) throw new LabError(`cleanup prefix must start with ${NETNS_PREFIX}`);
  const removed: string[] = [];
  // A lab's instance is `rstlab-p<pid>-<runId>` and its namespaces `rstlab-<runId>-<host>`: a
  // prefix naming one lab's namespaces names its instance too.
  const runId = prefix === NETNS_PREFIX ? null : prefix.slice(NETNS_PREFIX.length).replace(/-$/, '');
  for (const inst of listLabInstances()) {
    if (runId !== null && !inst.name.endsWith(`-${runId}`)) continue;
    if (!opts.force && inst.pid === process.pid) { opts.onSkip?.(`tracefs ${inst.name}`, 'it belongs to this process'); continue; }
    if (!opts.force && inst.pid > 0 && processStartTime(inst.pid) !== undefined) { opts.onSkip?.(`tracefs ${inst.name}`, `its lab (pid ${inst.pid}) is still running`); continue; }
    if (removeInstance(inst.dir)) removed.push(`tracefs instance ${inst.name}`);
  }
  // tracefs, when a lab or watch that died had mounted it and nothing of rstlab uses it now.
  if (runId === null && await unmountIfUnused()) removed.push(`tracefs mount ${TRACEFS}`);
  // The database servers' cgroups and folders (servers/databases.ts) of labs that died.
  if (prefix === NETNS_PREFIX) removed.push(...await cleanupDatabaseLeftovers(opts.force));
  // Browser profiles of SIGKILLed browser drivers (drivers/browser-runtime.ts).
  if (runId === null) for (const dir of sweepProfiles()) removed.push(`browser profile ${dir}`);
  if (findExecutable('ip') === undefined) return removed;
  for (const ns of await listLabNamespaces(prefix)) {
    const owner = await ownerOf(ns);
    if (!opts.force) {
      if (owner !== undefined && owner.pid !== process.pid && processStartTime(owner.pid) === owner.start) {
        opts.onSkip?.(ns, `its lab (pid ${owner.pid}) is still running`);
        continue;
      }
      if (owner !== undefined && owner.pid === process.pid) {
        opts.onSkip?.(ns, 'it belongs to this process');
        continue;
      }
      if (owner === undefined && Date.now() - mtimeMs(`/run/netns/${ns}`) < 10_000) {
        opts.onSkip?.(ns, 'it is being set up (no owner yet)');
        continue;
      }
    }
    const killed: number[] = [];
    for (let round = 0; round < 3; round++) {
      const r = await run(['ip', 'netns', 'pids', ns]);
      const pids = r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
      if (pids.length === 0) break;
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
          if (!killed.includes(p)) killed.push(p);
        } catch {
          // already gone
        }
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    const d = await run(['ip', 'netns', 'del', ns]);
    if (d.code !== 0) throw new LabError(`could not delete namespace ${ns}: ${d.stderr.trim()}`);
    removed.push(`netns ${ns}${killed.length > 0 ? ` (killed ${killed.length} process${killed.length === 1 ? '' : 'es'}: ${killed.join(' ')})` : ''}`);
  }
  return removed;
}

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

export interface SignalCleanupOptions {
  timeoutMs?: number;
  /** Where to report (default stderr). */
  log?: (line: string) => void;
}

/** See the module header. */
export function installSignalCleanup(fn: () => Promise<void> | void, opts: SignalCleanupOptions = {}): () => void {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let running = false;
  const finish = (code: number, why: string): void => {
    if (running) {
      log(`rstlab: ${why} again; still cleaning up`);
      return;
    }
    running = true;
    log(`rstlab: ${why}; cleaning up the lab`);
    const guard = setTimeout(() => {
      log('rstlab: cleanup did not finish in time; exiting anyway');
      process.exit(code);
    }, opts.timeoutMs ?? 15_000);
    Promise.resolve()
      .then(fn)
      .catch((err: unknown) => log(`rstlab: cleanup failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        clearTimeout(guard);
        process.exit(code);
      });
  };
  const onInt = (): void => finish(130, 'interrupted (SIGINT)');
  const onTerm = (): void => finish(143, 'terminated (SIGTERM)');
  const onHup = (): void => finish(129, 'hung up (SIGHUP)');
  const onError = (err: unknown): void => {
    log(`rstlab: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    finish(1, 'internal error');
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onHup);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onHup);
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  };
}
