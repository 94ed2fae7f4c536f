/**
 * Telegram refused to give us updates because something else already takes them for this bot token
 * (409 from getUpdates, or a webhook set by another program). Says the likely cause and the fix.
 */
import { ClawmedicError } from '../../domain/errors.js';

/** Why we think the token is shared: a second long poller, or a webhook someone else set. */
export type TelegramConflictKind = 'polling' | 'webhook';

/** Thrown by TelegramAdapter.start(); never carries the token. */
export class TelegramConflictError extends ClawmedicError {
  constructor(readonly kind: TelegramConflictKind) {
    const what =
      kind === 'polling'
        ? 'Telegram answered 409 Conflict: another process is already polling updates for this bot token.'
        : 'This bot token has a webhook set by another program, so clawmedic cannot receive its updates (and will not delete that webhook).';
    super(
      `${what} Most likely it is OpenClaw's own Telegram channel bot token: clawmedic needs its own bot. ` +
        'Create one with @BotFather (/newbot), put its token in TELEGRAM_BOT_TOKEN, and restart clawmedic. ' +
        'If no other program uses this token, stop the other clawmedic instance or revoke the token with @BotFather.',
      'TELEGRAM_CONFLICT',
    );
  }
}
