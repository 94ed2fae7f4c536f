/**
 * Command menus by role, platform-neutral: which commands each audience should see in a chat
 * platform's "/" menu, built from the config's people (roles) and chats (bindings). Menus only
 * hide what someone may not run; the router still decides every command.
 */
import type { AppConfig } from '../config/schema.js';
import { COMMAND_NAMES, type CommandName, type Menu, type Platform, type Role } from '../domain/types.js';
import { roleAllows } from './authorize.js';

/** Commands a role may run, in menu order ('start' is Telegram's own entry, never listed). */
export function commandsForRole(role: Role | undefined): CommandName[] {
  if (!role) return ['help'];
  return COMMAND_NAMES.filter((c) => c !== 'start' && roleAllows(role, c));
}

/**
 * Menus for one platform: strangers see only /help; a bound chat shows what a viewer may run; each
 * person sees their role's commands in every bound chat (as a chat member) and in their private
 * chat with the bot (whose chat id is their user id). Narrower scopes win on the platform's side.
 */
export function menusFor(config: AppConfig, platform: Platform): Menu[] {
  const menus: Menu[] = [{ scope: { kind: 'default' }, commands: commandsForRole(undefined) }];
  const chats = config.chats.filter((c) => c.platform === platform);
  for (const chat of chats) menus.push({ scope: { kind: 'chat', chatId: chat.chatId }, commands: commandsForRole('viewer') });
  for (const person of config.people.filter((p) => p.platform === platform)) {
    const commands = commandsForRole(person.role);
    menus.push({ scope: { kind: 'chat', chatId: person.userId }, commands });
    if (person.role === 'viewer') continue; // the chat's own menu already is the viewer's
    for (const chat of chats) menus.push({ scope: { kind: 'chat_member', chatId: chat.chatId, userId: person.userId }, commands });
  }
  return menus;
}
