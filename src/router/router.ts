/**
 * The one platform-neutral command router: parse, authorize (immutable user id → role, chat ↔
 * host bindings, deny by default), confirm, audit, enqueue. It never runs SSH and never waits
 * on a job: it answers at once and the job's progress arrives through the notify queue.
 */
import { AUTOFIX_USER_ID, DEFAULTS, HOST_NAME_PATTERN } from '../constants.js';
import { COMMAND_NAMES, type ButtonAction, type ButtonPress, type ChatRef, type Command, type CommandName, type JobOrigin, type Menu, type Platform, type RouterResponse } from '../domain/types.js';
import type { FixPlan, Verdict } from '../domain/diagnosis.js';
import type { AlertCommands, RouterPort } from '../domain/ports.js';
import { HOST_JOB } from '../jobs/payloads.js';
import { toStoredPlan } from '../openclaw/stored-plan.js';
import { newRequestId } from '../util/ids.js';
import { parseCommand } from './parse-command.js';
import { menusFor } from './menus.js';
import { commandsFor, hostsForChat, REQUIRED_ROLE, roleAllows, roleOf } from './authorize.js';
import { usageLine } from '../render/usage.js';
import { FORGED_BUTTON } from '../state/button-store.js';
import { HISTORY_ALL, HISTORY_SCAN, renderHistory } from '../render/render-history.js';
import { renderHelp, renderHostList, renderHostPicker, refusal } from '../render/render-basic.js';
import type { RouterDeps } from './router-deps.js';
import { refuseForgedButton, refuseIfLimited, refuseUnknown } from './refusals.js';
import { confirmFix, enqueueHostJob } from './enqueue.js';

export type { RouterDeps } from './router-deps.js';

/**
 * The command whose role a button press needs. Cancel needs the operator role like the fix it
 * cancels (and is bound to the requester anyway); 'pick' is only a rendering hint, never stored.
 */
const BUTTON_NEEDS: Record<ButtonAction, CommandName> = {
  confirm: 'fix',
  fix: 'fix',
  restore: 'fix',
  bring_back: 'fix',
  cancel: 'fix',
  diagnose: 'diagnose',
  pick: 'diagnose',
  ack: 'ack',
  mute: 'mute',
};

/** Commands that take a host and what pressing a host button in the picker does. */
const HOST_COMMANDS = new Set<CommandName>(['diagnose', 'fix', 'history', 'mute', 'unmute', 'ack']);

export class Router implements RouterPort {
  constructor(private readonly deps: RouterDeps) {}

  /** Plug in the monitor's alert commands once it runs (it starts after the router). */
  setAlerts(alerts: AlertCommands): void {
    this.deps.alerts = alerts;
  }

  /**
   * Queue a fix the monitor decided on (auto-fix, opt-in per host) with the same limits as a
   * confirmed /fix: attempts per hour, one fix per host at a time, audit. Progress goes to `chat`.
   */
  async autoFix(host: string, plan: FixPlan, verdict: Verdict, chat: ChatRef): Promise<RouterResponse> {
    const origin: JobOrigin = {
      requestId: `auto-${newRequestId()}`,
      actor: { platform: chat.platform, userId: AUTOFIX_USER_ID, displayName: 'clawmedic auto-fix' },
      chat,
      messageKey: '',
    };
    return confirmFix(this.deps, host, toStoredPlan(plan), verdict, origin, 'confirm');
  }

  menus(platform: Platform): Menu[] {
    return menusFor(this.deps.config, platform);
  }

  mayRun(actor: Command['actor'], command: string): boolean {
    const name = (COMMAND_NAMES as readonly string[]).includes(command) ? (command as CommandName) : undefined;
    if (!name) return false;
    const role = roleOf(this.deps.config, actor);
    return !!role && roleAllows(role, name);
  }

  hostsFor(actor: Command['actor'], chat: Command['chat']): string[] {
    return roleOf(this.deps.config, actor) ? hostsForChat(this.deps.config, chat, actor) : [];
  }

  /** A person's name from the config ("Alice"), or "telegram:101" for someone the config does not name. */
  private nameOf(actor: { platform: string; userId: string }): string {
    if (actor.userId === AUTOFIX_USER_ID) return 'auto-fix';
    const person = this.deps.config.people.find((p) => p.platform === actor.platform && p.userId === actor.userId);
    return person?.name ?? `${actor.platform}:${actor.userId}`;
  }

  /** The name from `people` (the same on every platform) wins over the platform's display name. */
  private named<T extends { actor: Command['actor'] }>(input: T): T {
    const person = this.deps.config.people.find((p) => p.platform === input.actor.platform && p.userId === input.actor.userId);
    return person?.name ? { ...input, actor: { ...input.actor, displayName: person.name } } : input;
  }

