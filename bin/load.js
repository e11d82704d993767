// Loads the rstlab command for bin/rstlab.js (and for the build, which trains the code cache).
//
// Contract: loadCommand({ codeCache }) resolves with { main, script }:
// - When the build's bundle (dist/src/cli/rstlab.bundle.cjs, scripts/bundle.ts) is at least as new
//   as dist/src/cli/main.js, main comes from it, compiled with V8's code cache
//   (rstlab.bundle.cache) when that is at least as new as the bundle and `codeCache` is not false;
//   `script` is its vm.Script (script.cachedDataRejected tells whether V8 took the cache).
// - Otherwise (a tsc-only rebuild) main comes from the modules, and `script` is null.
// Why: with the code cache, V8 neither parses the bundle nor compiles the functions a command
// runs, which shortens every start (figures in docs/performance.md, "Start-up").
// V8 rejects a cache made by another V8 version or with other V8 flags (the command then compiles
// as usual); it checks the source only by its length, hence the build writes the cache after the
// bundle and the cache is used only while it is at least as new as the bundle.
//
// The bundle is CommonJS wrapped in a function (a vm.Script cannot import): it gets the modules
// kept out of it (errors.js, cli/output.js: one instance for the whole process, shared with the
// lab and the proxy) and an import function for the ones it loads on demand (the lab, the proxy,
// node:zlib for gzip input).
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const cli = new URL('../dist/src/cli/', import.meta.url);
const entry = new URL('main.js', cli);
const bundle = new URL('rstlab.bundle.cjs', cli);
const cache = new URL('rstlab.bundle.cache', cli);
const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs ?? -1;

/** The node options on bin/rstlab.js's first line (after `node`): V8 flags, under which the
 *  build makes the code cache, since V8 takes a cache only under the flags it was made with. */
export function commandNodeFlags() {
  const first = readFileSync(new URL('rstlab.js', import.meta.url), 'utf8').split('\n', 1)[0];
  const at = first.indexOf(' node');
  return at < 0 ? [] : first.slice(at + ' node'.length).trim().split(/\s+/).filter(Boolean);
}

export async function loadCommand({ codeCache = true } = {}) {
  const bundleTime = mtime(bundle);
  if (bundleTime < mtime(entry)) return { main: (await import(entry.href)).main, script: null };
  const [errors, output] = await Promise.all([import(new URL('../errors.js', cli).href), import(new URL('output.js', cli).href)]);
  const filename = fileURLToPath(bundle);
  const cachedData = codeCache && mtime(cache) >= bundleTime ? readFileSync(cache) : undefined;
  const script = new vm.Script(readFileSync(bundle, 'utf8'), { filename, cachedData });
  const module = { exports: {} };
  const load = (specifier) => import(specifier.startsWith('.') ? new URL(specifier, bundle).href : specifier);
  script.runInThisContext()(module.exports, createRequire(bundle), module, filename, dirname(filename), bundle.href, { errors, output }, load);
  return { main: module.exports.main, script };
}
