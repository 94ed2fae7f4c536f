/**
 * Incoming Telegram updates → router: text commands (with "/cmd@bot" addressing in groups) and
 * inline-button presses, each answered in its chat, privately, in place or as a toast.
 */
import type { Context } from 'grammy';
import type { MessageRefStore, RouterPort } from '../../domain/ports.js';
import { PermanentDeliveryError } from '../../domain/errors.js';
import type { Actor, ChatRef, Reply, RouterResponse } from '../../domain/types.js';
import { errorText } from './api-errors.js';
import { formatRef, type MessageRef } from './message-ref.js';
import { IN_PLACE_ACTIONS, parseCallbackData, renderTelegram } from './render.js';
import { SEND_PRIORITY } from './send-queue.js';
import type { TelegramSender } from './telegram-sender.js';

/** Telegram's toast (answerCallbackQuery text) limit. */
const TOAST_MAX = 200;

/** A reply's title as a callback toast (Telegram shows at most 200 characters). */
function toastOf(title: string): string {
  const one = title.replace(/\s+/g, ' ').trim();
  return one.length > TOAST_MAX ? `${one.slice(0, TOAST_MAX - 1)}…` : one;
}

/** Logger subset the update handler uses. */
export interface UpdateLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the handler needs: the router, where refs are kept, the sender, and the bot's own username. */
export interface UpdateHandlerDeps {
  router: RouterPort;
  refs: MessageRefStore;
  sender: TelegramSender;
  log: UpdateLogger;
  /** The bot's username from getMe (known once the bot is initialised). */
  botUsername: () => string;
}

/** Handles message and callback_query updates; replies run in the background, visible to settle(). */
export class TelegramUpdateHandler {
  private readonly background = new Set<Promise<unknown>>();

  constructor(private readonly deps: UpdateHandlerDeps) {}

