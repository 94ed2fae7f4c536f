/**
 * Whether a chat adapter can receive right now (Telegram polling answers, Discord's gateway is
 * connected), and since when it cannot. /healthz reports it and the down-notice tells the admins,
 * so an adapter that stopped receiving is never reported healthy.
 */
import type { ReceiveState } from '../domain/types.js';

/** Mutable receive state of one adapter. */
export class ReceiveHealth {
  private current: ReceiveState = { ok: true };

  /** Updates are flowing again. */
  markOk(): void {
    this.current = { ok: true };
  }

  /** Receiving failed; the first failure of an outage fixes `since`, later ones only update the reason. */
  markDown(reason: string, now = Date.now()): void {
    this.current = { ok: false, since: this.current.ok ? now : this.current.since, reason };
  }

  get state(): ReceiveState {
    return this.current;
  }
}

/** One line for /healthz and the admin notice: "telegram down since 2026-…Z (…)". */
export function describeReceive(platform: string, s: ReceiveState): string {
  return s.ok ? `${platform} receiving` : `${platform} down since ${new Date(s.since).toISOString()} (${s.reason})`;
}
