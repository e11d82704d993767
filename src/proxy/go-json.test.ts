// Go's encoding/json as Toxiproxy decodes request bodies: one value read like json.Decoder.Decode,
// Go's SyntaxError and UnmarshalTypeError texts, and its field matching rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeStruct, readGoJson, TypeErrors, type GoStructSpec } from './go-json.js';

const syntaxError = (text: string): string => {
  try { readGoJson(text); } catch (e) { return (e as Error).message; }
  return 'no error';
};

test('syntax errors in Go\'s words; an empty body is EOF, a cut one unexpected EOF', () => {
  const cases: Array<[string, string]> = [
    ['', 'EOF'],
    ['  \n\t', 'EOF'],
    ['{', 'unexpected EOF'],
    ['{"a": 1', 'unexpected EOF'],
    ['[1', 'unexpected EOF'],
    ['"abc', 'unexpected EOF'],
    ['tru', 'unexpected EOF'],
    ['-', 'unexpected EOF'],
    ['x', "invalid character 'x' looking for beginning of value"],
    ['not json', "invalid character 'o' in literal null (expecting 'u')"],
    ['trUe', "invalid character 'U' in literal true (expecting 'u')"],
    ['{a: 1}', "invalid character 'a' looking for beginning of object key string"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a": 1 "b": 2}', "invalid character '\"' after object key:value pair"],
    ['[1 2]', "invalid character '2' after array element"],
    ['[1,]', "invalid character ']' looking for beginning of value"],
    ['{"a": -x}', "invalid character 'x' in numeric literal"],
    ['{"a": 1.}', "invalid character '}' after decimal point in numeric literal"],
    ['{"a": 1e}', "invalid character '}' in exponent of numeric literal"],
    ['[01]', "invalid character '1' after array element"],
    ['"a\\qb"', "invalid character 'q' in string escape code"],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
    ['"a\tb"', "invalid character '\\t' in string literal"],
    ["{'a': 1}", "invalid character '\\'' looking for beginning of object key string"],
    ['\u00e9', "invalid character 'Ã' looking for beginning of value"],
  ];
  for (const [text, message] of cases) assert.equal(syntaxError(text), message, JSON.stringify(text));
});

test('one value is read and the rest ignored, as json.Decoder does; numbers keep their literal', () => {
  assert.deepEqual(readGoJson('{"a": 1} garbage'), { kind: 'object', entries: [['a', { kind: 'number', raw: '1' }]] });
  assert.deepEqual(readGoJson('0123'), { kind: 'number', raw: '0' });
  assert.deepEqual(readGoJson('[1.50, -2e3]'), { kind: 'array', items: [{ kind: 'number', raw: '1.50' }, { kind: 'number', raw: '-2e3' }] });
  assert.deepEqual(readGoJson('"\\u00e9\\n"'), { kind: 'string', value: 'é\n' });
});

const PROXY: GoStructSpec = {
  structName: 'Proxy', typeString: 'toxiproxy.Proxy',
  fields: [{ name: 'name', type: 'string' }, { name: 'enabled', type: 'bool' }, { name: 'n', type: 'int64' }, { name: 'f', type: 'float32' }],
};

function decode(text: string): { out: Record<string, unknown>; error: string | undefined } {
  const errs = new TypeErrors();
  const out = decodeStruct(readGoJson(text), PROXY, errs);
  return { out, error: errs.first?.message };
}

test('struct fields: exact or case-insensitive keys, the last one wins, nulls and unknown keys ignored', () => {
  assert.deepEqual(decode('{"NAME": "a", "name": "b", "Enabled": true, "other": 1, "n": null}'), { out: { name: 'b', enabled: true }, error: undefined });
  assert.deepEqual(decode('null'), { out: {}, error: undefined });
});

test('type errors in Go\'s words; the first is reported, the other fields still decode', () => {
  assert.deepEqual(decode('{"name": 5, "enabled": "x", "n": 3}'),
    { out: { n: 3 }, error: 'json: cannot unmarshal number into Go struct field Proxy.name of type string' });
  assert.equal(decode('{"n": 1.5}').error, 'json: cannot unmarshal number 1.5 into Go struct field Proxy.n of type int64');
  assert.equal(decode('{"n": 1e3}').error, 'json: cannot unmarshal number 1e3 into Go struct field Proxy.n of type int64');
  assert.equal(decode('{"n": 9223372036854775808}').error, 'json: cannot unmarshal number 9223372036854775808 into Go struct field Proxy.n of type int64');
  assert.deepEqual(decode('{"n": -9223372036854775808}').out, { n: -9223372036854776000 });
  assert.equal(decode('{"f": 1e39}').error, 'json: cannot unmarshal number 1e39 into Go struct field Proxy.f of type float32');
  assert.equal(decode('{"name": [1]}').error, 'json: cannot unmarshal array into Go struct field Proxy.name of type string');
  assert.equal(decode('"x"').error, 'json: cannot unmarshal string into Go value of type toxiproxy.Proxy');
});

test('float32 fields come out as Go prints a float32', () => {
  assert.deepEqual(decode('{"f": 0.2}').out, { f: 0.2 });
  assert.deepEqual(decode('{"f": 0.1234567891}').out, { f: 0.12345679 });
  assert.deepEqual(decode('{"f": 1}').out, { f: 1 });
});

test('the first type error in the body\'s own order is the one reported, nested struct fields included', () => {
  const spec: GoStructSpec = {
    structName: '', typeString: 'struct {}',
    fields: [{ name: 'attributes', type: 'struct', struct: { structName: 'LatencyToxic', typeString: 'toxics.LatencyToxic', fields: [{ name: 'latency', type: 'int64' }] } },
      { name: 'toxicity', type: 'float32' }],
  };
  const first = (text: string) => { const errs = new TypeErrors(); decodeStruct(readGoJson(text), spec, errs); return errs.first?.message; };
  assert.equal(first('{"toxicity": "x", "attributes": {"latency": "y"}}'), 'json: cannot unmarshal string into Go struct field .toxicity of type float32');
  assert.equal(first('{"attributes": {"latency": "y"}, "toxicity": "x"}'), 'json: cannot unmarshal string into Go struct field LatencyToxic.attributes.latency of type int64');
  assert.equal(first('{"attributes": 5}'), 'json: cannot unmarshal number into Go struct field .attributes of type toxics.LatencyToxic');
});
