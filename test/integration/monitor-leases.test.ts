/**
 * Two clawmedic processes (this one and a real child process) share the hosts through Redis
 * leases: each host is followed by exactly one of them; kill -9 the child and this process takes
 * its host over within the lease period, carrying on with the same incident.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostConfig } from '../../src/domain/host.js';
import { SshRunner } from '../../src/remote/ssh-runner.js';
import { KeySpace } from '../../src/state/key-space.js';
import { createStandin, type Standin } from '../support/host-standin/index.js';
import { hostConfigFor, startSshd, type SshdHandle } from '../support/sshd.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { failurePair, monitorConfig, startRig, waitFor, type Rig } from '../support/monitor-harness.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const LEASE_MS = 3000;

let standin: Standin;
let sshd: SshdHandle;
let hosts: HostConfig[];
let runner: SshRunner;
let rig: Rig;
let child: ChildProcess | undefined;
const prefix = uniquePrefix('monl');

/** The second process: the same monitor, its own Redis connections and SSH runner, no notify worker. */
const CHILD = `
import { readFileSync } from 'node:fs';
const { startRig } = await import(process.env.CM_HARNESS);
const { monitorConfig } = await import(process.env.CM_HARNESS);
const { SshRunner } = await import(process.env.CM_RUNNER);
const hosts = JSON.parse(process.env.CM_HOSTS);
const runner = new SshRunner({ privateKey: readFileSync(process.env.CM_KEY, 'utf8'), connectTimeoutMs: 3000 });
await startRig({ redisUrl: process.env.CM_REDIS, prefix: process.env.CM_PREFIX, hosts, runner, config: monitorConfig(hosts), processId: 'child', notifyWorker: false, leaseMs: ${LEASE_MS} });
console.log('ready');
setInterval(() => {}, 60000);
`;

beforeAll(async () => {
  standin = await createStandin();
  sshd = await startSshd({ binDir: standin.binDir, env: standin.env });
  // Two inventory hosts on the same stand-in: both logs are the same file, so both get the same lines.
  hosts = [hostConfigFor(sshd, { name: 'alpha' }), hostConfigFor(sshd, { name: 'beta' })];
  runner = new SshRunner({ privateKey: sshd.privateKey, connectTimeoutMs: 3000 });
  rig = await startRig({ redisUrl: TEST_REDIS_URL, prefix, hosts, runner, config: monitorConfig(hosts), processId: 'parent', leaseMs: LEASE_MS });
  expect(rig.monitor.ownedHosts().sort()).toEqual(['alpha', 'beta']);
}, 30_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await rig?.close();
  await runner?.close();
  await sshd?.stop();
  await standin?.cleanup();
  await cleanupPrefix(prefix);
});

const holders = () =>
  Promise.all(hosts.map((h) => rig.redis.get(new KeySpace(prefix).lease(h.name))));

describe('followers spread over processes', () => {
  it('a second process gets one host: each host is followed by exactly one process', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: ROOT,
      env: {
        ...process.env,
        CM_HARNESS: pathToFileURL(path.join(HERE, '../support/monitor-harness.ts')).href,
        CM_RUNNER: pathToFileURL(path.join(ROOT, 'src/remote/ssh-runner.ts')).href,
        CM_HOSTS: JSON.stringify(hosts),
        CM_KEY: sshd.privateKeyPath,
        CM_REDIS: TEST_REDIS_URL,
        CM_PREFIX: prefix,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    // A child compiling the monitor with tsx: tens of seconds on a loaded 2-core machine.
    expect(await waitFor(() => out.includes('ready'), 60_000), out).toBe(true);
    // The parent hands one host over (flush, release), the child takes it.
    expect(await waitFor(async () => (await holders()).sort().join(',') === 'child,parent', 10_000)).toBe(true);
    expect(rig.monitor.ownedHosts()).toHaveLength(1);

    // Both hosts see the same lines; each must alert exactly once per chat (a host followed twice would alert twice).
    await standin.appendLog(Array.from({ length: 3 }, () => failurePair()).flat());
    expect(await waitFor(() => rig.telegram.withKey('incident:alpha.').length === 1 && rig.telegram.withKey('incident:beta.').length === 1, 10_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect(rig.telegram.withKey('incident:alpha.')).toHaveLength(1);
    expect(rig.telegram.withKey('incident:beta.')).toHaveLength(1);
    expect(rig.discord.withKey('incident:alpha.')).toHaveLength(1);
    expect(rig.discord.withKey('incident:beta.')).toHaveLength(0); // that Discord channel is bound to alpha only
  }, 90_000);

  it('kill -9 the child: its host is taken over within the lease period and the same incident goes on', async () => {
    const [a, b] = await holders();
    const childHost = a === 'child' ? 'alpha' : b === 'child' ? 'beta' : undefined;
    expect(childHost).toBeDefined();
    const killedAt = Date.now();
    child!.kill('SIGKILL');
    expect(await waitFor(() => rig.monitor.ownedHosts().length === 2, LEASE_MS + 5000)).toBe(true);
    expect(Date.now() - killedAt).toBeLessThan(LEASE_MS + 3000);
    expect((await holders()).every((h) => h === 'parent')).toBe(true);

    // New lines: the taken-over host edits the incident the child opened (loaded from Redis), no new alert.
    const msg = () => rig.telegram.withKey(`incident:${childHost}.`);
    // Three pairs: enough to fire again should the slow take-over (a loaded machine) have let the incident resolve.
    await standin.appendLog(Array.from({ length: 3 }, () => failurePair()).flat());
    // Generous: the taken-over follower reconnects its tail over SSH first; on a loaded 2-core machine that took >10 s.
    expect(await waitFor(() => /Count: 6 events/.test(msg()[0]?.history.at(-1) ?? ''), 25_000), JSON.stringify(msg()[0]?.history.slice(-2))).toBe(true);
    expect(msg()).toHaveLength(1);
  }, 50_000);
});
