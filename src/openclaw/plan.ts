/**
 * Fix runbooks: the plan that matches a verdict's headline cause on this host's supervisor, the
 * verification of a fix by a fresh verdict, and the parser of the fresh dashboard link.
 */
import type { Cause, Finding, FindingDetails, FixPlan, FixStep, Verdict } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import { classifyClient } from './correlate.js';
import { extractJsonObject } from './parse-gateway-status.js';
import { DEFAULT_WAIT_SEC, isDisruptive, renderStep } from './step-catalog.js';

/** The step that waits for the gateway to answer its probe (`sec`: how long; config fix.startWaitSec). */
export function waitForGatewayStep(host: HostConfig, sec = DEFAULT_WAIT_SEC): FixStep {
  return renderStep(host, 'wait_for_gateway', sec === DEFAULT_WAIT_SEC ? {} : { waitSec: sec });
}
const stepStop = (host: HostConfig): FixStep => renderStep(host, 'stop_gateway');
const stepStart = (host: HostConfig): FixStep => renderStep(host, 'start_gateway');
const stepRestart = (host: HostConfig): FixStep => renderStep(host, 'restart_gateway');
/**
 * The wait for the gateway on this host, from the configured one (fix.startWaitSec). A gateway in a
 * container boots slower (measured ~57 s to listening on a real engine, more on vfs storage) and every
 * probe is a `docker exec`: docker installs get twice the configured wait.
 */
export function startWaitSecFor(host: HostConfig, configuredSec = DEFAULT_WAIT_SEC): number {
  return host.install === 'docker' ? 2 * configuredSec : configuredSec;
}
const stepWait = (host: HostConfig): FixStep => waitForGatewayStep(host, startWaitSecFor(host));
const stepDoctor = (host: HostConfig): FixStep => renderStep(host, 'doctor_fix');
const stepLink = (host: HostConfig): FixStep => renderStep(host, 'fresh_dashboard_link');

/** Restart through the inventory's supervisor: stop + start for `commands` (no restart verb), else restart. */
function restartSteps(host: HostConfig): FixStep[] {
  if (host.supervisor.kind === 'commands') return [stepStop(host), stepStart(host), stepWait(host)];
  return [stepRestart(host), stepWait(host)];
}

/**
 * Stop, repair with doctor, start again, as `doctor --fix` requires on 2026.9. Without doctor
 * (it cannot work on this host, see FindingDetails.doctorUnavailable) only the restart.
 */
function stopDoctorStart(host: HostConfig, doctorWorks: boolean): FixStep[] {
  if (!doctorWorks) return [stepStop(host), stepStart(host), stepWait(host)];
  // Docker: `docker exec … doctor --fix` refuses while the gateway (the container's main process)
  // runs; doctor runs in a one-off container of the same image and volumes while it is stopped.
  const doctor = host.install === 'docker' ? renderStep(host, 'container_doctor_fix') : stepDoctor(host);
  return [stepStop(host), doctor, stepStart(host), stepWait(host)];
}

const FRESH_LINK_ACTION =
  'Open the fresh dashboard link clawmedic sends you privately in each browser that shows 4008 (or clear the site data and re-pair); do not share it.';

/** A current auth lockout on the host: a fresh link would be refused (AUTH_RATE_LIMITED) until it ends. */
function currentLockout(verdict: Verdict): Finding | undefined {
  return verdict.findings.find((f) => f.cause === 'rate_limited' && f.current !== false && !f.supersededBy);
}

/**
 * The fix for the verdict's headline cause on this host, steps rendered from the step catalog and
 * chosen from the finding's typed details. Causes whose fix is on the user's side get no steps.
 */
