/**
 * Counts fixes per host over the last hour (a sorted set of timestamps), so clawmedic stops
 * and escalates after N attempts instead of restarting a broken gateway forever.
 */
import type { RedisClient } from '../state/redis.js';
import { KEYS } from '../constants.js';

const HOUR_MS = 3600_000;

export class FixAttempts {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(host: string): string {
    return `${this.prefix}:${KEYS.fixAttempts}:${host}`;
  }

  /** Fixes started on `host` in the last hour. */
  async count(host: string, now = Date.now()): Promise<number> {
    await this.redis.zremrangebyscore(this.key(host), 0, now - HOUR_MS);
    return this.redis.zcard(this.key(host));
  }

  /** Record a fix starting now (jobId keeps a retried record from counting twice). */
  async record(host: string, jobId: string, now = Date.now()): Promise<void> {
    await this.redis.multi().zadd(this.key(host), now, jobId).pexpire(this.key(host), HOUR_MS).exec();
  }
}
