// The bpftrace counting program's output, as bpftrace printed it on this kernel
// (testdata/kernel-count/, README.md there says how), read back into counted kernel events; the
// reasons and states named from the tracepoint's own format.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { repoFile } from '../paths.js';
import { countProgram, countSymbols, parseCountLine, parseTotalLine } from './kernel-count.js';

const sym = countSymbols(readFileSync(repoFile('src/lab/testdata/trace-raw/tcp_send_reset.format'), 'utf8'));

test('the reasons and states of the tracepoint\'s print fmt', () => {
  assert.equal(sym.reasons.get(1), 'NO_SOCKET');
  assert.equal(sym.reasons.get(11), 'TCP_ABORT_ON_CLOSE');
  assert.equal(sym.states.get(7), 'TCP_CLOSE');
  assert.equal(sym.states.get(1), 'TCP_ESTABLISHED');
});

test('printed maps of a real run: each key once with its count, a masked peer port 0, a dual-stack socket by its IPv4 addresses', () => {
  const lines = readFileSync(repoFile('src/lab/testdata/kernel-count/bpftrace.out'), 'utf8').trim().split('\n');
  const events = lines.map((l) => parseCountLine(l, sym, 1000)).filter((e) => e !== null);
  const short = events.map((e) => (e.kind === 'send'
    ? ['send', e.src, e.dst, e.state, e.reason, e.count]
    : ['receive', e.local, e.remote, e.count]));
  assert.deepEqual(short, [
    ['send', '127.0.0.1:9', '127.0.0.1:0', 'UNKNOWN', 'NO_SOCKET', 1],
    ['send', '[::1]:9', '[::1]:0', 'UNKNOWN', 'NO_SOCKET', 1],
    ['receive', '127.0.0.1:40058', '127.0.0.1:9', 1],
    ['receive', '[::1]:33088', '[::1]:9', 1],
    ['send', '127.0.0.1:46413', '127.0.0.1:43200', 'TCP_CLOSE', 'TCP_ABORT_ON_CLOSE', 1],
    ['receive', '127.0.0.1:43200', '127.0.0.1:46413', 1],
    ['send', '127.0.0.1:39448', '127.0.0.1:45185', 'TCP_CLOSE', 'TCP_STATE', 1],
    // The dual-stack socket's receive event (AF_INET6, v4-mapped): its IPv4 addresses.
    ['receive', '127.0.0.1:45185', '127.0.0.1:39448', 1],
  ]);
  // No task is claimed: the owner comes from ss (see kernel-count.ts).
  assert.ok(events.every((e) => e.inIrq && e.ts === 1000 && e.pid === 0 && e.comm === '<...>'));
  const totals = lines.map(parseTotalLine).filter((n) => n !== null);
  assert.equal(totals.reduce((a, b) => a + b, 0), 8, 'the @n lines count every event');
  assert.equal(parseCountLine('@s0[1, 0, 2, 127.0.0.1, 9, 127.0.0.1, 0]: 0', sym, 0), null, 'a zero count is nothing');
  assert.equal(parseCountLine('@s0[1, 0, 2]: 5', sym, 0), null, 'a key of another shape is nothing');
  assert.equal(parseCountLine('Attaching 4 probes...', sym, 0), null);
});

test('the program filters on the ports asked for, at either end, in the kernel, and keeps the peer port of a reset to a closed port only when asked for', () => {
  const all = countProgram([]);
  assert.doesNotMatch(all, /\$sp ==|\$dp ==|args->sport ==/, 'no port filter');
  const some = countProgram([80, 8443]);
  assert.match(some, /if \(!\(\$sp == 80 \|\| \$sp == 8443 \|\| \$dp == 80 \|\| \$dp == 8443\)\) \{ return; \}/);
  assert.match(some, /\$rp = \(args->state != 0 \|\| \$dp == 80 \|\| \$dp == 8443\) \? \$dp : 0;/);
  assert.match(some, /if \(!\(args->sport == 80 \|\| args->sport == 8443 \|\| args->dport == 80 \|\| args->dport == 8443\)\) \{ return; \}/);
});
