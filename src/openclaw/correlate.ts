/**
 * Joins each client-side 4008 ("connect failed") to the gateway's own rejection of the same `conn`
 * (authReason / 1008 reason), classifies and counts the clients, and spots the rotation, stale-tab
 * and rate-limit signatures. 4008 is the browser's code; the real reason is on another line.
 */
import type { LogEvent, LoggedClient, UnauthorizedEvent, WebchatConnectedEvent } from './evidence-types.js';

/** Who a failing connection belongs to. */
export type ClientKind = 'control_ui' | 'node' | 'cli' | 'internal' | 'unknown';

/** One failed connect, with the gateway's reason joined in. */
export interface ConnFailure {
  conn: string;
  time?: string;
  ms: number;
  /** 4008 (client closed after rejection) or 1008 (gateway closed). */
  code: number;
  closeReason: string;
  /** token_mismatch, token_missing, device_token_mismatch, rate_limited, … (from either line). */
  authReason?: string;
  /** unauthorized, control-ui-insecure-auth, origin-mismatch, … */
  cause?: string;
  phase?: string;
  form: 'closed_before_connect' | 'webchat_disconnected';
  client: LoggedClient;
  kind: ClientKind;
  origin?: string;
  remote?: string;
  /** origin (or remote) + client id: what "distinct clients" counts. */
  clientKey: string;
  /** The gateway's `unauthorized` line for the same conn was found. */
  joined: boolean;
  /** Known noise: 1013 during startup, CLI probe 1008s, internal channels.status token_mismatch. */
  benign: boolean;
  benignWhy?: string;
}

/** All failures of one client. */
export interface ClientSummary {
  key: string;
  kind: ClientKind;
  clientId?: string;
  origin?: string;
  remote?: string;
  failures: number;
  firstMs: number;
  lastMs: number;
  reasons: Record<string, number>;
  /** Median/maximum seconds between failures (a stale tab backs off 0.8 s ×1.7 up to 15 s). */
  medianGapSec?: number;
  maxGapSec?: number;
  /** Repeated failures at reconnect-backoff cadence for ≥ 20 s: a tab stuck on an old token. */
  looping: boolean;
}

/** The result of correlating a window of log events. */
export interface Correlation {
  failures: ConnFailure[];
  benign: ConnFailure[];
  /** Non-benign clients, most failures first. */
  clients: ClientSummary[];
  reasons: Record<string, number>;
  /** Token rotation seen (`4001 gateway auth changed` or reload of gateway.auth.token) followed by token failures. */
  rotation?: { ms: number; time?: string; disconnected: number; failuresAfter: number };
  /** Config auto-restore from backup followed by token failures (the backup may carry an older token). */
  autoRestore?: { ms: number; time?: string; reason?: string; failuresAfter: number };
  /** The single client that loops, when exactly one does. */
  staleLoop?: ClientSummary;
  /** Clients that hit the auth rate limit. */
  rateLimited: ClientSummary[];
  /** Successful webchat connects after the last failure (clients that recovered). */
  connectedAfterLastFailure: number;
}

/** Classify a logged client by id/mode (and Origin: only browsers send one). */
export function classifyClient(client: LoggedClient, origin?: string): ClientKind {
  const id = (client.id ?? '').toLowerCase();
  const mode = (client.mode ?? '').toLowerCase();
  if (id === 'cli' || mode === 'cli' || mode === 'probe') return 'cli';
  if (id === 'gateway-client' || mode === 'backend' || id.includes('channel')) return 'internal';
  if (id.includes('control-ui') || id.startsWith('webchat') || mode === 'webchat' || mode === 'ui') return 'control_ui';
  if (mode === 'node' || /node|ios|android|macos|device/.test(id)) return 'node';
  if (origin) return 'control_ui';
  return 'unknown';
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1]! + s[mid]!) / 2;
}

const TOKEN_REASONS = new Set(['token_mismatch', 'token_missing', 'device_token_mismatch', 'token_missing_config']);

