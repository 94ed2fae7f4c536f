/**
 * /healthz (Redis, workers, adapters) and /metrics (prom-client). Binds to loopback by
 * default: it is for a local Prometheus or a container healthcheck, not the internet.
 */
import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.js';

/** One named check: ok or a reason. */
export type HealthCheck = () => Promise<{ ok: boolean; detail?: string }>;

export interface HttpServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  checks: Record<string, HealthCheck>;
}

/** Start the server; resolves with it listening (port 0 picks a free one: read server.address()). */
export async function startHttpServer(opts: HttpServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': opts.metrics.registry.contentType });
        res.end(await opts.metrics.registry.metrics());
        return;
      }
      if (req.url === '/healthz') {
        const results: Record<string, { ok: boolean; detail?: string }> = {};
        await Promise.all(
          Object.entries(opts.checks).map(async ([name, check]) => {
            try {
              results[name] = await Promise.race([
                check(),
                new Promise<{ ok: boolean; detail: string }>((r) => setTimeout(() => r({ ok: false, detail: 'timed out' }), 2000)),
              ]);
            } catch (err) {
              results[name] = { ok: false, detail: err instanceof Error ? err.message : String(err) };
            }
          }),
        );
        const ok = Object.values(results).every((r) => r.ok);
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok, checks: results }));
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    })().catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return server;
}
