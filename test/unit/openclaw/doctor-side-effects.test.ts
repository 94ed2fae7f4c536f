/**
 * Item 7: doctor --fix may rewrite openclaw.json. The doctor step reports the changed key paths
 * (never a value: the config holds the gateway token) and the backup doctor left, and the fix
 * result shows them. A stand-in `openclaw` does what real doctor did on 2026.9.6 (disable skills,
 * keep openclaw.json.bak).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderOutcome } from '../../../src/render/render-results.js';
import { doctorFixScript, DOCTOR_BACKUP_MARK, DOCTOR_CHANGED_MARK } from '../../../src/openclaw/templates.js';
import { nativeHost, dockerHost } from './helpers.js';

describe('doctor --fix side effects', () => {
  it('lists changed keys without values and the backup path; the result shows them', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cm-doctor-'));
    const secret = 'tok-4f1c9e2a7b';
    writeFileSync(
      path.join(dir, 'openclaw.json'),
      JSON.stringify({ gateway: { mode: 'local', auth: { token: secret } }, skills: { entries: { a: { enabled: true }, b: { enabled: true } } } }),
    );
    const bin = path.join(dir, 'fake-openclaw');
    // Like real doctor: keep a .bak, disable skills, exit 0.
    writeFileSync(
      bin,
      `#!/bin/sh\ncp "${dir}/openclaw.json" "${dir}/openclaw.json.bak"\nnode -e 'const f=process.argv[1];const c=JSON.parse(require("fs").readFileSync(f));c.skills.entries.a.enabled=false;c.skills.entries.b.enabled=false;require("fs").writeFileSync(f,JSON.stringify(c))' "${dir}/openclaw.json"\necho "Doctor complete."\n`,
    );
    chmodSync(bin, 0o755);
    const host = nativeHost({ openclaw: { bin, stateDir: dir } });
    const r = spawnSync('sh', ['-c', doctorFixScript(host)], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${DOCTOR_CHANGED_MARK} skills.entries.a.enabled, skills.entries.b.enabled`);
    expect(r.stdout).toContain(`${DOCTOR_BACKUP_MARK} ${dir}/openclaw.json.bak`);
    expect(r.stdout).not.toContain(secret);
    const reply = renderOutcome(
      { host: 'prod', cause: 'gateway_down', status: 'fixed', message: 'gateway_down is gone', steps: [{ kind: 'doctor_fix', exitCode: 0, durationMs: 5, timedOut: false, ok: true, output: r.stdout }] },
      'f',
    );
    const body = reply.body!.join('\n');
    expect(body).toMatch(/Side effects of doctor --fix:\n- doctor changed config keys: skills\.entries\.a\.enabled, skills\.entries\.b\.enabled\n- config backup: .*openclaw\.json\.bak/);
    execFileSync('rm', ['-rf', dir]);
  });

  it('keeps doctor’s exit code; a docker install runs doctor alone', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cm-doctor-'));
    const bin = path.join(dir, 'fake-openclaw');
    writeFileSync(bin, '#!/bin/sh\necho "Error: Unable to resolve a safe npm executable"\nexit 1\n');
    chmodSync(bin, 0o755);
    const r = spawnSync('sh', ['-c', doctorFixScript(nativeHost({ openclaw: { bin, stateDir: dir } }))], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('safe npm executable');
    expect(doctorFixScript(dockerHost())).not.toContain('node -e');
    execFileSync('rm', ['-rf', dir]);
  });
});