/** Correlate log events (oldest first). Events older than `sinceMs` are ignored. */
export function correlate(events: readonly LogEvent[], opts: { sinceMs?: number } = {}): Correlation {
  const since = opts.sinceMs ?? -Infinity;
  const joins = indexByConn(events);

  const failures: ConnFailure[] = [];
  const benign: ConnFailure[] = [];
  const rotationMarks: RotationMark[] = [];
  const restores: Restore[] = [];
  const connectTimes: number[] = [];

  for (const e of events) {
    const inWindow = !(e.ms < since);
    if (!inWindow) continue;
    if (e.kind === 'webchat_connected') connectTimes.push(e.ms);
    if (e.kind === 'reload' && e.keys.includes('gateway.auth.token') && e.phase !== 'other') {
      rotationMarks.push({ ms: e.ms, time: e.time, fromDisconnect: false });
      continue;
    }
    if (e.kind === 'config_autorestored') {
      restores.push({ ms: e.ms, time: e.time, reason: e.reason });
      continue;
    }
    if (e.kind === 'webchat_disconnected' && e.code === 4001) {
      rotationMarks.push({ ms: e.ms, time: e.time, fromDisconnect: true });
      continue;
    }
    const f = connFailure(e, joins);
    if (!f) continue;
    markBenign(f);
    (f.benign ? benign : failures).push(f);
  }

  const reasons: Record<string, number> = {};
  const byClient = new Map<string, ConnFailure[]>();
  for (const f of failures) {
    const r = f.authReason ?? f.cause ?? f.closeReason;
    reasons[r] = (reasons[r] ?? 0) + 1;
    const list = byClient.get(f.clientKey);
    if (list) list.push(f);
    else byClient.set(f.clientKey, [f]);
  }

  const clients: ClientSummary[] = [];
  for (const [key, list] of byClient) clients.push(summarizeClient(key, list));
  clients.sort((a, b) => b.failures - a.failures);

  const tokenFailuresAfter = (ms: number) =>
    failures.filter((f) => f.ms >= ms && f.authReason !== undefined && TOKEN_REASONS.has(f.authReason)).length;
  const loops = clients.filter((c) => c.looping);
  const lastFailure = failures.length ? Math.max(...failures.map((f) => f.ms).filter((x) => !Number.isNaN(x))) : NaN;
  return {
    failures,
    benign,
    clients,
    reasons,
    rotation: rotationOf(rotationMarks, tokenFailuresAfter),
    autoRestore: autoRestoreOf(restores, tokenFailuresAfter),
    staleLoop: loops.length === 1 ? loops[0] : undefined,
    rateLimited: clients.filter((c) => (c.reasons.rate_limited ?? 0) > 0),
    connectedAfterLastFailure: Number.isNaN(lastFailure) ? connectTimes.length : connectTimes.filter((t) => t > lastFailure).length,
  };
}

/** A token rotation seen in the log: a reload of gateway.auth.token, or a 4001 disconnect. */
interface RotationMark {
  ms: number;
  time?: string;
  fromDisconnect: boolean;
}

/** A config auto-restore seen in the log. */
interface Restore {
  ms: number;
  time?: string;
  reason?: string;
}

/** The gateway's rejections and the webchat connects by conn id, for joining the client's side to them. */
interface ConnJoins {
  unauth: Map<string, UnauthorizedEvent>;
  connected: Map<string, WebchatConnectedEvent>;
}

function indexByConn(events: readonly LogEvent[]): ConnJoins {
  const unauth = new Map<string, UnauthorizedEvent>();
  const connected = new Map<string, WebchatConnectedEvent>();
  for (const e of events) {
    if (e.kind === 'unauthorized') unauth.set(e.conn, e);
    else if (e.kind === 'webchat_connected') connected.set(e.conn, e);
  }
  return { unauth, connected };
}

