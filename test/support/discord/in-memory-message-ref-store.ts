/**
 * MessageRefStore kept in a Map, for Discord adapter tests that do not need Redis.
 * Same contract as the Redis store in src/state/message-ref-store.ts (refs without TTL: tests are
 * short; secrets end at their TTL as there, and live in this process's memory only).
 */
import type { MessageRefStore } from '../../../src/domain/ports.js';
import type { Platform } from '../../../src/domain/types.js';

/** In-memory refs; `entries` is exposed so tests can inspect or age what the adapter stored. */
export class InMemoryMessageRefStore implements MessageRefStore {
  readonly entries = new Map<string, string>();
  /** Ref secrets (interaction tokens) with when they expire. */
  readonly secrets = new Map<string, { value: string; expiresAt: number }>();

  async get(platform: Platform, messageKey: string): Promise<string | undefined> {
    return this.entries.get(`${platform}:${messageKey}`);
  }

  async set(platform: Platform, messageKey: string, ref: string): Promise<void> {
    this.entries.set(`${platform}:${messageKey}`, ref);
  }

  async setSecret(platform: Platform, messageKey: string, secret: string, ttlMs: number): Promise<void> {
    if (ttlMs > 0) this.secrets.set(`${platform}:${messageKey}`, { value: secret, expiresAt: Date.now() + ttlMs });
  }

  async getSecret(platform: Platform, messageKey: string): Promise<string | undefined> {
    const s = this.secrets.get(`${platform}:${messageKey}`);
    return s && Date.now() <= s.expiresAt ? s.value : undefined;
  }
}
