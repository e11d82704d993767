// Where rstlab's own files are at run time: repoRoot() is the folder holding its package.json, found
// by walking up from this module (once; then cached), so that every build folder (dist/, or a
// developer's own) finds the same repository files (Java/Python drivers, tools, fixtures, the error
// catalog); it throws when no package.json is above. For the stress tests, sharedCorpus() says where
// an optional capture corpus is (null when absent); no shipped command reads one.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function repoRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`rstlab's package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return (cached = dir);
}

/** A file of the repository, from a path relative to its root. */
export function repoFile(rel: string): string {
  return path.join(repoRoot(), rel);
}

/**
 * A corpus of public test captures beside the repository (`../shared/corpus/<name>`), or the folder
 * named by $RSTLAB_TCPDUMP_CORPUS / $RSTLAB_ZEEK_CORPUS; null when it is not there.
 */
export function sharedCorpus(name: 'tcpdump-tests' | 'zeek-traces'): string | null {
  const env = name === 'tcpdump-tests' ? process.env.RSTLAB_TCPDUMP_CORPUS : process.env.RSTLAB_ZEEK_CORPUS;
  const dir = env || path.join(repoRoot(), '..', 'shared', 'corpus', name);
  return existsSync(dir) ? dir : null;
}
