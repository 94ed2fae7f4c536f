/**
 * Fix runbooks: the plan that matches a verdict's headline cause on this host's supervisor, the
 * verification of a fix by a fresh verdict, and the parser of the fresh dashboard link.
 */
import type { Cause, FixPlan, FixStep, Verdict } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import {
  PLUGIN_DEPS_EVIDENCE,
  PLUGIN_EVIDENCE_RE,
  PORT_OWNER_EVIDENCE_RE,
  TOKEN_OVERRIDE_EVIDENCE,
} from './diagnose.js';
import { extractJsonObject } from './parse-gateway-status.js';
import { DEFAULT_WAIT_SEC, renderStep } from './step-catalog.js';

/** The step that waits for the gateway to answer its probe (`sec`: how long; config fix.startWaitSec). */
export function waitForGatewayStep(host: HostConfig, sec = DEFAULT_WAIT_SEC): FixStep {
  return renderStep(host, 'wait_for_gateway', sec === DEFAULT_WAIT_SEC ? {} : { waitSec: sec });
}
const stepStop = (host: HostConfig): FixStep => renderStep(host, 'stop_gateway');
const stepStart = (host: HostConfig): FixStep => renderStep(host, 'start_gateway');
const stepRestart = (host: HostConfig): FixStep => renderStep(host, 'restart_gateway');
const stepWait = (host: HostConfig): FixStep => waitForGatewayStep(host);
const stepDoctor = (host: HostConfig): FixStep => renderStep(host, 'doctor_fix');
const stepLink = (host: HostConfig): FixStep => renderStep(host, 'fresh_dashboard_link');

/** A plan that first stops, repairs with doctor and starts again, as `doctor --fix` requires on 2026.9. */
function stopDoctorStart(host: HostConfig): FixStep[] {
  if (host.supervisor.kind === 'docker') {
    // doctor inside the container would race the gateway it runs; the container restart is the fix.
    return [stepRestart(host), stepWait(host)];
  }
  return [stepStop(host), stepDoctor(host), stepStart(host), stepWait(host)];
}

const FRESH_LINK_ACTION =
  'Open the fresh dashboard link clawmedic sends you privately in each browser that shows 4008 (or clear the site data and re-pair); do not share it.';

/**
 * The fix for the verdict's headline cause on this host, steps rendered from templates only.
 * Causes whose fix is on the user's side get no steps, only userActions.
 */
