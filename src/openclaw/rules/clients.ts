/**
 * Client-side causes from the 4008 ↔ 1008 correlation: insecure context, Origin refused, auth
 * rate limit, device tokens, and the gateway-token family (override, rotation, auto-restore,
 * several clients, one stale tab). Time-aware: the token family splits the log into phases at
 * each gateway start and config change; only the last phase is "now", earlier rotations and
 * restores are reported as superseded by what ended them.
 */
import type { Confidence, Finding } from '../../domain/diagnosis.js';
import type { ConnFailure } from '../correlate.js';
import type { DeviceTokenChangeEvent, LogEvent } from '../evidence-types.js';
import {
  ago,
  clientLabel,
  failureLine,
  finding,
  firstMsOf,
  hhmmss,
  lastMsOf,
  supersededAfter,
  type Rule,
  type RuleContext,
} from './context.js';
import { probeErrorLine } from './port.js';

/** Evidence line prefix of a `--token` in the service definition (backticks keep the redactor off the next word). */
export const TOKEN_OVERRIDE_EVIDENCE = 'service definition passes `--token`';

/** The auth rate limit: 10 failures in 60 s lock the Origin out for 5 minutes. */
export const RATE_LIMIT_LOCKOUT_MS = 5 * 60_000;

const FRESH_LINK =
  'Open the fresh dashboard link clawmedic sends you privately (or paste the current token in Control UI settings); clear the site data if the tab keeps the old token.';

interface Timing {
  since: number;
  lastSeen: number;
  current: boolean;
  supersededBy?: string;
  /** Weight/confidence damping for an old finding, and the note for its summary. */
  dampBy: number;
  confidence: Confidence | null;
  note: string;
}

/** When a client cause started, was last seen, whether it is current, and what superseded it. */
function timing(ctx: RuleContext, fs: ConnFailure[], supersede = true): Timing {
  const since = firstMsOf(fs);
  const lastSeen = lastMsOf(fs);
  const last = fs[fs.length - 1];
  const superseded = supersede ? supersededAfter(ctx, lastSeen, { remote: last?.remote, origin: last?.origin, clientId: last?.client.id }) : undefined;
  const live = !Number.isFinite(lastSeen) || lastSeen >= ctx.liveMs;
  const current = live && !superseded;
  if (current) return { since, lastSeen, current, dampBy: 0, confidence: null, note: '' };
  const note = superseded ? ` (last seen ${ago(lastSeen, ctx.now)}; over since ${superseded})` : ` (last seen ${ago(lastSeen, ctx.now)})`;
  return { since, lastSeen, current, supersededBy: superseded, dampBy: 30, confidence: 'low', note };
}

const when = (t: Timing) => ({ since: t.since, lastSeen: t.lastSeen, current: t.current, supersededBy: t.supersededBy });
const sample = (fs: ConnFailure[], n = 4) => fs.slice(-n).map(failureLine);

export const insecureContextRule: Rule = (ctx) => {
  const fs = ctx.corr.failures.filter((f) => f.cause === 'control-ui-insecure-auth' || /requires device identity/i.test(f.closeReason));
  if (!fs.length) return null;
  const t = timing(ctx, fs);
  const origins = [...new Set(fs.map((f) => f.origin).filter(Boolean))];
  return finding({
    cause: 'insecure_context',
    confidence: t.confidence ?? 'high',
    weight: 72 - t.dampBy,
    summary: `The Control UI is opened over plain HTTP from ${origins.join(', ') || 'a remote address'}: it needs HTTPS or localhost${t.note}`,
    evidence: sample(fs),
    userActions: ['Open the dashboard over HTTPS (through your reverse proxy) or via an SSH tunnel to http://localhost, then reconnect.'],
    ...when(t),
    details: origins[0] ? { origin: origins[0] } : undefined,
  });
};

/** The dashboard's http(s) address for a human (never a ws:// one: browsers do not open those). */
export function dashboardHttpUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  return url.replace(/^ws:/i, 'http:').replace(/^wss:/i, 'https:');
}

