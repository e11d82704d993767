#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
// The rstlab command. The TypeScript sources are built into dist/ by `npm run build`
// (scripts/setup.sh does it for a fresh clone).
//
// The first line drops NODE_EXTRA_CA_CERTS for rstlab and the programs it starts. Node reads and
// parses that file (often the whole system bundle, ~140 certificates) before running any script,
// ~60–100 ms of every start on a machine that sets it; rstlab never needs it: the lab's TLS
// clients trust the lab's own CA, which they are given explicitly. `node bin/rstlab.js` skips the
// first line and so keeps the variable.
import { main } from '../dist/src/cli/main.js';
main(process.argv).then((code) => { process.exitCode = code; });
