/**
 * The `clawmedic` command as a user runs it (bin/clawmedic.js in a child process): config
 * check, host-key fingerprint, and one command through the whole pipeline with `run`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createStandin, type Standin } from '../support/host-standin/index.js';
import { hostConfigFor, startSshd, type SshdHandle } from '../support/sshd.js';
import { DIST_BUILD_TIMEOUT_MS, ensureDist } from '../support/dist.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';

const run = promisify(execFile);
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/clawmedic.js');
/** The signing key an operator's .env holds (every clawmedic process of one install shares it). */
const JOB_KEY = randomBytes(32).toString('hex');

let dir: string;
let standin: Standin;
let sshd: SshdHandle;
const prefix = uniquePrefix('cli');

async function clawmedic(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, REDIS_URL: TEST_REDIS_URL, CLAWMEDIC_JOB_KEY: JOB_KEY, LOG_LEVEL: 'silent', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

beforeAll(async () => {
  await ensureDist();
  dir = await mkdtemp(path.join(tmpdir(), 'clawmedic-cli-'));
  standin = await createStandin();
  sshd = await startSshd({ binDir: standin.binDir, env: standin.env });
  const host = hostConfigFor(sshd, { name: 'prod', supervisor: { kind: 'systemd-user', unit: 'openclaw-gateway.service' } });
  delete (host.ssh as { privateKeyPath?: string }).privateKeyPath; // the key comes from the environment, as in real use
  await writeFile(
    path.join(dir, 'clawmedic.yaml'),
    stringify({ hosts: [host], people: [{ platform: 'console', userId: 'local', role: 'admin' }], redis: { keyPrefix: prefix }, fix: { verifyWindowSec: 1 } }),
  );
  await writeFile(path.join(dir, 'bad.yaml'), stringify({ hosts: [{ ...host, ssh: { ...host.ssh, port: '22a' } }] }));
}, DIST_BUILD_TIMEOUT_MS);
afterAll(async () => {
  await sshd?.stop();
  await standin?.cleanup();
  await rm(dir, { recursive: true, force: true });
  await cleanupPrefix(prefix);
});

describe('clawmedic CLI', () => {
  it('start in Telegram webhook mode without TELEGRAM_WEBHOOK_SECRET refuses to start, naming the variable (exit 2)', async () => {
    const base = await readFile(path.join(dir, 'clawmedic.yaml'), 'utf8');
    await writeFile(
      path.join(dir, 'webhook.yaml'),
      `${base}\ntelegram: { mode: webhook, webhook: { url: "https://bot.example.com/telegram", port: 8443 } }\n`,
    );
    const r = await clawmedic(['start', '--config', 'webhook.yaml'], { TELEGRAM_BOT_TOKEN: `123456789:${'A'.repeat(35)}`, SSH_PRIVATE_KEY: sshd.privateKey.replace(/\n/g, '\\n') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^clawmedic: environment: TELEGRAM_WEBHOOK_SECRET: not set, and telegram.mode is webhook\./);
    expect(r.stderr).not.toContain('A'.repeat(35));
  });

  it('start with a named config that does not exist fails naming it, exit 2, and does not start the demo', async () => {
    for (const [args, env, by] of [
      [['start', '--config', 'clawmedic.yml'], {}, '--config'],
      [['start'], { CLAWMEDIC_CONFIG: 'typo.yaml' }, 'CLAWMEDIC_CONFIG'],
    ] as const) {
      const r = await clawmedic([...args], { ...env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^clawmedic: (clawmedic\\.yml|typo\\.yaml): no such config file \\(named by ${by}\\); nothing was started\\n$`));
      expect(r.stdout).not.toContain('demo');
    }
  });

  it('config check: OK for a good file; the exact key and value for a bad one, exit 2, no stack trace', async () => {
    const ok = await clawmedic(['config', 'check']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('clawmedic.yaml: OK — 1 host(s)');
    const bad = await clawmedic(['config', 'check', '--config', 'bad.yaml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('clawmedic: bad.yaml: hosts[0].ssh.port: expected integer 1-65535, got "22a"');
  });

  it('hosts fingerprint prints the pin that the host really has', async () => {
    const r = await clawmedic(['hosts', 'fingerprint', `127.0.0.1:${sshd.port}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`127.0.0.1:${sshd.port} ssh-ed25519 ${sshd.hostKeyFingerprint}`);
  });

  it('run "/status prod" goes through the whole pipeline; exit 0 when healthy, 1 when down', async () => {
    const env = { SSH_PRIVATE_KEY_PATH: sshd.privateKeyPath };
    await standin.setScenario('healthy');
    const up = await clawmedic(['run', '/status prod'], env);
    expect(up.stdout).toContain('[ OK ] prod: OK');
    expect(up.code).toBe(0);
    await standin.setScenario('gateway_down');
    const down = await clawmedic(['run', '/status prod'], env);
    expect(down.stdout).toContain('prod: GATEWAY DOWN');
    expect(down.code).toBe(1);
  });

  it('run "/fix prod" shows the plan and changes nothing without --yes; with --yes it fixes', async () => {
    const env = { SSH_PRIVATE_KEY_PATH: sshd.privateKeyPath };
    await standin.setScenario('gateway_down');
    await standin.clearCalls();
    const dry = await clawmedic(['run', '/fix prod'], env);
    expect(dry.stdout).toContain('confirm the fix?');
    expect(dry.stdout).toContain('Not confirmed: nothing was changed.');
    expect((await standin.calls()).some((c) => c.join(' ') === 'openclaw doctor --fix')).toBe(false);
    const yes = await clawmedic(['run', '/fix prod', '--yes'], env);
    expect(yes.stdout).toMatch(/prod: fixed/);
    expect(yes.code).toBe(0);
  }, 90_000);

  it('an unknown command and an unknown host are refused with exit 1', async () => {
    const r = await clawmedic(['run', '/reboot prod'], { SSH_PRIVATE_KEY_PATH: sshd.privateKeyPath });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Unknown command /reboot');
    const h = await clawmedic(['run', '/diagnose nope'], { SSH_PRIVATE_KEY_PATH: sshd.privateKeyPath });
    expect(h.code).toBe(1);
    expect(h.stdout).toContain('Unknown host "nope"');
  });
});
