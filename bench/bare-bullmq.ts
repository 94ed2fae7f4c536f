/**
 * The BullMQ baseline of the benchmarks: a bare Queue.add → no-op Worker → completed round trip on
 * the same Redis, against which clawmedic's queue path is compared.
 */
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { timeMs } from './bench-kit.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../test/support/redis.js';

/** A bare BullMQ round trip: Queue.add → Worker (no-op) → completed seen through QueueEvents. */
export async function bareBullmq(tag = 'bench-bull'): Promise<{ roundTrip: () => Promise<number>; close: () => Promise<void> }> {
  const prefix = uniquePrefix(tag);
  const producer = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
  const workerConn = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('bare', { connection: producer, prefix });
  const worker = new Worker('bare', async () => 'ok', { connection: workerConn, prefix, concurrency: 4 });
  const events = new QueueEvents('bare', { connection: { url: TEST_REDIS_URL } as never, prefix });
  await Promise.all([queue.waitUntilReady(), worker.waitUntilReady(), events.waitUntilReady()]);
  return {
    roundTrip: () =>
      timeMs(async () => {
        const job = await queue.add('j', { host: 'prod', n: 1 }, { removeOnComplete: true });
        await job.waitUntilFinished(events, 10_000);
      }),
    async close() {
      await worker.close();
      await events.close();
      await queue.close();
      producer.disconnect();
      workerConn.disconnect();
      await cleanupPrefix(prefix);
    },
  };
}
