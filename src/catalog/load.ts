// Reading an error catalog file. Contract: `loadCatalog(file)` returns the catalog or throws one
// InputError (exit 2, with a hint where there is one) naming the file and the first thing wrong:
// unreadable, not JSON, another schema id, or an entry that is not shaped as types.ts says. What
// is checked is what `rstlab why` reads, so that a file that loads cannot fail later on.

import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { repoFile } from '../paths.js';
import { ADVICE } from './advice.js';
import { CATALOG_SCHEMA } from './types.js';
import type { Catalog } from './types.js';

/** data/error-catalog.json of this package. */
export function defaultCatalogPath(): string {
  return repoFile('data/error-catalog.json');
}

const REBUILD = 'build it from lab results: node dist/scripts/build-catalog.js rstlab-out/results.json (see docs/catalog.md)';

export function loadCatalog(file: string): Catalog {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the error catalog ${file}: ${(err as Error).message}`, REBUILD);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file} is not JSON: ${(err as Error).message}`);
  }
  const schema = isObject(data) ? data.schema : undefined;
  if (typeof schema === 'string' && schema.startsWith('rstlab-catalog/') && schema !== CATALOG_SCHEMA) {
    throw new InputError(`${file} is an error catalog of another rstlab version (schema ${schema}; this one reads ${CATALOG_SCHEMA})`, REBUILD);
  }
  if (schema !== CATALOG_SCHEMA || !isObject(data) || !Array.isArray(data.entries)) {
    throw new InputError(`${file} is not an rstlab error catalog (schema ${CATALOG_SCHEMA})`);
  }
  const problem = catalogProblem(data);
  if (problem) throw new InputError(`${file} is not a valid error catalog: ${problem}`, REBUILD);
  return data as unknown as Catalog;
}

// ---------------------------------------------------------------------------------------------
// Shape checks: the first problem, as `entries[3].occurrences[0].wire.summary: not a string`.

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function fieldProblems(v: Obj, where: string, fields: Record<string, 'string' | 'number' | 'array' | 'object' | 'string?' | 'string|null'>): string | null {
  for (const [k, kind] of Object.entries(fields)) {
    const x = v[k];
    const ok = kind === 'string' ? typeof x === 'string'
      : kind === 'string?' ? x === undefined || typeof x === 'string'
        : kind === 'string|null' ? x === null || typeof x === 'string'
          : kind === 'number' ? typeof x === 'number'
            : kind === 'array' ? Array.isArray(x)
              : isObject(x);
    if (!ok) return `${where}.${k}: ${x === undefined ? 'missing' : `not ${kind === 'array' ? 'an array' : kind === 'object' ? 'an object' : `a ${kind}`}`}`;
  }
  return null;
}

function catalogProblem(cat: Obj): string | null {
  if (!Array.isArray(cat.sources)) return 'sources: not an array';
  const entries = cat.entries as unknown[];
  for (const [i, e] of entries.entries()) {
    const at = `entries[${i}]`;
    if (!isObject(e)) return `${at}: not an object`;
    const p = fieldProblems(e, at, { id: 'string', client: 'string', family: 'string', version: 'string|null', hop: 'string?', error: 'string', code: 'string?', message: 'string', pattern: 'string', causes: 'array', outcome: 'object', occurrences: 'array' })
      ?? fieldProblems(e.outcome as Obj, `${at}.outcome`, { kind: 'string', causes: 'array' });
    if (p) return p;
    if (e.hop !== undefined && !HOSTS.includes(e.hop as string)) return `${at}.hop: not a role (${JSON.stringify(e.hop)})`;
    for (const [k, c] of (e.causes as unknown[]).entries()) {
      if (!isObject(c)) return `${at}.causes[${k}]: not an object`;
      const q = fieldProblems(c, `${at}.causes[${k}]`, { error: 'string', code: 'string?', message: 'string' });
      if (q) return q;
    }
    for (const [j, o] of (e.occurrences as unknown[]).entries()) {
      const ot = `${at}.occurrences[${j}]`;
      if (!isObject(o)) return `${ot}: not an object`;
      const q = fieldProblems(o, ot, { scenario: 'string', run: 'string', capture: 'string|null', wire: 'object', ladder: 'array', timeline: 'array' })
        ?? fieldProblems(o.wire as Obj, `${ot}.wire`, { cause: 'string', summary: 'string' });
      if (q) return q;
      if (!Object.hasOwn(ADVICE, (o.wire as Obj).cause as string)) return `${ot}.wire.cause: unknown cause ${JSON.stringify((o.wire as Obj).cause)}`;
      for (const [k, seg] of (o.ladder as unknown[]).entries()) {
        if (!isObject(seg)) return `${ot}.ladder[${k}]: not an object`;
        const r = fieldProblems(seg, `${ot}.ladder[${k}]`, { frame: 'number', ms: 'number', from: 'string', to: 'string', flags: 'string', seq: 'number', ack: 'number', len: 'number' });
        if (r) return r;
      }
      for (const [k, t] of (o.timeline as unknown[]).entries()) {
        const r = timelineProblem(t, `${ot}.timeline[${k}]`);
        if (r) return r;
      }
    }
  }
  return null;
}

const HOSTS = ['client', 'server', 'proxy'];

/** A timeline entry as src/report/results.ts types it (TimelineEntry). */
function timelineProblem(t: unknown, at: string): string | null {
  if (!isObject(t)) return `${at}: not an object`;
  const p = fieldProblems(t, at, { ms: 'number', who: 'string', kind: 'string' });
  if (p) return p;
  const ok = t.kind === 'release' ? t.who === 'lab'
    : t.kind === 'action' ? t.who === 'lab' && typeof t.text === 'string' && (t.host === undefined || HOSTS.includes(t.host as string))
      : t.kind === 'result' ? t.who === 'client'
        : t.kind === 'event' ? HOSTS.includes(t.who as string) && typeof t.text === 'string'
          : false;
  return ok ? null : `${at}: not a timeline entry (${JSON.stringify(t)})`;
}
