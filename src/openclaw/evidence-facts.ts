/**
 * Parsers of single evidence sections that hold facts rather than logs: health, config facts and
 * supervisor state. Pure; each returns what it could read.
 */
import { redact } from '../util/redact.js';
import type { ConfigFacts, HealthInfo, ServiceState } from './evidence-types.js';
import { extractJsonObject } from './parse-gateway-status.js';

/** Parse the health section (`health --json`, or the hello's health answer). */
export function parseHealth(text: string): HealthInfo | null {
  const j = extractJsonObject(text);
  if (!j) return null;
  const plugins = (j.plugins && typeof j.plugins === 'object' ? j.plugins : {}) as Record<string, unknown>;
  const loaded = Array.isArray(plugins.loaded) ? plugins.loaded.filter((x): x is string => typeof x === 'string') : [];
  const errors: HealthInfo['pluginErrors'] = [];
  if (Array.isArray(plugins.errors)) {
    for (const e of plugins.errors) {
      if (!e || typeof e !== 'object') continue;
      const r = e as Record<string, unknown>;
      if (typeof r.id !== 'string') continue;
      errors.push({
        id: r.id,
        error: typeof r.error === 'string' ? r.error : 'unknown error',
        phase: typeof r.failurePhase === 'string' ? r.failurePhase : undefined,
      });
    }
  }
  const reload = j.configReload as Record<string, unknown> | undefined;
  return {
    ok: typeof j.ok === 'boolean' ? j.ok : null,
    pluginsLoaded: loaded,
    pluginErrors: errors,
    hotReloadStatus: typeof reload?.hotReloadStatus === 'string' ? reload.hotReloadStatus : undefined,
  };
}

function kv(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return m;
}

/** `2026-12-06T20-22-15-406Z` (the suffix of `openclaw.json.clobbered.<time>`) → ISO, or undefined. */
export function clobberedStampToIso(stamp: string): string | undefined {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)(?:-(\d{1,3}))?Z$/.exec(stamp.trim());
  if (!m) return undefined;
  const iso = `${m[1]}T${m[2]}:${m[3]}:${m[4]}.${(m[5] ?? '0').padStart(3, '0')}Z`;
  return Number.isNaN(Date.parse(iso)) ? undefined : iso;
}

/** Parse the config section (node key=value output, or `config get` fallback). */
export function parseConfigFacts(text: string): ConfigFacts {
  const m = kv(text);
  const val = (k: string, alt?: string): string | undefined => {
    const v = m.get(k) ?? (alt ? m.get(alt) : undefined);
    if (v === undefined || v === '' || v === 'undefined' || /not set|not found|__OPENCLAW_REDACTED__/i.test(v)) return undefined;
    return v;
  };
  const port = Number(val('port', 'gateway.port'));
  return {
    path: val('path'),
    mode: val('mode', 'gateway.mode'),
    bind: val('bind', 'gateway.bind'),
    port: Number.isFinite(port) && port > 0 ? port : undefined,
    remoteUrl: val('remoteUrl', 'gateway.remote.url'),
    authMode: val('authMode'),
    authTokenSet: m.has('authTokenSet') ? m.get('authTokenSet') === 'yes' : undefined,
    remoteTokenSet: m.has('remoteTokenSet') ? m.get('remoteTokenSet') === 'yes' : undefined,
    allowedOrigins: (m.get('allowedOrigins') ?? '').split(',').filter(Boolean),
    clobberedAt: (m.get('clobbered') ?? '').split(',').map(clobberedStampToIso).filter((t): t is string => t !== undefined),
    readable: !m.has('error') && (m.has('mode') || m.has('gateway.mode')),
  };
}

/** Parse the service section: systemd `show` properties or our docker inspect format. */
export function parseService(text: string): ServiceState | null {
  const t = text.trim();
  if (!t) return null;
  if (t.includes('ActiveState=')) {
    const m = kv(t);
    const execStart = m.get('ExecStart') ?? '';
    const restarts = Number(m.get('NRestarts'));
    const exitStatus = Number(m.get('ExecMainStatus'));
    const active = m.get('ActiveState');
    const dropIns = (m.get('DropInPaths') ?? '').split(/\s+/).filter(Boolean);
    const result = m.get('Result');
    return {
      source: 'systemd',
      active: active === 'active' || active === 'activating' || active === 'reloading',
      activeState: active,
      subState: m.get('SubState'),
      restarts: Number.isFinite(restarts) ? restarts : undefined,
      exitStatus: Number.isFinite(exitStatus) ? exitStatus : undefined,
      result,
      oomKilled: result === 'oom-kill' ? true : undefined,
      tokenOverride: /--token\b/.test(execStart),
      dropIns,
      summary: redact(
        `systemd ${active ?? '?'}/${m.get('SubState') ?? '?'} NRestarts=${m.get('NRestarts') ?? '?'} ExecMainStatus=${m.get('ExecMainStatus') ?? '?'}${result ? ` Result=${result}` : ''}`,
      ),
    };
  }
  if (t.includes('Running=') && t.includes('RestartCount=')) {
    const get = (k: string) => new RegExp(`(?:^|\\s)${k}=(\\S*)`).exec(t)?.[1];
    const restarts = Number(get('RestartCount'));
    const exit = Number(get('ExitCode'));
    const cmd = /Cmd=(.*)$/m.exec(t)?.[1] ?? '';
    // Docker prints 0001-01-01T00:00:00Z for "never".
    const time = (k: string) => {
      const v = get(k);
      return v && !v.startsWith('0001-') && !Number.isNaN(Date.parse(v)) ? v : undefined;
    };
    const policy = get('RestartPolicy');
    return {
      source: 'docker',
      active: get('Running') === 'true',
      activeState: get('Status'),
      restarts: get('RestartCount') !== undefined && Number.isFinite(restarts) ? restarts : undefined,
      exitStatus: get('ExitCode') !== undefined && Number.isFinite(exit) ? exit : undefined,
      oomKilled: get('OOMKilled') === 'true',
      startedAt: time('StartedAt'),
      ...(time('FinishedAt') ? { finishedAt: time('FinishedAt') } : {}),
      ...(policy && policy !== '<no' ? { restartPolicy: policy } : {}),
      tokenOverride: /--token\b/.test(cmd),
      dropIns: [],
      summary: redact(
        `docker ${get('Status') ?? '?'} RestartCount=${get('RestartCount') ?? '?'} ExitCode=${get('ExitCode') ?? '?'} OOMKilled=${get('OOMKilled') ?? '?'}` +
          `${time('StartedAt') ? ` StartedAt=${time('StartedAt')}` : ''}${time('FinishedAt') ? ` FinishedAt=${time('FinishedAt')}` : ''}`,
      ),
    };
  }
  return { source: 'command', tokenOverride: /--token\b/.test(t), dropIns: [], summary: redact(t.split('\n')[0]!.slice(0, 160)) };
}
