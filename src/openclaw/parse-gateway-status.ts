/**
 * Parser for `openclaw gateway status --json` (2026.9 and 2026.4 shapes) and its text form.
 * The command exits 0 even when the probe fails, so the verdict comes from these fields only.
 */
import type { GatewayStatus, Listener } from './evidence-types.js';

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Extract the JSON object from command output that may carry warnings before or after it. */
export function extractJsonObject(text: string): Json | null {
  const start = text.search(/^\s*\{/m);
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) return null;
  try {
    return obj(JSON.parse(text.slice(start, end + 1))) ?? null;
  } catch {
    return null;
  }
}

function classifyError(err: string | undefined): Pick<GatewayStatus, 'probeAuthRejected' | 'probeRefused' | 'probeForeignHttp'> {
  const e = err ?? '';
  return {
    probeAuthRejected: /unauthorized|token mismatch|token_mismatch|device token|pairing required|rate.?limit/i.test(e),
    probeRefused: /ECONNREFUSED/.test(e),
    probeForeignHttp: /rejected websocket upgrade \(HTTP/i.test(e),
  };
}

/** Parse `gateway status --json`; null when the output holds no JSON object. */
export function parseGatewayStatusJson(text: string): GatewayStatus | null {
  const j = extractJsonObject(text);
  if (!j) return null;
  const rpc = obj(j.rpc);
  const gw = obj(j.gateway);
  const port = obj(j.port);
  const cfg = obj(j.config);
  const svc = obj(j.service);
  const cf = obj(rpc?.connectFailure);
  const probeError = str(rpc?.error);
  const cls = classifyError(probeError);
  const listeners: Listener[] = [];
  if (Array.isArray(port?.listeners)) {
    for (const raw of port.listeners) {
      const l = obj(raw);
      if (!l) continue;
      const address = str(l.address) ?? '';
      const p = Number(address.slice(address.lastIndexOf(':') + 1));
      listeners.push({
        address,
        port: Number.isInteger(p) ? p : (num(port?.port) ?? 0),
        process: str(l.command),
        pid: num(l.pid),
        user: str(l.user),
        commandLine: str(l.commandLine),
      });
    }
  }
  const hints = Array.isArray(port?.hints) ? port.hints.filter((h): h is string => typeof h === 'string') : [];
  const kind = str(cf?.kind) ?? (cls.probeAuthRejected ? 'auth-rejected' : cls.probeRefused || cls.probeForeignHttp ? 'unreachable' : undefined);
  const serviceCommand = svc?.command;
  const cmdText = typeof serviceCommand === 'string' ? serviceCommand : serviceCommand ? JSON.stringify(serviceCommand) : '';
  return {
    format: 'json',
    cliVersion: str(obj(j.cli)?.version),
    gatewayVersion: str(gw?.version) ?? str(obj(rpc?.server)?.version) ?? str(rpc?.version),
    logFile: str(j.logFile),
    probeOk: typeof rpc?.ok === 'boolean' ? rpc.ok : null,
    probeError,
    probeFailureKind: rpc?.ok === true ? undefined : kind,
    probeDetailCode: str(cf?.detailCode),
    ...cls,
    probeAuthRejected: cls.probeAuthRejected || str(cf?.kind) === 'auth-rejected',
    probeUrl: str(gw?.probeUrl) ?? str(rpc?.url),
    bindMode: str(gw?.bindMode),
    bindHost: str(gw?.bindHost),
    port: num(gw?.port) ?? num(port?.port),
    portStatus: str(port?.status),
    portListeners: listeners,
    portHints: hints,
    portOwnerHidden: hints.some((h) => /process details are unavailable/i.test(h)),
    configCliPath: str(obj(cfg?.cli)?.path),
    configServicePath: str(obj(cfg?.daemon)?.path),
    serviceLabel: str(svc?.label),
    serviceLoaded: typeof svc?.loaded === 'boolean' ? svc.loaded : undefined,
    serviceRuntimeStatus: str(obj(svc?.runtime)?.status),
    serviceTokenOverride: /--token\b/.test(cmdText),
  };
}

/** What the text form's lines say, gathered line by line. */
interface TextFacts {
  probeOk: boolean | null;
  probeError?: string;
  probeUrl?: string;
  logFile?: string;
  cliVersion?: string;
  gatewayVersion?: string;
  bindMode?: string;
  bindHost?: string;
  port?: number;
  configCliPath?: string;
  configServicePath?: string;
  serviceLabel?: string;
  portBusy: boolean;
  portOwnerHidden: boolean;
  listeners: Listener[];
  hints: string[];
  sawAny: boolean;
}

/** Parse the human text form of `gateway status` (fallback for builds without --json). */
export function parseGatewayStatusText(text: string): GatewayStatus | null {
  const lines = text.split('\n');
  const f: TextFacts = { probeOk: null, portBusy: false, portOwnerHidden: false, listeners: [], hints: [], sawAny: false };
  for (let i = 0; i < lines.length; i++) readTextLine(lines, i, f);
  if (!f.sawAny) return null;
  const cls = classifyError(f.probeError);
  return {
    format: 'text',
    cliVersion: f.cliVersion,
    gatewayVersion: f.gatewayVersion,
    logFile: f.logFile,
    probeOk: f.probeOk,
    probeError: f.probeError,
    probeFailureKind:
      f.probeOk === false ? (cls.probeAuthRejected ? 'auth-rejected' : cls.probeRefused || cls.probeForeignHttp ? 'unreachable' : undefined) : undefined,
    ...cls,
    probeUrl: f.probeUrl,
    bindMode: f.bindMode,
    bindHost: f.bindHost,
    port: f.port,
    portStatus: f.portBusy || f.listeners.length > 0 ? 'busy' : f.probeOk === false && cls.probeRefused ? 'free' : undefined,
    portListeners: f.listeners,
    portHints: f.hints,
    portOwnerHidden: f.portOwnerHidden,
    configCliPath: f.configCliPath,
    configServicePath: f.configServicePath,
    serviceLabel: f.serviceLabel,
    serviceTokenOverride: false,
  };
}

/** One line of the text form (line `i` of `lines`; the probe's failure text is on a line below it) into `f`. */
function readTextLine(lines: string[], i: number, f: TextFacts): void {
  const line = lines[i]!;
  const t = line.trim();
  let m: RegExpExecArray | null;
  if ((m = /^Connectivity probe:\s*(\w+)/.exec(t))) {
    f.sawAny = true;
    f.probeOk = m[1] === 'ok';
    if (!f.probeOk) {
      // The failure text is the first indented line after "Probe target:" below the probe line.
      for (let k = i + 1; k < Math.min(lines.length, i + 4); k++) {
        const next = lines[k]!;
        if (/^\s{2,}\S/.test(next)) {
          f.probeError = next.trim();
          break;
        }
      }
    }
  } else if ((m = /^File logs:\s*(.+)$/.exec(t))) {
    f.sawAny = true;
    f.logFile = m[1]!.trim();
  } else if ((m = /^Probe target:\s*(\S+)/.exec(t))) {
    f.probeUrl ??= m[1];
  } else if ((m = /^CLI version:\s*(\S+)/.exec(t))) {
    f.cliVersion = m[1];
  } else if ((m = /^Gateway version:\s*(\S+)/.exec(t))) {
    f.gatewayVersion = m[1];
  } else if ((m = /^Gateway: bind=(\S+) \(([^)]*)\), port=(\d+)/.exec(t))) {
    f.sawAny = true;
    f.bindMode = m[1];
    f.bindHost = m[2];
    f.port = Number(m[3]);
  } else if ((m = /^Config \(cli\):\s*(.+)$/.exec(t))) {
    f.configCliPath = m[1]!.trim();
  } else if ((m = /^Config \(service\):\s*(.+)$/.exec(t))) {
    f.configServicePath = m[1]!.trim();
  } else if ((m = /^Service:\s*(.+)$/.exec(t))) {
    f.serviceLabel = m[1]!.trim();
  } else if (/^Port \d+ is already in use\./.test(t)) {
    f.portBusy = true;
  } else if ((m = /^- pid (\d+) (\S+): (.*) \(([^()]*:\d+)\)$/.exec(t))) {
    const address = m[4]!;
    const cmd = m[3]!;
    f.listeners.push({
      address,
      port: Number(address.slice(address.lastIndexOf(':') + 1)),
      pid: Number(m[1]),
      user: m[2],
      commandLine: cmd,
      process: cmd.split(/\s+/)[0]?.split('/').pop(),
    });
  } else if (/^- Port is in use but process details are unavailable/.test(t)) {
    f.portOwnerHidden = true;
    f.hints.push(t.slice(2));
  } else if (/^- Another process is listening on this port\./.test(t)) {
    f.hints.push(t.slice(2));
  } else if ((m = /^Listening:\s*(\S+)/.exec(t))) {
    f.portBusy = true;
  }
}

/** Parse either form: JSON when the output holds an object, else the text form. */
export function parseGatewayStatus(text: string): GatewayStatus | null {
  return parseGatewayStatusJson(text) ?? parseGatewayStatusText(text);
}
