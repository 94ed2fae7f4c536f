/**
 * The one remote script a diagnose pass runs, and the parser of its output. Each section is
 * fenced by markers and carries its own exit code, so one failing command never spoils the rest.
 */
import type { HostConfig } from '../domain/host.js';
import { shellQuote } from '../util/shell-quote.js';
import { redact } from '../util/redact.js';
import type {
  ConfigFacts,
  Evidence,
  EvidenceSection,
  HealthInfo,
  LogEvent,
  ServiceState,
} from './evidence-types.js';
import { parseLog } from './log-parser.js';
import { parseDockerStats, parseFree } from './parse-free.js';
import { extractJsonObject, parseGatewayStatusJson, parseGatewayStatusText } from './parse-gateway-status.js';
import { parseSs } from './parse-ss.js';
import {
  containerOf,
  DOCKER_INSPECT_FORMAT,
  LOG_FILTER_ERE,
  openclawCmd,
  openclawTimed,
  SED_REDACT_TOKENS,
  shellPath,
  supervisorCmd,
  shellPort,
  TIMEOUT_PRELUDE,
} from './templates.js';
import { GATEWAY_HELLO_JS } from './gateway-hello.js';

/** Marker that opens a section: `@@CLAWMEDIC section=<name>`. */
export const SECTION_MARK = '@@CLAWMEDIC section=';
/** Marker that closes a section with its exit code: `@@CLAWMEDIC rc=<n>`. */
export const RC_MARK = '@@CLAWMEDIC rc=';

/**
 * Exec deadline for the evidence script: the sum of its inner timeouts (status 45 s + text 45 s,
 * version 20 s, health 15 s, config 20 s, logs 2×30 s, docker stats 20 s) plus slack. Typical runs take 10-20 s.
 */
export const EVIDENCE_TIMEOUT_MS = 240_000;

/** Lines of log shipped back per source (after the keyword filter). */
const LOG_LINES = 2000;
/**
 * Bytes of log shipped back per source, newest kept (file-log JSON lines are ~1-2 KB each): together
 * they stay under EVIDENCE_MAX_OUTPUT_BYTES, so the output cap never cuts the newest lines.
 */
const LOG_BYTES = { file: 1_200_000, other: 400_000 } as const;
/** Output cap of the evidence pass: the log byte caps above plus room for every other section. */
export const EVIDENCE_MAX_OUTPUT_BYTES = 3_000_000;

/**
 * The newest three `openclaw.json.clobbered.<time>` copies beside the config (names only): an
 * auto-restore leaves one. 2026.4.29 prints its `Config auto-restored from backup` line to stdout
 * only, before its file log opens, so on a host without a journal this file is the only trace.
 * Expects `p` (the config path), `fs`, `path` and `s` in scope.
 */
export const CLOBBERED_JS =
  "let cl=[];try{const b=path.basename(p)+'.clobbered.';cl=fs.readdirSync(path.dirname(p)).filter(f=>f.startsWith(b)).map(f=>f.slice(b.length)).sort().slice(-3)}catch(e){}" +
  "console.log('clobbered='+cl.map(s).join(','));";

/**
 * Reads only non-secret facts from openclaw.json (JSON, or JSON5 with comments/trailing commas).
 * Prints key=value lines; the token is reported as set or not, never printed.
 */
const CONFIG_NODE_SCRIPT = [
  "const fs=require('fs'),os=require('os'),path=require('path');",
  "let p=process.argv[1]||path.join(process.env.OPENCLAW_STATE_DIR||path.join(os.homedir(),'.openclaw'),'openclaw.json');",
  "if(p.startsWith('~/'))p=path.join(os.homedir(),p.slice(2));",
  "let t;try{t=fs.readFileSync(p,'utf8')}catch(e){console.log('path='+p);console.log('error='+(e.code||'read'));process.exit(3)}",
  "let c;try{c=JSON.parse(t)}catch(e){try{c=JSON.parse(t.replace(/\\/\\*[\\s\\S]*?\\*\\//g,'').replace(/^\\s*\\/\\/.*$/gm,'').replace(/,(\\s*[}\\]])/g,'$1'))}catch(e2){console.log('path='+p);console.log('error=parse');process.exit(4)}}",
  "const g=(c&&c.gateway)||{},a=g.auth||{},r=g.remote||{},u=g.controlUi||{};",
  "const s=v=>v===undefined||v===null?'':String(v).replace(/[\\r\\n]/g,' ');",
  "console.log('path='+p);console.log('mode='+s(g.mode));console.log('bind='+s(g.bind));console.log('port='+s(g.port));",
  "console.log('remoteUrl='+s(r.url));console.log('authMode='+s(a.mode));",
  "console.log('authTokenSet='+(a.token?'yes':'no'));console.log('remoteTokenSet='+(r.token?'yes':'no'));",
  "console.log('allowedOrigins='+(Array.isArray(u.allowedOrigins)?u.allowedOrigins.map(s).join(','):''));",
  CLOBBERED_JS,
].join('');