export function planFix(host: HostConfig, verdict: Verdict): FixPlan {
  const head = verdict.findings[0];
  const cause: Cause = head?.cause ?? 'unknown';
  const details = head?.details ?? {};
  const userActions = [...(head?.userActions ?? [])];
  const plan = (steps: FixStep[], extra: string[] = [], verifyWindowSec = 45): FixPlan => ({
    host: host.name,
    cause,
    steps,
    userActions: [...userActions, ...extra.filter((a) => !userActions.includes(a))],
    disruptive: steps.some((s) => isDisruptive(s.kind)),
    verifyWindowSec,
  });
  const doctorUnavailable = verdict.findings.find((f) => f.details?.doctorUnavailable)?.details?.doctorUnavailable;
  const lockout = currentLockout(verdict);
  /** The fresh link, unless a lockout would refuse it: then only when to retry. */
  const linkPlan = (): FixPlan => {
    if (lockout) {
      const until = lockout.details?.lockoutUntil;
      return plan([], [
        `The auth rate limit is on${lockout.details?.origin ? ` for ${lockout.details.origin}` : ''}${until ? ` until ${until.slice(11, 19)} UTC` : ''}: close the looping tab first, then send /fix again after that time for a fresh link.`,
      ]);
    }
    return plan([stepLink(host)], [FRESH_LINK_ACTION], 60);
  };
  const ctx: PlanContext = { host, verdict, details, doctorUnavailable, plan, linkPlan };

  switch (cause) {
    case 'stale_client':
    case 'token_rotated':
    case 'config_autorestored':
      // Restarting cannot fix a client that holds an old token: hand it the current one.
      return linkPlan();

    case 'token_mismatch':
      return tokenMismatchPlan(ctx);

    case 'device_token_mismatch': // a browser: the fresh link (see isBrowserClient); another device: its user's step
      return isBrowserClient(details) ? linkPlan() : plan([], ['clawmedic does not change device pairings.']);

    case 'gateway_down':
    case 'crash_loop':
      return plan(stopDoctorStart(host, !doctorUnavailable), doctorUnavailable ? [`doctor --fix is not offered: ${doctorUnavailable}.`] : [], 60);

    case 'out_of_memory':
      return plan(
        host.supervisor.kind === 'docker' ? [stepRestart(host), stepWait(host)] : [stepStop(host), stepStart(host), stepWait(host)],
        ['The restart frees memory for now; without more RAM, swap or a lower load it will be killed again.'],
        120,
      );

    case 'memory_pressure':
      return plan([], ['Add RAM or swap, or lower the load; restart the gateway in a quiet moment if it has grown.']);

    case 'plugin_failure':
      return pluginFailurePlan(ctx);

    case 'port_conflict':
      return portConflictPlan(ctx);

    case 'gateway_mode_unset':
      return gatewayModePlan(ctx);

    case 'rate_limited':
    case 'insecure_context':
    case 'origin_not_allowed':
    case 'gateway_url_mismatch':
    case 'proxy_blocks_websocket':
    case 'dns_unresolved':
    case 'telegram_conflict':
    case 'second_gateway':
      return plan([]);

    case 'healthy':
    case 'unknown':
    case 'host_unreachable':
      return plan([]);
  }
}

/** What a cause's runbook needs: the host, the verdict, its headline finding's details, and the plan builders. */
interface PlanContext {
  host: HostConfig;
  verdict: Verdict;
  details: FindingDetails;
  doctorUnavailable: FindingDetails['doctorUnavailable'];
  plan: (steps: FixStep[], extra?: string[], verifyWindowSec?: number) => FixPlan;
  /** The fresh link, unless a lockout would refuse it: then only when to retry. */
  linkPlan: () => FixPlan;
}

/** token_mismatch: a --token in the service is removed (systemd) or named; a hand-started override is restarted; else a fresh link. */
function tokenMismatchPlan({ host, details, plan, linkPlan }: PlanContext): FixPlan {
  if (details.tokenSource === 'service_override') {
    if (host.supervisor.kind === 'systemd-user') {
      return plan(
        [stepStop(host), renderStep(host, 'remove_token_override'), renderStep(host, 'reinstall_service'), stepStart(host), stepWait(host), stepLink(host)],
        [FRESH_LINK_ACTION],
        60,
      );
    }
    return plan([], [
      host.supervisor.kind === 'docker'
        ? `Remove the --token argument from the container's command (compose file) and recreate container ${host.supervisor.container}.`
        : 'Remove the --token argument from the start command in the clawmedic inventory / your supervisor, then restart the gateway.',
    ]);
  }
  if (details.tokenSource === 'override') {
    // Started by hand with `gateway run --token X`: a start through the supervisor uses the config token.
    return plan(restartSteps(host), [], 60);
  }
  return linkPlan();
}

