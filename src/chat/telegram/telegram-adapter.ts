/**
 * Telegram adapter on grammY: updates → Command/ButtonPress for the router, Reply → HTML messages with
 * inline keyboards, job/alert deliveries edited in place by messageKey, all sends paced per chat.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type Server } from 'node:http';
import { autoRetry, type AutoRetryOptions } from '@grammyjs/auto-retry';
import { Bot, GrammyError, InputFile, webhookCallback, type Context } from 'grammy';
import type { ChatAdapter, MessageRefStore, RouterPort } from '../../domain/ports.js';
import { PermanentDeliveryError } from '../../domain/errors.js';
import { ConfigError } from '../../domain/errors.js';
import type { Actor, ChatRef, Delivery, Reply, RouterResponse } from '../../domain/types.js';
import { redact, registerSecret } from '../../util/redact.js';
import { IN_PLACE_ACTIONS, parseCallbackData, renderCaption, renderTelegram, type TelegramRendered } from './render.js';
import { SEND_PRIORITY, TelegramSendQueue, type SendQueueLimits } from './send-queue.js';
import { TELEGRAM_COMMANDS, telegramMenu, telegramScope } from './telegram-commands.js';
import { TelegramConflictError } from './telegram-conflict-error.js';
import { ReceiveHealth } from '../receive-health.js';
import type { ReceiveState } from '../../domain/types.js';

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
  webhook?: { url: string; secretToken: string; port: number; path: string; host?: string };
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

/** Telegram's toast (answerCallbackQuery text) limit. */
const TOAST_MAX = 200;
/** Prefix under which chat migrations (group → supergroup) are remembered in the ref store. */
const MIGRATION_KEY = 'chat-migrated:';
/**
 * How long "this chat has not migrated" is believed without asking Redis again. Safe to cache: a send
 * into a migrated group fails with migrate_to_chat_id, which call() follows at once.
 */
const NOT_MIGRATED_TTL_MS = 5 * 60_000;
/** Bound on that cache (one entry per chat written to). */
const NOT_MIGRATED_MAX = 10_000;
const ALLOWED_UPDATES = ['message', 'callback_query'] as const;
/** Polling after a failure: 1 s doubling up to 30 s (a second poller may stop any moment; Telegram may be down for long). */
const POLL_BACKOFF_FIRST_MS = 1_000;
const POLL_BACKOFF_MAX_MS = 30_000;

/** Resolve after `ms`, or at once when `signal` aborts. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A platform message we sent: where and which id; stored in MessageRefStore as "chatId:messageId". */
interface MessageRef {
  chatId: string;
  messageId: number;
}
const formatRef = (r: MessageRef): string => `${r.chatId}:${r.messageId}`;
function parseRef(s: string | undefined): MessageRef | undefined {
  if (!s) return undefined;
  const i = s.lastIndexOf(':');
  const messageId = Number(s.slice(i + 1));
  return i > 0 && Number.isInteger(messageId) ? { chatId: s.slice(0, i), messageId } : undefined;
}

const errorText = (err: unknown): string => redact(err instanceof Error ? err.message : String(err));
const isApiError = (err: unknown, code: number, text?: string): boolean =>
  err instanceof GrammyError && err.error_code === code && (text === undefined || err.description.toLowerCase().includes(text));

/** Telegram ChatAdapter: long polling (default) or webhook, grammY underneath. */
/** A reply's title as a callback toast (Telegram shows at most 200 characters). */
function toastOf(title: string): string {
  const one = title.replace(/\s+/g, ' ').trim();
  return one.length > TOAST_MAX ? `${one.slice(0, TOAST_MAX - 1)}…` : one;
}

