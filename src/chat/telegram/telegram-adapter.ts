/**
 * Telegram adapter on grammY: updates → Command/ButtonPress for the router, Reply → HTML messages with
 * inline keyboards, job/alert deliveries edited in place by messageKey, all sends paced per chat.
 * The parts live beside it: receiving (telegram-receiver.ts), updates (update-handler.ts), sending
 * (telegram-sender.ts), group → supergroup moves (chat-migrations.ts) and the command menu (telegram-commands.ts).
 */
import { autoRetry, type AutoRetryOptions } from '@grammyjs/auto-retry';
import { Bot } from 'grammy';
import type { ChatAdapter, MessageRefStore, RouterPort } from '../../domain/ports.js';
import { PermanentDeliveryError } from '../../domain/errors.js';
import { ConfigError } from '../../domain/errors.js';
import type { ChatRef, Delivery } from '../../domain/types.js';
import { registerSecret } from '../../util/redact.js';
import { ReceiveHealth } from '../receive-health.js';
import type { ReceiveState } from '../../domain/types.js';
import { errorText, isApiError } from './api-errors.js';
import { ChatMigrations } from './chat-migrations.js';
import { parseRef } from './message-ref.js';
import { renderTelegram } from './render.js';
import { SEND_PRIORITY, TelegramSendQueue, type SendQueueLimits } from './send-queue.js';
import { registerMenus } from './telegram-commands.js';
import { TelegramReceiver, type TelegramWebhook } from './telegram-receiver.js';
import { TelegramSender } from './telegram-sender.js';
import { TelegramUpdateHandler } from './update-handler.js';

export { TelegramConflictError } from './telegram-conflict-error.js';

/** pino-compatible logger subset. */
export interface TelegramLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options; only token, router, refs and logger are required. */
export interface TelegramAdapterOptions {
  token: string;
  router: RouterPort;
  refs: MessageRefStore;
  logger: TelegramLogger;
  /** Bot API root (tests point it at the stand-in). Default https://api.telegram.org. */
  apiRoot?: string;
  /** Long polling needs no public URL, so it is the default. */
  mode?: 'polling' | 'webhook';
  /** Webhook mode: public URL Telegram calls, the secret it sends back, and where we listen (behind a TLS proxy). */
  webhook?: TelegramWebhook;
  /** Expected bot username (without @); a mismatch with getMe is logged. */
  botUsername?: string;
  /** Pacing; defaults are Telegram's limits. */
  limits?: Partial<SendQueueLimits>;
  /** auto-retry options; defaults: 3 retries, retry_after up to 60 s, network errors go back to the notify queue. */
  retry?: Partial<AutoRetryOptions>;
  /** Long-poll timeout, seconds. Default 30. */
  pollingTimeoutSeconds?: number;
  /** start() resolves after the first poll answers or this long without a 409. Default 1500 ms. */
  conflictGraceMs?: number;
}

/** Telegram ChatAdapter: long polling (default) or webhook, grammY underneath. */
export class TelegramAdapter implements ChatAdapter {
  readonly platform = 'telegram' as const;
  private readonly bot: Bot;
  private readonly queue: TelegramSendQueue;
  private readonly log: TelegramLogger;
  private readonly migrations: ChatMigrations;
  private readonly sender: TelegramSender;
  private readonly updates: TelegramUpdateHandler;
  private readonly receiver: TelegramReceiver;
  private readonly health = new ReceiveHealth();
  private started = false;