/** plugin_failure: doctor for missing runtime deps, else the failing plugins disabled (in a one-off container on docker) and a restart. */
function pluginFailurePlan({ host, details, doctorUnavailable, plan }: PlanContext): FixPlan {
  if (details.pluginDepsMissing) {
    if (doctorUnavailable) return plan([], [`doctor --fix cannot repair this host: ${doctorUnavailable}.`]);
    return plan(stopDoctorStart(host, true), ['If plugins still fail, finish the update with `openclaw update`.'], 60);
  }
  const ids = details.pluginIds ?? [];
  if (ids.length === 0) return plan([], ['Disable the failing plugin (`openclaw plugins disable <id>`) and restart the gateway.']);
  const reenable = `Re-enable ${ids.join(', ')} once fixed (\`openclaw plugins enable <id>\`).`;
  if (host.install === 'docker') {
    // Stopped container, plugins disabled in a one-off container of its image and volumes, started again.
    const steps = ids.map((pluginId) => renderStep(host, 'container_disable_plugin', { pluginId }));
    return plan([stepStop(host), ...steps, stepStart(host), stepWait(host)], [reenable], 60);
  }
  const steps: FixStep[] = ids.map((pluginId) => renderStep(host, 'disable_plugin', { pluginId }));
  return plan([...steps, ...restartSteps(host)], [reenable], 60);
}

/** port_conflict: the visible owner stopped (when the inventory allows it) and the gateway started, else what to look for. */
function portConflictPlan({ host, details, plan }: PlanContext): FixPlan {
  const owner = details.portOwner;
  if (owner?.visible && owner.pid !== undefined && Number.isInteger(owner.pid) && host.allowKillPortOwner) {
    return plan(
      [
        renderStep(host, 'kill_port_owner', { pid: owner.pid, ...processNameParam(owner.process) }),
        host.supervisor.kind === 'docker' ? stepRestart(host) : stepStart(host),
        stepWait(host),
      ],
      [],
      60,
    );
  }
  return plan([], owner?.visible ? [] : [`Find what holds port ${host.gateway.port} (\`sudo ss -tlnp | grep :${host.gateway.port}\`) and stop it.`]);
}

/** gateway_mode_unset: `gateway.mode local` set (in a one-off container when a docker gateway is down), then started if down. */
function gatewayModePlan({ host, verdict, plan }: PlanContext): FixPlan {
  if (host.install === 'docker' && !verdict.probeOk) {
    // The container is down or restarting: stop it for good, set the mode in a one-off container, start.
    return plan([stepStop(host), renderStep(host, 'container_set_gateway_mode_local'), stepStart(host), stepWait(host)], [], 60);
  }
  return plan([renderStep(host, 'set_gateway_mode_local'), ...(verdict.probeOk ? [] : [stepStart(host), stepWait(host)])], [], 60);
}

/** The port owner's name as a description parameter, when it is a plain process name. */
function processNameParam(name: string | undefined): { processName?: string } {
  return name && /^[A-Za-z0-9@/._+:-]{1,64}$/.test(name) ? { processName: name } : {};
}

/**
 * The failing client of a finding is a browser (Control UI / webchat), by its client id or its Origin.
 * A browser device gets its device token reissued by one connect with the gateway token: the fresh
 * link. Another device must present the gateway token itself (or be paired again).
 */
function isBrowserClient(details: FindingDetails): boolean {
  return classifyClient({ id: details.clientId }, details.origin) === 'control_ui';
}

/** Causes whose remedy is in the user's hands (a browser tab, a device, a client): a restart cannot end them. */
const CLIENT_CAUSES = new Set<Cause>([
  'stale_client',
  'token_rotated',
  'config_autorestored',
  'token_mismatch',
  'device_token_mismatch',
  'rate_limited',
  'insecure_context',
  'origin_not_allowed',
]);

/** True for causes whose remedy is on the client's side (a tab, a device): their verify waits for the client. */
export function isClientCause(cause: Cause): boolean {
  return CLIENT_CAUSES.has(cause);
}

/**
 * May a verify window end now, `quietMs` after the fix's last step? Only when the check says fixed;
 * then at once if a client got through since the fix, else once nothing failed for the quiet time
 * (`quiet.clientMs` for client causes, `quiet.otherMs` for the others). The plan's window is the ceiling.
 */
