/**
 * Redaction of secrets from any text before it reaches a reply, a log line or an error.
 * Applied to every byte of remote output. Two kinds of rules:
 * - by structure: a value under a secret-named key, whatever it looks like: JSON (`"token": "…"`,
 *   escaped `\"token\": \"…\"`, `"--token","…"` argv), JSON5/YAML (`token: '…'`, `token: …`),
 *   assignments (`TOKEN=…`, `openclaw_gateway_token=…`, `token = "…"`), URL parameters and fragments
 *   (`#token=…`, percent-encoded names too), flags (`--token …`, `--token=…`, `-t …`), headers
 *   (`X-OpenClaw-Token: …`, `Authorization: Bearer …`), URL passwords (`redis://:pw@`);
 * - by shape: private key blocks (also when the BEGIN line was cut off by an output cap), Telegram and
 *   Discord bot tokens, Discord webhook URLs, `sk-…` API keys, JWTs, GitHub/Slack tokens, and a long
 *   random-looking run right after the word "token"/"secret"/"password".
 * Only the value goes: the words around it stay, and values that read as ordinary words (`--token that
 * overrides`, `token: mismatch`, `auth=token`) are left alone where prose is plausible. Plus any exact
 * secret registered at start.
 */

/** What a redacted value is replaced with. */
export const REDACTED = '<redacted>';
const REDACTED_KEY = '<redacted private key>';

/** Key names (the end of them) whose values are secrets: `gatewayToken`, `OPENCLAW_GATEWAY_TOKEN`, `client_secret`, `x-api-key`… */
const SECRET_NAME = String.raw`[A-Za-z0-9_.-]*?(?:token|secret|password|passwd|api[_-]?key|access[_-]?key|private[_-]?key|webhook[_-]?url|credentials?)`;
/** In quoted JSON keys also these (a JSON `"auth": "…"` string is a credential; `auth=token` in a log line is a mode). */
const JSON_SECRET_NAME = String.raw`(?:${SECRET_NAME}|auth|authorization|cookie|webhook)`;
/** Flags whose argument is a secret: --token, --gateway-token, --password, --api-key, --secret… */
const SECRET_FLAG = String.raw`--(?:[a-z0-9]+-)*(?:token|password|passwd|secret|api-?key)`;
/** Characters a token value is made of (unquoted). */
const VALUE = String.raw`[^\s'"\`<>()\[\]{},;&|\\]+`;

/** Does an unquoted value read as an ordinary word or a placeholder rather than a secret? */
function readsAsWord(v: string): boolean {
  return /^[a-z]{1,12}[.:]?$/.test(v) || /^(?:[A-Z]|X+|x+|\*+|\.{3}|…|null|true|false|none|yes|no)$/i.test(v) || v.startsWith('$') || v.startsWith('<');
}

/** Does a value look like a generated secret (long, mixing letters and digits or cases)? */
function looksRandom(v: string): boolean {
  if (v.length >= 12 && /[0-9]/.test(v) && /[A-Za-z]/.test(v)) return true;
  return v.length >= 24 && (v.match(/[A-Z]/g) ?? []).length >= 4 && /[a-z]/.test(v);
}

/** `"auth": "token"` names an auth mode (OpenClaw logs it); any other `"auth"` string is a credential. */
function authModeWord(name: string, value: string): boolean {
  return /^"?auth"?$/i.test(name.replace(/\\/g, '')) && /^[a-z][a-z-]{0,15}$/.test(value);
}


/** Parameter names in URLs (decoded) that carry credentials. */
const URL_PARAM_SECRET = new RegExp(`^(?:${SECRET_NAME}|auth|sig|signature|code)$`, 'i');