export const originRule: Rule = (ctx) => {
  const fs = ctx.corr.failures.filter((f) => f.cause === 'origin-mismatch' || /origin not allowed/i.test(f.closeReason));
  if (!fs.length) return null;
  const t = timing(ctx, fs);
  const origins = [...new Set(fs.map((f) => f.origin).filter(Boolean))];
  const own = dashboardHttpUrl(ctx.host.gateway.url);
  return finding({
    cause: 'origin_not_allowed',
    confidence: t.confidence ?? 'high',
    weight: 70 - t.dampBy,
    summary: `The gateway refuses the Control UI's Origin ${origins.join(', ')}: it is not the gateway's own address nor in gateway.controlUi.allowedOrigins${t.note}`,
    evidence: sample(fs),
    userActions: [
      `Open the Control UI from the gateway's own address${own ? ` (${own})` : ''}, or add the origin to gateway.controlUi.allowedOrigins.`,
    ],
    ...when(t),
    details: origins[0] ? { origin: origins[0] } : undefined,
  });
};

/**
 * The start of a client's last lockout: its first rate_limited refusal, or a later refusal once the
 * previous lockout had run out (5 minutes) or a gateway start had cleared it.
 */
function lockoutStart(rl: ConnFailure[], startTimes: readonly number[]): number {
  let start = NaN;
  for (const f of rl) {
    if (!Number.isFinite(f.ms)) continue;
    const cleared = Number.isFinite(start) && startTimes.some((t) => t > start && t <= f.ms);
    if (!Number.isFinite(start) || f.ms > start + RATE_LIMIT_LOCKOUT_MS || cleared) start = f.ms;
  }
  return start;
}

export const rateLimitRule: Rule = (ctx) => {
  const out: Finding[] = [];
  for (const c of ctx.corr.rateLimited) {
    const mine = ctx.corr.failures.filter((f) => f.clientKey === c.key);
    const rl = mine.filter((f) => f.authReason === 'rate_limited');
    const start = lockoutStart(rl, ctx.startTimes);
    const t = timing(ctx, rl, false);
    // The limiter lives in the gateway's memory: a gateway start after the last refusal ends the lockout.
    const restart = Number.isFinite(t.lastSeen) ? ctx.startTimes.find((s) => s > t.lastSeen && s <= ctx.now) : undefined;
    const until = restart !== undefined ? restart : Number.isFinite(start) ? start + RATE_LIMIT_LOCKOUT_MS : NaN;
    const locked = restart === undefined && Number.isFinite(until) && until > ctx.now;
    const current = locked || (restart === undefined && t.current);
    const who = clientLabel(c);
    const untilText = Number.isFinite(until) ? `${hhmmss(until)} UTC` : 'about 5 minutes after the last refusal';
    const over =
      restart !== undefined
        ? `the gateway restart at ${hhmmss(restart)} ended the lockout (the limiter is kept in memory)`
        : `the lockout ended at ${untilText}`;
    out.push(
      finding({
        cause: 'rate_limited',
        confidence: current ? 'high' : 'low',
        weight: current ? 78 : 48,
        summary: current
          ? `Auth rate limit: ${who} is locked out since ${hhmmss(start)} until ${untilText} (10 failed attempts in 60 s → 5 minutes); until then even the right token is refused`
          : `Auth rate limit hit by ${who} at ${hhmmss(start)}; ${over} (last refusal ${ago(t.lastSeen, ctx.now)})`,
        // That client's own lines: the failures that led to the lockout, then the refusals.
        evidence: [...sample(mine.filter((f) => f.authReason !== 'rate_limited'), 1), ...sample(rl, 3)],
        userActions: current
          ? [
              `Close the tab or stop the client${c.origin ? ` on ${c.origin}` : ''} that keeps sending the wrong token first (it re-arms the lock).`,
              `Retry after ${untilText}; a fresh link would be refused until then (AUTH_RATE_LIMITED), so clawmedic does not send one now.`,
            ]
          : [],
        since: start,
        lastSeen: t.lastSeen,
        current,
        supersededBy: restart !== undefined ? `a gateway restart at ${hhmmss(restart)}` : undefined,
        details: {
          ...(c.origin ? { origin: c.origin } : {}),
          ...(c.clientId ? { clientId: c.clientId } : {}),
          ...(locked ? { lockoutUntil: new Date(until).toISOString() } : {}),
        },
      }),
    );
  }
  return out;
};

/**
 * Real 2026.9.6: a device whose token was rotated (`openclaw devices rotate`, which withholds the new
 * token from the CLI) or revoked is refused until it connects once with the gateway token; the
 * gateway then issues it the current device token. A browser does that from a fresh dashboard link.
 */
