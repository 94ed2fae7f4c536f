/**
 * Prometheus metrics (prom-client) on a registry of our own: jobs by type and outcome, SSH
 * latency, deliveries. Served at /metrics.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  jobDuration: Histogram<'type' | 'outcome'>;
  sshExec: Histogram<'host' | 'outcome'>;
  deliveries: Counter<'platform' | 'outcome'>;
}

/** Create the registry and metrics (default process metrics included). */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'clawmedic_' });
  return {
    registry,
    jobDuration: new Histogram({
      name: 'clawmedic_job_duration_seconds',
      help: 'Duration of diagnose/status/plan/fix jobs by type and outcome',
      labelNames: ['type', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    sshExec: new Histogram({
      name: 'clawmedic_ssh_exec_seconds',
      help: 'Latency of remote commands over SSH by host and outcome',
      labelNames: ['host', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'clawmedic_deliveries_total',
      help: 'Chat deliveries by platform and outcome',
      labelNames: ['platform', 'outcome'],
      registers: [registry],
    }),
  };
}
