// Bundle the rstlab command into one file and make V8's code cache for it, so that a command starts
// without the ESM loader resolving, reading and linking ~45 modules one by one and without V8
// parsing the bundle and compiling the functions it runs (docs/performance.md, "Start-up").
//
// Contract:
// - Input: the tsc output of this build folder (<build>/src/cli/main.js and what it imports).
// - Output, beside main.js: rstlab.bundle.cjs, CommonJS wrapped in a function, which bin/load.js
//   compiles as a vm.Script and calls with (exports, require, module, __filename, __dirname,
//   url, kept, load); then rstlab.bundle.cache, V8's code cache for it after a few commands ran
//   (explain in each output form, why), written by a child process through bin/load.js itself.
//   Any earlier cache is deleted first: V8 checks a cache against its source only by length.
// - Kept out of the bundle: the lab (cli/lab-run.js, lab/), the proxy (proxy/) and watch
//   (cli/watch-run.js, watch/, which uses the lab's tracefs recorder), which find
//   their driver and server scripts next to their own modules and are loaded only by their
//   commands, through `load` (a vm.Script cannot import); errors.js, whose classes the CLI
//   recognises with instanceof whichever side threw them, and cli/output.js, whose pending output
//   and closed-pipe state must be one for the whole process: both passed in as `kept`.
// - Run by `npm run build` and scripts/setup.sh after tsc: node dist/scripts/bundle.js
// - On failure it says so and exits 1; bin/load.js then runs the command from main.js (no bundle)
//   or without the cache (no cache).

import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const build = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repo = path.resolve(build, '..');
const src = path.join(build, 'src');
const cli = path.join(src, 'cli');
const outfile = path.join(cli, 'rstlab.bundle.cjs');
const cacheFile = path.join(cli, 'rstlab.bundle.cache');

/** Modules passed in by bin/load.js (`kept`), by name. */
const KEPT_IN = new Map([[path.join(src, 'errors.js'), 'errors'], [path.join(cli, 'output.js'), 'output']]);
/** Modules left as files, imported on demand through `load`. */
const KEPT_FILES = new Set([path.join(cli, 'lab-run.js'), path.join(cli, 'watch-run.js')]);
const KEPT_DIRS = [path.join(src, 'lab'), path.join(src, 'proxy'), path.join(src, 'watch')].map((d) => d + path.sep);
const keptOut = (abs: string): boolean => KEPT_FILES.has(abs) || KEPT_DIRS.some((d) => abs.startsWith(d));

const keepOut: esbuild.Plugin = {
  name: 'rstlab-keep-out',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const abs = path.resolve(args.resolveDir, args.path);
      const kept = KEPT_IN.get(abs);
      if (kept) return { path: kept, namespace: 'rstlab-kept' };
      if (!keptOut(abs)) return undefined;
      if (args.kind !== 'dynamic-import') throw new Error(`${args.importer} imports ${args.path} statically: the lab, the proxy and watch must be loaded on demand`);
      const rel = path.relative(cli, abs).split(path.sep).join('/');
      return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: 'rstlab-kept' }, (args) => ({ contents: `module.exports = __rstlabKept.${args.path};`, loader: 'js' }));
  },
};

/** The training commands, whose compiled functions go into the cache. */
const fixture = path.join(repo, 'fixtures', 'captures', 'client-closes-unread--node-net.pcap');
const TRAIN = [['explain', '--json', '--all', fixture], ['explain', '--format', 'zeek', fixture], ['explain', '--ladder', '--html', '/dev/null', fixture], ['explain', fixture], ['why', 'ECONNRESET']];

try {
  rmSync(cacheFile, { force: true });
  const out = await esbuild.build({
    entryPoints: [path.join(cli, 'main.js')],
    write: false,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    define: { 'import.meta.url': '__rstlabUrl' },
    plugins: [keepOut],
  });
  // The kept-out modules and Node's gzip modules are imported on demand: through `load`.
  let dynamic = 0;
  const code = out.outputFiles[0]!.text.replace(/\bimport\((?=["'])/g, () => { dynamic++; return '__rstlabImport('; });
  if (/\bimport\(/.test(code) || dynamic === 0) throw new Error('an import() the bundle cannot make was left in it');
  writeFileSync(outfile, `(function (exports, require, module, __filename, __dirname, __rstlabUrl, __rstlabKept, __rstlabImport) {${code}\n})`);
  // bin/load.js loads dist/'s bundle: another build folder gets no cache (its bundle still works).
  if (build === path.join(repo, 'dist')) await makeCodeCache();
} catch (e) {
  process.stderr.write(`bundle: could not write ${path.relative(process.cwd(), outfile)} (${(e as Error).message}); bin/rstlab.js runs from main.js meanwhile\n`);
  rmSync(outfile, { force: true });
  process.exitCode = 1;
}

/** Run the training commands through bin/load.js in a child process started with bin/rstlab.js's
 *  node flags (V8 takes a cache only under the flags it was made with), and write the cache it made. */
async function makeCodeCache(): Promise<void> {
  const loadJs = pathToFileURL(path.join(repo, 'bin', 'load.js')).href;
  const { commandNodeFlags } = (await import(loadJs)) as { commandNodeFlags: () => string[] };
  const train = `import(${JSON.stringify(loadJs)}).then(async ({ loadCommand }) => {
    const { main, script } = await loadCommand({ codeCache: false });
    if (!script) throw new Error('the bundle was not loaded');
    for (const args of ${JSON.stringify(TRAIN)}) await main(['node', 'rstlab', ...args]);
    // explain changes two V8 flags (cli/explain-run.ts); V8 stamps a cache with its flags, so they
    // are put back to the defaults a starting command has, or every start would reject the cache.
    (await import('node:v8')).setFlagsFromString('--allocation-site-pretenuring');
    (await import('node:v8')).setFlagsFromString('--heap-growing-percent=0');
    (await import('node:fs')).writeFileSync(${JSON.stringify(cacheFile)}, script.createCachedData());
  })`;
  const r = spawnSync(process.execPath, [...commandNodeFlags(), '--input-type=module', '-e', train], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0 || !existsSync(cacheFile)) {
    process.stderr.write(`bundle: could not make the code cache (the command works, it starts slower): ${r.stderr.trim() || `exit ${r.status}`}\n`);
    process.exitCode = 1;
  }
}
