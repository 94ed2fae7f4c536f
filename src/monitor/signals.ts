/**
 * Turns the typed events of a live gateway log into incident signals, one per failure, using the
 * same parser and 4008 ↔ 1008 correlation as /diagnose. Pure and stateful per host (no I/O).
 */
import type { Cause } from '../domain/diagnosis.js';
import { connKey } from '../domain/incident.js';
import { correlate, type ConnFailure } from '../openclaw/correlate.js';
import type { LogEvent } from '../openclaw/evidence-types.js';
import { detach } from '../util/detach.js';
import { redact } from '../util/redact.js';
import { MONITOR_DEFAULTS } from '../constants.js';

/** One observation that counts towards an incident of `family` on a host. */
export interface Signal {
  /** The cause that keys the incident (host + family = one incident). */
  family: Cause;
  /** The cause this single event points to (the incident refines it with all its events). */
  cause: Cause;
  /** When it happened, epoch ms (the log's own time, else when we read it). */
  at: number;
  /** Who failed ("origin|client id"), for counting distinct clients. */
  clientKey?: string;
  /** Connection id as a number ({@link connKey}): the same failure read twice (replay after a reconnect) is counted once. */
  dedupe?: number;
  /** One short, redacted evidence line. */
  evidence: string;
  /** A token rotation / config auto-restore was seen shortly before this token failure. */
  mark?: 'rotation' | 'autorestore';
}

const TOKEN_REASONS = new Set(['token_mismatch', 'token_missing', 'token_missing_config']);
/** A rotation or auto-restore explains token failures that follow it within this long. */
const MARK_WINDOW_MS = 30 * 60_000;
/** Allowed clock skew of the host's log time ahead of ours. */
const FUTURE_SKEW_MS = 60_000;
const MAX_CONNS = 2000;

function clip(s: string, n = 220): string {
  const r = redact(s.replace(/\s+/g, ' ').trim());
  return r.length > n ? `${r.slice(0, n - 1)}…` : r;
}

function hhmmss(time: string | undefined, ms: number): string {
  const m = time ? /T(\d\d:\d\d:\d\d)/.exec(time) : null;
  if (m) return m[1]!;
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 19) : '--:--:--';
}

function failureFamily(f: ConnFailure): Cause {
  const reason = f.authReason ?? '';
  if (TOKEN_REASONS.has(reason)) return 'token_mismatch';
  if (reason === 'device_token_mismatch') return 'device_token_mismatch';
  if (reason === 'rate_limited') return 'rate_limited';
  if (f.cause === 'control-ui-insecure-auth' || /device identity/i.test(f.closeReason)) return 'insecure_context';
  if (f.cause === 'origin-mismatch' || /origin not allowed/i.test(f.closeReason)) return 'origin_not_allowed';
  return 'unknown';
}

function failureEvidence(f: ConnFailure): string {
  const who = [f.client.id, f.client.mode].filter(Boolean).join(' ') || f.kind;
  const why = f.authReason ?? f.cause ?? 'reason not logged';
  const where = f.origin ? `origin ${f.origin}` : f.remote ? `remote ${f.remote}` : 'origin unknown';
  return clip(`${hhmmss(f.time, f.ms)} code=${f.code} (${f.closeReason}) ← gateway: ${why}; client ${who}, ${where}, conn ${f.conn.slice(0, 8)}`);
}

/**
 * Per-host extractor. Feed events oldest first; each closing line (4008/1008) is joined with the
 * `unauthorized` / `webchat connected` lines seen earlier for its conn, exactly as correlate() does.
 */
export class SignalExtractor {
  private readonly conns = new Map<string, { events: LogEvent[]; seen: number }>();
  private rotationAt = -Infinity;
  private autoRestoreAt = -Infinity;