export class TelegramAdapter implements ChatAdapter {
  readonly platform = 'telegram' as const;
  private readonly bot: Bot;
  private readonly queue: TelegramSendQueue;
  /** The priority of the calls made inside deliver() (alert or reply), read by call() without threading it through. */
  private readonly sendPriority = new AsyncLocalStorage<number>();
  private readonly log: TelegramLogger;
  /** First sends for a messageKey still in flight: deliver() waits for them so it edits instead of duplicating. */
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** Known group → supergroup moves (also persisted in the ref store). */
  private readonly migrations = new Map<string, string>();
  /** Chats found not migrated, with when that answer expires: saves a Redis read per call. */
  private readonly notMigrated = new Map<string, number>();
  private readonly background = new Set<Promise<unknown>>();
  private webhookServer: Server | undefined;
  private polling: Promise<void> | undefined;
  private pollAbort: AbortController | undefined;
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
    this.bot.on('message:migrate_to_chat_id', (ctx) => this.onMigrated(String(ctx.chat.id), String(ctx.message.migrate_to_chat_id)));
    this.bot.on('message:text', (ctx) => this.onText(ctx));
    this.bot.on('callback_query:data', (ctx) => this.onButton(ctx));
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
    await this.setMenus();
    if (this.opts.mode === 'webhook') await this.startWebhook();
    else await this.startPolling();
    this.started = true;
    this.log.info({ bot: me, mode: this.opts.mode ?? 'polling' }, 'telegram: started');
  }

  /** Stop receiving, then let queued sends finish. */
  async stop(): Promise<void> {
    this.pollAbort?.abort();
    await this.polling?.catch(() => undefined);
    if (this.webhookServer) {
      // The webhook stays registered: Telegram keeps updates for us until we are back.
      await new Promise<void>((resolve) => this.webhookServer!.close(() => resolve()));
      this.webhookServer = undefined;
    }
    await Promise.allSettled([...this.background]);
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
    return this.sendPriority.run(priority, () => this.deliverNow(delivery));
  }

  private async deliverNow(delivery: Delivery): Promise<void> {
    const key = delivery.messageKey;
    if (key) await this.inflight.get(key)?.catch(() => undefined);
    if (delivery.reply.private && !delivery.userId && delivery.chat.isGroup) {
      // Private material (tokenized links) never goes to a group; without a user to DM there is nowhere to send it.
      throw new PermanentDeliveryError('private reply for a group chat without a userId: not sent');
    }
    const toUser = delivery.reply.private && delivery.userId;
    const target: ChatRef = toUser
      ? { platform: 'telegram', chatId: delivery.userId!, isGroup: false }
      : delivery.chat;
    if (delivery.reply.image?.data) return this.sendPicture(target, delivery, delivery.reply.image.data);
    const rendered = renderTelegram(delivery.reply);
    const ref = key ? parseRef(await this.opts.refs.get('telegram', key)) : undefined;
    if (ref) {
      const refChat = await this.resolveChat(ref.chatId);
      const targetChat = await this.resolveChat(target.chatId);
      if (refChat === targetChat) {
        const edited = await this.editWith({ chatId: refChat, messageId: ref.messageId }, target.isGroup, rendered);
        if (edited) return;
      }
    }
    await this.sendRendered(target, rendered, key);
  }

  // ---------------------------------------------------------------- receiving

  private async startPolling(): Promise<void> {
    // A webhook set by someone else means another program owns this token; deleting it would break that program.
    const info = await this.bot.api.getWebhookInfo();
    if (info.url) throw new TelegramConflictError('webhook');
    let settle!: (err?: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      let done = false;
      settle = (err) => {
        if (done) return;
        done = true;
        if (err) reject(err);
        else resolve();
      };
    });
    // A poll still pending after the grace period means nobody else is polling right now.
    const grace = setTimeout(() => settle(), this.opts.conflictGraceMs ?? 1500);
    grace.unref();
    this.pollAbort = new AbortController();
    this.polling = this.pollLoop(this.pollAbort.signal, settle).finally(() => clearTimeout(grace));
    await ready;
  }

  /**
   * Our own long-poll loop instead of bot.start(), which stops for good on the first 409. A 409 at
   * start is refused (another program owns the token); later, any failure (409 from a second poller,
   * network, 5xx) marks receiving down and polling goes on with capped exponential backoff, because
   * the other poller may be a mistake that ends.
   */
  private async pollLoop(signal: AbortSignal, settle: (err?: Error) => void): Promise<void> {
    let offset: number | undefined;
    let failures = 0;
    let started = false;
    while (!signal.aborted) {
      let updates: Awaited<ReturnType<Bot['api']['getUpdates']>>;
      try {
        updates = await this.bot.api.getUpdates(
          { ...(offset !== undefined ? { offset } : {}), timeout: this.opts.pollingTimeoutSeconds ?? 30, allowed_updates: [...ALLOWED_UPDATES] },
          // grammY types its signal with the abort-controller polyfill; Node's AbortSignal is what it uses at runtime.
          signal as unknown as Parameters<Bot['api']['getUpdates']>[1],
        );
      } catch (err) {
        if (signal.aborted) return;
        const conflict = isApiError(err, 409);
        if (!started) {
          if (conflict) {
            settle(new TelegramConflictError('polling'));
            return;
          }
          if (isApiError(err, 401)) {
            settle(new Error(`telegram polling stopped: ${errorText(err)}`));
            return;
          }
        }
        const reason = conflict ? 'another program polls this bot token (409 Conflict)' : `getUpdates failed: ${errorText(err)}`;
        if (failures === 0) this.log.error({ error: reason }, 'telegram: cannot receive updates; polling goes on with backoff');
        this.health.markDown(reason);
        const wait = Math.min(POLL_BACKOFF_FIRST_MS * 2 ** failures, POLL_BACKOFF_MAX_MS);
        failures++;
        await abortableSleep(wait, signal);
        continue;
      }
      if (!started) {
        started = true;
        settle();
      }
      if (failures > 0) this.log.info({ failedPolls: failures }, 'telegram: receiving updates again');
      failures = 0;
      this.health.markOk();
      for (const update of updates) {
        offset = update.update_id + 1;
        // Handlers log their own errors (bot.catch); one bad update never stops the loop.
        await this.bot.handleUpdate(update).catch((err: unknown) => this.log.error({ updateId: update.update_id, error: errorText(err) }, 'telegram: update failed'));
      }
    }
  }

  /**
   * One menu per audience (strangers, each bound chat, each person there and in their DM), so nobody
   * is shown a command only to be refused. Without the router's menus everyone gets the full list.
   */
  private async setMenus(): Promise<void> {
    const menus = this.opts.router.menus?.('telegram');
    const calls = menus
      ? menus.map((m) => ({ commands: telegramMenu(m.commands), scope: telegramScope(m.scope) }))
      : [{ commands: telegramMenu(TELEGRAM_COMMANDS.map((c) => c.command)), scope: undefined }];
    for (const call of calls) {
      try {
        await this.bot.api.setMyCommands(call.commands, call.scope ? { scope: call.scope } : {});
      } catch (err) {
        // The menu is a convenience: typed commands work without it (a chat the bot left refuses its scope).
        this.log.warn({ error: errorText(err), scope: call.scope?.type }, 'telegram: setMyCommands failed');
      }
    }
  }

  private async startWebhook(): Promise<void> {
    const wh = this.opts.webhook;
    if (!wh) throw new ConfigError('telegram webhook mode needs webhook.url, webhook.secretToken, webhook.port and webhook.path');
    const handle = webhookCallback(this.bot, 'http', { secretToken: wh.secretToken, onTimeout: 'return' });
    this.webhookServer = createServer((req, res) => {
      if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== wh.path) {
        res.writeHead(404).end();
        return;
      }
      handle(req, res).catch((err: unknown) => {
        this.log.warn({ error: errorText(err) }, 'telegram: webhook request failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.webhookServer!.once('error', reject);
      this.webhookServer!.listen(wh.port, wh.host ?? '127.0.0.1', () => resolve());
    });
    await this.bot.api.setWebhook(wh.url, { secret_token: wh.secretToken, allowed_updates: [...ALLOWED_UPDATES] });
  }

  private actorOf(from: NonNullable<Context['from']>): Actor {
    const displayName = [from.first_name, from.last_name].filter(Boolean).join(' ') || from.username;
    return { platform: 'telegram', userId: String(from.id), ...(displayName ? { displayName } : {}) };
  }

  private async onText(ctx: Context): Promise<void> {
    const msg = ctx.message!;
    const chat = ctx.chat!;
    if (!ctx.from || ctx.from.is_bot) return;
    const isGroup = chat.type !== 'private';
    let text = msg.text ?? '';
    const entity = msg.entities?.[0];
    if (entity?.type === 'bot_command' && entity.offset === 0) {
      const word = text.slice(0, entity.length);
      const at = word.indexOf('@');
      if (at !== -1) {
        // "/status@otherbot" in a group is for another bot.
        if (word.slice(at + 1).toLowerCase() !== this.bot.botInfo.username.toLowerCase()) return;
        text = word.slice(0, at) + text.slice(entity.length);
      }
    } else if (isGroup) {
      return; // chatter in groups is not for us
    }
    const chatRef: ChatRef = { platform: 'telegram', chatId: String(chat.id), isGroup };
    const actor = this.actorOf(ctx.from);
    let response: RouterResponse;
    try {
      // The update id makes a redelivered update (webhook retry, restart) the same request: queued once.
      response = await this.opts.router.handleCommand({ actor, chat: chatRef, text, requestId: String(ctx.update.update_id) });
    } catch (err) {
      this.log.error({ chatId: chatRef.chatId, error: errorText(err) }, 'telegram: router failed on a command');
      response = { reply: { title: 'Something went wrong handling that command. The error was logged.', tone: 'error' } };
    }
    if (response.silent) return; // past a limit and already told once: a flood gets no flood of replies
    this.track(this.replyTo(chatRef, actor, response));
  }

  private async onButton(ctx: Context): Promise<void> {
    const cq = ctx.callbackQuery!;
    const message = cq.message;
    const chatId = String(message?.chat.id ?? cq.from.id);
    const isGroup = message ? message.chat.type !== 'private' : false;
    const chatRef: ChatRef = { platform: 'telegram', chatId, isGroup };
    const actor = this.actorOf(cq.from);
    const pressed = parseCallbackData(cq.data ?? '');
    let response: RouterResponse;
    try {
      response = await this.opts.router.handleButton({ actor, chat: chatRef, token: pressed.token });
    } catch (err) {
      this.log.error({ chatId, error: errorText(err) }, 'telegram: router failed on a button');
      await this.answer(ctx, 'Something went wrong. Please try again.');
      return;
    }
    const reply = response.reply;
    const toast = [reply.title, ...(reply.body ?? [])].join('\n');
    if (reply.tone === 'error' && toast.length <= TOAST_MAX && !reply.fields?.length && !reply.detail && !reply.buttons?.length) {
      // A refusal or an expired button: a toast for the presser, the message stays as it is for everyone else.
      await this.answer(ctx, toast);
      return;
    }
    // Start the reply before answering the query: the job may already deliver while Telegram takes its
    // 50-300 ms to answer, and deliver() must then find this message in flight to edit, not send a second one.
    if (reply.private && isGroup) {
      this.track(this.replyTo(chatRef, actor, response));
      await this.answer(ctx, 'Sent you a private message.');
      return;
    }
    // Date 0 marks an inaccessible (too old) message: it cannot be edited, so reply with a new one.
    const inPlace = pressed.action === undefined || IN_PLACE_ACTIONS.has(pressed.action);
    if (inPlace && message && message.date !== 0 && reply.tone !== 'error') {
      const ref: MessageRef = { chatId, messageId: message.message_id };
      const key = response.messageKey;
      this.track(
        this.remember(key, async () => {
          const rendered = renderTelegram(reply);
          const edited = await this.editWith(ref, isGroup, rendered);
          if (!edited) return this.sendRendered(chatRef, rendered, key);
          if (key) await this.opts.refs.set('telegram', key, formatRef(ref));
        }),
      );
    } else {
      this.track(this.replyTo(chatRef, actor, response));
      if (response.spentKeyboard && message && message.date !== 0) this.track(this.dropKeyboard(chatId, isGroup, message.message_id));
    }
    // Every press gets a short toast at once: in a busy group the message itself may take a while to change.
    await this.answer(ctx, toastOf(reply.title));
  }

  /** Remove the buttons of a message whose tokens are all spent; a failure only leaves dead buttons. */
  private async dropKeyboard(chatId: string, isGroup: boolean, messageId: number): Promise<void> {
    try {
      await this.call(chatId, isGroup, (id) => this.bot.api.editMessageReplyMarkup(id, messageId));
    } catch (err) {
      if (!isApiError(err, 400, 'message is not modified')) this.log.warn({ chatId, error: errorText(err) }, 'telegram: could not remove spent buttons');
    }
  }

  private async answer(ctx: Context, text?: string): Promise<void> {
    try {
      await ctx.answerCallbackQuery(text ? { text } : undefined);
    } catch (err) {
      // A late answer (query expired) must not stop the reply itself.
      this.log.warn({ error: errorText(err) }, 'telegram: answerCallbackQuery failed');
    }
  }

  private async onMigrated(oldId: string, newId: string): Promise<void> {
    this.migrations.set(oldId, newId);
    this.notMigrated.delete(oldId);
    await this.opts.refs.set('telegram', MIGRATION_KEY + oldId, newId);
    this.log.warn(
      { oldChatId: oldId, newChatId: newId },
      'telegram: group became a supergroup; messages now go to the new id. Update the chat id in clawmedic.yaml.',
    );
  }

  // ---------------------------------------------------------------- sending

  /** Reply to a command in its chat, or privately to the actor when the reply is private. */
  private async replyTo(chat: ChatRef, actor: Actor, response: RouterResponse): Promise<void> {
    const rendered = renderTelegram(response.reply);
    const key = response.messageKey;
    if (response.reply.private && chat.isGroup) {
      const dm: ChatRef = { platform: 'telegram', chatId: actor.userId, isGroup: false };
      try {
        await this.remember(key, () => this.sendRendered(dm, rendered, key));
      } catch (err) {
        if (!(err instanceof PermanentDeliveryError)) throw err;
        // The user never opened a private chat with the bot; say so in the group without the private content.
        const hint: Reply = {
          title: `I can't message ${actor.displayName ?? 'you'} privately yet: open a chat with @${this.bot.botInfo.username}, press Start, then try again.`,
          tone: 'warn',
        };
        await this.sendRendered(chat, renderTelegram(hint), undefined);
      }
      return;
    }
    await this.remember(key, () => this.sendRendered(chat, rendered, key));
  }

  /** Run a first send for `key`, visible to deliver() until it is done. */
  private remember<T>(key: string | undefined, task: () => Promise<T>): Promise<T> {
    const p = task();
    if (key) {
      this.inflight.set(key, p);
      const clear = (): void => {
        if (this.inflight.get(key) === p) this.inflight.delete(key);
      };
      p.then(clear, clear);
    }
    return p;
  }

  /** Keep a fire-and-forget send visible to stop() and log its failure. */
  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => this.log.warn({ error: errorText(err) }, 'telegram: reply not delivered'));
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }

  /** Send chunks (keyboard under the last), then the document; remember the first message for `key`. */
  private async sendRendered(chat: ChatRef, rendered: TelegramRendered, key: string | undefined): Promise<void> {
    let chatId = await this.resolveChat(chat.chatId);
    for (let i = 0; i < rendered.chunks.length; i++) {
      const last = i === rendered.chunks.length - 1;
      const { result, chatId: usedChat } = await this.call(chatId, chat.isGroup, (id) =>
        this.bot.api.sendMessage(id, rendered.chunks[i]!, {
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
          ...(last && rendered.keyboard ? { reply_markup: rendered.keyboard } : {}),
        }),
      );
      chatId = usedChat;
      if (i === 0 && key) await this.opts.refs.set('telegram', key, formatRef({ chatId, messageId: result.message_id }));
    }
    if (rendered.document) {
      const doc = rendered.document;
      await this.call(chatId, chat.isGroup, (id) =>
        this.bot.api.sendDocument(id, new InputFile(Buffer.from(doc.content, 'utf8'), doc.filename)),
      );
    }
  }

  /**
   * A picture message (the incident picture): a photo with a short caption, as a reply to the message
   * `replyToKey` names when that one is in the same chat. Sent once per messageKey: a retried delivery
   * whose photo already went out does nothing (a photo's caption is not edited as the alert is).
   */
  private async sendPicture(target: ChatRef, delivery: Delivery, data: Uint8Array): Promise<void> {
    const key = delivery.messageKey;
    if (key && (await this.opts.refs.get('telegram', key))) return;
    const chatId = await this.resolveChat(target.chatId);
    let replyTo: number | undefined;
    if (delivery.replyToKey) {
      await this.inflight.get(delivery.replyToKey)?.catch(() => undefined);
      const ref = parseRef(await this.opts.refs.get('telegram', delivery.replyToKey));
      if (ref && (await this.resolveChat(ref.chatId)) === chatId) replyTo = ref.messageId;
    }
    const image = delivery.reply.image!;
    const caption = renderCaption(delivery.reply);
    const { result, chatId: usedChat } = await this.remember(key, () =>
      this.call(chatId, target.isGroup, (id) =>
        this.bot.api.sendPhoto(id, new InputFile(Buffer.from(data), image.name), {
          caption,
          parse_mode: 'HTML',
          // The alert may have been deleted: the picture then stands alone.
          ...(replyTo !== undefined ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}),
        }),
      ),
    );
    if (key) await this.opts.refs.set('telegram', key, formatRef({ chatId: usedChat, messageId: result.message_id }));
  }

  /**
   * Edit a message in place with the rendered reply (extra chunks and the document follow as new messages).
   * Returns false when the message cannot be edited any more, so the caller sends a new one.
   */
  private async editWith(ref: MessageRef, isGroup: boolean, rendered: TelegramRendered): Promise<boolean> {
    const single = rendered.chunks.length === 1;
    try {
      await this.call(ref.chatId, isGroup, (id) =>
        this.bot.api.editMessageText(id, ref.messageId, rendered.chunks[0]!, {
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
          // Leaving reply_markup out removes the old buttons, whose tokens are spent anyway.
          ...(single && rendered.keyboard ? { reply_markup: rendered.keyboard } : {}),
        }),
      );
    } catch (err) {
      if (isApiError(err, 400, 'message is not modified')) return true;
      if (isApiError(err, 400, 'message to edit not found') || isApiError(err, 400, "message can't be edited") || isApiError(err, 400, 'no text in the message')) {
        return false;
      }
      throw err;
    }
    const rest: TelegramRendered = { chunks: rendered.chunks.slice(1) };
    if (!single && rendered.keyboard) rest.keyboard = rendered.keyboard;
    if (rendered.document) rest.document = rendered.document;
    if (rest.chunks.length > 0 || rest.document) await this.sendRendered({ platform: 'telegram', chatId: ref.chatId, isGroup }, rest, undefined);
    return true;
  }

  /** One Bot API call into a chat, through its lane; follows a group → supergroup move once. */
  private async call<T>(chatId: string, isGroup: boolean, fn: (chatId: string) => Promise<T>): Promise<{ result: T; chatId: string }> {
    try {
      return { result: await this.queue.run(chatId, isGroup, () => fn(chatId), this.sendPriority.getStore()), chatId };
    } catch (err) {
      const moved = err instanceof GrammyError ? err.parameters.migrate_to_chat_id : undefined;
      if (moved === undefined) throw err;
      await this.onMigrated(chatId, String(moved));
      const newId = String(moved);
      return { result: await this.queue.run(newId, true, () => fn(newId), this.sendPriority.getStore()), chatId: newId };
    }
  }

  private async resolveChat(chatId: string): Promise<string> {
    let current = chatId;
    for (let hops = 0; hops < 3; hops++) {
      let next = this.migrations.get(current);
      if (next === undefined) {
        if ((this.notMigrated.get(current) ?? 0) > Date.now()) return current;
        next = await this.opts.refs.get('telegram', MIGRATION_KEY + current);
        if (next !== undefined) this.migrations.set(current, next);
      }
      if (next === undefined) {
        if (this.notMigrated.size >= NOT_MIGRATED_MAX) this.notMigrated.clear();
        this.notMigrated.set(current, Date.now() + NOT_MIGRATED_TTL_MS);
        return current;
      }
      current = next;
    }
    return current;
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
