// The database scenarios (issue 20: the software people actually run): the real PostgreSQL, Redis
// and MariaDB servers (servers/databases.ts) with their real command-line clients (psql,
// redis-cli, mariadb: drivers/db-driver.py). Each scenario runs with the three pairs; the client
// decides the server: psql ↔ postgres, redis-cli ↔ redis, mariadb ↔ mariadb. The errors people
// paste — "server closed the connection unexpectedly", "Error: Server closed the connection",
// "ERROR 2006 (HY000): … has gone away" — are the outcomes.

import type { ClientName, DriverConfig, ServerKind } from './protocol.js';
import type { Scenario, ScenarioActions } from './scenarios.js';

export const DB_CLIENTS = ['psql', 'redis-cli', 'mariadb'] as const satisfies readonly ClientName[];

const SCHEME: Record<string, DriverConfig['scheme']> = { psql: 'postgres', 'redis-cli': 'redis', mariadb: 'mysql' };
const KIND: Record<string, ServerKind> = { psql: 'postgres', 'redis-cli': 'redis', mariadb: 'mariadb' };

function schemeOf(c: ClientName): DriverConfig['scheme'] {
  const s = SCHEME[c];
  if (!s) throw new Error(`${c} is not a database client`);
  return s;
}

function serverOf(extra: { idleTimeoutMs?: number } = {}) {
  return (c: ClientName) => ({ kind: KIND[c] ?? 'tcp', ...extra });
}

const common = {
  claims: [],
  clients: DB_CLIENTS,
  allClients: DB_CLIENTS,
  // The daemons run as their own users in a cgroup of the lab's, inside its server namespace.
  needs: 'netns',
  scheme: schemeOf,
  clientTimeoutMs: 15000,
} as const satisfies Partial<Scenario>;

const settle = (a: ScenarioActions) => a.sleep(250);

/** Before a server is killed: its wrapper (tools/db-server.py) has reported the accept it read
 *  from the daemon's log (PostgreSQL and Redis log one; MariaDB does not), which a kill of the
 *  whole server would otherwise cut off when the wrapper's 20 ms poll of the log falls behind. */
async function acceptReported(a: ScenarioActions): Promise<void> {
  const l = await a.serverEvent('listening');
  const family = (l.software as { family?: string } | undefined)?.family;
  if (family === 'postgresql' || family === 'redis') await a.serverEvent('accepted', 3000).catch(() => undefined);
}

export const DATABASE_SCENARIOS: Scenario[] = [
  {
    ...common,
    id: 'db-refused',
    title: 'Database client, nothing listens on the port',
    description: 'psql, redis-cli or mariadb connects to a port of the server host where no database server listens.',
    server: () => null,
    pause: false,
    expect: { allow: { server: ['refused'] }, must: [['server', 'refused']] },
  },
  {
    ...common,
    id: 'db-server-killed-idle',
    title: 'Database server killed while the client holds an idle session',
    description: 'The client connects and runs a first query; while its session is idle, every process of the server (the daemon and, for PostgreSQL, the postmaster and the session\'s backend) is SIGKILLed; then the client sends its next query.',
    server: serverOf(),
    pause: true,
    async atPause(a) { await acceptReported(a); await a.kill('server'); await settle(a); },
    // Killed with an empty receive queue → FIN; the next query reaches a closed socket.
    expect: { allow: { server: ['reset-after-close', 'no-connection'] }, fin: ['server'] },
  },
  {
    ...common,
    id: 'db-idle-timeout',
    title: 'Database server closes an idle session by its own timer',
    description: 'The server closes sessions idle for 1 s (PostgreSQL idle_session_timeout, Redis timeout, MariaDB wait_timeout); the client runs a first query, stays idle 3 s, then sends its next query.',
    server: serverOf({ idleTimeoutMs: 1000 }),
    pause: true,
    async atPause(a) { a.note('session idle (server timer: 1 s)', 'client'); await a.sleep(3000); },
    // PostgreSQL and Redis close with FIN (PostgreSQL first sends its FATAL message); the next query
    // then reaches a closed socket. MariaDB resets the session itself when wait_timeout expires: it
    // sets SO_LINGER {1,0} and closes (strace shows it; the kernel's reason: TCP_STATE, in
    // TCP_CLOSE), and the client's next query never leaves it (2006, not 2013).
    expect: { allow: { server: ['reset-after-close', 'no-connection', 'abort'] } },
  },
  {
    ...common,
    id: 'db-server-killed-mid-query',
    title: 'Database server killed while the client waits for a query\'s result',
    description: 'The client runs a first query, then one the server takes 5 s over (pg_sleep, BLPOP on an empty list, sleep()); 700 ms into it every process of the server is SIGKILLed.',
    server: serverOf(),
    pause: true,
    db: { second: 'long' },
    async afterGo(a) { await a.sleep(700); await acceptReported(a); await a.kill('server'); },
    afterResult: settle,
    // The query was read: the killed server's socket closes with FIN; the client reads the end.
    expect: { allow: { server: ['reset-after-close', 'no-connection'] }, fin: ['server'] },
  },
];
