/**
 * Issue 12.5: the redactor against realistic forms a secret takes in host output and log text. Each
 * form is asserted on its own: the secret is gone AND the words around it survive. Negatives are
 * ordinary output (pids, ports, versions, close codes, times, short ids, prose about tokens) that
 * must come out unchanged. Secret values are generated here, so no token-shaped literal sits in
 * the repository.
 */
import { describe, expect, it } from 'vitest';
import { redact, redactDeep } from '../../src/util/redact.js';

/** A deterministic random-looking string of `len` characters from `alphabet` (seeded per form). */
function gen(seed: number, len: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'): string {
  let x = (seed * 2654435761) >>> 0 || 1;
  let out = '';
  while (out.length < len) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out += alphabet[(x >>> 8) % alphabet.length];
  }
  // Always both a letter and a digit, as generated secrets have.
  return `${out.slice(0, len - 2)}7${alphabet === HEX ? 'e' : 'Q'}`;
}
const HEX = '0123456789abcdef';
const hex = (seed: number, len = 48) => gen(seed, len, HEX);
const tok = (seed: number, len = 32) => gen(seed, len);
const b64 = (seed: number, len = 64) => gen(seed, len, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
const bot = (seed: number) => `${String(100000000 + seed * 7919).slice(0, 9)}:AA${gen(seed, 33, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-')}`;
const pemLine = (seed: number) => b64(seed, 70);
const BEGIN = (kind: string) => `-----BEGIN ${kind}PRIVATE ${'KEY'}-----`;
const END = (kind: string) => `-----END ${kind}PRIVATE ${'KEY'}-----`;

interface Form {
  name: string;
  text: string;
  /** Values that must be gone. */
  secrets: string[];
  /** Text that must survive (the words around the secret). */
  keep: string[];
}

const forms: Form[] = [];
const add = (name: string, secret: string | string[], text: string, keep: string[]) =>
  forms.push({ name, text, secrets: Array.isArray(secret) ? secret : [secret], keep });

let n = 1;
// YAML and YAML-like.
{ const s = hex(n++); add('YAML token: X', s, `gateway:\n  token: ${s}\n  port: 18789`, ['gateway:', 'token:', 'port: 18789']); }
{ const s = hex(n++); add('YAML env in compose', s, `    environment:\n      OPENCLAW_GATEWAY_TOKEN: ${s}\n      TZ: UTC`, ['environment:', 'OPENCLAW_GATEWAY_TOKEN:', 'TZ: UTC']); }
{ const s = tok(n++, 20); add('YAML password: X', s, `redis:\n  password: ${s}\n  db: 2`, ['password:', 'db: 2']); }
{ const s = hex(n++); add('YAML quoted token', s, `token: "${s}"`, ['token: "']); }
{ const s = tok(n++); add("YAML single-quoted api_key", s, `api_key: '${s}' # from vault`, ["api_key: '", '# from vault']); }
{ const s = tok(n++); add('YAML secret: X', s, `webhook:\n  secret: ${s}`, ['webhook:', 'secret:']); }
// JSON.
{ const s = hex(n++); add('JSON "token"', s, `{"token": "${s}", "port": 18789}`, ['"token": "', '"port": 18789']); }
{ const s = hex(n++); add('JSON "TOKEN" upper case', s, `{"TOKEN": "${s}"}`, ['"TOKEN": "']); }
{ const s = tok(n++, 40); add('JSON "access_token"', s, `{"access_token":"${s}","token_type":"bearer","expires_in":3600}`, ['"token_type":"bearer"', '"expires_in":3600']); }
{ const s = tok(n++); add('JSON "auth" string', s, `{"user":"claw","auth":"${s}"}`, ['"user":"claw"', '"auth":"']); }
{ const s = hex(n++); add('JSON "authToken" next to a mode', s, `{"authToken": "${s}", "mode": "token"}`, ['"mode": "token"']); }
{ const s = hex(n++); add('JSON OpenClaw config (nested auth)', s, `{"gateway":{"mode":"local","auth":{"mode":"token","token":"${s}"},"port":18789}}`, ['"mode":"local"', '"mode":"token"', '"port":18789']); }
{ const s = tok(n++, 40); add('JSON "refresh_token"', s, `"refresh_token": "${s}",`, ['"refresh_token": "']); }
{ const s = tok(n++, 40); add('JSON "client_secret"', s, `"client_secret": "${s}"`, ['"client_secret": "']); }
{ const s = tok(n++, 40); add('JSON "apiKey"', s, `{"provider":"anthropic","apiKey":"${s}"}`, ['"provider":"anthropic"']); }
{ const s = tok(n++, 16); add('JSON "password"', s, `{"password": "${s}", "user": "admin"}`, ['"user": "admin"']); }
{ const s = tok(n++, 16); add('JSON "password" that is a plain word', 'hunter', `{"password": "hunter", "user": "admin"}`, ['"user": "admin"']); void s; }
{ const s = b64(n++, 68).replace(/[+/]/g, 'x'); add('JSON "webhookUrl"', s, `{"webhookUrl": "https://example.org/hooks/${s}"}`, ['"webhookUrl": "']); }
{ const s = tok(n++, 40); add('JSON "privateKey"', s, `"privateKey": "${s}"`, ['"privateKey": "']); }
// JSON5 (OpenClaw's config format).
{ const s = hex(n++); add("JSON5 {token:'X'}", s, `{token:'${s}'}`, ['{token:', '}']); }
{ const s = hex(n++); add('JSON5 nested with comments', s, `{\n  // gateway\n  gateway: { mode: 'local', auth: { mode: 'token', token: '${s}' }, },\n}`, ["mode: 'local'", "mode: 'token'", '// gateway']); }
{ const s = hex(n++); add('JSON5 double-quoted value', s, `  token: "${s}",\n  port: 18789,`, ['port: 18789']); }
// Escaped JSON (JSON inside a JSON string, e.g. a log field).
{ const s = hex(n++); add('escaped {\\"token\\": \\"X\\"}', s, `{"msg":"config {\\"token\\": \\"${s}\\"} loaded"}`, ['loaded', '{"msg":"config']); }
{ const s = hex(n++); add('escaped nested auth token', s, `"{\\"auth\\":{\\"mode\\":\\"token\\",\\"token\\":\\"${s}\\"}}"`, ['\\"mode\\":\\"token\\"']); }
{ const s = tok(n++, 30); add('escaped "password"', s, `"body":"{\\"password\\":\\"${s}\\",\\"user\\":\\"x\\"}"`, ['\\"user\\":\\"x\\"']); }
// argv.
{ const s = hex(n++); add('argv JSON ["--token","X"]', s, `Cmd=["node","dist/index.js","gateway","run","--token","${s}","--port","18789"]`, ['"gateway","run","--token","', '"--port","18789"']); }
{ const s = hex(n++); add("argv single-quoted ['--token', 'X']", s, `args: ['--token', '${s}', '--bind', 'lan']`, ["'--bind', 'lan'"]); }
{ const s = hex(n++); add('argv -t X', s, `openclaw gateway run -t ${s} --port 18789`, ['openclaw gateway run -t ', ' --port 18789']); }
{ const s = hex(n++); add('argv JSON ["-t","X"]', s, `["gateway","run","-t","${s}"]`, ['"gateway","run","-t","']); }
{ const s = hex(n++); add('argv --token X in ExecStart', s, `ExecStart=/usr/bin/node dist/index.js gateway run --token ${s} --port 18789`, ['ExecStart=/usr/bin/node dist/index.js gateway run --token ', ' --port 18789']); }
{ const s = hex(n++); add('argv --token=X', s, `openclaw gateway run --token=${s} --verbose`, ['--token=', ' --verbose']); }
{ const s = hex(n++); add('argv --gateway-token X', s, `--gateway-token ${s}`, ['--gateway-token ']); }
{ const s = tok(n++, 16); add('argv --password X', s, `redis-cli --password ${s} ping`, ['redis-cli --password ', ' ping']); }
{ const s = tok(n++, 40); add('argv --api-key=X', s, `openclaw models auth --api-key=${s}`, ['openclaw models auth --api-key=']); }
{ const s = hex(n++); add('prose around --token keeps its words', s, `the unit passes --token ${s}): it overrides the config`, ['the unit passes --token ', '): it overrides the config']); }
// HTTP auth.
{ const s = tok(n++, 40); add('lowercase bearer', s, `authorization: bearer ${s}`, ['authorization: bearer ']); }
{ const s = tok(n++, 40); add('Authorization: Bearer X', s, `Authorization: Bearer ${s}\r\nHost: h`, ['Authorization: Bearer ', 'Host: h']); }
{ const s = tok(n++, 40); add("curl -H 'Authorization: Bearer X'", s, `curl -H 'Authorization: Bearer ${s}' http://127.0.0.1:18789/health`, ['curl -H', 'http://127.0.0.1:18789/health']); }
{ const s = b64(n++, 28); add('Authorization: Basic X', s, `Authorization: Basic ${s}`, ['Authorization: Basic ']); }
{ const s = tok(n++, 32); add('X-OpenClaw-Token: X', s, `X-OpenClaw-Token: ${s}\nAccept: */*`, ['X-OpenClaw-Token: ', 'Accept: */*']); }
{ const s = tok(n++, 32); add('x-api-key: X', s, `x-api-key: ${s}`, ['x-api-key: ']); }
{ const s = tok(n++, 32); add('Cookie: session=X', s, `Cookie: session=${s}`, ['Cookie: ']); }
// Assignments.
{ const s = hex(n++); add('bare token=X', s, `connect token=${s} from 10.0.0.7`, ['connect token=', ' from 10.0.0.7']); }
{ const s = hex(n++); add('OPENCLAW_GATEWAY_TOKEN=X', s, `OPENCLAW_GATEWAY_TOKEN=${s}`, ['OPENCLAW_GATEWAY_TOKEN=']); }
{ const s = hex(n++); add('lowercase env name', s, `openclaw_gateway_token=${s}`, ['openclaw_gateway_token=']); }
{ const s = hex(n++); add('export with quotes', s, `export OPENCLAW_GATEWAY_TOKEN="${s}"`, ['export OPENCLAW_GATEWAY_TOKEN="']); }
{ const s = hex(n++); add('TOKEN = X', s, `TOKEN = ${s}`, ['TOKEN = ']); }
{ const s = hex(n++); add('toml token = "X"', s, `[gateway]\ntoken = "${s}"\nport = 18789`, ['[gateway]', 'port = 18789']); }
{ const s = hex(n++); add('systemd Environment=', s, `Environment=OPENCLAW_GATEWAY_TOKEN=${s} NODE_ENV=production`, ['Environment=OPENCLAW_GATEWAY_TOKEN=', ' NODE_ENV=production']); }
{ const s = bot(n++); add('TELEGRAM_BOT_TOKEN=X', s, `TELEGRAM_BOT_TOKEN=${s}`, ['TELEGRAM_BOT_TOKEN=']); }
{ const s = tok(n++, 40); add('DISCORD_WEBHOOK_SECRET=X', s, `DISCORD_WEBHOOK_SECRET=${s}`, ['DISCORD_WEBHOOK_SECRET=']); }
{ const s = tok(n++, 12); add('password=X with a digit', s, `login user=admin password=${s}`, ['login user=admin password=']); }
// Key shapes.
{ const s = `sk-ant-api03-${tok(n++, 60)}`; add('sk- API key (ant)', s, `using key ${s} for requests`, ['using key ', ' for requests']); }
{ const s = `sk-proj-${tok(n++, 48)}`; add('sk- API key in env', s, `OPENAI_API_KEY=${s}`, ['OPENAI_API_KEY=']); }
{ const s = `sk-${tok(n++, 48)}`; add('sk- API key bare in JSON array', s, `["${s}"]`, ['["', '"]']); }
{ const s = `ghp_${tok(n++, 36)}`; add('GitHub token', s, `git clone https://x:${s}@github.com/acme/repo`, ['git clone https://x:', '@github.com/acme/repo']); }
{ const s = `eyJ${tok(n++, 20)}.eyJ${tok(n++, 30)}.${tok(n++, 40)}`; add('JWT', s, `session ${s} expired`, ['session ', ' expired']); }
{ const s = tok(n++, 68); const id = '112233445566778899'; add('Discord webhook URL', s, `posting to https://discord.com/api/webhooks/${id}/${s} failed`, [`https://discord.com/api/webhooks/${id}/`, ' failed']); }
{ const s = tok(n++, 68); add('Discord webhook URL (discordapp, v10)', s, `https://discordapp.com/api/v10/webhooks/998877665544332211/${s}?wait=true`, ['?wait=true']); }
{ const s = bot(n++); add('Telegram bot token in an API URL', s, `GET https://api.telegram.org/bot${s}/getMe 401`, ['GET https://api.telegram.org/bot', '/getMe 401']); }
{ const s = bot(n++); add('Telegram bot token in prose', s, `polling with ${s} failed: 409 Conflict`, ['polling with ', ' failed: 409 Conflict']); }
{ const s = `${tok(n++, 26)}.${tok(n++, 6)}.${tok(n++, 38)}`; add('Discord bot token', s, `login with ${s}`, ['login with ']); }
// URLs.
{ const s = hex(n++); add('#token= fragment in a dashboard URL', s, `open http://127.0.0.1:18789/#token=${s} in a browser`, ['open http://127.0.0.1:18789/#token=', ' in a browser']); }
{ const s = hex(n++); add('percent-encoded #tok%65n=', s, `http://127.0.0.1:18789/#tok%65n=${s}`, ['http://127.0.0.1:18789/#tok%65n=']); }
{ const s = tok(n++, 40); add('?access_token= query', s, `GET /api?access_token=${s}&x=1`, ['GET /api?access_token=', '&x=1']); }
{ const s = hex(n++); add('bootstrapToken= next to a profile', s, `x#bootstrapToken=${s}&bootstrapProfile=owner`, ['&bootstrapProfile=owner']); }
{ const s = tok(n++, 20); add('redis URL password', s, `redis://:${s}@127.0.0.1:6379/0`, ['redis://:', '@127.0.0.1:6379/0']); }
{ const s = tok(n++, 20); add('rediss URL user and password', s, `rediss://clawmedic:${s}@redis.example:6380`, ['rediss://clawmedic:', '@redis.example:6380']); }
// Private keys.
{ const l1 = pemLine(n++); const l2 = pemLine(n++); add('OpenSSH private key block', [l1, l2], `key:\n${BEGIN('OPENSSH ')}\n${l1}\n${l2}\n${END('OPENSSH ')}\ndone`, ['key:', 'done']); }
{ const l1 = pemLine(n++); add('RSA private key block', l1, `${BEGIN('RSA ')}\n${l1}\n${END('RSA ')}`, []); }
{ const l1 = pemLine(n++); const l2 = pemLine(n++); add('key body whose BEGIN line was cut by an output cap', [l1, l2], `${l1.slice(20)}\n${l2}\n${END('OPENSSH ')}\nnext line`, ['next line']); }
{ const l1 = pemLine(n++); add('key block cut at the end (no END line)', l1, `before\n${BEGIN('')}\n${l1}`, ['before']); }
// Prose.
{ const s = hex(n++, 32); add('prose: token <hex run>', s, `gateway token ${s} was rejected`, ['gateway token ', ' was rejected']); }
{ const s = tok(n++, 24); add('prose: the secret is X', s, `the secret is ${s}, keep it`, ['the secret is ', ', keep it']); }
{ const s = hex(n++, 40); add('prose: password was X', s, `password was ${s}`, ['password was ']); }

/** Ordinary output that must come out exactly as it went in. */
const negatives = [
  'gateway listening on ws://127.0.0.1:18789 (pid 4242)',
  'OpenClaw 2026.9.6 (build 4f2a9c1)',
  'webchat disconnected code=4008 reason=token_mismatch',
  'closed before connect conn=7f3a code=1008 reason=unauthorized: gateway token mismatch',
  '2026-12-06T03:53:58.123Z [gateway] ready (pid 4242) in 9.8s',
  '{"subsystem":"gateway/ws","auth":"token","authMode":"token","authProvided":"device-token","authReason":"token_mismatch"}',
  'auth=token authMode=token authProvided=token authReason=token_mismatch',
  'authTokenSet=yes remoteTokenSet=no allowedOrigins=http://localhost:18789',
  'request id 8f3a9c2e took 43 ms',
  'The gateway service is started with a --token that overrides the configured token',
  'the unit passes --token). Diagnose for details.',
  'usage: gateway run --token X',
  'Remote CLIs: set gateway.remote.token to match gateway.auth.token.',
  'device token mismatch; token rotated at 15:03:30',
  'Status=running Running=true ExitCode=0 OOMKilled=false RestartCount=3 StartedAt=2026-12-06T03:50:01.5Z',
  'Mem:           1987        1523         464           2           0         312',
  'LISTEN 0 511 127.0.0.1:18789 0.0.0.0:* users:(("node",pid=4242,fd=21))',
  'unauthorized: too many failed attempts (retry after 300s)',
  'Bearer authentication failed',
  'max_tokens=4096 tokens used: 1200',
  'token: `[ws] unauthorized` appears every 15 s',
  'docker exec -t openclaw sh',
  'User-Agent: curl/8.5.0',
  'scikit-learn uses sk-learn 1.5.0',
  'NRestarts=12 ExecMainStatus=1 Result=exit-code',
  'Discord close 4008 (rate limited) is not OpenClaw 4008',
];

describe('redact: corpus of realistic forms (issue 12.5)', () => {
  it('has at least 60 forms and 15 negatives', () => {
    expect(forms.length).toBeGreaterThanOrEqual(60);
    expect(negatives.length).toBeGreaterThanOrEqual(15);
  });

  it.each(forms.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const out = redact(f.text);
    for (const s of f.secrets) {
      // Never print the secret: report where it survived instead.
      if (out.includes(s)) throw new Error(`secret survived (at ${out.indexOf(s)} of ${out.length}); output without it: ${out.split(s).join('<SECRET>')}`);
    }
    for (const k of f.keep) expect(out, 'surrounding words must survive').toContain(k);
    expect(out).toContain('<redacted');
    // Redacting twice changes nothing more.
    expect(redact(out)).toBe(out);
  });

  it.each(negatives.map((t) => [t] as const))('unchanged: %s', (t) => {
    expect(redact(t)).toBe(t);
  });
});

describe('redactDeep: values under secret-named keys (by structure)', () => {
  it('replaces every secret-named field whatever its value looks like, and keeps the rest', () => {
    const v = 'plainword';
    const input = {
      access_token: v, auth: v, authorization: v, Authorization: v, apiKey: v, api_key: v, 'x-api-key': v, password: v, secret: v,
      clientSecret: v, token: v, gatewayToken: v, refresh_token: v, webhookUrl: v, webhook_url: v, webhook: v, privateKey: v, cookie: v,
      credentials: v, nested: { deep: [{ token: v, port: 18789 }] },
      keep: { mode: 'token', authMode: 'token', tokens: 5, tokenSet: 'yes', pid: 4242, version: '2026.9.6' },
    };
    const out = redactDeep(input) as Record<string, unknown>;
    for (const k of Object.keys(input)) {
      if (k === 'nested' || k === 'keep') continue;
      expect(out[k], k).toBe('<redacted>');
    }
    expect(out.nested).toEqual({ deep: [{ token: '<redacted>', port: 18789 }] });
    expect(out.keep).toEqual(input.keep);
  });
});
