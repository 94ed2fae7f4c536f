/**
 * The typed facts every diagnosis rule reads: the parsed evidence, the reference time, the log
 * window and the facts derived once from them (listeners, lifecycle, correlation, is the gateway
 * down). Rules are pure functions of this context.
 */
import type { Confidence, Finding, FindingDetails, Cause } from '../../domain/diagnosis.js';
import type { HostConfig } from '../../domain/host.js';
import { redact } from '../../util/redact.js';
import { correlate, type ClientSummary, type ConnFailure, type Correlation } from '../correlate.js';
import type { Evidence, GatewayStatus, Listener, LogEvent, ServiceState } from '../evidence-types.js';
import { isOpenClawProcess } from '../parse-ss.js';

/** Tuning of a diagnose pass. */
export interface DiagnoseOptions {
  /** Ignore log events before this time (verification after a fix). */
  since?: Date;
  /** Log window considered, minutes (default 30). */
  windowMin?: number;
  /** A failure newer than this many minutes counts as current, "what fails now" (default 5). */
  activeMin?: number;
}

export interface RuleContext {
  host: HostConfig;
  evidence: Evidence;
  /** Reference time, epoch ms (the host clock of the evidence pass unless given). */
  now: number;
  windowMin: number;
  /** Start of the log window, epoch ms. */
  sinceMs: number;
  /** A failure at or after this time is current. */
  liveMs: number;
  /** Log events in the window, oldest first. */
  windowEvents: LogEvent[];
  gs?: GatewayStatus;
  probeOk: boolean;
  port: number;
  svc?: ServiceState;
  listeners: Listener[];
  ours: Listener[];
  foreign: Listener[];
  /** Something listens on the port but the SSH user cannot see what (another user's process). */
  hiddenOwner: boolean;
  /** The gateway port is held by something that is not the gateway (and the probe fails). */
  portTaken: boolean;
  /** The gateway does not answer and nothing else holds its port. */
  down: boolean;
  lastStart?: LogEvent;
  lastLifecycle?: LogEvent;
  stoppedCleanly: boolean;
  uncleanRestarts: number;
  /** Times (ms) of gateway starts in the whole log, oldest first. */
  startTimes: number[];
  /** Times (ms) of config changes (reload detected/applied, auto-restore), oldest first. */
  configChangeTimes: number[];
  corr: Correlation;
  /** docker: the restart policy restarted the container (each one a crash of its main process). */
  containerCrash?: ContainerCrash;
}

/**
 * Docker restarted the gateway's container by itself: RestartCount counts only restarts made by the
 * restart policy (a manual start resets it), so each is a crash. Times from `docker inspect` and the log.
 */
export interface ContainerCrash {
  restarts: number;
  /** State.StartedAt: when the policy last started it again (epoch ms, NaN when unknown). */
  restartedMs: number;
  /** State.FinishedAt: when the main process last ended (epoch ms, NaN when unknown or never). */
  endedMs: number;
  /** The last log line before the restart (the gap in the log starts after it). */
  lastLineBefore?: LogEvent;
  /** Did the gateway log a clean shutdown between its last start and the restart? */
  cleanBefore: boolean;
  /**
   * The run Docker restarted ended later with a clean shutdown (a `docker stop` after the crash):
   * when, epoch ms. The crash is then history, superseded by that stop.
   */
  cleanStopAfterMs?: number;
}

/** A rule: looks at the context (and at what earlier rules found), returns zero or more findings. */
export type Rule = (ctx: RuleContext, found: readonly Finding[]) => Finding | Finding[] | null | undefined;

const MAX_EVIDENCE = 8;

/** Collapse whitespace, redact, cap. Every text of a finding goes through this. */
export function clip(s: string, n = 240): string {
  const r = redact(s.replace(/\s+/g, ' ').trim());
  return r.length > n ? `${r.slice(0, n - 1)}…` : r;
}

export function hhmmss(time: string | number | undefined): string {
  if (time === undefined || (typeof time === 'number' && Number.isNaN(time))) return '--:--:--';
  const iso = typeof time === 'number' ? new Date(time).toISOString() : time;
  const m = /T(\d\d:\d\d:\d\d)/.exec(iso);
  return m ? m[1]! : iso.slice(0, 19);
}

