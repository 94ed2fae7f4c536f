/**
 * One small renderer per fix step kind: the description, script (from the templates), deadline and
 * flags of a step for a host, from its already validated parameters. renderStep (step-catalog.ts)
 * checks the kind against the host and the parameters before it calls one.
 */
import type { FixStep, FixStepKind, StepParams } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import { DEFAULTS } from '../constants.js';
import {
  containerDisablePluginScript,
  containerDoctorFixScript,
  containerRestoreConfigBackupScript,
  containerSetModeLocalScript,
  dashboardLinkScript,
  describeSupervisor,
  disablePluginScript,
  doctorFixScript,
  killPortOwnerScript,
  reinstallServiceScript,
  removeTokenOverrideScript,
  restoreConfigBackupScript,
  setModeLocalScript,
  supervisorScript,
  containerOf,
  waitForGatewayScript,
} from './templates.js';

/** Seconds the gateway gets to answer its probe after a start/restart: config fix.startWaitSec's default. */
export const DEFAULT_WAIT_SEC: number = DEFAULTS.startWaitSec;

/** What a renderer gives; renderStep adds the kind and the parameters. */
export type RenderedStep = Omit<FixStep, 'kind' | 'params'>;

/** The renderer of each step kind (params already validated for the kind). */
export const STEP_RENDERERS: Record<FixStepKind, (host: HostConfig, params: StepParams) => RenderedStep> = {
  stop_gateway: (host, params) => ({
    description: `stop the gateway (${describeSupervisor(host, 'stop')})`,
    script: supervisorScript(host, 'stop'),
    timeoutMs: 60_000,
    mutates: true,
    // Stopping an already-stopped gateway fails on some supervisors; the next steps matter more.
    continueOnError: params.continueOnError ?? true,
  }),
  start_gateway: (host) => ({
    description: `start the gateway (${describeSupervisor(host, 'start')})`,
    script: supervisorScript(host, 'start'),
    timeoutMs: 60_000,
    mutates: true,
    // A start can exit non-zero while the gateway comes up anyway: the probe (wait_for_gateway,
    // which every plan puts after a start) decides, not the exit code.
    continueOnError: true,
  }),
  restart_gateway: (host) => ({
    description: `restart the gateway (${describeSupervisor(host, 'restart')})`,
    script: supervisorScript(host, 'restart'),
    timeoutMs: 90_000,
    mutates: true,
    // The exit code of a restart is not trusted (2026.4 exits 0 doing nothing): wait_for_gateway decides.
    continueOnError: true,
  }),
  wait_for_gateway: (host, params) => {
    const sec = params.waitSec ?? DEFAULT_WAIT_SEC;
    return {
      description: `wait up to ${sec} s for the gateway to answer its probe`,
      script: waitForGatewayScript(host, sec),
      timeoutMs: (sec + 40) * 1000,
      mutates: false,
    };
  },
  doctor_fix: (host) => ({
    description:
      'run `openclaw doctor --fix` while the gateway is stopped (it refuses while one runs); doctor may change openclaw.json (it keeps openclaw.json.bak): the result lists the keys it changed',
    script: doctorFixScript(host),
    timeoutMs: 180_000,
    mutates: true,
    // Doctor can fail on unrelated repairs (2026.4 without npm); starting the gateway matters more.
    continueOnError: true,
  }),
  fresh_dashboard_link: (host) => ({
    description: 'create a fresh tokenized dashboard link (sent to you privately)',
    script: dashboardLinkScript(host),
    timeoutMs: 75_000,
    mutates: false,
    secretOutput: true,
  }),
  remove_token_override: (host) => ({
    description: 'move aside the unit drop-ins that pass --token',
    script: removeTokenOverrideScript(host),
    timeoutMs: 30_000,
    mutates: true,
  }),
  reinstall_service: (host) => ({
    description: 'rewrite the service from the config (`openclaw gateway install --force`)',
    script: reinstallServiceScript(host),
    timeoutMs: 120_000,
    mutates: true,
  }),
  kill_port_owner: (host, params) => {
    const pid = params.pid!;
    return {
      description: `stop ${params.processName ?? 'the process'} (pid ${pid}) that holds port ${host.gateway.port}`,
      script: killPortOwnerScript(host, pid),
      timeoutMs: 30_000,
      mutates: true,
    };
  },
  disable_plugin: (host, params) => {
    const id = params.pluginId!;
    return {
      description: `disable plugin ${id} (\`openclaw plugins disable ${id}\`)`,
      script: disablePluginScript(host, id),
      timeoutMs: 75_000,
      mutates: true,
    };
  },
  set_gateway_mode_local: (host) => ({
    description: 'set gateway.mode to local (`openclaw config set gateway.mode local`)',
    script: setModeLocalScript(host),
    timeoutMs: 60_000,
    mutates: true,
  }),
  container_doctor_fix: (host) => ({
    description: `run \`openclaw doctor --fix\` in a one-off container of ${containerOf(host)}'s image with its volumes and env (the gateway's container stays stopped meanwhile; doctor refuses inside a running one); doctor may change openclaw.json (it keeps openclaw.json.bak): the result lists the keys it changed`,
    script: containerDoctorFixScript(host),
    // The one-off container is created (a copy of the image on vfs storage) before doctor runs: 290 s inside.
    timeoutMs: 330_000,
    mutates: true,
    // As doctor_fix: starting the gateway again matters more than a failed repair.
    continueOnError: true,
  }),
  container_disable_plugin: (host, params) => {
    const id = params.pluginId!;
    return {
      description: `disable plugin ${id} (\`openclaw plugins disable ${id}\` in a one-off container of ${containerOf(host)}'s image with its volumes)`,
      script: containerDisablePluginScript(host, id),
      timeoutMs: 120_000,
      mutates: true,
    };
  },
  container_restore_config_backup: (host) => ({
    description: `put back openclaw.json.bak in ${containerOf(host)}'s state volume (a one-off container with --volumes-from); the current file is kept as openclaw.json.clawmedic-<time>`,
    script: containerRestoreConfigBackupScript(host),
    timeoutMs: 90_000,
    mutates: true,
  }),
  container_set_gateway_mode_local: (host) => ({
    description: `set gateway.mode to local (\`openclaw config set gateway.mode local\` in a one-off container of ${containerOf(host)}'s image with its volumes: a stopped container cannot exec)`,
    script: containerSetModeLocalScript(host),
    timeoutMs: 90_000,
    mutates: true,
  }),
  restore_config_backup: (host) => {
    const dir = host.openclaw.stateDir ?? '~/.openclaw';
    return {
      description: `put back ${dir}/openclaw.json.bak (the copy doctor --fix kept); the current file is kept as openclaw.json.clawmedic-<time>`,
      script: restoreConfigBackupScript(host),
      timeoutMs: 20_000,
      mutates: true,
    };
  },
};
