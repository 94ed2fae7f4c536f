/**
 * Issue 12.2: no inventory value reaches a shell unquoted, and no name reaches a command as an option.
 *
 * Every script clawmedic renders from the inventory (status, evidence, read templates, every fix step
 * kind, the restore plan, the log follow scripts) is rendered with hostile values in every inventory
 * field and RUN by the host's sh in sessions of a real OpenSSH sshd (test/support/sshd.ts). HostConfig
 * objects are built directly, bypassing the schema, so the quoting itself is what is proven.
 *
 * Nothing real runs: in a throw-away HOME, every command the templates use (openclaw, docker, systemctl,
 * journalctl, node, cp, grep, …) is a shell function that logs its argv, and PATH holds only the real
 * `touch` (what a canary runs) and logging stubs for what is run by `exec`. The shell's own parsing and
 * expansion, the thing under test, is the real one. Two checks:
 *  - canary: a value like `$(touch <canary>)` that runs leaves a file named after its field;
 *  - options: a value starting with `-` (`-rf`, `--help`) never reaches a command ahead of `--`
 *    (it may be the value of `--profile`, or part of a `--unit=` / `NAME=` / `./` word).
 * All fields are hostile at once, each with a different value: a Latin square over the values, so in
 * the two common install kinds each field meets each value once (the three mixed kinds share the rows).
 * Cases are batched: written to the host's disk (it is this machine) and run in two sessions on one
 * SSH connection; a second test sends a few through the production path (SshRunner.exec).
 */
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX_STEP_KINDS, type StepParams } from '../../src/domain/diagnosis.js';
import type { HostConfig, Supervisor } from '../../src/domain/host.js';
import { buildRestorePlan } from '../../src/jobs/remote-host-ops.js';
import { buildCliStatusScript } from '../../src/jobs/host-status.js';
import { buildDockerVersionScript, buildLightProbeScript } from '../../src/openclaw/light-probe.js';
import { buildFollowScript } from '../../src/monitor/follow-script.js';
import { buildEvidenceScript } from '../../src/openclaw/evidence.js';
import { renderStep } from '../../src/openclaw/step-catalog.js';
import { READ_TEMPLATES, TemplateError } from '../../src/openclaw/templates.js';
import { SshRunner } from '../../src/remote/ssh-runner.js';
import { shellQuote } from '../../src/util/shell-quote.js';
import { hostConfigFor, startSshd, type SshdHandle } from '../support/sshd.js';

/** Hostile inventory values; `C` is the canary file a value creates if it ever runs. */
const HOSTILE: ReadonlyArray<(c: string) => string> = [
  (c) => `$(touch ${c})`,
  () => '$(touch CANARY)',
  (c) => `\`touch ${c}\``,
  (c) => `"; touch ${c}; "`,
  (c) => `'; touch ${c}; '`,
  (c) => `x\ntouch ${c}\n`,
  () => '-rf',
  () => '--help',
  () => '$HOME',
  (c) => `; touch ${c}`,
  (c) => `| touch ${c}`,
  (c) => `&& touch ${c}`,
  () => '*',
  () => 'ünïcødé ☃ 名前',
  (c) => `~/$(touch ${c})`,
  (c) => `x >${c}`,
  (c) => `\\"; touch ${c}; \\"`,
  (c) => `\${IFS}$(touch ${c})`,
  (c) => `%s%n\\c'"$(touch ${c})"'`,
];
/** Values that must never be read as an option. */
const DASHED = ['-rf', '--help'];

/** Every inventory field that could end up in a script (and a few that must not). */
const FIELDS = ['name', 'ssh.host', 'ssh.user', 'openclaw.bin', 'openclaw.profile', 'openclaw.stateDir', 'envFile', 'container', 'supervisor.unit', 'supervisor.container', 'gateway.port', 'gateway.url'] as const;
type Field = (typeof FIELDS)[number];

type Variant = 'native-systemd' | 'docker-docker' | 'docker-systemd' | 'native-docker' | 'native-commands';
const VARIANTS: Variant[] = ['native-systemd', 'docker-docker', 'docker-systemd', 'native-docker', 'native-commands'];

