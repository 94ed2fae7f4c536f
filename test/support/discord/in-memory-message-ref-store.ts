/**
 * MessageRefStore kept in a Map, for Discord adapter tests that do not need Redis.
 * Same contract as the Redis store in src/chat/message-ref-store.ts (no TTL: tests are short).
 */
import type { MessageRefStore } from '../../../src/chat/adapter.js';
import type { Platform } from '../../../src/domain/types.js';

/** In-memory refs; `entries` is exposed so tests can inspect or age what the adapter stored. */
export class InMemoryMessageRefStore implements MessageRefStore {
  readonly entries = new Map<string, string>();

  async get(platform: Platform, messageKey: string): Promise<string | undefined> {
    return this.entries.get(`${platform}:${messageKey}`);
  }

  async set(platform: Platform, messageKey: string, ref: string): Promise<void> {
    this.entries.set(`${platform}:${messageKey}`, ref);
  }
}
