/**
 * How the Discord adapter reads REST failures: which codes mean "never retry", which mean the
 * interaction webhook is gone, and the one error per channel that says which permission is missing.
 */
import { DiscordAPIError } from 'discord.js';
import { PermanentDeliveryError } from '../../domain/errors.js';
import { redact } from '../../util/redact.js';

/** Where a delivery lands when the channel refuses us: never retried. */
const PERMANENT_CODES = new Set([
  50001, // Missing Access
  50013, // Missing Permissions
  10003, // Unknown Channel
  50007, // Cannot send messages to this user
  10013, // Unknown User
  50035, // Invalid Form Body: a rendering bug; retrying sends the same body
  40005, // Request entity too large
]);
const PERMISSION_CODES = new Set([50001, 50013]);
/** The interaction webhook or message is gone/expired: fall back to the channel message. */
export const HOOK_GONE_CODES: ReadonlySet<number> = new Set([10015, 50027, 10008, 10062]);
/** "Interaction has already been acknowledged": someone else answered it; do not run it twice. */
export const ALREADY_ACKNOWLEDGED = 40060;
/** "Unknown Message": the channel message was deleted. */
export const UNKNOWN_MESSAGE = 10008;

/** Discord's JSON error code of a REST failure, if it is one. */
export const apiCode = (err: unknown): number | undefined =>
  err instanceof DiscordAPIError && typeof err.code === 'number' ? err.code : undefined;

/** An error's message for logs, with every registered secret removed. */
export const describe = (err: unknown): string => redact(err instanceof Error ? err.message : String(err));

/** Logger subset the classifier uses. */
export interface RefusalLogger {
  warn(obj: object, msg?: string): void;
}

/** Turns REST failures into retryable errors or PermanentDeliveryError; a missing permission is logged once per channel. */
export class DeliveryRefusals {
  /** Channels whose missing permission was already reported (reported again after a success). */
  private readonly deniedChannels = new Set<string>();

  constructor(private readonly log: RefusalLogger) {}

  /** A send into `channelId` worked: a later refusal there is news again. */
  succeeded(channelId: string): void {
    this.deniedChannels.delete(channelId);
  }

  /** Permanent failures become PermanentDeliveryError; a missing permission is logged once per channel. */
  classify(err: unknown, channelId: string): Error {
    const code = apiCode(err);
    if (code === undefined || !PERMANENT_CODES.has(code)) return err instanceof Error ? err : new Error(String(err));
    if (PERMISSION_CODES.has(code)) {
      const what = code === 50001 ? 'cannot see' : 'lacks a permission in';
      const message = `Discord: clawmedic ${what} channel ${channelId} (${code}); grant View Channel, Send Messages, Embed Links and Attach Files there.`;
      if (!this.deniedChannels.has(channelId)) {
        this.deniedChannels.add(channelId);
        this.log.warn({ channelId, code }, message);
      }
      return new PermanentDeliveryError(message, channelId);
    }
    this.log.warn({ channelId, code, err: describe(err) }, 'Discord: delivery refused permanently');
    return new PermanentDeliveryError(`Discord refused the message for channel ${channelId}: ${describe(err)}`, channelId);
  }
}
