// How the lab starts a client driver. `driverCommand(config)` gives the argv of the child process
// for a DriverConfig (the child then speaks ../protocol.ts on stdin/stdout) and whether that
// client can hold at the pause point; `driverAvailable(client)` says whether the tools it needs are
// installed, and if not which Debian package to install. Driver programs are found relative to this
// module (compiled siblings) or, for the Java and Python sources that tsc does not copy, in the
// repository's src/lab/drivers/ (repoRoot() of src/paths.ts). The two Java drivers (OkHttp,
// OkHttpDriver.java; java.net.http, JavaHttpClientDriver.java) are each compiled with javac,
// together with the protocol code they share (DriverProtocol.java), once into a cache folder under
// os.tmpdir() keyed by a hash of every source compiled, of `javac -version` and (OkHttp) of the
// jars. They need javac: the single-file launcher (`java File.java`) cannot take a second source
// file, so without javac driverAvailable says to install default-jdk-headless. The Go driver
// (go-driver.go, `go build` with GOCACHE/GOPATH inside the build folder, no modules, no network)
// is built the same way: once, into a folder keyed by the hash of the source and of `go version`.
// `canPause` is about the config's own pause point: after connect, or with
// `reuse` the idle point between the two requests.
// database CLIs (psql, redis-cli, mariadb) are driven by db-driver.py.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from '../../errors.js';
import { assertNever } from '../../errors.js';
import type { ClientName, DriverConfig } from '../protocol.js';
import { repoRoot } from '../../paths.js';

export const OKHTTP_JARS = ['/usr/share/java/okhttp.jar', '/usr/share/java/okio.jar'] as const;
/** JVM flags that cut start-up time for a short-lived client (C1 JIT only, serial GC, default CDS). */
export const JVM_FAST_START = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xshare:auto', '-XX:-UsePerfData'] as const;

const here = path.dirname(fileURLToPath(import.meta.url));

/** The Python of Debian's python3-* packages (a python3 earlier on PATH, e.g. pyenv's, lacks them). */
export const DEBIAN_PYTHON = '/usr/bin/python3';
/** The Python HTTP libraries the lab runs: driver file, module to import, Debian package. */
export const PY_LIBRARIES = {
  'python-requests': { driver: 'requests-driver.py', module: 'requests', debian: 'python3-requests' },
  'python-httpx': { driver: 'httpx-driver.py', module: 'httpx', debian: 'python3-httpx' },
  'python-aiohttp': { driver: 'aiohttp-driver.py', module: 'aiohttp', debian: 'python3-aiohttp' },
} as const;

/** A non-TypeScript driver source (Java, Python): next to this module if present, else in the repo's src tree. */
export function driverSource(file: string): string {
  const local = path.join(here, file);
  if (existsSync(local)) return local;
  return path.join(repoRoot(), 'src', 'lab', 'drivers', file);
}

function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string; spawnError?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: unknown }) | null;
      if (e && typeof e.code === 'string') resolve({ code: null, stdout, stderr, spawnError: e });
      else resolve({ code: e ? ((e.code as number | undefined) ?? 1) : 0, stdout, stderr });
    });
  });
}

async function hasCommand(cmd: string, args: string[]): Promise<boolean> {
  const r = await run(cmd, args, 15_000);
  return r.spawnError === undefined;
}

/**
 * Build once into os.tmpdir()/rstlab-<name>-<uid>-<hash>/ (`product` is the file that proves a
 * finished build): `build(work)` fills a fresh folder, which is then renamed into place. A folder
 * not owned by this user or writable by others is refused. Null: the toolchain is missing.
 */
