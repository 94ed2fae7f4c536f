/**
 * Builders of the typed log events: one per kind of line the classifier recognised, reading that
 * line's fields (conn id, client, reason, plugin, pid, …).
 */
import type { LogEvent, LoggedClient } from './evidence-types.js';
import {
  F_AUTH,
  F_AUTHREASON,
  F_CAUSE,
  F_CLIENT,
  F_CODE,
  F_CONN,
  F_DEVICE,
  F_HASDEVICEIDENTITY,
  F_MODE,
  F_ORIGIN,
  F_PHASE,
  F_REASON,
  F_REMOTE,
  F_VERSION,
  J_AUTHREASON,
  J_CAUSE,
  J_CLIENT,
  J_HASDEVICEIDENTITY,
  J_MODE,
  J_PHASE,
  J_VERSION,
  base,
  field,
  jsonField,
  naToUndef,
  simple,
  splitClient,
} from './log-fields.js';

export function unauthorized(body: string, time: string | undefined): LogEvent | null {
  const conn = field(body, F_CONN);
  if (!conn) return null;
  const dev = field(body, F_DEVICE);
  return {
    kind: 'unauthorized',
    ...base(body, time),
    conn,
    reason: field(body, F_REASON) ?? 'unknown',
    client: splitClient(field(body, F_CLIENT)),
    origin: naToUndef(field(body, F_ORIGIN)),
    remote: naToUndef(field(body, F_REMOTE)),
    auth: field(body, F_AUTH),
    device: dev === undefined ? undefined : dev === 'yes',
  };
}

export function closedBeforeConnect(body: string, time: string | undefined, json: string | undefined): LogEvent | null {
  const conn = field(body, F_CONN);
  if (!conn) return null;
  // Every field we still need comes after ` code=`: search from there (lines are ~1.5 KB).
  const at = Math.max(0, body.indexOf(F_CODE));
  const code = Number(field(body, F_CODE, at));
  // The 2026.9 text line carries everything; 2026.4 text lacks phase/cause/authReason, which the
  // file log keeps in the structured field "1" (read from the raw JSON line).
  let cause = field(body, F_CAUSE, at);
  let phase = field(body, F_PHASE, at);
  let authReason = field(body, F_AUTHREASON, at);
  let clientId = field(body, F_CLIENT, at);
  let mode = field(body, F_MODE, at);
  let version = field(body, F_VERSION, at);
  let hasDev = field(body, F_HASDEVICEIDENTITY, at);
  if (json !== undefined) {
    const meta = json.indexOf('"_meta"');
    const head = meta > 0 ? json.slice(0, meta) : json;
    cause ??= jsonField(head, J_CAUSE);
    phase ??= jsonField(head, J_PHASE);
    authReason ??= jsonField(head, J_AUTHREASON);
    clientId ??= jsonField(head, J_CLIENT);
    mode ??= jsonField(head, J_MODE);
    version ??= jsonField(head, J_VERSION);
    hasDev ??= jsonField(head, J_HASDEVICEIDENTITY);
  }
  const client: LoggedClient = {};
  if (clientId) client.id = clientId;
  if (mode) client.mode = mode;
  if (version) client.version = version;
  return {
    kind: 'closed_before_connect',
    ...base(body, time),
    conn,
    code: Number.isFinite(code) ? code : 0,
    reason: field(body, F_REASON, at) ?? '',
    cause,
    phase,
    authReason,
    origin: naToUndef(field(body, F_ORIGIN)),
    remote: naToUndef(field(body, F_REMOTE)),
    client,
    hasDeviceIdentity: hasDev === undefined ? undefined : hasDev === 'true',
  };
}

export function webchatConnected(body: string, time: string | undefined): LogEvent | null {
  const conn = field(body, F_CONN);
  if (!conn) return null;
  return {
    kind: 'webchat_connected',
    ...base(body, time),
    conn,
    remote: naToUndef(field(body, F_REMOTE)),
    origin: naToUndef(field(body, F_ORIGIN)),
    client: splitClient(field(body, F_CLIENT)),
  };
}

export function deviceTokenChange(body: string, time: string | undefined, action: 'rotated' | 'revoked'): LogEvent {
  return { kind: 'device_token_change', ...base(body, time), action, deviceId: field(body, F_DEVICE), role: field(body, ' role=') };
}

export function webchatDisconnected(body: string, time: string | undefined): LogEvent | null {
  const conn = field(body, F_CONN);
  if (!conn) return null;
  const code = Number(field(body, F_CODE));
  return {
    kind: 'webchat_disconnected',
    ...base(body, time),
    conn,
    code: Number.isFinite(code) ? code : 0,
    reason: field(body, F_REASON) ?? '',
  };
}

export function reload(body: string, time: string | undefined, phase: 'detected' | 'applied'): LogEvent {
  const open = body.lastIndexOf('(');
  const close = body.lastIndexOf(')');
  const keys = open >= 0 && close > open ? body.slice(open + 1, close).split(/,\s*/).filter(Boolean) : [];
  return { kind: 'reload', ...base(body, time), phase, keys };
}

export function autoRestored(body: string, time: string | undefined): LogEvent {
  const m = /backup:\s*(\S+)\s*\(([^)]*)\)/.exec(body);
  return { kind: 'config_autorestored', ...base(body, time), path: m?.[1], reason: m?.[2] };
}

export function startFailed(body: string, time: string | undefined): LogEvent {
  if (body.includes('StateDatabaseCoordinatorContentionError')) return simple('second_gateway', body, time);
  if (body.includes('EADDRINUSE') || body.includes('already listening')) return portConflict(body, time);
  return { kind: 'start_failed', ...base(body, time), detail: body.slice(24, 24 + 300).trim() };
}

export function portConflict(body: string, time: string | undefined): LogEvent {
  const m = /:(\d{2,5})\b/.exec(body.slice(body.indexOf('listen')));
  const port = m ? Number(m[1]) : undefined;
  return { kind: 'port_conflict', ...base(body, time), port };
}

const PLUGIN_FROM_RE = /^(\S+) failed (?:during load|to load|to stage bundled runtime deps)(?: from ([^:]+))?[^:]*: ?(.*)$/;
const PLUGIN_GATEWAY_RE = /^(?:plugin failed during load|failed to load plugin|failed to install bundled runtime deps): (.*?) \(plugin=([^,)\s]+)(?:, source=([^)]*))?\)/;

export function pluginFailure(body: string, time: string | undefined): LogEvent | null {
  if (!body.includes('fail')) return null;
  let m = PLUGIN_GATEWAY_RE.exec(body);
  if (m) return { kind: 'plugin_failure', ...base(body, time), plugin: m[2]!, error: m[1]!.slice(0, 300), source: m[3] };
  m = PLUGIN_FROM_RE.exec(body);
  if (m && !/^\d/.test(m[1]!)) {
    let error = m[3] ?? '';
    if (body.includes('failed to stage bundled runtime deps')) error = 'failed to stage bundled runtime deps';
    return { kind: 'plugin_failure', ...base(body, time), plugin: m[1]!, error: error.slice(0, 300), source: m[2] };
  }
  return null;
}

export function kernelOom(body: string, time: string | undefined): LogEvent {
  const m = /Killed process (\d+) \(([^)]*)\)/.exec(body);
  const proc = m?.[2];
  return {
    kind: 'kernel_oom',
    ...base(body, time),
    pid: m ? Number(m[1]) : undefined,
    process: proc,
    openclaw: proc ? /openclaw|node/i.test(proc) : false,
  };
}
