/**
 * Types of OpenClaw knowledge: causes of a 4008, verdicts with evidence, fix plans.
 * Produced by pure code in src/openclaw/, consumed by workers and rendered by commands.
 */

/** Every root cause clawmedic can name. Stable ids: they key incidents and audit records. */
export const CAUSES = [
  'token_mismatch',
  'device_token_mismatch',
  'stale_client',
  'token_rotated',
  'config_autorestored',
  'gateway_down',
  'crash_loop',
  'out_of_memory',
  'memory_pressure',
  'plugin_failure',
  'port_conflict',
  'second_gateway',
  'proxy_blocks_websocket',
  'dns_unresolved',
  'gateway_url_mismatch',
  'origin_not_allowed',
  'gateway_mode_unset',
  'rate_limited',
  'insecure_context',
  'telegram_conflict',
  'host_unreachable',
  'healthy',
  'unknown',
] as const;
export type Cause = (typeof CAUSES)[number];

export type Confidence = 'high' | 'medium' | 'low';

/**
 * Typed facts a rule found, read by the fix planner (never re-parsed from evidence text).
 * No secret ever goes here: token values are never read into a finding.
 */
export interface FindingDetails {
  /** port_conflict: who holds the gateway port. `visible: false` = another Linux user's process the SSH user cannot see. */
  portOwner?: { pid?: number; process?: string; user?: string; visible: boolean };
  /** plugin_failure: ids of the plugins that fail to load. */
  pluginIds?: string[];
  /** plugin_failure: the plugins' runtime modules are missing (an unfinished update), not a bad plugin. */
  pluginDepsMissing?: boolean;
  /**
   * token causes: where the token the gateway checks comes from. `override` = the running gateway was
   * started with `--token` (it differs from its config); `service_override` = the service definition
   * passes `--token` (systemd drop-in / ExecStart, container command).
   */
  tokenSource?: 'config' | 'override' | 'service_override' | 'rotation' | 'restore';
  /** client causes: the browser Origin (or remote address) and client id of the failing client. */
  origin?: string;
  clientId?: string;
  /** rate_limited: ISO time the lockout ends (10 failures in 60 s → 5 minutes). */
  lockoutUntil?: string;
  /** dns_unresolved: the name that does not resolve. */
  hostname?: string;
  /** Why `openclaw doctor --fix` cannot work on this host (2026.4 without a safe npm executable). */
  doctorUnavailable?: string;
}

/** One named cause with the lines that prove it (already redacted). */
export interface Finding {
  cause: Cause;
  confidence: Confidence;
  /** 0..100, for ordering several causes by weight. */
  weight: number;
  /** Plain-language one-liner: "Browser tab from http://localhost:18789 keeps presenting an old gateway token". */
  summary: string;
  /** Evidence lines, redacted, each short. */
  evidence: string[];
  /** What the user must do themselves (re-open dashboard, clear site data, raise RAM...). */
  userActions: string[];
  /** ISO time the cause was first seen in the window (absent: a state, not an event). */
  since?: string;
  /** ISO time the cause was last seen (absent: a state seen by this pass). */
  lastSeen?: string;
  /** Seen within the live window or confirmed by the live probe: the cause of what fails now. */
  current?: boolean;
  /** What made this finding history: "gateway restart at 15:04:10", "successful connect from … at …". */
  supersededBy?: string;
  /** Typed facts for the planner. */
  details?: FindingDetails;
}

/** The result of a diagnose pass over one host. */
export interface Verdict {
  host: string;
  /** Current before old, then confidence, then weight; `findings[0]` is the headline. Never empty: 'healthy' or 'unknown' at worst. */
  findings: Finding[];
  /** OpenClaw version seen on the host, if any ("2026.9.6"). */
  openclawVersion?: string;
  /** Is the gateway answering its own RPC probe right now? */
  probeOk: boolean;
  /** Sections that could not be gathered (command failed, timed out) with the reason. */
  gaps: string[];
  /** ISO time of the evidence pass. */
  at: string;
  /**
   * Successful client connects (Control UI / webchat hello) logged in the window, when any: after a
   * fix, a client that got through. Lets a verify window end as soon as the failing client is back.
   */
  clientConnects?: number;
}

/** Named, fixed actions a fix may run. Chat text never becomes one of these. */
export const FIX_STEP_KINDS = [
  'stop_gateway',
  'start_gateway',
  'restart_gateway',
  'doctor_fix',
  'reinstall_service',
  'remove_token_override',
  'kill_port_owner',
  'disable_plugin',
  'set_gateway_mode_local',
  'fresh_dashboard_link',
  'restore_config_backup',
  'wait_for_gateway',
  // Docker installs: run in a one-off container of the gateway's image, volumes and env while the
  // gateway's container is stopped (docker exec would race the gateway for its state lock).
  'container_doctor_fix',
  'container_disable_plugin',
  'container_restore_config_backup',
  'container_set_gateway_mode_local',
] as const;
export type FixStepKind = (typeof FIX_STEP_KINDS)[number];

/**
 * Validated parameters of a step (see src/openclaw/step-catalog.ts): the only values besides the
 * inventory that shape a step's script. What is stored or queued for a plan is kind + params.
 */
export interface StepParams {
  /** disable_plugin, container_disable_plugin: the plugin id (npm-like name). */
  pluginId?: string;
  /** kill_port_owner: the pid that holds the gateway port (re-checked on the host before any kill). */
  pid?: number;
  /** kill_port_owner: the owner's process name, for the description only. */
  processName?: string;
  /** wait_for_gateway: how long to wait for the probe, seconds. */
  waitSec?: number;
  /** stop_gateway: go on with later steps if the stop fails (default true). */
  continueOnError?: boolean;
}

/** One step of a fix: a named action rendered to a fixed remote script from a template. */
export interface FixStep {
  kind: FixStepKind;
  /** The parameters the script was rendered from (absent when the kind takes none). */
  params?: StepParams;
  /** What the confirmation shows: "stop the gateway (systemctl --user stop openclaw-gateway.service)". */
  description: string;
  /** The remote script to run (built only from templates and inventory values, shell-quoted). */
  script: string;
  timeoutMs: number;
  /** Does this step change state on the host? Read-only steps may be retried. */
  mutates: boolean;
  /** The step's stdout is secret (a tokenized link): deliver privately to the requester, never log it. */
  secretOutput?: boolean;
  /** Continue with later steps if this one fails? (e.g. stop of an already-stopped gateway) */
  continueOnError?: boolean;
}

/** The plan for `/fix`, derived from the verdict's headline cause and the host's supervisor. */
export interface FixPlan {
  host: string;
  cause: Cause;
  /** Steps in order. Empty when the fix is entirely on the user's side. */
  steps: FixStep[];
  /** Shown to the user when nothing on the host can fix it (firewall, RAM, browser). */
  userActions: string[];
  /** Does the plan restart/stop the gateway? (alerts are muted while it runs) */
  disruptive: boolean;
  /** Seconds to watch the log after the fix for a recurrence of the cause. */
  verifyWindowSec: number;
}

/** Outcome of a fix after verification. */
export interface FixOutcome {
  host: string;
  cause: Cause;
  status: 'fixed' | 'not_fixed' | 'failed' | 'user_action_needed';
  steps: Array<{
    kind: FixStepKind;
    exitCode: number | null;
    durationMs: number;
    timedOut: boolean;
    ok: boolean;
    /** Redacted tail of the output. */
    output: string;
  }>;
  after?: Verdict;
  message: string;
}
