/**
 * Regression (found by bench/monitor-fleet at 500 hosts): a lease that merely expired because a
 * renewal round ran late made the save fail, so the host was dropped and re-adopted from older
 * state (lost lines, repeated alerts). Saving now takes an expired, untaken lease back; a lease
 * another process holds still refuses the save.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { IncidentStore } from '../../src/state/incident-store.js';
import { LeaseManager } from '../../src/state/leases.js';
import { newIncident } from '../../src/monitor/incident-machine.js';
import { connKey } from '../../src/domain/incident.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { KeySpace } from '../../src/state/key-space.js';

const prefix = uniquePrefix('lease');
const keys = new KeySpace(prefix);
let redis: Redis;
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
  await cleanupPrefix(prefix);
});

describe('incident save and leases', () => {
  it('takes back an expired, untaken lease; refuses when another process holds it', async () => {
    const store = new IncidentStore(redis, keys);
    store.leaseMs = 5000;
    const me = new LeaseManager(redis, keys, 'proc-a', 5000);
    const inc = newIncident('h1', 'token_mismatch', 'log', Date.now());
    // Nobody holds h1 (ours expired): the save succeeds and the lease is ours again.
    expect(await store.save('h1', 'proc-a', [{ incident: inc, done: false }], undefined)).toBe(true);
    expect(await me.holder('h1')).toBe('proc-a');
    expect(await redis.pttl(me.key('h1'))).toBeGreaterThan(4000);
    // Another process took it: the save is refused.
    await redis.set(me.key('h1'), 'proc-b', 'PX', 5000);
    expect(await store.save('h1', 'proc-a', [{ incident: inc, done: false }], undefined)).toBe(false);
    // renewAll answers per host in one round trip.
    await redis.set(me.key('h2'), 'proc-a', 'PX', 100);
    expect(await me.renewAll(['h1', 'h2', 'h3'])).toEqual([false, true, false]);
    expect(await redis.pttl(me.key('h2'))).toBeGreaterThan(4000);
  });

  it('an incident saved with conn ids as strings (before they became numbers) loads with the same numbers', async () => {
    const store = new IncidentStore(redis, keys);
    const inc = newIncident('h9', 'token_mismatch', 'log', Date.now());
    const old = { ...inc, seenConns: ['3f1c2a9e-1111-4a2b-9c3d-0123456789ab', '7d0e5b4c-2222-4f6a-8b1c-fedcba987654'] };
    await redis.hset(store.incidentKey(inc.id), 'data', JSON.stringify(old));
    await redis.sadd(store.openSetKey('h9'), inc.id);
    const [loaded] = await store.loadOpen('h9');
    expect(loaded!.seenConns).toEqual(old.seenConns.map(connKey));
    expect((await store.get(inc.id))!.seenConns).toEqual(old.seenConns.map(connKey));
  });
});

