// Go's encoding/json, as Toxiproxy's handlers see a request body, so rstlab proxy accepts and
// rejects the same bodies with the same words. Contract (pure, no I/O):
// - readGoJson(text) reads ONE JSON value the way json.Decoder.Decode does: leading whitespace is
//   skipped, whatever follows the value is ignored, an empty body is `EOF`, a body cut inside a
//   value is `unexpected EOF`, and a syntax error is Go's SyntaxError text (`invalid character 'x'
//   looking for beginning of value`, …). Numbers keep their literal text, because Go decides by
//   the literal whether a number fits an int64 field (`1.0` does not).
// - decodeStruct(value, spec, into) decodes an object into named fields as Go does: keys match
//   field names exactly or else case-insensitively, the last duplicate wins, unknown keys and
//   nulls are ignored, and a value of the wrong type is reported as Go's UnmarshalTypeError
//   (`json: cannot unmarshal string into Go struct field Proxy.name of type string`) while the
//   other fields are still decoded (the first such error is the one reported).
// Errors are GoJsonError (message = Go's text); callers prefix Toxiproxy's `bad request body: `.

import { RstlabError } from '../errors.js';

export type GoValue =
  | { kind: 'null' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'number'; raw: string }
  | { kind: 'string'; value: string }
  | { kind: 'array'; items: GoValue[] }
  | { kind: 'object'; entries: Array<[string, GoValue]> };

export class GoJsonError extends RstlabError {
  readonly code = 'ERR_GO_JSON';
}

