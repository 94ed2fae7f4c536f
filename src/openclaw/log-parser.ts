/**
 * Fast line parser for OpenClaw gateway logs in every form clawmedic reads: the tslog JSON file
 * log (`/tmp/openclaw/openclaw-YYYY-MM-DD.log`), gateway stdout, the systemd journal, `docker logs`
 * and kernel lines. It turns the few lines that matter into typed events and skips the rest cheaply.
 */
import type { LogEvent } from './evidence-types.js';
import {
  autoRestored,
  closedBeforeConnect,
  deviceTokenChange,
  kernelOom,
  pluginFailure,
  portConflict,
  reload,
  startFailed,
  unauthorized,
  webchatConnected,
  webchatDisconnected,
} from './log-events.js';
import { readJsonString, simple } from './log-fields.js';

export { parseTime } from './log-fields.js';

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
    case 100 /* d */:
      if (body.startsWith('device token rotated ')) return deviceTokenChange(body, time, 'rotated');
      if (body.startsWith('device token revoked ')) return deviceTokenChange(body, time, 'revoked');
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