const PATTERNS: Array<[RegExp, string | ((...args: string[]) => string)]> = [
  // Private key blocks, and the tail of one whose BEGIN line was cut off (base64 lines, then END).
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, REDACTED_KEY],
  [/(?:[A-Za-z0-9+/=]+\r?\n)+-----END [A-Z0-9 ]*PRIVATE KEY-----/g, REDACTED_KEY],
  // Discord webhook URLs: the id may stay, the token after it goes.
  [/(https?:\/\/(?:[a-z]+\.)?discord(?:app)?\.com\/api\/(?:v\d+\/)?webhooks\/\d+\/)[A-Za-z0-9_-]+/gi, `$1${REDACTED}`],
  // Telegram bot tokens: 123456789:AA... (35 chars after the colon).
  [/(?<![0-9])\d{6,12}:[A-Za-z0-9_-]{30,}/g, REDACTED],
  // Discord bot tokens (three base64url parts) and JWTs.
  [/\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}\b/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, REDACTED],
  // API keys by prefix: sk-… (OpenAI/Anthropic style), GitHub, Slack.
  [/(?<![A-Za-z0-9])sk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_]{16,}/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, REDACTED],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/g, REDACTED],
  // Passwords in URLs: scheme://user:password@host.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)([^\s@/]+)(@)/gi, `$1${REDACTED}$3`],
  // URL parameters and fragments: #token=, &bootstrapToken=, ?access_token=, percent-encoded names too.
  [
    /([#?&;])([A-Za-z0-9_.%-]+)=([^&#\s"'<>]+)/g,
    (m: string, sep: string, name: string, value: string) => {
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        /* keep the raw name */
      }
      return URL_PARAM_SECRET.test(decoded) && value !== REDACTED ? `${sep}${name}=${REDACTED}` : m;
    },
  ],
  // JSON with escaped quotes (JSON inside a JSON string): \"token\": \"…\".
  [
    new RegExp(String.raw`(\\"(${JSON_SECRET_NAME})\\"\s*:\s*\\")((?:(?!\\").)*)(\\")`, 'gi'),
    (m: string, pre: string, name: string, value: string, post: string) => (authModeWord(name, value) ? m : `${pre}${REDACTED}${post}`),
  ],
  // JSON / JSON5 / YAML with a quoted value: "token": "…", {token:'…'}, token: "…", 'api_key': '…'.
  [
    new RegExp(String.raw`(["'](${JSON_SECRET_NAME})["']\s*:\s*)(["'])((?:(?!\3)[^\\]|\\.)*)\3`, 'gi'),
    (m: string, pre: string, name: string, q: string, value: string) => (authModeWord(name, value) ? m : `${pre}${q}${REDACTED}${q}`),
  ],
  [new RegExp(String.raw`((?:^|[\s{,(])${SECRET_NAME}\s*[:=]\s*)(["'])((?:(?!\2)[^\\]|\\.)*)\2`, 'gim'), `$1$2${REDACTED}$2`],
  // argv in JSON: ["--token","…"], ['-t', '…'].
  [new RegExp(String.raw`(["'](?:${SECRET_FLAG}|-t)["']\s*,\s*)(["'])((?:(?!\2)[^\\]|\\.)*)\2`, 'gi'), `$1$2${REDACTED}$2`],
  // HTTP auth schemes: Bearer …, bearer …, Basic …, Bot …, Authorization: Token ….
  [
    /\b(Bearer|Basic|Bot|Token)(\s+)([A-Za-z0-9._~+/-]{8,}={0,2})/gi,
    (m: string, scheme: string, sp: string, value: string) =>
      value !== REDACTED && (looksRandom(value) || (/^[A-Z]/.test(scheme) && value.length >= 16 && !/^[a-z]+$/.test(value))) ? `${scheme}${sp}${REDACTED}` : m,
  ],
  // Assignments: TOKEN=…, openclaw_gateway_token=…, TOKEN = …, api-key=…  (ENV-style names always; others unless a word).
  [
    new RegExp(String.raw`(^|[^A-Za-z0-9_.-])(${SECRET_NAME})([ \t]*=[ \t]*)(${VALUE})`, 'gim'),
    (m: string, pre: string, name: string, eq: string, value: string) =>
      value === REDACTED || (eq.trim() !== eq && readsAsWord(value)) || (!/^[A-Z0-9_]+$/.test(name) && readsAsWord(value) && !/[0-9]/.test(value) && value.length < 6)
        ? m
        : `${pre}${name}${eq}${REDACTED}`,
  ],
  // Flags: --token X, --token=X, --gateway-token X, -t X (the short form only with a secret-looking value).
  [
    new RegExp(String.raw`(${SECRET_FLAG})(=|[ \t]+)(${VALUE})`, 'gi'),
    (m: string, flag: string, sep: string, value: string) => (value === REDACTED || (sep !== '=' && readsAsWord(value)) ? m : `${flag}${sep}${REDACTED}`),
  ],
  [/((?:^|\s)-t[ \t]+)([A-Za-z0-9._~+/=-]{16,})/g, (m: string, pre: string, value: string) => (looksRandom(value) ? `${pre}${REDACTED}` : m)],
  // Headers and YAML: X-OpenClaw-Token: …, Authorization: …, token: …, api_key: … (unquoted; ordinary words stay).
  [
    new RegExp(String.raw`((?:^|[\s{,;])(?:${SECRET_NAME}|authorization|cookie)[ \t]*:[ \t]*)(?!Bearer\b|Basic\b|Bot\b|Token\b)(${VALUE})`, 'gim'),
    (m: string, pre: string, value: string) => (value === REDACTED || readsAsWord(value) ? m : `${pre}${REDACTED}`),
  ],
  // Prose: "token a1b2c3…", "secret is 9f8e…": a long random-looking run right after the word.
  [
    /\b(token|secret|password|api key)(\s+(?:is\s+|was\s+|of\s+)?)([A-Za-z0-9._~+/-]{16,}={0,2})(?![=A-Za-z0-9])/gi,
    (m: string, word: string, sp: string, value: string) => (looksRandom(value) ? `${word}${sp}${REDACTED}` : m),
  ],
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
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement as (substring: string, ...args: string[]) => string);
  return out;
}

/** Object keys whose values are secrets whatever they look like (a token need not match any pattern). */
const SECRET_KEY =
  /^(?:.*(?:token|secret|password|passwd|api[-_]?key|access[-_]?key|private[-_]?key|webhook[-_]?url|credentials?)|auth|authorization|cookie|set-cookie|webhook|dsn)$/i;
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
