/**
 * Field readers for gateway log lines, shared by the line parser and the event builders: the field
 * patterns, a JSON string/field reader that works by position (no JSON.parse on 2-3 KB lines), the
 * ` key=value` reader of text lines, and the common event base (time, epoch ms, capped text).
 */
import type { LogEvent, LoggedClient } from './evidence-types.js';

const TEXT_CAP = 600;

// Field patterns of the structured JSON field "1".
export const J_CAUSE = '"cause":';
export const J_PHASE = '"phase":';
export const J_AUTHREASON = '"authReason":';
export const J_CLIENT = '"client":';
export const J_MODE = '"mode":';
export const J_VERSION = '"version":';
export const J_HASDEVICEIDENTITY = '"hasDeviceIdentity":';
// Field patterns of gateway text lines (` key=value`).
export const F_AUTH = ' auth=';
export const F_AUTHREASON = ' authReason=';
export const F_CAUSE = ' cause=';
export const F_CLIENT = ' client=';
export const F_CODE = ' code=';
export const F_CONN = ' conn=';
export const F_DEVICE = ' device=';
export const F_HASDEVICEIDENTITY = ' hasDeviceIdentity=';
export const F_MODE = ' mode=';
export const F_ORIGIN = ' origin=';
export const F_PHASE = ' phase=';
export const F_REASON = ' reason=';
export const F_REMOTE = ' remote=';
export const F_VERSION = ' version=';

/** Read a JSON string value starting right after its opening quote; unescape only when needed. */
export function readJsonString(s: string, start: number): string | undefined {
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
export function jsonField(line: string, pat: string): string | undefined {
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

export function base(text: string, time: string | undefined): { time?: string; ms: number; text: string } {
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

export function simple<K extends 'ready' | 'starting' | 'heap_oom' | 'telegram_conflict' | 'mode_blocked' | 'shutdown' | 'second_gateway'>(
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
export function field(s: string, pat: string, from = 0): string | undefined {
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

export function naToUndef(v: string | undefined): string | undefined {
  return v === undefined || v === 'n/a' || v === '' ? undefined : v;
}

/** `client=webchat-ui webchat v2026.9.6` → {id, mode, version}. */
export function splitClient(v: string | undefined): LoggedClient {
  if (!v) return {};
  const parts = v.split(' ');
  const c: LoggedClient = { id: parts[0] };
  if (parts[1]) c.mode = parts[1];
  if (parts[2]) c.version = parts[2].startsWith('v') ? parts[2].slice(1) : parts[2];
  return c;
}
