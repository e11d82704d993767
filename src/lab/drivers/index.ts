// How the lab starts a client driver. `driverCommand(config)` gives the argv of the child process
// for a DriverConfig (the child then speaks ../protocol.ts on stdin/stdout) and whether that
// client can hold at the pause point; `driverAvailable(client)` says whether the tools it needs are
// installed, and if not which Debian package to install. Driver programs are found relative to this
// module (compiled siblings) or, for the Java and Python sources that tsc does not copy, in the
// repository's src/lab/drivers/ (repoRoot() of src/paths.ts). The OkHttp driver is compiled once
// with javac into a cache folder under os.tmpdir() keyed by a hash of its source and of the jars
// (`java File.java` would compile it again on every start); without javac it runs that way. The
// java.net.http driver (JavaHttpClientDriver.java) and the Go driver (go-driver.go, `go build`
// with GOCACHE/GOPATH inside the build folder, no modules, no network) are built the same way:
// once, into a folder keyed by the hash of the source and of the toolchain (`javac -version`,
// `go version`). `canPause` is about the config's own pause point: after connect, or with
// `reuse` the idle point between the two requests.

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

let okhttpClassDir: Promise<string | null> | undefined;

/**
 * Compile OkHttpDriver.java once into os.tmpdir()/rstlab-okhttp-<hash>/ and return that folder,
 * or null when javac is missing (the caller then uses the single-file source launcher).
 */
export function prepareOkHttpClasses(): Promise<string | null> {
  okhttpClassDir ??= (async () => {
    const source = driverSource('OkHttpDriver.java');
    const hash = createHash('sha256').update(readFileSync(source));
    for (const jar of OKHTTP_JARS) {
      const st = statSync(jar);
      hash.update(`${jar}:${st.size}:${st.mtimeMs}`);
    }
    const uid = process.getuid?.() ?? 0;
    const dir = path.join(os.tmpdir(), `rstlab-okhttp-${uid}-${hash.digest('hex').slice(0, 16)}`);
    if (existsSync(path.join(dir, 'OkHttpDriver.class'))) {
      const st = statSync(dir);
      // Do not run classes someone else could have planted in a shared /tmp.
      if (st.uid === uid && (st.mode & 0o022) === 0) return dir;
      throw new LabError(`${dir} is not owned by this user or is writable by others; remove it`);
    }
    const work = mkdtempSync(path.join(os.tmpdir(), 'rstlab-okhttp-build-'));
    const r = await run('javac', ['-nowarn', '-cp', OKHTTP_JARS.join(':'), '-d', work, source]);
    if (r.spawnError) {
      rmSync(work, { recursive: true, force: true });
      return null;
    }
    if (r.code !== 0) {
      rmSync(work, { recursive: true, force: true });
      throw new LabError(`javac failed on ${source}: ${r.stderr.trim()}`);
    }
    try {
      renameSync(work, dir);
    } catch {
      // Another process won the race; its folder has the same content.
      rmSync(work, { recursive: true, force: true });
    }
    return dir;
  })();
  okhttpClassDir.catch(() => {
    okhttpClassDir = undefined;
  });
  return okhttpClassDir;
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

let javaHttpClientDir: Promise<string | null> | undefined;

/** javac JavaHttpClientDriver.java once; null when javac is missing. */
export function prepareJavaHttpClientClasses(): Promise<string | null> {
  javaHttpClientDir ??= (async () => {
    const source = driverSource('JavaHttpClientDriver.java');
    const version = await run('javac', ['-version'], 15_000);
    if (version.spawnError) return null;
    return buildOnce('java-httpclient', [readFileSync(source, 'utf8'), version.stdout + version.stderr], 'JavaHttpClientDriver.class', async (work) => {
      const r = await run('javac', ['-nowarn', '-d', work, source]);
      if (r.spawnError) return 'missing';
      if (r.code !== 0) throw new LabError(`javac failed on ${source}: ${r.stderr.trim()}`);
    });
  })();
  javaHttpClientDir.catch(() => {
    javaHttpClientDir = undefined;
  });
  return javaHttpClientDir;
}

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
      if (dir === null) return { argv: ['java', driverSource('JavaHttpClientDriver.java'), json], canPause };
      return { argv: ['java', ...JVM_FAST_START, '-cp', dir, 'JavaHttpClientDriver', json], canPause };
    }
    case 'python':
      return { argv: ['python3', '-B', driverSource('python-driver.py'), json], canPause: true };
    case 'python-requests':
    case 'python-httpx':
    case 'python-aiohttp':
      return { argv: [DEBIAN_PYTHON, '-B', driverSource(PY_LIBRARIES[client].driver), json], canPause: true };
    case 'okhttp': {
      const classDir = await prepareOkHttpClasses();
      if (classDir === null) {
        return { argv: ['java', '-cp', OKHTTP_JARS.join(':'), driverSource('OkHttpDriver.java'), json], canPause: true };
      }
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
      return (await hasCommand('java', ['-version'])) ? { ok: true } : { ok: false, why: 'java is missing: install default-jdk-headless' };
    default:
      return assertNever(client, 'client');
  }
}
