/**
 * Per-host single flight against the real Redis at 127.0.0.1:6379 with a unique key prefix.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acquireHostLock, getHostLockHolder } from '../../src/state/host-lock.js';
import { KeySpace } from '../../src/state/key-space.js';

const prefix = `clawmedic-test:${randomUUID()}`;
const keys = new KeySpace(prefix);
let redis: Redis;

beforeAll(() => {
  redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1, lazyConnect: false });
});
afterEach(async () => {
  const found = await redis.keys(`${prefix}:*`);
  if (found.length) await redis.del(...found);
});
afterAll(async () => {
  await redis.quit();
});

describe('acquireHostLock', () => {
  it('gives the lock to one holder and tells the second who holds it', async () => {
    const a = await acquireHostLock(redis, keys, 'prod', { jobId: 'job-1', action: 'fix', startedBy: 'alice' }, 10_000);
    expect(a).not.toBeNull();
    const b = await acquireHostLock(redis, keys, 'prod', { jobId: 'job-2', action: 'fix', startedBy: 'bob' }, 10_000);
    expect(b).toBeNull();
    const holder = await getHostLockHolder(redis, keys, 'prod');
    expect(holder).toMatchObject({ jobId: 'job-1', action: 'fix', startedBy: 'alice' });
    expect(holder!.ttlMs).toBeGreaterThan(9_000);
    expect(holder!.startedAt).toBeGreaterThan(Date.now() - 5_000);
    // Other hosts are independent.
    const other = await acquireHostLock(redis, keys, 'staging', { jobId: 'job-3', action: 'restart' }, 10_000);
    expect(other).not.toBeNull();
  });

  it('lets exactly one of many concurrent acquirers win', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => acquireHostLock(redis, keys, 'race', { jobId: `j${i}`, action: 'fix' }, 10_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('release frees the lock for the next holder and is a no-op the second time', async () => {
    const a = (await acquireHostLock(redis, keys, 'prod', { jobId: 'job-1', action: 'fix' }, 10_000))!;
    expect(await a.release()).toBe(true);
    expect(await a.release()).toBe(false);
    expect(await getHostLockHolder(redis, keys, 'prod')).toBeNull();
    expect(await acquireHostLock(redis, keys, 'prod', { jobId: 'job-2', action: 'fix' }, 10_000)).not.toBeNull();
  });

  it('a holder whose lock expired cannot release or extend the next holder\'s lock', async () => {
    const a = (await acquireHostLock(redis, keys, 'prod', { jobId: 'job-1', action: 'fix' }, 100))!;
    await new Promise((r) => setTimeout(r, 200));
    const b = await acquireHostLock(redis, keys, 'prod', { jobId: 'job-2', action: 'fix' }, 10_000);
    expect(b).not.toBeNull();
    expect(await a.release()).toBe(false);
    expect(await a.extend(60_000)).toBe(false);
    expect((await getHostLockHolder(redis, keys, 'prod'))!.jobId).toBe('job-2');
  });

  it('extend pushes the expiry out while the lock is ours', async () => {
    const a = (await acquireHostLock(redis, keys, 'prod', { jobId: 'job-1', action: 'fix' }, 300))!;
    expect(await a.extend(5_000)).toBe(true);
    expect(await redis.pttl(keys.hostLock('prod'))).toBeGreaterThan(4_000);
    await new Promise((r) => setTimeout(r, 400));
    expect((await getHostLockHolder(redis, keys, 'prod'))!.jobId).toBe('job-1');
  });

  it('rejects a non-positive ttl', async () => {
    await expect(acquireHostLock(redis, keys, 'prod', { jobId: 'x', action: 'fix' }, 0)).rejects.toThrow(RangeError);
  });
});
