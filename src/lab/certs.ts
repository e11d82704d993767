// TLS material for the lab: a local CA and one server certificate signed by it, made with the
// `openssl` CLI (Debian package `openssl`). makeLabCertificates(dir, hosts) leaves in `dir`:
//   ca.pem / ca.key         the CA (RSA 2048, SHA-256, basicConstraints CA:TRUE, valid from
//                           yesterday until 30 days from now)
//   server.pem / server.key the server (RSA 2048, SHA-256, subjectAltName = every IP and DNS name
//                           given, EKU serverAuth, valid from yesterday until 7 days from now)
// RSA 2048 with SHA-256 is what every client of the lab accepts: OkHttp 3.13 on JDK 17 (PKIX, with
// OkHostnameVerifier matching IP SANs), Node, curl/OpenSSL 3 at security level 2, Python.
// Files already in `dir` are reused when they still fit (CA valid, server certificate issued by it,
// covering every host, at least a day left); otherwise what does not fit is made again (the CA is
// kept when it is still good, so a caFile handed out earlier stays valid).
// A missing `openssl` is a MissingToolError; any other openssl failure is a LabError.

import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve as resolvePath } from 'node:path';
import { LabError, MissingToolError } from '../errors.js';

export interface LabCertificates {
  /** PEM of the CA certificate: what clients trust. */
  caFile: string;
  /** PEM of the server certificate (leaf only; clients trust the CA directly). */
  certFile: string;
  /** PEM of the server's private key (PKCS#8). */
  keyFile: string;
}

export interface CertificateHosts {
  ips: string[];
  dnsNames?: string[];
}

