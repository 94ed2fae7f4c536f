import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildEvidenceScript, parseEvidence, splitSections } from '../../../src/openclaw/evidence.js';
import {
  disablePluginScript,
  killPortOwnerScript,
  openclawCmd,
  reinstallServiceScript,
  removeTokenOverrideScript,
  shellPath,
  supervisorCmd,
  TemplateError,
  waitForGatewayScript,
} from '../../../src/openclaw/templates.js';
import { commandsHost, dockerHost, evidenceOutput, fx, nativeHost } from './helpers.js';

describe('openclawCmd', () => {
  it('native: bin, profile and state dir, every value quoted', () => {
    expect(openclawCmd(nativeHost(), ['gateway', 'status', '--json'])).toBe('openclaw gateway status --json');
    const h = nativeHost({ openclaw: { bin: "/opt/open claw/bin/openclaw", profile: "work's", stateDir: '/srv/state dir' } });
    expect(openclawCmd(h, ['config', 'get', 'gateway.mode'])).toBe(
      "env OPENCLAW_STATE_DIR='/srv/state dir' '/opt/open claw/bin/openclaw' --profile 'work'\\''s' config get gateway.mode",
    );
  });

  it('a leading ~/ in an inventory path still expands on the host', () => {
    expect(shellPath('~/.nvm/versions/node/v24/bin/openclaw')).toBe('"$HOME"/.nvm/versions/node/v24/bin/openclaw');
    expect(openclawCmd(nativeHost({ openclaw: { bin: '~/bin/open claw' } }), ['--version'])).toBe(`"$HOME"/'bin/open claw' --version`);
    // Executed by a real shell: the quoted pieces arrive as single arguments.
    const out = execFileSync('sh', ['-c', `printf '%s|' ${openclawCmd(nativeHost({ openclaw: { bin: 'echo' } }), ['a b', "c'd", '$(id)', '`x`'])}`], {
      encoding: 'utf8',
    });
    expect(out).toBe("echo|a b|c'd|$(id)|`x`|");
  });

  it('a relative path starting with "-" gets ./ (never an option); the command word keeps its PATH lookup', () => {
    expect(shellPath('-rf')).toBe('./-rf');
    expect(shellPath('--help dir')).toBe("'./--help dir'");
    expect(openclawCmd(nativeHost({ openclaw: { bin: '-x', stateDir: '-s' } }), ['--version'])).toBe("env OPENCLAW_STATE_DIR=./-s -x --version");
  });

  it('docker: docker exec <container> openclaw …, state dir as -e', () => {
    expect(openclawCmd(dockerHost(), ['doctor', '--fix'])).toBe('docker exec -- openclaw openclaw doctor --fix');
    const h = dockerHost({ container: 'openclaw_app.1', openclaw: { bin: 'openclaw', stateDir: '/data/.openclaw' } });
    expect(openclawCmd(h, ['health', '--json'])).toBe('docker exec -e OPENCLAW_STATE_DIR=/data/.openclaw -- openclaw_app.1 openclaw health --json');
    // Not a container name docker would accept: refused before it nears a shell.
    expect(() => openclawCmd(dockerHost({ container: 'openclaw_app; rm -rf /' }), ['x'])).toThrow(/unusual container name/);
    expect(() => openclawCmd(dockerHost({ container: '-v' }), ['x'])).toThrow(TemplateError);
    expect(() => openclawCmd(dockerHost({ container: undefined, supervisor: { kind: 'systemd-user', unit: 'x' } }), ['x'])).toThrow(TemplateError);
  });
});

