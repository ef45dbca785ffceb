/**
 * Failed-login throttling (docs/security.md). Failures are counted per username and per client address inside a
 * sliding window; once either count reaches its limit, every login attempt for that key (even with the right
 * password, or an attacker could keep guessing) is refused with 429 until the window has passed since the first
 * counted failure. A success clears the username's count, not the address's. Counts live in each thread: with N
 * workers an attacker spread over all of them gets at most N times the limit.
 */
import { weftError } from '../errors/index.js';

export interface ThrottleOptions {
  /** Failed attempts per username inside the window before it is locked. 0 disables. */
  maxFailuresPerUser: number;
  /** Failed attempts per client address inside the window before it is locked. 0 disables. */
  maxFailuresPerAddress: number;
  /** ms */
  window: number;
}

interface Counter { count: number; since: number }

export class LoginThrottle {
  private readonly counters = new Map<string, Counter>();
  constructor(private readonly opts: ThrottleOptions) {}

  private live(key: string, now: number): Counter | undefined {
    const c = this.counters.get(key);
    if (c && now - c.since >= this.opts.window) { this.counters.delete(key); return undefined; }
    return c;
  }

  /** Throw 429 when the username or the address is locked. */
  check(username: string, address: string, now = Date.now()): void {
    const checks: Array<[string, number]> = [[`u:${username}`, this.opts.maxFailuresPerUser], [`a:${address}`, this.opts.maxFailuresPerAddress]];
    for (const [key, max] of checks) {
      if (max <= 0) continue;
      const c = this.live(key, now);
      if (c && c.count >= max) throw weftError('LOGIN_THROTTLED', Math.max(1, Math.ceil((c.since + this.opts.window - now) / 1000)));
    }
  }

  failed(username: string, address: string, now = Date.now()): void {
    if (this.counters.size > 100_000) this.counters.clear(); // bounded memory under a flood of random names
    for (const key of [`u:${username}`, `a:${address}`]) {
      const c = this.live(key, now);
      if (c) c.count++; else this.counters.set(key, { count: 1, since: now });
    }
  }

  succeeded(username: string): void {
    this.counters.delete(`u:${username}`);
  }
}
