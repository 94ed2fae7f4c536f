/**
 * One process's shutdown, in one place for both ways it happens (close(), or a chat platform refusing
 * us at start): stop taking work first, let running jobs finish, then release everything else.
 */
import type { Server } from 'node:http';
import type { ChatAdapter } from '../domain/ports.js';
import type { Queues } from '../jobs/queues.js';
import type { RedisConnections } from './redis-connections.js';
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
}

/** Release everything in `parts`; failures of one part do not stop the others. */
export async function releaseAll(parts: RunningParts): Promise<void> {
  // Stop taking work first; running jobs finish (BullMQ close waits for them).
  await Promise.allSettled([...parts.adapters].map((a) => a.stop()));
  await Promise.allSettled(parts.workers.map((w) => w.close()));
  await Promise.allSettled(parts.closers.map((c) => c()));
  for (const q of parts.queues) await q.close().catch(() => undefined);
  const http = parts.http;
  if (http) await new Promise((r) => http.close(() => r(undefined)));
  parts.connections.disconnect();
}
