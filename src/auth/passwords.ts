/**
 * Password hashes as Harper stores them (spec §7.5): `<salt><digest>`. md5 (legacy, verify only), sha256 (default),
 * argon2id. New passwords never use md5.
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import argon2 from 'argon2';

export type HashFunction = 'md5' | 'sha256' | 'argon2id';
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

function salt(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function hashPassword(password: string, fn: HashFunction = 'sha256'): Promise<string> {
  if (fn === 'argon2id') {
    const s = salt(16);
    return s + (await argon2.hash(password + s, { type: argon2.argon2id }));
  }
  const s = salt(16);
  return s + createHash('sha256').update(password + s).digest('hex');
}

export async function verifyPassword(password: string, stored: string, fn: HashFunction | undefined): Promise<boolean> {
  if (typeof stored !== 'string') return false;
  switch (fn ?? 'md5') {
    case 'md5': {
      const s = stored.slice(0, 9);
      return safeEqual(stored, s + createHash('md5').update(password + s).digest('hex'));
    }
    case 'sha256': {
      const s = stored.slice(0, 16);
      return safeEqual(stored, s + createHash('sha256').update(password + s).digest('hex'));
    }
    case 'argon2id': {
      const s = stored.slice(0, 16);
      try { return await argon2.verify(stored.slice(16), password + s); } catch { return false; }
    }
    default:
      return false;
  }
}
