/**
 * Turns typed text ("/fix prod", "/status@clawmedic_bot", "/mute prod 30m deploy") into a
 * parsed command. Pure; the only place chat text is split. Host names must match the strict
 * HOST_NAME_PATTERN, so nothing typed can carry shell syntax any further.
 */
import { COMMAND_NAMES, type CommandName } from '../domain/types.js';

export type ParsedCommand =
  | { ok: true; name: CommandName; args: string[] }
  | { ok: false; error: 'not_a_command' | 'unknown_command'; word?: string };

/** Split `/name@bot arg1 arg2` into name and args; arguments are whitespace-separated words. */
export function parseCommand(text: string): ParsedCommand {
  const trimmed = text.trim();
  if (!trimmed.startsWith('/')) return { ok: false, error: 'not_a_command' };
  const [head = '', ...args] = trimmed.split(/\s+/);
  const name = head.slice(1).split('@')[0]!.toLowerCase();
  if (!(COMMAND_NAMES as readonly string[]).includes(name)) {
    return { ok: false, error: 'unknown_command', word: head.slice(0, 40) };
  }
  return { ok: true, name: name as CommandName, args };
}
