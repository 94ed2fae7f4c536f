/**
 * Loads clawmedic.yaml and the secrets from env, validates both, and fails fast with
 * `clawmedic.yaml: hosts[1].ssh.port: expected integer 1-65535, got "22a"` — never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../domain/errors.js';
import type { HostConfig } from '../domain/host.js';
import { configSchema, type AppConfig } from './schema.js';
import { formatIssues } from './issues.js';
import { loadSecrets, type Secrets } from './secrets.js';
import { redisTarget } from '../state/redis.js';

/** Validated configuration plus secrets: what main.ts wires everything from. */
export interface LoadedConfig {
  file: string;
  config: AppConfig;
  hosts: HostConfig[];
  secrets: Secrets;
}

/** Parse and validate YAML text already read from `file` (its basename is used in messages). */
export function parseConfigText(text: string, file: string): AppConfig {
  const name = basename(file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const pos = lineCounter.linePos(err.pos[0]);
    throw new ConfigError(`${name}: line ${pos.line}, column ${pos.col}: invalid YAML (${err.code})`);
  }
  let raw: unknown;
  try {
    // toJS() throws on an alias bomb ("Excessive alias count…"): say which file did it.
    raw = doc.toJS() ?? {};
  } catch (err) {
    throw new ConfigError(`${name}: invalid YAML (${err instanceof Error ? err.message : String(err)})`);
  }
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(formatIssues(name, result.error.issues));
  return result.data;
}

/** Read `file`, validate it and the env; throws ConfigError with every problem listed. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `${file}: file not found (copy clawmedic.example.yaml to start, or pass --config <file>)`
        : `${file}: cannot read (${code ?? 'error'})`,
    );
  }
  const config = parseConfigText(text, file);
  const secrets = loadSecrets(env);
  // REDIS_URL against redis.sentinels: the one answer to "where is Redis" (throws ConfigError naming the variable).
  redisTarget(config.redis, secrets);
  return { file, config, hosts: config.hosts as HostConfig[], secrets };
}