describe('supervisor scripts', () => {
  it('systemd user unit: XDG_RUNTIME_DIR set when missing, unit quoted', () => {
    const h = nativeHost({ supervisor: { kind: 'systemd-user', unit: 'openclaw gateway.service' } });
    expect(supervisorCmd(h, 'restart')).toBe(`XDG_RUNTIME_DIR="\${XDG_RUNTIME_DIR:-/run/user/$(id -u)}" systemctl --user restart -- 'openclaw gateway.service'`);
    expect(supervisorCmd(h, 'status')).toMatch(/systemctl --user show -p ActiveState,SubState,NRestarts,ExecMainStatus,.* --no-pager -- 'openclaw gateway.service'$/);
    const cmd = supervisorCmd(nativeHost({ supervisor: { kind: 'systemd-user', unit: 'u' } }), 'stop').replace(
      'systemctl --user stop -- u',
      `sh -c 'printf "%s|" "$XDG_RUNTIME_DIR"'`,
    );
    const env = { ...process.env };
    delete env.XDG_RUNTIME_DIR;
    const out = execFileSync('sh', ['-c', cmd], { encoding: 'utf8', env });
    expect(out).toBe(`/run/user/${process.getuid!()}|`);
  });

  it('docker: docker start|stop|restart -- <container>', () => {
    expect(supervisorCmd(dockerHost(), 'restart')).toBe('docker restart -- openclaw');
    expect(supervisorCmd(dockerHost(), 'stop')).toBe('docker stop -- openclaw');
    expect(supervisorCmd(dockerHost(), 'status')).toMatch(/^docker inspect -f 'Status=\{\{\.State\.Status\}\} .*' -- openclaw$/);
  });

  it('commands: the inventory strings run as given (trusted), restart = stop then start', () => {
    const h = commandsHost();
    expect(supervisorCmd(h, 'start')).toBe('( nohup openclaw gateway run >/dev/null 2>&1 & )');
    expect(supervisorCmd(h, 'restart')).toBe('( openclaw gateway stop --force ); ( nohup openclaw gateway run >/dev/null 2>&1 & )');
    expect(supervisorCmd(h, 'status')).toMatch(/no status command/);
  });
});

