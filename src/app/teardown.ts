/**
 * One process's shutdown, in one place for both ways it happens (close(), or a chat platform refusing
 * us at start): stop taking work first, let running jobs finish, then release everything else.
 */
import type { Server } from 'node:http';
import type { ChatAdapter } from '../domain/ports.js';
import type { Queues } from '../jobs/queues.js';
import { SHUTDOWN } from '../constants.js';
import type { Logger } from '../util/logger.js';
import type { RedisConnections } from './redis-connections.js';
import { closeWorkers, settlesWithin, type RunningJobs } from './shutdown.js';
import type { AppWorker } from './workers.js';

/** What a process has started, in the order it is released. */
export interface RunningParts {
  adapters: Iterable<ChatAdapter>;
  workers: readonly AppWorker[];
  /** Everything else that needs closing (monitor, recovery, pictures, ops…), in order. */
  closers: ReadonlyArray<() => Promise<unknown>>;
  queues: readonly Queues[];
  http?: Server;
  connections: RedisConnections;
  /** The jobs the workers run now: the shutdown waits for them, and only for them. */
  running: RunningJobs;
  logger: Logger;
}

/** Release everything in `parts`; failures of one part do not stop the others. */
export async function releaseAll(parts: RunningParts): Promise<void> {
  // Stop taking work first; running jobs finish (BullMQ close waits for them). Bounded once no job runs: after a
  // failover a close or a QUIT can wait on a reply that never comes (./shutdown.ts).
  await Promise.allSettled([...parts.adapters].map((a) => a.stop()));
  await closeWorkers(parts.workers, parts.running, parts.logger);
  await Promise.allSettled(parts.closers.map((c) => c()));
  for (const q of parts.queues) await settlesWithin(q.close(), SHUTDOWN.quitMs);
  const http = parts.http;
  if (http) await new Promise((r) => http.close(() => r(undefined)));
  await parts.connections.quit();
}
