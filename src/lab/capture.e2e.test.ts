// Tests for capture.ts with the real tcpdump: a loopback capture sees a real handshake (read back
// with tshark), a bad filter fails with tcpdump's own words and leaves no tcpdump behind, and a
// missing tcpdump is a MissingToolError. The netns capture is exercised in topology.e2e.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabError, MissingToolError } from '../errors.js';
import { findExecutable, liveChildren } from './proc.js';
import { startCapture } from './capture.js';
import { createTopology, newRunId } from './topology.js';

const NODE = process.execPath;
const SKIP = process.getuid?.() !== 0 ? 'capturing needs root' : findExecutable('tcpdump') ? false : 'tcpdump is not installed';

const SERVER = `
const net = require('net');
const srv = net.createServer((s) => { s.end('hi'); });
srv.listen(0, process.argv[1], () => console.log(JSON.stringify({ event: 'listening', port: srv.address().port })));
setTimeout(() => process.exit(0), 20000);
`;
const CLIENT = `
const net = require('net');
const s = net.connect({ host: process.argv[1], port: Number(process.argv[2]) });
s.on('data', (d) => console.log(JSON.stringify({ event: 'data', data: String(d) })));
s.on('close', () => { console.log(JSON.stringify({ event: 'closed' })); process.exit(0); });
s.on('error', (e) => console.log(JSON.stringify({ event: 'error', code: e.code })));
setTimeout(() => process.exit(2), 5000);
`;

test('loopback capture records a real connection and reports the packet count', { skip: SKIP }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rstlab-cap-'));
  const topo = await createTopology({ runId: `c${newRunId()}`, mode: 'loopback' });
  t.after(async () => {
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  const srv = topo.spawn('server', [NODE, '-e', SERVER, topo.hosts.server.ipv4]);
  const { port } = await srv.waitFor('listening', 5000);
  const file = join(dir, 'lo.pcap');
  const cap = await startCapture(topo, 'client', { file, filter: `tcp port ${port}` });
  assert.equal(cap.iface, 'lo');
  const client = topo.spawn('client', [NODE, '-e', CLIENT, topo.hosts.server.ipv4, String(port)]);
  assert.equal((await client.waitFor('data', 5000)).data, 'hi');
  await client.waitFor('closed', 5000);
  const result = await cap.stop();
  assert.equal(result.file, file);
  assert.ok(result.packets >= 7, `handshake + data + FINs, got ${result.packets}`);
  assert.deepEqual(await cap.stop(), result, 'stop is idempotent');
  assert.equal(statSync(file).uid, 0, 'written as root (-Z root), not as the tcpdump user');
  const rows = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'tcp.flags.syn', '-e', 'tcp.flags.ack'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .trim().split('\n');
  assert.equal(rows.length, result.packets);
  const isSet = (f: string | undefined): boolean => f === '1' || f === 'True';
  const first = rows[0]!.split('\t');
  assert.deepEqual([first[0], first[1], isSet(first[2]), isSet(first[3])], ['127.0.0.1', '127.0.0.2', true, false], 'the SYN from the client address was captured');
});

test('a bad filter fails with tcpdump\'s own words and leaves no tcpdump running', { skip: SKIP }, async (t) => {
  const topo = await createTopology({ runId: `c${newRunId()}`, mode: 'loopback' });
  t.after(() => topo.destroy());
  await assert.rejects(startCapture(topo, 'client', { file: '/tmp/rstlab-never.pcap', filter: 'tcp port nonsense' }), (err: unknown) => {
    assert.ok(err instanceof LabError);
    assert.match(err.message, /tcpdump@client:lo: tcpdump did not start capturing \(exited with code 1\)/);
    assert.match(err.message, /nonsense/);
    return true;
  });
  assert.equal(liveChildren().filter((c) => c.label.startsWith('tcpdump')).length, 0);
});

test('tcpdump missing is a MissingToolError', async (t) => {
  const topo = await createTopology({ runId: `c${newRunId()}`, mode: 'loopback' });
  const path = process.env.PATH;
  t.after(async () => {
    process.env.PATH = path;
    await topo.destroy();
  });
  process.env.PATH = '/nonexistent-rstlab';
  await assert.rejects(startCapture(topo, 'client', { file: '/tmp/rstlab-never.pcap' }), (err: unknown) => {
    assert.ok(err instanceof MissingToolError);
    assert.equal(err.tool, 'tcpdump');
    assert.equal(err.debianPackage, 'tcpdump');
    return true;
  });
});
