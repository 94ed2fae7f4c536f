/**
 * Answers to acknowledged interactions: the router's reply put where the user expects it (the deferred
 * response edited in place, or an ephemeral follow-up) and remembered for later edits; and the late
 * answer, as a message, for an interaction that could not be acknowledged in time.
 */
import { MessageFlags, Routes, type ButtonInteraction, type ChatInputCommandInteraction, type Client, type RESTPostAPIChannelMessageResult } from 'discord.js';
import type { MessageRefStore } from '../../domain/ports.js';
import type { ChatRef, Delivery, Reply, RouterResponse } from '../../domain/types.js';
import { renderWithCustomIds } from './custom-id.js';
import { apiCode, describe } from './discord-errors.js';
import type { DiscordSender } from './discord-sender.js';
import type { DiscordMessageRef, PendingRefs } from './message-ref.js';
import { DISCORD_LIMITS, toRestBody } from './render.js';

/** Stop using an interaction token this long before Discord's 15 minutes run out. */
const TOKEN_SAFETY_MARGIN_MS = 60_000;

/** An interaction that gets an answer. */
export type AnsweredInteraction = ChatInputCommandInteraction | ButtonInteraction;

/** How an answer is given: was the deferral ephemeral, and does the answer replace the original response? */
export interface AnswerMode {
  deferredEphemeral: boolean;
  inPlace: boolean;
}

/** Logger subset the answers use. */
export interface AnswerLogger {
  debug(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the answers need from the adapter. */
export interface InteractionAnswerDeps {
  client: Client;
  refs: MessageRefStore;
  pending: PendingRefs;
  sender: DiscordSender;
  logger: AnswerLogger;
}

/** Puts router replies on Discord through the interaction webhook, or as messages when that is too late. */
export class InteractionAnswers {
  constructor(private readonly deps: InteractionAnswerDeps) {}

  /**
   * Run `give` (which waits for the acknowledgement, then answers) with the router's response once it is
   * there. From that moment until `give` is done, a delivery for the response's messageKey waits: while the
   * acknowledgement is still on its way, a fast job's result must edit the answer, not become a message of its own.
   */
  async onceRouted(routed: Promise<RouterResponse>, give: (response: RouterResponse) => Promise<void>): Promise<void> {
    const response = await routed;
    const key = response.messageKey;
    await (key ? this.deps.pending.during(key, give(response)) : give(response));
  }

  /**
   * Put the router's reply where the user expects it and remember it for later edits.
   * Private replies and errors the user can act on go out ephemeral; a public "thinking…" cannot
   * turn ephemeral, so it is deleted and an ephemeral follow-up is sent instead.
   */
  async answer(i: AnsweredInteraction, response: RouterResponse, how: AnswerMode): Promise<void> {
    const key = response.messageKey;
    if (!key) {
      await this.sendAnswer(i, response.reply, how);
      return;
    }
    // A job's first progress delivery can race this answer: deliver() waits for the ref we store.
    const pending = this.sendAnswer(i, response.reply, how).then(async (ref) => {
      // The token that edits it is kept sealed, and only while Discord honours it (≤ 15 min).
      if (ref.hook) await this.deps.refs.setSecret('discord', key, i.token, ref.hook.expiresAt - Date.now());
      await this.deps.refs.set('discord', key, JSON.stringify(ref));
    });
    await this.deps.pending.during(key, pending);
  }

  /**
   * Answer an interaction that could not be acknowledged: a message in the channel, or a DM when the
   * answer is private (refusals, errors, anything ephemeral), saying why it comes this way. Later
   * progress edits of a job find this message through its ref like any other.
   */
  async answerLate(i: AnsweredInteraction, chat: ChatRef, response: RouterResponse, what: string): Promise<void> {
    const note = `Discord did not let clawmedic answer ${what} in time, so the answer comes as a message.`;
    const rendered = renderWithCustomIds(response.reply);
    const reply: Reply = { ...response.reply, private: response.reply.private || rendered.ephemeral || response.reply.tone === 'error', body: [note, ...(response.reply.body ?? [])] };
    const key = response.messageKey;
    const delivery: Delivery = { chat, reply, userId: i.user.id, ...(key ? { messageKey: key } : {}) };
    // Nothing was sent for this interaction yet: the late answer is the first message of its key.
    const pending = this.deps.sender.sendNew(delivery);
    try {
      await (key ? this.deps.pending.during(key, pending) : pending);
    } catch (err) {
      this.deps.logger.error({ err: describe(err), code: apiCode(err), what }, 'Discord: the late answer could not be sent either');
    }
  }

  private async sendAnswer(i: AnsweredInteraction, reply: Reply, how: AnswerMode): Promise<DiscordMessageRef> {
    const rest = this.deps.client.rest;
    const rendered = renderWithCustomIds(reply);
    const wantPrivate = rendered.ephemeral || reply.tone === 'error';
    const expiresAt = i.createdTimestamp + DISCORD_LIMITS.interactionTokenTtlMs - TOKEN_SAFETY_MARGIN_MS;
    const appId = i.applicationId;
    if (how.inPlace && (!wantPrivate || how.deferredEphemeral)) {
      const { body, files } = toRestBody(rendered);
      const msg = (await rest.patch(Routes.webhookMessage(appId, i.token, '@original'), {
        body,
        files,
        auth: false,
      })) as RESTPostAPIChannelMessageResult;
      return { v: 1, channelId: msg.channel_id, messageId: msg.id, hook: { expiresAt, target: '@original' }, ephemeral: how.deferredEphemeral };
    }
    if (i.isChatInputCommand() && !how.deferredEphemeral) {
      // Remove the public "thinking…" so the ephemeral follow-up is a message of its own.
      await rest.delete(Routes.webhookMessage(appId, i.token, '@original'), { auth: false }).catch((err: unknown) => {
        this.deps.logger.debug({ err: describe(err) }, 'Discord: could not delete the deferred reply');
      });
    }
    const { body, files } = toRestBody(rendered, wantPrivate ? MessageFlags.Ephemeral : undefined);
    const msg = (await rest.post(Routes.webhook(appId, i.token), {
      body,
      files,
      auth: false,
      query: new URLSearchParams({ wait: 'true' }),
    })) as RESTPostAPIChannelMessageResult;
    return { v: 1, channelId: msg.channel_id, messageId: msg.id, hook: { expiresAt, target: msg.id }, ephemeral: wantPrivate };
  }
}
