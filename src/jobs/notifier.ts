/**
 * Producer side of the notify queue: every reply a worker or the monitor sends goes through
 * here, so a Telegram/Discord outage or a bot restart delays a message but never loses it.
 * Each delivery for a messageKey gets a sequence number so a late, older edit never
 * overwrites a newer one. Console deliveries go by pub/sub to the one terminal that waits for them.
 */
import type { Redis } from 'ioredis';
import type { Delivery } from '../domain/types.js';
import { DELIVERY } from '../constants.js';
import type { Queues } from './queues.js';

/** A delivery as queued: with its place in the order of its messageKey. */
export interface SequencedDelivery extends Delivery {
  seq?: number;
  /** Epoch ms after which the delivery is given up (and audited) instead of sent late. */
  expiresAt?: number;
}

export class Notifier {
  constructor(
    private readonly queues: Pick<Queues, 'notify'>,
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Queue one delivery; `delayMs` holds it back (an expiry notice goes out when the buttons expire). */
  async send(delivery: Delivery, opts: { delayMs?: number } = {}): Promise<void> {
    const delayMs = Math.max(0, opts.delayMs ?? 0);
    let seq: number | undefined;
    if (delivery.messageKey) {
      const key = `${this.prefix}:seq:${delivery.messageKey}`;
      const [[, n]] = (await this.redis.multi().incr(key).expire(key, 7 * 86400).exec()) as [[Error | null, number]];
      seq = n;
    }
    const data: SequencedDelivery = { ...delivery, seq, expiresAt: Date.now() + delayMs + DELIVERY.ttlSec * 1000 };
    const platform = delivery.chat.platform;
    if (platform === 'console') {
      // A delayed console delivery is dropped: the terminal's session is short and has no buttons to retire.
      if (delayMs > 0) return;
      // A console lives in one terminal: publish to it directly instead of a queue any process may take.
      await this.redis.publish(consoleChannel(this.prefix, delivery.chat.chatId), JSON.stringify(data));
      return;
    }
    // A delivery carrying a secret must not linger in Redis as a completed job.
    const keep = delivery.reply.secret ? { removeOnComplete: true, removeOnFail: true } : {};
    // The platform's own queue: only a process running its adapter takes it (notify-worker.ts).
    await this.queues.notify[platform].add('deliver', data, { ...keep, ...(delayMs > 0 ? { delay: delayMs } : {}) });
  }
}

/** Pub/sub channel of one console session. */
export function consoleChannel(prefix: string, chatId: string): string {
  return `${prefix}:console:${chatId}`;
}
