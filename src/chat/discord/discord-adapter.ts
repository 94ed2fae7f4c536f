/**
 * Discord adapter (discord.js v14): slash commands, host autocomplete, buttons and embeds on the
 * platform-neutral router. Every interaction is acknowledged (deferred) before any other I/O, so
 * Discord's 3-second deadline holds however slow the router, Redis or the host is; replies and job
 * progress then edit the deferred response in place (interaction webhook, later the channel message).
 */
import {
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  MessageFlags,
  Routes,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type GatewayDispatchPayload,
  type Interaction,
  type RawFile,
  type RESTPostAPIChannelMessageResult,
} from 'discord.js';
import type { Logger } from 'pino';
import type { ChatAdapter, MessageRefStore, RouterPort } from '../../domain/ports.js';
import { PermanentDeliveryError } from '../../domain/errors.js';
import type { Actor, ButtonAction, ChatRef, Command, Delivery, Reply, RouterResponse } from '../../domain/types.js';
import { redact, registerSecret } from '../../util/redact.js';
import { ReceiveHealth } from '../receive-health.js';
import type { ReceiveState } from '../../domain/types.js';
import { HOST_OPTION, commandText, registerCommands } from './commands.js';
import { DISCORD_LIMITS, renderReply, toRestBody, type RenderedMessage } from './render.js';

/** The logger calls the adapter makes (pino's Logger fits). */
export type DiscordLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** How fast an interaction was acknowledged; for metrics and the deferral benchmark. */
export interface AckTiming {
  kind: 'command' | 'button' | 'autocomplete';
  /** From Discord creating the interaction (snowflake time) to our acknowledgement being accepted. */
  sinceCreatedMs: number;
  /** From discord.js handing us the interaction to the acknowledgement being accepted. */
  sinceReceivedMs: number;
}

/** Options of DiscordAdapter; defaults in brackets. */
export interface DiscordAdapterOptions {
  /** Bot token: registered with redact() at once, never logged. */
  token: string;
  applicationId: string;
  /** Register commands in this guild only (instant); global otherwise. */
  guildId?: string;
  router: RouterPort;
  refs: MessageRefStore;
  logger: DiscordLogger;
  /** REST base URL (tests: the Discord stand-in); the gateway URL then comes from its GET /gateway/bot. */
  restApi?: string;
  /** Register slash commands when start() runs [true]. */
  registerOnStart?: boolean;
  /** Commands whose reply is ephemeral from the start (decided before deferring) [none]. */
  ephemeralCommands?: readonly string[];
  /** Give up waiting for the router after this long and tell the user to retry [10 000 ms]. */
  routerTimeoutMs?: number;
  /** Called after each acknowledgement (metrics, benchmark). */
  onAck?: (timing: AckTiming) => void;
}

/** Custom ids are `<action>:<token>`: the router only ever sees the opaque token. */
const CUSTOM_ID_SEPARATOR = ':';
/** Button presses answered by editing the pressed message in place (plan → progress → result). */
const IN_PLACE_ACTIONS: ReadonlySet<string> = new Set<ButtonAction>(['confirm', 'cancel', 'restore', 'bring_back', 'pick']);
/** Stop using an interaction token this long before Discord's 15 minutes run out. */
const TOKEN_SAFETY_MARGIN_MS = 60_000;
/** Where a delivery lands when the channel refuses us: never retried. */
const PERMANENT_CODES = new Set([
  50001, // Missing Access
  50013, // Missing Permissions
  10003, // Unknown Channel
  50007, // Cannot send messages to this user
  10013, // Unknown User
  50035, // Invalid Form Body: a rendering bug; retrying sends the same body
  40005, // Request entity too large
]);
const PERMISSION_CODES = new Set([50001, 50013]);
/** The interaction webhook or message is gone/expired: fall back to the channel message. */
const HOOK_GONE_CODES = new Set([10015, 50027, 10008, 10062]);
/** "Interaction has already been acknowledged": someone else answered it; do not run it twice. */
const ALREADY_ACKNOWLEDGED = 40060;

/**
 * Where a logical message lives on Discord; JSON in the MessageRefStore. The interaction token that
 * can edit it is not in here: it is kept sealed beside it (MessageRefStore.setSecret) until `hook.expiresAt`.
 */
interface DiscordMessageRef {
  v: 1;
  channelId: string;
  messageId?: string;
  /** Interaction webhook that can edit it until expiresAt (needed for ephemeral messages). */
  hook?: { expiresAt: number; target: string };
  ephemeral?: boolean;
}

