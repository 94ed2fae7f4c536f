/** gateway_mode_unset: the config has no gateway.mode (start blocked, or the next start auto-restores a backup). */
import { eventLine, finding, lastMsOf, type Rule } from './context.js';

export const gatewayModeRule: Rule = (ctx) => {
  const blocked = ctx.windowEvents.filter((e) => e.kind === 'mode_blocked');
  const cfg = ctx.evidence.config;
  const missing = cfg?.readable === true && !cfg.mode;
  // A blocked start followed by a successful start is history, unless the config still lacks the mode.
  if (!missing && (blocked.length === 0 || ctx.probeOk)) return null;
  const ev = blocked.slice(-1).map(eventLine);
  if (missing) ev.push(`config ${cfg?.path ?? 'openclaw.json'}: gateway.mode is not set`);
  if (!ctx.probeOk) {
    // 2026.4.29 prints "Gateway start blocked: … missing gateway.mode" to stdout only: its file log
    // ends at the start's first lines (`loading configuration…`). A down gateway whose last start
    // never got ready, with the mode missing from its config, is that blocked start.
    const startNeverReady = missing && ctx.down && ctx.lastLifecycle?.kind === 'starting';
    if (startNeverReady && !blocked.length) ev.push(`last lifecycle line: ${eventLine(ctx.lastLifecycle!)} (the start never got ready)`);
    return finding({
      cause: 'gateway_mode_unset',
      confidence: blocked.length || startNeverReady ? 'high' : 'medium',
      weight: 94,
      summary: 'gateway.mode is not set, so the gateway does not start',
      evidence: ev,
      lastSeen: lastMsOf(blocked),
      current: true,
    });
  }
  return finding({
    cause: 'gateway_mode_unset',
    confidence: 'medium',
    weight: 30,
    summary: 'gateway.mode is missing from the config; the running gateway is fine, but its next start will auto-restore an older config backup',
    evidence: ev,
    userActions: ['Set it back: `openclaw config set gateway.mode local` (clawmedic can do this).'],
    current: true,
  });
};
