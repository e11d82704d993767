#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node --max-semi-space-size=8
// The rstlab command. The TypeScript sources are built into dist/ by `npm run build` (scripts/setup.sh
// does it for a fresh clone): tsc, then one bundle of the command with V8's code cache for it
// (scripts/bundle.ts), which starts sooner than its ~45 modules loaded and compiled one by one
// (docs/performance.md, "Start-up"). load.js uses the bundle while it is at least as new as
// dist/src/cli/main.js; after a tsc-only rebuild the command runs from main.js.
//
// The first line drops NODE_EXTRA_CA_CERTS for rstlab and the programs it starts. Node reads and
// parses that file (often the whole system bundle, ~140 certificates) before running any script,
// on every start of a machine that sets it; rstlab never needs it: the lab's TLS
// clients trust the lab's own CA, which they are given explicitly. `node bin/rstlab.js` skips the
// first line and so keeps the variable.
//
// It also gives V8 young-generation semi-spaces of 8 MiB at most instead of 16: `explain` makes
// its per-connection objects by the million and they die young or are pooled, so the larger young
// generation only adds 14–23 MB of peak RSS, at the same speed (docs/performance.md, 2026-12-06).
// V8 stamps its code cache with its flags: the build makes the cache under these
// (load.js, commandNodeFlags), and `node bin/rstlab.js` starts without it.
import { loadCommand } from './load.js';

const { main } = await loadCommand();
main(process.argv).then((code) => { process.exitCode = code; });
