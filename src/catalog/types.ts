// The error catalog's own types: the file data/error-catalog.json (docs/catalog.md) and the answers
// of matching a pasted error text against it. Contract: types only. What the catalog is built from
// is lab results, whose types are those of src/report/results.ts, used here as they are.

import type { Cause } from '../explain/causes.js';
import type { LadderSegment, OutcomeRecord, Role, TimelineEntry } from '../report/results.js';

/** What ended the connection as the client saw it: a RST cause, or a close without RST. */
export type WireCause = Cause | 'peer-closed' | 'silent';

/**
 * Is it safe to send the request again?
 * - safe: the request cannot have been processed (nothing listened, or it reached a socket that was already closed).
 * - idempotent-only: the peer may have acted on it; retry only requests that can be repeated (GET, PUT with the same body…).
 * - no: retrying as is will fail the same way; change something first.
 * - not-needed: the connection survived; the reset was ignored.
 */
export type RetrySafety = 'safe' | 'idempotent-only' | 'no' | 'not-needed';

export interface Advice {
  retry: RetrySafety;
  /** Why that retry rule holds, in one sentence. */
  retryWhy: string;
  /** What to change, most likely first. */
  change: string[];
}

// ---------------------------------------------------------------------------------------------
// The catalog file

export interface WireEvent { role: Role | 'unknown'; frame: number; ms: number; cause?: Cause; beforeError: boolean | null }

/** What the wire showed in one run, reduced to who closed and who reset, when. */
export interface WireSignature {
  /** What ended the connection for the client: the first RST it received (one it must not ignore), else its own RST, else a FIN from the peer, else `silent`. */
  cause: WireCause;
  rsts: WireEvent[];
  fins: WireEvent[];
  /** The sequence in words: `SIGKILL server → server FIN → client data → server RST (reset-after-close) → client error`. */
  summary: string;
}

export interface CatalogOccurrence {
  scenario: string;
  /** The scenario's title. */
  title: string;
  claims: string[];
  run: string;
  status: 'ok' | 'mismatch';
  /** Index into `Catalog.sources`. */
  source: number;
  capture: string | null;
  wire: WireSignature;
  /** The run's ladder and timeline, so that `rstlab why` can draw it. */
  ladder: LadderSegment[];
  timeline: TimelineEntry[];
}

export interface CatalogEntry {
  /** Stable key: client, error name, code and the message's normalised form, then its cause chain's
   *  (for a hop's report: `hop:<role>:<family>`, its code and its lines' normalised form). */
  id: string;
  /** The lab client of the runs (for a hop's entry: the client whose request the hop carried). */
  client: string;
  /** The software that printed the error, as a person names it: `node`, `okhttp`, `python`,
   *  `curl`, `go-net-http`, `nginx`, `haproxy`… (RunRecord.software, else the client's name). */
  family: string;
  /** Its version as it reported it, or null when the run did not say. */
  version: string | null;
  /** Present when the error is a hop's own report (a proxy's error.log line, a server's log), not the client's. */
  hop?: Role;
  error: string;
  code?: string;
  /** One message as the library printed it (from the first run that reported it). */
  message: string;
  /** The message normalised: addresses, numbers, hex and Connection{…} contents replaced. */
  pattern: string;
  /** That run's cause chain, outermost first. */
  causes: Array<{ error: string; code?: string; message: string; relation?: string }>;
  /** The outcome as reported by the first run (for drawing the client's event on a ladder). */
  outcome: OutcomeRecord;
  occurrences: CatalogOccurrence[];
}

/** The schema id of the catalog file; a file with another id is refused (load.ts). */
export const CATALOG_SCHEMA = 'rstlab-catalog/3';

export interface Catalog {
  schema: typeof CATALOG_SCHEMA;
  /** The lab runs it was built from. */
  sources: Array<{ startedAt: string; kernel: string; mode: string; runs: number }>;
  entries: CatalogEntry[];
}

// ---------------------------------------------------------------------------------------------
// Matching answers

export interface Match {
  entry: CatalogEntry;
  /** 0..1 */
  score: number;
  /** What matched: `message 97%`, `class java.io.IOException`, `code ECONNRESET`, `condition: …`, `synonym: …`. */
  reasons: string[];
}

export interface CauseHit { entry: CatalogEntry; occurrence: CatalogOccurrence; score: number }

export interface CauseMatch {
  cause: WireCause;
  /** The cause's title and meaning (advice.ts). */
  title: string;
  meaning: string;
  /** Sum of the matching runs' scores. */
  score: number;
  /** This cause's part of all matching runs' scores, 0..1. */
  share: number;
  /** Matching runs, best first (ok runs before mismatched ones). */
  hits: CauseHit[];
  /** Scenario ids, in order of first hit. */
  scenarios: string[];
  /** What to do about it (advice.ts). */
  advice: Advice;
}

/** Everything `rstlab why` says about one pasted text (match.ts `answerWhy`). */
export interface WhyAnswer {
  query: string;
  /** The text without its log framing (shapes.ts stripFraming): what was matched. */
  stripped: string;
  /** The software that printed the pasted text, from its shape; null when nothing tells. */
  family: { family: string; shape: string } | null;
  /** What happened to the connection as the text words it; null when it names nothing known. */
  condition: { condition: string; title: string; because: string } | null;
  /** Set when the text is no TCP event at all: what it is instead; matches and causes are then empty. */
  notTcp: { what: string; instead: string } | null;
  /** Documented wording synonyms that applied (shapes.ts WORDING_SYNONYMS), as notes. */
  synonyms: string[];
  matches: Match[];
  causes: CauseMatch[];
  /** The family of the best match, and whether it is the pasted text's own. */
  matchFamily: string | null;
  sameFamily: boolean;
}
