/**
 * Everything the Telegram adapter sends: rendered messages in chunks, edits in place, the incident
 * picture, spent-keyboard removal. Each call goes through the chat's lane of the send queue at the
 * priority of the delivery that makes it, and follows a group → supergroup move once.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { GrammyError, InputFile, type Api } from 'grammy';
import type { MessageRefStore } from '../../domain/ports.js';
import type { ChatRef, Delivery } from '../../domain/types.js';
import { errorText, isApiError } from './api-errors.js';
import type { ChatMigrations } from './chat-migrations.js';
import { formatRef, parseRef, type MessageRef } from './message-ref.js';
import { renderCaption, type TelegramRendered } from './render.js';
import { SUPERSEDED, type MessageEdit, type Superseded, type TelegramSendQueue } from './send-queue.js';

/** Logger subset the sender uses. */
export interface SenderLogger {
  warn(obj: object, msg?: string): void;
}

/** Bot API calls into chats, paced, ordered and remembered by messageKey. */
export class TelegramSender {
  /** The priority of the calls made inside a delivery (alert or reply), read by call() without threading it through. */
  private readonly sendPriority = new AsyncLocalStorage<number>();
  /** First sends for a messageKey still in flight: a delivery waits for them so it edits instead of duplicating. */
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly api: Api,
    private readonly queue: TelegramSendQueue,
    private readonly refs: MessageRefStore,
    private readonly migrations: ChatMigrations,
    private readonly log: SenderLogger,
  ) {}

  /** Run `task` with every call it makes at `priority` (SEND_PRIORITY). */
  withPriority<T>(priority: number, task: () => Promise<T>): Promise<T> {
    return this.sendPriority.run(priority, task);
  }

  /** Wait until a first send for `key` (if one is in flight) has finished; its failure is not ours. */
  async settled(key: string): Promise<void> {
    await this.inflight.get(key)?.catch(() => undefined);
  }

  /** Run a first send for `key`, visible to settled() until it is done. */
  remember<T>(key: string | undefined, task: () => Promise<T>): Promise<T> {
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

  /** Send chunks (keyboard under the last), then the document; remember the first message for `key`. */
  async sendRendered(chat: ChatRef, rendered: TelegramRendered, key: string | undefined): Promise<void> {
    let chatId = await this.migrations.resolve(chat.chatId);
    for (let i = 0; i < rendered.chunks.length; i++) {
      const last = i === rendered.chunks.length - 1;
      const { result, chatId: usedChat } = await this.call(chatId, chat.isGroup, (id) =>
        this.api.sendMessage(id, rendered.chunks[i]!, {
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
          ...(last && rendered.keyboard ? { reply_markup: rendered.keyboard } : {}),
        }),
      );
      chatId = usedChat;
      if (i === 0 && key) await this.refs.set('telegram', key, formatRef({ chatId, messageId: result.message_id }));
    }
    if (rendered.document) {
      const doc = rendered.document;
      await this.call(chatId, chat.isGroup, (id) =>
        this.api.sendDocument(id, new InputFile(Buffer.from(doc.content, 'utf8'), doc.filename)),
      );
    }
  }

  /**
   * A picture message (the incident picture): a photo with a short caption, as a reply to the message
   * `replyToKey` names when that one is in the same chat. Sent once per messageKey: a retried delivery
   * whose photo already went out does nothing (a photo's caption is not edited as the alert is).
   */
  async sendPicture(target: ChatRef, delivery: Delivery, data: Uint8Array): Promise<void> {
    const key = delivery.messageKey;
    if (key && (await this.refs.get('telegram', key))) return;
    const chatId = await this.migrations.resolve(target.chatId);
    let replyTo: number | undefined;
    if (delivery.replyToKey) {
      await this.settled(delivery.replyToKey);
      const ref = parseRef(await this.refs.get('telegram', delivery.replyToKey));
      if (ref && (await this.migrations.resolve(ref.chatId)) === chatId) replyTo = ref.messageId;
    }
    const image = delivery.reply.image!;
    const caption = renderCaption(delivery.reply);
    const { result, chatId: usedChat } = await this.remember(key, () =>
      this.call(chatId, target.isGroup, (id) =>
        this.api.sendPhoto(id, new InputFile(Buffer.from(data), image.name), {
          caption,
          parse_mode: 'HTML',
          // The alert may have been deleted: the picture then stands alone.
          ...(replyTo !== undefined ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}),
        }),
      ),
    );
    if (key) await this.refs.set('telegram', key, formatRef({ chatId: usedChat, messageId: result.message_id }));
  }

  /**
   * Edit a message in place with the rendered reply (extra chunks and the document follow as new messages).
   * Returns false when the message cannot be edited any more, so the caller sends a new one.
   */
  async editWith(ref: MessageRef, isGroup: boolean, rendered: TelegramRendered): Promise<boolean> {
    const single = rendered.chunks.length === 1;
    try {
      // Text and buttons together are all a reader sees of the message: a newer edit of it may supersede this one.
      const { result } = await this.call(
        ref.chatId,
        isGroup,
        (id) =>
          this.api.editMessageText(id, ref.messageId, rendered.chunks[0]!, {
            parse_mode: 'HTML',
            link_preview_options: { is_disabled: true },
            // Leaving reply_markup out removes the old buttons, whose tokens are spent anyway.
            ...(single && rendered.keyboard ? { reply_markup: rendered.keyboard } : {}),
          }),
        { message: String(ref.messageId), replaces: true },
      );
      // A newer edit of the message took this one's place before it was sent; that edit's caller sends its own rest.
      if (result === SUPERSEDED) return true;
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

  /** Remove the buttons of a message whose tokens are all spent; a failure only leaves dead buttons. */
  async dropKeyboard(chatId: string, isGroup: boolean, messageId: number): Promise<void> {
    try {
      // Buttons only: an edit of the message still waiting is applied before this, never superseded past it.
      await this.call(chatId, isGroup, (id) => this.api.editMessageReplyMarkup(id, messageId), { message: String(messageId), replaces: false });
    } catch (err) {
      if (!isApiError(err, 400, 'message is not modified')) this.log.warn({ chatId, error: errorText(err) }, 'telegram: could not remove spent buttons');
    }
  }

  /**
   * One Bot API call into a chat, through its lane; follows a group → supergroup move once. With `edit`,
   * the call changes that message and may be superseded (send-queue.ts run()).
   */
  private async call<T>(chatId: string, isGroup: boolean, fn: (chatId: string) => Promise<T>): Promise<{ result: T; chatId: string }>;
  private async call<T>(chatId: string, isGroup: boolean, fn: (chatId: string) => Promise<T>, edit: MessageEdit): Promise<{ result: T | Superseded; chatId: string }>;
  private async call<T>(chatId: string, isGroup: boolean, fn: (chatId: string) => Promise<T>, edit?: MessageEdit): Promise<{ result: T | Superseded; chatId: string }> {
    const run = (id: string, group: boolean): Promise<T | Superseded> =>
      edit ? this.queue.run(id, group, () => fn(id), this.sendPriority.getStore(), edit) : this.queue.run(id, group, () => fn(id), this.sendPriority.getStore());
    try {
      return { result: await run(chatId, isGroup), chatId };
    } catch (err) {
      const moved = err instanceof GrammyError ? err.parameters.migrate_to_chat_id : undefined;
      if (moved === undefined) throw err;
      await this.migrations.record(chatId, String(moved));
      const newId = String(moved);
      return { result: await run(newId, true), chatId: newId };
    }
  }
}