  constructor(private readonly opts: TelegramAdapterOptions) {
    // grammY errors and fetch causes can carry the URL, which contains the token.
    registerSecret(opts.token);
    this.log = opts.logger;
    this.bot = new Bot(opts.token, { client: { ...(opts.apiRoot ? { apiRoot: opts.apiRoot } : {}) } });
    this.bot.api.config.use(
      autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60, rethrowHttpErrors: true, ...opts.retry }),
    );
    this.queue = new TelegramSendQueue(opts.logger, opts.limits);
    this.migrations = new ChatMigrations(opts.refs, opts.logger);
    this.sender = new TelegramSender(this.bot.api, this.queue, opts.refs, this.migrations, opts.logger);
    this.updates = new TelegramUpdateHandler({
      router: opts.router,
      refs: opts.refs,
      sender: this.sender,
      log: opts.logger,
      botUsername: () => this.bot.botInfo.username,
    });
    this.receiver = new TelegramReceiver(this.bot, opts, this.health, opts.logger);
    this.bot.on('message:migrate_to_chat_id', (ctx) => this.migrations.record(String(ctx.chat.id), String(ctx.message.migrate_to_chat_id)));
    this.bot.on('message:text', (ctx) => this.updates.onText(ctx));
    this.bot.on('callback_query:data', (ctx) => this.updates.onButton(ctx));
    this.bot.catch((err) => {
      this.log.error({ updateId: err.ctx.update.update_id, error: errorText(err.error) }, 'telegram: update handler failed');
    });
  }

  /** Register the menu, then poll (or set the webhook); resolves when updates flow. Throws TelegramConflictError on 409. */
  async start(): Promise<void> {
    try {
      await this.bot.init();
    } catch (err) {
      if (isApiError(err, 401) || isApiError(err, 404)) {
        throw new ConfigError('TELEGRAM_BOT_TOKEN was rejected by Telegram (401 Unauthorized): copy the token again from @BotFather.');
      }
      throw new Error(`telegram: getMe failed: ${errorText(err)}`);
    }
    const me = this.bot.botInfo.username;
    if (this.opts.botUsername && this.opts.botUsername.replace(/^@/, '').toLowerCase() !== me.toLowerCase()) {
      this.log.warn({ expected: this.opts.botUsername, actual: me }, 'telegram: bot username differs from configuration');
    }
    await registerMenus(this.bot.api, this.opts.router, this.log);
    if (this.opts.mode === 'webhook') await this.receiver.startWebhook();
    else await this.receiver.startPolling();
    this.started = true;
    this.log.info({ bot: me, mode: this.opts.mode ?? 'polling' }, 'telegram: started');
  }

  /** Stop receiving, then let queued sends finish. */
  async stop(): Promise<void> {
    await this.receiver.stop();
    await this.updates.settle();
    await this.queue.onIdle();
    this.queue.close();
    this.started = false;
  }

  /**
   * Send a delivery, or edit the message already sent for its messageKey (falling back to a new message
   * when that one is gone). PermanentDeliveryError for chats that refuse us; other errors are for the notify queue to retry.
   */
  async deliver(delivery: Delivery): Promise<void> {
    // Alert messages (keys "incident…", alerts/alert-sender.ts) wait behind replies to people in the same chat.
    // Pictures (keys "incident-picture…") wait behind everything else: a group has 20 messages a minute.
    const priority = delivery.reply.image
      ? SEND_PRIORITY.picture
      : delivery.messageKey?.startsWith('incident')
        ? SEND_PRIORITY.alert
        : SEND_PRIORITY.reply;
    return this.sender.withPriority(priority, () => this.deliverNow(delivery));
  }

  private async deliverNow(delivery: Delivery): Promise<void> {
    const key = delivery.messageKey;
    if (key) await this.sender.settled(key);
    if (delivery.reply.private && !delivery.userId && delivery.chat.isGroup) {
      // Private material (tokenized links) never goes to a group; without a user to DM there is nowhere to send it.
      throw new PermanentDeliveryError('private reply for a group chat without a userId: not sent');
    }
    const toUser = delivery.reply.private && delivery.userId;
    const target: ChatRef = toUser
      ? { platform: 'telegram', chatId: delivery.userId!, isGroup: false }
      : delivery.chat;
    if (delivery.reply.image?.data) return this.sender.sendPicture(target, delivery, delivery.reply.image.data);
    const rendered = renderTelegram(delivery.reply);
    const ref = key ? parseRef(await this.opts.refs.get('telegram', key)) : undefined;
    if (ref) {
      const refChat = await this.migrations.resolve(ref.chatId);
      const targetChat = await this.migrations.resolve(target.chatId);
      if (refChat === targetChat) {
        const edited = await this.sender.editWith({ chatId: refChat, messageId: ref.messageId }, target.isGroup, rendered);
        if (edited) return;
      }
    }
    await this.sender.sendRendered(target, rendered, key);
  }

  /** Receiving or not (polling answered, or failing since when); webhook mode cannot tell and says ok. */
  receiveState(): ReceiveState {
    return this.health.state;
  }

  /** For tests and health checks: has start() completed? */
  get isStarted(): boolean {
    return this.started;
  }
}
