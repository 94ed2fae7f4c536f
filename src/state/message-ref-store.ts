/**
 * Redis-backed MessageRefStore: maps a logical messageKey ("job:<id>") to the platform message it was
 * sent as, so later deliveries edit that message in place, across restarts of the bot. A secret that
 * goes with a ref (a Discord interaction token) is kept apart: sealed (SecretBox) under its own key
 * whose TTL ends when the secret stops being useful, never in plain text.
 */
import type { RedisClient } from './redis.js';
import type { MessageRefStore } from '../domain/ports.js';
import type { Platform } from '../domain/types.js';
import { SealedSecretExpiredError, type SecretBox } from '../util/secret-box.js';
import { TTL, type KeySpace } from './key-space.js';

/**
 * One Redis string per (platform, messageKey) (KeySpace.messageRef), with a TTL, and its sealed
 * secret, if any (KeySpace.messageRefSecret). Shared by the Telegram and Discord adapters; the ref
 * format is each adapter's business.
 */
export class RedisMessageRefStore implements MessageRefStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    /** Seals ref secrets (key from CLAWMEDIC_JOB_KEY, never in Redis). */
    private readonly box: SecretBox,
    private readonly ttlSeconds: number = TTL.messageRefSec,
  ) {}

  private key(platform: Platform, messageKey: string): string {
    return this.keys.messageRef(platform, messageKey);
  }

  private secretKey(platform: Platform, messageKey: string): string {
    return this.keys.messageRefSecret(platform, messageKey);
  }

  async get(platform: Platform, messageKey: string): Promise<string | undefined> {
    const value = await this.redis.get(this.key(platform, messageKey));
    return value ?? undefined;
  }

  async set(platform: Platform, messageKey: string, ref: string): Promise<void> {
    await this.redis.set(this.key(platform, messageKey), ref, 'EX', this.ttlSeconds);
  }

  async setSecret(platform: Platform, messageKey: string, secret: string, ttlMs: number): Promise<void> {
    const ms = Math.floor(ttlMs);
    if (ms <= 0) return;
    // Bound to the ref it belongs to: a sealed token copied to another messageKey does not open there.
    const sealed = this.box.seal('interaction-token', `${platform}:${messageKey}`, secret, ms);
    await this.redis.set(this.secretKey(platform, messageKey), sealed, 'PX', ms);
  }

  async getSecret(platform: Platform, messageKey: string): Promise<string | undefined> {
    const sealed = await this.redis.get(this.secretKey(platform, messageKey));
    if (sealed === null) return undefined;
    try {
      return this.box.open('interaction-token', `${platform}:${messageKey}`, sealed);
    } catch (err) {
      // Expired between Redis' TTL and our clock: as good as gone.
      if (err instanceof SealedSecretExpiredError) return undefined;
      throw err;
    }
  }
}
