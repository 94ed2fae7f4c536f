/**
 * Consumer side of the notify queue: hands each delivery to the adapter of its platform.
 * Keeps order per chat inside this process, drops edits older than one already shown, and
 * treats "bot blocked / chat gone / missing permission" as final (logged once, not retried)
 * so one dead chat never stalls the others.
 */
import { Worker, UnrecoverableError, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUES } from '../constants.js';
import { PermanentDeliveryError, type ChatAdapter } from '../chat/adapter.js';
import type { Platform } from '../domain/types.js';
import type { Logger } from '../util/logger.js';
import type { SequencedDelivery } from './notifier.js';

/** Set seq as the newest shown for the key unless a newer one was shown already; returns 1 if this one is newest. */
const ADVANCE_SEQ = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local seq = tonumber(ARGV[1])
if seq < cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', 604800)
return 1`;

export interface NotifyWorkerOptions {
  connection: ConnectionOptions;
  redis: Redis;
  prefix: string;
  adapters: Map<Platform, ChatAdapter>;
  logger: Logger;
  concurrency?: number;
}

/** Start the notify worker; returns the BullMQ Worker (close() it on shutdown). */
export function startNotifyWorker(opts: NotifyWorkerOptions): Worker<SequencedDelivery> {
  const chains = new Map<string, Promise<unknown>>();
  const reportedDead = new Set<string>();

  const deliverInOrder = async (d: SequencedDelivery): Promise<void> => {
    const adapter = opts.adapters.get(d.chat.platform);
    if (!adapter) {
      // The adapter may come back with its credentials after a restart: retry with backoff.
      throw new Error(`no ${d.chat.platform} adapter is running in this process`);
    }
    if (d.messageKey && d.seq !== undefined) {
      const newest = await opts.redis.eval(ADVANCE_SEQ, 1, `${opts.prefix}:shownseq:${d.messageKey}`, String(d.seq));
      if (newest === 0) return; // a newer state of this message is already shown
    }
    await adapter.deliver(d);
  };

  const worker = new Worker<SequencedDelivery>(
    QUEUES.notify,
    async (job) => {
      const d = job.data;
      const chatKey = `${d.chat.platform}:${d.userId ?? d.chat.chatId}`;
      const previous = chains.get(chatKey) ?? Promise.resolve();
      const mine = previous.catch(() => undefined).then(() => deliverInOrder(d));
      chains.set(chatKey, mine);
      try {
        await mine;
      } catch (err) {
        if (err instanceof PermanentDeliveryError) {
          if (!reportedDead.has(chatKey)) {
            reportedDead.add(chatKey);
            opts.logger.warn({ chat: chatKey, reason: err.message }, 'chat cannot receive messages; dropping deliveries to it');
          }
          throw new UnrecoverableError(err.message);
        }
        throw err;
      } finally {
        if (chains.get(chatKey) === mine) chains.delete(chatKey);
      }
    },
    { connection: opts.connection, prefix: opts.prefix, concurrency: opts.concurrency ?? 8 },
  );
  worker.on('error', (err) => opts.logger.error({ err }, 'notify worker error'));
  return worker;
}
