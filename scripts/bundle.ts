// Bundle the rstlab command into one file, so that a command starts without the ESM loader
// resolving, reading and linking ~30 modules one by one (~35 ms of every start on this machine).
//
// Contract:
// - Input: the tsc output of this build folder (<build>/src/cli/main.js and what it imports).
// - Output: <build>/src/cli/rstlab.bundle.mjs, beside main.js, which bin/rstlab.js loads when it is
//   at least as new as main.js (a folder rebuilt by tsc alone still runs, from main.js).
// - Kept out of the bundle and imported from the build folder at run time, by relative paths that
//   are right from cli/: the lab (cli/lab-run.js, lab/) and the proxy (proxy/), which find their
//   driver and server scripts next to their own modules and are loaded only by their commands;
//   errors.js, whose classes the CLI recognises with instanceof whichever side threw them; and
//   cli/output.js, whose pending output and closed-pipe state must be one for the whole process.
// - Run by `npm run build` and scripts/setup.sh after tsc: node dist/scripts/bundle.js

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const build = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(build, 'src');
const cli = path.join(src, 'cli');
const outfile = path.join(cli, 'rstlab.bundle.mjs');

const KEPT_FILES = new Set([path.join(src, 'errors.js'), path.join(cli, 'lab-run.js'), path.join(cli, 'output.js')]);
const KEPT_DIRS = [path.join(src, 'lab'), path.join(src, 'proxy')].map((d) => d + path.sep);
const keptOut = (abs: string): boolean => KEPT_FILES.has(abs) || KEPT_DIRS.some((d) => abs.startsWith(d));

const keepOut: esbuild.Plugin = {
  name: 'rstlab-keep-out',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const abs = path.resolve(args.resolveDir, args.path);
      if (!keptOut(abs)) return undefined;
      const rel = path.relative(cli, abs).split(path.sep).join('/');
      return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
    });
  },
};

try {
  await esbuild.build({
    entryPoints: [path.join(cli, 'main.js')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    // commander and picocolors are CommonJS: their require() of Node's modules needs a real require.
    banner: { js: "import { createRequire as rstlabCreateRequire } from 'node:module'; const require = rstlabCreateRequire(import.meta.url);" },
    plugins: [keepOut],
  });
} catch {
  // esbuild has printed what went wrong.
  process.stderr.write(`bundle: could not write ${path.relative(process.cwd(), outfile)}; bin/rstlab.js runs from main.js meanwhile\n`);
  process.exitCode = 1;
}