const DEVICE_BROWSER_ACTION =
  'Open the fresh dashboard link clawmedic sends you privately in that browser: it connects once with the gateway token and the gateway issues the device a new device token.';
const DEVICE_OTHER_ACTION =
  'Connect the device once with the gateway token: the gateway then issues it a new device token. Or remove it on the host (`openclaw devices remove <deviceId>`, ids in `openclaw devices list`) and pair it again (`openclaw devices approve` for its request).';

export const deviceTokenRule: Rule = (ctx) => {
  const fs = ctx.corr.failures.filter((f) => f.authReason === 'device_token_mismatch');
  if (!fs.length) return null;
  const t = timing(ctx, fs);
  const keys = new Set(fs.map((f) => f.clientKey));
  const last = fs[fs.length - 1]!;
  const browser = last.kind === 'control_ui';
  // The host's own `openclaw devices rotate|revoke` before the failures: what made the token old.
  const change = [...ctx.windowEvents].reverse().find((e): e is DeviceTokenChangeEvent => e.kind === 'device_token_change' && e.ms <= t.lastSeen);
  const changeNote = change ? `; a device token was ${change.action} on the host at ${hhmmss(change.time)} (\`openclaw devices ${change.action === 'rotated' ? 'rotate' : 'revoke'}\`)` : '';
  const changeLines = change ? [`${hhmmss(change.time)} device token ${change.action} (device ${(change.deviceId ?? '?').slice(0, 8)}…, role ${change.role ?? '?'})`] : [];
  const who = keys.size === 1 ? ` (${clientLabel({ kind: last.kind, clientId: last.client.id, origin: last.origin, remote: last.remote })})` : '';
  return finding({
    cause: 'device_token_mismatch',
    confidence: t.confidence ?? 'high',
    weight: 80 - t.dampBy,
    summary: `${keys.size} paired device(s) present an old device token${who}${changeNote}${t.note}`,
    evidence: [...changeLines, ...sample(fs)],
    userActions: [browser ? DEVICE_BROWSER_ACTION : DEVICE_OTHER_ACTION],
    ...when(t),
    details: { ...(last.origin ? { origin: last.origin } : {}), ...(last.client.id ? { clientId: last.client.id } : {}) },
  });
};

const TOKEN = new Set(['token_mismatch', 'token_missing']);

interface Boundary {
  ms: number;
  time?: string;
  kind: 'rotation' | 'restore' | 'start' | 'change';
  reason?: string;
}

/** Gateway starts and config changes in the window, oldest first; a start right before its auto-restore is the restore. */
function boundaries(events: readonly LogEvent[]): Boundary[] {
  const out: Boundary[] = [];
  for (const e of events) {
    if (!Number.isFinite(e.ms)) continue;
    let b: Boundary | null = null;
    if (e.kind === 'starting') b = { ms: e.ms, time: e.time, kind: 'start' };
    else if (e.kind === 'config_autorestored') b = { ms: e.ms, time: e.time, kind: 'restore', reason: e.reason };
    else if (e.kind === 'reload' && e.phase !== 'other') b = { ms: e.ms, time: e.time, kind: e.keys.includes('gateway.auth.token') ? 'rotation' : 'change' };
    else if (e.kind === 'webchat_disconnected' && e.code === 4001) b = { ms: e.ms, time: e.time, kind: 'rotation' };
    if (!b) continue;
    const prev = out[out.length - 1];
    // 2026.9 logs the auto-restore while loading, seconds before `loading configuration…`: one event.
    if (prev && prev.kind === 'restore' && b.kind === 'start' && b.ms - prev.ms <= 60_000) continue;
    // One change logs several lines within seconds (detected/applied/4001, start/restored): keep the first, strongest kind.
    if (prev && b.ms - prev.ms <= 10_000 && (prev.kind === b.kind || prev.kind === 'start' || b.kind === 'change' || (prev.kind === 'rotation' && b.kind !== 'restore'))) {
      if (prev.kind === 'start' && b.kind !== 'start') Object.assign(prev, { kind: b.kind, reason: b.reason });
      continue;
    }
    out.push(b);
  }
  return out;
}

