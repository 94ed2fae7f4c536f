/**
 * Issue 12.8: what the HTTP side and the console accept. /metrics (host names, error counts) can be
 * closed with a bearer token, and binding it to the network without one is warned about at start;
 * a console whose user is not a person in the config is refused at start instead of refusing every
 * command typed at it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { parseConfigText, type LoadedConfig } from '../../src/config/load-config.js';
import { createApp } from '../../src/main.js';
import { isLoopbackHost, startHttpServer } from '../../src/http/http-server.js';
import { createMetrics } from '../../src/http/metrics.js';
import { createLogger } from '../../src/util/logger.js';
import { ConfigError } from '../../src/domain/errors.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { stringify } from 'yaml';

const FP = `SHA256:${'A'.repeat(43)}`;
const JOB_KEY = 'k'.repeat(40);
const METRICS_TOKEN = 'm3tr1cs-t0ken-for-the-test-0123456789';

function loadedWith(extra: Record<string, unknown>, prefix: string, secrets: Partial<LoadedConfig['secrets']> = {}): LoadedConfig {
  const config = parseConfigText(
    stringify({
      hosts: [{ name: 'prod', ssh: { host: '127.0.0.1', port: 1, user: 'claw', hostKeyFingerprint: FP }, supervisor: { kind: 'systemd-user' } }],
      redis: { keyPrefix: prefix },
      ...extra,
    }),
    'clawmedic.yaml',
  );
  return { file: '/etc/clawmedic/clawmedic.yaml', config, hosts: config.hosts as LoadedConfig['hosts'], secrets: { redisUrl: TEST_REDIS_URL, jobKey: JOB_KEY, ...secrets } };
}

describe('/metrics behind a token', () => {
  let server: Server;
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('answers 401 without the bearer token, the metrics with it; /healthz stays open for healthchecks', async () => {
    server = await startHttpServer({ host: '127.0.0.1', port: 0, metrics: createMetrics(), checks: {}, metricsToken: METRICS_TOKEN });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-of-other-length' } })).status).toBe(401);
    const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('# HELP');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('knows loopback from the network', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', '10.0.0.1']) expect(isLoopbackHost(h)).toBe(false);
  });
});

describe('createApp refuses or warns before exposing anything', () => {
  const prefix = uniquePrefix('httpexp');
  afterAll(() => cleanupPrefix(prefix));

  function capture(): { logger: ReturnType<typeof createLogger>; lines: () => string } {
    const chunks: string[] = [];
    const dest = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } });
    return { logger: createLogger('warn', dest), lines: () => chunks.join('') };
  }

  it('warns when /metrics is bound to the network without a token, not when a token is set', async () => {
    for (const [token, expectWarn] of [[undefined, true], [METRICS_TOKEN, false]] as const) {
      const log = capture();
      const app = await createApp(loadedWith({ http: { host: '0.0.0.0', port: 0 } }, prefix, { metricsToken: token }), {
        workers: false, adapters: [], http: true, monitor: false, redisWaitMs: 3000, logger: log.logger,
      });
      await app.close();
      expect(log.lines().includes('/metrics is served without authentication on 0.0.0.0')).toBe(expectWarn);
      expect(log.lines()).not.toContain(METRICS_TOKEN);
    }
  });

  it('refuses to start a console whose console.userId is not a person, naming the file and key', async () => {
    const loaded = loadedWith({ people: [{ platform: 'telegram', userId: 42, role: 'admin' }] }, prefix);
    const err = await createApp(loaded, { workers: false, adapters: ['console'], http: false, monitor: false, redisWaitMs: 3000, logger: createLogger('silent') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('clawmedic.yaml: console.userId: "local" is not in people');
    // The same config without the console (a Telegram-only bot) starts.
    const app = await createApp(loaded, { workers: false, adapters: [], http: false, monitor: false, redisWaitMs: 3000, logger: createLogger('silent') });
    await app.close();
  });
});
