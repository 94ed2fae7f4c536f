/**
 * The command menu clawmedic registers with setMyCommands, so commands show in Telegram's "/" menu.
 * Each audience gets its role's menu (src/router/menus.ts); who may run what stays the router's decision.
 */
import type { Api } from 'grammy';
import type { RouterPort } from '../../domain/ports.js';
import type { CommandName } from '../../domain/types.js';
import type { MenuScope } from '../../domain/types.js';
import { errorText } from './api-errors.js';

/** One entry of Telegram's command menu. */
export interface TelegramMenuCommand {
  command: Exclude<CommandName, 'start'>;
  description: string;
}

/** Menu shown in every chat; descriptions say the argument since Telegram menus cannot. */
export const TELEGRAM_COMMANDS: readonly TelegramMenuCommand[] = [
  { command: 'status', description: 'Fleet summary, or one host: /status <host>' },
  { command: 'diagnose', description: 'Find out why a host fails: /diagnose <host>' },
  { command: 'fix', description: 'Propose a fix for a host (asks to confirm): /fix <host>' },
  { command: 'hosts', description: 'Hosts this chat may see' },
  { command: 'history', description: 'Recent incidents and jobs: /history <host>' },
  { command: 'mute', description: 'Silence alerts for a host: /mute <host> [duration]' },
  { command: 'unmute', description: 'Resume alerts for a host: /unmute <host>' },
  { command: 'ack', description: 'Acknowledge the current alert: /ack <host>' },
  { command: 'help', description: 'What you may run here' },
];

/** Telegram's BotCommandScope for a platform-neutral menu scope. */
export function telegramScope(scope: MenuScope): { type: 'default' } | { type: 'chat'; chat_id: number } | { type: 'chat_member'; chat_id: number; user_id: number } {
  if (scope.kind === 'default') return { type: 'default' };
  if (scope.kind === 'chat') return { type: 'chat', chat_id: Number(scope.chatId) };
  return { type: 'chat_member', chat_id: Number(scope.chatId), user_id: Number(scope.userId) };
}

/** The menu entries (with descriptions) for a list of commands, in TELEGRAM_COMMANDS order. */
export function telegramMenu(commands: readonly CommandName[]): Array<{ command: string; description: string }> {
  return TELEGRAM_COMMANDS.filter((c) => commands.includes(c.command)).map((c) => ({ command: c.command, description: c.description }));
}

/**
 * One menu per audience (strangers, each bound chat, each person there and in their DM), so nobody
 * is shown a command only to be refused. Without the router's menus everyone gets the full list.
 */
export async function registerMenus(api: Api, router: RouterPort, log: { warn(obj: object, msg?: string): void }): Promise<void> {
  const menus = router.menus?.('telegram');
  const calls = menus
    ? menus.map((m) => ({ commands: telegramMenu(m.commands), scope: telegramScope(m.scope) }))
    : [{ commands: telegramMenu(TELEGRAM_COMMANDS.map((c) => c.command)), scope: undefined }];
  for (const call of calls) {
    try {
      await api.setMyCommands(call.commands, call.scope ? { scope: call.scope } : {});
    } catch (err) {
      // The menu is a convenience: typed commands work without it (a chat the bot left refuses its scope).
      log.warn({ error: errorText(err), scope: call.scope?.type }, 'telegram: setMyCommands failed');
    }
  }
}
