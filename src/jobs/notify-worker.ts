/**
 * Consumer side of the notify queues: one BullMQ worker per platform whose adapter runs in this
 * process, so a delivery is only ever taken by a process that can send it. Keeps order per chat
 * inside this process, drops edits older than one already shown, treats "bot blocked / chat gone /
 * missing permission" as final (logged once, not retried) so one dead chat never stalls the others,
 * and retries everything else until the delivery expires. Alerts are audited when delivered, and
 * every delivery given up is audited with why. A sealed secret (notifier.ts) is opened here, in
 * memory, right before it is sent; one that expired or does not open is replaced, in Redis too, by
 * a notice telling the requester to ask again, so the ciphertext does not outlive its minutes.
 */
import { Worker, UnrecoverableError, type ConnectionOptions, type Job } from 'bullmq';
import type { RedisClient } from '../state/redis.js';
import { DELIVERY, NOTIFY_PLATFORMS, notifyQueueName, type NotifyPlatform } from '../constants.js';
import { PermanentDeliveryError } from '../domain/errors.js';
import type { ChatAdapter } from '../domain/ports.js';
import type { AuditLog } from '../state/audit-log.js';
import type { PictureRef, Platform } from '../domain/types.js';
import type { Logger } from '../util/logger.js';
import { REDACTED } from '../util/redact.js';
import { SealedSecretExpiredError, type SecretBox } from '../util/secret-box.js';
import { openDelivery, secretNotice, type SequencedDelivery } from './notifier.js';
import { TTL, type KeySpace } from '../state/key-space.js';

/**
 * Set seq (ARGV[1]) as the newest shown for the key unless a newer one was shown already; returns 1 if this one is
 * newest. ARGV[2]: the key's TTL in seconds (TTL.messageSeqSec).
 */
