/**
 * What the light probe's output comes to for a host: up, down, a foreign program on the port, or why
 * the CLI must answer instead. A foreign program's HTTP body never reaches a chat.
 */
import type { HostConfig } from '../domain/host.js';
import type { Listener } from './evidence-types.js';
import { isGatewayHealthBody, type LightProbeOutput } from './light-probe-parse.js';
import { HEALTHZ_MAX_TIME_SEC } from './light-probe-script.js';
import { isOpenClawProcess } from './parse-ss.js';

/** What the light probe concludes, or why the CLI must answer instead. */
export interface LightVerdict {
  /** Set when the light probe cannot tell: the CLI (`gateway status --json`) must run. */
  fallback?: string;
  probeOk: boolean;
  /** Short text for the chat, never a foreign program's HTTP body. */
  probeError?: string;
  /** Another program holds the gateway port. */
  portConflict?: boolean;
  /** "127.0.0.1:18789" when something listens on the port. */
  listening?: string;
  gatewayRssMb?: number;
  memoryUsedPct?: number;
}

/** A listener that is not the gateway: visible owner whose name is not OpenClaw's (docker-proxy counts as the gateway for docker installs). */
export function isForeignListener(host: HostConfig, l: Listener): boolean {
  if (!l.process) return false; // owner not visible: cannot tell
  if (isOpenClawProcess(l)) return false;
  if (host.install === 'docker' && /docker-proxy|rootlesskit|slirp4netns|containerd/i.test(l.process)) return false;
  return true;
}

/** "python3 (pid 26892)" */
function ownerText(l: Listener): string {
  return `${l.process ?? 'an unknown process'}${l.pid ? ` (pid ${l.pid})` : ''}`;
}

/**
 * Decide from the light probe alone where it can; otherwise name why the CLI must run: no HTTP client,
 * an answer that is not the gateway's with no visible foreign owner (a proxy, another build), a refused
 * connection while something listens, a port ss cannot read. A foreign body is never copied.
 */
export function decideLightProbe(host: HostConfig, p: LightProbeOutput): LightVerdict {
  const port = host.gateway.port;
  const onPort = p.listeners ?? [];
  const foreign = onPort.find((l) => isForeignListener(host, l));
  const own = onPort.find((l) => !isForeignListener(host, l));
  const listening = (own ?? onPort[0])?.address;
  const mem: Pick<LightVerdict, 'gatewayRssMb' | 'memoryUsedPct'> = {};
  if (p.hostMemory) mem.memoryUsedPct = Math.round(p.hostMemory.usedPercent);
  // Memory of the process on the port, only when it is the gateway itself (docker-proxy is not).
  const gwListener = onPort.find((l) => l.pid !== undefined && l.pid === p.gatewayPid);
  if (p.gatewayRssMb !== undefined && gwListener && isOpenClawProcess(gwListener)) mem.gatewayRssMb = p.gatewayRssMb;
  const base = { listening, ...mem };
  const conflict = (what: string): LightVerdict => ({
    ...base,
    probeOk: false,
    portConflict: true,
    probeError: `port ${port} ${what}: it is held by ${ownerText(foreign!)}, not by the OpenClaw gateway`,
  });
  const hz = p.healthz;
  switch (hz.outcome) {
    case 'no_client':
      return { ...base, probeOk: false, fallback: 'no curl or wget on the host' };
    case 'answered': {
      const shape = hz.code !== undefined && hz.code >= 200 && hz.code < 300 ? isGatewayHealthBody(hz.body) : { gateway: false, live: false };
      if (shape.gateway) {
        if (shape.live) return { ...base, probeOk: true };
        return { ...base, probeOk: false, probeError: `gateway on port ${port} answered /healthz with status ${JSON.stringify(shape.status).slice(0, 40)}` };
      }
      const what = `answered HTTP ${hz.code ?? '(an error status)'} but not as an OpenClaw gateway`;
      if (foreign) return conflict(what);
      return { ...base, probeOk: false, fallback: `port ${port} ${what} on /healthz` };
    }
    case 'refused':
      if (p.listeners === null) return { ...base, probeOk: false, fallback: 'ss could not list the listeners' };
      if (onPort.length > 0) {
        return { ...base, probeOk: false, fallback: `127.0.0.1:${port} refused the connection while ${ownerText(foreign ?? onPort[0]!)} listens on ${onPort[0]!.address}` };
      }
      // A container may publish its port without a listener on the host that ss shows: ask the CLI in the container.
      if (host.install === 'docker') return { ...base, probeOk: false, fallback: `nothing answers on 127.0.0.1:${port} from the host` };
      return { ...base, probeOk: false, probeError: `nothing listens on port ${port} (connect ECONNREFUSED 127.0.0.1:${port})` };
    case 'timeout':
      if (foreign) return conflict(`did not answer GET /healthz within ${HEALTHZ_MAX_TIME_SEC} s`);
      return { ...base, probeOk: false, probeError: `port ${port} did not answer GET /healthz within ${HEALTHZ_MAX_TIME_SEC} s (a hung gateway or a stuck listener)` };
    case 'failed':
      if (foreign) return conflict('broke the HTTP connection');
      return { ...base, probeOk: false, fallback: `GET /healthz on port ${port} failed (${hz.via} exit ${hz.rc ?? '?'})` };
  }
}

/**
 * A probe error from the CLI as it may reach a chat: `gateway rejected websocket upgrade (HTTP 200):
 * <html…>` carries whatever a foreign program answered; it becomes one line naming the port instead.
 */
export function sanitizeCliProbeError(err: string | undefined, port: number): { text?: string; foreignHttp: boolean } {
  if (!err) return { foreignHttp: false };
  const m = /rejected websocket upgrade \(HTTP (\d{3})\)/i.exec(err);
  if (m) return { text: `port ${port} answered HTTP ${m[1]} but not as an OpenClaw gateway`, foreignHttp: true };
  const first = err.split('\n')[0]!.replace(/<[^>]*>?/g, ' ').replace(/\s+/g, ' ').trim();
  return { text: first.length > 200 ? `${first.slice(0, 199)}…` : first, foreignHttp: false };
}
