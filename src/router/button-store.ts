/**
 * Button tokens in Redis: the opaque token in callback_data / custom_id points here.
 * Single use (consumed with GETDEL, siblings such as Confirm/Cancel die together),
 * expiring (TTL), and surviving a bot restart because the state is in Redis, not memory.
 */
import type { Redis } from 'ioredis';
import { KEYS } from '../constants.js';
import type { FixPlan, Verdict } from '../domain/diagnosis.js';
import type { ButtonAction, Platform } from '../domain/types.js';
import { newToken } from '../util/ids.js';

/** What a token stands for. */
export interface ButtonState {
  action: ButtonAction;
  host: string;
  platform: Platform;
  chatId: string;
  /** Only this user may press it (confirmations are bound to the requester). */
  boundUserId?: string;
  /** For confirm: the plan shown to the user, run as shown. */
  plan?: FixPlan;
  /** For confirm: the verdict the plan came from (verification compares against it). */
  verdict?: Verdict;
  /** Request this button continues (job ids derive from it). */
  requestId?: string;
  /** Tokens issued together; consuming one deletes the others. */
  siblings?: string[];
  /** Free data for alert buttons (incident id, mute duration). */
  extra?: Record<string, string>;
  issuedAt: string;
}

export class ButtonStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(token: string): string {
    return `${this.prefix}:${KEYS.button}:${token}`;
  }

  /** Issue one token per state; tokens issued in one call are siblings. */
  async issue(states: Array<Omit<ButtonState, 'issuedAt' | 'siblings'>>, ttlSec: number): Promise<string[]> {
    const tokens = states.map(() => newToken());
    const issuedAt = new Date().toISOString();
    const pipe = this.redis.multi();
    states.forEach((s, i) => {
      const siblings = tokens.filter((_, j) => j !== i);
      pipe.set(this.key(tokens[i]!), JSON.stringify({ ...s, siblings, issuedAt }), 'EX', Math.ceil(ttlSec));
    });
    await pipe.exec();
    return tokens;
  }

  /** Look without consuming (to authorize first: a refused press leaves the button usable by others). */
  async peek(token: string): Promise<ButtonState | undefined> {
    if (!/^[A-Za-z0-9_-]{10,64}$/.test(token)) return undefined;
    const raw = await this.redis.get(this.key(token));
    return raw ? (JSON.parse(raw) as ButtonState) : undefined;
  }

  /** Consume atomically; undefined if it expired or someone else used it first. Siblings are deleted too. */
  async consume(token: string): Promise<ButtonState | undefined> {
    if (!/^[A-Za-z0-9_-]{10,64}$/.test(token)) return undefined;
    const raw = await this.redis.getdel(this.key(token));
    if (!raw) return undefined;
    const state = JSON.parse(raw) as ButtonState;
    if (state.siblings?.length) await this.redis.del(...state.siblings.map((t) => this.key(t)));
    return state;
  }
}
