// The toxic catalogue: every toxic type rstlab proxy knows, its attributes with defaults, and the
// parsing of Toxiproxy's create/update bodies into a ToxicJson (pure: no I/O). Toxiproxy's own
// toxics keep Toxiproxy's attribute names and units; rstlab's reset faults are documented in
// docs/proxy.md with the seed claim each imitates.

import { badRequestBody, invalidStream, invalidToxicType, toxicAlreadyExists, toxicNotFound } from './api-error.js';
import type { Attributes, StreamName, ToxicJson } from './types.js';

export interface AttributeDef {
  name: string;
  kind: 'int' | 'enum';
  default: number | string;
  values?: readonly string[];
  doc: string;
}

export interface ToxicDef {
  type: string;
  origin: 'toxiproxy' | 'rstlab';
  /** Connection-level toxics act on the whole connection; `stream` is kept but not used. */
  scope: 'stream' | 'connection';
  attributes: readonly AttributeDef[];
  summary: string;
  /** Seed claim ids (docs/seed-claims.md) the fault imitates. */
  claims?: readonly string[];
}

const int = (name: string, doc: string, dflt = 0): AttributeDef => ({ name, kind: 'int', default: dflt, doc });

const CATALOGUE = [
  { type: 'latency', origin: 'toxiproxy', scope: 'stream', summary: 'delay every chunk by latency +/- jitter',
    attributes: [int('latency', 'milliseconds'), int('jitter', 'milliseconds')] },
  { type: 'bandwidth', origin: 'toxiproxy', scope: 'stream', summary: 'limit the rate to `rate` KB/s',
    attributes: [int('rate', 'KB/s (1 KB = 1000 bytes); 0 stops the data')] },
  { type: 'slow_close', origin: 'toxiproxy', scope: 'stream', summary: 'delay the close by `delay` ms',
    attributes: [int('delay', 'milliseconds')] },
  { type: 'timeout', origin: 'toxiproxy', scope: 'stream',
    summary: 'drop the data; close both sockets after `timeout` ms (0: never); removing the toxic closes them',
    attributes: [int('timeout', 'milliseconds')] },
  { type: 'reset_peer', origin: 'toxiproxy', scope: 'stream',
    summary: 'on the first data in the stream, wait `timeout` ms, then RST both sockets',
    attributes: [int('timeout', 'milliseconds')], claims: ['C5.1'] },
  { type: 'slicer', origin: 'toxiproxy', scope: 'stream', summary: 'slice chunks into ~average_size pieces',
    attributes: [int('average_size', 'bytes'), int('size_variation', 'bytes'), int('delay', 'microseconds between pieces')] },
  { type: 'limit_data', origin: 'toxiproxy', scope: 'stream', summary: 'pass `bytes` bytes, then close both sockets',
    attributes: [int('bytes', 'bytes')] },
  // rstlab's reset faults.
  { type: 'reset_connect', origin: 'rstlab', scope: 'connection',
    summary: 'accept the connection, never dial upstream, then RST it after `delay` ms',
    attributes: [int('delay', 'milliseconds after accept')], claims: ['C3.1', 'C5.1'] },
  { type: 'fin_then_rst', origin: 'rstlab', scope: 'connection',
    summary: 'the killed proxy: `delay` ms after the connection is set up, close both sockets (FIN); the kernel answers the next data with RST',
    attributes: [int('delay', 'milliseconds after the upstream connection is set up')],
    claims: ['C2a.1', 'C2a.4', 'C2a.6', 'C2.0'] },
  { type: 'reset_after_bytes', origin: 'rstlab', scope: 'stream',
    summary: 'relay exactly `bytes` bytes in the stream, then RST both sockets',
    attributes: [int('bytes', 'bytes relayed in the stream before the reset')], claims: ['C5.1'] },
  { type: 'abort_mid_response', origin: 'rstlab', scope: 'connection',
    summary: 'after the client sent a request, relay `bytes` bytes of the reply, drop the rest and close the client (rst: abortive; fin: killed server)',
    attributes: [int('bytes', 'reply bytes relayed before the abort', 1),
      { name: 'mode', kind: 'enum', default: 'rst', values: ['rst', 'fin'], doc: 'rst (abortive close) or fin (killed server, empty receive queue)' }],
    claims: ['C2b.3', 'C2b.4', 'C5.1'] },
  { type: 'close_unread', origin: 'rstlab', scope: 'connection',
    summary: 'accept but never read; close(2) after `delay` ms: Linux sends RST if the client sent anything (data_was_unread), else FIN',
    attributes: [int('delay', 'milliseconds after accept', 100)], claims: ['C2 open question: FIN or RST'] },
  { type: 'half_close', origin: 'rstlab', scope: 'stream',
    summary: 'shutdown(SHUT_WR) toward the stream\'s receiver `delay` ms after the connection is set up; keep reading',
    attributes: [int('delay', 'milliseconds after the upstream connection is set up')], claims: ['C2a.5', 'C2a.6'] },
  { type: 'blackhole', origin: 'rstlab', scope: 'stream',
    summary: 'stop reading and forwarding the stream (the kernel window fills, the peer\'s timeouts fire); removing the toxic resumes',
    attributes: [], claims: ['C4.1'] },
  { type: 'kill', origin: 'rstlab', scope: 'connection',
    summary: 'drop every live connection like a crashed proxy: close(2) both sockets of each at once',
    attributes: [], claims: ['C2.0', 'C2a.6'] },
] as const satisfies readonly ToxicDef[];

