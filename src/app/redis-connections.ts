/**
 * The Redis connections of one process, each with its own failure behaviour: the fail-fast producer
 * (router, HTTP checks), BullMQ's worker connection, the job connection that waits a failover out,
 * and the console's subscriber when it runs.
 */
import type { LoadedConfig } from '../config/load-config.js';
import { createRedis, redisTarget, type RedisClient } from '../state/redis.js';
import { waitForRedis } from '../state/redis-wait.js';
import type { Logger } from '../util/logger.js';
import { quitRedis } from './shutdown.js';

/** The process's connections; disconnect() ends them all. */
export interface RedisConnections {
  /** Fail-fast producer: the router and the HTTP checks. */
  redis: RedisClient;
  /** BullMQ's worker connection. */
  workerConn: RedisClient;
  /**
   * What workers write while a job runs (steps, results, audit records) waits out a Redis restart or a Sentinel
   * failover instead of failing the job half-way: its own connection with maxRetriesPerRequest null. Not BullMQ's
   * worker connection: BullMQ's scripts defined there would weigh on every MULTI.
   */
  jobRedis: RedisClient;
  /** A subscriber connection (the console's), opened on first call. */
  subscriber(): RedisClient;
  disconnect(): void;
  /** QUIT each (what was sent gets its replies), at most SHUTDOWN.quitMs, then close it either way. */
  quit(): Promise<void>;
}

/** Wait for Redis (up to `waitMs`), then open the connections. */
export async function connectRedis(loaded: LoadedConfig, logger: Logger, waitMs: number): Promise<RedisConnections> {
  // One target for every connection of the process: REDIS_URL, or its credentials + the sentinels or the cluster nodes.
  const { url, extra: tls } = redisTarget(loaded.config.redis, loaded.secrets);
  await waitForRedis(url, logger, waitMs, tls);
  const redis = createRedis(url, 'producer', tls);
  const workerConn = createRedis(url, 'worker', tls);
  const jobRedis = createRedis(url, 'worker', tls);
  for (const c of [redis, workerConn, jobRedis]) c.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  let subscriber: RedisClient | undefined;
  return {
    redis,
    workerConn,
    jobRedis,
    subscriber() {
      if (!subscriber) {
        subscriber = createRedis(url, 'subscriber', tls);
        subscriber.on('error', () => undefined);
      }
      return subscriber;
    },
    disconnect() {
      subscriber?.disconnect();
      redis.disconnect();
      workerConn.disconnect();
      jobRedis.disconnect();
    },
    async quit() {
      await Promise.all([subscriber, redis, workerConn, jobRedis].map((c) => c && quitRedis(c)));
    },
  };
}