/** Deadline of the gateway hello inside the script (connect + hello + health), ms; then the CLI answers. */
const HELLO_TIMEOUT_MS = 5000;

/**
 * The hello replaces the CLI where it can answer for it: a native or docker install with node, no
 * `--profile` (the profile moves the state dir in ways only the CLI resolves). Else the CLI answers.
 */
function helloCommand(host: HostConfig, container: string | undefined): string | undefined {
  if (host.openclaw.profile) return undefined;
  const args = `-- ${shellPort(host)} ${HELLO_TIMEOUT_MS} ${shellQuote(host.openclaw.bin)}`;
  if (host.install === 'docker') {
    if (!container) return undefined;
    const env = host.openclaw.stateDir ? ['-e', shellQuote(`OPENCLAW_STATE_DIR=${host.openclaw.stateDir}`)] : [];
    return `_cm_to 20 docker exec ${[...env, '--'].join(' ')} ${shellQuote(container)} node -e ${shellQuote(GATEWAY_HELLO_JS)} ${args}`;
  }
  const envPrefix = host.openclaw.stateDir ? `env OPENCLAW_STATE_DIR=${shellPath(host.openclaw.stateDir)} ` : '';
  return `_cm_to 20 ${envPrefix}node -e ${shellQuote(GATEWAY_HELLO_JS)} ${args}`;
}

/** Shell functions every evidence script starts with. */
function prelude(): string[] {
  return [
    '#!/bin/sh',
    '# clawmedic evidence pass: read-only',
    TIMEOUT_PRELUDE,
    `_cm_s() { printf '\\n${SECTION_MARK}%s\\n' "$1"; }`,
    `_cm_e() { printf '\\n${RC_MARK}%s\\n' "$1"; }`,
    `_cm_filter=${shellQuote(LOG_FILTER_ERE)}`,
  ];
}

/**
 * The evidence pass as independent scripts, run at once on one SSH connection (one exec channel
 * each): (1) the gateway: hello (or the CLI), config facts, env file, health, the file log (it needs
 * the log path the gateway part found); (2) the host: clock, listeners, memory, kernel OOM lines,
 * supervisor state; (3) the journal or docker logs, when the host has them. Each prints the same
 * fenced sections as the one sequential script, so parseEvidence reads their outputs joined.
 */
export function buildEvidenceScripts(host: HostConfig): string[] {
  return evidenceParts(host).map((part) => `${[...prelude(), ...part, 'exit 0'].join('\n')}\n`);
}

/**
 * Build the evidence script for a host: one POSIX sh script gathering version, gateway status,
 * listeners, memory, kernel OOM lines, supervisor state, config facts, health and recent logs
 * (the parts of buildEvidenceScripts one after the other).
 */
export function buildEvidenceScript(host: HostConfig): string {
  return `${[...prelude(), ...evidenceParts(host).flat(), 'exit 0'].join('\n')}\n`;
}

