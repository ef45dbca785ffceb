/**
 * JWT operation and refresh tokens (spec §7.2): RS256 with the key pair Harper keeps in `<root>/keys`
 * (`.jwtPrivate.key` PKCS#8 PEM encrypted with AES-256-CBC under the passphrase in `.jwtPass`, `.jwtPublic.key` SPKI
 * PEM), so an existing Harper keys directory keeps its tokens valid.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, randomUUID, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { weftError } from '../errors/index.js';

/** jose is loaded on the first token operation: most servers never sign one, and it cost ~50 ms per thread start. */
let joseModule: Promise<typeof import('jose')> | undefined;
const jose = () => (joseModule ??= import('jose'));

const generate = promisify(generateKeyPair);

export type TokenKind = 'operation' | 'refresh';

export interface TokenClaims {
  username: string;
  super_user: boolean;
  role?: string;
  sub: TokenKind;
  iat: number;
  exp: number;
}

function keyFiles(rootPath: string) {
  const dir = path.join(rootPath, 'keys');
  return { dir, priv: path.join(dir, '.jwtPrivate.key'), pub: path.join(dir, '.jwtPublic.key'), pass: path.join(dir, '.jwtPass') };
}

/**
 * Create the key pair when missing. Called on the first token operation (TokenService.keysReady), not at start-up:
 * it takes ~2 s. In a server only the main thread calls it, one call at a time.
 */
export async function ensureJwtKeys(rootPath: string, modulusLength = 4096): Promise<boolean> {
  const f = keyFiles(rootPath);
  if (fs.existsSync(f.priv) && fs.existsSync(f.pub) && fs.existsSync(f.pass)) return false;
  fs.mkdirSync(f.dir, { recursive: true });
  const passphrase = randomUUID();
  const { publicKey, privateKey } = await generate('rsa', {
    modulusLength,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase },
  });
  // write the passphrase and private key before the public key: a reader treats the set as complete once all exist
  fs.writeFileSync(f.pass, passphrase, { mode: 0o600 });
  fs.writeFileSync(f.priv, privateKey, { mode: 0o600 });
  fs.writeFileSync(f.pub, publicKey, { mode: 0o644 });
  return true;
}

const UNITS: Record<string, number> = {
  ms: 1, msec: 1, msecs: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
  y: 31_557_600_000, yr: 31_557_600_000, yrs: 31_557_600_000, year: 31_557_600_000, years: 31_557_600_000,
};

/** A token lifetime in ms: `ms`-library syntax (`30m`, `12h`, `1d`) or a number of seconds. Undefined when invalid. */
export function parseLifetime(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v * 1000 : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^(-?\d*\.?\d+)\s*([a-z]*)$/i.exec(v.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ? UNITS[m[2].toLowerCase()] : 1000;
  if (unit === undefined || !(n > 0)) return undefined;
  return n * unit;
}

export class TokenService {
  private keys?: { priv: KeyObject; pub: KeyObject };
  private making?: Promise<unknown>;
  /** `ensureKeys` makes the key pair process-wide (the supervisor); without it this instance makes it itself. */
  constructor(private readonly rootPath: string, private readonly ensureKeys?: () => Promise<unknown>) {}

  /** A new root has no key pair until the first token is signed or verified. */
  private async keysReady(): Promise<void> {
    if (this.keys) return;
    const f = keyFiles(this.rootPath);
    if (fs.existsSync(f.pub) && fs.existsSync(f.priv) && fs.existsSync(f.pass)) return;
    // concurrent first uses share one generation: two would each write a key and one of them would not verify
    this.making ??= (this.ensureKeys ? this.ensureKeys() : ensureJwtKeys(this.rootPath)).finally(() => { this.making = undefined; });
    await this.making;
  }

  private load(): { priv: KeyObject; pub: KeyObject } {
    if (this.keys) return this.keys;
    const f = keyFiles(this.rootPath);
    const passphrase = fs.readFileSync(f.pass, 'utf8').trim();
    this.keys = {
      priv: createPrivateKey({ key: fs.readFileSync(f.priv, 'utf8'), format: 'pem', passphrase }),
      pub: createPublicKey(fs.readFileSync(f.pub, 'utf8')),
    };
    return this.keys;
  }

  async sign(claims: { username: string; super_user: boolean }, kind: TokenKind, lifetimeMs: number): Promise<string> {
    await this.keysReady();
    const { SignJWT } = await jose();
    const now = Math.floor(Date.now() / 1000);
    // jti: two tokens issued in the same second must differ, or a replaced refresh token would stay valid
    return new SignJWT({ username: claims.username, super_user: claims.super_user })
      .setJti(randomUUID())
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setSubject(kind)
      .setIssuedAt(now)
      .setExpirationTime(now + Math.max(1, Math.round(lifetimeMs / 1000)))
      .sign(this.load().priv);
  }

  /** Verify signature, expiry and kind. Invalid -> 401 `invalid token`; expired -> 403 `token expired`. */
  async verify(token: string, kind: TokenKind): Promise<TokenClaims> {
    let payload: Record<string, unknown>;
    await this.keysReady();
    const { jwtVerify, errors: joseErrors } = await jose();
    try {
      ({ payload } = await jwtVerify(token, this.load().pub, { algorithms: ['RS256'] }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw weftError('TOKEN_EXPIRED');
      throw weftError('INVALID_TOKEN');
    }
    if (payload.sub !== kind || typeof payload.username !== 'string') throw weftError('INVALID_TOKEN');
    // tokens with a role claim are issued by components for their own use, never accepted as operation tokens
    if (kind === 'operation' && payload.role !== undefined) throw weftError('INVALID_TOKEN');
    return payload as unknown as TokenClaims;
  }
}
