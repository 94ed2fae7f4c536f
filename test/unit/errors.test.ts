/**
 * Issue 15 item 6: errors carry their context as fields (host, phase, step, code), like grammY's GrammyError,
 * while their messages — what a chat user or the log reads — stay word for word what they were.
 */
import { describe, expect, it } from 'vitest';
import {
  ClawmedicError,
  HostKeyMismatchError,
  HostNotInInventoryError,
  HostUnreachableError,
  PermanentDeliveryError,
  SshAlgorithmError,
  SshAuthError,
  SshTimeoutError,
} from '../../src/domain/errors.js';
import { StoredPlanError, rebuildPlan } from '../../src/openclaw/stored-plan.js';
import { TemplateError } from '../../src/openclaw/templates.js';
import { renderStep } from '../../src/openclaw/step-catalog.js';
import type { HostConfig } from '../../src/domain/host.js';

const native = { name: 'prod', install: 'native', ssh: { host: '127.0.0.1', port: 22, user: 'oc' } } as unknown as HostConfig;

describe('typed errors carry their context as fields', () => {
  it('SSH errors: host and what failed, code and transient, same messages as before', () => {
    const t = new SshTimeoutError('prod', 'command', 30_000);
    expect(t).toMatchObject({ host: 'prod', phase: 'command', timeoutMs: 30_000, code: 'SSH_TIMEOUT', transient: true, name: 'SshTimeoutError' });
    expect(t.message).toBe('prod: SSH command timed out after 30 s');
    const u = new HostUnreachableError('prod', 'ECONNREFUSED');
    expect(u).toMatchObject({ host: 'prod', reason: 'ECONNREFUSED', code: 'HOST_UNREACHABLE', transient: true });
    expect(u.message).toBe('prod: host unreachable over SSH (ECONNREFUSED)');
    const k = new HostKeyMismatchError('prod', 'SHA256:a', 'SHA256:b');
    expect(k).toMatchObject({ host: 'prod', expected: 'SHA256:a', received: 'SHA256:b', code: 'HOST_KEY_MISMATCH', transient: false });
    expect(k.message).toMatch(/^prod: host key mismatch: expected SHA256:a, received SHA256:b\. Refusing to connect\./);
    expect(new SshAuthError('prod', 'oc')).toMatchObject({ host: 'prod', user: 'oc', code: 'SSH_AUTH', message: 'prod: SSH authentication refused for user "oc" (check the key and authorized_keys)' });
    expect(new SshAlgorithmError('prod', 'no matching key exchange', true)).toMatchObject({
      host: 'prod',
      detail: 'no matching key exchange',
      legacyAllowed: true,
      code: 'SSH_ALGORITHM',
      message: 'prod: SSH handshake failed (no matching key exchange)',
    });
  });

  it('a job for a host gone from the inventory, and a chat that refuses us', () => {
    const gone = new HostNotInInventoryError('old');
    expect(gone).toBeInstanceOf(ClawmedicError);
    expect(gone).toMatchObject({ host: 'old', code: 'UNKNOWN_HOST', transient: false, message: 'host "old" is no longer in the inventory' });
    const dead = new PermanentDeliveryError('Telegram chat 42: Forbidden: bot was blocked by the user', '42');
    expect(dead).toMatchObject({ chatId: '42', code: 'PERMANENT_DELIVERY', name: 'PermanentDeliveryError' });
  });

  it('a refused template or stored plan names the host and the step', () => {
    let caught: unknown;
    try {
      renderStep(native, 'container_doctor_fix');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TemplateError);
    expect(caught).toMatchObject({ host: 'prod', step: 'container_doctor_fix' });
    const plan = { host: 'prod', cause: 'gateway_down', steps: [{ kind: 'container_doctor_fix' }], userActions: [], disruptive: false, verifyWindowSec: 0 };
    expect(() => rebuildPlan(native, plan)).toThrow(StoredPlanError);
    expect(() => rebuildPlan(native, plan)).toThrow(expect.objectContaining({ host: 'prod', step: 0 }));
    expect(() => rebuildPlan(native, { ...plan, host: 'other' })).toThrow(expect.objectContaining({ host: 'prod', step: undefined, message: 'stored plan is for host "other", not "prod"' }));
  });
});
