/**
 * The command menu clawmedic registers with setMyCommands, so commands show in Telegram's "/" menu.
 * Who may run what is the router's decision (/help lists only what this user may run).
 */
import type { CommandName } from '../../domain/types.js';

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