export function planFix(host: HostConfig, verdict: Verdict): FixPlan {
  const head = verdict.findings[0];
  const cause: Cause = head?.cause ?? 'unknown';
  const userActions = [...(head?.userActions ?? [])];
  const plan = (steps: FixStep[], extra: string[] = [], verifyWindowSec = 45): FixPlan => ({
    host: host.name,
    cause,
    steps,
    userActions: [...userActions, ...extra.filter((a) => !userActions.includes(a))],
    disruptive: steps.some((s) => s.kind === 'stop_gateway' || s.kind === 'restart_gateway' || s.kind === 'start_gateway' || s.kind === 'kill_port_owner'),
    verifyWindowSec,
  });
  const evidence = head?.evidence ?? [];

  switch (cause) {
    case 'stale_client':
    case 'token_rotated':
    case 'config_autorestored':
      // Restarting cannot fix a client that holds an old token: hand it the current one.
      return plan([stepLink(host)], [FRESH_LINK_ACTION], 60);

    case 'token_mismatch': {
      const override = evidence.some((l) => l.startsWith(TOKEN_OVERRIDE_EVIDENCE));
      if (override) {
        if (host.supervisor.kind === 'systemd-user') {
          return plan(
            [
              stepStop(host),
              renderStep(host, 'remove_token_override'),
              renderStep(host, 'reinstall_service'),
              stepStart(host),
              stepWait(host),
              stepLink(host),
            ],
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
      return plan([stepLink(host)], [FRESH_LINK_ACTION], 60);
    }

    case 'device_token_mismatch':
      return plan([], ['Re-pair the device or rotate/reissue its device token (openclaw devices …); clawmedic does not change device pairings.']);

    case 'gateway_down':
    case 'crash_loop':
      return plan(stopDoctorStart(host), [], 60);

    case 'out_of_memory':
      return plan(
        host.supervisor.kind === 'docker' ? [stepRestart(host), stepWait(host)] : [stepStop(host), stepStart(host), stepWait(host)],
        ['The restart frees memory for now; without more RAM, swap or a lower load it will be killed again.'],
        120,
      );

    case 'memory_pressure':
      return plan([], ['Add RAM or swap, or lower the load; restart the gateway in a quiet moment if it has grown.']);

    case 'plugin_failure': {
      if (evidence.some((l) => l.startsWith(PLUGIN_DEPS_EVIDENCE))) {
        return plan(stopDoctorStart(host), ['If plugins still fail, finish the update with `openclaw update`.'], 60);
      }
      const ids = evidence.map((l) => PLUGIN_EVIDENCE_RE.exec(l)?.[1]).filter((x): x is string => !!x);
      if (ids.length === 0) return plan([], ['Disable the failing plugin (`openclaw plugins disable <id>`) and restart the gateway.']);
      const steps: FixStep[] = ids.map((pluginId) => renderStep(host, 'disable_plugin', { pluginId }));
      return plan([...steps, stepRestart(host), stepWait(host)], [`Re-enable ${ids.join(', ')} once fixed (\`openclaw plugins enable <id>\`).`], 60);
    }

    case 'port_conflict': {
      const owner = evidence.map((l) => PORT_OWNER_EVIDENCE_RE.exec(l)).find((m) => m);
      const pid = owner ? Number(owner[3]) : NaN;
      if (owner && Number.isInteger(pid) && host.allowKillPortOwner) {
        return plan(
          [
            renderStep(host, 'kill_port_owner', { pid, ...processNameParam(owner[2]) }),
            host.supervisor.kind === 'docker' ? stepRestart(host) : stepStart(host),
            stepWait(host),
          ],
          [],
          60,
        );
      }
      return plan([], owner ? [] : [`Find what holds port ${host.gateway.port} (\`sudo ss -tlnp | grep ${host.gateway.port}\`) and stop it.`]);
    }

    case 'gateway_mode_unset':
      return plan(
        [
          renderStep(host, 'set_gateway_mode_local'),
          ...(verdict.probeOk ? [] : [stepStart(host), stepWait(host)]),
        ],
        [],
        60,
      );

    case 'rate_limited':
    case 'insecure_context':
    case 'origin_not_allowed':
    case 'gateway_url_mismatch':
    case 'proxy_blocks_websocket':
    case 'telegram_conflict':
    case 'second_gateway':
      return plan([]);

    case 'healthy':
    case 'unknown':
    case 'host_unreachable':
      return plan([]);
  }
}

/** The port owner's name as a description parameter, when it is a plain process name. */
function processNameParam(name: string | undefined): { processName?: string } {
  return name && /^[A-Za-z0-9@/._+:-]{1,64}$/.test(name) ? { processName: name } : {};
}

/**
 * Did the fix work? Compares the verdict before with a fresh one taken after the fix (log window
 * starting at the fix): fixed when the original cause is gone and the gateway answers its probe.
 */
export function verifyFix(before: Verdict, after: Verdict): { fixed: boolean; reason: string } {
  const cause = before.findings[0]?.cause ?? 'unknown';
  const still = after.findings.find((f) => f.cause === cause);
  const head = after.findings[0];
  if (cause === 'healthy') return { fixed: after.probeOk, reason: after.probeOk ? 'still healthy' : `gateway now: ${head?.summary ?? 'not answering'}` };
  if (still) return { fixed: false, reason: `still seeing ${cause}: ${still.summary}` };
  if (!after.probeOk) {
    return { fixed: false, reason: `${cause} is gone but the gateway does not answer its probe${head ? `: ${head.summary}` : ''}` };
  }
  if (head && head.cause !== 'healthy' && head.weight >= 50) {
    return { fixed: true, reason: `${cause} is gone; now: ${head.cause} (${head.summary})` };
  }
  return { fixed: true, reason: `${cause} is gone and the gateway answers its probe` };
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