const apiCode = (err: unknown): number | undefined =>
  err instanceof DiscordAPIError && typeof err.code === 'number' ? err.code : undefined;

const describe = (err: unknown): string => redact(err instanceof Error ? err.message : String(err));

/** Discord's end of clawmedic: one gateway connection with the Guilds intent only. */
export class DiscordAdapter implements ChatAdapter {
  readonly platform = 'discord' as const;
  private readonly client: Client;
  private readonly ephemeralCommands: ReadonlySet<string>;
  private readonly routerTimeoutMs: number;
  /** Raw member role ids by interaction id: discord.js's role cache may not know every role. */
  private readonly rawRoles = new Map<string, string[]>();
  /** Channels whose missing permission was already reported (reported again after a success). */
  private readonly deniedChannels = new Set<string>();
  private readonly dmChannels = new Map<string, string>();
  private readonly inFlight = new Set<Promise<void>>();
  /** messageKeys whose first message is being sent right now: deliver() waits for their ref. */
  private readonly pendingRefs = new Map<string, Promise<void>>();
  private started = false;
  private stopping = false;
  private readonly health = new ReceiveHealth();

  constructor(private readonly opts: DiscordAdapterOptions) {
    registerSecret(opts.token);
    this.ephemeralCommands = new Set(opts.ephemeralCommands ?? []);
    this.routerTimeoutMs = opts.routerTimeoutMs ?? 10_000;
    this.client = new Client({
      // Interactions arrive without any intent; Guilds keeps channel/role caches coherent.
      intents: [GatewayIntentBits.Guilds],
      ...(opts.restApi ? { rest: { api: opts.restApi } } : {}),
    });
    // deliver() may run before (or without) a gateway connection: REST only needs the token.
    this.client.rest.setToken(opts.token);
    this.wireEvents();
  }

  /** Connect to the gateway, wait for READY + guilds, then (re-)register the slash commands. */
  async start(): Promise<void> {
    const ready = new Promise<void>((resolve) => this.client.once(Events.ClientReady, () => resolve()));
    await this.client.login(this.opts.token);
    await ready;
    this.started = true;
    this.opts.logger.info({ user: this.client.user?.tag, guilds: this.client.guilds.cache.size }, 'Discord: connected to the gateway');
    if (this.opts.registerOnStart ?? true) {
      try {
        const result = await registerCommands({
          token: this.opts.token,
          applicationId: this.opts.applicationId,
          rest: this.client.rest,
          ...(this.opts.guildId ? { guildId: this.opts.guildId } : {}),
        });
        this.opts.logger.info(result, `Discord: registered ${result.names.length} slash commands (${result.scope})`);
      } catch (err) {
        // Commands registered earlier keep working; `clawmedic discord register` retries by hand.
        this.opts.logger.error({ err: describe(err), code: apiCode(err) }, 'Discord: could not register slash commands');
      }
    }
  }