export interface MakeCertificatesOptions {
  /** The openssl program (default `openssl` from PATH). */
  openssl?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_DAYS = 30;
const SERVER_DAYS = 7;
/** A certificate with less than this left is made again. */
const MIN_LEFT_MS = DAY_MS;

/** Valid DNS name (or wildcard) characters only: the names end up in an openssl config file. */
const DNS_NAME = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Calls for the same directory run one after the other (within this process). */
const queues = new Map<string, Promise<unknown>>();

export function makeLabCertificates(
  dir: string,
  hosts: CertificateHosts,
  options: MakeCertificatesOptions = {},
): Promise<LabCertificates> {
  const key = resolvePath(dir);
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(() => make(dir, hosts, options));
  queues.set(key, next);
  void next.catch(() => {}).then(() => {
    if (queues.get(key) === next) queues.delete(key);
  });
  return next;
}

async function make(dir: string, hosts: CertificateHosts, options: MakeCertificatesOptions): Promise<LabCertificates> {
  const ips = [...new Set(hosts.ips)];
  const dnsNames = [...new Set(hosts.dnsNames ?? [])];
  for (const ip of ips) if (isIP(ip) === 0) throw new LabError(`not an IP address for a certificate: ${ip}`);
  for (const name of dnsNames) if (!DNS_NAME.test(name)) throw new LabError(`not a DNS name for a certificate: ${name}`);
  if (ips.length + dnsNames.length === 0) throw new LabError('a server certificate needs at least one IP address or DNS name');

  const files: LabCertificates = {
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
  };
  const caKeyFile = join(dir, 'ca.key');
  await mkdir(dir, { recursive: true });

  const ca = await loadUsable(files.caFile, caKeyFile, (c) => c.ca);
  if (ca) {
    const leaf = await loadUsable(files.certFile, files.keyFile, (c) => !c.ca && c.checkIssued(ca) && c.verify(ca.publicKey) && covers(c, ips, dnsNames));
    if (leaf) return files;
  }

  const openssl = options.openssl ?? 'openssl';
  const work = await mkdtemp(join(dir, '.make-'));
  try {
    const conf = join(work, 'openssl.cnf');
    await writeFile(conf, opensslConfig(work, ips, dnsNames));
    await writeFile(join(work, 'index.txt'), '');
    // Random positive 16-byte serial (top bit clear, non-zero first byte), so no two lab
    // certificates share one.
    const serial = randomBytes(16);
    serial[0] = 0x10 | ((serial[0] as number) & 0x6f);
    await writeFile(join(work, 'serial'), serial.toString('hex') + '\n');
    const now = Date.now();
    const start = asn1Time(now - DAY_MS);

    let caPem = files.caFile;
    let caKey = caKeyFile;
    if (!ca) {
      caPem = join(work, 'ca.pem');
      caKey = join(work, 'ca.key');
      await run(openssl, ['genpkey', '-quiet', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', caKey]);
      await run(openssl, ['req', '-new', '-config', conf, '-key', caKey, '-subj', '/O=rstlab/CN=rstlab lab CA', '-out', join(work, 'ca.csr')]);
      await run(openssl, [
        'ca', '-batch', '-notext', '-config', conf, '-selfsign', '-keyfile', caKey, '-extensions', 'v3_ca',
        '-startdate', start, '-enddate', asn1Time(now + CA_DAYS * DAY_MS), '-in', join(work, 'ca.csr'), '-out', caPem,
      ]);
    }
    const key = join(work, 'server.key');
    const pem = join(work, 'server.pem');
    const cn = (dnsNames[0] ?? ips[0] ?? 'rstlab').slice(0, 64);
    await run(openssl, ['genpkey', '-quiet', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]);
    await run(openssl, ['req', '-new', '-config', conf, '-key', key, '-subj', `/O=rstlab/CN=${cn}`, '-out', join(work, 'server.csr')]);
    await run(openssl, [
      'ca', '-batch', '-notext', '-config', conf, '-cert', caPem, '-keyfile', caKey, '-extensions', 'server_ext',
      '-startdate', start, '-enddate', asn1Time(now + SERVER_DAYS * DAY_MS), '-in', join(work, 'server.csr'), '-out', pem,
    ]);

    // Check the result the way the reuse test does before putting it in place.
    const newCa = new X509Certificate(await readFile(caPem));
    const newLeaf = new X509Certificate(await readFile(pem));
    if (!newLeaf.checkIssued(newCa) || !newLeaf.verify(newCa.publicKey) || !covers(newLeaf, ips, dnsNames)) {
      throw new LabError(`openssl made a server certificate that does not fit (${newLeaf.subjectAltName ?? 'no subjectAltName'})`);
    }
    if (!ca) {
      await rename(caKey, caKeyFile);
      await rename(caPem, files.caFile);
    }
    await rename(key, files.keyFile);
    await rename(pem, files.certFile);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return files;
}

/** The certificate in `certFile` when it parses, matches the key in `keyFile`, has a day left, has
 *  already started, and passes `ok`; undefined otherwise (missing files included). */
async function loadUsable(
  certFile: string,
  keyFile: string,
  ok: (c: X509Certificate) => boolean,
): Promise<X509Certificate | undefined> {
  try {
    const cert = new X509Certificate(await readFile(certFile));
    const key = createPrivateKey(await readFile(keyFile));
    const now = Date.now();
    if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) - now < MIN_LEFT_MS) return undefined;
    if (!cert.checkPrivateKey(key) || !ok(cert)) return undefined;
    return cert;
  } catch {
    return undefined;
  }
}

function covers(cert: X509Certificate, ips: string[], dnsNames: string[]): boolean {
  const noSubject = { subject: 'never' } as const; // SAN only, as clients do when SANs exist
  return (
    ips.every((ip) => cert.checkIP(ip) !== undefined) &&
    dnsNames.every((name) => cert.checkHost(name, noSubject) !== undefined)
  );
}

/** `YYYYMMDDHHMMSSZ` (GeneralizedTime, accepted by `openssl ca -startdate/-enddate`). */
function asn1Time(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

function opensslConfig(work: string, ips: string[], dnsNames: string[]): string {
  const alt = [
    ...ips.map((ip, i) => `IP.${i + 1} = ${ip}`),
    ...dnsNames.map((name, i) => `DNS.${i + 1} = ${name}`),
  ];
  return `# made by rstlab (src/lab/certs.ts)
[ ca ]
default_ca = labca

[ labca ]
database = ${work}/index.txt
new_certs_dir = ${work}
serial = ${work}/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
preserve = yes

[ policy_any ]
organizationName = optional
commonName = supplied

[ req ]
distinguished_name = req_dn
string_mask = utf8only

[ req_dn ]

[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
subjectAltName = @alt_names

[ alt_names ]
${alt.join('\n')}
`;
}

function run(program: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: 60_000, maxBuffer: 1024 * 1024 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new MissingToolError('openssl', 'openssl', 'the lab makes its TLS certificates with it'));
      } else {
        reject(new LabError(`openssl ${args[0] ?? ''} failed: ${String(stderr).trim() || err.message}`));
      }
    });
  });
}
