/**
 * A graceful shutdown always ends (src/app/shutdown.ts): a running job is waited for, however long it takes past the
 * grace, while a worker whose close waits on Redis with no job running is given the grace and then disconnected.
 * Real BullMQ workers on the shared Redis (unique prefix); in the second case the worker's close() is replaced by one
 * that never returns, as BullMQ's did after a Cluster failover (the Cluster test covers the real failover).
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { closeWorkers, quitRedis, RunningJobs } from '../../src/app/shutdown.js';
import { createLogger } from '../../src/util/logger.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';

const prefix = uniquePrefix('shutdown');
const logger = createLogger('silent');
const GRACE_MS = 600;

afterAll(() => cleanupPrefix(prefix));

describe('bounded shutdown', () => {
  it('waits for a running job past the grace, and closes as soon as it is done', async () => {
    const conn = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue('slow', { connection: conn, prefix });
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const JOB_MS = 3 * GRACE_MS;
    const worker = new Worker(
      'slow',
      async () => {
        started();
        await new Promise((r) => setTimeout(r, JOB_MS));
        return 'done';
      },
      { connection: conn, prefix },
    );
    const jobs = new RunningJobs().watch(worker);
    const job = await queue.add('x', {});
    await running;
    const t0 = Date.now();
    expect(await closeWorkers([worker], jobs, logger, GRACE_MS)).toEqual([]);
    const ms = Date.now() - t0;
    // The job ran to its end (not cut at the grace), and close came right after.
    expect(ms).toBeGreaterThan(JOB_MS - 300);
    expect(ms).toBeLessThan(JOB_MS + 3000);
    expect(await (await queue.getJob(job.id!))!.getState()).toBe('completed');
    expect(jobs.count).toBe(0);
    await queue.close();
    await quitRedis(conn);
    expect(conn.status).toBe('end');
  }, 30_000);

  it('a worker whose close never returns, no job running, is given up after the grace', async () => {
    const conn = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const worker = new Worker('stuck', async () => 'x', { connection: conn, prefix });
    await worker.waitUntilReady();
    // As BullMQ's Worker.close() did after a Cluster failover (a reconnect it awaited never settled): the worker closes,
    // but the promise close() returned never settles.
    const realClose = worker.close.bind(worker);
    worker.close = () => {
      void realClose();
      return new Promise<void>(() => undefined);
    };
    const t0 = Date.now();
    expect(await closeWorkers([worker], new RunningJobs().watch(worker), logger, GRACE_MS)).toEqual(['stuck']);
    const ms = Date.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(GRACE_MS);
    expect(ms).toBeLessThan(GRACE_MS + 3000);
    // Its blocking connection is closed: nothing of it keeps the process alive. (BullMQ 6 does not expose it.)
    const blocking = (worker as unknown as { backend: { blockingConnection: { _client: Redis } } }).backend.blockingConnection._client;
    expect(blocking.status).toBe('end');
    await quitRedis(conn);
    expect(conn.status).toBe('end');
  }, 30_000);
});