  /** Finish interactions being answered, then close the gateway connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.inFlight]);
    if (this.started) await this.client.destroy();
    this.started = false;
    this.stopping = false;
  }

  // ---------------------------------------------------------------- incoming

  private wireEvents(): void {
    const log = this.opts.logger;
    this.client.on(Events.Raw, (packet: GatewayDispatchPayload) => {
      if (packet.t === 'INTERACTION_CREATE' && packet.d.member) this.rawRoles.set(packet.d.id, packet.d.member.roles);
    });
    this.client.on(Events.InteractionCreate, (interaction) => {
      const p = this.onInteraction(interaction, performance.now()).finally(() => {
        this.rawRoles.delete(interaction.id);
        this.inFlight.delete(p);
      });
      this.inFlight.add(p);
    });
    // Reconnects and resumes are discord.js's job; we only say what happened.
    // Without the gateway no interaction reaches us: /healthz and the receive watch say so (receive-health.ts).
    this.client.on(Events.ShardDisconnect, (ev, shard) => {
      if (!this.stopping) this.health.markDown(`gateway disconnected (code ${ev.code})`);
      log.warn({ shard, code: ev.code }, 'Discord: gateway disconnected');
    });
    this.client.on(Events.ShardReconnecting, (shard) => {
      if (this.stopping) return;
      this.health.markDown('gateway reconnecting');
      log.info({ shard }, 'Discord: gateway reconnecting');
    });
    this.client.on(Events.ShardReady, () => this.health.markOk());
    this.client.on(Events.ShardResume, (shard, replayed) => {
      this.health.markOk();
      log.info({ shard, replayed }, 'Discord: gateway session resumed');
    });
    this.client.on(Events.ShardError, (err, shard) => log.warn({ shard, err: describe(err) }, 'Discord: gateway error'));
    this.client.on(Events.Error, (err) => log.error({ err: describe(err) }, 'Discord: client error'));
    this.client.on(Events.Warn, (msg) => log.warn({ detail: redact(msg) }, 'Discord: warning'));
    this.client.rest.on('rateLimited', (info) =>
      log.info({ route: info.route, method: info.method, retryAfterMs: info.retryAfter, global: info.global }, 'Discord: rate limited; the REST queue waits and retries'),
    );
  }

  private async onInteraction(i: Interaction, receivedAt: number): Promise<void> {
    try {
      if (i.isAutocomplete()) await this.onAutocomplete(i, receivedAt);
      else if (i.isChatInputCommand()) await this.onCommand(i, receivedAt);
      else if (i.isButton()) await this.onButton(i, receivedAt);
    } catch (err) {
      this.opts.logger.error({ err: describe(err), code: apiCode(err), interaction: i.id }, 'Discord: interaction handling failed');
    }
  }

  private actorOf(i: Interaction): Actor {
    const roles = this.rawRoles.get(i.id);
    return {
      platform: 'discord',
      userId: i.user.id,
      displayName: i.user.globalName ?? i.user.username,
      ...(i.guildId ? { roleIds: roles ?? [] } : {}),
    };
  }

  private chatOf(i: Interaction): ChatRef {
    return { platform: 'discord', chatId: i.channelId ?? '', isGroup: !!i.guildId };
  }

  private acked(kind: AckTiming['kind'], i: Interaction, receivedAt: number): void {
    const timing: AckTiming = {
      kind,
      sinceCreatedMs: Date.now() - i.createdTimestamp,
      sinceReceivedMs: performance.now() - receivedAt,
    };
    this.opts.logger.debug({ ...timing, interaction: i.id }, 'Discord: interaction acknowledged');
    this.opts.onAck?.(timing);
  }

  /** Autocomplete: answer from hostsFor (synchronous) so it fits in the deadline by construction. */
  private async onAutocomplete(i: AutocompleteInteraction, receivedAt: number): Promise<void> {
    const focused = i.options.getFocused(true);
    let choices: Array<{ name: string; value: string }> = [];
    if (focused.name === HOST_OPTION) {
      const typed = String(focused.value).toLowerCase();
      const hosts = this.opts.router.hostsFor(this.actorOf(i), this.chatOf(i));
      choices = hosts
        .filter((h) => h.toLowerCase().includes(typed))
        .sort((a, b) => Number(!a.toLowerCase().startsWith(typed)) - Number(!b.toLowerCase().startsWith(typed)) || a.localeCompare(b))
        .slice(0, 25)
        .map((h) => ({ name: h.slice(0, 100), value: h.slice(0, 100) }));
    }
    await i.respond(choices);
    this.acked('autocomplete', i, receivedAt);
  }

  private async onCommand(i: ChatInputCommandInteraction, receivedAt: number): Promise<void> {
    // Acknowledge first, before the router, Redis or anything else: the 3 s deadline is Discord's.
    // Whether the answer is a refusal is known from the config alone (no I/O): such an answer is
    // deferred ephemeral, so nobody sees a public "thinking…" that is then deleted.
    const ephemeral = this.ephemeralCommands.has(i.commandName) || this.opts.router.mayRun?.(this.actorOf(i), i.commandName) === false;
    const cmd: Command = {
      actor: this.actorOf(i),
      chat: this.chatOf(i),
      text: commandText(i.commandName, (name) => i.options.get(name)?.value),
      requestId: i.id,
    };
    try {
      await i.deferReply(ephemeral ? { flags: MessageFlags.Ephemeral } : {});
    } catch (err) {
      if (!this.mayAnswerLate(err, `/${i.commandName}`)) return;
      // Discord shows "The application did not respond", but the person asked: answer in the channel (or DM).
      const response = await this.askRouter(() => this.opts.router.handleCommand(cmd));
      await this.answerLate(i, response, `/${i.commandName}`);
      return;
    }
    this.acked('command', i, receivedAt);

    const response = await this.askRouter(() => this.opts.router.handleCommand(cmd));
    await this.answer(i, response, { deferredEphemeral: ephemeral, inPlace: true });
  }