/** A HostConfig with every field set from `valueOf` (no schema: this is what a bypass would look like). */
function hostileHost(variant: Variant, valueOf: (f: Field) => string): HostConfig {
  const [install, sup] = variant.split('-') as ['native' | 'docker', 'systemd' | 'docker' | 'commands'];
  const supervisor: Supervisor =
    sup === 'systemd'
      ? { kind: 'systemd-user', unit: valueOf('supervisor.unit') }
      : sup === 'docker'
        ? { kind: 'docker', container: valueOf('supervisor.container') }
        : { kind: 'commands', start: 'true', stop: 'true', status: 'true' };
  return {
    name: valueOf('name'),
    ssh: { host: valueOf('ssh.host'), port: 22, user: valueOf('ssh.user'), hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` },
    install,
    container: install === 'docker' || sup === 'docker' ? valueOf('container') : undefined,
    supervisor,
    openclaw: { bin: valueOf('openclaw.bin'), profile: valueOf('openclaw.profile'), stateDir: valueOf('openclaw.stateDir') },
    // A port is a number after the schema; a bypass could put anything there.
    gateway: { port: valueOf('gateway.port') as unknown as number, url: valueOf('gateway.url') },
    envFile: valueOf('envFile'),
    allowKillPortOwner: true,
    autoFix: false,
  };
}

const STEP_PARAMS: Partial<Record<(typeof FIX_STEP_KINDS)[number], StepParams>> = {
  kill_port_owner: { pid: 4_000_001, processName: 'node' },
  disable_plugin: { pluginId: '@acme/plugin-x' },
  wait_for_gateway: { waitSec: 5 },
};

/** Every script rendered for `host`, by template name; templates that refuse the host are counted, not run. */
function renderAll(host: HostConfig, refused: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const add = (name: string, render: () => string) => {
    try {
      out.push([name, render()]);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      refused.push(name);
    }
  };
  add('status', () => buildLightProbeScript(host));
  add('status:cli', () => buildCliStatusScript(host));
  if (host.install === 'docker') add('status:docker-version', () => buildDockerVersionScript(host));
  add('evidence', () => buildEvidenceScript(host));
  for (const [name, t] of Object.entries(READ_TEMPLATES)) add(`read:${name}`, () => t(host));
  for (const kind of FIX_STEP_KINDS) add(`step:${kind}`, () => renderStep(host, kind, STEP_PARAMS[kind] ?? {}).script);
  try {
    buildRestorePlan(host, 'gateway_down').steps.forEach((s, i) => out.push([`restore-plan[${i}]:${s.kind}`, s.script]));
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    refused.push('restore-plan');
  }
  add('follow', () => buildFollowScript(host, { backlogLines: 10, rollCheckSec: 1 }));
  add('follow:resume', () => buildFollowScript(host, { backlogLines: 10, rollCheckSec: 1, resume: { ms: Date.parse('2026-11-25T15:00:00Z'), hashes: [] } }));
  return out;
}

/** Commands the templates run, stubbed as shell functions that log their argv (and pass through where noted). */
const LOGGED_ONLY = ['docker', 'systemctl', 'journalctl', 'node', 'ss', 'dmesg', 'free', 'cp', 'mv', 'rm', 'ls', 'sed', 'head', 'tail', 'tr', 'sort', 'awk', 'cat', 'basename', 'openclaw'];

/**
 * The stub layer every case runs under (defined once per batch; each case runs in a subshell of it).
 * Functions win over PATH, so no real program runs except `touch` (the canary) and, through `exec`
 * (which skips functions), the logging stubs on PATH. `timeout` and `env` log, then run what they wrap,
 * so the command after them is logged too. `sleep` ends the case: the wait and follow loops would spin
 * for seconds, and by then every line that uses a value has run once.
 */
// The record is built first and written by one printf: several writes per record interleaved with a command
// running alongside (a follow script's background part) and tore records (an empty command name).
const STUB_LOG_FN = `_CM_US=$(printf '\\037'); _st() { _r=$1; shift; for _a in "$@"; do _r="$_r$_CM_US$_a"; done; printf '%s\\036' "$_r" >>"$_CM_STUBLOG"; }`;
function stubLayer(): string {
  const st = STUB_LOG_FN;
  return [
    st,
    ...LOGGED_ONLY.map((c) => `${c}() { _st ${c} "$@"; }`),
    'timeout() { _st timeout "$@"; shift; "$@"; }',
    'env() { _st env "$@"; while [ $# -gt 0 ]; do case $1 in *=*) shift ;; *) break ;; esac; done; "$@"; }',
    'sudo() { _st sudo "$@"; return 1; }',
    'grep() { _st grep "$@"; return 1; }',
    'date() { _st date "$@"; printf "%s\\n" 1764680000; }',
    'id() { printf "%s\\n" 1000; }',
    'dirname() { printf "%s\\n" .; }',
    'mktemp() { printf "%s\\n" "$HOME/snap"; }',
    'sleep() { exit 0; }',
    'kill() { _st kill "$@"; }',
  ].join('\n');
}

let sshd: SshdHandle;
let runner: SshRunner;
let base: string;
/** Sessions run side by side, each with its own home (working directory, canary directory) and stub log. */
const SESSIONS = 2;
const homeOf = (g: number) => path.join(base, `home-${g}`);
const canaryDirOf = (g: number) => path.join(homeOf(g), 'canary');

beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'clawmedic-hostile-'));
  for (let g = 0; g < SESSIONS; g++) await mkdir(canaryDirOf(g), { recursive: true });
  // PATH of the cases: the real `touch` (what a canary runs) and logging stubs for commands run by `exec`.
  const bin = path.join(base, 'bin');
  await mkdir(bin);
  await symlink('/usr/bin/touch', path.join(bin, 'touch'));
  for (const name of ['docker', 'journalctl', 'tail']) {
    await writeFile(path.join(bin, name), `#!/bin/sh\n${STUB_LOG_FN}\n_st ${name} "$@"\n`);
    await chmod(path.join(bin, name), 0o755);
  }
  sshd = await startSshd();
  runner = new SshRunner({ privateKey: sshd.privateKey });
}, 30_000);