export const TOXICS: readonly ToxicDef[] = CATALOGUE;

/** The name of every toxic type in TOXICS, as a union (the engine needs a factory for each). */
export type ToxicType = (typeof CATALOGUE)[number]['type'];

const byType = new Map(TOXICS.map((t) => [t.type, t]));

export function toxicDef(type: string): ToxicDef | undefined {
  return byType.get(type);
}

/** A JSON object (not null, not an array): the shape every request body and attribute set must have. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Decode one attribute the way Go's encoding/json decodes into an int64 field. */
function decodeAttribute(type: string, def: AttributeDef, value: unknown): number | string {
  if (def.kind === 'enum') {
    if (typeof value !== 'string' || !def.values?.includes(value)) {
      throw badRequestBody(`attribute ${type}.${def.name} must be one of ${def.values?.join(', ')}, got ${JSON.stringify(value)}`);
    }
    return value;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw badRequestBody(`attribute ${type}.${def.name} must be an integer, got ${JSON.stringify(value)}`);
  }
  if (value < 0) throw badRequestBody(`attribute ${type}.${def.name} must not be negative, got ${value}`);
  return value;
}

function decodeAttributes(def: ToxicDef, input: unknown, base: Attributes): Attributes {
  if (input === undefined || input === null) return { ...base };
  if (!isRecord(input)) throw badRequestBody('attributes must be a JSON object');
  const out: Attributes = { ...base };
  // Unknown attributes are ignored, as Go's decoder ignores unknown fields.
  for (const a of def.attributes) if (a.name in input) out[a.name] = decodeAttribute(def.type, a, input[a.name]);
  return out;
}

function decodeToxicity(v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequestBody(`toxicity must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * A new toxic from a create body, in Toxiproxy's order of checks (toxic_collection.go
 * AddToxicJson): body shape, stream, default name `<type>_<stream>`, type, then (by the caller)
 * the duplicate name, then the attributes.
 */
export function parseToxicCreate(body: unknown, exists: (name: string) => boolean): ToxicJson {
  if (!isRecord(body)) throw badRequestBody('expected a JSON object');
  const stream = body.stream === undefined || body.stream === '' ? 'downstream' : body.stream;
  if (stream !== 'upstream' && stream !== 'downstream') throw invalidStream();
  if (body.type !== undefined && typeof body.type !== 'string') throw badRequestBody('type must be a string');
  if (body.name !== undefined && body.name !== null && typeof body.name !== 'string') throw badRequestBody('name must be a string');
  const type = (body.type as string | undefined) ?? '';
  const name = typeof body.name === 'string' && body.name !== '' ? body.name : `${type}_${stream}`;
  const def = toxicDef(type);
  if (!def) throw invalidToxicType();
  if (exists(name)) throw toxicAlreadyExists();
  const defaults: Attributes = Object.fromEntries(def.attributes.map((a) => [a.name, a.default]));
  const attributes = decodeAttributes(def, body.attributes, defaults);
  const toxicity = decodeToxicity(body.toxicity, 1);
  return { attributes, name, type, stream: stream as StreamName, toxicity };
}

/** An updated toxic: attributes merge onto the old ones, toxicity defaults to the old one; name, type, stream stay. */
export function parseToxicUpdate(old: ToxicJson | undefined, body: unknown): ToxicJson {
  if (!old) throw toxicNotFound();
  if (!isRecord(body)) throw badRequestBody('expected a JSON object');
  const def = toxicDef(old.type);
  if (!def) throw invalidToxicType();
  return {
    attributes: decodeAttributes(def, body.attributes, old.attributes),
    name: old.name,
    type: old.type,
    stream: old.stream,
    toxicity: decodeToxicity(body.toxicity, old.toxicity),
  };
}

/** The attribute when it is of `kind`, else the catalogue's default when that is, else undefined. */
function attrOf(t: ToxicJson, name: string, kind: 'number' | 'string'): number | string | undefined {
  const v = t.attributes[name];
  if (typeof v === kind) return v;
  const d = toxicDef(t.type)?.attributes.find((a) => a.name === name)?.default;
  return typeof d === kind ? d : undefined;
}

/** Numeric attribute with its default, for the engine (0 when neither is a number). */
export function numAttr(t: ToxicJson, name: string): number {
  return (attrOf(t, name, 'number') as number | undefined) ?? 0;
}

/** String attribute with its default, for the engine ('' when neither is a string). */
export function strAttr(t: ToxicJson, name: string): string {
  return (attrOf(t, name, 'string') as string | undefined) ?? '';
}
