/**
 * Who may do what: immutable user id → role, chat ↔ host bindings. Deny by default.
 * Pure functions over the validated config so they are unit-tested without Redis.
 */
import type { AppConfig } from '../config/schema.js';
import type { Actor, ChatRef, CommandName, Role } from '../domain/types.js';

const ROLE_RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** Minimum role per command. Alerts' ack/mute change what others see, so they need operator. */
export const REQUIRED_ROLE: Record<CommandName, Role> = {
  status: 'viewer',
  hosts: 'viewer',
  history: 'viewer',
  help: 'viewer',
  start: 'viewer',
  diagnose: 'operator',
  fix: 'operator',
  ack: 'operator',
  mute: 'operator',
  unmute: 'operator',
};

/** The actor's role, or undefined when the person is not in the config (deny). */
export function roleOf(config: AppConfig, actor: Actor): Role | undefined {
  return config.people.find((p) => p.platform === actor.platform && p.userId === actor.userId)?.role;
}

/** Does `role` allow `command`? */
export function roleAllows(role: Role | undefined, command: CommandName): boolean {
  return role !== undefined && ROLE_RANK[role] >= ROLE_RANK[REQUIRED_ROLE[command]];
}

/**
 * Host names this chat may see. The console sees every host (it runs on the operator's
 * machine); a chat sees only hosts bound to it in `chats`; a private chat (DM) that is not bound
 * itself sees the hosts bound to the person (`people[].hosts`).
 */
export function hostsForChat(config: AppConfig, chat: ChatRef, actor?: Actor): string[] {
  const all = config.hosts.map((h) => h.name);
  if (chat.platform === 'console') return all;
  const pick = (names: string[]) => (names.includes('*') ? all : all.filter((h) => names.includes(h)));
  const binding = config.chats.find((c) => c.platform === chat.platform && c.chatId === chat.chatId);
  if (binding) return pick(binding.hosts);
  if (!chat.isGroup && actor) {
    const person = config.people.find((p) => p.platform === actor.platform && p.userId === actor.userId);
    if (person?.hosts) return pick(person.hosts);
  }
  return [];
}

/** Commands this actor may run (for /help and Telegram's menu). */
export function commandsFor(config: AppConfig, actor: Actor): CommandName[] {
  const role = roleOf(config, actor);
  return (Object.keys(REQUIRED_ROLE) as CommandName[]).filter((c) => roleAllows(role, c));
}
