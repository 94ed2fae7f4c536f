/**
 * What workers need to do on a host, as one port: quick status, full diagnose, plan, and running
 * one fix step. The real implementation (jobs/remote-host-ops.ts) goes over SSH and through
 * src/openclaw/; workers, the monitor's probe and the renderers depend only on this and its results.
 */
import type { FixPlan, FixStep, Verdict } from './diagnosis.js';
import type { HostConfig } from './host.js';

/** Result of the quick read-only check behind /status. */
export interface HostStatus {
  host: string;
  /** SSH worked. */
  reachable: boolean;
  /** The gateway answered its probe (GET /healthz, or the CLI's RPC probe when that had to run). */
  probeOk: boolean;
  /**
   * Which probe answered: `healthz` = the light probe (ss + GET /healthz + /proc, a few ms of host CPU);
   * `cli` = `openclaw gateway status --json` (~4 s of CPU and ~300 MB on a real host), run only when
   * the light probe could not tell (see `fallbackReason`). Absent when SSH failed.
   */
  probe?: 'healthz' | 'cli';
  /** Why the CLI had to answer instead of /healthz ("port 18789 answered HTTP 404 …", "no curl or wget on the host"). */
  fallbackReason?: string;
  /** Another program holds the gateway port (named in probeError; its HTTP body is never copied). */
  portConflict?: boolean;
  version?: string;
  /** "127.0.0.1:18789" when something listens on the gateway port. */
  listening?: string;
  /** Redacted probe error ("connect ECONNREFUSED 127.0.0.1:18789"). */
  probeError?: string;
  /** Host memory in use, from /proc/meminfo (MemTotal - MemAvailable). */
  memoryUsedPct?: number;
  /** Resident memory of the gateway process (VmRSS of the pid ss names on the port), MB. */
  gatewayRssMb?: number;
  /** Why the check failed (host unreachable, host key mismatch...), readable by a chat user. */
  error?: string;
  durationMs: number;
}

/** Result of one fix step. */
export interface StepResult {
  exitCode: number | null;
  durationMs: number;
  timedOut: boolean;
  /** Redacted output (secret steps: empty; the secret goes to `secret`). */
  output: string;
  /** For secretOutput steps only: the value to hand privately to the requester (never logged). */
  secret?: string;
  error?: string;
}

export interface HostOps {
  status(host: HostConfig): Promise<HostStatus>;
  /** `since`: ignore log events before it (verifying a fix must not see the 4008s from before the fix). */
  diagnose(host: HostConfig, opts?: { since?: Date }): Promise<Verdict>;
  plan(host: HostConfig, verdict: Verdict): FixPlan;
  runStep(host: HostConfig, step: FixStep): Promise<StepResult>;
  /** Decide whether the fix worked, comparing the verdicts before and after. */
  /** `status` user_action_needed: the host part worked, `action` names what the user must do. */
  verify(before: Verdict, after: Verdict): { fixed: boolean; reason: string; status?: 'fixed' | 'not_fixed' | 'user_action_needed'; action?: string };
  /** Plan that puts back the openclaw.json backup doctor --fix left, offered when a fix did not help. */
  restorePlan?(host: HostConfig, cause: FixPlan['cause']): FixPlan | undefined;
  /** Plan that starts a gateway an interrupted fix had stopped and verifies it ("Bring it back"). */
  bringBackPlan?(host: HostConfig): FixPlan;
}
