/**
 * Secrets come from the environment only (.env is loaded by the CLI): bot tokens, Redis URL,
 * the SSH private key. They are registered with the redactor the moment they are read.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { z } from 'zod';
import { ConfigError } from '../domain/errors.js';
import { registerSecret } from '../util/redact.js';
import { formatIssues, HIDDEN_INPUT } from './issues.js';

const envSchema = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\//, { error: 'expected redis://host:port[/db]' }).default('redis://127.0.0.1:6379'),
  TELEGRAM_BOT_TOKEN: z
    .string()
    .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, { error: 'expected a bot token from @BotFather (digits:letters)' })
    .optional()
    .or(z.literal('').transform(() => undefined)),
  DISCORD_TOKEN: z.string().min(20, { error: 'expected a Discord bot token' }).optional().or(z.literal('').transform(() => undefined)),
  DISCORD_APPLICATION_ID: z.string().regex(/^\d{5,25}$/, { error: 'expected the numeric application id' }).optional().or(z.literal('').transform(() => undefined)),
  DISCORD_GUILD_ID: z.string().regex(/^\d{5,25}$/, { error: 'expected a numeric guild id' }).optional().or(z.literal('').transform(() => undefined)),
  TELEGRAM_WEBHOOK_SECRET: z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, { error: 'expected 16-256 chars of A-Z a-z 0-9 _ -' }).optional().or(z.literal('').transform(() => undefined)),
  SSH_PRIVATE_KEY_PATH: z.string().optional().or(z.literal('').transform(() => undefined)),
  SSH_PRIVATE_KEY: z.string().optional().or(z.literal('').transform(() => undefined)),
  CLAWMEDIC_JOB_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/=_-]{32,512}$/, { error: 'expected at least 32 characters of letters and digits (generate one with: openssl rand -hex 32)' })
    .optional()
    .or(z.literal('').transform(() => undefined)),
  REDIS_TLS_CA_FILE: z.string().optional().or(z.literal('').transform(() => undefined)),
  /** rediss:// to servers that ask for a client certificate (`tls-auth-clients yes`): clawmedic's certificate and key (PEM). */
  REDIS_TLS_CERT_FILE: z.string().optional().or(z.literal('').transform(() => undefined)),
  REDIS_TLS_KEY_FILE: z.string().optional().or(z.literal('').transform(() => undefined)),
  /** Redis Sentinel: the sentinels' own password (and ACL user), when they require one (`requirepass` in sentinel.conf). */
  REDIS_SENTINEL_PASSWORD: z.string().optional().or(z.literal('').transform(() => undefined)),
  REDIS_SENTINEL_USERNAME: z.string().optional().or(z.literal('').transform(() => undefined)),
  CLAWMEDIC_METRICS_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9+/=_-]{16,256}$/, { error: 'expected 16-256 characters of letters and digits (generate one with: openssl rand -hex 32)' })
    .optional()
    .or(z.literal('').transform(() => undefined)),
});

/** Secrets after validation. `sshPrivateKey` is the key text itself (read from the path when given). */
export interface Secrets {
  redisUrl: string;
  /** REDIS_URL was set (not the default): with Sentinel its host must then name the master (see state/redis.ts). */
  redisUrlSet?: boolean;
  /** Password (and ACL user) of the sentinels themselves (REDIS_SENTINEL_PASSWORD, REDIS_SENTINEL_USERNAME). */
  redisSentinelPassword?: string;
  redisSentinelUsername?: string;
  telegramToken?: string;
  /** Telegram's X-Telegram-Bot-Api-Secret-Token for webhook mode. */
  telegramWebhookSecret?: string;
  discordToken?: string;
  discordApplicationId?: string;
  discordGuildId?: string;
  sshPrivateKey?: string;
  /**
   * Key that signs queued fix jobs and button state (CLAWMEDIC_JOB_KEY), and from which the key that seals
   * secrets passing through Redis is derived (util/secret-box.ts); required to start the app.
   */
  jobKey?: string;
  /** PEM of the CA that signed the Redis server's certificate (rediss:// with a private CA). */
  redisTlsCa?: string;
  /** PEM of clawmedic's client certificate and key, for servers that ask for one (REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE). */
  redisTlsCert?: string;
  redisTlsKey?: string;
  /** Bearer token /metrics requires when set (CLAWMEDIC_METRICS_TOKEN). */
  metricsToken?: string;
}