/** The failed connect an event records (a rejected close or a 4008 webchat disconnect), joined to its conn's other lines. */
function connFailure(e: LogEvent, { unauth, connected }: ConnJoins): ConnFailure | null {
  if (e.kind === 'closed_before_connect') {
    if (e.code !== 4008 && e.code !== 1008 && e.code !== 1013) return null;
    const u = unauth.get(e.conn);
    const client: LoggedClient = { ...u?.client, ...stripEmpty(e.client) };
    const origin = e.origin ?? u?.origin;
    const remote = e.remote ?? u?.remote;
    const kind = classifyClient(client, origin);
    return {
      conn: e.conn,
      time: e.time,
      ms: e.ms,
      code: e.code,
      closeReason: e.reason,
      authReason: e.authReason ?? u?.reason,
      cause: e.cause,
      phase: e.phase,
      form: 'closed_before_connect',
      client,
      kind,
      origin,
      remote,
      clientKey: `${origin ?? remote ?? '?'}|${client.id ?? kind}`,
      joined: u !== undefined,
      benign: false,
    };
  }
  if (e.kind === 'webchat_disconnected' && e.code === 4008) {
    const u = unauth.get(e.conn);
    const c = connected.get(e.conn);
    const client: LoggedClient = { ...c?.client, ...u?.client };
    const origin = u?.origin;
    const remote = u?.remote ?? c?.remote;
    const kind = classifyClient(client, origin) === 'unknown' ? 'control_ui' : classifyClient(client, origin);
    return {
      conn: e.conn,
      time: e.time,
      ms: e.ms,
      code: e.code,
      closeReason: e.reason,
      authReason: u?.reason,
      form: 'webchat_disconnected',
      client,
      kind,
      origin,
      remote,
      clientKey: `${origin ?? remote ?? '?'}|${client.id ?? 'webchat'}`,
      joined: u !== undefined || c !== undefined,
      benign: false,
    };
  }
  return null;
}

/** Failures that are no client's fault: the gateway starting, its own channel check, a CLI probe. */
function markBenign(f: ConnFailure): void {
  if (f.code === 1013 || /gateway starting/i.test(f.closeReason)) {
    f.benign = true;
    f.benignWhy = 'gateway starting (1013)';
  } else if (f.kind === 'internal' && f.authReason === 'token_mismatch') {
    f.benign = true;
    f.benignWhy = 'internal channel status check';
  } else if (f.kind === 'cli' && f.code === 1008 && (f.client.mode ?? '').toLowerCase() === 'probe') {
    f.benign = true;
    f.benignWhy = 'CLI probe';
  }
}

/** One client's failures: counts, reasons, the gaps between attempts and whether it loops. */
function summarizeClient(key: string, list: ConnFailure[]): ClientSummary {
  const times = list.map((f) => f.ms).filter((x) => !Number.isNaN(x));
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push((times[i]! - times[i - 1]!) / 1000);
  const cr: Record<string, number> = {};
  for (const f of list) {
    const r = f.authReason ?? f.cause ?? f.closeReason;
    cr[r] = (cr[r] ?? 0) + 1;
  }
  const first = times.length ? Math.min(...times) : NaN;
  const last = times.length ? Math.max(...times) : NaN;
  const maxGap = gaps.length ? Math.max(...gaps) : undefined;
  const head = list[0]!;
  return {
    key,
    kind: head.kind,
    clientId: head.client.id,
    origin: head.origin,
    remote: head.remote,
    failures: list.length,
    firstMs: first,
    lastMs: last,
    reasons: cr,
    medianGapSec: median(gaps),
    maxGapSec: maxGap,
    looping: list.length >= 4 && last - first >= 20_000 && maxGap !== undefined && maxGap <= 25,
  };
}

function rotationOf(rotationMarks: RotationMark[], tokenFailuresAfter: (ms: number) => number): Correlation['rotation'] {
  if (!rotationMarks.length) return undefined;
  const firstMark = rotationMarks[0]!;
  const after = tokenFailuresAfter(firstMark.ms);
  if (after > 0 || rotationMarks.some((m) => m.fromDisconnect)) {
    return {
      ms: firstMark.ms,
      time: firstMark.time,
      disconnected: rotationMarks.filter((m) => m.fromDisconnect).length,
      failuresAfter: after,
    };
  }
  return undefined;
}

function autoRestoreOf(restores: Restore[], tokenFailuresAfter: (ms: number) => number): Correlation['autoRestore'] {
  if (!restores.length) return undefined;
  const r = restores[restores.length - 1]!;
  return { ms: r.ms, time: r.time, reason: r.reason, failuresAfter: Number.isNaN(r.ms) ? 0 : tokenFailuresAfter(r.ms) };
}

function stripEmpty(c: LoggedClient): LoggedClient {
  const out: LoggedClient = {};
  if (c.id) out.id = c.id;
  if (c.mode) out.mode = c.mode;
  if (c.version) out.version = c.version;
  return out;
}
