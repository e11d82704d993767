// The toxic catalogue: every toxic type rstlab proxy knows, its attributes with defaults, and the
// parsing of Toxiproxy's create/update bodies into a ToxicJson (pure: no I/O). Toxiproxy's own
// toxics keep Toxiproxy's attribute names, units and Go struct (their bodies decode as Go decodes
// them, go-json.ts, with Go's error words, in AddToxicJson's order of checks); rstlab's reset
// faults are documented in docs/proxy.md with the seed claim each imitates. A body is either a
// GoBody (read by the API as Go reads it) or a plain JS value (Node callers), decoded alike.

import { badRequestBody, invalidStream, invalidToxicType, toxicAlreadyExists, toxicNotFound } from './api-error.js';
import { decodeStruct, fieldEntries, GoJsonError, toxicTypeString, TypeErrors, type GoStructSpec, type GoValue } from './go-json.js';
import type { Attributes, StreamName, ToxicJson } from './types.js';

export interface AttributeDef {
  name: string;
  kind: 'int' | 'enum';
  /** For Toxiproxy's toxics: the Go type of the struct field (int64 unless said). */
  goType?: 'int64' | 'int';
  default: number | string;
  values?: readonly string[];
  doc: string;
}

export interface ToxicDef {
  type: string;
  origin: 'toxiproxy' | 'rstlab';
  /** For Toxiproxy's toxics: the Go struct its attributes decode into (named in Go's errors). */
  goStruct?: string;
  /** Connection-level toxics act on the whole connection; `stream` is kept but not used. */
  scope: 'stream' | 'connection';
  attributes: readonly AttributeDef[];
  summary: string;
  /** Seed claim ids (docs/seed-claims.md) the fault imitates. */
  claims?: readonly string[];
}

const int = (name: string, doc: string, dflt = 0): AttributeDef => ({ name, kind: 'int', default: dflt, doc });
/** A Go `int` field (Toxiproxy's slicer); others are int64. */
const goInt = (name: string, doc: string): AttributeDef => ({ name, kind: 'int', goType: 'int', default: 0, doc });