function describe(b: Boundary): string {
  if (b.kind === 'start') return `a gateway restart at ${hhmmss(b.time ?? b.ms)}`;
  if (b.kind === 'restore') return `a config auto-restore at ${hhmmss(b.time ?? b.ms)}`;
  if (b.kind === 'rotation') return `a token change at ${hhmmss(b.time ?? b.ms)}`;
  return `a config change at ${hhmmss(b.time ?? b.ms)}`;
}

export const tokenRule: Rule = (ctx) => {
  const out: Finding[] = [];
  const gs = ctx.gs;
  const probeAuthRejected = gs?.probeAuthRejected === true;
  const tokenFails = ctx.corr.failures.filter((f) => f.authReason !== undefined && TOKEN.has(f.authReason));
  const serviceOverride = ctx.svc?.tokenOverride === true || gs?.serviceTokenOverride === true;

  const bs = boundaries(ctx.windowEvents);
  // Earlier phases: a rotation or restore whose failures stopped at the next restart/change.
  for (let i = 0; i < bs.length; i++) {
    const f = phaseFinding(ctx, bs, i, tokenFails);
    if (f) out.push(f);
  }

  // The current phase: failures since the last start/change that was not itself a rotation or restore.
  const last = bs[bs.length - 1];
  const explained = last && (last.kind === 'rotation' || last.kind === 'restore');
  const phase = last ? tokenFails.filter((f) => !(f.ms < last.ms)) : tokenFails;

  // The running gateway refuses the host's own probe, which uses the config token: the gateway was
  // started with another token (`gateway run --token X`, a service that passes --token).
  if (probeAuthRejected || (serviceOverride && phase.length > 0)) {
    out.push(overrideFinding(ctx, phase, serviceOverride));
    return out;
  }
  if (explained || phase.length === 0) return out;
  out.push(configTokenFinding(ctx, phase));
  return out;
};

/** The finding of the phase that boundary `i` opens, when it is a rotation or restore that clients failed after. */
function phaseFinding(ctx: RuleContext, bs: Boundary[], i: number, tokenFails: ConnFailure[]): Finding | null {
  const b = bs[i]!;
  if (b.kind !== 'rotation' && b.kind !== 'restore') return null;
  const next = bs[i + 1];
  const fs = tokenFails.filter((f) => !(f.ms < b.ms) && (next === undefined || !(f.ms >= next.ms)));
  if (fs.length === 0 && !(b.kind === 'rotation' && next === undefined && ctx.windowEvents.some((e) => e.kind === 'webchat_disconnected' && e.code === 4001 && e.ms >= b.ms))) return null;
  const superseded = next ? describe(next) : undefined;
  const t = timing(ctx, fs, false);
  const current = !superseded && t.current;
  const damp = current ? 0 : 30;
  const conf: Confidence = current ? 'high' : 'low';
  const note = current ? '' : superseded ? ` (over since ${superseded})` : t.note;
  const clients = new Set(fs.map((f) => f.clientKey)).size;
  if (b.kind === 'restore') {
    return finding({
      cause: 'config_autorestored',
      confidence: conf,
      weight: 86 - damp,
      summary: `The config was auto-restored from a backup (${b.reason ?? 'reason not logged'}) and ${clients} client(s) now fail with a token mismatch: the backup carried another gateway token${note}`,
      evidence: [`${hhmmss(b.time ?? b.ms)} Config auto-restored from backup (${b.reason ?? '?'})`, ...sample(fs, 4)],
      userActions: [FRESH_LINK, 'Check that the restored config is the one you want (openclaw.json.clobbered.* holds the replaced copy).'],
      since: b.ms,
      lastSeen: t.lastSeen,
      current,
      supersededBy: superseded,
      details: { tokenSource: 'restore' },
    });
  }
  const disc = ctx.windowEvents.filter((e) => e.kind === 'webchat_disconnected' && e.code === 4001 && e.ms >= b.ms && (next === undefined || e.ms < next.ms)).length;
  return finding({
    cause: 'token_rotated',
    confidence: conf,
    weight: 85 - damp,
    summary: `The gateway token was rotated at ${hhmmss(b.time ?? b.ms)}; ${clients} client(s) still use the old one (${fs.length} failures since)${note}`,
    evidence: [
      `${hhmmss(b.time ?? b.ms)} gateway auth changed${disc ? `: ${disc} connection(s) closed with 4001` : ' (config hot reload of gateway.auth.token)'}`,
      ...sample(fs, 4),
    ],
    userActions: [FRESH_LINK, 'Remote CLIs: set gateway.remote.token to the new gateway.auth.token.'],
    since: b.ms,
    lastSeen: t.lastSeen,
    current,
    supersededBy: superseded,
    details: { tokenSource: 'rotation' },
  });
}

