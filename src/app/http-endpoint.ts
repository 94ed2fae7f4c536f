/**
 * The process's HTTP endpoint (/healthz, /metrics) and what /healthz checks: Redis (clawmedic's own
 * slot on a Cluster), the workers, and every chat adapter's ability to receive.
 */
import type { KeySpace } from '../state/key-space.js';
import type { Server } from 'node:http';
import { Cluster } from 'ioredis';
import type { AppConfig } from '../config/schema.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { ChatAdapter } from '../domain/ports.js';
import { describeReceive } from '../chat/receive-health.js';
import type { Platform } from '../domain/types.js';
import { isLoopbackHost, startHttpServer } from '../http/http-server.js';
import type { Metrics } from '../http/metrics.js';
import type { RedisClient } from '../state/redis.js';
import type { Logger } from '../util/logger.js';
import type { AppWorker } from './workers.js';

/** What the endpoint reports on. */
export interface HttpEndpointParts {
  redis: RedisClient;
  keys: KeySpace;
  metrics: Metrics;
  workers: readonly AppWorker[];
  adapters: ReadonlyMap<Platform, ChatAdapter>;
  logger: Logger;
}

/** Start /healthz and /metrics on config.http; warns when /metrics is open to the network without a token. */
export async function startHttpEndpoint(loaded: LoadedConfig, parts: HttpEndpointParts): Promise<Server> {
  const { config, secrets } = loaded;
  warnIfMetricsOpen(config, secrets.metricsToken, parts.logger);
  const { redis, keys, workers, adapters } = parts;
  return startHttpServer({
    host: config.http.host,
    port: config.http.port,
    metricsToken: secrets.metricsToken,
    metrics: parts.metrics,
    checks: {
      // On a Cluster PING goes to any node; a read of clawmedic's own slot says whether its master answers.
      redis: async () => ({ ok: redis instanceof Cluster ? (await redis.exists(keys.slotKey)) >= 0 : (await redis.ping()) === 'PONG' }),
      workers: async () => ({ ok: workers.every((w) => w.isRunning()), detail: `${workers.length} running` }),
      // An adapter that cannot receive makes the process unhealthy: which one, since when, why.
      adapters: async () => {
        const states = [...adapters].map(([platform, a]) => ({ platform, s: a.receiveState?.() ?? { ok: true as const } }));
        const down = states.filter((x) => !x.s.ok);
        return down.length === 0
          ? { ok: true, detail: [...adapters.keys()].join(',') || 'none' }
          : { ok: false, detail: down.map((x) => describeReceive(x.platform, x.s)).join('; ') };
      },
    },
  });
}

function warnIfMetricsOpen(config: AppConfig, metricsToken: string | undefined, logger: Logger): void {
  if (isLoopbackHost(config.http.host) || metricsToken) return;
  logger.warn(
    { host: config.http.host, port: config.http.port },
    `http: /metrics is served without authentication on ${config.http.host} (host names and error counts are readable from the network); ` +
      'set CLAWMEDIC_METRICS_TOKEN to require "Authorization: Bearer <token>", or bind http.host to 127.0.0.1',
  );
}
