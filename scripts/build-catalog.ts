// Regenerates the error catalog (data/error-catalog.json) from lab results — the catalog is never
// typed by hand (docs/catalog.md). Usage, after `npm run build`:
//   node dist/scripts/build-catalog.js [results.json …] [--out FILE] [--check]
// Inputs default to rstlab-out/results.json, the output to data/error-catalog.json, both in the
// repository (repoRoot() of src/paths.ts). --check compares instead of writing and exits 1 when the
// file is stale. An input that cannot be read, or is not lab results of src/report/results.ts's
// LAB_SCHEMA with a run that has an outcome, exits 2 naming the file. Output is deterministic:
// same inputs, same bytes.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildCatalog } from '../src/catalog/build.js';
import { LAB_SCHEMA } from '../src/report/results.js';
import type { LabResults } from '../src/report/results.js';
import { repoRoot } from '../src/paths.js';


/** JSON with two-space indent, but objects and arrays of scalars on one line (ladders stay short). */
function compactJson(value: unknown, indent = ''): string {
  const flat = (v: unknown) => v === null || typeof v !== 'object' || (Array.isArray(v) ? v.every((x) => x === null || typeof x !== 'object') : Object.values(v as object).every((x) => x === null || typeof x !== 'object'));
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (flat(value)) return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (!value.length) return '[]';
    return `[\n${value.map((v) => inner + compactJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`).join(',\n')}\n${indent}}`;
}

function fail(message: string): never {
  process.stderr.write(`build-catalog: ${message}\n`);
  process.exit(2);
}

function main(argv: string[]): number {
  const root = repoRoot();
  let out = path.join(root, 'data', 'error-catalog.json');
  let check = false;
  const inputs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') out = path.resolve(argv[++i] ?? fail('--out needs a file'));
    else if (a === '--check') check = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node dist/scripts/build-catalog.js [results.json …] [--out FILE] [--check]\n');
      return 0;
    } else inputs.push(path.resolve(a));
  }
  if (!inputs.length) inputs.push(path.join(root, 'rstlab-out', 'results.json'));
  const results = inputs.map((file): LabResults => {
    let data: LabResults;
    try {
      data = JSON.parse(readFileSync(file, 'utf8')) as LabResults;
    } catch (err) {
      return fail(`cannot read ${file}: ${(err as Error).message} (run \`rstlab lab\` first)`);
    }
    const schema: unknown = data?.schema;
    if (typeof schema === 'string' && /^rstlab-lab\/\d+$/.test(schema) && schema !== LAB_SCHEMA) fail(`${file} is lab results of another rstlab version (schema ${schema}; this one reads ${LAB_SCHEMA}): run \`rstlab lab\` again`);
    if (schema !== LAB_SCHEMA || !Array.isArray(data.runs)) fail(`${file} is not lab results (schema ${LAB_SCHEMA})`);
    if (!data.runs.some((r) => r.outcome)) fail(`${file} has no run with an outcome: the lab did not run any client`);
    return data;
  });
  const catalog = buildCatalog(results);
  const text = `${compactJson(catalog)}\n`;
  const runs = catalog.entries.reduce((n, e) => n + e.occurrences.length, 0);
  if (check) {
    const current = existsSync(out) ? readFileSync(out, 'utf8') : '';
    if (current !== text) { process.stderr.write(`build-catalog: ${out} is stale; regenerate it\n`); return 1; }
    process.stdout.write(`${out} is up to date (${catalog.entries.length} errors, ${runs} runs)\n`);
    return 0;
  }
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, text);
  process.stdout.write(`${out}: ${catalog.entries.length} errors from ${runs} runs of ${inputs.length} result file(s)\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
