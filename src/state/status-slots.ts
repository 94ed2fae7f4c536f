/**
 * How many /status jobs one chat has queued or running (issue 12.6): 200 `/status` in a burst
 * must not become 200 SSH jobs. The router reserves a slot before it queues; the host worker
 * frees it when the job ends. A sorted set per chat (score = when reserved) so a slot whose job
 * died without freeing it ages out instead of blocking the chat for ever.
 */
import type { RedisClient } from './redis.js';
import type { ChatRef } from '../domain/types.js';
import type { KeySpace } from './key-space.js';

type Where = Pick<ChatRef, 'platform' | 'chatId'>;

export class StatusSlots {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    /** Most /status jobs one chat may have waiting at once. */
    readonly perChat: number,
    /** A slot older than this is forgotten (longer than any status job can run). */
    private readonly maxAgeSec: number,
  ) {}

  /** Reserve a slot for jobId; false when the chat already has `perChat` waiting. */
  async reserve(where: Where, jobId: string): Promise<boolean> {
    const key = this.key(where);
    const now = Date.now();
    try {
      const replies = await this.redis
        .multi()
        .zremrangebyscore(key, 0, now - this.maxAgeSec * 1000)
        .zadd(key, now, jobId)
        .zcard(key)
        .expire(key, this.maxAgeSec)
        .exec();
      const count = Number(replies?.[2]?.[1] ?? 0);
      if (count <= this.perChat) return true;
      await this.redis.zrem(key, jobId);
      return false;
    } catch {
      // Redis unreachable: the enqueue that follows fails with its own clear message.
      return true;
    }
  }

  /** The job was never queued: free its slot. */
  async release(where: Where, jobId: string): Promise<void> {
    await releaseStatusSlot(this.redis, this.keys, where, jobId);
  }

  private key(where: Where): string {
    return this.keys.statusSlots(where.platform, where.chatId);
  }
}

/** The host worker ends a /status job: free the chat's slot (never throws: a slot also ages out). */
export async function releaseStatusSlot(redis: RedisClient, keys: KeySpace, where: Where, jobId: string): Promise<void> {
  await redis.zrem(keys.statusSlots(where.platform, where.chatId), jobId).catch(() => undefined);
}
