/**
 * Rules that turn one host's evidence into a verdict: named causes with redacted evidence lines,
 * confidence, weight and what the user must do. Several causes may hold at once; the heaviest leads.
 */
import type { Cause, Confidence, Finding, Verdict } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import { redact } from '../util/redact.js';
import { correlate, type ClientSummary, type ConnFailure, type Correlation } from './correlate.js';
import type { Evidence, Listener, LogEvent, PluginFailureEvent } from './evidence-types.js';
import { isOpenClawProcess } from './parse-ss.js';

/** Evidence line prefix marking a stale `--token` override in the service definition (read by planFix). */
export const TOKEN_OVERRIDE_EVIDENCE = 'service definition passes --token';
/** Evidence line naming a failing plugin: `plugin <id> failed: <error>` (read by planFix). */
export const PLUGIN_EVIDENCE_RE = /^plugin ([A-Za-z0-9@][A-Za-z0-9@/._-]*) failed: /;
/** Evidence line naming the port owner: `port <n> owner: <process> (pid <pid>)` (read by planFix). */
export const PORT_OWNER_EVIDENCE_RE = /^port (\d+) owner: (.+?) \(pid (\d+)\)/;
/** Evidence marker: plugin failures are missing bundled runtime deps (an unfinished update), not a bad plugin. */
export const PLUGIN_DEPS_EVIDENCE = 'plugin runtime deps missing';

/** Tuning of a diagnose pass. */
export interface DiagnoseOptions {
  /** Ignore log events before this time (verification after a fix). */
  since?: Date;
  /** Log window considered current, minutes (default 30). */
  windowMin?: number;
  /** A client failure newer than this many minutes counts as still happening (default 5). */
  activeMin?: number;
}

const MAX_EVIDENCE = 8;

function clip(s: string, n = 240): string {
  const r = redact(s.replace(/\s+/g, ' ').trim());
  return r.length > n ? `${r.slice(0, n - 1)}…` : r;
}

function hhmmss(time: string | undefined): string {
  if (!time) return '--:--:--';
  const m = /T(\d\d:\d\d:\d\d)/.exec(time);
  return m ? m[1]! : time.slice(0, 19);
}

