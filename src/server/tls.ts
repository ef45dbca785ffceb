/**
 * TLS for the secure ports (spec §1.1, §1.3): the certificate and key come from `tls` (or `operationsApi.tls` for the
 * Operations API). At start, when the default files in `<root>/keys` are missing, a self-signed CA and a server
 * certificate signed by it are generated there (`ca.pem`, `certificate.pem`, `privateKey.pem`, and the CA's key in
 * `caPrivateKey.pem`), so secure ports work out of the box and clients can trust `ca.pem`.
 *
 * Certificates are built with node-forge (pure JavaScript, no dependencies of its own, no global polyfill); the RSA
 * keys come from node:crypto, which is much faster than forge's own key generation.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { SecureContextOptions } from 'node:tls';
import type * as Forge from 'node-forge';

const require = createRequire(import.meta.url);

export interface TlsSection {
  certificate?: unknown;
  privateKey?: unknown;
  certificateAuthority?: unknown;
  ciphers?: unknown;
  host?: unknown;
}

function keyFiles(rootPath: string) {
  const dir = path.join(rootPath, 'keys');
  return {
    dir, ca: path.join(dir, 'ca.pem'), caKey: path.join(dir, 'caPrivateKey.pem'),
    cert: path.join(dir, 'certificate.pem'), key: path.join(dir, 'privateKey.pem'),
  };
}

function rsaPair(forge: typeof Forge): { privateKey: Forge.pki.rsa.PrivateKey; publicKey: Forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const priv = forge.pki.privateKeyFromPem(privateKey) as Forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e), pem: privateKey };
}

function serial(): string {
  // positive 128-bit serial number (a leading 0 nibble keeps the DER integer positive)
  return '0' + randomBytes(16).toString('hex').slice(1);
}

/**
 * Generate the CA and server certificate in `<root>/keys` when `certificate.pem` or `privateKey.pem` is missing.
 * Returns true when files were written. Runs once in the main thread before workers start.
 */
export function ensureCertificates(rootPath: string, hostname = 'localhost'): boolean {
  const f = keyFiles(rootPath);
  if (fs.existsSync(f.cert) && fs.existsSync(f.key)) return false;
  const forge = require('node-forge') as typeof Forge;
  fs.mkdirSync(f.dir, { recursive: true });
  const now = new Date(Date.now() - 60_000);
  const years = (n: number) => new Date(now.getTime() + n * 365 * 86_400_000);

  const caKeys = rsaPair(forge);
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serial();
  ca.validity.notBefore = now;
  ca.validity.notAfter = years(10);
  const caName = [{ name: 'commonName', value: `Weft Certificate Authority for ${os.hostname()}` }, { name: 'organizationName', value: 'Weft' }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const leafKeys = rsaPair(forge);
  const cert = forge.pki.createCertificate();
  cert.publicKey = leafKeys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = now;
  cert.validity.notAfter = years(2);
  cert.setSubject([{ name: 'commonName', value: hostname }, { name: 'organizationName', value: 'Weft' }]);
  cert.setIssuer(ca.subject.attributes);
  const names = new Set(['localhost', hostname, os.hostname()]);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...[...names].filter((n) => n && !/^[\d.]+$|:/.test(n)).map((value) => ({ type: 2, value })),
        { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' },
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKeys.privateKey, forge.md.sha256.create());

  // keys first: a reader treats the set as complete once the certificate exists
  fs.writeFileSync(f.caKey, caKeys.pem, { mode: 0o600 });
  fs.writeFileSync(f.key, leafKeys.pem, { mode: 0o600 });
  fs.writeFileSync(f.ca, forge.pki.certificateToPem(ca), { mode: 0o644 });
  fs.writeFileSync(f.cert, forge.pki.certificateToPem(cert), { mode: 0o644 });
  return true;
}

function readPem(value: unknown, what: string): string {
  if (typeof value !== 'string' || !value) throw new Error(`TLS ${what} is not configured`);
  // inline PEM is accepted as well as a file path
  if (value.includes('-----BEGIN')) return value;
  try { return fs.readFileSync(value, 'utf8'); } catch (err) {
    throw new Error(`Cannot read the TLS ${what} '${value}': ${(err as Error).message}`);
  }
}

/** The `tls` section to use: `tls` may be an array of per-host entries; the one without `host` (else the first) is the default. */
function pick(section: unknown): TlsSection | undefined {
  if (Array.isArray(section)) return (section.find((s) => s && typeof s === 'object' && !s.host) ?? section[0]) as TlsSection | undefined;
  return section && typeof section === 'object' ? section as TlsSection : undefined;
}

/** Key, certificate (and CA chain) for a secure listener. `override` (operationsApi.tls) wins key by key over `tls`. */
export function secureContextOptions(tls: unknown, override?: unknown): SecureContextOptions {
  const base = pick(tls) ?? {};
  const over = pick(override) ?? {};
  const merged: TlsSection = { ...base, ...Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined && v !== null)) };
  const out: SecureContextOptions = { key: readPem(merged.privateKey, 'private key'), cert: readPem(merged.certificate, 'certificate') };
  if (typeof merged.ciphers === 'string' && merged.ciphers) out.ciphers = merged.ciphers;
  return out;
}
