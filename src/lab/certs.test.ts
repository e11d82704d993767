// Tests of makeLabCertificates with the real openssl CLI, and of the result with the clients the lab
// runs: `openssl verify`, curl --cacert against the lab's https server, and OkHttp 3.13 on the JDK
// (trusting the CA through CertificateFactory + TrustManagerFactory) over HTTP/1.1 and h2.
// The curl and Java checks are skipped (with the reason) when those tools are not installed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MissingToolError, LabError } from '../errors.js';
import { makeLabCertificates } from './certs.js';
import { startServer, type ServerProcess } from './servers/index.js';
import { SMALL_BODY } from './servers/util.js';

const HOSTS = { ips: ['127.0.0.1', '::1', '198.51.100.10'], dnsNames: ['localhost', 'origin.lab.test'] };
const OKHTTP = ['/usr/share/java/okhttp.jar', '/usr/share/java/okio.jar'];

let dir = '';
const running = new Set<ServerProcess>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rstlab-certs-'));
});

after(async () => {
  await Promise.all([...running].map((s) => s.kill()));
  await rm(dir, { recursive: true, force: true });
});

function has(program: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(program: string, args: string[], timeout = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { timeout }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

test('makes a CA and a server certificate that openssl verify accepts', async () => {
  const f = await makeLabCertificates(join(dir, 'a'), HOSTS);
  assert.deepEqual(f, {
    caFile: join(dir, 'a', 'ca.pem'),
    certFile: join(dir, 'a', 'server.pem'),
    keyFile: join(dir, 'a', 'server.key'),
  });
  const v = await run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', f.caFile, f.certFile]);
  assert.equal(v.stdout.trim(), `${f.certFile}: OK`, v.stderr);

  const caCert = new X509Certificate(await readFile(f.caFile));
  const leaf = new X509Certificate(await readFile(f.certFile));
  assert.equal(caCert.ca, true);
  assert.equal(leaf.ca, false);
  assert.ok(leaf.checkIssued(caCert) && leaf.verify(caCert.publicKey));
  assert.equal(
    leaf.subjectAltName,
    'IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:198.51.100.10, DNS:localhost, DNS:origin.lab.test',
  );
  assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']); // node names the EKU list keyUsage: serverAuth
  assert.equal(leaf.publicKey.asymmetricKeyType, 'rsa');
  assert.equal(leaf.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  // Valid from yesterday (tolerates clocks a little behind) for a few days.
  const now = Date.now();
  const from = Date.parse(leaf.validFrom);
  const to = Date.parse(leaf.validTo);
  assert.ok(now - from > 23 * 3600_000 && now - from < 25 * 3600_000, leaf.validFrom);
  assert.ok(to - now > 3 * 86400_000 && to - now < 10 * 86400_000, leaf.validTo);
  assert.ok(Date.parse(caCert.validFrom) <= from);
  // The key is private to its owner.
  assert.equal((await stat(f.keyFile)).mode & 0o077, 0);
});

test('reuses the files when they cover the hosts; a new host gets a new certificate from the same CA', async () => {
  const d = join(dir, 'b');
  const first = await makeLabCertificates(d, { ips: ['127.0.0.1'] });
  const before1 = { ca: await readFile(first.caFile, 'utf8'), cert: await readFile(first.certFile, 'utf8') };

  const again = await makeLabCertificates(d, { ips: ['127.0.0.1'] });
  assert.deepEqual(again, first);
  assert.equal(await readFile(again.certFile, 'utf8'), before1.cert);

  const more = await makeLabCertificates(d, { ips: ['127.0.0.1', '203.0.113.5'], dnsNames: ['proxy.lab.test'] });
  assert.equal(await readFile(more.caFile, 'utf8'), before1.ca, 'the CA is kept');
  const cert = await readFile(more.certFile, 'utf8');
  assert.notEqual(cert, before1.cert);
  const leaf = new X509Certificate(cert);
  assert.equal(leaf.checkIP('203.0.113.5'), '203.0.113.5');
  assert.equal(leaf.checkHost('proxy.lab.test'), 'proxy.lab.test');

  // A subset of what is covered is reused as it is.
  await makeLabCertificates(d, { ips: ['203.0.113.5'] });
  assert.equal(await readFile(more.certFile, 'utf8'), cert);

  // A damaged server key is noticed and replaced.
  await writeFile(more.keyFile, 'garbage');
  await makeLabCertificates(d, { ips: ['203.0.113.5'] });
  assert.notEqual(await readFile(more.certFile, 'utf8'), cert);
  const v = await run('openssl', ['verify', '-CAfile', more.caFile, more.certFile]);
  assert.equal(v.code, 0, v.stderr);
});

test('concurrent calls for one directory run in turn: one CA, one certificate, both usable', async () => {
  const d = join(dir, 'd');
  const [x, y] = await Promise.all([
    makeLabCertificates(d, { ips: ['127.0.0.1'] }),
    makeLabCertificates(d, { ips: ['127.0.0.1'] }),
  ]);
  assert.deepEqual(x, y);
  const v = await run('openssl', ['verify', '-CAfile', x.caFile, x.certFile]);
  assert.equal(v.code, 0, v.stderr);
  // No working directories left behind.
  assert.deepEqual((await readdir(d)).sort(), ['ca.key', 'ca.pem', 'server.key', 'server.pem']);
});

test('bad input and a missing openssl are reported with the project errors', async () => {
  await assert.rejects(makeLabCertificates(join(dir, 'c'), { ips: ['300.1.1.1'] }), LabError);
  await assert.rejects(makeLabCertificates(join(dir, 'c'), { ips: [], dnsNames: ['bad name]\n[x'] }), LabError);
  await assert.rejects(makeLabCertificates(join(dir, 'c'), { ips: [] }), LabError);
  await assert.rejects(
    makeLabCertificates(join(dir, 'c'), { ips: ['127.0.0.1'] }, { openssl: join(dir, 'no-such-openssl') }),
    (err: unknown) => {
      assert.ok(err instanceof MissingToolError);
      assert.equal(err.code, 'ERR_MISSING_TOOL');
      assert.equal(err.tool, 'openssl');
      assert.equal(err.debianPackage, 'openssl');
      return true;
    },
  );
});

test('curl --cacert accepts the lab https server at https://127.0.0.1:PORT/', async (t) => {
  if (!has('curl')) return t.skip('curl is not installed (Debian package curl)');
  const f = await makeLabCertificates(join(dir, 'a'), HOSTS);
  const s = await startServer({ kind: 'https', listen: { host: '127.0.0.1', port: 0 }, certFile: f.certFile, keyFile: f.keyFile });
  running.add(s);
  const r = await run('curl', ['-sS', '--max-time', '10', '--cacert', f.caFile, `https://127.0.0.1:${s.port}/`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, SMALL_BODY);
  // And without the CA, curl refuses it (exit 60: peer certificate cannot be authenticated).
  const r2 = await run('curl', ['-sS', '--max-time', '10', `https://127.0.0.1:${s.port}/`]);
  assert.equal(r2.code, 60, r2.stderr);
  await s.stop();
  running.delete(s);
});

const JAVA_CHECK = `
import java.io.FileInputStream;
import java.io.InputStream;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/** args: caFile url... ; prints "<code> <protocol> <body>" per url. */
public class LabCertCheck {
  public static void main(String[] args) throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    try (InputStream in = new FileInputStream(args[0])) {
      ks.setCertificateEntry("rstlab-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    X509TrustManager tm = (X509TrustManager) tmf.getTrustManagers()[0];
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new TrustManager[] { tm }, null);
    OkHttpClient client = new OkHttpClient.Builder().sslSocketFactory(ctx.getSocketFactory(), tm).build();
    for (int i = 1; i < args.length; i++) {
      try (Response r = client.newCall(new Request.Builder().url(args[i]).build()).execute()) {
        System.out.println(r.code() + " " + r.protocol() + " " + r.body().string().trim());
      }
    }
    System.exit(0); // OkHttp's pool and HTTP/2 reader threads would keep the JVM alive for minutes
  }
}
`;

test('OkHttp 3.13 on the JDK trusts the CA (TrustManagerFactory) over HTTP/1.1 and h2', async (t) => {
  if (!has('java')) return t.skip('java is not installed (Debian package default-jdk-headless)');
  if (!OKHTTP.every((p) => existsSync(p))) return t.skip('OkHttp is not installed (Debian packages libokhttp-java libokio-java)');
  const f = await makeLabCertificates(join(dir, 'a'), HOSTS);
  const tlsFiles = { certFile: f.certFile, keyFile: f.keyFile };
  const h1 = await startServer({ kind: 'https', listen: { host: '127.0.0.1', port: 0 }, ...tlsFiles });
  running.add(h1);
  const h2 = await startServer({ kind: 'h2', listen: { host: '127.0.0.1', port: 0 }, ...tlsFiles });
  running.add(h2);
  const src = join(dir, 'LabCertCheck.java');
  await writeFile(src, JAVA_CHECK);
  // Single-file source launch (JEP 330): compiles in memory, no javac step.
  const r = await run(
    'java',
    ['-cp', OKHTTP.join(':'), src, f.caFile, `https://127.0.0.1:${h1.port}/`, `https://127.0.0.1:${h2.port}/`],
    60_000,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [`200 http/1.1 ${SMALL_BODY.trim()}`, `200 h2 ${SMALL_BODY.trim()}`]);
  await h1.stop();
  await h2.stop();
  running.delete(h1);
  running.delete(h2);
});
