/**
 * Button tokens in Redis: the opaque token in callback_data / custom_id points here.
 * Single use (consumed with GETDEL, siblings such as Confirm/Cancel die together),
 * expiring (TTL), and surviving a bot restart because the state is in Redis, not memory.
 * Each state is signed (HMAC bound to its token, key outside Redis) and a plan is kept as kinds
 * and parameters only: a state edited or written in Redis is reported as forged, never acted on.
 */
import type { RedisClient } from './redis.js';
import type { FixPlan, Verdict } from '../domain/diagnosis.js';
import type { ButtonAction, Platform } from '../domain/types.js';
import { toStoredPlan, type StoredPlan } from '../openclaw/stored-plan.js';
import { newToken } from '../util/ids.js';
import type { JobSigner } from '../util/job-signer.js';
import type { KeySpace } from './key-space.js';

/** What peek/consume return for a state whose signature does not match (edited or written by someone else). */
export const FORGED_BUTTON = 'forged' as const;

/** What a token stands for. */
export interface ButtonState {
  action: ButtonAction;
  host: string;
  platform: Platform;
  chatId: string;
  /** Only this user may press it (confirmations are bound to the requester). */
  boundUserId?: string;
  /** For confirm: the plan shown to the user (kinds and parameters; scripts are rebuilt when it runs). */
  plan?: StoredPlan;
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

/** What a caller hands to issue(): a rendered plan is stored in its stored form. */
export type ButtonStateInput = Omit<ButtonState, 'issuedAt' | 'siblings' | 'plan'> & { plan?: FixPlan | StoredPlan };

export class ButtonStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    private readonly signer: JobSigner,
  ) {}

  private key(token: string): string {
    return this.keys.button(token);
  }

  /** Issue one token per state; tokens issued in one call are siblings. */
  async issue(states: ButtonStateInput[], ttlSec: number): Promise<string[]> {
    const tokens = states.map(() => newToken());
    const issuedAt = new Date().toISOString();
    const pipe = this.redis.multi();
    states.forEach((s, i) => {
      const siblings = tokens.filter((_, j) => j !== i);
      const state: ButtonState = { ...s, plan: s.plan ? toStoredPlan(s.plan) : undefined, siblings, issuedAt };
      // Round-trip through JSON first so what is signed is exactly what a reader will parse.
      const stored = JSON.parse(JSON.stringify(state)) as ButtonState;
      const sig = this.signer.sign('button', tokens[i]!, stored);
      pipe.set(this.key(tokens[i]!), JSON.stringify({ ...stored, sig }), 'EX', Math.ceil(ttlSec));
    });
    await pipe.exec();
    return tokens;
  }

  /** Look without consuming (to authorize first: a refused press leaves the button usable by others). */
  async peek(token: string): Promise<ButtonState | typeof FORGED_BUTTON | undefined> {
    if (!/^[A-Za-z0-9_-]{10,64}$/.test(token)) return undefined;
    const raw = await this.redis.get(this.key(token));
    return raw ? this.open(token, raw) : undefined;
  }

  /**
   * Consume atomically; undefined if it expired or someone else used it first, FORGED_BUTTON if its
   * signature does not match. Siblings are deleted only for a genuine state (a forged list could name any key).
   */
  async consume(token: string): Promise<ButtonState | typeof FORGED_BUTTON | undefined> {
    if (!/^[A-Za-z0-9_-]{10,64}$/.test(token)) return undefined;
    const raw = await this.redis.getdel(this.key(token));
    if (!raw) return undefined;
    const state = this.open(token, raw);
    if (state === FORGED_BUTTON) return state;
    const siblings = (state.siblings ?? []).filter((t) => /^[A-Za-z0-9_-]{10,64}$/.test(t));
    if (siblings.length) await this.redis.del(...siblings.map((t) => this.key(t)));
    return state;
  }

  /**
   * Retire tokens that nobody used (an expired confirmation): true if they were still there and are
   * now gone, false if they were used (or had already ended). Siblings go together, so one answers for all.
   */
  async retire(tokens: string[]): Promise<boolean> {
    const valid = tokens.filter((t) => /^[A-Za-z0-9_-]{10,64}$/.test(t));
    if (!valid.length) return false;
    return (await this.redis.del(...valid.map((t) => this.key(t)))) > 0;
  }

  /** Parse and check the signature of a stored state. */
  private open(token: string, raw: string): ButtonState | typeof FORGED_BUTTON {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return FORGED_BUTTON;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return FORGED_BUTTON;
    const { sig, ...state } = parsed as ButtonState & { sig?: unknown };
    return this.signer.verify('button', token, state, sig) ? (state as ButtonState) : FORGED_BUTTON;
  }
}