afterAll(async () => {
  await runner?.close();
  await sshd?.stop();
  //TMP if (base) await rm(base, { recursive: true, force: true });
});

interface Case {
  id: number;
  /** The session that runs it (its values name that session's canary directory). */
  session: number;
  variant: Variant;
  template: string;
  /** field → value index, to name the culprit when a canary fires. */
  fields: Record<Field, number>;
  script: string;
}

/**
 * Argv positions where a dashed value is not an option: after `--`; the value of `--profile`; what
 * follows `timeout <secs>` or `env NAME=value` (the command they run, logged on its own).
 */
function optionViolation(cmd: string, args: string[]): string | undefined {
  const dd = args.indexOf('--');
  for (let k = 0; k < args.length; k++) {
    const a = args[k]!;
    if (!DASHED.some((d) => a.startsWith(d))) continue;
    if (dd >= 0 && k > dd) continue;
    if (args[k - 1] === '--profile') continue; // a value position (and OpenClaw refuses such a profile)
    if (cmd === 'timeout' && k >= 1) continue;
    if (cmd === 'env' && args.slice(0, k).some((x) => x.includes('='))) continue;
    return `${cmd} got ${JSON.stringify(a)} as an option: ${JSON.stringify(args)}`;
  }
  return undefined;
}

describe('hostile inventory values (issue 12.2)', () => {
  it('every template, every field, every hostile value: nothing runs, no name becomes an option', async () => {
    const cases: Case[] = [];
    const refused: string[] = [];
    const seen = new Set<string>();
    VARIANTS.forEach((variant, vi) => {
      for (let i = 0; i < HOSTILE.length; i++) {
        // The two common kinds meet every (field, value) pair; the three mixed kinds share the rows.
        if (vi >= 2 && i % 3 !== vi - 2) continue;
        const fields = {} as Record<Field, number>;
        FIELDS.forEach((f, j) => (fields[f] = (i + j) % HOSTILE.length));
        const session = i % SESSIONS;
        const valueOf = (f: Field) => HOSTILE[fields[f]]!(path.join(canaryDirOf(session), f));
        for (const [template, script] of renderAll(hostileHost(variant, valueOf), refused)) {
          if (seen.has(script)) continue;
          seen.add(script);
          cases.push({ id: cases.length, session, variant, template, fields, script });
        }
      }
    });

    // The cases are written to the host's disk (it is this machine) as batch files and run in two SSH
    // sessions on one connection: each case in a subshell, its script parsed by the host's sh through
    // `eval` exactly as `sh -c` would, canaries collected after each. Stub logs are per session.
    const runHost = hostConfigFor(sshd);
    const started = Date.now();
    const runs = Array.from({ length: SESSIONS }, async (_, g) => {
      const dir = path.join(base, `batches-${g}`);
      const log = path.join(base, `stub-${g}.log`);
      await mkdir(dir, { recursive: true });
      const mine = cases.filter((c) => c.session === g);
      const work = homeOf(g);
      const per = 150;
      for (let b = 0; b * per < mine.length; b++) {
        const lines = [
          `cd ${shellQuote(work)} && HOME=${shellQuote(work)} && PATH=${shellQuote(path.join(base, 'bin'))} && _CM_STUBLOG=${shellQuote(log)} || exit 97`,
          'export HOME PATH _CM_STUBLOG',
          stubLayer(),
        ];
        for (const c of mine.slice(b * per, (b + 1) * per)) {
          lines.push(
            `printf 'CASE %s\\036' ${c.id} >>"$_CM_STUBLOG"`,
            `( eval ${shellQuote(c.script)} ) >/dev/null 2>&1 </dev/null`,
            `for _f in ${shellQuote(canaryDirOf(g))}/* ./CANARY; do [ -e "$_f" ] && printf 'HIT %s %s\\n' ${c.id} "\${_f##*/}" && /bin/rm -f "$_f"; done`,
            `printf 'DONE %s\\n' ${c.id}`,
          );
        }
        await writeFile(path.join(dir, `${String(b).padStart(3, '0')}.sh`), `${lines.join('\n')}\n`);
      }
      const res = await runner.exec(runHost, `for f in ${shellQuote(dir)}/*.sh; do sh "$f"; done`, { timeoutMs: 100_000, maxOutputBytes: 4_000_000 });
      return { stdout: res.stdout, log: await readFile(log, 'utf8') };
    });
    const results = await Promise.all(runs);
    const elapsedMs = Date.now() - started;
    const stdout = results.map((r) => r.stdout).join('\n');
    const log = results.map((r) => r.log).join('\x1e');

    // Every case ran to the end of its line in the batch.
    const done = new Set([...stdout.matchAll(/^DONE (\d+)$/gm)].map((m) => Number(m[1])));
    expect(cases.filter((c) => !done.has(c.id)).map((c) => c.id)).toEqual([]);

    const describeCase = (id: number, extra: string) => {
      const c = cases[id]!;
      return `${c.variant} ${c.template}: ${extra}`;
    };
    const hits = [...stdout.matchAll(/^HIT (\d+) (\S+)$/gm)].map((m) => {
      const c = cases[Number(m[1])]!;
      const field = m[2] as Field;
      const vi = c.fields[field];
      return describeCase(c.id, `${field} = ${vi === undefined ? '?' : JSON.stringify(HOSTILE[vi]!('C'))} ran`);
    });

    // Options: a dashed value must never reach a command as an option.
    const optionViolations: string[] = [];
    let caseId = -1;
    for (const rec of log.split('\x1e')) {
      if (!rec) continue;
      const m = /^CASE (\d+)$/.exec(rec);
      if (m) {
        caseId = Number(m[1]);
        continue;
      }
      const [cmd, ...args] = rec.split('\x1f');
      const v = optionViolation(cmd!, args);
      if (v) optionViolations.push(describeCase(caseId, v));
    }

    // The stubs did see the hostile names (the check above is not vacuous).
    expect(/\x1f-rf[\x1f\x1e]/.test(log), 'a stub saw -rf as an argument').toBe(true);
    expect(log.includes('\x1f--profile\x1f-rf'), 'a stub saw `--profile -rf`').toBe(true);

    const leftovers = (await Promise.all(Array.from({ length: SESSIONS }, (_, g) => readdir(canaryDirOf(g))))).flat();
    expect({ hits, optionViolations: [...new Set(optionViolations)], leftovers }).toEqual({ hits: [], optionViolations: [], leftovers: [] });
    // A record of the size of the run, for the report.
    console.info(
      `hostile inventory: ${HOSTILE.length} values × ${FIELDS.length} fields × ${VARIANTS.length} install/supervisor kinds: ${cases.length} distinct scripts run (${refused.length} renders refused by a template) in ${elapsedMs} ms`,
    );
  }, 120_000);

  it('the production path (SshRunner.exec, the remote wrapper) runs a value-bearing step as data', async () => {
    const canary = path.join(canaryDirOf(0), 'production');
    const host = hostileHost('native-systemd', (f) => (f === 'supervisor.unit' ? '-rf' : `$(touch ${canary})\`touch ${canary}\`"; touch ${canary}; "`));
    const header = `cd ${shellQuote(homeOf(0))} && HOME=${shellQuote(homeOf(0))} && PATH=${shellQuote(path.join(base, 'bin'))} && _CM_STUBLOG=/dev/null && export HOME PATH _CM_STUBLOG || exit 97\n${stubLayer()}\n`;
    const outputs: string[] = [];
    for (const step of [...buildRestorePlan(host, 'gateway_down').steps, renderStep(host, 'kill_port_owner', { pid: 4_000_001 }), renderStep(host, 'fresh_dashboard_link')]) {
      const res = await runner.exec(hostConfigFor(sshd), header + step.script, { timeoutMs: 20_000, maxOutputBytes: 100_000 });
      outputs.push(res.stdout);
    }
    // The messages carrying the values were printed, verbatim, and nothing ran.
    expect(outputs.join('\n')).toContain(`no backup $(touch ${canary})`);
    expect(outputs.join('\n')).toContain(`no longer holds port $(touch ${canary})`);
    expect(await readdir(canaryDirOf(0))).toEqual([]);
  }, 60_000);
});