const CATALOGUE = [
  { type: 'noop', origin: 'toxiproxy', goStruct: 'NoopToxic', scope: 'stream', summary: 'pass the data unchanged',
    attributes: [] },
  { type: 'latency', origin: 'toxiproxy', goStruct: 'LatencyToxic', scope: 'stream', summary: 'delay every chunk by latency +/- jitter',
    attributes: [int('latency', 'milliseconds'), int('jitter', 'milliseconds')] },
  { type: 'bandwidth', origin: 'toxiproxy', goStruct: 'BandwidthToxic', scope: 'stream', summary: 'limit the rate to `rate` KB/s',
    attributes: [int('rate', 'KB/s (1 KB = 1000 bytes); 0 stops the data')] },
  { type: 'slow_close', origin: 'toxiproxy', goStruct: 'SlowCloseToxic', scope: 'stream', summary: 'delay the close by `delay` ms',
    attributes: [int('delay', 'milliseconds')] },
  { type: 'timeout', origin: 'toxiproxy', goStruct: 'TimeoutToxic', scope: 'stream',
    summary: 'drop the data; close both sockets once no data came for `timeout` ms (0: never); removing the toxic closes them',
    attributes: [int('timeout', 'milliseconds')] },
  { type: 'reset_peer', origin: 'toxiproxy', goStruct: 'ResetToxic', scope: 'stream',
    summary: 'on the first data in the stream, wait `timeout` ms, then RST both sockets',
    attributes: [int('timeout', 'milliseconds')], claims: ['C5.1'] },
  { type: 'slicer', origin: 'toxiproxy', goStruct: 'SlicerToxic', scope: 'stream', summary: 'slice chunks into ~average_size pieces',
    attributes: [goInt('average_size', 'bytes'), goInt('size_variation', 'bytes'), goInt('delay', 'microseconds between pieces')] },
  { type: 'limit_data', origin: 'toxiproxy', goStruct: 'LimitDataToxic', scope: 'stream', summary: 'pass `bytes` bytes, then close both sockets',
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

/** A request body already read as Go reads it (the API's path); anything else is a JS value (Node callers). */
export class GoBody {
  constructor(readonly value: GoValue) {}
}

/** A JS value as the GoValue Go's decoder would have read from its JSON text. */
export function fromJs(v: unknown): GoValue {
  if (v === null || v === undefined) return { kind: 'null' };
  if (typeof v === 'boolean') return { kind: 'bool', value: v };
  if (typeof v === 'number') return Number.isFinite(v) ? { kind: 'number', raw: String(v) } : { kind: 'null' };
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (Array.isArray(v)) return { kind: 'array', items: v.map(fromJs) };
  if (typeof v === 'object') return { kind: 'object', entries: Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).map(([k, x]) => [k, fromJs(x)]) };
  return { kind: 'null' };
}

export const goValueOf = (body: unknown): GoValue => (body instanceof GoBody ? body.value : fromJs(body));

/** A GoValue as a plain JS value (numbers from their literal). */
export function toJs(v: GoValue): unknown {
  switch (v.kind) {
    case 'null': return null;
    case 'bool': case 'string': return v.value;
    case 'number': return Number(v.raw);
    case 'array': return v.items.map(toJs);
    case 'object': return Object.fromEntries(v.entries.map(([k, x]) => [k, toJs(x)]));
  }
}

/** The direction a toxic acts on. Toxiproxy matches the stream name case-insensitively and keeps it as given. */
export function streamDir(t: Pick<ToxicJson, 'stream'>): StreamName {
  return t.stream.toLowerCase() === 'upstream' ? 'upstream' : 'downstream';
}

/** Decode `bad request body: <Go's message>` errors. */
function goDecode<T>(fn: (errs: TypeErrors) => T): T {
  const errs = new TypeErrors();
  let out: T;
  try { out = fn(errs); errs.throwIfAny(); } catch (e) {
    if (e instanceof GoJsonError) throw badRequestBody(e.message);
    throw e;
  }
  return out;
}

/** Decode one rstlab attribute (rstlab's own toxics: non-negative integers, enums). */
function decodeRstlabAttribute(type: string, def: AttributeDef, value: unknown): number | string {
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

/**
 * The attributes of a toxic, decoded onto `base`. Toxiproxy's toxics decode as Go decodes into
 * their struct (int64/int fields, negative values allowed, Go's type errors); rstlab's check their
 * own rules. `path`/`parent` name the field for Go's error text.
 */
function decodeAttributes(def: ToxicDef, input: GoValue, base: Attributes, errs: TypeErrors, parent: string): Attributes {
  const out: Attributes = { ...base };
  if (def.goStruct !== undefined) {
    Object.assign(out, decodeStruct(input, goStructOf(def), errs, ['attributes'], parent));
    return out;
  }
  if (input.kind === 'null') return out;
  if (input.kind !== 'object') throw badRequestBody('attributes must be a JSON object');
  const given = fieldEntries(input, def.attributes.map((a) => a.name));
  for (const a of def.attributes) {
    const v = given.get(a.name);
    if (v !== undefined && v.kind !== 'null') out[a.name] = decodeRstlabAttribute(def.type, a, toJs(v));
  }
  return out;
}

/** The Go struct a Toxiproxy toxic's attributes decode into (an rstlab toxic: no fields). */
function goStructOf(def: ToxicDef): GoStructSpec {
  const name = def.goStruct ?? 'NoopToxic';
  return { structName: name, typeString: toxicTypeString(name),
    fields: def.goStruct === undefined ? [] : def.attributes.map((a) => ({ name: a.name, type: a.goType ?? 'int64' })) };
}

/** Toxiproxy's ToxicWrapper as AddToxicJson first decodes it: the attributes land in a NoopToxic. */
const WRAPPER: GoStructSpec = {
  structName: 'ToxicWrapper', typeString: 'toxics.ToxicWrapper',
  fields: [{ name: 'attributes', type: 'struct', struct: { structName: 'NoopToxic', typeString: 'toxics.NoopToxic', fields: [] } },
    { name: 'name', type: 'string' }, { name: 'type', type: 'string' }, { name: 'stream', type: 'string' }, { name: 'toxicity', type: 'float32' }],
};

/** UpdateToxicJson's anonymous struct: the attributes decode into the toxic's own struct. */
const updateSpec = (def: ToxicDef): GoStructSpec => ({
  structName: '', typeString: 'struct { Attributes interface {} "json:\\"attributes\\""; Toxicity float32 "json:\\"toxicity\\"" }',
  fields: def.goStruct === undefined ? [{ name: 'toxicity', type: 'float32' }]
    : [{ name: 'attributes', type: 'struct', struct: goStructOf(def) }, { name: 'toxicity', type: 'float32' }],
});

/**
 * A new toxic from a create body, in Toxiproxy's order of checks (toxic_collection.go
 * AddToxicJson): the body as Go decodes it into a ToxicWrapper, the stream (upstream or
 * downstream, any case), the default name `<type>_<stream>`, the type, then the duplicate name,
 * then the attributes decoded into the toxic's own struct.
 */
export function parseToxicCreate(body: unknown, exists: (name: string) => boolean): ToxicJson {
  const v = goValueOf(body);
  const w = goDecode((errs) => decodeStruct(v, WRAPPER, errs));
  const stream = typeof w.stream === 'string' ? w.stream : 'downstream';
  const lower = stream.toLowerCase();
  if (lower !== 'upstream' && lower !== 'downstream') throw invalidStream();
  const type = typeof w.type === 'string' ? w.type : '';
  const name = typeof w.name === 'string' && w.name !== '' ? w.name : `${type}_${stream}`;
  const def = toxicDef(type);
  if (!def) throw invalidToxicType();
  if (exists(name)) throw toxicAlreadyExists();
  const defaults: Attributes = Object.fromEntries(def.attributes.map((a) => [a.name, a.default]));
  const attrsIn = v.kind === 'object' ? fieldEntries(v, ['attributes']).get('attributes') ?? { kind: 'null' as const } : { kind: 'null' as const };
  // The second decode: `struct { Attributes interface{} }` holding the toxic's own struct.
  const attributes = goDecode((errs) => decodeAttributes(def, attrsIn, defaults, errs, ''));
  const toxicity = typeof w.toxicity === 'number' ? w.toxicity : 1;
  return { attributes, name, type, stream, toxicity };
}

/** An updated toxic: attributes decode onto the old ones, toxicity defaults to the old one; name, type, stream stay. */
export function parseToxicUpdate(old: ToxicJson | undefined, body: unknown): ToxicJson {
  if (!old) throw toxicNotFound();
  const def = toxicDef(old.type);
  if (!def) throw invalidToxicType();
  const v = goValueOf(body);
  return goDecode((errs) => {
    const fields = decodeStruct(v, updateSpec(def), errs);
    let attributes = old.attributes;
    const attrsIn = v.kind === 'object' ? fieldEntries(v, ['attributes']).get('attributes') : undefined;
    if (def.goStruct !== undefined) attributes = { ...old.attributes, ...(fields.attributes as Attributes | undefined) };
    else if (attrsIn && attrsIn.kind !== 'null') attributes = decodeAttributes(def, attrsIn, old.attributes, errs, '');
    return { attributes, name: old.name, type: old.type, stream: old.stream, toxicity: typeof fields.toxicity === 'number' ? fields.toxicity : old.toxicity };
  });
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
