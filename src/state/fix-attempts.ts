/**
 * Counts fixes per host over the last hour (a sorted set of timestamps), so clawmedic stops
 * and escalates after N attempts instead of restarting a broken gateway forever.
 */
import type { RedisClient } from './redis.js';
import { TTL, type KeySpace } from './key-space.js';

export class FixAttempts {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  private key(host: string): string {
    return this.keys.fixAttempts(host);
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