  private async onButton(i: ButtonInteraction, receivedAt: number): Promise<void> {
    const sep = i.customId.indexOf(CUSTOM_ID_SEPARATOR);
    if (sep < 0) return; // not one of ours
    const action = i.customId.slice(0, sep);
    const token = i.customId.slice(sep + 1);
    let late = false;
    try {
      // Keep the pressed message as it is until the router has answered.
      await i.deferUpdate();
    } catch (err) {
      if (!this.mayAnswerLate(err, 'a button press')) return;
      late = true;
    }
    if (!late) this.acked('button', i, receivedAt);
    const response = await this.askRouter(() => this.opts.router.handleButton({ actor: this.actorOf(i), chat: this.chatOf(i), token }));
    if (late) await this.answerLate(i, response, `your "${action}" press`);
    else await this.answer(i, response, { deferredEphemeral: false, inPlace: IN_PLACE_ACTIONS.has(action) });
    if (response.spentKeyboard && (late || !IN_PLACE_ACTIONS.has(action))) {
      // Its buttons were issued together and are all spent now: take them off the message.
      await i.message.edit({ components: [] }).catch((err: unknown) => {
        this.opts.logger.warn({ err: describe(err), code: apiCode(err) }, 'Discord: could not remove spent buttons');
      });
    }
  }

  /**
   * The acknowledgement failed (Discord's 3 s passed while a 429 made us wait, or the network failed).
   * Answer anyway, outside the interaction — unless another process already answered it (40060).
   */
  private mayAnswerLate(err: unknown, what: string): boolean {
    const code = apiCode(err);
    const answerLate = code !== ALREADY_ACKNOWLEDGED;
    this.opts.logger.warn(
      { err: describe(err), code, what },
      answerLate ? 'Discord: acknowledgement failed; answering with a message instead' : 'Discord: interaction already acknowledged elsewhere',
    );
    return answerLate;
  }

  /**
   * Answer an interaction that could not be acknowledged: a message in the channel, or a DM when the
   * answer is private (refusals, errors, anything ephemeral), saying why it comes this way. Later
   * progress edits of a job find this message through its ref like any other.
   */
  private async answerLate(i: ChatInputCommandInteraction | ButtonInteraction, response: RouterResponse, what: string): Promise<void> {
    const note = `Discord did not let clawmedic answer ${what} in time, so the answer comes as a message.`;
    const rendered = this.render(response.reply);
    const reply: Reply = { ...response.reply, private: response.reply.private || rendered.ephemeral || response.reply.tone === 'error', body: [note, ...(response.reply.body ?? [])] };
    const key = response.messageKey;
    const delivery: Delivery = { chat: this.chatOf(i), reply, userId: i.user.id, ...(key ? { messageKey: key } : {}) };
    // deliver() reads pendingRefs synchronously on entry, before this sets it: it never waits on itself.
    const pending = this.deliver(delivery);
    const tracked = pending.catch(() => undefined);
    if (key) this.pendingRefs.set(key, tracked);
    try {
      await pending;
    } catch (err) {
      this.opts.logger.error({ err: describe(err), code: apiCode(err), what }, 'Discord: the late answer could not be sent either');
    } finally {
      if (key && this.pendingRefs.get(key) === tracked) this.pendingRefs.delete(key);
    }
  }

