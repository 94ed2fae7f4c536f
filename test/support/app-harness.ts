/**
 * Brings up a whole clawmedic process for tests: a real sshd with the OpenClaw host stand-in
 * on its PATH, real Redis under a unique prefix, and createApp() exactly as the CLI wires it.
 */
import { randomBytes } from 'node:crypto';
import { parseConfigText, type LoadedConfig } from '../../src/config/load-config.js';
import type { HostConfig } from '../../src/domain/host.js';
import { createApp, type App, type AppOptions } from '../../src/main.js';
import { KeySpace } from '../../src/state/key-space.js';
import { createLogger } from '../../src/util/logger.js';
import { createStandin, type Standin } from './host-standin/index.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from './redis.js';
import { hostConfigFor, startSshd, type SshdHandle } from './sshd.js';
import { stringify } from 'yaml';

export interface Harness {
  standin: Standin;
  sshd: SshdHandle;
  loaded: LoadedConfig;
  app: App;
  prefix: string;
  /** The names of the app's keys (KeySpace.forConfig, as main.ts builds it). */
  keys: KeySpace;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Extra YAML top-level sections (people, chats, fix...) merged over the defaults. */
  extra?: Record<string, unknown>;
  /** Extra hosts (e.g. one with a wrong pinned key), given the sshd. */
  moreHosts?: (sshd: SshdHandle, standin: Standin) => Array<Partial<HostConfig> & { name: string }>;
  app?: Partial<AppOptions>;
  /** Extra secrets (bot tokens for the chat stand-ins). */
  secrets?: Partial<LoadedConfig['secrets']>;
  /** Scale of the real CLI latencies the stand-in replays (default: CLAWMEDIC_STANDIN_LATENCY, else 0). */
  standinLatency?: number;
}

/** The stand-in host as an inventory entry named "prod", supervised by a systemd user unit. */
export function prodHost(sshd: SshdHandle): HostConfig {
  return hostConfigFor(sshd, { name: 'prod', supervisor: { kind: 'systemd-user', unit: 'openclaw-gateway.service' } });
}

function toYamlHost(h: HostConfig): Record<string, unknown> {
  const { ssh, ...rest } = h;
  // privateKeyPath stays: the harness key is a file; secrets come through env in real use.
  return { ...rest, ssh };
}

/** Start sshd + stand-in + app. Call close() in afterAll. */
export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const standin = await createStandin({ latency: opts.standinLatency });
  const sshd = await startSshd({ binDir: standin.binDir, env: standin.env });
  const prefix = uniquePrefix('app');
  const hosts = [prodHost(sshd), ...(opts.moreHosts?.(sshd, standin) ?? []).map((h) => ({ ...prodHost(sshd), ...h, ssh: { ...prodHost(sshd).ssh, ...(h.ssh ?? {}) } }))];
  const doc = {
    hosts: hosts.map(toYamlHost),
    people: [{ platform: 'console', userId: 'local', role: 'admin' }],
    redis: { keyPrefix: prefix },
    fix: { maxAttemptsPerHour: 20, verifyWindowSec: 1 },
    http: { host: '127.0.0.1', port: 0 },
    ...opts.extra,
  };
  const config = parseConfigText(stringify(doc), 'clawmedic.yaml');
  const loaded: LoadedConfig = {
    file: 'clawmedic.yaml',
    config,
    hosts: config.hosts as HostConfig[],
    // A fresh signing key per harness, as an operator's .env would hold one.
    secrets: { redisUrl: TEST_REDIS_URL, sshPrivateKey: sshd.privateKey, jobKey: randomBytes(32).toString('hex'), ...opts.secrets },
  };
  const app = await createApp(loaded, {
    workers: true,
    adapters: ['console'],
    http: true,
    redisWaitMs: 3000,
    verifyWindowSec: 1,
    logger: createLogger(process.env.LOG_LEVEL ?? 'silent'),
    consoleWrite: process.env.LOG_LEVEL ? undefined : () => undefined,
    ...opts.app,
  });
  return {
    standin,
    sshd,
    loaded,
    app,
    // The prefix the app writes under ({…} on a Redis Cluster).
    prefix: KeySpace.forConfig(config.redis).prefix,
    keys: KeySpace.forConfig(config.redis),
    async close() {
      await app.close();
      await sshd.stop();
      await standin.cleanup();
      // A cluster of the test's own is thrown away whole; the shared Redis keeps only what this prefix holds.
      if (!config.redis.cluster) await cleanupPrefix(prefix);
    },
  };
}
