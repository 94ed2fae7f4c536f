/**
 * How each command is typed, what it does and one complete example: the one place usage texts
 * come from (/help, "Usage:" refusals), so no usage line ever omits an argument.
 */
import type { CommandName } from '../domain/types.js';

/** Host name used in examples when the chat has none bound. */
export const EXAMPLE_HOST = 'prod';

interface Usage {
  /** The command with its arguments, e.g. "/mute <host> <30m|2h|1d> [reason]". */
  syntax: string;
  /** What it does, one short clause. */
  what: string;
  /** A complete, runnable example for a host. */
  example: (host: string) => string;
}

/** Every command's usage. */
export const USAGE: Record<CommandName, Usage> = {
  status: { syntax: '/status [host]', what: 'is the gateway up and answering? (all hosts here without a host)', example: (h) => `/status ${h}` },
  diagnose: { syntax: '/diagnose <host>', what: 'find the root cause of a 4008 with evidence', example: (h) => `/diagnose ${h}` },
  fix: { syntax: '/fix <host>', what: 'diagnose, show the fix, run it after you confirm, verify', example: (h) => `/fix ${h}` },
  hosts: { syntax: '/hosts', what: 'hosts this chat may see', example: () => '/hosts' },
  history: { syntax: '/history <host> [--all]', what: 'fixes, diagnoses and alerts on a host (--all: every event)', example: (h) => `/history ${h}` },
  help: { syntax: '/help', what: 'this list', example: () => '/help' },
  start: { syntax: '/start', what: 'this list', example: () => '/start' },
  mute: { syntax: '/mute <host> <30m|2h|1d> [reason]', what: 'hold alerts for a host', example: (h) => `/mute ${h} 30m deploy` },
  unmute: { syntax: '/unmute <host>', what: 'resume alerts', example: (h) => `/unmute ${h}` },
  ack: { syntax: '/ack <host>', what: 'acknowledge the open incident (stops reminders)', example: (h) => `/ack ${h}` },
};

/** "/mute <host> <30m|2h|1d> [reason] — hold alerts for a host. Example: /mute prod 30m deploy" */
export function helpLine(name: CommandName, host = EXAMPLE_HOST): string {
  const u = USAGE[name];
  const example = u.example(host);
  return example === u.syntax ? `${u.syntax} — ${u.what}` : `${u.syntax} — ${u.what}. Example: ${example}`;
}

/** "Usage: /mute <host> <30m|2h|1d> [reason], e.g. /mute prod 30m deploy" */
export function usageLine(name: CommandName, host = EXAMPLE_HOST): string {
  const u = USAGE[name];
  return `Usage: ${u.syntax}, e.g. ${u.example(host)}`;
}