  /** Call the router with a deadline; a crash or a hang becomes a reply the user can act on. */
  private async askRouter(call: () => Promise<RouterResponse>): Promise<RouterResponse> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<RouterResponse>((resolve) => {
      timer = setTimeout(
        () => resolve({ reply: { title: 'clawmedic is busy right now; please try again in a minute.', tone: 'error', private: true } }),
        this.routerTimeoutMs,
      );
    });
    try {
      return await Promise.race([
        call().catch((err: unknown): RouterResponse => {
          this.opts.logger.error({ err: describe(err) }, 'Discord: router failed');
          return { reply: { title: 'Something went wrong handling that; it was logged.', tone: 'error', private: true } };
        }),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Put the router's reply where the user expects it and remember it for later edits.
   * Private replies and errors the user can act on go out ephemeral; a public "thinking…" cannot
   * turn ephemeral, so it is deleted and an ephemeral follow-up is sent instead.
   */
  private async answer(
    i: ChatInputCommandInteraction | ButtonInteraction,
    response: RouterResponse,
    how: { deferredEphemeral: boolean; inPlace: boolean },
  ): Promise<void> {
    const key = response.messageKey;
    if (!key) {
      await this.sendAnswer(i, response.reply, how);
      return;
    }
    // A job's first progress delivery can race this answer: deliver() waits for the ref we store.
    const pending = this.sendAnswer(i, response.reply, how).then(async (ref) => {
      // The token that edits it is kept sealed, and only while Discord honours it (≤ 15 min).
      if (ref.hook) await this.opts.refs.setSecret('discord', key, i.token, ref.hook.expiresAt - Date.now());
      await this.opts.refs.set('discord', key, JSON.stringify(ref));
    });
    const tracked = pending.catch(() => undefined);
    this.pendingRefs.set(key, tracked);
    try {
      await pending;
    } finally {
      if (this.pendingRefs.get(key) === tracked) this.pendingRefs.delete(key);
    }
  }

  private async sendAnswer(
    i: ChatInputCommandInteraction | ButtonInteraction,
    reply: Reply,
    how: { deferredEphemeral: boolean; inPlace: boolean },
  ): Promise<DiscordMessageRef> {
    const rendered = this.render(reply);
    const wantPrivate = rendered.ephemeral || reply.tone === 'error';
    const expiresAt = i.createdTimestamp + DISCORD_LIMITS.interactionTokenTtlMs - TOKEN_SAFETY_MARGIN_MS;
    const appId = i.applicationId;
    if (how.inPlace && (!wantPrivate || how.deferredEphemeral)) {
      const { body, files } = toRestBody(rendered);
      const msg = (await this.client.rest.patch(Routes.webhookMessage(appId, i.token, '@original'), {
        body,
        files,
        auth: false,
      })) as RESTPostAPIChannelMessageResult;
      return { v: 1, channelId: msg.channel_id, messageId: msg.id, hook: { expiresAt, target: '@original' }, ephemeral: how.deferredEphemeral };
    }
    if (i.isChatInputCommand() && !how.deferredEphemeral) {
      // Remove the public "thinking…" so the ephemeral follow-up is a message of its own.
      await this.client.rest.delete(Routes.webhookMessage(appId, i.token, '@original'), { auth: false }).catch((err: unknown) => {
        this.opts.logger.debug({ err: describe(err) }, 'Discord: could not delete the deferred reply');
      });
    }
    const { body, files } = toRestBody(rendered, wantPrivate ? MessageFlags.Ephemeral : undefined);
    const msg = (await this.client.rest.post(Routes.webhook(appId, i.token), {
      body,
      files,
      auth: false,
      query: new URLSearchParams({ wait: 'true' }),
    })) as RESTPostAPIChannelMessageResult;
    return { v: 1, channelId: msg.channel_id, messageId: msg.id, hook: { expiresAt, target: msg.id }, ephemeral: wantPrivate };
  }

  /** Render with buttons carrying `<action>:<token>` as custom_id. */
  private render(reply: Reply): RenderedMessage {
    const buttons = reply.buttons?.map((b) => ({ ...b, token: `${b.action}${CUSTOM_ID_SEPARATOR}${b.token}` }));
    return renderReply(buttons ? { ...reply, buttons } : reply);
  }

  // ---------------------------------------------------------------- outgoing

  /** Connected to the gateway (interactions can reach us), or down since when. */
  receiveState(): ReceiveState {
    return this.health.state;
  }

  /**
   * Send a delivery, or edit the message its messageKey already names: through the interaction
   * webhook while its token is valid, then through the channel message, else as a new message.
   */
  async deliver(delivery: Delivery): Promise<void> {
    const rendered = this.render(delivery.reply);
    const key = delivery.messageKey;
    if (key) await this.pendingRefs.get(key);
    const ref = key ? this.parseRef(await this.opts.refs.get('discord', key)) : undefined;

    const hookToken = key && ref?.hook && Date.now() < ref.hook.expiresAt ? await this.hookToken(key) : undefined;
    if (ref?.hook && hookToken) {
      try {
        const { body, files } = toRestBody(rendered);
        await this.client.rest.patch(Routes.webhookMessage(this.opts.applicationId, hookToken, ref.hook.target), { body, files, auth: false });
        return;
      } catch (err) {
        if (!HOOK_GONE_CODES.has(apiCode(err) ?? -1)) throw this.classify(err, ref.channelId);
        this.opts.logger.debug({ code: apiCode(err), messageKey: key }, 'Discord: interaction webhook gone; editing the channel message');
      }
    }
    if (ref?.messageId && !ref.ephemeral) {
      try {
        const { body, files } = toRestBody(rendered);
        await this.client.rest.patch(Routes.channelMessage(ref.channelId, ref.messageId), { body, files });
        this.deniedChannels.delete(ref.channelId);
        return;
      } catch (err) {
        if (apiCode(err) !== 10008) throw this.classify(err, ref.channelId);
        // Deleted by someone: send it again below.
      }
    }

    const target = await this.targetChannel(delivery);
    const { body, files } = toRestBody(rendered);
    const reference = await this.referenceTo(delivery.replyToKey, target);
    const msg = await this.send(target, reference ? { ...body, message_reference: reference } : body, files);
    if (key) await this.opts.refs.set('discord', key, JSON.stringify({ v: 1, channelId: target, messageId: msg.id } satisfies DiscordMessageRef));
  }

  /** A reply reference to the message `replyToKey` names, when it is a channel message in `channelId`. */
  private async referenceTo(replyToKey: string | undefined, channelId: string): Promise<{ message_id: string; fail_if_not_exists: false } | undefined> {
    if (!replyToKey) return undefined;
    await this.pendingRefs.get(replyToKey);
    const ref = this.parseRef(await this.opts.refs.get('discord', replyToKey));
    if (!ref?.messageId || ref.ephemeral || ref.channelId !== channelId) return undefined;
    // The answered message may have been deleted meanwhile: then this one goes out on its own.
    return { message_id: ref.messageId, fail_if_not_exists: false };
  }

  private async send(channelId: string, body: object, files: RawFile[]): Promise<RESTPostAPIChannelMessageResult> {
    try {
      const msg = (await this.client.rest.post(Routes.channelMessages(channelId), { body, files })) as RESTPostAPIChannelMessageResult;
      this.deniedChannels.delete(channelId);
      return msg;
    } catch (err) {
      throw this.classify(err, channelId);
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
      const known = this.client.channels.cache.get(delivery.chat.chatId);
      if (!delivery.chat.isGroup && !(known && !known.isDMBased())) return delivery.chat.chatId;
      throw new PermanentDeliveryError('A private reply needs a user to send it to; it is not posted in a shared channel.');
    }
    const cached = this.dmChannels.get(delivery.userId);
    if (cached) return cached;
    try {
      const dm = (await this.client.rest.post(Routes.userChannels(), { body: { recipient_id: delivery.userId } })) as { id: string };
      this.dmChannels.set(delivery.userId, dm.id);
      return dm.id;
    } catch (err) {
      throw this.classify(err, `dm:${delivery.userId}`);
    }
  }

  /** Permanent failures become PermanentDeliveryError; a missing permission is logged once per channel. */
  private classify(err: unknown, channelId: string): Error {
    const code = apiCode(err);
    if (code === undefined || !PERMANENT_CODES.has(code)) return err instanceof Error ? err : new Error(String(err));
    if (PERMISSION_CODES.has(code)) {
      const what = code === 50001 ? 'cannot see' : 'lacks a permission in';
      const message = `Discord: clawmedic ${what} channel ${channelId} (${code}); grant View Channel, Send Messages, Embed Links and Attach Files there.`;
      if (!this.deniedChannels.has(channelId)) {
        this.deniedChannels.add(channelId);
        this.opts.logger.warn({ channelId, code }, message);
      }
      return new PermanentDeliveryError(message, channelId);
    }
    this.opts.logger.warn({ channelId, code, err: describe(err) }, 'Discord: delivery refused permanently');
    return new PermanentDeliveryError(`Discord refused the message for channel ${channelId}: ${describe(err)}`, channelId);
  }

  /**
   * The interaction token kept (sealed) for a message, if still there. One that does not open
   * (CLAWMEDIC_JOB_KEY changed, or edited in Redis) is logged without its value and not used:
   * the edit goes through the channel message instead.
   */
  private async hookToken(messageKey: string): Promise<string | undefined> {
    try {
      return await this.opts.refs.getSecret('discord', messageKey);
    } catch (err) {
      this.opts.logger.warn({ messageKey, err: describe(err) }, 'Discord: the kept interaction token does not open; editing through the channel instead');
      return undefined;
    }
  }

  private parseRef(raw: string | undefined): DiscordMessageRef | undefined {
    if (!raw) return undefined;
    try {
      const ref = JSON.parse(raw) as DiscordMessageRef;
      return ref.v === 1 && typeof ref.channelId === 'string' ? ref : undefined;
    } catch {
      return undefined;
    }
  }
}
