/**
 * The catalog of fix steps: the ONE place where a step kind and its validated parameters become a
 * remote script, from the templates and the current inventory entry. Plans carry kinds and
 * parameters; whoever runs a step renders it here at run time, so nothing stored (button state,
 * queued job data) can make a host run a script of its own.
 */
import type { FixStep, FixStepKind, StepParams } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
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
  PLUGIN_ID_RE,
  reinstallServiceScript,
  removeTokenOverrideScript,
  restoreConfigBackupScript,
  setModeLocalScript,
  supervisorScript,
  TemplateError,
  containerOf,
  waitForGatewayScript,
} from './templates.js';

/** Seconds the gateway gets to answer its probe after a start/restart (it boots in ~10 s). */
export const DEFAULT_WAIT_SEC = 90;

/**
 * Step kinds that interrupt the gateway or kill a process. Only these count against the hourly fix
 * limit and mute alerts; a fresh link, a config edit or a wait does not.
 */
export const DISRUPTIVE_STEP_KINDS: ReadonlySet<FixStepKind> = new Set<FixStepKind>(['stop_gateway', 'start_gateway', 'restart_gateway', 'kill_port_owner']);

/** Does a step of this kind stop, start, restart or kill? */
export function isDisruptive(kind: FixStepKind): boolean {
  return DISRUPTIVE_STEP_KINDS.has(kind);
}

/** Step kinds that run `openclaw doctor --fix` (their output carries the config side effects). */
export const DOCTOR_STEP_KINDS: ReadonlySet<FixStepKind> = new Set<FixStepKind>(['doctor_fix', 'container_doctor_fix']);

/** Does a step of this kind run doctor --fix (and so may leave an openclaw.json.bak to restore)? */
export function isDoctorStep(kind: FixStepKind): boolean {
  return DOCTOR_STEP_KINDS.has(kind);
}

/** Kinds that only apply to docker installs (one-off containers), and the native kinds they replace there. */
const CONTAINER_ONLY: ReadonlySet<FixStepKind> = new Set<FixStepKind>([
  'container_doctor_fix',
  'container_disable_plugin',
  'container_restore_config_backup',
  'container_set_gateway_mode_local',
]);
const NATIVE_ONLY: ReadonlySet<FixStepKind> = new Set<FixStepKind>(['doctor_fix', 'restore_config_backup']);

/** A process name shown in a description only (never executed). */
export const PROCESS_NAME_RE = /^[A-Za-z0-9@/._+:-]{1,64}$/;

/**
 * Check a step's parameters: right types, in range, and only those the kind uses. Throws
 * TemplateError naming the bad parameter; a refused step is never run.
 */
export function validateStepParams(kind: FixStepKind, params: StepParams = {}): StepParams {
  const allowed: Record<FixStepKind, ReadonlyArray<keyof StepParams>> = {
    stop_gateway: ['continueOnError'],
    start_gateway: [],
    restart_gateway: [],
    doctor_fix: [],
    reinstall_service: [],
    remove_token_override: [],
    kill_port_owner: ['pid', 'processName'],
    disable_plugin: ['pluginId'],
    container_disable_plugin: ['pluginId'],
    container_doctor_fix: [],
    container_restore_config_backup: [],
    container_set_gateway_mode_local: [],
    set_gateway_mode_local: [],
    fresh_dashboard_link: [],
    restore_config_backup: [],
    wait_for_gateway: ['waitSec'],
  };
  for (const key of Object.keys(params) as Array<keyof StepParams>) {
    if (params[key] === undefined) continue;
    if (!allowed[kind].includes(key)) throw new TemplateError(`step ${kind} takes no parameter "${String(key)}"`, { step: kind });
  }
  if (params.pid !== undefined && !(Number.isInteger(params.pid) && params.pid > 1 && params.pid < 2 ** 22)) {
    throw new TemplateError(`step ${kind}: invalid pid`, { step: kind });
  }
  if (params.pluginId !== undefined && (typeof params.pluginId !== 'string' || !PLUGIN_ID_RE.test(params.pluginId))) {
    throw new TemplateError(`step ${kind}: refusing an unusual plugin id`, { step: kind });
  }
  if (params.processName !== undefined && (typeof params.processName !== 'string' || !PROCESS_NAME_RE.test(params.processName))) {
    throw new TemplateError(`step ${kind}: refusing an unusual process name`, { step: kind });
  }
  if (params.waitSec !== undefined && !(Number.isInteger(params.waitSec) && params.waitSec >= 5 && params.waitSec <= 900)) {
    throw new TemplateError(`step ${kind}: waitSec must be an integer 5-900`, { step: kind });
  }
  if (params.continueOnError !== undefined && typeof params.continueOnError !== 'boolean') {
    throw new TemplateError(`step ${kind}: continueOnError must be a boolean`, { step: kind });
  }
  if (kind === 'kill_port_owner' && params.pid === undefined) throw new TemplateError('step kill_port_owner needs a pid', { step: 'kill_port_owner' });
  if ((kind === 'disable_plugin' || kind === 'container_disable_plugin') && params.pluginId === undefined) {
    throw new TemplateError(`step ${kind} needs a pluginId`, { step: kind });
  }
  return params;
}