function evidenceParts(host: HostConfig): string[][] {
  const port = host.gateway.port;
  const docker = host.install === 'docker';
  const container = containerOf(host);
  const sup = host.supervisor;
  const oc = (sec: number, args: string[]) => openclawTimed(host, sec, args);
  const gw: string[] = [];
  const hostPart: string[] = [];
  const journal: string[] = [];

  // The gateway: one WebSocket hello with the config token (read on the host) answers what
  // `gateway status --json`, `health --json` and `--version` did, in milliseconds instead of ~11 s
  // of CLI on a real host. When it cannot tell (no node, no plain token, no answer in time), the CLI.
  const hello = helloCommand(host, container);
  const cliVersion = `_cm_s version; ${oc(20, ['--version'])} 2>&1; _cm_e $?`;
  const cliHealth = `_cm_s health; ${oc(15, ['health', '--json'])} 2>&1; _cm_e $?`;
  const cliStatus = [
    // gateway status: JSON first; the text form only when the JSON form did not work (old builds).
    `_cm_gs=$(${oc(45, ['gateway', 'status', '--json'])} 2>&1); _cm_rc=$?`,
    `_cm_s gateway_status; printf '%s\\n' "$_cm_gs"; _cm_e $_cm_rc`,
    `case "$_cm_gs" in *'"rpc"'*) ;; *) _cm_gs=$(${oc(45, ['gateway', 'status'])} 2>&1); _cm_rc=$?;`,
    `  _cm_s gateway_status_text; printf '%s\\n' "$_cm_gs"; _cm_e $_cm_rc;; esac`,
  ];
  if (hello) {
    const nodeHere = docker ? 'true' : 'command -v node >/dev/null 2>&1';
    gw.push(`_cm_hrc=127; if ${nodeHere}; then _cm_gs=$(${hello} </dev/null 2>&1); _cm_hrc=$?; fi`);
    gw.push('if [ $_cm_hrc -ne 0 ]; then');
    gw.push(`  ${cliVersion}`);
    gw.push(...cliStatus.map((l) => `  ${l}`));
    gw.push(`  ${cliHealth}`);
    gw.push('else');
    gw.push(`  printf '%s\\n' "$_cm_gs"`);
    // The hello prints version and health only when it has them; the CLI fills in what is missing.
    gw.push(`  case "$_cm_gs" in *'${SECTION_MARK}version'*) ;; *) ${cliVersion};; esac`);
    gw.push(`  case "$_cm_gs" in *'${SECTION_MARK}health'*) ;; *) ${cliHealth};; esac`);
    gw.push('fi');
  } else {
    gw.push(cliVersion, ...cliStatus);
  }
  gw.push(
    `_cm_log=$(printf '%s\\n' "$_cm_gs" | sed -n -e 's/^ *"logFile": *"\\([^"]*\\)".*/\\1/p' -e 's/^File logs: *//p' | head -n 1)`,
  );
  gw.push(
    `_cm_cfg=$(printf '%s\\n' "$_cm_gs" | sed -n -e 's/^ *"path": *"\\([^"]*\\.json\\)".*/\\1/p' -e 's/^Config (cli): *//p' | head -n 1)`,
  );
  // Config facts without secrets: node where available, else `openclaw config get` per key; not again
  // when the hello printed them (it read the same file).
  const configDone = hello ? `case "$_cm_gs" in *'${SECTION_MARK}config'*) ;; *) ` : '';
  const configEnd = hello ? ';; esac' : '';
  if (docker && container) {
    const env = host.openclaw.stateDir ? ['-e', shellQuote(`OPENCLAW_STATE_DIR=${host.openclaw.stateDir}`)] : [];
    gw.push(
      `${configDone}_cm_s config; _cm_to 20 docker exec ${[...env, '--'].join(' ')} ${shellQuote(container)} node -e ${shellQuote(CONFIG_NODE_SCRIPT)} -- "$_cm_cfg" 2>&1; _cm_e $?${configEnd}`,
    );
  } else {
    const envPrefix = host.openclaw.stateDir ? `env OPENCLAW_STATE_DIR=${shellPath(host.openclaw.stateDir)} ` : '';
    const fallback = ['gateway.mode', 'gateway.bind', 'gateway.port', 'gateway.remote.url']
      .map((k) => `printf '%s=' ${shellQuote(k)}; ${openclawCmd(host, ['config', 'get', k])} </dev/null 2>/dev/null | head -n 1`)
      .join('; ');
    gw.push(
      `${configDone}_cm_s config; if command -v node >/dev/null 2>&1; then _cm_to 20 ${envPrefix}node -e ${shellQuote(CONFIG_NODE_SCRIPT)} -- "$_cm_cfg" 2>&1; _cm_e $?; else echo 'via=config-get'; ${fallback}; _cm_e 0; fi${configEnd}`,
    );
  }

  if (host.envFile) {
    gw.push(
      `_cm_o=$(grep -E '^[[:space:]]*(export[[:space:]]+)?GATEWAY_URL=' -- ${shellPath(host.envFile)} 2>&1); _cm_rc=$?; [ $_cm_rc -eq 1 ] && _cm_rc=0; _cm_s env_file; printf '%s\\n' "$_cm_o" | tail -n 1; _cm_e $_cm_rc`,
    );
  }

  // The file log last in its part: the largest section, so a byte cap on the output cuts it, not the facts.
  if (docker && container) {
    const c = shellQuote(container);
    gw.push(
      `_cm_s log_file; _cm_to 30 docker exec -- ${c} sh -c 'f=$1; [ -n "$f" ] || f=/tmp/openclaw/openclaw-$(date +%F).log; [ -r "$f" ] || f=/tmp/openclaw-$(id -u)/openclaw-$(date +%F).log; [ -r "$f" ] || { echo "no readable log file"; exit 2; }; echo "# $f"; tail -n 20000 "$f" | grep -E "$2" | tail -n ${LOG_LINES} | tail -c ${LOG_BYTES.file}; exit 0' sh "$_cm_log" "$_cm_filter" 2>&1; _cm_e $?`,
    );
    journal.push(
      `_cm_s log_docker; _cm_to 30 docker logs --tail 20000 -- ${c} 2>&1 | grep -E "$_cm_filter" | tail -n ${LOG_LINES} | tail -c ${LOG_BYTES.other}; _cm_e 0`,
    );
  } else {
    gw.push('if [ -z "$_cm_log" ] || [ ! -r "$_cm_log" ]; then');
    gw.push('  for _cm_f in "/tmp/openclaw/openclaw-$(date +%F).log" "/tmp/openclaw-$(id -u)/openclaw-$(date +%F).log"; do');
    gw.push('    if [ -r "$_cm_f" ]; then _cm_log=$_cm_f; break; fi');
    gw.push('  done');
    gw.push('fi');
    gw.push(
      `_cm_s log_file; if [ -n "$_cm_log" ] && [ -r "$_cm_log" ]; then printf '# %s\\n' "$_cm_log"; tail -n 20000 "$_cm_log" | grep -E "$_cm_filter" | tail -n ${LOG_LINES} | tail -c ${LOG_BYTES.file}; _cm_e 0; else echo "no readable log file (\${_cm_log:-none found})"; _cm_e 2; fi`,
    );
  }
  if (sup.kind === 'systemd-user') {
    journal.push(
      `_cm_s log_journal; XDG_RUNTIME_DIR="\${XDG_RUNTIME_DIR:-/run/user/$(id -u)}" _cm_to 30 journalctl --user ${shellQuote(`--unit=${sup.unit}`)} --since='2 hours ago' -o short-iso --no-pager -q 2>&1 | grep -E "$_cm_filter" | tail -n ${LOG_LINES} | tail -c ${LOG_BYTES.other}; _cm_e 0`,
    );
  }

  // The host: clock, listeners (as the user, and via sudo -n where the operator allowed it), memory,
  // kernel OOM lines, supervisor state.
  hostPart.push('_cm_s now; date -u +%Y-%m-%dT%H:%M:%SZ; _cm_e $?');
  const portFilter = shellQuote(`^State|:${port}[[:space:]]`);
  hostPart.push(`_cm_o=$(ss -tlnp 2>&1); _cm_rc=$?; _cm_s listeners; printf '%s\\n' "$_cm_o" | grep -E ${portFilter}; _cm_e $_cm_rc`);
  hostPart.push(
    `_cm_o=$(sudo -n ss -tlnp 2>&1); _cm_rc=$?; _cm_s listeners_sudo; if [ $_cm_rc -eq 0 ]; then printf '%s\\n' "$_cm_o" | grep -E ${portFilter}; else printf '%s\\n' "$_cm_o" | tail -n 1; fi; _cm_e $_cm_rc`,
  );
  hostPart.push('_cm_s memory; free -m 2>&1; _cm_e $?');
  if (docker && container) {
    hostPart.push(
      `_cm_s container_memory; _cm_to 20 docker stats --no-stream --format ${shellQuote('{{.Name}}\t{{.MemUsage}}\t{{.MemPerc}}')} -- ${shellQuote(container)} 2>&1; _cm_e $?`,
    );
  }
  // Kernel OOM kills: the journal first (timestamps); dmesg when the journal is missing or unreadable.
  // No -q: "No journal files were found/opened" must show up so the dmesg fallback kicks in.
  hostPart.push("_cm_o=$(journalctl -k --no-pager -o short-iso --since='2 hours ago' 2>&1); _cm_rc=$?");
  hostPart.push(
    'if [ $_cm_rc -ne 0 ] || printf \'%s\' "$_cm_o" | grep -q "No journal files"; then _cm_o=$(dmesg --time-format iso 2>&1 || dmesg 2>&1); _cm_rc=$?; fi',
  );
  hostPart.push(
    "_cm_s kernel_oom; if [ $_cm_rc -eq 0 ]; then printf '%s\\n' \"$_cm_o\" | grep -iE 'killed process|out of memory' | tail -n 50; else printf '%s\\n' \"$_cm_o\" | tail -n 2; fi; _cm_e $_cm_rc",
  );
  // Supervisor state (token values in ExecStart / container command are redacted on the host).
  if (sup.kind === 'systemd-user' || sup.kind === 'docker' || sup.status) {
    // `$( (` not `$((`: a commands-supervisor status is a subshell and must not parse as arithmetic.
    hostPart.push(`_cm_o=$( ${supervisorCmd(host, 'status')} 2>&1); _cm_rc=$?`);
    hostPart.push(`_cm_s service; printf '%s\\n' "$_cm_o" | ${SED_REDACT_TOKENS}; _cm_e $_cm_rc`);
  }
  return [gw, hostPart, journal].filter((part) => part.length > 0);
}

