/**
 * Fixed remote command templates for OpenClaw hosts, by job in their own modules: the building
 * blocks (host-commands.ts: quoting, the openclaw and supervisor commands, read-only commands), the
 * fix step scripts on the host (fix-scripts.ts) and those in a one-off container of a docker install
 * (oneoff-scripts.ts). Importers keep this one path.
 */
export {
  CONTAINER_NAME_RE,
  containerOf,
  describeSupervisor,
  DOCKER_INSPECT_FORMAT,
  LOG_FILTER_ERE,
  openclawCmd,
  openclawTimed,
  READ_TEMPLATES,
  SED_REDACT_TOKENS,
  shellCommandPath,
  shellMessage,
  shellPath,
  shellPort,
  supervisorCmd,
  TemplateError,
  TIMEOUT_PRELUDE,
  type ReadTemplateName,
  type SupervisorAction,
} from './host-commands.js';
export {
  dashboardLinkScript,
  disablePluginScript,
  DOCTOR_BACKUP_MARK,
  DOCTOR_CHANGED_MARK,
  doctorFixScript,
  killPortOwnerScript,
  PLUGIN_ID_RE,
  reinstallServiceScript,
  removeTokenOverrideScript,
  restoreConfigBackupScript,
  setModeLocalScript,
  supervisorScript,
  waitForGatewayScript,
} from './fix-scripts.js';
export {
  containerDisablePluginScript,
  containerDoctorFixScript,
  containerRestoreConfigBackupScript,
  containerSetModeLocalScript,
  oneOffScript,
} from './oneoff-scripts.js';
