/**
 * The incident state machine, as pure functions over plain data: ok → suspect → firing → resolved,
 * flapping, acks, reminders, mutes and inhibition. No I/O and no clock of its own (`now` is passed in),
 * so every rule is unit tested; the host monitor persists the data and carries out the actions.
 */
import type { Cause } from '../domain/diagnosis.js';
import { MONITOR_DEFAULTS } from '../constants.js';
import type { Signal } from './signals.js';
import type { Incident, IncidentSource } from '../domain/incident.js';

/** Thresholds and windows, in ms (built from clawmedic.yaml `alerts` by {@link policyFromConfig}). */
export interface AlertPolicy {
  /** Events of one cause within `fireWindowMs` that make a suspect fire. */
  fireAfterEvents: number;
  fireWindowMs: number;
  /** Consecutive failed probes that make a probe-detected incident fire. */
  probeFailuresToFire: number;
  /** Quiet time (no event of the cause, probe ok) before an incident resolves. */
  resolveAfterMs: number;
  reminderIntervalMs: number;
  /** A resolved incident that fires again within this long is the same incident, now flapping. */
  flapWindowMs: number;
  /** Flapping incidents need this many times `resolveAfterMs` of quiet to resolve. */
  flapResolveFactor: number;
  /** At most one edit of the alert message per this long. */
  editMinIntervalMs: number;
  /** A count-only change is shown at the latest after this long (see readerView). */
  editRefreshMs: number;
  /** An alert unchanged this long is re-sent with fresh buttons (they expire after DEFAULTS.buttonTtlSec). */
  buttonRefreshMs: number;
}

/** Everything outside the incident that decides what to send now. */
export interface EvalContext {
  now: number;
  /** Alerts for the host are muted (by /mute or a running fix). */
  muted: boolean;
  /** A host-unreachable incident fires for the host (gateway incidents are held), or clawmedic is blind. */
  inhibited: boolean;
  /** Last probe that answered ok / last probe that reached the host over SSH (epoch ms). */
  lastProbeOkAt?: number;
  lastReachableAt?: number;
  /** Auto-fix is on for this host and the cause has a safe fix. */
  autoFix: boolean;
}

/** A delivery or side effect the host monitor must carry out, then confirm with {@link markDone}. */
export type ActionKind = 'announce' | 'edit' | 'remind' | 'recover' | 'flap_notice' | 'autofix';

export interface Action {
  kind: ActionKind;
  /** The incident's version the action shows (renderedVersion becomes this once done). */
  version: number;
  /** For announce/edit: the reader's view it shows (renderedView becomes this once done). */
  view?: string;
}

/** 1…10 exactly, then 20, 50, 100, 200, 500, …: how far a count must move before a reader is told. */
export function countBucket(n: number): number {
  if (n <= 10) return n;
  let bucket = 10;
  for (let decade = 10; ; decade *= 10) {
    for (const m of [1, 2, 5]) {
      if (decade * m > n) return bucket;
      bucket = decade * m;
    }
  }
}

/**
 * What a reader of the alert message would notice changing: state, cause, who acked or muted, what was
 * tried, the number of clients, and the event count by bucket. A new event of the same tab moves only
 * the count and the "last event" time, which is not worth an edit in a busy group (each edit costs
 * Telegram's 20-per-minute group budget that replies to people need); it is shown with the next
 * meaningful edit or the periodic refresh.
 */
export function readerView(inc: Incident): string {
  return JSON.stringify([
    inc.phase, inc.cause, inc.flapping, inc.fireCount, inc.ackedBy ?? '', inc.mutedBy ?? '', inc.mutedUntil ?? 0,
    inc.tried, inc.clients.length, countBucket(inc.count),
  ]);
}

