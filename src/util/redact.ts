/**
 * Redaction of secrets from any text before it reaches a reply, a log line or an error.
 * Applied to every byte of remote output. Patterns cover OpenClaw's token forms
 * (#token=, bootstrapToken=, "token": "...", --token X, OPENCLAW_GATEWAY_TOKEN=...),
 * bot tokens, bearer headers and private keys, plus any exact secret registered at start.
 */

/** What a redacted value is replaced with. */
export const REDACTED = '<redacted>';

const PATTERNS: Array<[RegExp, string]> = [
  // Private key blocks.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '<redacted private key>'],
  // Telegram bot tokens: 123456789:AA... (35 chars after the colon).
  [/(?<![0-9])\d{6,12}:[A-Za-z0-9_-]{30,}/g, REDACTED],
  // URL fragments / query params carrying tokens: #token=..., &bootstrapToken=..., ?token=...
  [/([#?&](?:token|bootstrapToken|access_token|auth|password)=)[^&\s"'<>]+/gi, `$1${REDACTED}`],
  // JSON fields named like secrets: "token": "...", "authToken":"..."
  [/("(?:[A-Za-z]*[Tt]oken|password|secret|apiKey|api_key)"\s*:\s*")[^"]*(")/g, `$1${REDACTED}$2`],
  // env assignments and flags: OPENCLAW_GATEWAY_TOKEN=..., TOKEN=..., --token X, --token=X
  [/\b([A-Z0-9_]*(?:TOKEN|SECRET|PASSWORD|API_KEY)[A-Z0-9_]*=)(?!<redacted>)\S+/g, `$1${REDACTED}`],
  [/(--(?:token|password|gateway-token)[= ])(?!<redacted>)\S+/g, `$1${REDACTED}`],
  // HTTP auth headers.
  [/\b(Bearer|Bot)\s+[A-Za-z0-9._~+/=-]{16,}/g, `$1 ${REDACTED}`],
  // Discord bot tokens (three base64url parts).
  [/\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}\b/g, REDACTED],
];

const knownSecrets = new Set<string>();

/** Register an exact secret value (bot token, gateway token read at runtime) to be scrubbed everywhere. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) knownSecrets.add(value);
}

/** Return `text` with every known secret and secret-looking value replaced by <redacted>. */
export function redact(text: string): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** Object keys whose values are secrets whatever they look like (a token need not match any pattern). */
const SECRET_KEY = /^(?:.*[-_]?token|password|passwd|secret|api[-_]?key|authorization|auth|private[-_]?key|cookie)$/i;
const MAX_DEPTH = 8;

/**
 * A copy of `value` safe to log: every string redacted, values under secret-named keys replaced,
 * errors turned into { type, message, stack } (redacted; JSON drops an Error's own fields), cycles
 * and depth cut. Never throws: a log call must not be what fails.
 */
export function redactDeep(value: unknown): unknown {
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return redact(v);
    if (typeof v === 'bigint') return v.toString();
    if (v === null || typeof v !== 'object') return typeof v === 'function' ? '[function]' : v;
    if (seen.has(v)) return '[circular]';
    if (depth >= MAX_DEPTH) return '[too deep]';
    seen.add(v);
    if (v instanceof Error) {
      const out: Record<string, unknown> = { type: v.name, message: redact(v.message) };
      if (v.stack) out.stack = redact(v.stack);
      const code = (v as { code?: unknown }).code;
      if (code !== undefined) out.code = walk(code, depth + 1);
      if (v.cause !== undefined) out.cause = walk(v.cause, depth + 1);
      return out;
    }
    if (v instanceof Date) return v.toISOString();
    if (Buffer.isBuffer(v)) return `[${v.length} bytes]`;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      let x: unknown;
      try {
        x = (v as Record<string, unknown>)[k];
      } catch {
        out[k] = '[unreadable]'; // a getter that throws
        continue;
      }
      out[k] = SECRET_KEY.test(k) && x !== undefined && x !== null && typeof x !== 'boolean' && typeof x !== 'number' ? REDACTED : walk(x, depth + 1);
    }
    return out;
  };
  try {
    return walk(value, 0);
  } catch {
    return '[unloggable value]';
  }
}
