// The layers of README.md's layout, checked on the sources: a module imports only modules of its own
// folder or of folders listed before it (lab and proxy not each other), and nothing below lab/proxy
// imports node:net or node:child_process. Test files are exempt (a test may drive a higher layer).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';

const ORDER = ['wire', 'capture', 'tcp', 'explain', 'report', 'catalog', 'lab', 'proxy', 'watch', 'cli'];
const rank = (layer: string) => (layer === 'lab' || layer === 'proxy' ? 6 : ORDER.indexOf(layer));
const SOCKETS = /^node:(net|child_process)$/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return d.name === 'testdata' ? [] : sources(p);
    return /\.ts$/.test(d.name) && !/\.test\.ts$/.test(d.name) ? [p] : [];
  });
}

test('imports point down the layers only', () => {
  const src = path.join(repoRoot(), 'src');
  const wrong: string[] = [];
  for (const layer of ORDER) {
    for (const file of sources(path.join(src, layer))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
        const spec = m[1] ?? m[2] ?? m[3];
        const rel = path.relative(src, file);
        if (SOCKETS.test(spec) && rank(layer) < rank('lab')) wrong.push(`${rel} imports ${spec}`);
        if (!spec.startsWith('.')) continue;
        const target = path.relative(src, path.resolve(path.dirname(file), spec)).split(path.sep)[0];
        if (!ORDER.includes(target) || target === layer) continue;
        if (rank(target) >= rank(layer)) wrong.push(`${rel} imports ${spec} (${target} is not below ${layer})`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});
