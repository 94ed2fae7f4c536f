/**
 * The light probe behind /status and every monitor probe: `ss -tlnp` on the gateway port, one HTTP
 * GET of the gateway's own `/healthz` under a hard deadline, and memory from /proc. On a real 2026.9.6
 * host this costs a few ms of CPU where `openclaw gateway status --json` costs ~4 s of CPU and ~300 MB.
 * Pure: builds the script from the inventory (every value quoted) and reads its output; no I/O. By job in
 * light-probe-script.ts (the script), light-probe-parse.ts (its output) and light-probe-verdict.ts (what
 * it comes to); importers keep this one path.
 */
export {
  buildLightProbeScript,
  HEALTHZ_BODY_BYTES,
  HEALTHZ_KILL_AFTER_SEC,
  HEALTHZ_MAX_TIME_SEC,
  LIGHT_PROBE_TIMEOUT_MS,
  type LightProbeOptions,
} from './light-probe-script.js';
export {
  decodeProcNetAddress,
  type HealthzOutcome,
  type HealthzVia,
  isGatewayHealthBody,
  type LightProbeOutput,
  parseLightProbe,
  parseProcNetListeners,
} from './light-probe-parse.js';
export {
  decideLightProbe,
  isForeignListener,
  type LightVerdict,
  sanitizeCliProbeError,
} from './light-probe-verdict.js';
export {
  buildDockerVersionScript,
  DOCKER_VERSION_CMD_SEC,
  DOCKER_VERSION_TIMEOUT_MS,
  type DockerVersion,
  parseDockerVersion,
} from './docker-version.js';