/** Go's quoteChar: how a byte is shown in a SyntaxError. */
function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  const esc: Record<number, string> = { 0x07: '\\a', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x0b: '\\v', 0x5c: '\\\\' };
  if (esc[c]) return `'${esc[c]}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  if (c >= 0x80 && c < 0xa0) return `'\\u00${c.toString(16)}'`;
  if (c === 0xad) return `'\\u00ad'`;
  return `'${String.fromCharCode(c)}'`;
}

class Unexpected extends Error {}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** Read the first JSON value of `text` as json.Decoder.Decode reads it. */
export function readGoJson(text: string | Uint8Array): GoValue {
  const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
  let i = 0;
  const syntax = (c: number, ctx: string): never => { throw new GoJsonError(`invalid character ${quoteChar(c)} ${ctx}`); };
  const peek = (): number => { if (i >= b.length) throw new Unexpected(); return b[i]; };
  const skip = () => { while (i < b.length && isSpace(b[i])) i++; };

  const literal = (word: string, value: GoValue): GoValue => {
    for (let k = 1; k < word.length; k++) {
      i++;
      const c = peek();
      if (c !== word.charCodeAt(k)) syntax(c, `in literal ${word} (expecting '${word[k]}')`);
    }
    i++;
    return value;
  };

  const number = (top: boolean): GoValue => {
    const start = i;
    const more = () => i < b.length;
    const needMore = () => { if (!more()) { if (top) return false; throw new Unexpected(); } return true; };
    if (b[i] === 0x2d) {
      i++;
      if (!more()) throw new Unexpected();
      if (!isDigit(b[i])) syntax(b[i], 'in numeric literal');
    }
    if (b[i] === 0x30) i++;
    else while (more() && isDigit(b[i])) i++;
    if (more() && b[i] === 0x2e) {
      i++;
      if (!more()) throw new Unexpected();
      if (!isDigit(b[i])) syntax(b[i], 'after decimal point in numeric literal');
      while (more() && isDigit(b[i])) i++;
    }
    if (more() && (b[i] === 0x65 || b[i] === 0x45)) {
      i++;
      if (!more()) throw new Unexpected();
      if (b[i] === 0x2b || b[i] === 0x2d) { i++; if (!more()) throw new Unexpected(); }
      if (!isDigit(b[i])) syntax(b[i], 'in exponent of numeric literal');
      while (more() && isDigit(b[i])) i++;
    }
    // Inside a container the number's end must be seen; at the top it may end the body.
    if (!top) needMore();
    return { kind: 'number', raw: b.subarray(start, i).toString('latin1') };
  };

  const string = (): string => {
    i++; // opening quote
    const out: number[] = [];
    for (;;) {
      const c = peek();
      if (c === 0x22) { i++; break; }
      if (c === 0x5c) {
        i++;
        const e = peek();
        const simple: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9 };
        if (e in simple) { out.push(simple[e]); i++; continue; }
        if (e !== 0x75) syntax(e, 'in string escape code');
        i++;
        let code = 0;
        for (let k = 0; k < 4; k++) {
          const h = peek();
          if (!isHex(h)) syntax(h, 'in \\u hexadecimal character escape');
          code = code * 16 + parseInt(String.fromCharCode(h), 16);
          i++;
        }
        out.push(...Buffer.from(String.fromCharCode(code), 'utf8'));
        continue;
      }
      if (c < 0x20) syntax(c, 'in string literal');
      out.push(c);
      i++;
    }
    return Buffer.from(out).toString('utf8');
  };

  const value = (top: boolean): GoValue => {
    skip();
    const c = peek();
    switch (c) {
      case 0x7b: { // {
        i++;
        const entries: Array<[string, GoValue]> = [];
        skip();
        if (peek() === 0x7d) { i++; return { kind: 'object', entries }; }
        for (;;) {
          skip();
          const k = peek();
          if (k !== 0x22) syntax(k, 'looking for beginning of object key string');
          const key = string();
          skip();
          const colon = peek();
          if (colon !== 0x3a) syntax(colon, 'after object key');
          i++;
          entries.push([key, value(false)]);
          skip();
          const sep = peek();
          if (sep === 0x2c) { i++; continue; }
          if (sep === 0x7d) { i++; return { kind: 'object', entries }; }
          syntax(sep, 'after object key:value pair');
        }
      }
      // falls through (unreachable)
      case 0x5b: { // [
        i++;
        const items: GoValue[] = [];
        skip();
        if (peek() === 0x5d) { i++; return { kind: 'array', items }; }
        for (;;) {
          items.push(value(false));
          skip();
          const sep = peek();
          if (sep === 0x2c) { i++; continue; }
          if (sep === 0x5d) { i++; return { kind: 'array', items }; }
          syntax(sep, 'after array element');
        }
      }
      // falls through (unreachable)
      case 0x22: return { kind: 'string', value: string() };
      case 0x74: return literal('true', { kind: 'bool', value: true });
      case 0x66: return literal('false', { kind: 'bool', value: false });
      case 0x6e: return literal('null', { kind: 'null' });
      default:
        if (c === 0x2d || isDigit(c)) return number(top);
        return syntax(c, 'looking for beginning of value');
    }
  };

  skip();
  if (i >= b.length) throw new GoJsonError('EOF');
  try {
    return value(true);
  } catch (e) {
    if (e instanceof Unexpected) throw new GoJsonError('unexpected EOF');
    throw e;
  }
}

/** The JSON kind as Go names it in an UnmarshalTypeError. */
const kindName = (v: GoValue): string => (v.kind === 'bool' ? 'bool' : v.kind);

/** A Go field type: what JSON it accepts and how the value comes out. */
export type GoFieldType = 'string' | 'bool' | 'int64' | 'int' | 'float32' | 'float64';

export type GoField =
  | { /** The json tag name. */ name: string; type: GoFieldType }
  /** A struct (or an interface holding a pointer to one): an object, decoded field by field. */
  | { name: string; type: 'struct'; struct: GoStructSpec };

export interface GoStructSpec {
  /** reflect.Type.Name() of the struct holding the fields ('' for an anonymous struct). */
  structName: string;
  /** reflect.Type.String() of the struct, for a value that is not an object. */
  typeString: string;
  fields: readonly GoField[];
}

/** Collects the first type error, as Go's decodeState.saveError does. */
export class TypeErrors {
  first: GoJsonError | null = null;
  save(message: string): void { this.first ??= new GoJsonError(message); }
  throwIfAny(): void { if (this.first) throw this.first; }
}

function typeError(errs: TypeErrors, value: string, type: string, struct?: string, field?: string): void {
  errs.save(struct !== undefined
    ? `json: cannot unmarshal ${value} into Go struct field ${struct}.${field} of type ${type}`
    : `json: cannot unmarshal ${value} into Go value of type ${type}`);
}

function float32Repr(x: number): number {
  const f = Math.fround(x);
  for (let p = 1; p <= 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return s;
  }
  return f;
}

/** Decode one scalar into a field type; undefined when it does not fit (the type error is saved). */
function decodeScalar(v: GoValue, type: GoFieldType, errs: TypeErrors, struct: string | undefined, field: string | undefined): number | string | boolean | undefined {
  const fail = (value: string) => { typeError(errs, value, type, struct, field); return undefined; };
  switch (type) {
    case 'string': return v.kind === 'string' ? v.value : fail(kindName(v));
    case 'bool': return v.kind === 'bool' ? v.value : fail(kindName(v));
    case 'int64':
    case 'int': {
      if (v.kind !== 'number') return fail(kindName(v));
      if (!/^-?\d+$/.test(v.raw)) return fail(`number ${v.raw}`);
      const n = BigInt(v.raw);
      if (n > 9223372036854775807n || n < -9223372036854775808n) return fail(`number ${v.raw}`);
      return Number(n);
    }
    case 'float32':
    case 'float64': {
      if (v.kind !== 'number') return fail(kindName(v));
      const x = Number(v.raw);
      const max = type === 'float32' ? 3.4028234663852886e38 : Number.MAX_VALUE;
      if (!Number.isFinite(x) || Math.abs(x) > max) return fail(`number ${v.raw}`);
      return type === 'float32' ? float32Repr(x) : x;
    }
  }
}

/** The entries of an object that map to each field (Go: exact name first, else case-insensitive; last wins). */
export function fieldEntries(v: Extract<GoValue, { kind: 'object' }>, names: readonly string[]): Map<string, GoValue> {
  const out = new Map<string, GoValue>();
  for (const [key, val] of v.entries) {
    const name = names.includes(key) ? key : names.find((n) => n.toLowerCase() === key.toLowerCase());
    if (name !== undefined) out.set(name, val);
  }
  return out;
}

export type GoDecoded = { [field: string]: number | string | boolean | GoDecoded };

/**
 * Decode `v` into a struct: returns the decoded fields (a field absent, null or of the wrong type
 * is left out; a struct field is its own record). Keys are taken in the order the body has them,
 * so the first type error is the one Go reports. A non-object value is a type error of the whole
 * struct (`null` decodes to nothing). `path` is the field path of the struct inside its parent
 * struct named `parent` (Go ≥ 1.20 reports the full path).
 */
export function decodeStruct(v: GoValue, spec: GoStructSpec, errs: TypeErrors, path: string[] = [], parent?: string): GoDecoded {
  const out: GoDecoded = {};
  if (v.kind === 'null') return out;
  if (v.kind !== 'object') {
    typeError(errs, kindName(v), spec.typeString, path.length ? parent ?? '' : undefined, path.length ? path.join('.') : undefined);
    return out;
  }
  const names = spec.fields.map((f) => f.name);
  for (const [key, val] of v.entries) {
    const name = names.includes(key) ? key : names.find((n) => n.toLowerCase() === key.toLowerCase());
    const f = spec.fields.find((x) => x.name === name);
    if (!f || val.kind === 'null') continue;
    if (f.type === 'struct') {
      const inner = decodeStruct(val, f.struct, errs, [...path, f.name], spec.structName);
      out[f.name] = { ...(out[f.name] as GoDecoded | undefined), ...inner };
      continue;
    }
    const decoded = decodeScalar(val, f.type, errs, spec.structName, [...path, f.name].join('.'));
    if (decoded !== undefined) out[f.name] = decoded;
  }
  return out;
}

/** Go's reflect string of a named toxic struct, e.g. `toxics.LatencyToxic`. */
export const toxicTypeString = (structName: string): string => `toxics.${structName}`;
