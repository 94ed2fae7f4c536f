/**
 * Replies that need no job: help, host list, host picker, history, refusals, pending notes.
 * Platform-neutral Reply objects; adapters render them.
 */
import type { HostConfig } from '../domain/host.js';
import type { CommandName, Reply } from '../domain/types.js';
import { helpLine, USAGE } from './usage.js';

/** One line per command: what it does, with a complete example (kept for callers that list commands). */
export const COMMAND_HELP: Record<CommandName, string> = Object.fromEntries(
  Object.keys(USAGE).map((c) => [c, helpLine(c as CommandName)]),
) as Record<CommandName, string>;

/** A refusal or error the user can act on. */
export function refusal(message: string): Reply {
  return { title: message, tone: 'error' };
}

/** "Working on it" placeholder that the job's messages will edit. */
export function pending(message: string): Reply {
  return { title: message, tone: 'pending' };
}

/** /help and /start: only the commands this user may run. */
export function renderHelp(commands: CommandName[], hosts: string[]): Reply {
  return {
    title: 'clawmedic: diagnose and fix OpenClaw gateways (disconnected 4008: connect failed).',
    tone: 'info',
    body: [
      commands.filter((c) => c !== 'start').map((c) => helpLine(c, hosts[0])).join('\n'),
      hosts.length ? `Hosts here: ${hosts.join(', ')}` : 'No hosts are bound to this chat yet.',
    ],
  };
}

/** /hosts. */
export function renderHostList(hosts: HostConfig[]): Reply {
  if (hosts.length === 0) return { title: 'No hosts are bound to this chat.', tone: 'info' };
  return {
    title: `${hosts.length} host${hosts.length === 1 ? '' : 's'}`,
    tone: 'info',
    fields: hosts.map((h) => ({
      name: h.name,
      value: [
        `${h.install}${h.install === 'docker' ? ` (${h.container})` : ''}`,
        `supervised by ${h.supervisor.kind}`,
        `gateway port ${h.gateway.port}`,
        h.gateway.url ? `url ${h.gateway.url}` : undefined,
      ]
        .filter(Boolean)
        .join(', '),
    })),
  };
}

/** A command typed without its host: offer the hosts as buttons. */
export function renderHostPicker(command: 'diagnose' | 'fix', hosts: string[], tokens: string[]): Reply {
  return {
    title: `/${command}: which host?`,
    tone: 'info',
    buttons: hosts.map((h, i) => ({ label: h, action: 'pick' as const, token: tokens[i]!, style: 'secondary' as const })),
  };
}