/** Sections whose failure is expected on many hosts and is not worth reporting as a gap. */
const OPTIONAL_SECTIONS = new Set(['listeners_sudo', 'gateway_status_text', 'log_journal', 'log_docker']);

/** Split the script's stdout into sections (name → rc + body). */
export function splitSections(stdout: string): Record<string, EvidenceSection> {
  const out: Record<string, EvidenceSection> = {};
  let pos = 0;
  for (;;) {
    const s = stdout.indexOf(SECTION_MARK, pos);
    if (s < 0) break;
    const nameEnd = stdout.indexOf('\n', s);
    if (nameEnd < 0) break;
    const name = stdout.slice(s + SECTION_MARK.length, nameEnd).trim();
    const r = stdout.indexOf(`\n${RC_MARK}`, nameEnd);
    const nextSection = stdout.indexOf(`\n${SECTION_MARK}`, nameEnd);
    let body: string;
    let rc: number | null = null;
    if (r >= 0 && (nextSection < 0 || r < nextSection)) {
      body = stdout.slice(nameEnd + 1, r);
      const rcEnd = stdout.indexOf('\n', r + 1);
      const rcText = stdout.slice(r + 1 + RC_MARK.length, rcEnd < 0 ? undefined : rcEnd).trim();
      rc = /^\d+$/.test(rcText) ? Number(rcText) : null;
      pos = rcEnd < 0 ? stdout.length : rcEnd;
    } else {
      // Cut short (timeout, output cap): keep what arrived, rc unknown.
      body = stdout.slice(nameEnd + 1, nextSection < 0 ? undefined : nextSection);
      pos = nextSection < 0 ? stdout.length : nextSection;
    }
    if (body.endsWith('\n')) body = body.slice(0, -1);
    out[name] = { name, rc, output: body };
    if (pos >= stdout.length) break;
  }
  return out;
}