/**
 * Render one step for this host: description, script, deadline and flags, all from templates.
 * `params` are validated first (TemplateError when they do not fit the kind).
 */
export function renderStep(host: HostConfig, kind: FixStepKind, params: StepParams = {}): FixStep {
  validateStepParams(kind, params);
  if (CONTAINER_ONLY.has(kind) && host.install !== 'docker') {
    throw new TemplateError(`step ${kind} runs in a one-off container: ${host.name} is not a docker install`, { host: host.name, step: kind });
  }
  // On a docker install these would act on the SSH user's files or race the gateway in its container.
  if (NATIVE_ONLY.has(kind) && host.install === 'docker') {
    throw new TemplateError(`step ${kind} does not apply to docker install ${host.name}: its state is in the container (use container_${kind})`, { host: host.name, step: kind });
  }
  const base = { kind, ...(Object.keys(params).length ? { params: { ...params } } : {}) };
  switch (kind) {
    case 'stop_gateway':
      return {
        ...base,
        description: `stop the gateway (${describeSupervisor(host, 'stop')})`,
        script: supervisorScript(host, 'stop'),
        timeoutMs: 60_000,
        mutates: true,
        // Stopping an already-stopped gateway fails on some supervisors; the next steps matter more.
        continueOnError: params.continueOnError ?? true,
      };
    case 'start_gateway':
      return {
        ...base,
        description: `start the gateway (${describeSupervisor(host, 'start')})`,
        script: supervisorScript(host, 'start'),
        timeoutMs: 60_000,
        mutates: true,
        // A start can exit non-zero while the gateway comes up anyway: the probe (wait_for_gateway,
        // which every plan puts after a start) decides, not the exit code.
        continueOnError: true,
      };
    case 'restart_gateway':
      return {
        ...base,
        description: `restart the gateway (${describeSupervisor(host, 'restart')})`,
        script: supervisorScript(host, 'restart'),
        timeoutMs: 90_000,
        mutates: true,
        // The exit code of a restart is not trusted (2026.4 exits 0 doing nothing): wait_for_gateway decides.
        continueOnError: true,
      };
    case 'wait_for_gateway': {
      const sec = params.waitSec ?? DEFAULT_WAIT_SEC;
      return {
        ...base,
        description: `wait up to ${sec} s for the gateway to answer its probe`,
        script: waitForGatewayScript(host, sec),
        timeoutMs: (sec + 40) * 1000,
        mutates: false,
      };
    }
    case 'doctor_fix':
      return {
        ...base,
        description:
          'run `openclaw doctor --fix` while the gateway is stopped (it refuses while one runs); doctor may change openclaw.json (it keeps openclaw.json.bak): the result lists the keys it changed',
        script: doctorFixScript(host),
        timeoutMs: 180_000,
        mutates: true,
        // Doctor can fail on unrelated repairs (2026.4 without npm); starting the gateway matters more.
        continueOnError: true,
      };
    case 'fresh_dashboard_link':
      return {
        ...base,
        description: 'create a fresh tokenized dashboard link (sent to you privately)',
        script: dashboardLinkScript(host),
        timeoutMs: 75_000,
        mutates: false,
        secretOutput: true,
      };
    case 'remove_token_override':
      return {
        ...base,
        description: 'move aside the unit drop-ins that pass --token',
        script: removeTokenOverrideScript(host),
        timeoutMs: 30_000,
        mutates: true,
      };
    case 'reinstall_service':
      return {
        ...base,
        description: 'rewrite the service from the config (`openclaw gateway install --force`)',
        script: reinstallServiceScript(host),
        timeoutMs: 120_000,
        mutates: true,
      };
    case 'kill_port_owner': {
      const pid = params.pid!;
      return {
        ...base,
        description: `stop ${params.processName ?? 'the process'} (pid ${pid}) that holds port ${host.gateway.port}`,
        script: killPortOwnerScript(host, pid),
        timeoutMs: 30_000,
        mutates: true,
      };
    }
    case 'disable_plugin': {
      const id = params.pluginId!;
      return {
        ...base,
        description: `disable plugin ${id} (\`openclaw plugins disable ${id}\`)`,
        script: disablePluginScript(host, id),
        timeoutMs: 75_000,
        mutates: true,
      };
    }
    case 'set_gateway_mode_local':
      return {
        ...base,
        description: 'set gateway.mode to local (`openclaw config set gateway.mode local`)',
        script: setModeLocalScript(host),
        timeoutMs: 60_000,
        mutates: true,
      };
    case 'container_doctor_fix':
      return {
        ...base,
        description: `run \`openclaw doctor --fix\` in a one-off container of ${containerOf(host)}'s image with its volumes and env (the gateway's container stays stopped meanwhile; doctor refuses inside a running one); doctor may change openclaw.json (it keeps openclaw.json.bak): the result lists the keys it changed`,
        script: containerDoctorFixScript(host),
        // The one-off container is created (a copy of the image on vfs storage) before doctor runs: 290 s inside.
        timeoutMs: 330_000,
        mutates: true,
        // As doctor_fix: starting the gateway again matters more than a failed repair.
        continueOnError: true,
      };
    case 'container_disable_plugin': {
      const id = params.pluginId!;
      return {
        ...base,
        description: `disable plugin ${id} (\`openclaw plugins disable ${id}\` in a one-off container of ${containerOf(host)}'s image with its volumes)`,
        script: containerDisablePluginScript(host, id),
        timeoutMs: 120_000,
        mutates: true,
      };
    }
    case 'container_restore_config_backup':
      return {
        ...base,
        description: `put back openclaw.json.bak in ${containerOf(host)}'s state volume (a one-off container with --volumes-from); the current file is kept as openclaw.json.clawmedic-<time>`,
        script: containerRestoreConfigBackupScript(host),
        timeoutMs: 90_000,
        mutates: true,
      };
    case 'container_set_gateway_mode_local':
      return {
        ...base,
        description: `set gateway.mode to local (\`openclaw config set gateway.mode local\` in a one-off container of ${containerOf(host)}'s image with its volumes: a stopped container cannot exec)`,
        script: containerSetModeLocalScript(host),
        timeoutMs: 90_000,
        mutates: true,
      };
    case 'restore_config_backup': {
      const dir = host.openclaw.stateDir ?? '~/.openclaw';
      return {
        ...base,
        description: `put back ${dir}/openclaw.json.bak (the copy doctor --fix kept); the current file is kept as openclaw.json.clawmedic-<time>`,
        script: restoreConfigBackupScript(host),
        timeoutMs: 20_000,
        mutates: true,
      };
    }
  }
}