function ago(ms: number, ref: number): string {
  const s = Math.max(0, Math.round((ref - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

function failureLine(f: ConnFailure): string {
  const who = [f.client.id, f.client.mode].filter(Boolean).join(' ') || f.kind;
  const why = f.authReason ?? f.cause ?? 'reason not logged';
  const where = f.origin ? `origin ${f.origin}` : f.remote ? `remote ${f.remote}` : 'origin unknown';
  const form = f.form === 'webchat_disconnected' ? 'webchat disconnected' : 'closed before connect';
  return clip(`${hhmmss(f.time)} ${form} code=${f.code} (${f.closeReason}) conn=${f.conn.slice(0, 8)} ← gateway: ${why}; client ${who}, ${where}`);
}

function eventLine(e: LogEvent): string {
  return clip(`${hhmmss(e.time)} ${e.text}`);
}

function clientLabel(c: ClientSummary): string {
  const what = c.kind === 'control_ui' ? 'browser tab (Control UI)' : c.kind === 'node' ? 'paired device/node' : c.kind === 'cli' ? 'CLI' : 'client';
  const where = c.origin ? ` from ${c.origin}` : c.remote ? ` at ${c.remote}` : '';
  return `${what}${c.clientId ? ` "${c.clientId}"` : ''}${where}`;
}

function normUrl(u: string | undefined): string | undefined {
  if (!u) return undefined;
  try {
    const url = new URL(u.trim());
    const proto = url.protocol.replace('ws:', 'http:').replace('wss:', 'https:');
    const port = url.port || (proto === 'https:' ? '443' : '80');
    return `${proto}//${url.hostname.toLowerCase()}:${port}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return u.trim().toLowerCase().replace(/\/+$/, '');
  }
}

/**
 * Diagnose a host from its evidence. `now` is the reference time for "recent" (defaults to the
 * host's clock from the evidence, then the local clock); `opts.since` drops older log events.
 */
export function diagnose(host: HostConfig, evidence: Evidence, now?: Date, opts: DiagnoseOptions = {}): Verdict {
  const hostNowMs = evidence.hostNow ? Date.parse(evidence.hostNow) : NaN;
  const ref = now ? now.getTime() : !Number.isNaN(hostNowMs) ? hostNowMs : Date.now();
  const windowMs = (opts.windowMin ?? 30) * 60_000;
  const activeMs = (opts.activeMin ?? 5) * 60_000;
  const sinceMs = Math.max(ref - windowMs, opts.since ? opts.since.getTime() : -Infinity);
  const recent = (e: LogEvent) => Number.isNaN(e.ms) || (e.ms >= sinceMs && e.ms <= ref + 60_000);
  const windowEvents = evidence.logEvents.filter(recent);

  const findings: Finding[] = [];
  const add = (cause: Cause, confidence: Confidence, weight: number, summary: string, ev: string[], userActions: string[] = []) => {
    findings.push({
      cause,
      confidence,
      weight: Math.max(0, Math.min(100, Math.round(weight))),
      summary: clip(summary, 300),
      evidence: ev.filter(Boolean).slice(0, MAX_EVIDENCE).map((l) => clip(l)),
      userActions: userActions.map((a) => clip(a, 400)),
    });
  };

  const gs = evidence.gatewayStatus;
  const probeOk = gs?.probeOk === true;
  const port = host.gateway.port;
  const svc = evidence.service;

  // Listeners on the gateway port, from ss (preferred: it sees the process name) and gateway status.
  const listeners: Listener[] = [...evidence.listeners.filter((l) => l.port === port)];
  for (const l of gs?.portListeners ?? []) {
    if (l.port === port && !listeners.some((x) => x.pid !== undefined && x.pid === l.pid)) listeners.push(l);
  }
  // A docker install's published port is held on the host by docker's proxy: that is the gateway too.
  const isOurs = (l: Listener) =>
    isOpenClawProcess(l) || (host.install === 'docker' && /docker-proxy|dockerd|containerd|rootlesskit|slirp4netns/.test(l.process ?? ''));
  const foreign = listeners.filter((l) => (l.process || l.commandLine) && !isOurs(l));
  const hiddenOwner = listeners.length > 0 && listeners.every((l) => !l.process && !l.commandLine);
  const ours = listeners.filter(isOurs);

  // Lifecycle from the log: the last start, whether it stopped cleanly, restarts in the window.
  const lifecycle = evidence.logEvents.filter((e) => e.kind === 'starting' || e.kind === 'ready' || e.kind === 'shutdown');
  const lastLifecycle = lifecycle[lifecycle.length - 1];
  const lastStart = [...evidence.logEvents].reverse().find((e) => e.kind === 'starting');
  const stoppedCleanly = lastLifecycle?.kind === 'shutdown';
  const uncleanRestarts = countUncleanRestarts(windowEvents);

  // ---------------------------------------------------------------- port conflict
  const portEvents = windowEvents.filter((e) => e.kind === 'port_conflict');
  let portConflict = false;
  if (!probeOk && (foreign.length > 0 || gs?.probeForeignHttp || (portEvents.length > 0 && ours.length === 0))) {
    portConflict = true;
    const ev: string[] = [];
    for (const l of foreign) ev.push(`port ${port} owner: ${l.process ?? l.commandLine} (pid ${l.pid ?? '?'}) on ${l.address}${l.commandLine ? `: ${l.commandLine}` : ''}`);
    if (foreign.length === 0 && (hiddenOwner || gs?.portOwnerHidden)) ev.push(`port ${port} is in use but its owner is not visible to the SSH user`);
    if (gs?.probeForeignHttp && gs.probeError) ev.push(`probe: ${gs.probeError.slice(0, 90)}`);
    for (const e of portEvents.slice(-2)) ev.push(eventLine(e));
    const owner = foreign[0];
    const known = owner !== undefined;
    add(
      'port_conflict',
      known || gs?.probeForeignHttp ? 'high' : 'medium',
      93,
      known
        ? `Port ${port} is held by ${owner.process ?? owner.commandLine} (pid ${owner.pid ?? '?'}), not by the gateway, so the gateway cannot listen`
        : `Something that is not the gateway holds port ${port}`,
      ev,
      known
        ? [`Stop ${owner.process ?? 'the process'} (pid ${owner.pid ?? '?'}) or move it off port ${port}, then start the gateway again.`]
        : [`Find the owner of port ${port} as an admin (\`sudo ss -tlnp | grep ${port}\`), stop it, then start the gateway.`],
    );
  }

  // ---------------------------------------------------------------- gateway.mode unset
  const modeBlocked = windowEvents.filter((e) => e.kind === 'mode_blocked');
  const modeMissing = evidence.config?.readable === true && !evidence.config.mode;
  if (modeBlocked.length > 0 || modeMissing) {
    const ev = [...modeBlocked.slice(-1).map(eventLine)];
    if (modeMissing) ev.push(`config ${evidence.config?.path ?? 'openclaw.json'}: gateway.mode is not set`);
    if (!probeOk) {
      add('gateway_mode_unset', modeBlocked.length ? 'high' : 'medium', 94, 'gateway.mode is not set, so the gateway does not start', ev, []);
    } else {
      add(
        'gateway_mode_unset',
        'medium',
        30,
        'gateway.mode is missing from the config; the running gateway is fine, but its next start will auto-restore an older config backup',
        ev,
        ['Set it back: `openclaw config set gateway.mode local` (clawmedic can do this).'],
      );
    }
  }

  // ---------------------------------------------------------------- down / crash / OOM
  const down =
    !probeOk &&
    !portConflict &&
    (gs?.probeRefused === true ||
      gs?.portStatus === 'free' ||
      (svc?.active === false) ||
      (gs === undefined && listeners.length === 0 && evidence.sections.listeners?.rc === 0));
  const oomSince = Math.max(ref - 2 * 3600_000, opts.since ? opts.since.getTime() : -Infinity);
  const oomKernel = evidence.kernelOom.filter((e) => e.kind === 'kernel_oom' && e.openclaw && (Number.isNaN(e.ms) || e.ms >= oomSince));
  const heapOom = windowEvents.filter((e) => e.kind === 'heap_oom');
  const exit137 = svc?.source === 'docker' ? svc.exitStatus === 137 : svc?.exitStatus === 9 && svc.result !== 'success';
  const oomSignals = oomKernel.length > 0 || heapOom.length > 0 || svc?.oomKilled === true || (down && exit137);
  const mem = evidence.containerMemory ?? evidence.memory;
  const memLine = mem ? `memory: ${mem.usedPercent}% used${mem.totalMb ? ` of ${mem.totalMb} MB` : ''} (${mem.source})` : '';
  const restarts = svc?.restarts ?? 0;
  const crashLoop = restarts >= 3 || uncleanRestarts >= 3;

  if (oomSignals) {
    const ev: string[] = [];
    for (const e of oomKernel.slice(-3)) ev.push(eventLine(e));
    for (const e of heapOom.slice(-2)) ev.push(e.time ? eventLine(e) : clip(e.text));
    if (svc?.oomKilled) ev.push(`supervisor: ${svc.summary} (killed by the OOM killer)`);
    else if (exit137 && svc) ev.push(`supervisor: ${svc.summary} (exit 137 = SIGKILL)`);
    if (memLine) ev.push(memLine);
    const heapOnly = heapOom.length > 0 && oomKernel.length === 0 && !svc?.oomKilled;
    add(
      'out_of_memory',
      oomKernel.length > 0 || svc?.oomKilled || heapOom.length > 0 ? 'high' : 'medium',
      down ? 96 : 62,
      heapOnly
        ? `The gateway ran out of JavaScript heap (FATAL ERROR … heap out of memory)${down ? ' and is down' : ''}`
        : `The kernel killed the gateway for lack of memory${down ? ' and it is down' : ' (it is running again now)'}`,
      ev,
      heapOnly
        ? ['Raise the Node heap limit (NODE_OPTIONS=--max-old-space-size=…) or the server RAM; an idle 2026.9 gateway holds 600–800 MB.']
        : [
            'Give the server more RAM or add swap; an idle 2026.9 gateway holds 600–800 MB RSS plus ~170 MB in helpers.',
            'Set a MemoryMax/limit that fits, and run fewer concurrent jobs.',
          ],
    );
  } else if (mem && mem.usedPercent > 80) {
    add(
      'memory_pressure',
      mem.usedPercent > 90 ? 'high' : 'medium',
      mem.usedPercent > 90 ? 45 : 35,
      `Memory is ${mem.usedPercent}% used: the gateway risks being OOM-killed`,
      [memLine],
      ['Add RAM or swap, or run fewer concurrent jobs; an idle 2026.9 gateway holds 600–800 MB.'],
    );
  }

  if (down && crashLoop) {
    const ev: string[] = [];
    if (svc) ev.push(`supervisor: ${svc.summary}`);
    if (uncleanRestarts) ev.push(`log: ${uncleanRestarts} starts without a clean shutdown in the last ${opts.windowMin ?? 30} min`);
    if (gs?.probeError) ev.push(`probe: ${gs.probeError}`);
    add('crash_loop', 'high', 92, `The gateway keeps crashing and restarting (${Math.max(restarts, uncleanRestarts)} restarts)`, ev, [
      'If it crashes again after the restart, check the plugins and memory findings and the gateway log.',
    ]);
  } else if (!down && crashLoop && (restarts >= 3 || uncleanRestarts >= 3)) {
    add(
      'crash_loop',
      'medium',
      70,
      `The gateway answers now but restarted ${Math.max(restarts, uncleanRestarts)} times recently`,
      [svc ? `supervisor: ${svc.summary}` : '', uncleanRestarts ? `log: ${uncleanRestarts} starts without a clean shutdown` : ''],
      [],
    );
  } else if (down) {
    const ev: string[] = [];
    if (gs?.probeError) ev.push(`probe ${gs.probeUrl ?? ''}: ${gs.probeError}`.trim());
    if (gs?.portStatus) ev.push(`port ${port}: ${gs.portStatus}${listeners.length === 0 ? ', nothing listening' : ''}`);
    if (svc) ev.push(`supervisor: ${svc.summary}`);
    if (lastLifecycle) ev.push(`last lifecycle line: ${eventLine(lastLifecycle)}`);
    const crashed = lastLifecycle !== undefined && !stoppedCleanly;
    add(
      'gateway_down',
      'high',
      90,
      crashed
        ? 'The gateway is down and its log ends without a clean shutdown: it crashed or was killed'
        : stoppedCleanly
          ? 'The gateway is down: it was stopped cleanly and nothing started it again'
          : 'The gateway is down: nothing answers on its port',
      ev,
      [],
    );
  }

  // ---------------------------------------------------------------- plugins
  const pluginFails = new Map<string, string>();
  for (const p of evidence.health?.pluginErrors ?? []) pluginFails.set(p.id, p.error);
  const sinceStart = lastStart ? evidence.logEvents.slice(evidence.logEvents.indexOf(lastStart)) : evidence.logEvents;
  for (const e of sinceStart) {
    if (e.kind === 'plugin_failure' && !pluginFails.has(e.plugin)) pluginFails.set(e.plugin, (e as PluginFailureEvent).error);
  }
  if (pluginFails.size > 0) {
    const ids = [...pluginFails.keys()];
    const depsMissing = [...pluginFails.values()].every((err) =>
      /bundled runtime deps|Cannot find module|ERR_MODULE_NOT_FOUND|safe npm executable/i.test(err),
    );
    const ev = ids.slice(0, 6).map((id) => `plugin ${id} failed: ${pluginFails.get(id)}`);
    if (depsMissing) ev.push(`${PLUGIN_DEPS_EVIDENCE}: the plugins' modules are missing (an update that did not finish)`);
    add(
      'plugin_failure',
      evidence.health?.pluginErrors.length ? 'high' : 'medium',
      down ? 60 : 48,
      depsMissing
        ? `${ids.length} plugin(s) failed to load because their runtime dependencies are missing: ${ids.slice(0, 5).join(', ')}`
        : `${ids.length} plugin(s) failed to load: ${ids.slice(0, 5).join(', ')}`,
      ev,
      depsMissing ? ['Finish the update (`openclaw update`, or stop the gateway and run `openclaw doctor --fix`).'] : [],
    );
  }

  // ---------------------------------------------------------------- second gateway
  const second = windowEvents.filter((e) => e.kind === 'second_gateway');
  if (second.length > 0) {
    add(
      'second_gateway',
      'high',
      probeOk ? 50 : 55,
      `Something started a second gateway while one runs (${second.length}× "another OpenClaw process owns gateway-lifecycle")`,
      second.slice(-2).map(eventLine),
      ['Make sure only one supervisor starts the gateway (a systemd unit, a container, a cron job or a shell — not two of them).'],
    );
  }

  // ---------------------------------------------------------------- clients: 4008 ↔ 1008 correlation
  const corr = correlate(windowEvents, { sinceMs });
  clientFindings(corr, ref, activeMs, probeOk, gs?.probeAuthRejected === true, evidence, host, add);

  // ---------------------------------------------------------------- URL / profile mismatch
  const urlEv: string[] = [];
  const invUrl = normUrl(host.gateway.url);
  if (invUrl && evidence.envGatewayUrl && normUrl(evidence.envGatewayUrl) !== invUrl) {
    urlEv.push(`GATEWAY_URL in ${host.envFile ?? '.env'} is ${evidence.envGatewayUrl}, clients use ${host.gateway.url}`);
  }
  if (invUrl && evidence.config?.mode === 'remote' && evidence.config.remoteUrl && normUrl(evidence.config.remoteUrl) !== invUrl) {
    urlEv.push(`gateway.remote.url is ${evidence.config.remoteUrl}, clients use ${host.gateway.url}`);
  }
  if (gs?.port !== undefined && gs.port !== port) urlEv.push(`the CLI probes port ${gs.port} (${gs.probeUrl ?? ''}), the inventory says ${port}`);
  if (gs?.configCliPath && gs.configServicePath && gs.configCliPath !== gs.configServicePath) {
    urlEv.push(`Config (cli) ${gs.configCliPath} ≠ Config (service) ${gs.configServicePath}: CLI and service use different profiles`);
  }
  if (urlEv.length > 0) {
    add('gateway_url_mismatch', urlEv.length > 1 ? 'high' : 'medium', 65, 'The gateway address/profile the tools use does not match the one clients use', urlEv, [
      host.envFile && evidence.envGatewayUrl
        ? `Correct GATEWAY_URL in ${host.envFile} to ${host.gateway.url ?? 'the gateway address'} and restart what reads it.`
        : 'Correct the URL or profile so the CLI, the service and the clients point at the same gateway.',
    ]);
  }

  // ---------------------------------------------------------------- proxy / firewall in front of the gateway
  const ext = evidence.externalProbe;
  if (ext && !ext.ok && probeOk) {
    const seen = ext.status !== undefined ? `HTTP ${ext.status}` : ext.error ?? 'no answer';
    add(
      'proxy_blocks_websocket',
      ext.status !== undefined ? 'high' : 'medium',
      72,
      `From outside, ${ext.url} refuses the WebSocket upgrade (${seen}) while the gateway answers on the host: a proxy or firewall in front of it drops WebSocket upgrades`,
      [`upgrade of ${ext.url} from clawmedic: ${seen}`, `probe on the host ${gs?.probeUrl ?? ''}: ok`.replace('  ', ' ')],
      [
        'Let WebSocket upgrades through the reverse proxy (nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; Caddy and Traefik pass them by default).',
        'Open the public port (443/8443) for long-lived connections in the firewall or security group; clawmedic does not change proxies or firewalls.',
      ],
    );
  }

  // ---------------------------------------------------------------- telegram 409
  const tg = windowEvents.filter((e) => e.kind === 'telegram_conflict');
  if (tg.length > 0) {
    add('telegram_conflict', 'high', 40, `OpenClaw's Telegram channel is fighting another poller of the same bot token (409 Conflict ×${tg.length})`, tg.slice(-2).map(eventLine), [
      'Find and stop the second process polling this bot token (another OpenClaw, an old copy, a test bot). clawmedic never uses OpenClaw’s bot token.',
    ]);
  }

  // ---------------------------------------------------------------- nothing explains a failing probe
  if (!probeOk && gs && findings.every((f) => f.weight < 50)) {
    add('unknown', 'low', 50, `The gateway does not answer its probe and no known cause matches: ${gs.probeError ?? 'no error text'}`, [
      gs.probeError ? `probe: ${gs.probeError}` : '',
      ...evidence.gaps.slice(0, 3).map((g) => `gap: ${g}`),
    ]);
  }

  findings.sort((a, b) => b.weight - a.weight);
  const unique: Finding[] = [];
  for (const f of findings) if (!unique.some((u) => u.cause === f.cause)) unique.push(f);

  if (unique.length === 0) {
    if (gs?.probeOk === true) {
      const ev = [
        `probe ${gs.probeUrl ?? ''}: ok`.trim(),
        ours[0] ? `port ${port}: ${ours[0].process ?? ours[0].commandLine} (pid ${ours[0].pid ?? '?'})` : '',
        memLine,
        corr.benign.length ? `ignored ${corr.benign.length} benign rejection(s): ${[...new Set(corr.benign.map((b) => b.benignWhy))].join(', ')}` : '',
        svc?.tokenOverride || gs.serviceTokenOverride ? `note: ${TOKEN_OVERRIDE_EVIDENCE} (matches the config right now)` : '',
      ];
      // Without the gateway log, failing clients are invisible (the probe uses the current token): say so.
      const blind = evidence.logSources.length === 0;
      add(
        'healthy',
        blind ? 'low' : 'high',
        0,
        blind
          ? `Gateway ${evidence.version ?? gs.gatewayVersion ?? ''} answers its probe, but its log could not be read, so failing clients cannot be ruled out`.replace('  ', ' ')
          : `Gateway ${evidence.version ?? gs.gatewayVersion ?? ''} is up and no client is failing`.replace('  ', ' '),
        blind ? [...ev, 'gap: no gateway log could be read'] : ev,
      );
    } else {
      add('unknown', 'low', 10, 'Could not tell the gateway state: its status could not be read', evidence.gaps.slice(0, 5).map((g) => `gap: ${g}`));
    }
    unique.push(findings[findings.length - 1]!);
  }

  return {
    host: host.name,
    findings: unique,
    openclawVersion: evidence.version ?? gs?.cliVersion,
    probeOk,
    gaps: [...evidence.gaps],
    at: new Date(now ? now.getTime() : Date.now()).toISOString(),
  };
}

/** Starts (`loading configuration`) not preceded by a clean shutdown since the previous start. */
function countUncleanRestarts(events: readonly LogEvent[]): number {
  let starts = 0;
  let unclean = 0;
  let cleanSinceLastStart = false;
  for (const e of events) {
    if (e.kind === 'starting') {
      if (starts > 0 && !cleanSinceLastStart) unclean++;
      starts++;
      cleanSinceLastStart = false;
    } else if (e.kind === 'shutdown') {
      cleanSinceLastStart = true;
    }
  }
  return unclean;
}

type AddFn = (cause: Cause, confidence: Confidence, weight: number, summary: string, ev: string[], userActions?: string[]) => void;

function clientFindings(
  corr: Correlation,
  ref: number,
  activeMs: number,
  probeOk: boolean,
  probeAuthRejected: boolean,
  evidence: Evidence,
  host: HostConfig,
  add: AddFn,
): void {
  const isActive = (ms: number) => Number.isNaN(ms) || ref - ms <= activeMs;
  const damp = (ms: number, w: number): [number, Confidence | null, string] =>
    isActive(ms) ? [w, null, ''] : [w - 30, 'low', ` (last seen ${ago(ms, ref)})`];
  const lastMs = (fs: ConnFailure[]) => Math.max(...fs.map((f) => (Number.isNaN(f.ms) ? -Infinity : f.ms)));
  const sample = (fs: ConnFailure[], n = 4) => fs.slice(-n).map(failureLine);

  const insecure = corr.failures.filter((f) => f.cause === 'control-ui-insecure-auth' || /requires device identity/i.test(f.closeReason));
  if (insecure.length) {
    const [w, c, note] = damp(lastMs(insecure), 72);
    const origins = [...new Set(insecure.map((f) => f.origin).filter(Boolean))];
    add('insecure_context', c ?? 'high', w, `The Control UI is opened over plain HTTP from ${origins.join(', ') || 'a remote address'}: it needs HTTPS or localhost${note}`, sample(insecure), [
      'Open the dashboard over HTTPS (through your reverse proxy) or via an SSH tunnel to http://localhost, then reconnect.',
    ]);
  }

  const origin = corr.failures.filter((f) => f.cause === 'origin-mismatch' || /origin not allowed/i.test(f.closeReason));
  if (origin.length) {
    const [w, c, note] = damp(lastMs(origin), 70);
    const origins = [...new Set(origin.map((f) => f.origin).filter(Boolean))];
    add('origin_not_allowed', c ?? 'high', w, `The gateway refuses the Control UI's Origin ${origins.join(', ')}: it is not the gateway's own address nor in gateway.controlUi.allowedOrigins${note}`, sample(origin), [
      `Open the Control UI from the gateway's own address${host.gateway.url ? ` (${host.gateway.url})` : ''}, or add the origin to gateway.controlUi.allowedOrigins.`,
    ]);
  }

  if (corr.rateLimited.length) {
    const rl = corr.failures.filter((f) => f.authReason === 'rate_limited');
    const [w, c, note] = damp(lastMs(rl), 78);
    const who = corr.rateLimited.map(clientLabel).join('; ');
    add('rate_limited', c ?? 'high', w, `Auth rate limit hit by ${who}: its Origin is locked out for 5 minutes, even with the right token${note}`, [
      ...sample(corr.failures.filter((f) => f.authReason === 'token_mismatch'), 1),
      ...sample(rl, 3),
    ], ['Close the tab or stop the client that sends the wrong token, wait 5 minutes, then reopen the dashboard with a fresh link.']);
  }

  const device = corr.failures.filter((f) => f.authReason === 'device_token_mismatch');
  if (device.length) {
    const [w, c, note] = damp(lastMs(device), 80);
    const keys = new Set(device.map((f) => f.clientKey));
    add('device_token_mismatch', c ?? 'high', w, `${keys.size} paired device(s) present an old device token${note}`, sample(device), [
      'Re-pair the device or rotate/reissue its device token (openclaw devices …), then reconnect it.',
    ]);
  }

  const TOKEN = new Set(['token_mismatch', 'token_missing']);
  const tokenFails = corr.failures.filter((f) => f.authReason !== undefined && TOKEN.has(f.authReason));
  const tokenClients = [...new Set(tokenFails.map((f) => f.clientKey))];
  const override = evidence.service?.tokenOverride === true || evidence.gatewayStatus?.serviceTokenOverride === true;
  const overrideLine = override ? `${TOKEN_OVERRIDE_EVIDENCE} (value redacted): it overrides gateway.auth.token` : '';
  const freshLink = 'Open the fresh dashboard link clawmedic sends you privately (or paste the current token in Control UI settings); clear the site data if the tab keeps the old token.';

  if (override && (tokenFails.length > 0 || probeAuthRejected)) {
    add('token_mismatch', 'high', 84, 'The gateway service is started with a stale --token that overrides the configured token', [
      overrideLine,
      probeAuthRejected ? `probe: ${evidence.gatewayStatus?.probeError ?? 'auth rejected'}` : '',
      ...sample(tokenFails, 3),
    ], []);
    return;
  }
  if (tokenFails.length === 0) {
    if (probeAuthRejected) {
      add('token_mismatch', 'medium', 80, "The gateway rejects the host's own CLI token: the running gateway uses another token than the config", [
        `probe: ${evidence.gatewayStatus?.probeError ?? 'auth rejected'}${evidence.gatewayStatus?.probeDetailCode ? ` (${evidence.gatewayStatus.probeDetailCode})` : ''}`,
      ], ['Check how the gateway is started: a --token flag or a different profile/state dir overrides the config token.']);
    }
    return;
  }
  const [w0, c0, note] = damp(lastMs(tokenFails), 0);
  const dampBy = w0 < 0 ? 30 : 0;
  const restore = corr.autoRestore && corr.autoRestore.failuresAfter > 0 ? corr.autoRestore : undefined;
  const rotation = corr.rotation && corr.rotation.failuresAfter > 0 ? corr.rotation : undefined;
  if (restore) {
    add('config_autorestored', c0 ?? 'high', 86 - dampBy, `The config was auto-restored from a backup (${restore.reason ?? 'reason not logged'}) and ${tokenClients.length} client(s) now fail with a token mismatch: the backup carried another gateway token${note}`, [
      `${hhmmss(restore.time)} Config auto-restored from backup (${restore.reason ?? '?'})`,
      ...sample(tokenFails, 4),
    ], [freshLink, 'Check that the restored config is the one you want (openclaw.json.clobbered.* holds the replaced copy).']);
    return;
  }
  if (rotation) {
    add('token_rotated', c0 ?? 'high', 85 - dampBy, `The gateway token was rotated at ${hhmmss(rotation.time)}; ${tokenClients.length} client(s) still use the old one (${tokenFails.length} failures since)${note}`, [
      `${hhmmss(rotation.time)} gateway auth changed${rotation.disconnected ? `: ${rotation.disconnected} connection(s) closed with 4001` : ' (config hot reload of gateway.auth.token)'}`,
      ...sample(tokenFails, 4),
    ], [freshLink, 'Remote CLIs: set gateway.remote.token to the new gateway.auth.token.']);
    return;
  }
  if (tokenClients.length >= 2 || probeAuthRejected) {
    add('token_mismatch', c0 ?? (tokenClients.length >= 3 || probeAuthRejected ? 'high' : 'medium'), 80 - dampBy, `${tokenClients.length} client(s) present a gateway token that does not match gateway.auth.token${note}`, [
      probeAuthRejected ? `probe: ${evidence.gatewayStatus?.probeError ?? 'auth rejected'}` : '',
      ...corr.clients.filter((c) => tokenClients.includes(c.key)).slice(0, 3).map((c) => `${clientLabel(c)}: ${c.failures} failure(s)`),
      ...sample(tokenFails, 3),
    ], [freshLink, 'Remote CLIs: set gateway.remote.token to match gateway.auth.token.']);
    return;
  }
  // Exactly one client fails and the host's own probe is fine: a stale tab/device. No restart.
  const client = corr.clients.find((c) => c.key === tokenClients[0])!;
  const cadence = client.medianGapSec !== undefined ? `, every ~${Math.round(Math.min(client.maxGapSec ?? 0, 15) || client.medianGapSec)} s` : '';
  add('stale_client', c0 ?? (client.looping || probeOk ? 'high' : 'medium'), 75 - dampBy, `One ${clientLabel(client)} keeps presenting an old gateway token (${client.failures} failures${cadence}); the gateway itself is fine${note}`, [
    `${clientLabel(client)}: ${client.failures} failure(s)${client.looping ? ', reconnecting with backoff (stale tab loop)' : ''}`,
    probeOk ? 'host probe: ok (the gateway accepts the current token)' : '',
    ...sample(tokenFails, 4),
  ], [freshLink]);
}
