/**
 * The catalog of fix steps: the ONE place where a step kind and its validated parameters become a
 * remote script, from the templates and the current inventory entry. Plans carry kinds and
 * parameters; whoever runs a step renders it here at run time, so nothing stored (button state,
 * queued job data) can make a host run a script of its own.
 */
import type { FixStep, FixStepKind, StepParams } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import { STEP_RENDERERS } from './step-renderers.js';
import { PLUGIN_ID_RE, TemplateError } from './templates.js';

export { DEFAULT_WAIT_SEC } from './step-renderers.js';

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
  return { ...base, ...STEP_RENDERERS[kind](host, params) };
}
