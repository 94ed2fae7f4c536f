/**
 * Deliveries to Discord: edit the message a messageKey names (through the interaction webhook while
 * its token is valid, then through the channel message), else send a new one, to the user's DMs
 * when the reply is private.
 */
import { Routes, type Client, type RawFile, type RESTPostAPIChannelMessageResult } from 'discord.js';
import type { MessageRefStore } from '../../domain/ports.js';
import { PermanentDeliveryError } from '../../domain/errors.js';
import type { Delivery } from '../../domain/types.js';
import { renderWithCustomIds } from './custom-id.js';
import { HOOK_GONE_CODES, UNKNOWN_MESSAGE, apiCode, describe, type DeliveryRefusals } from './discord-errors.js';
import { parseRef, type DiscordMessageRef, type PendingRefs } from './message-ref.js';
import { toRestBody } from './render.js';

/** Logger subset the sender uses. */
export interface DiscordSenderLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** What the sender needs from the adapter. */
export interface DiscordSenderDeps {
  client: Client;
  applicationId: string;
  refs: MessageRefStore;
  pending: PendingRefs;
  refusals: DeliveryRefusals;
  logger: DiscordSenderLogger;
}

/** Sends and edits messages over REST; remembers where each messageKey landed. */
export class DiscordSender {
  private readonly dmChannels = new Map<string, string>();

  constructor(private readonly deps: DiscordSenderDeps) {}

  /**
   * Send a delivery, or edit the message its messageKey already names: through the interaction
   * webhook while its token is valid, then through the channel message, else as a new message.
   */
  async deliver(delivery: Delivery): Promise<void> {
    const { client, refs, refusals } = this.deps;
    const rendered = renderWithCustomIds(delivery.reply);
    const key = delivery.messageKey;
    if (key) await this.deps.pending.wait(key);
    // The ref and its sealed token are read at once: one Redis round trip before the edit, not two in a row.
    const [raw, sealed] = key ? await Promise.all([refs.get('discord', key), this.readToken(key)]) : [undefined, undefined];
    const ref = parseRef(raw);

    const hookToken = key && sealed && ref?.hook && Date.now() < ref.hook.expiresAt ? this.hookToken(key, sealed) : undefined;
    if (ref?.hook && hookToken) {
      try {
        const { body, files } = toRestBody(rendered);
        await client.rest.patch(Routes.webhookMessage(this.deps.applicationId, hookToken, ref.hook.target), { body, files, auth: false });
        return;
      } catch (err) {
        if (!HOOK_GONE_CODES.has(apiCode(err) ?? -1)) throw refusals.classify(err, ref.channelId);
        this.deps.logger.debug({ code: apiCode(err), messageKey: key }, 'Discord: interaction webhook gone; editing the channel message');
      }
    }
    if (ref?.messageId && !ref.ephemeral) {
      try {
        const { body, files } = toRestBody(rendered);
        await client.rest.patch(Routes.channelMessage(ref.channelId, ref.messageId), { body, files });
        refusals.succeeded(ref.channelId);
        return;
      } catch (err) {
        if (apiCode(err) !== UNKNOWN_MESSAGE) throw refusals.classify(err, ref.channelId);
        // Deleted by someone: send it again below.
      }
    }

    await this.sendNew(delivery, rendered);
  }

  /**
   * Send a delivery as a new message and remember where it landed: the first message of its messageKey
   * (a late answer), or one whose earlier message is gone. It does not wait for the key's pending ref:
   * a late answer is that ref's writer.
   */
  async sendNew(delivery: Delivery, rendered = renderWithCustomIds(delivery.reply)): Promise<void> {
    const target = await this.targetChannel(delivery);
    const { body, files } = toRestBody(rendered);
    const reference = await this.referenceTo(delivery.replyToKey, target);
    const msg = await this.send(target, reference ? { ...body, message_reference: reference } : body, files);
    const key = delivery.messageKey;
    if (key) await this.deps.refs.set('discord', key, JSON.stringify({ v: 1, channelId: target, messageId: msg.id } satisfies DiscordMessageRef));
  }

  /** A reply reference to the message `replyToKey` names, when it is a channel message in `channelId`. */
  private async referenceTo(replyToKey: string | undefined, channelId: string): Promise<{ message_id: string; fail_if_not_exists: false } | undefined> {
    if (!replyToKey) return undefined;
    await this.deps.pending.wait(replyToKey);
    const ref = parseRef(await this.deps.refs.get('discord', replyToKey));
    if (!ref?.messageId || ref.ephemeral || ref.channelId !== channelId) return undefined;
    // The answered message may have been deleted meanwhile: then this one goes out on its own.
    return { message_id: ref.messageId, fail_if_not_exists: false };
  }

  private async send(channelId: string, body: object, files: RawFile[]): Promise<RESTPostAPIChannelMessageResult> {
    try {
      const msg = (await this.deps.client.rest.post(Routes.channelMessages(channelId), { body, files })) as RESTPostAPIChannelMessageResult;
      this.deps.refusals.succeeded(channelId);
      return msg;
    } catch (err) {
      throw this.deps.refusals.classify(err, channelId);
    }
  }

  /**
   * Private replies go to the user's DMs, never into a guild channel. `chat.isGroup` is not
   * trusted for that: a sender may mark a guild channel as non-group (the fix worker does for
   * the dashboard link), and a tokenized link posted there is readable by the whole channel.
   */
  private async targetChannel(delivery: Delivery): Promise<string> {
    if (!delivery.reply.private) return delivery.chat.chatId;
    if (!delivery.userId) {
      const known = this.deps.client.channels.cache.get(delivery.chat.chatId);
      if (!delivery.chat.isGroup && !(known && !known.isDMBased())) return delivery.chat.chatId;
      throw new PermanentDeliveryError('A private reply needs a user to send it to; it is not posted in a shared channel.');
    }
    const cached = this.dmChannels.get(delivery.userId);
    if (cached) return cached;
    try {
      const dm = (await this.deps.client.rest.post(Routes.userChannels(), { body: { recipient_id: delivery.userId } })) as { id: string };
      this.dmChannels.set(delivery.userId, dm.id);
      return dm.id;
    } catch (err) {
      throw this.deps.refusals.classify(err, `dm:${delivery.userId}`);
    }
  }

  /** The interaction token kept (sealed) for a message: the token, or why it does not open. */
  private readToken(messageKey: string): Promise<{ token?: string; err?: unknown }> {
    return this.deps.refs.getSecret('discord', messageKey).then(
      (token) => ({ token }),
      (err: unknown) => ({ err }),
    );
  }

  /**
   * The token to edit with, if still there. One that does not open (CLAWMEDIC_JOB_KEY changed, or
   * edited in Redis) is logged without its value and not used: the edit goes through the channel message instead.
   */
  private hookToken(messageKey: string, read: { token?: string; err?: unknown }): string | undefined {
    if (read.err !== undefined) {
      this.deps.logger.warn({ messageKey, err: describe(read.err) }, 'Discord: the kept interaction token does not open; editing through the channel instead');
    }
    return read.token;
  }
}
