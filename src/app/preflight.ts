/**
 * Settings that must hold before a process connects to anything: each missing one is a ConfigError
 * that names the key and how to set it, instead of a process that runs but refuses everything.
 */
import { basename } from 'node:path';
import type { LoadedConfig } from '../config/load-config.js';
import { ConfigError } from '../domain/errors.js';
import { JOB_KEY_ENV } from '../util/job-signer.js';
import type { AdapterName } from './chat-adapters.js';

/** Check the start settings; returns the job key (every process needs it). */
export function checkStartConfig(loaded: LoadedConfig, adapters: readonly AdapterName[]): string {
  const { config, secrets } = loaded;
  // Every process signs (router: fix jobs, buttons) or verifies (fix worker) what goes through Redis.
  if (!secrets.jobKey) {
    throw new ConfigError(
      `environment: ${JOB_KEY_ENV}: not set. clawmedic signs queued fixes and buttons with it so that write access to Redis alone cannot run anything on a host, ` +
        'and seals with a key derived from it the secrets that pass through Redis (a fresh dashboard link, Discord interaction tokens); ' +
        'set the same value on every clawmedic process (generate one with: openssl rand -hex 32).',
    );
  }
  if (adapters.includes('console') && !config.people.some((p) => p.platform === 'console' && p.userId === config.console.userId)) {
    // Otherwise every command typed at the console is refused as coming from a stranger.
    throw new ConfigError(
      `${basename(loaded.file)}: console.userId: "${config.console.userId}" is not in people; add ` +
        `{ platform: console, userId: ${config.console.userId}, role: admin } to people (or set console.userId to a console person's id)`,
    );
  }
  if (adapters.includes('telegram') && secrets.telegramToken && config.telegram.mode === 'webhook' && !secrets.telegramWebhookSecret) {
    // Telegram sends this secret with every update; without it anyone who finds the URL can post commands as anyone.
    throw new ConfigError(
      'environment: TELEGRAM_WEBHOOK_SECRET: not set, and telegram.mode is webhook. Set 16-256 characters of A-Z a-z 0-9 _ - ' +
        '(e.g. openssl rand -hex 32); Telegram sends it with every update and clawmedic refuses updates without it.',
    );
  }
  return secrets.jobKey;
}