/** Build the policy from the `alerts` section of clawmedic.yaml (seconds) plus monitor defaults. */
export function policyFromConfig(alerts: {
  fireAfterEvents: number;
  fireWindowSec: number;
  probeFailuresToFire: number;
  resolveAfterSec: number;
  reminderIntervalSec: number;
}, overrides: Partial<AlertPolicy> = {}): AlertPolicy {
  return {
    fireAfterEvents: alerts.fireAfterEvents,
    fireWindowMs: alerts.fireWindowSec * 1000,
    probeFailuresToFire: alerts.probeFailuresToFire,
    resolveAfterMs: alerts.resolveAfterSec * 1000,
    reminderIntervalMs: alerts.reminderIntervalSec * 1000,
    flapWindowMs: MONITOR_DEFAULTS.flapWindowSec * 1000,
    flapResolveFactor: MONITOR_DEFAULTS.flapResolveFactor,
    editMinIntervalMs: MONITOR_DEFAULTS.editMinIntervalMs,
    editRefreshMs: MONITOR_DEFAULTS.editRefreshMs,
    buttonRefreshMs: MONITOR_DEFAULTS.buttonRefreshMs,
    ...overrides,
  };
}

/** A fresh suspect incident for host + family. The id is unique per opening (a new incident gets a new message). */
export function newIncident(host: string, family: Cause, source: IncidentSource, now: number): Incident {
  return {
    id: `${host}.${family}.${now.toString(36)}`,
    host,
    family,
    cause: family,
    source,
    phase: 'suspect',
    firstEventAt: now,
    lastEventAt: now,
    count: 0,
    recent: [],
    clients: [],
    seenConns: [],
    evidence: [],
    probeFailures: 0,
    marks: {},
    openedAt: now,
    fireCount: 0,
    flapping: false,
    tried: [],
    version: 0,
    announced: false,
    renderedVersion: 0,
    reminders: 0,
    recoveredFor: 0,
    flapNoticeFor: 0,
    autoFixFor: 0,
  };
}

function pushCapped<T>(list: T[], item: T, cap: number): void {
  list.push(item);
  if (list.length > cap) list.splice(0, list.length - cap);
}

/** The refined cause of a token-family incident: rotation / auto-restore marks, else distinct clients. */
export function refineCause(inc: Pick<Incident, 'family' | 'clients' | 'marks'>): Cause {
  if (inc.family !== 'token_mismatch') return inc.family;
  if (inc.marks.autorestore) return 'config_autorestored';
  if (inc.marks.rotation) return 'token_rotated';
  return inc.clients.length >= 2 ? 'token_mismatch' : 'stale_client';
}

/** Reopen a resolved incident for new events (same id and message: this is how flapping collapses). */
function reopen(inc: Incident): void {
  inc.phase = 'suspect';
  inc.recent = [];
  inc.probeFailures = 0;
}

function fire(inc: Incident, now: number): void {
  inc.phase = 'firing';
  inc.fireCount += 1;
  inc.firedAt ??= now;
  if (inc.fireCount > 1) {
    inc.flapping = true;
    // It came back: the earlier ack no longer stands.
    inc.ackedBy = undefined;
    inc.ackedAt = undefined;
  }
  inc.lastReminderAt = now;
  inc.resolvedAt = undefined;
  inc.version += 1;
}

/**
 * Count one log signal. Returns false when it changes nothing (a replayed connection).
 * Fires when `fireAfterEvents` events fall within `fireWindowMs`.
 */
export function applySignal(inc: Incident, sig: Signal, policy: AlertPolicy, now: number): boolean {
  if (sig.dedupe && inc.seenConns.includes(sig.dedupe)) return false;
  if (inc.phase === 'resolved') reopen(inc);
  if (sig.dedupe) pushCapped(inc.seenConns, sig.dedupe, MONITOR_DEFAULTS.maxSeenConns);
  inc.count += 1;
  if (inc.count === 1 || sig.at < inc.firstEventAt) inc.firstEventAt = sig.at;
  inc.lastEventAt = Math.max(inc.count === 1 ? sig.at : inc.lastEventAt, sig.at);
  pushCapped(inc.recent, sig.at, MONITOR_DEFAULTS.maxRecent);
  if (sig.clientKey && !inc.clients.includes(sig.clientKey)) pushCapped(inc.clients, sig.clientKey, MONITOR_DEFAULTS.maxClients);
  if (sig.mark) inc.marks[sig.mark] = true;
  pushCapped(inc.evidence, sig.evidence, MONITOR_DEFAULTS.maxEvidence);
  inc.cause = refineCause(inc);
  inc.version += 1;
  if (inc.phase === 'suspect') {
    const inWindow = inc.recent.filter((t) => t > now - policy.fireWindowMs).length;
    if (inWindow >= policy.fireAfterEvents) fire(inc, now);
  }
  return true;
}

