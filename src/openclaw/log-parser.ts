/**
 * Fast line parser for OpenClaw gateway logs in every form clawmedic reads: the tslog JSON file
 * log (`/tmp/openclaw/openclaw-YYYY-MM-DD.log`), gateway stdout, the systemd journal, `docker logs`
 * and kernel lines. It turns the few lines that matter into typed events and skips the rest cheaply.
 */
import type { LogEvent, LoggedClient } from './evidence-types.js';

const TEXT_CAP = 600;

// Field patterns of the structured JSON field "1".
const J_CAUSE = '"cause":';
const J_PHASE = '"phase":';
const J_AUTHREASON = '"authReason":';
const J_CLIENT = '"client":';
const J_MODE = '"mode":';
const J_VERSION = '"version":';
const J_HASDEVICEIDENTITY = '"hasDeviceIdentity":';
// Field patterns of gateway text lines (` key=value`).
const F_AUTH = ' auth=';
const F_AUTHREASON = ' authReason=';
const F_CAUSE = ' cause=';
const F_CLIENT = ' client=';
const F_CODE = ' code=';
const F_CONN = ' conn=';
const F_DEVICE = ' device=';
const F_HASDEVICEIDENTITY = ' hasDeviceIdentity=';
const F_MODE = ' mode=';
const F_ORIGIN = ' origin=';
const F_PHASE = ' phase=';
const F_REASON = ' reason=';
const F_REMOTE = ' remote=';
const F_VERSION = ' version=';

/** Parse one log line (any supported form) into a typed event, or null when it is not one we care about. */
export function parseLogLine(line: string): LogEvent | null {
  if (line.length < 6) return null;
  if (line.charCodeAt(0) === 123 /* { */) return parseJsonLine(line);
  return parseTextLine(line);
}

/** Parse a whole log text (lines separated by \n) into events, oldest first as in the input. */
export function parseLog(text: string): LogEvent[] {
  const out: LogEvent[] = [];
  let start = 0;
  const len = text.length;
  while (start < len) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = len;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 13 /* \r */) stop--;
    if (stop - start >= 6) {
      const ev = parseLogLine(text.slice(start, stop));
      if (ev) out.push(ev);
    }
    start = end + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON (tslog) lines: read `message` and `time` by position instead of JSON.parse, which is ~10x
// slower on the 2-3 KB lines the gateway writes for every rejected connect.

function parseJsonLine(line: string): LogEvent | null {
  const mi = line.lastIndexOf('"message":"');
  let text: string | undefined;
  if (mi >= 0) {
    text = readJsonString(line, mi + 11);
  } else {
    // Rare: no top-level message; fall back to the positional "0"/"1" fields.
    const zi = line.indexOf('"0":"');
    if (zi >= 0) text = readJsonString(line, zi + 5);
  }
  if (text === undefined || text.length === 0) return null;
  const ti = line.lastIndexOf('"time":"');
  let time: string | undefined;
  if (ti >= 0) {
    const te = line.indexOf('"', ti + 8);
    if (te > ti) time = line.slice(ti + 8, te);
  }
  return classify(text, time, line);
}

/** Read a JSON string value starting right after its opening quote; unescape only when needed. */
function readJsonString(s: string, start: number): string | undefined {
  let i = start;
  for (;;) {
    const q = s.indexOf('"', i);
    if (q < 0) return undefined;
    let bs = 0;
    let k = q - 1;
    while (k >= start && s.charCodeAt(k) === 92 /* \ */) {
      bs++;
      k--;
    }
    if (bs % 2 === 0) {
      const raw = s.slice(start, q);
      if (raw.indexOf('\\') < 0) return raw;
      try {
        return JSON.parse(`"${raw}"`) as string;
      } catch {
        return raw;
      }
    }
    i = q + 1;
  }
}

/** Value of a JSON field `"key":"value"` or `"key":true|number` inside the raw line (first occurrence). */
function jsonField(line: string, pat: string): string | undefined {
  // `pat` is '"key":' (precomputed).
  const i = line.indexOf(pat);
  if (i < 0) return undefined;
  const v = i + pat.length;
  if (line.charCodeAt(v) === 34 /* " */) return readJsonString(line, v + 1);
  let e = v;
  while (e < line.length) {
    const c = line.charCodeAt(e);
    if (c === 44 /* , */ || c === 125 /* } */) break;
    e++;
  }
  return line.slice(v, e);
}

// ---------------------------------------------------------------------------------------------
// Text lines: `<iso> [tag] message`, possibly behind a journal prefix (`<iso> host ident[pid]: `)
// or a docker --timestamps prefix, or a dmesg `[ 123.456]` stamp.

function isIsoAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return (
    c >= 48 &&
    c <= 57 &&
    s.charCodeAt(i + 4) === 45 /* - */ &&
    s.charCodeAt(i + 7) === 45 &&
    s.charCodeAt(i + 10) === 84 /* T */
  );
}

function parseTextLine(line: string): LogEvent | null {
  let pos = 0;
  let time: string | undefined;
  for (let round = 0; round < 3; round++) {
    if (isIsoAt(line, pos)) {
      const sp = line.indexOf(' ', pos);
      if (sp < 0) return null;
      time = line.slice(pos, sp);
      pos = sp + 1;
      continue;
    }
    if (round < 2 && line.charCodeAt(pos) !== 91 /* [ */) {
      // journal/syslog prefix "host ident[pid]: " before the gateway's own text
      const j = line.indexOf(']: ', pos);
      if (j > 0 && j - pos < 120 && line.charCodeAt(j - 1) >= 48 && line.charCodeAt(j - 1) <= 57) {
        pos = j + 3;
        continue;
      }
    }
    break;
  }
  const body = pos === 0 ? line : line.slice(pos);
  return classify(body, time, undefined);
}

// ---------------------------------------------------------------------------------------------
// Classification of the message text, shared by both forms.

function classify(raw: string, time: string | undefined, json: string | undefined): LogEvent | null {
  // Strip leading [tag] groups: "[gateway] [plugins] plugin failed…", "[ws] unauthorized…", "[ 12.3] Out of memory…"
  let body = raw;
  let tag = '';
  for (let n = 0; n < 3 && body.charCodeAt(0) === 91 /* [ */; n++) {
    const close = body.indexOf('] ');
    if (close < 0 || close > 40) break;
    if (n === 0) tag = body.slice(1, close);
    else if (tag === 'gateway') tag = body.slice(1, close); // "[gateway] [plugins]" → plugins
    body = body.slice(close + 2);
  }
  const c0 = body.charCodeAt(0);
  switch (c0) {
    case 117 /* u */:
      if (body.startsWith('unauthorized conn=')) return unauthorized(body, time);
      break;
    case 99 /* c */:
      if (body.startsWith('closed before connect ')) return closedBeforeConnect(body, time, json);
      if (body.startsWith('config change detected')) return reload(body, time, 'detected');
      if (body.startsWith('config hot reload applied')) return reload(body, time, 'applied');
      if (tag === 'shutdown' && body.startsWith('completed cleanly')) return simple('shutdown', body, time, { phase: 'completed' });
      break;
    case 119 /* w */:
      if (body.startsWith('webchat disconnected ')) return webchatDisconnected(body, time);
      if (body.startsWith('webchat connected ')) return webchatConnected(body, time);
      break;
    case 114 /* r */:
      if (tag === 'gateway' && body === 'ready') return simple('ready', body, time);
      if (body.startsWith('received SIG')) return simple('shutdown', body, time, { phase: 'sigterm' });
      break;
    case 103 /* g */:
      if (body === 'gateway ready') return simple('ready', body, time);
      if (body.startsWith('gateway received SIG')) return simple('shutdown', body, time, { phase: 'sigterm' });
      break;
    case 108 /* l */:
      if (body.startsWith('loading configuration') && (tag === 'gateway' || json !== undefined)) {
        return simple('starting', body, time);
      }
      break;
    case 115 /* s */:
      if (body.startsWith('shutdown completed cleanly')) return simple('shutdown', body, time, { phase: 'completed' });
      break;
    case 67 /* C */:
      if (body.startsWith('Config auto-restored from backup')) return autoRestored(body, time);
      break;
    case 71 /* G */:
      if (body.startsWith('Gateway failed to start:')) return startFailed(body, time);
      if (body.startsWith('Gateway start blocked')) return simple('mode_blocked', body, time);
      break;
    case 70 /* F */:
      if (body.startsWith('FATAL ERROR') && body.includes('heap')) return simple('heap_oom', body, time);
      break;
    default:
      break;
  }
  // Rarer forms, matched on the (short) remaining body only.
  if (tag === 'plugins' || body.includes('plugin')) {
    const p = pluginFailure(body, time);
    if (p) return p;
  }
  if (body.includes('Killed process')) return kernelOom(body, time);
  if (body.includes('heap out of memory')) return simple('heap_oom', body, time);
  if (body.includes('409') && (body.includes('getUpdates') || body.includes('Conflict'))) {
    return simple('telegram_conflict', body, time);
  }
  if (body.includes('EADDRINUSE')) return portConflict(body, time);
  if (body.includes('received SIGTERM')) return simple('shutdown', body, time, { phase: 'sigterm' });
  return null;
}

function base(text: string, time: string | undefined): { time?: string; ms: number; text: string } {
  return { time, ms: time ? parseTime(time) : NaN, text: text.length > TEXT_CAP ? text.slice(0, TEXT_CAP) : text };
}

