// tracefs at /sys/kernel/tracing for as long as some rstlab process needs it, and unmounted by the
// last one when rstlab mounted it. Contract:
// - `useTracefs()` (root): when tracefs is mounted nowhere at TRACEFS, mounts it and leaves the mark
//   MOUNTED_MARK; then registers this process under USERS_DIR (a file named by its pid). Returns
//   whether tracefs is there now. Each call is one use, to be released once.
// - `releaseTracefs()` ends one use. At this process's last it removes its registration; then,
//   when the mark says rstlab mounted tracefs and no live process is registered any more, it
//   unmounts it and removes the mark. A mount rstlab did not make (the machine's own) is never
//   unmounted.
// - Two rstlab processes at once (a lab and a watch, two watches) share the mount: the first to
//   start mounts it, the last to stop unmounts it, whichever they are. A process that died without
//   releasing is skipped by its pid (not alive); `rstlab lab --cleanup` calls `unmountIfUnused()`.

import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './topology.js';

export const TRACEFS = '/sys/kernel/tracing';
const STATE_DIR = '/run/rstlab-tracefs';
const MOUNTED_MARK = path.join(STATE_DIR, 'mounted-by-rstlab');
const USERS_DIR = path.join(STATE_DIR, 'users');

const alive = (pid: number) => existsSync(`/proc/${pid}`);
/** Uses of this process not yet released (two recorders at once release the mount once). */
let uses = 0;

export async function useTracefs(): Promise<boolean> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return existsSync(path.join(TRACEFS, 'events'));
  uses += 1;
  mkdirSync(USERS_DIR, { recursive: true });
  writeFileSync(path.join(USERS_DIR, String(process.pid)), '');
  if (!existsSync(path.join(TRACEFS, 'events'))) {
    if ((await run(['mount', '-t', 'tracefs', 'nodev', TRACEFS])).code === 0) writeFileSync(MOUNTED_MARK, String(process.pid));
  }
  return existsSync(path.join(TRACEFS, 'events'));
}

export async function releaseTracefs(): Promise<void> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return;
  if (uses > 0 && --uses > 0) return;
  rmSync(path.join(USERS_DIR, String(process.pid)), { force: true });
  await unmountIfUnused();
}

/** Unmount tracefs if rstlab mounted it and no live process is registered (registrations of
 *  dead ones are removed): what the last release does, and `rstlab lab --cleanup` after a crash.
 *  Returns whether it unmounted. */
export async function unmountIfUnused(): Promise<boolean> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  let others = false;
  try {
    for (const f of readdirSync(USERS_DIR)) {
      if (alive(Number(f))) others = true;
      else rmSync(path.join(USERS_DIR, f), { force: true });
    }
  } catch { /* no registrations */ }
  if (others) return false;
  if (!existsSync(MOUNTED_MARK)) {
    rmSync(STATE_DIR, { recursive: true, force: true }); // nothing of rstlab's to unmount, nobody registered
    return false;
  }
  const ok = (await run(['umount', TRACEFS])).code === 0;
  if (ok || !existsSync(path.join(TRACEFS, 'events'))) rmSync(STATE_DIR, { recursive: true, force: true });
  return ok;
}
