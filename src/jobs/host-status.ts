/**
 * The read-only status check behind /status and every monitor probe: the light probe first
 * (ss + GET /healthz + /proc in one exec), the OpenClaw CLI only when the light probe cannot tell.
 * One function so the status worker, the monitor and the tests run the very same path.
 */
import { ClawmedicError } from '../domain/errors.js';
import type { HostConfig } from '../domain/host.js';
import type { RemoteRunner } from '../domain/remote.js';
import { RC_MARK, SECTION_MARK, splitSections } from '../openclaw/evidence.js';
import { buildLightProbeScript, decideLightProbe, isForeignListener, LIGHT_PROBE_TIMEOUT_MS, parseLightProbe, sanitizeCliProbeError, type LightProbeOutput } from '../openclaw/light-probe.js';
import type { OwnerHint } from '../openclaw/light-probe-bash.js';
import { parseFree } from '../openclaw/parse-free.js';
import { parseGatewayStatus } from '../openclaw/parse-gateway-status.js';
import { openclawTimed, TIMEOUT_PRELUDE } from '../openclaw/templates.js';
import { redact } from '../util/redact.js';
import type { HostStatus } from '../domain/host-ops.js';

/**
 * The CLI status script, the fallback: `openclaw --version`, `gateway status --json` and `free -m`,
 * each in its own marked section. ~4 s of CPU and ~300 MB on a real 2026.9.6 host: never the first choice.
 */
export function buildCliStatusScript(host: HostConfig): string {
  return [
    TIMEOUT_PRELUDE,
    `printf '\\n${SECTION_MARK}version\\n'; ${openclawTimed(host, 20, ['--version'])} 2>&1; printf '\\n${RC_MARK}%s\\n' $?`,
    `printf '\\n${SECTION_MARK}gateway_status\\n'; ${openclawTimed(host, 45, ['gateway', 'status', '--json'])} 2>&1; printf '\\n${RC_MARK}%s\\n' $?`,
    `printf '\\n${SECTION_MARK}memory\\n'; free -m 2>&1; printf '\\n${RC_MARK}%s\\n' $?`,
  ].join('\n');
}

/**
 * Per host (name and port), the gateway's pid and listening fds the last light probe found: the next probe
 * checks those fds (~0.1 ms) instead of `ss -p` reading every process's fd table (~14–60 ms of host CPU).
 * Only a hint: a stale one (restart, pid reused) costs that probe an `ss -p` and is replaced.
 */
const ownerHints = new Map<string, OwnerHint>();
const hintKey = (host: HostConfig) => `${host.name}\u0000${host.gateway.port}`;

/** The hint for the next probe: the non-foreign owner of the port's listeners when the probe saw its pid and fds. */
function learnHint(host: HostConfig, p: LightProbeOutput): void {
  const own = (p.listeners ?? []).filter((l) => l.pid !== undefined && l.fd !== undefined && !isForeignListener(host, l) && l.process);
  const pid = own[0]?.pid;
  if (pid === undefined || p.listeners === null) {
    ownerHints.delete(hintKey(host));
    return;
  }
  ownerHints.set(hintKey(host), { pid, fds: own.filter((l) => l.pid === pid).map((l) => l.fd!) });
}

export interface HostStatusOptions {
  /** Deadline of the CLI fallback exec (the light probe has its own, LIGHT_PROBE_TIMEOUT_MS). */
  cliTimeoutMs: number;
  maxOutputBytes?: number;
}

/**
 * Check one host: light probe, then the CLI only if the light probe names a reason to. SSH failures
 * (ClawmedicError) become `reachable: false`; anything else is a bug and is thrown.
 */
export async function checkHostStatus(runner: RemoteRunner, host: HostConfig, opts: HostStatusOptions): Promise<HostStatus> {
  const started = Date.now();
  try {
    // The configured per-command deadline caps the light probe too (jobs.commandTimeoutSec).
    const light = await runner.exec(host, buildLightProbeScript(host, { hint: ownerHints.get(hintKey(host)) }), { timeoutMs: Math.min(LIGHT_PROBE_TIMEOUT_MS, opts.cliTimeoutMs), maxOutputBytes: 64 * 1024 });
    const parsed = parseLightProbe(light.stdout, host.gateway.port);
    learnHint(host, parsed);
    const v = decideLightProbe(host, parsed);
    const fromLight: Pick<HostStatus, 'listening' | 'memoryUsedPct' | 'gatewayRssMb' | 'version'> = {};
    if (parsed.version) fromLight.version = parsed.version;
    if (v.listening) fromLight.listening = v.listening;
    if (v.memoryUsedPct !== undefined) fromLight.memoryUsedPct = v.memoryUsedPct;
    if (v.gatewayRssMb !== undefined) fromLight.gatewayRssMb = v.gatewayRssMb;
    if (!v.fallback) {
      const s: HostStatus = { host: host.name, reachable: true, probe: 'healthz', probeOk: v.probeOk, ...fromLight, durationMs: Date.now() - started };
      if (v.probeError) s.probeError = redact(v.probeError);
      if (v.portConflict) s.portConflict = true;
      return s;
    }

    const res = await runner.exec(host, buildCliStatusScript(host), { timeoutMs: opts.cliTimeoutMs, maxOutputBytes: opts.maxOutputBytes });
    const sections = splitSections(res.stdout);
    const gs = sections.gateway_status ? parseGatewayStatus(sections.gateway_status.output) : null;
    const mem = sections.memory ? parseFree(sections.memory.output) : null;
    const version = /(\d{4}\.\d{1,2}\.\d{1,3})/.exec(sections.version?.output ?? '')?.[1];
    const listener = gs?.portListeners[0];
    const err = sanitizeCliProbeError(gs?.probeError, host.gateway.port);
    const s: HostStatus = {
      host: host.name,
      reachable: true,
      probe: 'cli',
      fallbackReason: redact(v.fallback),
      probeOk: gs?.probeOk === true,
      ...fromLight,
      version: version ?? fromLight.version,
      listening: fromLight.listening ?? listener?.address ?? (gs?.portStatus === 'busy' ? `port ${host.gateway.port} busy` : undefined),
      probeError: err.text ? redact(err.text) : gs ? undefined : 'could not read `openclaw gateway status --json`',
      memoryUsedPct: fromLight.memoryUsedPct ?? (mem ? Math.round(mem.usedPercent) : undefined),
      durationMs: Date.now() - started,
    };
    if (err.foreignHttp) s.portConflict = true;
    return s;
  } catch (err) {
    if (!(err instanceof ClawmedicError)) throw err;
    return { host: host.name, reachable: false, probeOk: false, error: redact(err.message), durationMs: Date.now() - started };
  }
}