  async handleCommand(input: Command): Promise<RouterResponse> {
    const cmd = this.named(input);
    const { audit, config } = this.deps;
    const parsed = parseCommand(cmd.text);
    const who = { platform: cmd.actor.platform, userId: cmd.actor.userId };
    const where = { platform: cmd.chat.platform, chatId: cmd.chat.chatId };
    // Who and how often come before anything else: an unknown user or a flood must cost one Redis round trip, not a reply each.
    const role = roleOf(config, cmd.actor);
    if (!role) return refuseUnknown(this.deps, parsed.ok ? parsed.name : 'command', who, where);
    const limited = await refuseIfLimited(this.deps, parsed.ok ? parsed.name : 'command', who, where);
    if (limited) return limited;
    if (!parsed.ok) {
      return {
        reply: refusal(
          parsed.error === 'unknown_command'
            ? `Unknown command ${parsed.word ?? ''}. Send /help for the list.`
            : 'Commands start with "/". Send /help for the list.',
        ),
      };
    }
    const { name, args } = parsed;
    if (!roleAllows(role, name)) {
      await audit.record({ event: 'denied', action: name, actor: who, chat: where, detail: `role ${role} < ${REQUIRED_ROLE[name]}` });
      return { reply: refusal(`/${name} needs the ${REQUIRED_ROLE[name]} role; you are ${role}.`) };
    }

    const visible = hostsForChat(config, cmd.chat, cmd.actor);
    if (name === 'help' || name === 'start') {
      return { reply: renderHelp(commandsFor(config, cmd.actor), visible) };
    }
    if (name === 'hosts') {
      await audit.record({ event: 'allowed', action: name, actor: who, chat: where });
      return { reply: renderHostList(config.hosts.filter((h) => visible.includes(h.name))) };
    }

    // Every other command names a host (status may name none: the whole fleet this chat sees).
    const hostArg = args[0];
    if (hostArg === undefined && HOST_COMMANDS.has(name)) {
      if (visible.length === 0) return { reply: refusal('No hosts are bound to this chat.') };
      const tokens = await this.deps.buttons.issue(
        visible.map((h) => ({ action: name === 'fix' ? 'fix' : 'diagnose', host: h, platform: cmd.chat.platform, chatId: cmd.chat.chatId })),
        DEFAULTS.confirmTtlSec,
      );
      if (name === 'diagnose' || name === 'fix') return { reply: renderHostPicker(name, visible, tokens) };
      return { reply: refusal(`${usageLine(name, visible[0])}. Hosts here: ${visible.join(', ')}`) };
    }
    if (hostArg !== undefined) {
      const problem = this.checkHost(hostArg, visible);
      if (problem) {
        await audit.record({ event: 'denied', action: name, actor: who, chat: where, detail: problem.audit });
        return { reply: refusal(problem.message) };
      }
    }

    return this.runCommand(name, args, visible, cmd);
  }

  /** A command past the role, rate and host checks: queue its job or answer it. */
  private async runCommand(name: CommandName, args: string[], visible: string[], cmd: Command): Promise<RouterResponse> {
    const { audit } = this.deps;
    const hostArg = args[0];
    const who = { platform: cmd.actor.platform, userId: cmd.actor.userId };
    const where = { platform: cmd.chat.platform, chatId: cmd.chat.chatId };
    const origin: JobOrigin = {
      requestId: cmd.requestId ? `${cmd.chat.platform}-${cmd.requestId}` : newRequestId(),
      actor: cmd.actor,
      chat: cmd.chat,
      messageKey: '',
    };
    origin.messageKey = `job:${origin.requestId}`;

    switch (name) {
      case 'status':
        return enqueueHostJob(this.deps, HOST_JOB.status, hostArg ? [hostArg] : visible, origin);
      case 'diagnose':
        return enqueueHostJob(this.deps, HOST_JOB.diagnose, [hostArg!], origin);
      case 'fix':
        return enqueueHostJob(this.deps, HOST_JOB.plan, [hostArg!], origin);
      case 'history': {
        await audit.record({ event: 'allowed', action: name, host: hostArg, actor: who, chat: where });
        const all = args.slice(1).includes('--all');
        const unknown = args.slice(1).find((a) => a !== '--all');
        if (unknown !== undefined) return { reply: refusal(usageLine('history', hostArg)) };
        const records = await audit.recent(hostArg, all ? HISTORY_ALL : HISTORY_SCAN);
        return { reply: renderHistory(hostArg!, records, (a) => this.nameOf(a), all) };
      }
      case 'mute':
      case 'unmute':
      case 'ack':
        return this.alertCommand(name, hostArg!, args.slice(1), cmd);
    }
    return { reply: refusal(`Unknown command /${name}. Send /help for the list.`) };
  }