/** Validate env secrets; names the variable (never its value) on error. */
export function loadSecrets(env: NodeJS.ProcessEnv): Secrets {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // Never echo the input: these are secrets. A value that was set but malformed is described as such
    // (not as "nothing", which sent people looking for a variable that was in fact set).
    throw new ConfigError(formatIssues('environment', parsed.error.issues.map((i) => ({ ...i, input: env[String(i.path[0])] ? HIDDEN_INPUT : undefined }) as z.core.$ZodIssue)));
  }
  const e = parsed.data;
  let sshPrivateKey = e.SSH_PRIVATE_KEY?.replace(/\\n/g, '\n');
  if (!sshPrivateKey && e.SSH_PRIVATE_KEY_PATH) {
    const keyPath = e.SSH_PRIVATE_KEY_PATH.replace(/^~(?=\/)/, homedir());
    try {
      sshPrivateKey = readFileSync(keyPath, 'utf8');
    } catch (err) {
      throw new ConfigError(`environment: SSH_PRIVATE_KEY_PATH: cannot read ${keyPath} (${(err as NodeJS.ErrnoException).code})`);
    }
  }
  if (e.DISCORD_TOKEN && !e.DISCORD_APPLICATION_ID) {
    throw new ConfigError('environment: DISCORD_APPLICATION_ID: expected the numeric application id when DISCORD_TOKEN is set');
  }
  const redisTlsCa = readPemFile('REDIS_TLS_CA_FILE', e.REDIS_TLS_CA_FILE);
  if (Boolean(e.REDIS_TLS_CERT_FILE) !== Boolean(e.REDIS_TLS_KEY_FILE)) {
    throw new ConfigError(
      `environment: ${e.REDIS_TLS_CERT_FILE ? 'REDIS_TLS_KEY_FILE' : 'REDIS_TLS_CERT_FILE'}: not set, and ${e.REDIS_TLS_CERT_FILE ? 'REDIS_TLS_CERT_FILE' : 'REDIS_TLS_KEY_FILE'} is; a client certificate needs both (the certificate and its private key, PEM)`,
    );
  }
  const redisTlsCert = readPemFile('REDIS_TLS_CERT_FILE', e.REDIS_TLS_CERT_FILE);
  const redisTlsKey = readPemFile('REDIS_TLS_KEY_FILE', e.REDIS_TLS_KEY_FILE);
  registerSecret(redisTlsKey);
  for (const s of [e.TELEGRAM_BOT_TOKEN, e.TELEGRAM_WEBHOOK_SECRET, e.DISCORD_TOKEN, sshPrivateKey, e.CLAWMEDIC_JOB_KEY, e.CLAWMEDIC_METRICS_TOKEN, e.REDIS_SENTINEL_PASSWORD]) registerSecret(s);
  const redisPassword = /^rediss?:\/\/[^:@/]*:([^@]+)@/.exec(e.REDIS_URL)?.[1];
  registerSecret(redisPassword);
  // A percent-encoded password is what the URL carries; the decoded one is what could be echoed back.
  if (redisPassword) registerSecret(safeDecode(redisPassword));
  return {
    redisUrl: e.REDIS_URL,
    redisUrlSet: Boolean(env.REDIS_URL),
    redisSentinelPassword: e.REDIS_SENTINEL_PASSWORD,
    redisSentinelUsername: e.REDIS_SENTINEL_USERNAME,
    telegramToken: e.TELEGRAM_BOT_TOKEN,
    telegramWebhookSecret: e.TELEGRAM_WEBHOOK_SECRET,
    discordToken: e.DISCORD_TOKEN,
    discordApplicationId: e.DISCORD_APPLICATION_ID,
    discordGuildId: e.DISCORD_GUILD_ID,
    sshPrivateKey,
    jobKey: e.CLAWMEDIC_JOB_KEY,
    redisTlsCa,
    ...(redisTlsCert && redisTlsKey ? { redisTlsCert, redisTlsKey } : {}),
    metricsToken: e.CLAWMEDIC_METRICS_TOKEN,
  };
}

/** The text of a PEM file named by `variable` (`~/` allowed), or undefined when the variable is not set. */
function readPemFile(variable: string, file: string | undefined): string | undefined {
  if (!file) return undefined;
  const resolved = file.replace(/^~(?=\/)/, homedir());
  try {
    return readFileSync(resolved, 'utf8');
  } catch (err) {
    throw new ConfigError(`environment: ${variable}: cannot read ${resolved} (${(err as NodeJS.ErrnoException).code})`);
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