/** Epoch ms of a logged time; accepts `+0000` offsets and `,` fractions (journal, dmesg). */
export function parseTime(t: string): number {
  let ms = Date.parse(t);
  if (!Number.isNaN(ms)) return ms;
  let s = t.replace(',', '.');
  if (/[+-]\d{4}$/.test(s)) s = `${s.slice(0, -2)}:${s.slice(-2)}`;
  ms = Date.parse(s);
  return ms;
}

function simple<K extends 'ready' | 'starting' | 'heap_oom' | 'telegram_conflict' | 'mode_blocked' | 'shutdown' | 'second_gateway'>(
  kind: K,
  body: string,
  time: string | undefined,
  extra?: Record<string, unknown>,
): LogEvent {
  return { kind, ...base(body, time), ...(extra ?? {}) } as LogEvent;
}

function isIdentChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

/**
 * Value of ` key=` in a gateway text line. Values may hold spaces (`reason=connect failed`,
 * `client=webchat-ui webchat v2026.9.6`), so a value ends where the next ` ident=` starts.
 */
function field(s: string, pat: string, from = 0): string | undefined {
  // `pat` is " key=" (precomputed: building it per call costs more than the search).
  const i = s.indexOf(pat, from);
  if (i < 0) return undefined;
  const start = i + pat.length;
  let j = start;
  const len = s.length;
  for (;;) {
    const sp = s.indexOf(' ', j);
    if (sp < 0) return s.slice(start);
    let p = sp + 1;
    while (p < len && isIdentChar(s.charCodeAt(p))) p++;
    if (p > sp + 1 && s.charCodeAt(p) === 61 /* = */) return s.slice(start, sp);
    j = sp + 1;
  }
}

function naToUndef(v: string | undefined): string | undefined {
  return v === undefined || v === 'n/a' || v === '' ? undefined : v;
}

/** `client=webchat-ui webchat v2026.9.6` → {id, mode, version}. */
function splitClient(v: string | undefined): LoggedClient {
  if (!v) return {};
  const parts = v.split(' ');
  const c: LoggedClient = { id: parts[0] };
  if (parts[1]) c.mode = parts[1];
  if (parts[2]) c.version = parts[2].startsWith('v') ? parts[2].slice(1) : parts[2];
  return c;
}

function unauthorized(body: string, time: string | undefined): LogEvent | null {
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

function closedBeforeConnect(body: string, time: string | undefined, json: string | undefined): LogEvent | null {
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

function webchatConnected(body: string, time: string | undefined): LogEvent | null {
  const conn = field(body, F_CONN);
  if (!conn) return null;
  return {
    kind: 'webchat_connected',
    ...base(body, time),
    conn,
    remote: naToUndef(field(body, F_REMOTE)),
    client: splitClient(field(body, F_CLIENT)),
  };
}

function webchatDisconnected(body: string, time: string | undefined): LogEvent | null {
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

function reload(body: string, time: string | undefined, phase: 'detected' | 'applied'): LogEvent {
  const open = body.lastIndexOf('(');
  const close = body.lastIndexOf(')');
  const keys = open >= 0 && close > open ? body.slice(open + 1, close).split(/,\s*/).filter(Boolean) : [];
  return { kind: 'reload', ...base(body, time), phase, keys };
}

function autoRestored(body: string, time: string | undefined): LogEvent {
  const m = /backup:\s*(\S+)\s*\(([^)]*)\)/.exec(body);
  return { kind: 'config_autorestored', ...base(body, time), path: m?.[1], reason: m?.[2] };
}

function startFailed(body: string, time: string | undefined): LogEvent {
  if (body.includes('StateDatabaseCoordinatorContentionError')) return simple('second_gateway', body, time);
  if (body.includes('EADDRINUSE') || body.includes('already listening')) return portConflict(body, time);
  return { kind: 'start_failed', ...base(body, time), detail: body.slice(24, 24 + 300).trim() };
}

function portConflict(body: string, time: string | undefined): LogEvent {
  const m = /:(\d{2,5})\b/.exec(body.slice(body.indexOf('listen')));
  const port = m ? Number(m[1]) : undefined;
  return { kind: 'port_conflict', ...base(body, time), port };
}

const PLUGIN_FROM_RE = /^(\S+) failed (?:during load|to load|to stage bundled runtime deps)(?: from ([^:]+))?[^:]*: ?(.*)$/;
const PLUGIN_GATEWAY_RE = /^(?:plugin failed during load|failed to load plugin|failed to install bundled runtime deps): (.*?) \(plugin=([^,)\s]+)(?:, source=([^)]*))?\)/;

function pluginFailure(body: string, time: string | undefined): LogEvent | null {
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

function kernelOom(body: string, time: string | undefined): LogEvent {
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
