/**
 * Producer side of the notify queue: every reply a worker or the monitor sends goes through
 * here, so a Telegram/Discord outage or a bot restart delays a message but never loses it.
 * Each delivery for a messageKey gets a sequence number so a late, older edit never
 * overwrites a newer one. Console deliveries go by pub/sub to the one terminal that waits for them.
 * A reply's secret (a fresh tokenized dashboard link) never goes to Redis as it is: it is sealed
 * (SecretBox, bound to its recipient) and kept DELIVERY.secretTtlSec at most; it is opened only by
 * the process that sends it, at the moment it sends it (openDelivery).
 */
import type { RedisClient } from '../state/redis.js';
import type { Delivery, Reply } from '../domain/types.js';
import { DELIVERY } from '../constants.js';
import type { SecretBox } from '../util/secret-box.js';
import type { Queues } from './queues.js';
import { TTL, type KeySpace } from '../state/key-space.js';

/** A delivery as queued: with its place in the order of its messageKey. */
export interface SequencedDelivery extends Delivery {
  seq?: number;
  /** Epoch ms after which the delivery is given up (and audited) instead of sent late. */
  expiresAt?: number;
  /** `reply.secret`, sealed for this recipient until `expiresAt`; the reply itself carries no secret when queued. */
  sealedSecret?: string;
}

/** Options of Notifier; defaults in brackets. */
export interface NotifierOptions {
  /** How long a secret is kept sealed in Redis before the requester is told to ask again [DELIVERY.secretTtlSec]. */
  secretTtlMs?: number;
}

/** What a sealed secret is bound to: where it goes and to whom, so a copy moved to another delivery does not open. */
export function secretRecipient(d: Pick<Delivery, 'chat' | 'userId'>): string {
  return `${d.chat.platform}:${d.chat.chatId}:${d.userId ?? ''}`;
}

/**
 * The delivery as it is to be sent: its secret opened (SecretBox) and put back into the reply.
 * Throws SealedSecretExpiredError / SealedSecretRejectedError (messages carry neither secret nor key).
 */
export function openDelivery(box: SecretBox, d: SequencedDelivery): SequencedDelivery {
  if (d.sealedSecret === undefined) return d;
  const secret = box.open('delivery-secret', secretRecipient(d), d.sealedSecret);
  const { sealedSecret: _sealed, ...rest } = d;
  return { ...rest, reply: { ...d.reply, secret } };
}

/**
 * What replaces a secret-bearing delivery that cannot be made (its secret expired, or does not
 * open): its fallback notice, or a generic one, with no secret, kept and retried like any delivery.
 */
export function secretNotice(d: SequencedDelivery, now = Date.now()): SequencedDelivery {
  const { sealedSecret: _sealed, secretFallback, ...rest } = d;
  const reply: Reply = secretFallback ?? {
    title: `${d.reply.title}: not delivered`,
    tone: 'warn',
    body: [
      `It could not be delivered within ${Math.round(DELIVERY.secretTtlSec / 60)} minutes and was discarded: clawmedic does not keep a secret longer. Ask for a new one.`,
    ],
    private: d.reply.private,
  };
  return { ...rest, reply: { ...reply, secret: undefined }, expiresAt: now + DELIVERY.ttlSec * 1000 };
}

export class Notifier {
  constructor(
    private readonly queues: Pick<Queues, 'notify'>,
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    /** Seals reply secrets before they are queued (key from CLAWMEDIC_JOB_KEY, never in Redis). */
    private readonly box: SecretBox,
    private readonly options: NotifierOptions = {},
  ) {}

  /** Queue one delivery; `delayMs` holds it back (an expiry notice goes out when the buttons expire). */
  async send(delivery: Delivery, opts: { delayMs?: number } = {}): Promise<void> {
    const delayMs = Math.max(0, opts.delayMs ?? 0);
    let seq: number | undefined;
    if (delivery.messageKey) {
      const key = this.keys.messageSeq(delivery.messageKey);
      const [[, n]] = (await this.redis.multi().incr(key).expire(key, TTL.messageSeqSec).exec()) as [[Error | null, number]];
      seq = n;
    }
    const now = Date.now();
    let data: SequencedDelivery = { ...delivery, seq, expiresAt: now + delayMs + DELIVERY.ttlSec * 1000 };
    const secret = delivery.reply.secret;
    if (secret !== undefined) {
      // The secret goes out sealed for this recipient and for minutes only; the reply itself carries none.
      const ttlMs = delayMs + (this.options.secretTtlMs ?? DELIVERY.secretTtlSec * 1000);
      const sealedSecret = this.box.seal('delivery-secret', secretRecipient(delivery), secret, ttlMs, now);
      data = { ...data, reply: { ...delivery.reply, secret: undefined }, sealedSecret, expiresAt: now + ttlMs };
    }
    const platform = delivery.chat.platform;
    if (platform === 'console') {
      // A delayed console delivery is dropped: the terminal's session is short and has no buttons to retire.
      if (delayMs > 0) return;
      // A console lives in one terminal: publish to it directly instead of a queue any process may take.
      await this.redis.publish(this.keys.consoleChannel(delivery.chat.chatId), JSON.stringify(data));
      return;
    }
    // A delivery carrying a secret does not linger in Redis as a completed or failed job, even sealed.
    const keep = secret !== undefined ? { removeOnComplete: true, removeOnFail: true } : {};
    // The platform's own queue: only a process running its adapter takes it (notify-worker.ts).
    await this.queues.notify[platform].add('deliver', data, { ...keep, ...(delayMs > 0 ? { delay: delayMs } : {}) });
  }
}

