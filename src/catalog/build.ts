// Building the error catalog from lab results. Contract: `buildCatalog(results)` is pure and
// deterministic — lab results in (results.json, the LabResults of src/report/results.ts), catalog
// out; the same input gives byte-identical JSON. The catalog is never written by hand:
// scripts/build-catalog.ts regenerates data/error-catalog.json with it (docs/catalog.md).
// Every error of a client becomes an entry with the client's software family and version
// (RunRecord.software, else the family of the client's name, shapes.ts familyOfClient); every hop
// report of a run (RunRecord.hops: nginx's error.log lines, HAProxy's termination state, a database
// server's log) becomes an entry too, with the hop's software as its family and the run's wire
// signature, so that a pasted proxy or server log line matches what the lab saw on the wire.

import type { Cause } from '../explain/causes.js';
import type { HopReport, LabResults, OutcomeRecord, Role, RunRecord } from '../report/results.js';
import { normalizeMessage } from './match.js';
import { familyOfClient, stripFraming } from './shapes.js';
import { CATALOG_SCHEMA } from './types.js';
import type { Catalog, CatalogEntry, WireCause, WireEvent, WireSignature } from './types.js';

const RST_FLAG = /R/;

function signatureOf(run: RunRecord): WireSignature {
  const errorAt = run.outcome?.kind === 'error' ? run.timeline.find((t) => t.kind === 'result')?.ms ?? null : null;
  const msOf = (frame: number) => run.ladder.find((s) => s.frame === frame)?.ms ?? 0;
  const ev = (role: Role | 'unknown', frame: number, cause?: Cause): WireEvent => {
    const ms = msOf(frame);
    return { role, frame, ms, ...(cause ? { cause } : {}), beforeError: errorAt === null ? null : ms <= errorAt };
  };
  const rsts = run.rsts.map((r) => ev(r.role, r.frame, r.cause)).sort((a, b) => a.frame - b.frame);
  const fins = run.fins.map((f) => ev(f.role, f.frame)).sort((a, b) => a.frame - b.frame);
  const fromPeer = rsts.filter((r) => r.role !== 'client');
  const firstRst = fromPeer.find((r) => r.cause !== 'out-of-window') ?? rsts.find((r) => r.role === 'client' && r.cause !== 'out-of-window') ?? fromPeer[0] ?? rsts[0];
  let cause: WireCause;
  if (firstRst?.cause) cause = firstRst.cause;
  else if (fins.some((f) => f.role !== 'client')) cause = 'peer-closed';
  else cause = 'silent';

  // The sequence in words: lab actions, FINs, RSTs with the segment each answers, the client's result.
  const steps: Array<{ ms: number; order: number; text: string }> = [];
  run.timeline.forEach((t, i) => {
    if (t.kind === 'action') steps.push({ ms: t.ms, order: 1e6 + i, text: t.text });
    if (t.kind === 'result') {
      steps.push({ ms: t.ms, order: 1e6 + i, text: run.outcome?.kind === 'ok' ? 'client ok' : run.outcome?.kind === 'error' ? 'client error' : 'client gave up' });
    }
  });
  run.ladder.forEach((s, i) => {
    const next = run.ladder[i + 1];
    if (RST_FLAG.test(s.flags)) steps.push({ ms: s.ms, order: i, text: `${s.from} RST (${s.cause ?? '?'})` });
    else if (s.flags.includes('F')) steps.push({ ms: s.ms, order: i, text: `${s.from} FIN` });
    else if (next && RST_FLAG.test(next.flags) && next.from === s.to) {
      steps.push({ ms: s.ms, order: i, text: `${s.from} ${s.flags.includes('S') ? 'SYN' : s.len > 0 ? 'data' : 'ACK'}` });
    }
  });
  steps.sort((a, b) => a.ms - b.ms || a.order - b.order);
  const words: string[] = [];
  let repeat = 1;
  for (const [i, s] of steps.entries()) {
    if (i > 0 && steps[i - 1].text === s.text) { repeat++; continue; }
    if (repeat > 1) { words[words.length - 1] += ` ×${repeat}`; repeat = 1; }
    words.push(s.text);
  }
  if (repeat > 1) words[words.length - 1] += ` ×${repeat}`;
  return { cause, rsts, fins, summary: words.join(' → ') || 'nothing notable on the wire' };
}

/** Client, error, code and normalised message — plus the normalised cause chain, so that a wrapper
 *  such as fetch's `TypeError: fetch failed` is one entry per underlying error. */
