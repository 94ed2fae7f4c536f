/**
 * Real Redis for tests: the one on 127.0.0.1:6379 (REDIS_URL overrides), with a unique key
 * prefix per test file so files can run in parallel, and cleanup of everything under it.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { KeySpace } from '../../src/state/key-space.js';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh prefix like "t-ab12cd34". */
export function uniquePrefix(tag = 't'): string {
  return `${tag}-${randomBytes(4).toString('hex')}`;
}

/** Delete every key under `prefix` (BullMQ keys included). */
export async function cleanupPrefix(prefix: string): Promise<void> {
  const r = new Redis(TEST_REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', new KeySpace(prefix).pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length) await r.del(...keys);
  } while (cursor !== '0');
  r.disconnect();
}