export function verifyHolds(before: Verdict, after: Verdict, check: Pick<FixCheck, 'fixed'>, quietMs: number, quiet: { clientMs: number; otherMs: number }): boolean {
  if (!check.fixed || !after.probeOk) return false;
  const cause = before.findings[0]?.cause ?? 'unknown';
  if (!CLIENT_CAUSES.has(cause)) return quietMs >= quiet.otherMs;
  return (after.clientConnects ?? 0) > 0 || quietMs >= quiet.clientMs;
}

/** The verdict of a fix: fixed, not fixed, or fixed on the host with something left on the user's side. */
export interface FixCheck {
  fixed: boolean;
  status: 'fixed' | 'not_fixed' | 'user_action_needed';
  reason: string;
  /** user_action_needed: what the user must do (named, from the finding that still fails). */
  action?: string;
}

/**
 * Did the fix work? `after` is a verdict over the window since the fix started. Fixed only when
 * the gateway answers its probe AND nothing of the same cause (and, for client causes, the same
 * client) failed again in the window. A client cause still failing on a healthy gateway, or a new
 * client-side failure (e.g. a lockout), is "action needed on your side", naming the action.
 */
export function verifyFix(before: Verdict, after: Verdict): FixCheck {
  const beforeHead = before.findings[0];
  const cause = beforeHead?.cause ?? 'unknown';
  const live = (f: Finding) => !f.supersededBy && f.cause !== 'healthy' && f.cause !== 'unknown';
  const head = after.findings[0];
  if (cause === 'healthy') {
    return after.probeOk
      ? { fixed: true, status: 'fixed', reason: 'still healthy' }
      : { fixed: false, status: 'not_fixed', reason: `gateway now: ${head?.summary ?? 'not answering'}` };
  }
  if (!after.probeOk) {
    const still = after.findings.find((f) => f.cause === cause && live(f));
    return {
      fixed: false,
      status: 'not_fixed',
      reason: still ? `still seeing ${cause}: ${still.summary}` : `${cause} is gone but the gateway does not answer its probe${head ? `: ${head.summary}` : ''}`,
    };
  }
  const sameClient = (f: Finding) => {
    const o = beforeHead?.details?.origin;
    return !o || !f.details?.origin || f.details.origin === o;
  };
  // A plugin fix is about the plugins it named: others still failing (missing runtime deps on
  // 2026.4.29 without npm beside its Node) are another matter, reported, not this fix's failure.
  const samePlugins = (f: Finding) => {
    const ids = beforeHead?.details?.pluginIds;
    return !ids?.length || !f.details?.pluginIds || f.details.pluginIds.some((id) => ids.includes(id));
  };
  const still = after.findings.find((f) => f.cause === cause && live(f) && sameClient(f) && samePlugins(f));
  if (still) {
    if (CLIENT_CAUSES.has(cause)) {
      const action = still.userActions[0] ?? 'close the failing tab or client and reconnect with the current token';
      return { fixed: false, status: 'user_action_needed', reason: `the gateway answers, but ${still.summary}`, action };
    }
    return { fixed: false, status: 'not_fixed', reason: `still seeing ${cause}: ${still.summary}` };
  }
  const clientLeft = after.findings.find((f) => live(f) && f.current !== false && CLIENT_CAUSES.has(f.cause) && f.weight >= 50);
  if (clientLeft) {
    const action = clientLeft.userActions[0] ?? 'close the failing tab or client and reconnect with the current token';
    return {
      fixed: false,
      status: 'user_action_needed',
      reason: `${cause} is gone and the gateway answers, but now: ${clientLeft.summary}`,
      action,
    };
  }
  if (head && live(head) && head.weight >= 50) {
    return { fixed: true, status: 'fixed', reason: `${cause} is gone; now: ${head.cause} (${head.summary})` };
  }
  return { fixed: true, status: 'fixed', reason: `${cause} is gone and the gateway answers its probe` };
}

/**
 * The tokenized URL from `openclaw dashboard --json --no-open` output, or null. The result is a
 * secret: deliver it privately, never log it.
 */
export function parseDashboardUrl(json: string): string | null {
  const j = extractJsonObject(json);
  if (!j || j.ok === false) return null;
  const url = typeof j.url === 'string' ? j.url : null;
  if (!url || !/^https?:\/\//.test(url)) return null;
  return url;
}
