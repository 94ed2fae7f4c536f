/**
 * What workers need to do on a host, as one interface: quick status, full diagnose, plan,
 * and running one fix step. The real implementation (remote-host-ops.ts) goes over SSH and
 * through src/openclaw/; workers depend only on this.
 */
import type { FixPlan, FixStep, Verdict } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';

/** Result of the quick read-only check behind /status. */
export interface HostStatus {
  host: string;
  /** SSH worked. */
  reachable: boolean;
  /** The gateway answered its own RPC probe. */
  probeOk: boolean;
  version?: string;
  /** "127.0.0.1:18789" when something listens on the gateway port. */
  listening?: string;
  /** Redacted probe error ("connect ECONNREFUSED 127.0.0.1:18789"). */
  probeError?: string;
  memoryUsedPct?: number;
  /** Resident memory of the gateway process, bytes, where the status check could tell (optional). */
  gatewayRssBytes?: number;
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
