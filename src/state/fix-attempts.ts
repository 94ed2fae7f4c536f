/**
 * Counts fixes per host over the last hour (a sorted set of timestamps), so clawmedic stops
 * and escalates after N attempts instead of restarting a broken gateway forever. The one
 * implementation of that limit: confirmed fixes (router, fix worker) count under `fixAttempts`,
 * the monitor's auto-fixes under `autoFixes` ({@link FixAttempts.autoFixes}).
 */
import type { RedisClient } from './redis.js';
import { TTL, type KeySpace } from './key-space.js';

export class FixAttempts {
  constructor(
    private readonly redis: RedisClient,
    keys: KeySpace,
    private readonly key: (host: string) => string = (host) => keys.fixAttempts(host),
  ) {}

  /** The auto-fixes the monitor started (its own hourly budget, config fix.autoFixMaxPerHour). */
  static autoFixes(redis: RedisClient, keys: KeySpace): FixAttempts {
    return new FixAttempts(redis, keys, (host) => keys.autoFixes(host));
  }

  /** Fixes started on `host` in the last hour. */
  async count(host: string, now = Date.now()): Promise<number> {
    await this.redis.zremrangebyscore(this.key(host), 0, now - TTL.fixWindowMs);
    return this.redis.zcard(this.key(host));
  }

  /** Record a fix starting now (jobId keeps a retried record from counting twice). */
  async record(host: string, jobId: string, now = Date.now()): Promise<void> {
    await this.redis.multi().zadd(this.key(host), now, jobId).pexpire(this.key(host), TTL.fixWindowMs).exec();
  }
}
