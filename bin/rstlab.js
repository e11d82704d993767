#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
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
import { loadCommand } from './load.js';

const { main } = await loadCommand();
main(process.argv).then((code) => { process.exitCode = code; });
