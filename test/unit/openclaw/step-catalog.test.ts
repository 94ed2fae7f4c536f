import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIX_STEP_KINDS } from '../../../src/domain/diagnosis.js';
import { renderStep, validateStepParams } from '../../../src/openclaw/step-catalog.js';
import { TemplateError } from '../../../src/openclaw/templates.js';
import { commandsHost, dockerHost, nativeHost } from './helpers.js';

describe('step catalog: kind + validated params → script', () => {
  it('renders every kind for a systemd host where the kind applies, params kept on the step', () => {
    const host = nativeHost();
    for (const kind of FIX_STEP_KINDS.filter((k) => !k.startsWith('container_'))) {
      const params = kind === 'kill_port_owner' ? { pid: 4242 } : kind === 'disable_plugin' ? { pluginId: 'broken-fixture' } : {};
      const step = renderStep(host, kind, params);
      expect(step.kind).toBe(kind);
      expect(step.script.length).toBeGreaterThan(0);
      if (Object.keys(params).length) expect(step.params).toEqual(params);
    }
  });

  it('one-off container kinds render for docker installs only; native state kinds are refused there', () => {
    const docker = dockerHost();
    for (const kind of FIX_STEP_KINDS.filter((k) => k.startsWith('container_'))) {
      const params = kind === 'container_disable_plugin' ? { pluginId: 'broken-fixture' } : {};
      const step = renderStep(docker, kind, params);
      expect(step.script).toContain('--volumes-from openclaw');
      expect(step.script).toContain('--env-file "$_cm_envf"');
      expect(() => renderStep(nativeHost(), kind, params)).toThrow(/not a docker install/);
    }
    expect(() => renderStep(docker, 'doctor_fix')).toThrow(/container_doctor_fix/);
    expect(() => renderStep(docker, 'restore_config_backup')).toThrow(/container_restore_config_backup/);
    expect(() => renderStep(docker, 'container_disable_plugin', {})).toThrow(/needs a pluginId/);
    expect(() => renderStep(docker, 'container_disable_plugin', { pluginId: '$(id)' })).toThrow(/plugin id/);
    expect(() => renderStep(docker, 'container_doctor_fix', { pid: 12 })).toThrow(/takes no parameter/);
  });

  it('refuses parameters that do not fit the kind or fail validation', () => {
    expect(() => validateStepParams('stop_gateway', { pid: 12 })).toThrow(TemplateError);
    expect(() => renderStep(nativeHost(), 'kill_port_owner', {})).toThrow(/needs a pid/);
    expect(() => renderStep(nativeHost(), 'kill_port_owner', { pid: 1 })).toThrow(/invalid pid/);
    expect(() => renderStep(nativeHost(), 'kill_port_owner', { pid: 12.5 })).toThrow(/invalid pid/);
    expect(() => renderStep(nativeHost(), 'disable_plugin', { pluginId: 'x; rm -rf ~' })).toThrow(/plugin id/);
    expect(() => renderStep(nativeHost(), 'disable_plugin', { pluginId: '-rf' })).toThrow(/plugin id/);
    expect(() => renderStep(nativeHost(), 'wait_for_gateway', { waitSec: 1e9 })).toThrow(/waitSec/);
    expect(() => renderStep(nativeHost(), 'kill_port_owner', { pid: 99, processName: '$(id)' })).toThrow(/process name/);
  });

  it('same kind on each supervisor: systemd, docker, inventory commands', () => {
    expect(renderStep(nativeHost(), 'stop_gateway').script).toContain('systemctl --user stop');
    expect(renderStep(dockerHost(), 'stop_gateway').script).toContain('docker stop');
    expect(renderStep(commandsHost(), 'stop_gateway').script).toContain('openclaw gateway stop --force');
  });

  it('restore_config_backup quotes a hostile state dir: the message is printed, nothing runs', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cm-restore-'));
    const hostile = `${dir}/"$(touch ${dir}/pwned)"\`touch ${dir}/pwned2\``;
    const host = { ...nativeHost(), openclaw: { ...nativeHost().openclaw, stateDir: hostile } };
    const script = renderStep(host, 'restore_config_backup').script;
    writeFileSync(path.join(dir, 'run.sh'), script);
    let out = '';
    try {
      execFileSync('sh', [path.join(dir, 'run.sh')], { encoding: 'utf8' });
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? '');
      expect((err as { status?: number }).status).toBe(3);
    }
    expect(out).toContain('no backup');
    expect(readdirSync(dir).filter((f) => f.startsWith('pwned'))).toEqual([]);
  });
});
