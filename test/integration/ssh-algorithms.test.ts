/**
 * Issue 12.9: clawmedic offers no SHA-1 in the SSH handshake. Against a real OpenSSH configured as
 * an old server (ssh-rsa host key signatures and hmac-sha1 only) the connection is refused with a
 * message naming the fix; a host marked `ssh.legacyAlgorithms: true` connects. A modern sshd
 * negotiates SHA-2 host-key signatures and MACs.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshRunner } from '../../src/remote/ssh-runner.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { algorithmsFor } from '../../src/remote/ssh-algorithms.js';
import { hostConfigFor, startSshd, type SshdHandle } from '../support/sshd.js';

let oldSshd: SshdHandle;
let modernSshd: SshdHandle;
const runner = new SshRunner({ connectTimeoutMs: 5000 });

beforeAll(async () => {
  [oldSshd, modernSshd] = await Promise.all([startSshd({ sha1Only: true }), startSshd()]);
}, 30_000);
afterAll(async () => {
  await runner.close();
  await Promise.all([oldSshd?.stop(), modernSshd?.stop()]);
});

describe('SSH algorithms (real sshd)', () => {
  it('refuses an sshd that offers only SHA-1, naming the setting; nothing runs', async () => {
    const host = hostConfigFor(oldSshd, { name: 'oldbox' });
    const err = await runner.exec(host, 'touch /tmp/should-not-exist-12-9', { timeoutMs: 5000 }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.name).toBe('SshAlgorithmError');
    expect(err?.message).toMatch(/^oldbox: SSH handshake failed \(no matching (host key format|MAC)[^)]*\): the host's sshd offers only SHA-1 algorithms/);
    expect(err?.message).toContain('ssh.legacyAlgorithms: true');
    expect(existsSync('/tmp/should-not-exist-12-9')).toBe(false);
  });

  it('connects to that sshd when the inventory allows legacy algorithms for that host', async () => {
    const host = hostConfigFor(oldSshd, { name: 'oldbox-legacy' });
    host.ssh.legacyAlgorithms = true;
    const r = await runner.exec(host, 'echo legacy-ok', { timeoutMs: 5000 });
    expect(r.stdout.trim()).toBe('legacy-ok');
  });

  it('a modern sshd still connects with the SHA-1 algorithms removed', async () => {
    const r = await runner.exec(hostConfigFor(modernSshd, { name: 'modern' }), 'echo modern-ok', { timeoutMs: 5000 });
    expect(r.stdout.trim()).toBe('modern-ok');
  });

  it('what is offered: no ssh-rsa, hmac-sha1 or sha1 key exchange unless allowed', () => {
    const offered = JSON.stringify(algorithmsFor(false));
    for (const a of ['ssh-rsa', 'hmac-sha1', 'diffie-hellman-group14-sha1']) expect(offered).toContain(`"${a}"`);
    expect(algorithmsFor(true)).toBeUndefined();
  });

  it('the inventory key is checked: a non-boolean is refused naming the key', () => {
    const FP = `SHA256:${'A'.repeat(43)}`;
    expect(() =>
      parseConfigText(`hosts:\n  - { name: a, ssh: { host: h, user: u, hostKeyFingerprint: "${FP}", legacyAlgorithms: "yes" }, supervisor: { kind: systemd-user } }\n`, 'clawmedic.yaml'),
    ).toThrow(/clawmedic\.yaml.*hosts\[0\]\.ssh\.legacyAlgorithms.*expected true or false/s);
  });
});
