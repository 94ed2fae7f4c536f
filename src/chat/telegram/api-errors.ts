/** How the Telegram adapter reads Bot API failures: a redacted text for logs, and a test for one error code. */
import { GrammyError } from 'grammy';
import { redact } from '../../util/redact.js';

/** An error's message for logs, with every registered secret (the bot token in a URL) removed. */
export const errorText = (err: unknown): string => redact(err instanceof Error ? err.message : String(err));

/** Is `err` the Bot API's answer `code` (and, when given, does its description contain `text`)? */
export const isApiError = (err: unknown, code: number, text?: string): boolean =>
  err instanceof GrammyError && err.error_code === code && (text === undefined || err.description.toLowerCase().includes(text));