  /** Signals of one event; `receivedAt` stands in for a missing or implausible log time. */
  ingest(e: LogEvent, receivedAt: number): Signal[] {
    const at = Number.isFinite(e.ms) && e.ms <= receivedAt + FUTURE_SKEW_MS ? e.ms : receivedAt;
    switch (e.kind) {
      case 'unauthorized':
      case 'webchat_connected':
        this.remember(e.conn, e, receivedAt);
        return [];
      case 'reload':
        if (e.keys.includes('gateway.auth.token')) this.rotationAt = at;
        return [];
      case 'config_autorestored':
        this.autoRestoreAt = at;
        return [];
      case 'webchat_disconnected':
        if (e.code === 4001) {
          this.rotationAt = at;
          return [];
        }
        if (e.code !== 4008) return [];
        return this.failure(e, at);
      case 'closed_before_connect':
        return this.failure(e, at);
      case 'plugin_failure':
        return [{ family: 'plugin_failure', cause: 'plugin_failure', at, clientKey: detach(e.plugin), evidence: clip(`${hhmmss(e.time, at)} plugin ${e.plugin} failed: ${e.error}`) }];
      case 'port_conflict':
        return [{ family: 'port_conflict', cause: 'port_conflict', at, evidence: clip(`${hhmmss(e.time, at)} ${e.text}`) }];
      case 'second_gateway':
        return [{ family: 'second_gateway', cause: 'second_gateway', at, evidence: clip(`${hhmmss(e.time, at)} ${e.text}`) }];
      case 'heap_oom':
        return [{ family: 'out_of_memory', cause: 'out_of_memory', at, evidence: clip(`${hhmmss(e.time, at)} ${e.text}`) }];
      case 'kernel_oom':
        return e.openclaw ? [{ family: 'out_of_memory', cause: 'out_of_memory', at, evidence: clip(`${hhmmss(e.time, at)} ${e.text}`) }] : [];
      case 'mode_blocked':
        return [{ family: 'gateway_mode_unset', cause: 'gateway_mode_unset', at, evidence: clip(`${hhmmss(e.time, at)} ${e.text}`) }];
      case 'telegram_conflict':
        return [{ family: 'telegram_conflict', cause: 'telegram_conflict', at, evidence: clip(`${hhmmss(e.time, at)} ${e.text}`) }];
      case 'start_failed':
        return [{ family: 'gateway_down', cause: 'gateway_down', at, evidence: clip(`${hhmmss(e.time, at)} Gateway failed to start: ${e.detail}`) }];
      default:
        // starting / ready / shutdown: lifecycle; the probe tells whether the gateway is down.
        return [];
    }
  }

  private remember(conn: string, e: LogEvent, now: number): void {
    const entry = this.conns.get(conn);
    if (entry) {
      entry.events.push(e);
      entry.seen = now;
    } else {
      this.conns.set(conn, { events: [e], seen: now });
    }
    if (this.conns.size > MAX_CONNS) this.prune(now);
  }

  private prune(now: number): void {
    for (const [k, v] of this.conns) {
      if (now - v.seen > MONITOR_DEFAULTS.connMemoryMs || this.conns.size > MAX_CONNS) this.conns.delete(k);
      else break;
    }
  }

  private failure(e: LogEvent & { conn: string }, at: number): Signal[] {
    const partners = this.conns.get(e.conn)?.events ?? [];
    this.conns.delete(e.conn);
    // The same join and benign-noise rules as /diagnose: correlate the conn's own lines.
    const corr = correlate([...partners, e]);
    const f = corr.failures[0];
    if (!f) return []; // benign (1013 while starting, CLI probe, internal channel check) or not a failure
    const family = failureFamily(f);
    let mark: Signal['mark'];
    if (family === 'token_mismatch') {
      if (at - this.autoRestoreAt >= 0 && at - this.autoRestoreAt <= MARK_WINDOW_MS) mark = 'autorestore';
      else if (at - this.rotationAt >= 0 && at - this.rotationAt <= MARK_WINDOW_MS) mark = 'rotation';
    }
    // A detached copy: incidents keep the client key, and a slice would keep the whole log line alive with it.
    return [{ family, cause: family, at, clientKey: f.clientKey && detach(f.clientKey), dedupe: connKey(f.conn), evidence: failureEvidence(f), mark }];
  }
}
