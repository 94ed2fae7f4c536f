/**
 * The BullMQ queues clawmedic uses, created from one place with one prefix. Producer
 * connections keep a finite maxRetriesPerRequest so enqueueing fails fast when Redis is gone.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import { DELIVERY, NOTIFY_PLATFORMS, QUEUES, notifyQueueName, type NotifyPlatform } from '../constants.js';
import type { FixJobData, HostJobData, HostJobName, NotifyJobData } from './payloads.js';
import type { KeySpace } from '../state/key-space.js';

export interface Queues {
  diagnose: Queue<HostJobData, unknown, HostJobName>;
  fix: Queue<FixJobData, unknown, 'fix'>;
  /** One notify queue per chat platform: only processes running that platform's adapter consume it. */
  notify: Record<NotifyPlatform, Queue<NotifyJobData, unknown, 'deliver'>>;
  close(): Promise<void>;
}

/** Completed/failed jobs are kept a while for /history and debugging, then trimmed. */
const KEEP = { removeOnComplete: { age: 24 * 3600, count: 1000 }, removeOnFail: { age: 7 * 24 * 3600, count: 5000 } };

/**
 * The connection BullMQ gets: a duplicate of an ioredis instance, never the instance itself. BullMQ
 * defines its ~60 Lua scripts as commands on the connection it is given, and ioredis copies every
 * defined command into each multi()/pipeline() made on that connection afterwards: 13.6 KB and 3× the
 * time per multi() instead of 5 KB (measured), paid by every audit record, button and notify MULTI
 * of the app, thousands a minute in a monitor of 500 hosts.
 */
export function queueConnection(connection: ConnectionOptions): { connection: ConnectionOptions; close(): void } {
  const c = connection as { duplicate?: () => ConnectionOptions & { disconnect(): void } };
  if (typeof c.duplicate !== 'function') return { connection, close: () => undefined };
  const own = c.duplicate();
  return { connection: own, close: () => own.disconnect() };
}

/** Create all queues on `connection` (an ioredis instance or options); BullMQ names their keys under `keys.prefix`. */
export function createQueues(
  shared: ConnectionOptions,
  keys: KeySpace,
  /** Connection errors while Redis is away; BullMQ prints them to stderr when nobody listens. */
  onError: (err: Error) => void = () => undefined,
): Queues {
  const own = queueConnection(shared);
  const prefix = keys.prefix;
  const connection = own.connection;
  const diagnose = new Queue<HostJobData, unknown, HostJobName>(QUEUES.diagnose, {
    connection,
    prefix,
    defaultJobOptions: KEEP,
  });
  const fix = new Queue<FixJobData, unknown, 'fix'>(QUEUES.fix, {
    connection,
    prefix,
    // A fix may have half-run: never retried automatically.
    defaultJobOptions: { ...KEEP, attempts: 1 },
  });
  const notifyQueue = (platform: NotifyPlatform): Queue<NotifyJobData, unknown, 'deliver'> =>
    new Queue<NotifyJobData, unknown, 'deliver'>(notifyQueueName(platform), {
      connection,
      prefix,
      // Chat outages delay a message, never lose it: retried with capped backoff until it expires (DELIVERY).
      defaultJobOptions: { ...KEEP, attempts: DELIVERY.attempts, backoff: { type: DELIVERY.backoffType } },
    });
  const notify = Object.fromEntries(NOTIFY_PLATFORMS.map((p) => [p, notifyQueue(p)])) as Queues['notify'];
  const all = [diagnose, fix, ...Object.values(notify)];
  for (const q of all) q.on('error', onError);
  return {
    diagnose,
    fix,
    notify,
    async close() {
      await Promise.all(all.map((q) => q.close()));
      own.close();
    },
  };
}
