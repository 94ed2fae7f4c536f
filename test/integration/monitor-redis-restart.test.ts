/**
 * Redis restarted in the middle of an incident (its own redis-server with AOF, not the shared
 * one): the monitor says it is blind meanwhile, then goes on with the same incident — no second
 * alert message, and the recovery notice still arrives exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostConfig } from '../../src/domain/host.js';
import { SshRunner } from '../../src/remote/ssh-runner.js';
import { createStandin, type Standin } from '../support/host-standin/index.js';
import { hostConfigFor, startSshd, type SshdHandle } from '../support/sshd.js';
import { failurePair, monitorConfig, startRig, waitFor, type Rig } from '../support/monitor-harness.js';

let standin: Standin;
let sshd: SshdHandle;
let host: HostConfig;
let runner: SshRunner;
let rig: Rig;
let redisDir: string;
let redisPort: number;
let redisProc: ChildProcess | undefined;
const prefix = 'monr';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function startRedis(): Promise<void> {
  redisProc = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore' },
  );
  const probe = new Redis(redisPort, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  const ok = await waitFor(async () => {
    try {
      if (probe.status !== 'ready') await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    }
  }, 10_000);
  probe.disconnect();
  if (!ok) throw new Error('redis-server did not start');
}

async function stopRedis(): Promise<void> {
  const p = redisProc;
  redisProc = undefined;
  if (!p || p.exitCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM'); // a normal restart: AOF is flushed (appendfsync always anyway)
  await exited;
}

beforeAll(async () => {
  redisDir = await mkdtemp(path.join(tmpdir(), 'clawmedic-redis-'));
  redisPort = await freePort();
  await startRedis();
  standin = await createStandin();
  sshd = await startSshd({ binDir: standin.binDir, env: standin.env });
  host = hostConfigFor(sshd, { name: 'alpha' });
  runner = new SshRunner({ privateKey: sshd.privateKey, connectTimeoutMs: 3000 });
  // A lease longer than the restart: the host stays with this process.
  rig = await startRig({ redisUrl: `redis://127.0.0.1:${redisPort}`, prefix, hosts: [host], runner, config: monitorConfig([host]), leaseMs: 10_000, tuning: { blindNoticeAfterMs: 500 } });
  expect(await waitFor(() => rig.monitor.ownedHosts().includes('alpha'), 5000)).toBe(true);
  await new Promise((r) => setTimeout(r, 1500));
}, 30_000);

afterAll(async () => {
  await rig?.close();
  await runner?.close();
  await sshd?.stop();
  await standin?.cleanup();
  await stopRedis();
  await rm(redisDir, { recursive: true, force: true });
});

const pairs = async (n: number) => standin.appendLog(Array.from({ length: n }, () => failurePair()).flat());

describe('Redis restarted mid-incident', () => {
  it('says blind while Redis is gone, keeps the one incident message, and the recovery still comes once', async () => {
    await pairs(3);
    expect(await waitFor(() => rig.telegram.withKey('incident:alpha.').length === 1 && rig.discord.withKey('incident:alpha.').length === 1, 10_000)).toBe(true);
    const firstId = rig.telegram.withKey('incident:alpha.')[0]!.messageKey;

    await stopRedis();
    // Lines keep coming while Redis is down: the follower still reads them.
    await pairs(2);
    expect(await waitFor(() => rig.monitor.blind(), 5000)).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    await startRedis();
    expect(await waitFor(() => !rig.monitor.blind(), 10_000)).toBe(true);

    await pairs(2);
    // The same message shows all 7 events (3 before, 2 during, 2 after the restart).
    expect(await waitFor(() => /Count: 7 events/.test(rig.telegram.withKey('incident:alpha.')[0]!.history.at(-1) ?? ''), 15_000)).toBe(true);
    expect(rig.telegram.withKey('incident:alpha.').map((m) => m.messageKey)).toEqual([firstId]);
    expect(rig.discord.withKey('incident:alpha.')).toHaveLength(1);

    expect(await waitFor(() => rig.telegram.withKey('incident-recovery:alpha.').length === 1 && rig.discord.withKey('incident-recovery:alpha.').length === 1, 15_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect(rig.telegram.withKey('incident-recovery:alpha.')).toHaveLength(1);
    expect(rig.telegram.withKey('incident:alpha.')).toHaveLength(1);
    // clawmedic told the chats it had been blind.
    expect(rig.telegram.withKey('notice:blind:').length).toBe(1);
  }, 50_000);
});