async function buildOnce(name: string, hashOf: string[], product: string, build: (work: string) => Promise<'missing' | void>): Promise<string | null> {
  const hash = createHash('sha256');
  for (const part of hashOf) hash.update(part).update('\0');
  const uid = process.getuid?.() ?? 0;
  const dir = path.join(os.tmpdir(), `rstlab-${name}-${uid}-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(path.join(dir, product))) {
    const st = statSync(dir);
    if (st.uid === uid && (st.mode & 0o022) === 0) return dir;
    throw new LabError(`${dir} is not owned by this user or is writable by others; remove it`);
  }
  const work = mkdtempSync(path.join(os.tmpdir(), `rstlab-${name}-build-`));
  try {
    if ((await build(work)) === 'missing') {
      rmSync(work, { recursive: true, force: true });
      return null;
    }
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
  try {
    renameSync(work, dir);
  } catch {
    rmSync(work, { recursive: true, force: true });
  }
  return dir;
}

let goBinaryDir: Promise<string | null> | undefined;

/** `go build` go-driver.go once (standard library only); null when `go` is missing. */
export function prepareGoBinary(): Promise<string | null> {
  goBinaryDir ??= (async () => {
    const source = driverSource('go-driver.go');
    const version = await run('go', ['version'], 15_000);
    if (version.spawnError) return null;
    return buildOnce('go', [readFileSync(source, 'utf8'), version.stdout.trim()], 'go-driver', async (work) => {
      const env = {
        PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work,
        GOCACHE: path.join(work, 'gocache'), GOPATH: path.join(work, 'gopath'),
        GO111MODULE: 'off', GOFLAGS: '', GOPROXY: 'off', GOTOOLCHAIN: 'local', CGO_ENABLED: '0',
      };
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile('go', ['build', '-o', path.join(work, 'go-driver'), source], { env, timeout: 180_000, encoding: 'utf8' }, (err, _o, stderr) => {
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr });
        });
      });
      rmSync(env.GOCACHE, { recursive: true, force: true });
      rmSync(env.GOPATH, { recursive: true, force: true });
      if (r.code !== 0) throw new LabError(`go build failed on ${source}: ${r.stderr.trim()}`);
    });
  })();
  goBinaryDir.catch(() => {
    goBinaryDir = undefined;
  });
  return goBinaryDir;
}

/** The sources javac compiles for a Java driver: its own file and the protocol code it shares. */
function javaSources(driverFile: string): string[] {
  return [driverSource(driverFile), driverSource('DriverProtocol.java')];
}

/**
 * javac a Java driver (`main`, e.g. OkHttpDriver) with DriverProtocol.java once, against the jars
 * of `classpath`, into os.tmpdir()/rstlab-<name>-<uid>-<hash>/; null when javac is missing. The
 * hash covers every source compiled, javac's version and each jar's size and mtime.
 */
async function prepareJavaClasses(name: string, main: string, classpath: readonly string[]): Promise<string | null> {
  const sources = javaSources(`${main}.java`);
  const version = await run('javac', ['-version'], 15_000);
  if (version.spawnError) return null;
  const hashOf = sources.map((source) => readFileSync(source, 'utf8'));
  hashOf.push(version.stdout + version.stderr);
  for (const jar of classpath) {
    const st = statSync(jar);
    hashOf.push(`${jar}:${st.size}:${st.mtimeMs}`);
  }
  return buildOnce(name, hashOf, `${main}.class`, async (work) => {
    const cp = classpath.length > 0 ? ['-cp', classpath.join(':')] : [];
    const r = await run('javac', ['-nowarn', ...cp, '-d', work, ...sources]);
    if (r.spawnError) return 'missing';
    if (r.code !== 0) throw new LabError(`javac failed on ${sources.join(' ')}: ${r.stderr.trim()}`);
  });
}

let okhttpClassDir: Promise<string | null> | undefined;

/** javac OkHttpDriver.java (+ DriverProtocol.java) once into os.tmpdir()/rstlab-okhttp-<uid>-<hash>/; null when javac is missing. */
export function prepareOkHttpClasses(): Promise<string | null> {
  okhttpClassDir ??= prepareJavaClasses('okhttp', 'OkHttpDriver', OKHTTP_JARS);
  okhttpClassDir.catch(() => {
    okhttpClassDir = undefined;
  });
  return okhttpClassDir;
}

let javaHttpClientDir: Promise<string | null> | undefined;

/** javac JavaHttpClientDriver.java (+ DriverProtocol.java) once; null when javac is missing. */
export function prepareJavaHttpClientClasses(): Promise<string | null> {
  javaHttpClientDir ??= prepareJavaClasses('java-httpclient', 'JavaHttpClientDriver', []);
  javaHttpClientDir.catch(() => {
    javaHttpClientDir = undefined;
  });
  return javaHttpClientDir;
}

const JAVAC_MISSING = 'javac is missing: install default-jdk-headless';

/** The argv that runs the driver for `config` (argv[0] is the program), and whether it can pause. */
export async function driverCommand(config: DriverConfig): Promise<{ argv: string[]; canPause: boolean }> {
  const json = JSON.stringify(config);
  const client: ClientName = config.client;
  switch (client) {
    case 'node-net':
    case 'node-http':
    case 'node-https':
    case 'node-http2':
    case 'node-fetch':
      return { argv: [process.execPath, path.join(here, 'node-driver.js'), json], canPause: true };
    case 'curl':
      return { argv: [process.execPath, path.join(here, 'curl-driver.js'), json], canPause: false };
    case 'go': {
      const dir = await prepareGoBinary();
      if (dir === null) throw new LabError('go is missing: install golang-go');
      return { argv: [path.join(dir, 'go-driver'), json], canPause: true };
    }
    case 'java-httpclient': {
      // HttpClient has no hook at connect; it can hold at the idle point between two requests.
      const canPause = config.reuse !== undefined;
      const dir = await prepareJavaHttpClientClasses();
      if (dir === null) throw new LabError(JAVAC_MISSING);
      return { argv: ['java', ...JVM_FAST_START, '-cp', dir, 'JavaHttpClientDriver', json], canPause };
    }
    case 'python':
      return { argv: ['python3', '-B', driverSource('python-driver.py'), json], canPause: true };
    case 'python-requests':
    case 'python-httpx':
    case 'python-aiohttp':
      return { argv: [DEBIAN_PYTHON, '-B', driverSource(PY_LIBRARIES[client].driver), json], canPause: true };
    case 'psql':
    case 'redis-cli':
    case 'mariadb':
      return { argv: ['python3', '-B', driverSource('db-driver.py'), json], canPause: true };
    case 'chromium':
      return { argv: [process.execPath, path.join(here, 'chromium-driver.js'), json], canPause: false };
    case 'firefox':
      return { argv: [process.execPath, path.join(here, 'firefox-driver.js'), json], canPause: false };
    case 'okhttp': {
      const classDir = await prepareOkHttpClasses();
      if (classDir === null) throw new LabError(JAVAC_MISSING);
      return { argv: ['java', ...JVM_FAST_START, '-cp', [...OKHTTP_JARS, classDir].join(':'), 'OkHttpDriver', json], canPause: true };
    }
    default:
      return assertNever(client, 'client');
  }
}

/** Whether `client` can run here; if not, what to install. */
export async function driverAvailable(client: ClientName): Promise<{ ok: true } | { ok: false; why: string }> {
  switch (client) {
    case 'node-net':
    case 'node-http':
    case 'node-https':
    case 'node-http2':
      return { ok: true };
    case 'node-fetch':
      try {
        await import('undici');
        return { ok: true };
      } catch {
        return { ok: false, why: 'the undici npm package is missing: run npm install' };
      }
    case 'okhttp': {
      if (!(await hasCommand('java', ['-version']))) return { ok: false, why: 'java is missing: install default-jdk-headless' };
      if (!(await hasCommand('javac', ['-version']))) return { ok: false, why: JAVAC_MISSING };
      const missing = OKHTTP_JARS.filter((jar) => !existsSync(jar));
      if (missing.length > 0) return { ok: false, why: `${missing.join(', ')} missing: install libokhttp-java libokio-java` };
      return { ok: true };
    }
    case 'curl':
      return (await hasCommand('curl', ['--version'])) ? { ok: true } : { ok: false, why: 'curl is missing: install curl' };
    case 'python':
      return (await hasCommand('python3', ['--version'])) ? { ok: true } : { ok: false, why: 'python3 is missing: install python3' };
    case 'python-requests':
    case 'python-httpx':
    case 'python-aiohttp': {
      const lib = PY_LIBRARIES[client];
      const r = await run(DEBIAN_PYTHON, ['-B', '-c', `import ${lib.module}`], 15_000);
      if (r.spawnError) return { ok: false, why: `${DEBIAN_PYTHON} is missing: install python3 ${lib.debian}` };
      return r.code === 0 ? { ok: true } : { ok: false, why: `the ${lib.module} module is missing: install ${lib.debian}` };
    }
    case 'go':
      return (await hasCommand('go', ['version'])) ? { ok: true } : { ok: false, why: 'go is missing: install golang-go' };
    case 'java-httpclient':
      if (!(await hasCommand('java', ['-version']))) return { ok: false, why: 'java is missing: install default-jdk-headless' };
      return (await hasCommand('javac', ['-version'])) ? { ok: true } : { ok: false, why: JAVAC_MISSING };
    case 'psql':
    case 'redis-cli':
    case 'mariadb': {
      const pkg = { psql: 'postgresql-client', 'redis-cli': 'redis-tools', mariadb: 'mariadb-client' }[client];
      if (!(await hasCommand(client, ['--version']))) return { ok: false, why: `${client} is missing: install ${pkg}` };
      if (!(await hasCommand('ss', ['-V']))) return { ok: false, why: 'ss is missing: install iproute2' };
      return (await hasCommand('python3', ['--version'])) ? { ok: true } : { ok: false, why: 'python3 is missing: install python3' };
    }
    case 'chromium':
      if (!existsSync('/usr/bin/chromium')) return { ok: false, why: '/usr/bin/chromium is missing: install chromium' };
      try {
        await import('playwright-core');
        return { ok: true };
      } catch {
        return { ok: false, why: 'the playwright-core npm package is missing: run npm install' };
      }
    case 'firefox':
      return existsSync('/usr/bin/firefox-esr') ? { ok: true } : { ok: false, why: '/usr/bin/firefox-esr is missing: install firefox-esr' };
    default:
      return assertNever(client, 'client');
  }
}
