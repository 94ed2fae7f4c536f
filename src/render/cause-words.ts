/**
 * How every cause is worded in chat, in one place: a short name for summary lines ("stale tab"),
 * the alert's plain-language label, and the first thing to do. Alerts, /status, /diagnose and
 * /fix all read these, so one cause is never described in two wordings.
 */
import type { Cause, Confidence } from '../domain/diagnosis.js';

/** Short name for a summary line: "prod: stale tab (high confidence) — …". */
export const CAUSE_SHORT: Record<Cause, string> = {
  token_mismatch: 'token mismatch',
  device_token_mismatch: 'device token mismatch',
  stale_client: 'stale tab',
  token_rotated: 'token rotated',
  config_autorestored: 'config auto-restored',
  gateway_down: 'gateway down',
  crash_loop: 'crash loop',
  out_of_memory: 'out of memory',
  memory_pressure: 'memory pressure',
  plugin_failure: 'plugin failure',
  port_conflict: 'port conflict',
  second_gateway: 'second gateway',
  proxy_blocks_websocket: 'proxy blocks WebSocket',
  dns_unresolved: 'DNS does not resolve',
  gateway_url_mismatch: 'gateway URL mismatch',
  origin_not_allowed: 'origin not allowed',
  gateway_mode_unset: 'gateway mode unset',
  rate_limited: 'rate limited',
  insecure_context: 'insecure context',
  telegram_conflict: 'Telegram conflict',
  host_unreachable: 'host unreachable',
  healthy: 'healthy',
  unknown: 'unknown cause',
};

/** Plain-language name of each cause, as the alert title shows it. */
export const CAUSE_LABELS: Record<Cause, string> = {
  token_mismatch: 'clients present a wrong gateway token (4008 connect failed)',
  device_token_mismatch: 'a paired device presents an old device token (4008)',
  stale_client: 'one browser tab keeps using an old gateway token (4008 connect failed)',
  token_rotated: 'gateway token was rotated; clients still use the old one (4008)',
  config_autorestored: 'config auto-restored from a backup with another token (4008)',
  gateway_down: 'gateway is down',
  crash_loop: 'gateway keeps crashing',
  out_of_memory: 'gateway ran out of memory',
  memory_pressure: 'memory nearly full',
  plugin_failure: 'a plugin fails to load',
  port_conflict: 'another program holds the gateway port',
  second_gateway: 'a second gateway was started',
  proxy_blocks_websocket: 'proxy/firewall blocks WebSocket upgrades',
  dns_unresolved: "the gateway's name does not resolve (DNS)",
  gateway_url_mismatch: 'gateway URL/profile mismatch',
  origin_not_allowed: 'Control UI origin not allowed (4008)',
  gateway_mode_unset: 'gateway.mode is not set',
  rate_limited: 'auth rate limit hit (clients locked out)',
  insecure_context: 'Control UI opened over plain HTTP (4008)',
  telegram_conflict: "OpenClaw's Telegram bot is polled twice (409)",
  host_unreachable: 'host unreachable over SSH',
  healthy: 'healthy',
  unknown: 'clients fail to connect (4008), reason not logged',
};

/** What the reader should do first, per cause: a short clause for the summary line (details follow). */
export const CAUSE_TODO: Record<Cause, string> = {
  token_mismatch: 'give clients the current token',
  device_token_mismatch: 're-pair the device',
  stale_client: 'reopen the dashboard with a fresh link; no restart',
  token_rotated: 'reopen the dashboard with the new token',
  config_autorestored: 'hand out a fresh dashboard link',
  gateway_down: 'Fix restarts it',
  crash_loop: 'Fix repairs and restarts it',
  out_of_memory: 'free memory or raise the limit',
  memory_pressure: 'free memory or raise the limit',
  plugin_failure: 'Fix disables the plugin',
  port_conflict: 'Fix frees the port',
  second_gateway: 'Fix stops the extra gateway',
  proxy_blocks_websocket: 'allow WebSocket upgrades in the proxy',
  dns_unresolved: 'fix the DNS record or the gateway URL',
  gateway_url_mismatch: 'point clients at the right URL',
  origin_not_allowed: 'add the origin to allowedOrigins',
  gateway_mode_unset: 'Fix sets gateway.mode=local',
  rate_limited: 'stop the wrong client, wait 5 min',
  insecure_context: 'open the Control UI over HTTPS or localhost',
  telegram_conflict: 'stop the other bot poller',
  host_unreachable: 'check the server and SSH',
  healthy: 'nothing to do',
  unknown: 'Diagnose again after the next event',
};

/** The longer first step an alert shows under its title (a sentence; /diagnose gives the full story). */
export const ALERT_NEXT_STEP: Partial<Record<Cause, string>> = {
  stale_client: 'No restart needed: reopen the dashboard with a fresh link (Fix sends one privately) or clear the site data.',
  token_mismatch: 'Give the clients the current token (fresh dashboard link); check for a stale --token override. Diagnose for details.',
  token_rotated: 'Reopen the dashboard with the new token (fresh link); remote CLIs need gateway.remote.token updated.',
  config_autorestored: 'The restored backup carries another token: hand out a fresh dashboard link, check openclaw.json.',
  device_token_mismatch: 'Re-pair the device or rotate its device token.',
  rate_limited: 'Stop the client sending the wrong token and wait 5 minutes.',
  gateway_down: 'Diagnose names why; Fix restarts it the way this host supervises it.',
  host_unreachable: 'Check the server and its SSH daemon; gateway alerts for this host are held meanwhile.',
};

const CONFIDENCE_WORD: Record<Confidence, string> = { high: 'high confidence', medium: 'medium confidence', low: 'low confidence' };

/** "prod: stale tab (high confidence) — reopen the dashboard with a fresh link; no restart" */
export function summaryLine(host: string, cause: Cause, confidence: Confidence): string {
  if (cause === 'healthy') return `${host}: healthy`;
  return `${host}: ${CAUSE_SHORT[cause]} (${CONFIDENCE_WORD[confidence]}) — ${CAUSE_TODO[cause]}`;
}
