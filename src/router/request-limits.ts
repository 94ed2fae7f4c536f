/**
 * Limits on every door of the router (issue 12.6): how many commands and button presses one
 * person and one chat may send per minute, how often an unknown user hears "not allowed" (and is
 * audited). The cap on a chat's waiting /status jobs is state/status-slots.ts. Counters live in Redis
 * (rate-limiter-flexible) so several bot processes share them. When Redis cannot be reached the
 * limits let the request through: the enqueue that follows fails with its own clear message,
 * and a limiter must never be the reason nobody can use clawmedic.
 */
import type { RedisClient } from '../state/redis.js';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Actor, ChatRef } from '../domain/types.js';
import type { AppConfig } from '../config/schema.js';
import { RETRY } from '../constants.js';
import { StatusSlots } from '../state/status-slots.js';
import { TTL, type KeySpace } from '../state/key-space.js';

export interface RequestLimitSettings {
  /** Commands + button presses one person may send per `windowSec`. */
  perPerson: number;
  /** Commands + button presses one chat may send per `windowSec` (all its people together). */
  perChat: number;
  windowSec: number;
  /** An unknown user is answered (and audited) at most once per this many seconds. */
  unknownReplySec: number;
}

/** What the router does with a request: go on, or refuse with how long to wait. */
export type LimitVerdict = { ok: true } | { ok: false; scope: 'person' | 'chat'; retryAfterSec: number };

export type RefusalKind = 'unknown' | 'limited';

/** The first refusal of a period is answered and audited with how many were silenced before it. */
export type RefusalVerdict = { answer: true; silencedBefore: number } | { answer: false };

type Who = Pick<Actor, 'platform' | 'userId'>;
type Where = Pick<ChatRef, 'platform' | 'chatId'>;

export class RequestLimits {
  private readonly person: RateLimiterRedis;
  private readonly chat: RateLimiterRedis;
  /** One answered (and audited) refusal per period and kind; the rest are counted. */
  private readonly told: Record<RefusalKind, RateLimiterRedis>;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    readonly settings: RequestLimitSettings,
  ) {
    const common = { storeClient: redis, duration: settings.windowSec };
    this.person = new RateLimiterRedis({ ...common, keyPrefix: keys.limitPrefix('person'), points: settings.perPerson });
    this.chat = new RateLimiterRedis({ ...common, keyPrefix: keys.limitPrefix('chat'), points: settings.perChat });
    this.told = {
      unknown: new RateLimiterRedis({ ...common, keyPrefix: keys.limitPrefix('told-unknown'), points: 1, duration: settings.unknownReplySec }),
      limited: new RateLimiterRedis({ ...common, keyPrefix: keys.limitPrefix('told-limited'), points: 1, duration: settings.windowSec }),
    };
  }

  /** Count one command or button press; the person's limit is checked before the chat's. */
  async take(who: Who, where: Where): Promise<LimitVerdict> {
    const person = await consume(this.person, `${who.platform}:${who.userId}`);
    if (person !== undefined) return { ok: false, scope: 'person', retryAfterSec: person };
    const chat = await consume(this.chat, `${where.platform}:${where.chatId}`);
    if (chat !== undefined) return { ok: false, scope: 'chat', retryAfterSec: chat };
    return { ok: true };
  }

  /**
   * A refusal is due (an unknown user, or a person past a limit). The first one in a period is
   * answered and audited; later ones are only counted, and the count rides on the next audited one.
   */
  async firstRefusal(kind: RefusalKind, who: Who): Promise<RefusalVerdict> {
    const id = `${who.platform}:${who.userId}`;
    const silencedKey = this.keys.silencedRefusals(kind, id);
    const wait = await consume(this.told[kind], id);
    try {
      if (wait !== undefined) {
        await this.redis.multi().incr(silencedKey).expire(silencedKey, TTL.silencedRefusalsSec).exec();
        return { answer: false };
      }
      const before = await this.redis.getdel(silencedKey);
      return { answer: true, silencedBefore: Number(before ?? 0) };
    } catch {
      return { answer: true, silencedBefore: 0 };
    }
  }
}

/** The router's limits and its /status cap, from the config's `limits` section. */
export function createRequestGuards(redis: RedisClient, keys: KeySpace, config: AppConfig): { limits: RequestLimits; statusSlots: StatusSlots } {
  const { statusQueuedPerChat, ...rates } = config.limits;
  // A status job lasts at most its attempts × (connect + command timeout); a slot older than that is stale.
  const slotAgeSec = RETRY.attempts * (config.jobs.connectTimeoutSec + config.jobs.commandTimeoutSec) + 60;
  return { limits: new RequestLimits(redis, keys, rates), statusSlots: new StatusSlots(redis, keys, statusQueuedPerChat, slotAgeSec) };
}

/** Seconds to wait when the limiter refuses, undefined when allowed (or Redis is unreachable). */
async function consume(limiter: RateLimiterRedis, key: string): Promise<number | undefined> {
  try {
    await limiter.consume(key);
    return undefined;
  } catch (res) {
    if (res instanceof RateLimiterRes) return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    return undefined;
  }
}
