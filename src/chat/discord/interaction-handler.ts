/**
 * Incoming interactions → router: slash commands, host autocomplete and button presses. Every
 * interaction is acknowledged (deferred) before any other I/O, so Discord's 3-second deadline holds
 * however slow the router, Redis or the host is.
 */
import {
  MessageFlags,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
} from 'discord.js';
import type { RouterPort } from '../../domain/ports.js';
import type { Actor, ButtonAction, ChatRef, Command, RouterResponse } from '../../domain/types.js';
import { HOST_OPTION, commandText } from './commands.js';
import { parseCustomId } from './custom-id.js';
import { ALREADY_ACKNOWLEDGED, apiCode, describe } from './discord-errors.js';
import type { InteractionAnswers } from './interaction-answer.js';

/** How fast an interaction was acknowledged; for metrics and the deferral benchmark. */
export interface AckTiming {
  kind: 'command' | 'button' | 'autocomplete';
  /** From Discord creating the interaction (snowflake time) to our acknowledgement being accepted. */
  sinceCreatedMs: number;
  /** From discord.js handing us the interaction to the acknowledgement being accepted. */
  sinceReceivedMs: number;
}

/** Button presses answered by editing the pressed message in place (plan → progress → result). */
const IN_PLACE_ACTIONS: ReadonlySet<string> = new Set<ButtonAction>(['confirm', 'cancel', 'restore', 'bring_back', 'pick']);

/** Logger subset the handler uses. */
export interface InteractionLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the handler needs from the adapter. */
export interface InteractionHandlerDeps {
  router: RouterPort;
  answers: InteractionAnswers;
  logger: InteractionLogger;
  /** Commands whose reply is ephemeral from the start (decided before deferring). */
  ephemeralCommands: ReadonlySet<string>;
  /** Give up waiting for the router after this long and tell the user to retry. */
  routerTimeoutMs: number;
  onAck?: (timing: AckTiming) => void;
}

/** Dispatches interactions to the router and answers them. */
export class InteractionHandler {
  /** Raw member role ids by interaction id: discord.js's role cache may not know every role. */
  private readonly rawRoles = new Map<string, string[]>();

  constructor(private readonly deps: InteractionHandlerDeps) {}

  /** Keep the raw role ids of an interaction's member (from the gateway packet) until it is handled. */
  noteRoles(interactionId: string, roles: string[]): void {
    this.rawRoles.set(interactionId, roles);
  }

