/**
 * What every chat adapter (console, Telegram, Discord) implements, and what it is given.
 * Adapters translate platform events into Command/ButtonPress for the router and render
 * Reply/Delivery back; nothing outside src/chat/<platform>/ imports platform libraries.
 */
import type { Menu } from '../router/menus.js';
import type { ButtonPress, Command, Delivery, Platform, RouterResponse } from '../domain/types.js';
import type { ReceiveState } from './receive-health.js';

/** The router as adapters see it: one call per incoming command or button press. */
export interface RouterPort {
  /** Parse, authorize, confirm/enqueue. Never waits for a job to finish. */
  handleCommand(cmd: Command): Promise<RouterResponse>;
  /** Re-authorize and act on a button token. */
  handleButton(press: ButtonPress): Promise<RouterResponse>;
  /** Host names this actor may name in this chat (for autocomplete and host pickers). */
  hostsFor(actor: Command['actor'], chat: Command['chat']): string[];
  /**
   * May this actor run this command at all (known person, role high enough)? Pure config, no I/O:
   * adapters ask it before acknowledging so a refusal is private from the first frame (Discord).
   */
  mayRun?(actor: Command['actor'], command: string): boolean;
  /** Command menus by role for a platform's "/" menu (src/router/menus.ts). */
  menus?(platform: Platform): Menu[];
}

/** Where adapters remember which platform message a logical messageKey was sent as (Redis-backed). */
export interface MessageRefStore {
  get(platform: Platform, messageKey: string): Promise<string | undefined>;
  set(platform: Platform, messageKey: string, ref: string): Promise<void>;
  /**
   * Keep a secret that goes with a ref (a Discord interaction token that can edit the message) for at
   * most `ttlMs`: sealed (never in plain text in Redis), gone from Redis when it expires.
   */
  setSecret(platform: Platform, messageKey: string, secret: string, ttlMs: number): Promise<void>;
  /**
   * The secret kept for a ref; undefined when there is none or it expired. Throws
   * SealedSecretRejectedError when it does not open (altered, or sealed with another CLAWMEDIC_JOB_KEY).
   */
  getSecret(platform: Platform, messageKey: string): Promise<string | undefined>;
}

/** Thrown by deliver() when the target can never be reached (bot blocked, chat gone, missing permission): not retried. */
export class PermanentDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentDeliveryError';
  }
}

export interface ChatAdapter {
  readonly platform: Platform;
  /** Connect/poll; resolves when ready to receive. */
  start(): Promise<void>;
  /** Stop receiving; finish in-flight sends. */
  stop(): Promise<void>;
  /**
   * Send a delivery, or edit the message already sent for its messageKey.
   * Throws PermanentDeliveryError for chats that will never accept it; other errors are retried by the notify queue.
   */
  deliver(delivery: Delivery): Promise<void>;
  /** Can it receive right now? Adapters that can lose their inbound connection report it (see receive-health.ts). */
  receiveState?(): ReceiveState;
}
