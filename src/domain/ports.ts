/**
 * Ports: the interfaces one layer calls and a layer above it implements, so every import points down the
 * flow (chat → router → jobs → remote/openclaw → notify → chat). The notify workers deliver through
 * `ChatAdapter` without importing src/chat/; adapters call the router through `RouterPort`; the router
 * reaches the monitor through `AlertCommands`; alerts queue their messages through `DeliverySender`;
 * workers and alerts issue buttons and read incidents through `ButtonIssuer` and `IncidentReader`,
 * whatever stores implement them. main.ts plugs them together.
 */
import type { FixPlan, Verdict } from './diagnosis.js';
import type { Incident } from './incident.js';
import type { ButtonAction, ButtonPress, Command, Delivery, Menu, Platform, ReceiveState, Reply, RouterResponse } from './types.js';

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
  /** Command menus by role for a platform's "/" menu (router/menus.ts). */
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

/** What every chat adapter (console, Telegram, Discord) implements: the notify workers and main.ts see adapters only as this. */
export interface ChatAdapter {
  readonly platform: Platform;
  /** Connect/poll; resolves when ready to receive. */
  start(): Promise<void>;
  /** Stop receiving; finish in-flight sends. */
  stop(): Promise<void>;
  /**
   * Send a delivery, or edit the message already sent for its messageKey.
   * Throws PermanentDeliveryError (domain/errors.ts) for chats that will never accept it; other errors are retried by the notify queue.
   */
  deliver(delivery: Delivery): Promise<void>;
  /** Can it receive right now? Adapters that can lose their inbound connection report it (see chat/receive-health.ts). */
  receiveState?(): ReceiveState;
}

/** Queues a delivery for its chat (jobs/notifier.ts: the durable notify queue, so an outage delays a message but never loses it). */
export interface DeliverySender {
  /** `delayMs` holds it back (an expiry notice goes out when the buttons expire). */
  send(delivery: Delivery, opts?: { delayMs?: number }): Promise<void>;
}

/** Alert commands handled by the monitor (mute/unmute/ack), plugged into the router when the monitor runs. */
export interface AlertCommands {
  mute(host: string, seconds: number, reason: string, by: Command['actor']): Promise<Reply>;
  unmute(host: string, by: Command['actor']): Promise<Reply>;
  ack(host: string, by: Command['actor']): Promise<Reply>;
}

/** What a button is to stand for, as a worker or the alert sender asks for it. */
export interface ButtonRequest {
  action: ButtonAction;
  host: string;
  platform: Platform;
  chatId: string;
  /** Only this user may press it (confirmations are bound to the requester). */
  boundUserId?: string;
  /** For confirm, restore, bring back: the plan shown (the store keeps its kinds and parameters only). */
  plan?: FixPlan;
  /** For confirm: the verdict the plan came from (verification compares against it). */
  verdict?: Verdict;
  /** Request this button continues (job ids derive from it). */
  requestId?: string;
  /** Free data for alert buttons (incident id, mute duration). */
  extra?: Record<string, string>;
}

/** Issues button tokens (signed, single use, expiring; the button store in Redis implements it). */
export interface ButtonIssuer {
  /** One token per request, in order; tokens issued in one call are siblings (pressing one retires the others). */
  issue(states: ButtonRequest[], ttlSec: number): Promise<string[]>;
}

/** Reads the monitor's incidents (the incident store in Redis implements it): /status and the pictures. */
export interface IncidentReader {
  /** Incidents of the host still open (suspect, firing, or resolved within the flap window). */
  loadOpen(host: string): Promise<Incident[]>;
  get(id: string): Promise<Incident | undefined>;
}