  /** Wait for every reply started so far (stop()). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.background]);
  }

  /** A text message: a command for us (direct, or addressed to this bot in a group) goes to the router. */
  async onText(ctx: Context): Promise<void> {
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
        if (word.slice(at + 1).toLowerCase() !== this.deps.botUsername().toLowerCase()) return;
        text = word.slice(0, at) + text.slice(entity.length);
      }
    } else if (isGroup) {
      return; // chatter in groups is not for us
    }
    const chatRef: ChatRef = { platform: 'telegram', chatId: String(chat.id), isGroup };
    const actor = actorOf(ctx.from);
    let response: RouterResponse;
    try {
      // The update id makes a redelivered update (webhook retry, restart) the same request: queued once.
      response = await this.deps.router.handleCommand({ actor, chat: chatRef, text, requestId: String(ctx.update.update_id) });
    } catch (err) {
      this.deps.log.error({ chatId: chatRef.chatId, error: errorText(err) }, 'telegram: router failed on a command');
      response = { reply: { title: 'Something went wrong handling that command. The error was logged.', tone: 'error' } };
    }
    if (response.silent) return; // past a limit and already told once: a flood gets no flood of replies
    this.trackFeedback(() => this.replyTo(chatRef, actor, response));
  }

  /** An inline-button press: the router decides; the answer edits the message, replies, or is a toast. */
  async onButton(ctx: Context): Promise<void> {
    const cq = ctx.callbackQuery!;
    const message = cq.message;
    const chatId = String(message?.chat.id ?? cq.from.id);
    const isGroup = message ? message.chat.type !== 'private' : false;
    const chatRef: ChatRef = { platform: 'telegram', chatId, isGroup };
    const actor = actorOf(cq.from);
    const pressed = parseCallbackData(cq.data ?? '');
    let response: RouterResponse;
    try {
      response = await this.deps.router.handleButton({ actor, chat: chatRef, token: pressed.token });
    } catch (err) {
      this.deps.log.error({ chatId, error: errorText(err) }, 'telegram: router failed on a button');
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
      this.trackFeedback(() => this.replyTo(chatRef, actor, response));
      await this.answer(ctx, 'Sent you a private message.');
      return;
    }
    // Date 0 marks an inaccessible (too old) message: it cannot be edited, so reply with a new one.
    const inPlace = pressed.action === undefined || IN_PLACE_ACTIONS.has(pressed.action);
    if (inPlace && message && message.date !== 0 && reply.tone !== 'error') {
      this.trackFeedback(() => this.editPressed({ chatId, messageId: message.message_id }, chatRef, response));
    } else {
      this.trackFeedback(() => this.replyTo(chatRef, actor, response));
      if (response.spentKeyboard && message && message.date !== 0) this.trackFeedback(() => this.deps.sender.dropKeyboard(chatId, isGroup, message.message_id));
    }
    // Every press gets a short toast at once: in a busy group the message itself may take a while to change.
    await this.answer(ctx, toastOf(reply.title));
  }

  /** Edit the pressed message with the answer (a new message when it cannot be edited), remembered for its key. */
  private editPressed(ref: MessageRef, chat: ChatRef, response: RouterResponse): Promise<void> {
    const key = response.messageKey;
    const { sender, refs } = this.deps;
    return sender.remember(key, async () => {
      const rendered = renderTelegram(response.reply);
      const edited = await sender.editWith(ref, chat.isGroup, rendered);
      if (!edited) return sender.sendRendered(chat, rendered, key);
      if (key) await refs.set('telegram', key, formatRef(ref));
    });
  }

  private async answer(ctx: Context, text?: string): Promise<void> {
    try {
      await ctx.answerCallbackQuery(text ? { text } : undefined);
    } catch (err) {
      // A late answer (query expired) must not stop the reply itself.
      this.deps.log.warn({ error: errorText(err) }, 'telegram: answerCallbackQuery failed');
    }
  }

  /** Reply to a command in its chat, or privately to the actor when the reply is private. */
  private async replyTo(chat: ChatRef, actor: Actor, response: RouterResponse): Promise<void> {
    const { sender } = this.deps;
    const rendered = renderTelegram(response.reply);
    const key = response.messageKey;
    if (response.reply.private && chat.isGroup) {
      const dm: ChatRef = { platform: 'telegram', chatId: actor.userId, isGroup: false };
      try {
        await sender.remember(key, () => sender.sendRendered(dm, rendered, key));
      } catch (err) {
        if (!(err instanceof PermanentDeliveryError)) throw err;
        // The user never opened a private chat with the bot; say so in the group without the private content.
        const hint: Reply = {
          title: `I can't message ${actor.displayName ?? 'you'} privately yet: open a chat with @${this.deps.botUsername()}, press Start, then try again.`,
          tone: 'warn',
        };
        await sender.sendRendered(chat, renderTelegram(hint), undefined);
      }
      return;
    }
    await sender.remember(key, () => sender.sendRendered(chat, rendered, key));
  }

  /**
   * The first answer to a person's command or press, sent as feedback (send-queue.ts): ahead of the chat's
   * other traffic and within the share of the chat's and group's limits kept for it, so it is seen at once
   * even in a group busy with progress and alert edits. Tracked like any reply.
   */
  private trackFeedback(send: () => Promise<unknown>): void {
    this.track(this.deps.sender.withPriority(SEND_PRIORITY.feedback, send));
  }

  /** Keep a fire-and-forget send visible to settle() and log its failure. */
  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => this.deps.log.warn({ error: errorText(err) }, 'telegram: reply not delivered'));
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }
}

/** The platform-neutral actor for a Telegram user. */
function actorOf(from: NonNullable<Context['from']>): Actor {
  const displayName = [from.first_name, from.last_name].filter(Boolean).join(' ') || from.username;
  return { platform: 'telegram', userId: String(from.id), ...(displayName ? { displayName } : {}) };
}