const ADVANCE_SEQ = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local seq = tonumber(ARGV[1])
if seq < cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return 1`;

/** messageKeys of alert messages (alerts/alert-sender.ts): their fate is audited either way. */
const isAlert = (d: SequencedDelivery): boolean => d.messageKey?.startsWith('incident') ?? false;

/**
 * A delivery that sets all a reader sees of its message, and nothing else: it may be superseded by a
 * newer one of the same message, and may supersede an older one. Not: one that retires buttons (the
 * expiry edit that removes a keyboard is shown only if they are unused, so it cannot stand in for
 * another), a private or secret one, a picture, or one with a detail (it may go out as a file, a message
 * of its own that no later edit replaces).
 */
const isPlainEdit = (d: SequencedDelivery): boolean =>
  d.messageKey !== undefined &&
  d.seq !== undefined &&
  !d.retires?.length &&
  !d.reply.private &&
  d.reply.secret === undefined &&
  d.sealedSecret === undefined &&
  d.reply.image === undefined &&
  d.reply.detail === undefined;

export interface NotifyWorkerOptions {
  connection: ConnectionOptions;
  redis: RedisClient;
  /** Names of the Redis keys, and BullMQ's prefix. */
  keys: KeySpace;
  adapters: Map<Platform, ChatAdapter>;
  logger: Logger;
  /** Opens sealed reply secrets (the same key as the Notifier's: CLAWMEDIC_JOB_KEY). */
  box: SecretBox;
  /** Retires the buttons a delivery names (Delivery.retires); without it such deliveries are dropped. */
  buttons?: { retire(tokens: string[]): Promise<boolean> };
  /** Where delivered alerts and given-up deliveries are recorded (optional for benches). */
  audit?: AuditLog;
  /** Makes the PNG of a reply's picture (alerts/picture-source.ts); without it picture messages are dropped. */
  pictures?: { png(ref: PictureRef): Promise<Uint8Array | undefined> };
  concurrency?: number;
}

/** The notify workers of one process, closed and checked together. */
export interface NotifyWorkers {
  workers: Worker<SequencedDelivery>[];
  close(): Promise<void>;
  isRunning(): boolean;
}

/** Capped exponential backoff (DELIVERY): 1 s, 2 s, 4 s … at most 5 min apart. */
export function deliveryBackoffMs(attemptsMade: number): number {
  return Math.min(DELIVERY.backoffFirstMs * 2 ** Math.max(0, attemptsMade - 1), DELIVERY.backoffMaxMs);
}

/** deliveryBackoffMs, except that a sealed secret's last try is at its expiry, so the "ask again" notice follows at once. */
export function notifyBackoffMs(attemptsMade: number, data: Pick<SequencedDelivery, 'sealedSecret' | 'expiresAt'> | undefined, now = Date.now()): number {
  const ms = deliveryBackoffMs(attemptsMade);
  if (data?.sealedSecret === undefined || data.expiresAt === undefined) return ms;
  return Math.max(0, Math.min(ms, data.expiresAt - now + 50));
}

/**
 * What each notify job goes through: its sealed secret opened (or replaced by its notice), its expiry,
 * its picture made, then delivered in order per chat (one chain per chat: a later message never
 * overtakes an earlier one), with the outcome audited for alerts.
 */
class NotifyProcessor {
  private readonly chains = new Map<string, Promise<unknown>>();
  /**
   * Per chat and messageKey, the seqs of plain edits (isPlainEdit) waiting in the chat's chain. The chain
   * hands the adapter one delivery per chat at a time, so the adapter's own "a newer edit supersedes a
   * waiting one" never sees two: stale progress edits would each take a turn at the chat's pace after the
   * outcome is known. They are dropped here instead, where they wait.
   */
  private readonly waitingEdits = new Map<string, Set<number>>();
  private readonly reportedDead = new Set<string>();

  constructor(private readonly opts: NotifyWorkerOptions) {}

  private audit(d: SequencedDelivery, event: 'delivered' | 'undelivered' | 'superseded', detail: string): Promise<void> {
    return (
      this.opts.audit?.record({ event, action: 'deliver', chat: d.chat, detail: `${d.messageKey ?? 'reply'}: ${detail}` }).catch((err: unknown) => {
        this.opts.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'audit of a delivery failed');
      }) ?? Promise.resolve()
    );
  }

  /** Note a plain edit as waiting in its chat's chain; returns its slot key (undefined: it is not one). */
  private wait(chatKey: string, d: SequencedDelivery): string | undefined {
    if (!isPlainEdit(d)) return undefined;
    const slot = `${chatKey}\u0000${d.messageKey}`;
    const seqs = this.waitingEdits.get(slot) ?? new Set<number>();
    seqs.add(d.seq!);
    this.waitingEdits.set(slot, seqs);
    return slot;
  }

  private unwait(slot: string | undefined, seq: number | undefined): void {
    const seqs = slot === undefined ? undefined : this.waitingEdits.get(slot);
    if (!seqs || seq === undefined) return;
    seqs.delete(seq);
    if (seqs.size === 0) this.waitingEdits.delete(slot!);
  }

  /**
   * At the front of its chat's chain: is a newer plain edit of the same message already waiting behind it,
   * and does the message exist (a first send creates it, and is never skipped)? Then it need not be sent.
   */
  private async superseded(slot: string | undefined, d: SequencedDelivery): Promise<boolean> {
    const seqs = slot === undefined ? undefined : this.waitingEdits.get(slot);
    if (!seqs || ![...seqs].some((s) => s > d.seq!)) return false;
    return (await this.opts.redis.exists(this.opts.keys.messageRef(d.chat.platform, d.messageKey!))) === 1;
  }

  /** Its turn in the chain: sent, or skipped for a newer edit of its message waiting behind it. */
  private async atFront(adapter: ChatAdapter, d: SequencedDelivery, slot: string | undefined): Promise<'sent' | 'superseded'> {
    this.unwait(slot, d.seq);
    if (await this.superseded(slot, d)) return 'superseded';
    await this.deliverInOrder(adapter, d);
    return 'sent';
  }

  private async deliverInOrder(adapter: ChatAdapter, d: SequencedDelivery): Promise<void> {
    const { opts } = this;
    // An expiry notice: shown only if its buttons were never pressed (a pressed Cancel must stay as it is).
    if (d.retires?.length && !(await opts.buttons?.retire(d.retires))) return;
    if (d.messageKey && d.seq !== undefined) {
      const newest = await opts.redis.eval(ADVANCE_SEQ, 1, opts.keys.shownSeq(d.messageKey), String(d.seq), String(TTL.messageSeqSec));
      if (newest === 0) return; // a newer state of this message is already shown
    }
    await adapter.deliver(d);
  }

  /** Replace a secret-bearing delivery that cannot be made by its notice, in the job too (the ciphertext leaves Redis). */
  private async dropSecret(job: Job<SequencedDelivery>, d: SequencedDelivery, why: string): Promise<SequencedDelivery> {
    const notice = secretNotice(d);
    await job.updateData(notice);
    await this.audit(d, 'undelivered', `private secret ${why} after ${job.attemptsMade} attempt(s); the requester is told to ask again`);
    return notice;
  }

  /** The job as stored (`stored`: its secret replaced by the notice if it cannot be opened) and what to send. */
  private async open(job: Job<SequencedDelivery>): Promise<{ stored: SequencedDelivery; toSend: SequencedDelivery }> {
    const d = job.data;
    if (d.sealedSecret === undefined) return { stored: d, toSend: d };
    // Opened in memory only, for this attempt; never written back, never logged.
    try {
      return { stored: d, toSend: openDelivery(this.opts.box, d) };
    } catch (err) {
      const expired = err instanceof SealedSecretExpiredError;
      if (!expired) this.opts.logger.warn({ err: err instanceof Error ? err.message : String(err), messageKey: d.messageKey }, 'notify: a sealed secret does not open; sending the notice instead');
      const notice = await this.dropSecret(job, d, expired ? 'expired' : 'could not be opened');
      return { stored: notice, toSend: notice };
    }
  }

  /**
   * The picture is made here, in the sending process, outside the chat's order chain (a render must not
   * hold up the chat's other messages); only its reference was queued. Undefined: no picture could be made.
   */
  private async withPicture(toSend: SequencedDelivery): Promise<SequencedDelivery | undefined> {
    const image = toSend.reply.image;
    if (!image || image.data) return toSend;
    const data = await this.opts.pictures?.png(image.ref);
    if (!data) return undefined;
    return { ...toSend, reply: { ...toSend.reply, image: { ...image, data } } };
  }

  readonly process = (adapter: ChatAdapter) => async (job: Job<SequencedDelivery>): Promise<void> => {
    const { stored: d, toSend: opened } = await this.open(job);
    if (d.expiresAt !== undefined && Date.now() > d.expiresAt) {
      await this.audit(d, 'undelivered', `expired after ${job.attemptsMade} attempt(s)`);
      throw new UnrecoverableError('delivery expired');
    }
    const toSend = await this.withPicture(opened);
    if (!toSend) {
      this.opts.logger.warn({ messageKey: d.messageKey }, 'picture message dropped: no picture could be made');
      return;
    }
    const chatKey = `${d.chat.platform}:${d.userId ?? d.chat.chatId}`;
    const previous = this.chains.get(chatKey) ?? Promise.resolve();
    const slot = this.wait(chatKey, toSend);
    const mine = previous.catch(() => undefined).then(() => this.atFront(adapter, toSend, slot));
    this.chains.set(chatKey, mine);
    try {
      if ((await mine) === 'superseded') return await this.skipped(d);
      if (isAlert(d)) await this.audit(d, 'delivered', job.attemptsMade > 0 ? `after ${job.attemptsMade + 1} attempts` : 'sent');
    } catch (err) {
      throw await this.failed(job, d, toSend, chatKey, err);
    } finally {
      this.unwait(slot, toSend.seq);
      if (this.chains.get(chatKey) === mine) this.chains.delete(chatKey);
    }
  };

  /** A superseded delivery: its job completes (not a failure, not retried); alerts keep an audit record of it. */
  private async skipped(d: SequencedDelivery): Promise<void> {
    this.opts.logger.debug({ messageKey: d.messageKey, seq: d.seq }, 'notify: edit superseded by a newer one of the same message; not sent');
    if (isAlert(d)) await this.audit(d, 'superseded', `edit ${d.seq} not sent: a newer edit of the message was waiting`);
  }

  /** What to throw for a delivery that failed: never retried when the chat refuses us, never carrying the secret. */
  private async failed(job: Job<SequencedDelivery>, d: SequencedDelivery, toSend: SequencedDelivery, chatKey: string, err: unknown): Promise<unknown> {
    // BullMQ stores what is thrown (failedReason, stack): an error that echoed the opened secret must not carry it there.
    const secret = toSend.reply.secret;
    const scrub = (text: string): string => (secret ? text.split(secret).join(REDACTED) : text);
    const message = scrub(err instanceof Error ? err.message : String(err));
    if (err instanceof PermanentDeliveryError) {
      if (!this.reportedDead.has(chatKey)) {
        this.reportedDead.add(chatKey);
        this.opts.logger.warn({ chat: chatKey, reason: message }, 'chat cannot receive messages; dropping deliveries to it');
      }
      await this.audit(d, 'undelivered', `chat refuses us: ${message}`);
      return new UnrecoverableError(message);
    }
    if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) await this.audit(d, 'undelivered', `gave up after ${job.attemptsMade + 1} attempts: ${message}`);
    return secret ? new Error(message) : err;
  }
}

/** Start one notify worker per platform in `adapters` (console excluded: it is fed by pub/sub). */
export function startNotifyWorker(opts: NotifyWorkerOptions): NotifyWorkers {
  const processor = new NotifyProcessor(opts);
  const workers: Worker<SequencedDelivery>[] = [];
  for (const platform of NOTIFY_PLATFORMS) {
    const adapter = opts.adapters.get(platform as NotifyPlatform);
    if (!adapter) continue;
    const worker = new Worker<SequencedDelivery>(notifyQueueName(platform), processor.process(adapter), {
      connection: opts.connection,
      prefix: opts.keys.prefix,
      concurrency: opts.concurrency ?? 8,
      settings: { backoffStrategy: (attemptsMade, _type, _err, job) => notifyBackoffMs(attemptsMade, job?.data as SequencedDelivery | undefined) },
    });
    worker.on('error', (err) => opts.logger.error({ err }, 'notify worker error'));
    workers.push(worker);
  }
  return {
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
    isRunning: () => workers.every((w) => w.isRunning()),
  };
}