  async handleButton(input: ButtonPress): Promise<RouterResponse> {
    const press = this.named(input);
    const { buttons, audit, config } = this.deps;
    const who = { platform: press.actor.platform, userId: press.actor.userId };
    const where = { platform: press.chat.platform, chatId: press.chat.chatId };
    if (!roleOf(config, press.actor)) return refuseUnknown(this.deps, 'button', who, where);
    const limited = await refuseIfLimited(this.deps, 'button', who, where);
    if (limited) return limited;
    const state = await buttons.peek(press.token);
    if (state === FORGED_BUTTON) return refuseForgedButton(this.deps, who, where);
    if (!state || state.platform !== press.chat.platform || state.chatId !== press.chat.chatId) {
      await audit.record({ event: 'expired', action: 'button', actor: who, chat: where });
      return { reply: refusal('This button has expired or was already used. Send the command again.') };
    }
    const role = roleOf(config, press.actor);
    const command: CommandName = BUTTON_NEEDS[state.action];
    if (!roleAllows(role, command)) {
      await audit.record({ event: 'denied', action: state.action, host: state.host, actor: who, chat: where, detail: `role ${role ?? 'none'}` });
      return { reply: refusal(`Sorry, pressing ${state.action} needs the ${REQUIRED_ROLE[command]} role.`) };
    }
    if (state.boundUserId && state.boundUserId !== press.actor.userId) {
      await audit.record({ event: 'denied', action: state.action, host: state.host, actor: who, chat: where, detail: 'not the requester' });
      return { reply: refusal('Only the person who asked for this fix can confirm or cancel it.') };
    }
    const problem = this.checkHost(state.host, hostsForChat(config, press.chat, press.actor));
    if (problem) return { reply: refusal(problem.message) };

    const consumed = await buttons.consume(press.token);
    if (consumed === FORGED_BUTTON) return refuseForgedButton(this.deps, who, where);
    if (!consumed) return { reply: refusal('This button has expired or was already used. Send the command again.') };

    const origin: JobOrigin = {
      requestId: consumed.requestId ?? newRequestId(),
      actor: press.actor,
      chat: press.chat,
      messageKey: '',
    };
    switch (consumed.action) {
      case 'diagnose':
      case 'fix': {
        origin.requestId = newRequestId();
        origin.messageKey = `job:${origin.requestId}`;
        const queued = await enqueueHostJob(this.deps, consumed.action === 'fix' ? HOST_JOB.plan : HOST_JOB.diagnose, [consumed.host], origin);
        // Fix/Diagnose-again under a result (or a host picker) were issued together: none works any more.
        // Alert buttons are issued one by one and stay.
        return consumed.siblings?.length ? { ...queued, spentKeyboard: true } : queued;
      }
      case 'cancel':
        await audit.record({ event: 'cancelled', action: 'fix', host: consumed.host, actor: who, chat: where });
        return { reply: { title: `${consumed.host}: fix cancelled; nothing was changed.`, tone: 'info' } };
      case 'confirm':
      case 'restore':
      case 'bring_back':
        return confirmFix(this.deps, consumed.host, consumed.plan, consumed.verdict, origin, consumed.action);
      case 'ack':
      case 'mute':
        return this.alertCommand(consumed.action, consumed.host, consumed.extra?.duration ? [consumed.extra.duration] : [], {
          actor: press.actor,
          chat: press.chat,
          text: '',
        });
    }
    return { reply: refusal('This button does nothing any more.') };
  }

  /** Validate a typed host name: pattern first (nothing odd goes further), then existence, then binding. */
  private checkHost(host: string, visible: string[]): { message: string; audit: string } | undefined {
    const known = this.deps.config.hosts.map((h) => h.name);
    if (!HOST_NAME_PATTERN.test(host) || !known.includes(host)) {
      const shown = JSON.stringify(host.slice(0, 40));
      return {
        message: `Unknown host ${shown}. Hosts here: ${visible.length ? visible.join(', ') : '(none)'}.`,
        audit: `unknown host ${shown}`,
      };
    }
    if (!visible.includes(host)) {
      return { message: `Host "${host}" is not bound to this chat.`, audit: `host ${host} not bound to chat` };
    }
    return undefined;
  }

  private async alertCommand(name: 'mute' | 'unmute' | 'ack', host: string, rest: string[], cmd: Command): Promise<RouterResponse> {
    const alerts = this.deps.alerts;
    // Bad input is answered before anything is recorded or changed.
    const seconds = name === 'mute' ? parseDuration(rest[0] ?? '1h') : undefined;
    if (name === 'mute' && seconds === undefined) {
      return { reply: refusal(`${usageLine('mute', host)} (durations like 30m, 2h, 1d; at most 30d)`) };
    }
    await this.deps.audit.record({
      event: 'allowed',
      action: name,
      host,
      actor: { platform: cmd.actor.platform, userId: cmd.actor.userId },
      chat: { platform: cmd.chat.platform, chatId: cmd.chat.chatId },
      detail: rest.join(' ').slice(0, 200),
    });
    if (!alerts) return { reply: refusal('Alerts are not running in this clawmedic process (no monitor).') };
    if (name === 'unmute') return { reply: await alerts.unmute(host, cmd.actor) };
    if (name === 'ack') return { reply: await alerts.ack(host, cmd.actor) };
    return { reply: await alerts.mute(host, seconds!, rest.slice(1).join(' ').slice(0, 200), cmd.actor) };
  }
}

/** "30m" → 1800; accepts s, m, h, d; undefined when malformed or over 30 days. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,5})([smhd])$/.exec(text);
  if (!m) return undefined;
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return seconds > 0 && seconds <= 30 * 86400 ? seconds : undefined;
}