/** One failed probe for a probe-detected cause (gateway down, host unreachable, …), with the consecutive count. */
export function applyProbeFailure(
  inc: Incident,
  failure: { at: number; consecutive: number; evidence: string },
  policy: AlertPolicy,
  now: number,
): void {
  if (inc.phase === 'resolved') reopen(inc);
  inc.count += 1;
  if (inc.count === 1) inc.firstEventAt = failure.at;
  inc.lastEventAt = Math.max(inc.lastEventAt, failure.at);
  inc.probeFailures = failure.consecutive;
  pushCapped(inc.evidence, failure.evidence, MONITOR_DEFAULTS.maxEvidence);
  inc.version += 1;
  if (inc.phase === 'suspect' && inc.probeFailures >= policy.probeFailuresToFire) fire(inc, now);
}

/** Ack a firing incident: reminders stop; the message names who acked. Returns false if there was nothing to ack. */
export function ackIncident(inc: Incident, by: string, now: number): boolean {
  if (inc.phase !== 'firing' || inc.ackedBy) return false;
  inc.ackedBy = by;
  inc.ackedAt = now;
  inc.version += 1;
  return true;
}

/**
 * Record a person's mute (or its end) on a firing incident, so its message can say MUTED and drop the
 * buttons that make no sense then. Returns true when what the message shows changed.
 */
export function applyMute(inc: Incident, mute: { by: string; until: number } | undefined): boolean {
  if (inc.phase !== 'firing') return false;
  if (inc.mutedBy === mute?.by && inc.mutedUntil === mute?.until) return false;
  inc.mutedBy = mute?.by;
  inc.mutedUntil = mute?.until;
  // Only a message people have seen needs to change; the lifting of a mute is shown by the normal edit.
  inc.muteEditDue = inc.announced && mute !== undefined;
  inc.version += 1;
  return true;
}

/** Note what was tried on the host (shown in the message and in reminders). */
export function noteTried(inc: Incident, what: string): void {
  pushCapped(inc.tried, what, 5);
  inc.version += 1;
}

/** What became of the incident in {@link evaluate}: still open, or done (remove from the open set). */
export interface Evaluation {
  actions: Action[];
  /** The incident is over: a suspect that never fired went quiet, or a resolved one left the flap window. */
  done: boolean;
}

/**
 * Advance time: resolve, expire, and list what to deliver now. Mutates phase fields only;
 * delivery bookkeeping changes in {@link markDone} once an action was carried out.
 */
