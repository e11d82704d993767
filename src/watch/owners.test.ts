// Socket owners from `ss -tanpH` text, and how long they are remembered.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSs, SocketOwners, tcpOpens } from './owners.js';

const SS = [
  'LISTEN    0      511          0.0.0.0:8080        0.0.0.0:*     users:(("nginx",pid=812,fd=6),("nginx",pid=811,fd=6))',
  'ESTAB     0      0          10.0.0.1:8080    192.0.2.7:50000   users:(("nginx",pid=812,fd=11))',
  'ESTAB     0      0     [::ffff:10.0.0.1]:5432 [::ffff:10.0.0.9]:41000 users:(("postgres",pid=900,fd=9))',
  'ESTAB     0      0        [2001:db8::1]:443  [2001:db8::9]:55555 users:(("my \\"app\\"",pid=4711,fd=3))',
  'TIME-WAIT 0      0          10.0.0.1:8080    192.0.2.8:50001',
  'LISTEN    0      4096               *:22               *:*     users:(("sshd",pid=1,fd=3))',
].join('\n');

test('ss lines: addresses as explain writes them (IPv4-mapped unwrapped), the first owner, none for TIME-WAIT', () => {
  const s = parseSs(SS);
  assert.deepEqual(s.map((x) => `${x.state} ${x.local} ${x.peer} ${x.owner ? `${x.owner.comm}/${x.owner.pid}` : '-'}`), [
    'LISTEN 0.0.0.0:8080 * nginx/812',
    'ESTAB 10.0.0.1:8080 192.0.2.7:50000 nginx/812',
    'ESTAB 10.0.0.1:5432 10.0.0.9:41000 postgres/900',
    'ESTAB [2001:db8::1]:443 [2001:db8::9]:55555 my \\"app\\"/4711',
    'TIME-WAIT 10.0.0.1:8080 192.0.2.8:50001 -',
    'LISTEN *:22 * sshd/1',
  ]);
});

test('owner(): the connection, else the listener on the local port; kept for keepSec after it is gone', async () => {
  let text = SS;
  const owners = new SocketOwners(async () => text, { minIntervalMs: 0, keepSec: 30 });
  await owners.refresh(1_000_000);
  assert.deepEqual(owners.owner('10.0.0.1:8080', '192.0.2.7:50000'), { owner: { pid: 812, comm: 'nginx' }, via: 'socket' });
  assert.deepEqual(owners.owner('10.0.0.1:8080', '192.0.2.99:1'), { owner: { pid: 812, comm: 'nginx' }, via: 'listener' });
  assert.equal(owners.owner('10.0.0.1:9999', '192.0.2.7:50000'), null);
  text = '';
  await owners.refresh(1_010_000);
  assert.equal(owners.owner('10.0.0.1:5432', '10.0.0.9:41000')?.owner.comm, 'postgres', 'gone 10 s: still named');
  await owners.refresh(1_040_000);
  assert.equal(owners.owner('10.0.0.1:5432', '10.0.0.9:41000'), null, 'gone 40 s: forgotten');
});

test('tcpOpens: ActiveOpens + PassiveOpens of /proc/net/snmp; null without them', () => {
  const snmp = [
    'Ip: Forwarding DefaultTTL', 'Ip: 1 64',
    'Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs',
    'Tcp: 1 200 120000 -1 4711 42 3 9 2 100000', 'Udp: InDatagrams', 'Udp: 5',
  ].join('\n');
  assert.equal(tcpOpens(snmp), 4753);
  assert.equal(tcpOpens('Ip: Forwarding\nIp: 1\n'), null);
  assert.equal(tcpOpens('Tcp: RtoAlgorithm\nTcp: 1\n'), null);
});

test('knows(): only the connection itself, not a listener on its port', async () => {
  const owners = new SocketOwners(async () => SS, { minIntervalMs: 0 });
  await owners.refresh(1_000_000);
  assert.equal(owners.knows('10.0.0.1:8080', '192.0.2.7:50000'), true);
  assert.equal(owners.knows('10.0.0.1:8080', '192.0.2.99:1'), false);
});