const entryKey = (client: string, o: OutcomeRecord) => [
  `${client}|${o.error ?? ''}|${o.code ?? ''}|${normalizeMessage(o.message ?? '')}`,
  ...o.causes.map((c) => `${c.error}|${c.code ?? ''}|${normalizeMessage(c.message)}`),
].join(' <- ');

/** One line of a hop's report, keyed by hop role and software, its code and the line with framing and what varies removed. */
const hopKey = (hop: HopReport, line: string) => `hop:${hop.role}:${hop.software.family}|${hop.code ?? ''}|${normalizeMessage(stripFraming(line))}`;

/** The lines of a hop's report that a person would paste: each on its own (one entry per line);
 *  nginx's access-log lines (its status is the report's code) are not error texts. */
function hopLines(hop: HopReport): string[] {
  const lines = hop.software.family === 'nginx' ? hop.lines.filter((l) => /\[(?:emerg|alert|crit|error|warn)\]/.test(l)) : hop.lines;
  return lines.length ? lines : hop.code ? [hop.code] : [];
}

/** Outcomes the lab itself wrote, not the client library: `SIGKILL` (the lab killed the client). */
const LAB_OUTCOMES = new Set(['SIGKILL']);

function occurrenceOf(res: LabResults, run: RunRecord, source: number): CatalogEntry['occurrences'][number] {
  const info = res.scenarios.find((s) => s.id === run.scenario);
  return {
    scenario: run.scenario,
    title: info?.title ?? run.scenario,
    claims: info?.claims ?? [],
    run: run.id,
    status: run.status as 'ok' | 'mismatch',
    source,
    capture: run.capture,
    wire: signatureOf(run),
    ladder: run.ladder,
    timeline: run.timeline,
  };
}

/** Build the catalog from one or more lab results (in order; each result is a source). */
export function buildCatalog(results: readonly LabResults[]): Catalog {
  const entries = new Map<string, CatalogEntry>();
  const sources: Catalog['sources'] = [];
  results.forEach((res, source) => {
    const errorRuns = res.runs.filter((r) => (r.status === 'ok' || r.status === 'mismatch') && r.outcome?.kind === 'error' && !LAB_OUTCOMES.has(r.outcome.error ?? ''));
    sources.push({ startedAt: res.startedAt, kernel: res.host.kernel, mode: res.host.mode, runs: errorRuns.length });
    for (const run of errorRuns) {
      const o = run.outcome as OutcomeRecord;
      const key = entryKey(run.client, o);
      let entry = entries.get(key);
      if (!entry) {
        entry = {
          id: key,
          client: run.client,
          family: familyOfClient(run.client, run.software),
          version: run.software?.version ?? null,
          error: o.error ?? 'error',
          ...(o.code ? { code: o.code } : {}),
          message: o.message ?? '',
          pattern: normalizeMessage(o.message ?? ''),
          causes: o.causes.map((c) => ({ error: c.error, ...(c.code ? { code: c.code } : {}), message: c.message, ...(c.relation ? { relation: c.relation } : {}) })),
          outcome: o,
          occurrences: [],
        };
        entries.set(key, entry);
      }
      entry.occurrences.push(occurrenceOf(res, run, source));
    }
    const hopRuns = res.runs.filter((r) => (r.status === 'ok' || r.status === 'mismatch') && r.hops?.length);
    for (const run of hopRuns) {
      for (const hop of run.hops ?? []) for (const text of hopLines(hop)) {
        const key = hopKey(hop, text);
        let entry = entries.get(key);
        if (!entry) {
          entry = {
            id: key,
            client: run.client,
            family: hop.software.family,
            version: hop.software.version || null,
            hop: hop.role,
            error: hop.software.family,
            ...(hop.code ? { code: hop.code } : {}),
            message: text,
            pattern: normalizeMessage(stripFraming(text)),
            causes: [],
            outcome: run.outcome ?? { kind: 'ok', causes: [] },
            occurrences: [],
          };
          entries.set(key, entry);
        }
        // (Two lines of one run that read the same once normalised are one observation.)
        if (!entry.occurrences.some((o) => o.run === run.id && o.source === source)) entry.occurrences.push(occurrenceOf(res, run, source));
      }
    }
  });
  const list = [...entries.values()].sort((a, b) => (a.client < b.client ? -1 : a.client > b.client ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { schema: CATALOG_SCHEMA, sources, entries: list };
}