/** The gateway runs with a `--token` override: its own probe (config token) or the clients holding the config token are refused. */
function overrideFinding(ctx: RuleContext, phase: ConnFailure[], serviceOverride: boolean): Finding {
  const gs = ctx.gs;
  const probeAuthRejected = gs?.probeAuthRejected === true;
  const probeLine = probeAuthRejected
    ? `host probe with the config token: ${probeErrorLine(gs?.probeError) || 'auth rejected'}${gs?.probeDetailCode ? ` (${gs.probeDetailCode})` : ''}`
    : '';
  const t = timing(ctx, phase, false);
  const ev = [
    serviceOverride ? `${TOKEN_OVERRIDE_EVIDENCE} (its value is never read): it overrides gateway.auth.token` : '',
    probeLine,
    phase.length ? `${new Set(phase.map((f) => f.clientKey)).size} client(s) holding the config token refused, last at ${hhmmss(t.lastSeen)}` : '',
    ...sample(phase, 3),
  ];
  return finding({
    cause: 'token_mismatch',
    confidence: probeAuthRejected || serviceOverride ? 'high' : 'medium',
    weight: 88,
    summary: serviceOverride
      ? 'The gateway service is started with a --token that overrides the configured token, so clients holding the config token are refused'
      : 'The running gateway uses another token than its config: it was started with an override (`--token`), so the host\'s own probe and clients holding the config token are refused',
    evidence: ev,
    userActions: [],
    since: t.since,
    lastSeen: t.lastSeen,
    current: true,
    details: { tokenSource: serviceOverride ? 'service_override' : 'override' },
  });
}

/** Clients present a token the config does not hold: several clients (token_mismatch), or exactly one (a stale tab/device). */
function configTokenFinding(ctx: RuleContext, phase: ConnFailure[]): Finding {
  const t = timing(ctx, phase);
  const clients = [...new Set(phase.map((f) => f.clientKey))];
  if (clients.length >= 2) {
    return finding({
      cause: 'token_mismatch',
      confidence: t.confidence ?? (clients.length >= 3 ? 'high' : 'medium'),
      weight: 80 - t.dampBy,
      summary: `${clients.length} client(s) present a gateway token that does not match gateway.auth.token${t.note}`,
      evidence: [
        ...ctx.corr.clients.filter((c) => clients.includes(c.key)).slice(0, 3).map((c) => `${clientLabel(c)}: ${c.failures} failure(s)`),
        ...sample(phase, 3),
      ],
      userActions: [FRESH_LINK, 'Remote CLIs: set gateway.remote.token to match gateway.auth.token.'],
      ...when(t),
      details: { tokenSource: 'config' },
    });
  }
  // Exactly one client fails and the host's own probe is fine: a stale tab/device. No restart.
  const client = ctx.corr.clients.find((c) => c.key === clients[0])!;
  const cadence = client.medianGapSec !== undefined ? `, every ~${Math.round(Math.min(client.maxGapSec ?? 0, 15) || client.medianGapSec)} s` : '';
  return finding({
    cause: 'stale_client',
    confidence: t.confidence ?? (client.looping || ctx.probeOk ? 'high' : 'medium'),
    weight: 75 - t.dampBy,
    summary: `One ${clientLabel(client)} keeps presenting an old gateway token (${phase.length} failures${cadence}); the gateway itself is fine${t.note}`,
    evidence: [
      `${clientLabel(client)}: ${phase.length} failure(s)${client.looping ? ', reconnecting with backoff (stale tab loop)' : ''}`,
      ctx.probeOk ? 'host probe: ok (the gateway accepts the current token)' : '',
      ...sample(phase, 4),
    ],
    userActions: [FRESH_LINK],
    ...when(t),
    details: { tokenSource: 'config', ...(client.origin ? { origin: client.origin } : {}), ...(client.clientId ? { clientId: client.clientId } : {}) },
  });
}
