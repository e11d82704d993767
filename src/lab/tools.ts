// Which external tools are installed: a PATH lookup without running them (so a missing tool is
// reported by name, with its Debian package, before anything starts). hasCommand(name) resolves
// true when an executable `name` is on PATH or in /usr/sbin, /sbin, /usr/bin or /bin; it never
// rejects.

import { access, constants } from 'node:fs/promises';
import path from 'node:path';

const EXTRA_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

export async function hasCommand(name: string): Promise<boolean> {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const d of dirs) {
    try {
      await access(path.join(d, name), constants.X_OK);
      return true;
    } catch { /* next */ }
  }
  return false;
}
