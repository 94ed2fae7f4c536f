/**
 * /healthz (Redis, workers, adapters) and /metrics (prom-client). Binds to loopback by
 * default: it is for a local Prometheus or a container healthcheck, not the internet.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Metrics } from './metrics.js';

/** One named check: ok or a reason. */
export type HealthCheck = () => Promise<{ ok: boolean; detail?: string }>;

export interface HttpServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  checks: Record<string, HealthCheck>;
  /** When set, /metrics answers only `Authorization: Bearer <token>` (401 otherwise). /healthz stays open for healthchecks. */
  metricsToken?: string;
}

/** Loopback addresses: binding elsewhere exposes /metrics (host names, error counts) to the network. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Constant-time comparison (hashes first so lengths never leak). */
function bearerMatches(req: IncomingMessage, token: string): boolean {
  const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
  const digest = (v: string): Buffer => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** Start the server; resolves with it listening (port 0 picks a free one: read server.address()). */
export async function startHttpServer(opts: HttpServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/metrics') {
        if (opts.metricsToken && !bearerMatches(req, opts.metricsToken)) {
          res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' });
          res.end('unauthorized\n');
          return;
        }
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