  /** Handle one interaction; failures are logged, never thrown. */
  async handle(i: Interaction, receivedAt: number): Promise<void> {
    try {
      if (i.isAutocomplete()) await this.onAutocomplete(i, receivedAt);
      else if (i.isChatInputCommand()) await this.onCommand(i, receivedAt);
      else if (i.isButton()) await this.onButton(i, receivedAt);
    } catch (err) {
      this.deps.logger.error({ err: describe(err), code: apiCode(err), interaction: i.id }, 'Discord: interaction handling failed');
    } finally {
      this.rawRoles.delete(i.id);
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

  private acked(kind: AckTiming['kind'], i: Interaction, receivedAt: number): void {
    const timing: AckTiming = {
      kind,
      sinceCreatedMs: Date.now() - i.createdTimestamp,
      sinceReceivedMs: performance.now() - receivedAt,
    };
    this.deps.logger.debug({ ...timing, interaction: i.id }, 'Discord: interaction acknowledged');
    this.deps.onAck?.(timing);
  }

  /** Autocomplete: answer from hostsFor (synchronous) so it fits in the deadline by construction. */
  private async onAutocomplete(i: AutocompleteInteraction, receivedAt: number): Promise<void> {
    const focused = i.options.getFocused(true);
    let choices: Array<{ name: string; value: string }> = [];
    if (focused.name === HOST_OPTION) {
      const typed = String(focused.value).toLowerCase();
      const hosts = this.deps.router.hostsFor(this.actorOf(i), chatOf(i));
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
    const { router, answers } = this.deps;
    // Acknowledge first: the deferral is sent before the router, Redis or anything else, and the 3 s
    // deadline is Discord's. Whether the answer is a refusal is known from the config alone (no I/O):
    // such an answer is deferred ephemeral, so nobody sees a public "thinking…" that is then deleted.
    const ephemeral = this.deps.ephemeralCommands.has(i.commandName) || router.mayRun?.(this.actorOf(i), i.commandName) === false;
    const cmd: Command = {
      actor: this.actorOf(i),
      chat: chatOf(i),
      text: commandText(i.commandName, (name) => i.options.get(name)?.value),
      requestId: i.id,
    };
    const deferral = i.deferReply(ephemeral ? { flags: MessageFlags.Ephemeral } : {}).then(
      () => void this.acked('command', i, receivedAt),
      (err: unknown) => ({ err }),
    );
    // The router is asked while the deferral is on its way, so its round trip is not added to every
    // command. A command may be asked twice when two processes got the interaction and one of them
    // then finds it answered (40060): its job is keyed by the interaction id and queued once.
    const routed = this.askRouter(() => router.handleCommand(cmd));
    await answers.onceRouted(routed, async (response) => {
      const failed = await deferral;
      if (!failed) await answers.answer(i, response, { deferredEphemeral: ephemeral, inPlace: true });
      else if (this.mayAnswerLate(failed.err, `/${i.commandName}`)) {
        // Discord shows "The application did not respond", but the person asked: answer in the channel (or DM).
        await answers.answerLate(i, chatOf(i), response, `/${i.commandName}`);
      }
    });
  }

  private async onButton(i: ButtonInteraction, receivedAt: number): Promise<void> {
    const id = parseCustomId(i.customId);
    if (!id) return; // not one of ours
    const { action, token } = id;
    let late = false;
    try {
      // Keep the pressed message as it is until the router has answered.
      await i.deferUpdate();
    } catch (err) {
      if (!this.mayAnswerLate(err, 'a button press')) return;
      late = true;
    }
    if (!late) this.acked('button', i, receivedAt);
    const response = await this.askRouter(() => this.deps.router.handleButton({ actor: this.actorOf(i), chat: chatOf(i), token }));
    if (late) await this.deps.answers.answerLate(i, chatOf(i), response, `your "${action}" press`);
    else await this.deps.answers.answer(i, response, { deferredEphemeral: false, inPlace: IN_PLACE_ACTIONS.has(action) });
    if (response.spentKeyboard && (late || !IN_PLACE_ACTIONS.has(action))) {
      // Its buttons were issued together and are all spent now: take them off the message.
      await i.message.edit({ components: [] }).catch((err: unknown) => {
        this.deps.logger.warn({ err: describe(err), code: apiCode(err) }, 'Discord: could not remove spent buttons');
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
    this.deps.logger.warn(
      { err: describe(err), code, what },
      answerLate ? 'Discord: acknowledgement failed; answering with a message instead' : 'Discord: interaction already acknowledged elsewhere',
    );
    return answerLate;
  }

  /** Call the router with a deadline; a crash or a hang becomes a reply the user can act on. */
  private async askRouter(call: () => Promise<RouterResponse>): Promise<RouterResponse> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<RouterResponse>((resolve) => {
      timer = setTimeout(
        () => resolve({ reply: { title: 'clawmedic is busy right now; please try again in a minute.', tone: 'error', private: true } }),
        this.deps.routerTimeoutMs,
      );
    });
    try {
      return await Promise.race([
        call().catch((err: unknown): RouterResponse => {
          this.deps.logger.error({ err: describe(err) }, 'Discord: router failed');
          return { reply: { title: 'Something went wrong handling that; it was logged.', tone: 'error', private: true } };
        }),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The platform-neutral chat of an interaction (a guild channel is a group). */
function chatOf(i: Interaction): ChatRef {
  return { platform: 'discord', chatId: i.channelId ?? '', isGroup: !!i.guildId };
}
