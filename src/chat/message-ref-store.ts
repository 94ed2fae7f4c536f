/**
 * Redis-backed MessageRefStore: maps a logical messageKey ("job:<id>") to the platform message it was
 * sent as, so later deliveries edit that message in place, across restarts of the bot.
 */
import type { Redis } from 'ioredis';
import type { MessageRefStore } from './adapter.js';
import type { Platform } from '../domain/types.js';

/** Refs outlive any job or incident message we would still edit; after that they simply expire. */
const DEFAULT_TTL_SECONDS = 7 * 24 * 3600;

/**
 * One Redis string per (platform, messageKey) under `<prefix>:msgref:`, with a TTL.
 * Shared by the Telegram and Discord adapters; the ref format is each adapter's business.
 */
export class RedisMessageRefStore implements MessageRefStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds = DEFAULT_TTL_SECONDS,
  ) {}

  private key(platform: Platform, messageKey: string): string {
    return `${this.prefix}:msgref:${platform}:${messageKey}`;
  }

  async get(platform: Platform, messageKey: string): Promise<string | undefined> {
    const value = await this.redis.get(this.key(platform, messageKey));
    return value ?? undefined;
  }

  async set(platform: Platform, messageKey: string, ref: string): Promise<void> {
    await this.redis.set(this.key(platform, messageKey), ref, 'EX', this.ttlSeconds);
  }
}