function gapReason(sec: EvidenceSection): string {
  const last = sec.output.trim().split('\n').pop()?.trim() ?? '';
  const tail = last ? `: ${redact(last).slice(0, 160)}` : '';
  if (sec.rc === null) return `${sec.name}: output cut short${tail}`;
  if (sec.rc === 124) return `${sec.name}: timed out`;
  if (sec.rc === 127) return `${sec.name}: command not found${tail}`;
  return `${sec.name}: exit ${sec.rc}${tail}`;
}

function parseHealth(text: string): HealthInfo | null {
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

/**
 * A config auto-restore seen only from the `.clobbered` copy it left (no `Config auto-restored`
 * line in the log within two minutes of it): an event at the copy's time, so the rules read it as
 * the restore it was. Seen on 2026.4.29, whose restore line goes to stdout only.
 */
const CLOBBER_MATCH_MS = 120_000;
function restoresFromClobbered(config: ConfigFacts | undefined, logged: readonly LogEvent[]): LogEvent[] {
  const out: LogEvent[] = [];
  for (const time of config?.clobberedAt ?? []) {
    const ms = Date.parse(time);
    if (logged.some((e) => e.kind === 'config_autorestored' && Math.abs(e.ms - ms) <= CLOBBER_MATCH_MS)) continue;
    out.push({
      kind: 'config_autorestored',
      time,
      ms,
      text: `openclaw.json.clobbered copy kept at ${time} (a config auto-restore; its log line went to stdout only)`,
      path: config?.path,
      reason: 'seen from the openclaw.json.clobbered copy it left',
    });
  }
  return out;
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

/** Dedup key: the same event seen in the file log and in the journal/docker stdout counts once. */
function eventKey(e: LogEvent): string {
  if ('conn' in e) return `${e.kind}|${e.conn}|${'code' in e ? e.code : ''}`;
  const bucket = Number.isNaN(e.ms) ? e.text.slice(0, 80) : String(Math.floor(e.ms / 2000));
  return `${e.kind}|${bucket}|${'plugin' in e ? e.plugin : ''}`;
}

function logBody(sec: EvidenceSection | undefined): { source?: string; text: string } {
  if (!sec) return { text: '' };
  const text = sec.output;
  if (text.startsWith('# ')) {
    const nl = text.indexOf('\n');
    return { source: text.slice(2, nl < 0 ? undefined : nl).trim(), text: nl < 0 ? '' : text.slice(nl + 1) };
  }
  return { text };
}

/** Sections that the script must always produce; missing ones become gaps. */
const REQUIRED_SECTIONS = ['now', 'version', 'gateway_status', 'listeners', 'memory', 'kernel_oom', 'config', 'health', 'log_file'];

/**
 * Parse the evidence script's stdout. Each section is parsed on its own; a section that failed
 * (non-zero rc, timeout, missing) becomes a gap with its reason instead of spoiling the verdict.
 */
export function parseEvidence(stdout: string): Evidence {
  const sections = splitSections(stdout);
  const ev: Evidence = { listeners: [], kernelOom: [], logEvents: [], logSources: [], gaps: [], sections: {} };
  const gap = (s: EvidenceSection) => ev.gaps.push(gapReason(s));

  for (const name of REQUIRED_SECTIONS) {
    if (!sections[name]) ev.gaps.push(`${name}: not collected`);
  }
  // Keep small sections (redacted) for display; logs are summarized by line count only.
  for (const [name, s] of Object.entries(sections)) {
    const isLog = name.startsWith('log_');
    ev.sections[name] = {
      name,
      rc: s.rc,
      output: isLog ? `(${s.output ? s.output.split('\n').length : 0} lines)` : redact(s.output.slice(0, 20000)),
    };
  }

  const now = sections.now;
  if (now && now.rc === 0 && !Number.isNaN(Date.parse(now.output.trim()))) ev.hostNow = now.output.trim();

  const ver = sections.version;
  if (ver) {
    const m = /(\d{4}\.\d+\.\d+(?:[-.][\w.]+)?)/.exec(ver.output);
    if (ver.rc === 0 && m) ev.version = m[1];
    else gap(ver);
  }

  const gs = sections.gateway_status;
  const gst = sections.gateway_status_text;
  if (gs) {
    const parsed = parseGatewayStatusJson(gs.output);
    if (parsed) ev.gatewayStatus = parsed;
    else if (gst) {
      const t = parseGatewayStatusText(gst.output);
      if (t) ev.gatewayStatus = t;
      else gap(gst.rc === 0 ? { ...gst, rc: null } : gst);
    } else {
      const t = parseGatewayStatusText(gs.output);
      if (t) ev.gatewayStatus = t;
      else gap(gs.rc === 0 ? { ...gs, output: 'no status in output', rc: 1 } : gs);
    }
  }
  if (!ev.version && ev.gatewayStatus?.cliVersion) ev.version = ev.gatewayStatus.cliVersion;

  const port = ev.gatewayStatus?.port;
  const ls = sections.listeners;
  if (ls) {
    if (ls.rc === 0) ev.listeners = parseSs(ls.output, port);
    else gap(ls);
  }
  const lsu = sections.listeners_sudo;
  if (lsu && lsu.rc === 0) {
    // sudo sees owners the user cannot: fill in process/pid for the same sockets, add hidden ones.
    for (const l of parseSs(lsu.output, port)) {
      const same = ev.listeners.find((x) => x.address === l.address && x.port === l.port);
      if (same) {
        same.process ??= l.process;
        same.pid ??= l.pid;
      } else ev.listeners.push(l);
    }
  }

  const mem = sections.memory;
  if (mem) {
    const m = mem.rc === 0 ? parseFree(mem.output) : null;
    if (m) ev.memory = m;
    else gap(mem);
  }
  const cmem = sections.container_memory;
  if (cmem) {
    const m = cmem.rc === 0 ? parseDockerStats(cmem.output) : null;
    if (m) ev.containerMemory = m;
    else gap(cmem);
  }

  const oom = sections.kernel_oom;
  if (oom) {
    if (oom.rc === 0) ev.kernelOom = parseLog(oom.output).filter((e) => e.kind === 'kernel_oom');
    else gap(oom);
  }

  const svc = sections.service;
  if (svc) {
    const s = parseService(svc.output);
    if (svc.rc === 0 && s) ev.service = s;
    else gap(svc);
  }

  const cfg = sections.config;
  if (cfg) {
    const facts = parseConfigFacts(cfg.output);
    if (facts.readable || cfg.output.includes('via=config-get')) ev.config = facts;
    else gap(cfg);
  }

  const envf = sections.env_file;
  if (envf) {
    if (envf.rc === 0) {
      const m = /GATEWAY_URL=\s*["']?([^"'\s#]+)/.exec(envf.output);
      if (m) ev.envGatewayUrl = redact(m[1]!);
    } else gap(envf);
  }

  const h = sections.health;
  if (h) {
    const parsed = parseHealth(h.output);
    if (parsed) ev.health = parsed;
    // health goes through the gateway: when its probe already failed, this is no extra blind spot.
    else if (ev.gatewayStatus?.probeOk !== false) gap(h);
  }

  // Logs: file log first (richest), then journal / docker stdout. An event already seen in an
  // earlier source is dropped; repeats within one source are real (a client loops on one conn id).
  const seenBefore = new Set<string>();
  let lastMs = NaN;
  for (const name of ['log_file', 'log_journal', 'log_docker']) {
    const sec = sections[name];
    if (!sec) continue;
    if (sec.rc !== 0 && !OPTIONAL_SECTIONS.has(name)) {
      gap(sec);
      // A section cut by the output cap still holds good lines: parse them; anything else failed outright.
      if (sec.rc !== null) continue;
    }
    const { source, text } = logBody(sec);
    if (!text.trim()) continue;
    ev.logSources.push(name === 'log_file' ? `file:${source ?? '?'}` : name === 'log_journal' ? 'journal' : 'docker logs');
    const keys: string[] = [];
    let carry: LogEvent | undefined;
    for (const e of parseLog(text)) {
      // Untimed lines (stderr: "FATAL ERROR …") happened right after the previous timed line.
      if (Number.isNaN(e.ms) && carry) {
        e.ms = carry.ms;
        e.time = carry.time;
      } else if (!Number.isNaN(e.ms)) carry = e;
      const k = eventKey(e);
      if (seenBefore.has(k)) continue;
      keys.push(k);
      ev.logEvents.push(e);
      if (!Number.isNaN(e.ms) && !(e.ms <= lastMs)) lastMs = e.ms;
    }
    for (const k of keys) seenBefore.add(k);
  }
  ev.logEvents.push(...restoresFromClobbered(ev.config, ev.logEvents));
  // Sources interleave: order by time, keeping lines without a time where they came.
  ev.logEvents = stableSortByTime(ev.logEvents);
  if (!Number.isNaN(lastMs)) ev.lastLogTime = new Date(lastMs).toISOString();
  return ev;
}

function stableSortByTime(events: LogEvent[]): LogEvent[] {
  let prev = -Infinity;
  const keyed = events.map((e, i) => {
    const k = Number.isNaN(e.ms) ? prev : e.ms;
    prev = k;
    return { e, i, k };
  });
  keyed.sort((a, b) => a.k - b.k || a.i - b.i);
  return keyed.map((x) => x.e);
}