export function ago(ms: number, ref: number): string {
  const s = Math.max(0, Math.round((ref - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

export const isoOf = (ms: number): string | undefined => (Number.isFinite(ms) ? new Date(ms).toISOString() : undefined);

export function eventLine(e: LogEvent): string {
  return clip(`${hhmmss(e.time)} ${e.text}`);
}

export function failureLine(f: ConnFailure): string {
  const who = [f.client.id, f.client.mode].filter(Boolean).join(' ') || f.kind;
  const why = f.authReason ?? f.cause ?? 'reason not logged';
  const where = f.origin ? `origin ${f.origin}` : f.remote ? `remote ${f.remote}` : 'origin unknown';
  const form = f.form === 'webchat_disconnected' ? 'webchat disconnected' : 'closed before connect';
  return clip(`${hhmmss(f.time)} ${form} code=${f.code} (${f.closeReason}) conn=${f.conn.slice(0, 8)} ← gateway: ${why}; client ${who}, ${where}`);
}

export function clientLabel(c: Pick<ClientSummary, 'kind' | 'clientId' | 'origin' | 'remote'>): string {
  const what = c.kind === 'control_ui' ? 'browser tab (Control UI)' : c.kind === 'node' ? 'paired device/node' : c.kind === 'cli' ? 'CLI' : 'client';
  const where = c.origin ? ` from ${c.origin}` : c.remote ? ` at ${c.remote}` : '';
  return `${what}${c.clientId ? ` "${c.clientId}"` : ''}${where}`;
}

/** Build a finding with its texts clipped and redacted. Rules call this, never build one by hand. */
export function finding(f: {
  cause: Cause;
  confidence: Confidence;
  weight: number;
  summary: string;
  evidence: string[];
  userActions?: string[];
  since?: number;
  lastSeen?: number;
  current: boolean;
  supersededBy?: string;
  details?: FindingDetails;
}): Finding {
  const out: Finding = {
    cause: f.cause,
    confidence: f.confidence,
    weight: Math.max(0, Math.min(100, Math.round(f.weight))),
    summary: clip(f.summary, 300),
    evidence: f.evidence.filter(Boolean).slice(0, MAX_EVIDENCE).map((l) => clip(l)),
    userActions: (f.userActions ?? []).map((a) => clip(a, 400)),
    current: f.current,
  };
  const since = f.since !== undefined ? isoOf(f.since) : undefined;
  const last = f.lastSeen !== undefined ? isoOf(f.lastSeen) : undefined;
  if (since) out.since = since;
  if (last) out.lastSeen = last;
  if (f.supersededBy) out.supersededBy = clip(f.supersededBy, 200);
  if (f.details && Object.keys(f.details).length) out.details = f.details;
  return out;
}

/** Newest finite time of a list (NaN when none). */
export function lastMsOf(xs: ReadonlyArray<{ ms: number }>): number {
  let m = NaN;
  for (const x of xs) if (Number.isFinite(x.ms) && !(x.ms <= m)) m = x.ms;
  return m;
}
export function firstMsOf(xs: ReadonlyArray<{ ms: number }>): number {
  let m = NaN;
  for (const x of xs) if (Number.isFinite(x.ms) && !(x.ms >= m)) m = x.ms;
  return m;
}

/** The client a failure came from, as its log lines name it. */
export interface FailingClient {
  origin?: string;
  remote?: string;
  clientId?: string;
}

/**
 * Can a `webchat connected` line be tied to the failing client? Real 2026.9.6 and 2026.4.29 connect
 * lines carry conn, remote and client id but no Origin: a client known by its Origin (a browser tab)
 * cannot be tied to any of them (every local tab is remote=127.0.0.1). Without an Origin on either
 * side, the remote address and the client id must agree.
 */
function connectOfSameClient(e: Extract<LogEvent, { kind: 'webchat_connected' }>, c: FailingClient): boolean {
  if (c.origin || e.origin) return c.origin === e.origin;
  if (c.remote === undefined || e.remote === undefined || c.remote !== e.remote) return false;
  return !c.clientId || !e.client.id || c.clientId === e.client.id;
}

/**
 * What ended a client-side cause last seen at `lastMs`: a later gateway restart, config change,
 * or a successful connect that can be tied to the same client. Undefined when nothing did.
 */
export function supersededAfter(ctx: RuleContext, lastMs: number, client: FailingClient = {}): string | undefined {
  if (!Number.isFinite(lastMs)) return undefined;
  const connect = ctx.windowEvents.find((e) => e.kind === 'webchat_connected' && e.ms > lastMs && connectOfSameClient(e, client));
  if (connect) return `a successful connect from the same client at ${hhmmss(connect.time)}`;
  const restart = ctx.startTimes.find((t) => t > lastMs);
  const change = ctx.configChangeTimes.find((t) => t > lastMs);
  if (restart !== undefined && (change === undefined || restart <= change)) return `a gateway restart at ${hhmmss(restart)}`;
  if (change !== undefined) return `a config change at ${hhmmss(change)}`;
  return undefined;
}

function countUncleanRestarts(events: readonly LogEvent[]): number {
  let starts = 0;
  let unclean = 0;
  let cleanSinceLastStart = false;
  for (const e of events) {
    if (e.kind === 'starting') {
      if (starts > 0 && !cleanSinceLastStart) unclean++;
      starts++;
      cleanSinceLastStart = false;
    } else if (e.kind === 'shutdown') {
      cleanSinceLastStart = true;
    }
  }
  return unclean;
}

/** A docker container the restart policy brought back: when, and what the run that ended logged last. */
function containerCrashOf(svc: Evidence['service'], evidence: Evidence): ContainerCrash | undefined {
  if (!(svc?.source === 'docker' && (svc.restarts ?? 0) >= 1)) return undefined;
  const restartedMs = svc.startedAt ? Date.parse(svc.startedAt) : NaN;
  const endedMs = svc.finishedAt ? Date.parse(svc.finishedAt) : NaN;
  // The log of the run that ended: everything before the restart (a second of slack for clock rounding).
  const before = Number.isFinite(restartedMs) ? evidence.logEvents.filter((e) => Number.isFinite(e.ms) && e.ms < restartedMs - 1000) : [];
  const lastLineBefore = before[before.length - 1];
  const lastLifeBefore = [...before].reverse().find((e) => e.kind === 'starting' || e.kind === 'shutdown');
  // A clean shutdown logged after the restart, with the container ended after it: the restarted
  // run lived and was stopped on purpose (seen on a real container: kill → restart → docker stop).
  const cleanStop = Number.isFinite(restartedMs) && Number.isFinite(endedMs) && endedMs > restartedMs
    ? [...evidence.logEvents].reverse().find((e) => e.kind === 'shutdown' && Number.isFinite(e.ms) && e.ms >= restartedMs - 1000)
    : undefined;
  return {
    restarts: svc.restarts!,
    restartedMs,
    endedMs,
    lastLineBefore,
    cleanBefore: lastLifeBefore?.kind === 'shutdown',
    ...(cleanStop ? { cleanStopAfterMs: cleanStop.ms } : {}),
  };
}

/** Derive the context once per diagnose pass. */
export function buildContext(host: HostConfig, evidence: Evidence, now: Date | undefined, opts: DiagnoseOptions): RuleContext {
  const hostNowMs = evidence.hostNow ? Date.parse(evidence.hostNow) : NaN;
  const ref = now ? now.getTime() : !Number.isNaN(hostNowMs) ? hostNowMs : Date.now();
  const windowMin = opts.windowMin ?? 30;
  const activeMs = (opts.activeMin ?? 5) * 60_000;
  const sinceMs = Math.max(ref - windowMin * 60_000, opts.since ? opts.since.getTime() : -Infinity);
  const recent = (e: LogEvent) => Number.isNaN(e.ms) || (e.ms >= sinceMs && e.ms <= ref + 60_000);
  const windowEvents = evidence.logEvents.filter(recent);

  const gs = evidence.gatewayStatus;
  const probeOk = gs?.probeOk === true;
  const port = host.gateway.port;
  const svc = evidence.service;

  const listeners: Listener[] = [...evidence.listeners.filter((l) => l.port === port)];
  for (const l of gs?.portListeners ?? []) {
    if (l.port === port && !listeners.some((x) => x.pid !== undefined && x.pid === l.pid)) listeners.push(l);
  }
  // A docker install's published port is held on the host by docker's proxy: that is the gateway too.
  const isOurs = (l: Listener) =>
    isOpenClawProcess(l) || (host.install === 'docker' && /docker-proxy|dockerd|containerd|rootlesskit|slirp4netns/.test(l.process ?? ''));
  const foreign = listeners.filter((l) => (l.process || l.commandLine) && !isOurs(l));
  const hiddenOwner = (listeners.length > 0 && listeners.every((l) => !l.process && !l.commandLine)) || gs?.portOwnerHidden === true;
  const ours = listeners.filter(isOurs);
  const portEvents = windowEvents.filter((e) => e.kind === 'port_conflict');
  const portTaken = !probeOk && (foreign.length > 0 || gs?.probeForeignHttp === true || (portEvents.length > 0 && ours.length === 0));
  const down =
    !probeOk &&
    !portTaken &&
    (gs?.probeRefused === true ||
      gs?.portStatus === 'free' ||
      svc?.active === false ||
      (gs === undefined && listeners.length === 0 && evidence.sections.listeners?.rc === 0));

  const lifecycle = evidence.logEvents.filter((e) => e.kind === 'starting' || e.kind === 'ready' || e.kind === 'shutdown');
  const lastLifecycle = lifecycle[lifecycle.length - 1];
  const lastStart = [...evidence.logEvents].reverse().find((e) => e.kind === 'starting');
  const startTimes = evidence.logEvents.filter((e) => e.kind === 'starting' && Number.isFinite(e.ms)).map((e) => e.ms);
  const configChangeTimes = evidence.logEvents
    .filter((e) => ((e.kind === 'reload' && e.phase !== 'other') || e.kind === 'config_autorestored') && Number.isFinite(e.ms))
    .map((e) => e.ms);

  const containerCrash = containerCrashOf(svc, evidence);

  return {
    host,
    evidence,
    now: ref,
    windowMin,
    sinceMs,
    liveMs: ref - activeMs,
    windowEvents,
    gs,
    probeOk,
    port,
    svc,
    listeners,
    ours,
    foreign,
    hiddenOwner,
    portTaken,
    down,
    lastStart,
    lastLifecycle,
    stoppedCleanly: lastLifecycle?.kind === 'shutdown',
    uncleanRestarts: countUncleanRestarts(windowEvents),
    startTimes,
    configChangeTimes,
    corr: correlate(windowEvents, { sinceMs }),
    containerCrash,
  };
}