export function evaluate(inc: Incident, ctx: EvalContext, policy: AlertPolicy): Evaluation {
  const { now } = ctx;
  const actions: Action[] = [];

  if (inc.phase === 'suspect') {
    const quietProbe = inc.source === 'probe' && probeClearedSince(inc, ctx, inc.lastEventAt);
    const quietLog = inc.source === 'log' && now - inc.lastEventAt > policy.fireWindowMs;
    if (quietProbe || quietLog) {
      // Never fired: back to ok. A resolved-then-reopened one goes back to resolved (its notice went out).
      if (inc.fireCount > 0) {
        inc.phase = 'resolved';
        inc.resolvedAt ??= now;
      } else {
        return { actions, done: true };
      }
    }
  }

  if (inc.phase === 'firing') {
    const quiet = policy.resolveAfterMs * (inc.flapping ? policy.flapResolveFactor : 1);
    const cleared = probeClearedSince(inc, ctx, inc.lastEventAt);
    // host_unreachable clears as soon as SSH works again; the others need the quiet window too.
    if (cleared && (inc.family === 'host_unreachable' || now - inc.lastEventAt >= quiet)) {
      inc.phase = 'resolved';
      inc.resolvedAt = now;
      inc.version += 1;
    }
  }

  if (inc.phase === 'resolved') {
    if (inc.announced && inc.recoveredFor < inc.fireCount) {
      // Never swallowed: not by a mute, not by an ack, not by inhibition.
      actions.push({ kind: 'recover', version: inc.version });
      if (inc.renderedVersion < inc.version) actions.push({ kind: 'edit', version: inc.version });
    }
    const recoveredOrSilent = !inc.announced || inc.recoveredFor >= inc.fireCount;
    if (recoveredOrSilent && now - (inc.resolvedAt ?? now) > policy.flapWindowMs) return { actions, done: true };
    return { actions, done: false };
  }

  if (inc.phase === 'firing') {
    if (ctx.autoFix && inc.autoFixFor < inc.fireCount && !ctx.inhibited && !ctx.muted) actions.push({ kind: 'autofix', version: inc.version });
    // Buttons live DEFAULTS.buttonTtlSec: an alert shown that long unchanged gets fresh ones before they expire.
    const buttonsAging = inc.announced && inc.lastRenderAt !== undefined && now - inc.lastRenderAt >= policy.buttonRefreshMs;
    if (ctx.muted || ctx.inhibited) {
      // Held, except the one edit that shows people the mute they (or a colleague) just set.
      if (ctx.muted && ((inc.muteEditDue && inc.announced) || buttonsAging)) actions.push({ kind: 'edit', version: inc.version });
      return { actions, done: false };
    }
    if (!inc.announced) {
      actions.push({ kind: 'announce', version: inc.version, view: readerView(inc) });
      return { actions, done: false };
    }
    if (inc.fireCount > 1 && inc.flapNoticeFor < inc.fireCount) actions.push({ kind: 'flap_notice', version: inc.version });
    const editDue = inc.lastRenderAt === undefined || now - inc.lastRenderAt >= policy.editMinIntervalMs;
    const backAgain = inc.fireCount > 1 && inc.flapNoticeFor < inc.fireCount;
    const view = readerView(inc);
    // Coalesced: only what a reader notices, or a refresh of the count/time now and then.
    const worthIt = view !== inc.renderedView || inc.lastRenderAt === undefined || now - inc.lastRenderAt >= policy.editRefreshMs;
    if ((inc.renderedVersion < inc.version && worthIt && (editDue || backAgain)) || buttonsAging) {
      actions.push({ kind: 'edit', version: inc.version, view });
    }
    if (!inc.ackedBy && now - (inc.lastReminderAt ?? inc.firedAt ?? now) >= policy.reminderIntervalMs) {
      actions.push({ kind: 'remind', version: inc.version });
    }
  }
  return { actions, done: false };
}

/** Has the probe answered ok (SSH reachable, for host_unreachable) at or after `since`? */
function probeClearedSince(inc: Incident, ctx: EvalContext, since: number): boolean {
  const t = inc.family === 'host_unreachable' ? ctx.lastReachableAt : ctx.lastProbeOkAt;
  return t !== undefined && t >= since;
}

/** Record that an action was carried out (called after the notify queue accepted it). */
export function markDone(inc: Incident, action: Action, now: number): void {
  switch (action.kind) {
    case 'announce':
    case 'edit':
      inc.announced = true;
      inc.renderedVersion = Math.max(inc.renderedVersion, action.version);
      inc.renderedView = action.view ?? readerView(inc);
      inc.lastRenderAt = now;
      inc.muteEditDue = false;
      break;
    case 'remind':
      inc.lastReminderAt = now;
      inc.reminders += 1;
      break;
    case 'recover':
      inc.recoveredFor = inc.fireCount;
      break;
    case 'flap_notice':
      inc.flapNoticeFor = inc.fireCount;
      break;
    case 'autofix':
      inc.autoFixFor = inc.fireCount;
      break;
  }
}