describe('fix step scripts', () => {
  it('plugin ids are validated and quoted', () => {
    expect(disablePluginScript(nativeHost(), '@acme/claw-plugin')).toMatch(/openclaw plugins disable @acme\/claw-plugin/);
    expect(() => disablePluginScript(nativeHost(), 'x; rm -rf ~')).toThrow(TemplateError);
  });

  it('kill_port_owner re-checks that the pid still holds the port', () => {
    const s = killPortOwnerScript(nativeHost(), 26892);
    expect(s).toContain("grep -Eq ':18789[[:space:]].*pid=26892,'");
    expect(() => killPortOwnerScript(nativeHost(), 1)).toThrow(TemplateError);
    // No holder: exits 3 without killing anything.
    const r = spawnSync('sh', ['-c', killPortOwnerScript(nativeHost({ gateway: { port: 1 } }), 999999)], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/no longer holds port 1/);
  });

  it('systemd-only steps refuse other supervisors', () => {
    expect(() => reinstallServiceScript(dockerHost())).toThrow(TemplateError);
    expect(() => removeTokenOverrideScript(commandsHost())).toThrow(TemplateError);
    expect(removeTokenOverrideScript(nativeHost())).toMatch(/-p DropInPaths --value/);
  });

  it('wait_for_gateway decides on the probe answer, not on exit codes', () => {
    const s = waitForGatewayScript(nativeHost({ openclaw: { bin: 'cat' } }), 5);
    // `cat gateway status --json` fails (no such files): never ok → exit 1 after the deadline.
    const r = spawnSync('sh', ['-c', s.replace('_cm_end=$(( $(date +%s) + 5 ))', '_cm_end=$(date +%s)')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
  });

  it('every script parses in dash and bash', () => {
    const scripts = [
      buildEvidenceScript(nativeHost({ envFile: "~/my env/.env", openclaw: { bin: 'openclaw', stateDir: '~/.openclaw-work', profile: 'work' } })),
      buildEvidenceScript(dockerHost()),
      buildEvidenceScript(commandsHost({ supervisor: { kind: 'commands', start: 'true', stop: 'true', status: 'echo ok' } })),
      killPortOwnerScript(nativeHost(), 4242),
      removeTokenOverrideScript(nativeHost()),
      reinstallServiceScript(nativeHost()),
      waitForGatewayScript(dockerHost(), 30),
    ];
    for (const s of scripts) {
      for (const sh of ['dash', 'bash']) {
        const r = spawnSync(sh, ['-n', '-c', s], { encoding: 'utf8' });
        expect(r.stderr, `${sh}: ${s.slice(0, 80)}`).toBe('');
        expect(r.status).toBe(0);
      }
    }
  });
});

describe('evidence script and parser', () => {
  it('has one section per fact, with the supervisor- and install-specific ones', () => {
    const n = buildEvidenceScript(nativeHost({ envFile: '/srv/openclaw/.env' }));
    for (const s of ['now', 'version', 'gateway_status', 'listeners', 'listeners_sudo', 'memory', 'kernel_oom', 'service', 'config', 'env_file', 'health', 'log_file', 'log_journal']) {
      expect(n).toContain(`_cm_s ${s}`);
    }
    expect(n).toContain("ss -tlnp");
    expect(n).toContain("grep -E '^State|:18789[[:space:]]'");
    expect(n).toContain('sudo -n ss -tlnp');
    expect(n).toContain('--since=\'2 hours ago\'');
    expect(n).toContain('_cm_to 15 openclaw health --json');
    expect(n).not.toContain('auth-token');
    const d = buildEvidenceScript(dockerHost());
    expect(d).toContain('_cm_s container_memory');
    expect(d).toContain('docker logs --tail 20000 -- openclaw');
    expect(d).toContain('_cm_to 45 docker exec -- openclaw openclaw gateway status --json');
    expect(d).not.toContain('log_journal');
    const c = buildEvidenceScript(commandsHost());
    expect(c).not.toContain('_cm_s service');
  });

  it('the config reader prints facts, never the token', () => {
    const dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
    execFileSync('sh', ['-c', `cat > ${dir}/openclaw.json`], {
      input: '{\n // comment\n "gateway": {"mode": "local", "port": 18789, "auth": {"mode": "token", "token": "tok-SECRET-1234"},},\n}',
    });
    const script = buildEvidenceScript(nativeHost({ openclaw: { bin: 'false', stateDir: dir } }));
    const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).not.toContain('tok-SECRET-1234');
    const ev = parseEvidence(r.stdout);
    expect(ev.config).toMatchObject({ mode: 'local', port: 18789, authMode: 'token', authTokenSet: true, readable: true });
    execFileSync('rm', ['-rf', dir]);
  });

  it('splitSections keeps each section apart, including a cut-short one', () => {
    const out = `${evidenceOutput({})}\n@@CLAWMEDIC section=late\npartial output`;
    const s = splitSections(out);
    expect(s.gateway_status!.rc).toBe(0);
    expect(s.version!.output).toBe('OpenClaw 2026.9.6 (eb377ac)');
    expect(s.late).toEqual({ name: 'late', rc: null, output: 'partial output' });
  });

  it('a failing section becomes a gap and spoils nothing else', () => {
    const ev = parseEvidence(evidenceOutput({ free: 'free: command not found', health: 'x', healthRc: 124 }).replace(
      '@@CLAWMEDIC section=memory\n',
      '@@CLAWMEDIC section=memory\n',
    ));
    expect(ev.gatewayStatus?.probeOk).toBe(true);
    expect(ev.gaps).toContain('health: timed out');
    expect(ev.gaps.some((g) => g.startsWith('memory:'))).toBe(true);
    const missing = parseEvidence(evidenceOutput({}).split('@@CLAWMEDIC section=health')[0]!);
    expect(missing.gaps).toEqual(expect.arrayContaining(['health: not collected', 'log_file: not collected']));
    expect(missing.listeners).toHaveLength(1);
  });

  it('a file log and the journal showing the same events count them once', () => {
    const ev = parseEvidence(evidenceOutput({ log: fx('log-wrong-token.jsonl'), journal: fx('log-wrong-token.stdout.txt') }));
    // jsonl has conn 0e45…; stdout has it too plus a second connect afe4…
    expect(ev.logEvents.filter((e) => e.kind === 'closed_before_connect')).toHaveLength(2);
    expect(ev.logSources).toEqual(['file:/tmp/openclaw/openclaw-2026-11-25.log', 'journal']);
  });
});
