/**
 * HostOps over SSH: runs the fixed scripts of src/openclaw/ through the SSH transport and
 * turns their output into statuses, verdicts and step results. The only place where remote
 * output meets OpenClaw knowledge; redaction happens before anything leaves this module.
 */
import type { LoadedConfig } from '../config/load-config.js';
import { ClawmedicError, SshTimeoutError } from '../domain/errors.js';
import type { Cause, FixPlan } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import type { RemoteRunner } from '../domain/remote.js';
import { SshRunner } from '../remote/ssh-runner.js';
import { parseEvidence } from '../openclaw/evidence.js';
import { gatherEvidence } from './evidence-pass.js';
import { diagnose } from '../openclaw/diagnose.js';
import { planFix, verifyFix, parseDashboardUrl, startWaitSecFor, waitForGatewayStep } from '../openclaw/plan.js';
import { renderStep } from '../openclaw/step-catalog.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import type { HostOps, StepResult } from '../domain/host-ops.js';
import { checkHostStatus } from './host-status.js';
import { probeWebSocketUpgrade } from './external-probe.js';


/**
 * The plan that puts back the config backup doctor --fix left (openclaw.json.bak) and restarts the
 * gateway. On a docker install the backup is in the container's state volume, restored through a
 * one-off container, never in the SSH user's ~/.openclaw.
 */
export function buildRestorePlan(host: HostConfig, cause: Cause): FixPlan {
  const restore = host.install === 'docker' ? 'container_restore_config_backup' : 'restore_config_backup';
  return {
    host: host.name,
    cause,
    steps: [renderStep(host, 'stop_gateway'), renderStep(host, restore), renderStep(host, 'start_gateway')],
    userActions: [],
    disruptive: true,
    verifyWindowSec: 10,
  };
}

/**
 * "Bring it back" after a fix was interrupted with the gateway stopped: start it the way the host
 * supervises it, wait for its probe, verify. Nothing else (doctor, config) is re-run.
 */
export function buildBringBackPlan(host: HostConfig, opts: { waitSec?: number; verifyWindowSec?: number } = {}): FixPlan {
  return {
    host: host.name,
    cause: 'gateway_down',
    steps: [renderStep(host, 'start_gateway'), waitForGatewayStep(host, startWaitSecFor(host, opts.waitSec))],
    userActions: [],
    disruptive: true,
    verifyWindowSec: opts.verifyWindowSec ?? 10,
  };
}

export interface RemoteHostOpsOptions {
  logger: Logger;
  metrics?: Metrics;
  /** Inject a runner (tests); otherwise an SshRunner with the configured key and deadlines. */
  runner?: RemoteRunner;
  /** Overrides every runbook's verify window (config fix.verifyWindowSec; tests shorten it). */
  verifyWindowSec?: number;
  /** How long a fix waits for a (re)started gateway to answer its probe (config fix.startWaitSec). */
  startWaitSec?: number;
}

/** Build HostOps backed by SSH. */
export async function createRemoteHostOps(
  loaded: LoadedConfig,
  opts: RemoteHostOpsOptions,
): Promise<{ ops: HostOps; runner: RemoteRunner; close(): Promise<void> }> {
  const { config, secrets } = loaded;
  const runner =
    opts.runner ??
    new SshRunner({
      privateKey: secrets.sshPrivateKey,
      connectTimeoutMs: config.jobs.connectTimeoutSec * 1000,
      defaultMaxOutputBytes: config.jobs.maxOutputBytes,
      logger: opts.logger,
      onExec: (host, ms, ok) => opts.metrics?.sshExec.observe({ host, outcome: ok ? 'ok' : 'error' }, ms / 1000),
    });
  const maxOutputBytes = config.jobs.maxOutputBytes;
  // The CLI fallback of /status (gateway status --json takes ~3.6 s on 2026.9.6): the configured per-command deadline.
  const statusTimeoutMs = config.jobs.commandTimeoutSec * 1000;

  const ops: HostOps = {
    status: (host) => checkHostStatus(runner, host, { cliTimeoutMs: statusTimeoutMs, maxOutputBytes }),

    async diagnose(host, diagnoseOpts = {}) {
      // The outside view runs alongside the SSH parts: it needs no SSH and costs nothing extra in time.
      const [res, external] = await Promise.all([
        gatherEvidence(runner, host, { maxOutputBytes }),
        host.gateway.url ? probeWebSocketUpgrade(host.gateway.url) : Promise.resolve(undefined),
      ]);
      const evidence = parseEvidence(res.stdout);
      if (external) evidence.externalProbe = { url: external.url, ok: external.ok, status: external.status, error: external.error };
      evidence.gaps.push(...res.gaps);
      return diagnose(host, evidence, undefined, { since: diagnoseOpts.since });
    },

    plan(host, verdict) {
      const plan = planFix(host, verdict);
      if (opts.verifyWindowSec !== undefined) plan.verifyWindowSec = opts.verifyWindowSec;
      const waitSec = opts.startWaitSec;
      if (waitSec !== undefined) plan.steps = plan.steps.map((s) => (s.kind === 'wait_for_gateway' ? waitForGatewayStep(host, startWaitSecFor(host, waitSec)) : s));
      return plan;
    },
    verify: (before, after) => verifyFix(before, after),
    restorePlan: (host, cause) => buildRestorePlan(host, cause),
    bringBackPlan: (host) => buildBringBackPlan(host, { waitSec: opts.startWaitSec, verifyWindowSec: opts.verifyWindowSec }),

    async runStep(host, step) {
      const started = Date.now();
      try {
        const res = await runner.exec(host, step.script, { timeoutMs: step.timeoutMs, maxOutputBytes });
        const result: StepResult = {
          exitCode: res.exitCode,
          durationMs: res.durationMs,
          timedOut: false,
          output: step.secretOutput ? '' : redact(`${res.stdout}${res.stderr ? `\n${res.stderr}` : ''}`.trim()),
        };
        if (step.secretOutput) {
          const url = parseDashboardUrl(res.stdout);
          if (url) result.secret = url;
          else result.error = 'the host did not print a dashboard link';
        }
        return result;
      } catch (err) {
        const timedOut = err instanceof SshTimeoutError;
        return {
          exitCode: null,
          durationMs: Date.now() - started,
          timedOut,
          output: '',
          error: redact(err instanceof Error ? err.message : String(err)),
        };
      }
    },
  };
  return { ops, runner, close: () => runner.close() };
}
