#!/usr/bin/env node
// The rstlab command. The TypeScript sources are built into dist/ by `npm run build`
// (scripts/setup.sh does it for a fresh clone).
import { main } from '../dist/src/cli/main.js';
main(process.argv).then((code) => { process.exitCode = code; });
