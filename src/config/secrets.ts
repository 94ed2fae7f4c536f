/**
 * Secrets come from the environment only (.env is loaded by the CLI): bot tokens, Redis URL,
 * the SSH private key. They are registered with the redactor the moment they are read.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { z } from 'zod';
import { ConfigError } from '../domain/errors.js';
import { registerSecret } from '../util/redact.js';
import { formatIssues } from './load-config.js';

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
});

/** Secrets after validation. `sshPrivateKey` is the key text itself (read from the path when given). */
export interface Secrets {
  redisUrl: string;
  telegramToken?: string;
  /** Telegram's X-Telegram-Bot-Api-Secret-Token for webhook mode. */
  telegramWebhookSecret?: string;
  discordToken?: string;
  discordApplicationId?: string;
  discordGuildId?: string;
  sshPrivateKey?: string;
}

/** Validate env secrets; names the variable (never its value) on error. */
export function loadSecrets(env: NodeJS.ProcessEnv): Secrets {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // Drop the input from messages: these are secrets.
    throw new ConfigError(formatIssues('environment', parsed.error.issues.map((i) => ({ ...i, input: undefined }))));
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
  for (const s of [e.TELEGRAM_BOT_TOKEN, e.TELEGRAM_WEBHOOK_SECRET, e.DISCORD_TOKEN, sshPrivateKey]) registerSecret(s);
  const redisPassword = /^rediss?:\/\/[^:@/]*:([^@]+)@/.exec(e.REDIS_URL)?.[1];
  registerSecret(redisPassword);
  return {
    redisUrl: e.REDIS_URL,
    telegramToken: e.TELEGRAM_BOT_TOKEN,
    telegramWebhookSecret: e.TELEGRAM_WEBHOOK_SECRET,
    discordToken: e.DISCORD_TOKEN,
    discordApplicationId: e.DISCORD_APPLICATION_ID,
    discordGuildId: e.DISCORD_GUILD_ID,
    sshPrivateKey,
  };
}
