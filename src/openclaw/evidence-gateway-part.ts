/**
 * The gateway part of the evidence pass: the gateway's own answer (one WebSocket hello, else the CLI:
 * version, `gateway status`, health), the config facts without secrets and the env file's GATEWAY_URL.
 * Each function returns lines of POSIX sh that print fenced sections (see evidence-sections.ts).
 */
import type { HostConfig } from '../domain/host.js';
import { shellQuote } from '../util/shell-quote.js';
import { SECTION_MARK } from './evidence-sections.js';
import { GATEWAY_HELLO_JS } from './gateway-hello.js';
import { openclawCmd, openclawTimed, shellPath, shellPort } from './templates.js';

/**
 * Reads only non-secret facts from openclaw.json (JSON, or JSON5 with comments/trailing commas).
 * Prints key=value lines; the token is reported as set or not, never printed.
 */
/**
 * The newest three `openclaw.json.clobbered.<time>` copies beside the config (names only): an
 * auto-restore leaves one. 2026.4.29 prints its `Config auto-restored from backup` line to stdout
 * only, before its file log opens, so on a host without a journal this file is the only trace.
 * Expects `p` (the config path), `fs`, `path` and `s` in scope.
 */
export const CLOBBERED_JS =
  "let cl=[];try{const b=path.basename(p)+'.clobbered.';cl=fs.readdirSync(path.dirname(p)).filter(f=>f.startsWith(b)).map(f=>f.slice(b.length)).sort().slice(-3)}catch(e){}" +
  "console.log('clobbered='+cl.map(s).join(','));";

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
export function helloCommand(host: HostConfig, container: string | undefined): string | undefined {
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

/**
 * The gateway's answer: the hello when it can give one, the CLI for what it cannot (or for all of it),
 * then the log file and config paths that answer names (`_cm_log`, `_cm_cfg`) for the sections after it.
 */
export function gatewayAnswerLines(host: HostConfig, hello: string | undefined): string[] {
  const docker = host.install === 'docker';
  const oc = (sec: number, args: string[]) => openclawTimed(host, sec, args);
  const gw: string[] = [];

  // The gateway: one WebSocket hello with the config token (read on the host) answers what
  // `gateway status --json`, `health --json` and `--version` did, in milliseconds instead of ~11 s
  // of CLI on a real host. When it cannot tell (no node, no plain token, no answer in time), the CLI.
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
  return gw;
}

/** The config facts section (`_cm_cfg` from the gateway's answer); skipped when the hello printed it. */
export function configFactsLines(host: HostConfig, container: string | undefined, hello: string | undefined): string[] {
  const docker = host.install === 'docker';
  const gw: string[] = [];
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
  return gw;
}

/** The env file's last GATEWAY_URL line, when the inventory names an env file. */
export function envFileLines(host: HostConfig): string[] {
  const gw: string[] = [];
  if (host.envFile) {
    gw.push(
      `_cm_o=$(grep -E '^[[:space:]]*(export[[:space:]]+)?GATEWAY_URL=' -- ${shellPath(host.envFile)} 2>&1); _cm_rc=$?; [ $_cm_rc -eq 1 ] && _cm_rc=0; _cm_s env_file; printf '%s\\n' "$_cm_o" | tail -n 1; _cm_e $_cm_rc`,
    );
  }
  return gw;
}
