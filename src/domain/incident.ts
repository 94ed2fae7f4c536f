/**
 * An incident as every layer sees it: one host + cause family, its phase and what the chats were shown.
 * Plain JSON (stored as is in Redis). The monitor's state machine (monitor/incident-machine.ts) changes
 * it; alerts render it; /status reads it. It lives here so none of those imports the monitor.
 */
import type { Cause } from './diagnosis.js';

/** Where an incident stands. ("ok" is the absence of an incident.) */
export type IncidentPhase = 'suspect' | 'firing' | 'resolved';

/** Where its events come from: the log follower, the gateway probe, or SSH itself. */
export type IncidentSource = 'log' | 'probe';

/** One incident: host + family. Plain JSON: stored as is in Redis. */
export interface Incident {
  id: string;
  host: string;
  family: Cause;
  /** Current best cause (refined from the events: one client → stale_client, after a rotation → token_rotated, …). */
  cause: Cause;
  source: IncidentSource;
  phase: IncidentPhase;
  /** Time of the first and last event (epoch ms). */
  firstEventAt: number;
  lastEventAt: number;
  /** Events counted over the incident's life. */
  count: number;
  /** Times of recent events (for the firing window). */
  recent: number[];
  /** Distinct clients seen (capped). */
  clients: string[];
  /** Connection ids already counted, as connKey() numbers (a replayed line is not counted twice). */
  seenConns: number[];
  evidence: string[];
  /** Consecutive probe failures (probe-sourced incidents). */
  probeFailures: number;
  marks: { rotation?: boolean; autorestore?: boolean };
  openedAt: number;
  firedAt?: number;
  resolvedAt?: number;
  /** How many times it went to firing (2+ = it came back after resolving). */
  fireCount: number;
  flapping: boolean;
  ackedBy?: string;
  ackedAt?: number;
  /** A person's mute of the host as the alert message shows it (absent: not muted). */
  mutedBy?: string;
  mutedUntil?: number;
  /** The mute changed since the message last showed it: one edit goes out even while muted. */
  muteEditDue?: boolean;
  /** What was tried on the host while it was open (fixes, auto-fix). */
  tried: string[];
  /** Bumped on every change a message would show. */
  version: number;
  // ---- delivery bookkeeping (what the chats have been shown)
  /** The alert message exists in the chats. */
  announced: boolean;
  renderedVersion: number;
  /** `readerView` (monitor/incident-machine.ts) of what the chats were last shown (absent: before coalescing existed). */
  renderedView?: string;
  lastRenderAt?: number;
  lastReminderAt?: number;
  reminders: number;
  /** fireCount for which the recovery notice went out. */
  recoveredFor: number;
  /** fireCount for which the "back again / flapping" notice went out. */
  flapNoticeFor: number;
  /** Auto-fix was considered for this fireCount. */
  autoFixFor: number;
}

/**
 * A connection id as a 53-bit number (two 32-bit FNV-1a hashes). Incidents remember the last 100 per
 * cause to drop a replayed line: 8 bytes each instead of a 36-character string (about 56 bytes plus
 * its pointer), and a shorter incident JSON on every save. Two of 100 colliding: about 1 in 10^12.
 */
export function connKey(conn: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ conn.length;
  for (let i = 0; i < conn.length; i++) {
    const c = conn.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0) * 2 ** 21 + ((b >>> 0) >>> 11);
}
