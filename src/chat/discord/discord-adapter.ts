/**
 * Discord adapter (discord.js v14): slash commands, host autocomplete, buttons and embeds on the
 * platform-neutral router. Every interaction is acknowledged (deferred) before any other I/O, so
 * Discord's 3-second deadline holds however slow the router, Redis or the host is; replies and job
 * progress then edit the deferred response in place (interaction webhook, later the channel message).
 * The parts live beside it: interactions (interaction-handler.ts), their answers (interaction-answer.ts),
 * deliveries (discord-sender.ts) and REST error handling (discord-errors.ts).
 */
import { Client, Events, GatewayIntentBits, type GatewayDispatchPayload } from 'discord.js';
import type { Logger } from 'pino';
import type { ChatAdapter, MessageRefStore, RouterPort } from '../../domain/ports.js';
import type { Delivery } from '../../domain/types.js';
import { redact, registerSecret } from '../../util/redact.js';
import { ReceiveHealth } from '../receive-health.js';
import type { ReceiveState } from '../../domain/types.js';
import { registerCommands } from './commands.js';
import { DeliveryRefusals, apiCode, describe } from './discord-errors.js';
import { DiscordSender } from './discord-sender.js';
import { InteractionAnswers } from './interaction-answer.js';
import { InteractionHandler, type AckTiming } from './interaction-handler.js';
import { PendingRefs } from './message-ref.js';

export type { AckTiming } from './interaction-handler.js';

/** The logger calls the adapter makes (pino's Logger fits). */
export type DiscordLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

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

/** Discord's end of clawmedic: one gateway connection with the Guilds intent only. */
export class DiscordAdapter implements ChatAdapter {
  readonly platform = 'discord' as const;
  private readonly client: Client;
  private readonly sender: DiscordSender;
  private readonly interactions: InteractionHandler;
  private readonly inFlight = new Set<Promise<void>>();
  private started = false;
  private stopping = false;
  private readonly health = new ReceiveHealth();

  constructor(private readonly opts: DiscordAdapterOptions) {
    registerSecret(opts.token);
    this.client = new Client({
      // Interactions arrive without any intent; Guilds keeps channel/role caches coherent.
      intents: [GatewayIntentBits.Guilds],
      ...(opts.restApi ? { rest: { api: opts.restApi } } : {}),
    });
    // deliver() may run before (or without) a gateway connection: REST only needs the token.
    this.client.rest.setToken(opts.token);
    const pending = new PendingRefs();
    const { client } = this;
    const { refs, logger } = opts;
    this.sender = new DiscordSender({ client, applicationId: opts.applicationId, refs, pending, refusals: new DeliveryRefusals(logger), logger });
    const answers = new InteractionAnswers({ client, refs, pending, sender: this.sender, logger });
    this.interactions = new InteractionHandler({
      router: opts.router,
      answers,
      logger,
      ephemeralCommands: new Set(opts.ephemeralCommands ?? []),
      routerTimeoutMs: opts.routerTimeoutMs ?? 10_000,
      ...(opts.onAck ? { onAck: opts.onAck } : {}),
    });
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

  /** Connected to the gateway (interactions can reach us), or down since when. */
  receiveState(): ReceiveState {
    return this.health.state;
  }

  /**
   * Send a delivery, or edit the message its messageKey already names: through the interaction
   * webhook while its token is valid, then through the channel message, else as a new message.
   */
  deliver(delivery: Delivery): Promise<void> {
    return this.sender.deliver(delivery);
  }

  private wireEvents(): void {
    const log = this.opts.logger;
    this.client.on(Events.Raw, (packet: GatewayDispatchPayload) => {
      if (packet.t === 'INTERACTION_CREATE' && packet.d.member) this.interactions.noteRoles(packet.d.id, packet.d.member.roles);
    });
    this.client.on(Events.InteractionCreate, (interaction) => {
      const p = this.interactions.handle(interaction, performance.now()).finally(() => this.inFlight.delete(p));
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
}
