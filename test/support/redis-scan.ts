/**
 * Reads back everything stored under a key prefix, whatever its type, so a test can assert that a
 * value (a tokenized link, an interaction token) is stored nowhere in plain text.
 */
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from '../../src/state/redis.js';
import type { KeySpace } from '../../src/state/key-space.js';

/** One key and the text of everything it holds (hash fields and values, list/set/zset members, stream entries). */
export interface StoredValue {
  key: string;
  type: string;
  text: string;
}

/** The keys matching `pattern`; on a Cluster those of every master (SCAN sees one node's keys only). */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<Set<string>> {
  const keys = new Set<string>();
  const nodes: Redis[] = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      for (const k of batch) keys.add(k);
    } while (cursor !== '0');
  }
  return keys;
}

/** SCAN every key under the prefix of `space` (BullMQ's keys included) and read each with the command its TYPE needs. */
export async function readAllUnder(redis: RedisClient, space: KeySpace): Promise<StoredValue[]> {
  const keys = await scanKeys(redis, space.pattern);
  const out: StoredValue[] = [];
  for (const key of keys) {
    const type = await redis.type(key);
    let value: unknown;
    switch (type) {
      case 'string':
        value = await redis.get(key);
        break;
      case 'hash':
        value = await redis.hgetall(key);
        break;
      case 'list':
        value = await redis.lrange(key, 0, -1);
        break;
      case 'set':
        value = await redis.smembers(key);
        break;
      case 'zset':
        value = await redis.zrange(key, 0, -1, 'WITHSCORES');
        break;
      case 'stream':
        value = await redis.xrange(key, '-', '+');
        break;
      case 'none':
        continue; // expired or deleted between SCAN and TYPE
      default:
        throw new Error(`readAllUnder: key ${key} has type ${type}, which this helper cannot read`);
    }
    out.push({ key, type, text: typeof value === 'string' ? value : JSON.stringify(value) });
  }
  return out;
}

/** The keys under the prefix of `space` whose stored text contains any of `needles` (with the needle found). */
export async function keysContaining(redis: RedisClient, space: KeySpace, needles: string[]): Promise<Array<{ key: string; needle: string }>> {
  const hits: Array<{ key: string; needle: string }> = [];
  for (const v of await readAllUnder(redis, space)) {
    for (const needle of needles) if (v.text.includes(needle)) hits.push({ key: v.key, needle });
  }
  return hits;
}
