/**
 * The monitor end to end on a real sshd + OpenClaw host stand-in, real Redis and the real notify
 * worker: 4008/1008 lines → one alert per chat, edits in place, recovery, reminders + ack, mute,
 * host unreachable. Steps run in order on one host (each builds on the state the previous left).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { MuteStore } from '../../src/state/mute-store.js';
import type { HostConfig } from '../../src/domain/host.js';
import { SshRunner } from '../../src/remote/ssh-runner.js';
import { createStandin, type Standin } from '../support/host-standin/index.js';
import { hostConfigFor, startSshd, type SshdHandle } from '../support/sshd.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { failurePair, monitorConfig, startRig, waitFor, type Rig } from '../support/monitor-harness.js';
import { KeySpace } from '../../src/state/key-space.js';

let standin: Standin;
let sshd: SshdHandle;
let host: HostConfig;
let runner: SshRunner;
let rig: Rig;
const prefix = uniquePrefix('mon');
const keys = new KeySpace(prefix);
const actor = { platform: 'telegram' as const, userId: '111', displayName: 'alice' };

beforeAll(async () => {
  standin = await createStandin();
  sshd = await startSshd({ binDir: standin.binDir, env: standin.env });
  host = hostConfigFor(sshd, { name: 'alpha' });
  runner = new SshRunner({ privateKey: sshd.privateKey, connectTimeoutMs: 3000, idleCloseMs: 2000 });
  rig = await startRig({
    redisUrl: TEST_REDIS_URL,
    prefix,
    hosts: [host],
    runner,
    config: monitorConfig([host]),
    tuning: { reminderIntervalMs: 1500, flapWindowMs: 1500 },
  });
  // The follower is up once it has read the startup lines of the log.
  expect(await waitFor(() => rig.monitor.ownedHosts().includes('alpha'), 5000)).toBe(true);
  await new Promise((r) => setTimeout(r, 1500));
}, 30_000);

afterAll(async () => {
  await rig?.close();
  await runner?.close();
  await sshd?.stop();
  await standin?.cleanup();
  await cleanupPrefix(prefix);
});

async function append(pairs: number, origin?: string): Promise<void> {
  const lines: string[] = [];
  for (let i = 0; i < pairs; i++) lines.push(...failurePair({ origin }));
  await standin.appendLog(lines);
}

const alertsIn = (r: Rig, platform: 'telegram' | 'discord') => (platform === 'telegram' ? r.telegram : r.discord).withKey('incident:alpha.');

describe('monitor end to end', () => {
  it('4008/1008 pairs in the log → one alert in both chats within seconds, with the cause and buttons', async () => {
    const t0 = Date.now();
    await append(3);
    expect(await waitFor(() => alertsIn(rig, 'telegram').length === 1 && alertsIn(rig, 'discord').length === 1, 10_000)).toBe(true);
    const latency = Date.now() - t0;
    expect(latency).toBeLessThan(5000);
    for (const m of [alertsIn(rig, 'telegram')[0]!, alertsIn(rig, 'discord')[0]!]) {
      expect(m.title).toContain('alpha');
      expect(m.title).toContain('one browser tab keeps using an old gateway token');
      expect(m.history[0]).toContain('Cause: stale_client');
      expect(m.buttons).toEqual(['Diagnose', 'Fix', 'Ack', 'Mute 1h']);
    }
    // The chat with alerts: false got nothing.
    expect(rig.discord.messages.every((m) => !m.messageKey?.endsWith(':901'))).toBe(true);
  });

  it('more lines → the same message is edited (a second client refines the cause), no new alert message', async () => {
    await append(4);
    await append(1, 'https://claw.example.com');
    const tg = () => alertsIn(rig, 'telegram')[0]!;
    expect(await waitFor(() => /Count: 8 events, 2 clients/.test(tg().history.at(-1) ?? ''), 10_000)).toBe(true);
    expect(tg().edits).toBeGreaterThan(0);
    expect(tg().title).toContain('clients present a wrong gateway token');
    expect(alertsIn(rig, 'telegram')).toHaveLength(1);
    expect(alertsIn(rig, 'discord')).toHaveLength(1);
  });

  it('reminders come at the interval; /ack stops them and the message names who acked', async () => {
    expect(await waitFor(() => rig.telegram.withKey('incident-reminder:alpha.').length >= 1, 6000)).toBe(true);
    const reply = await rig.monitor.alerts.ack('alpha', actor);
    expect(reply.title).toContain('acked by alice');
    expect(await waitFor(() => alertsIn(rig, 'telegram')[0]!.history.at(-1)!.includes('Acked by: alice'), 5000)).toBe(true);
    expect(alertsIn(rig, 'telegram')[0]!.buttons).not.toContain('Ack');
    const reminders = rig.telegram.withKey('incident-reminder:alpha.').length;
    // Keep it firing over several reminder intervals: no reminder after the ack.
    for (let i = 0; i < 4; i++) {
      await append(1);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(rig.telegram.withKey('incident-reminder:alpha.').length).toBe(reminders);
  });

  it('lines stop + probe ok → recovery notice in both chats (even though acked), alert edited to resolved', async () => {
    expect(
      await waitFor(
        () => rig.telegram.withKey('incident-recovery:alpha.').length === 1 && rig.discord.withKey('incident-recovery:alpha.').length === 1,
        15_000,
      ),
    ).toBe(true);
    expect(rig.telegram.withKey('incident-recovery:alpha.')[0]!.title).toContain('Recovered: alpha');
    expect(rig.telegram.withKey('incident-recovery:alpha.')[0]!.history[0]).toBeDefined();
    expect(await waitFor(() => alertsIn(rig, 'telegram')[0]!.title.startsWith('RESOLVED'), 3000)).toBe(true);
    expect(alertsIn(rig, 'telegram')).toHaveLength(1);
  });

  it('mute holds alerts; unmute delivers what still fires', async () => {
    // Let the resolved incident leave the flap window, so new lines open a new incident.
    await waitFor(() => rig.monitor.incidents().length === 0, 5000);
    const m = await rig.monitor.alerts.mute('alpha', 600, 'maintenance', actor);
    expect(m.title).toContain('muted for 10 min');
    await append(4);
    expect(await waitFor(() => rig.monitor.incidents().some((i) => i.phase === 'firing'), 5000)).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect(alertsIn(rig, 'telegram')).toHaveLength(1); // only the old, resolved one
    const un = await rig.monitor.alerts.unmute('alpha', actor);
    expect(un.title).toContain('alerts resumed by alice');
    expect(await waitFor(() => alertsIn(rig, 'telegram').length === 2, 5000)).toBe(true);
    expect(alertsIn(rig, 'telegram')[1]!.title).toContain('ALERT: alpha');
  });

  it('a fix started by another process (its own Redis client) reaches this host monitor within two ticks', async () => {
    // The other process's write bumps the ack/mute counter; this process's cached counter is not told.
    const other = new Redis(TEST_REDIS_URL);
    try {
      const firing = () => rig.monitor.incidents().find((i) => i.phase === 'firing');
      expect(firing()).toBeDefined();
      await new MuteStore(other, keys).setFixRunning('alpha', true);
      expect(await waitFor(() => firing()?.tried.some((t) => t.startsWith('a clawmedic fix started')) ?? false, 2500)).toBe(true);
      await new MuteStore(other, keys).setFixRunning('alpha', false);
      expect(await waitFor(() => firing()?.tried.some((t) => t.startsWith('the fix finished')) ?? false, 2500)).toBe(true);
    } finally {
      other.disconnect();
    }
  });

  it('host sshd stopped → exactly one "host unreachable" incident per chat, gateway incidents held; back → recovery', async () => {
    // Keep the token incident firing: fresh events, read by the follower, right before the host goes away.
    const count = () => rig.monitor.incidents().find((i) => i.family === 'token_mismatch')?.count ?? 0;
    const n0 = count();
    await append(2);
    expect(await waitFor(() => count() >= n0 + 2, 5000)).toBe(true);
    const before = rig.telegram.messages.length;
    // Kill the daemon and every session it holds (an open connection would keep working otherwise).
    await sshd.dropConnections();
    const pid = Number(readFileSync(path.join(sshd.tmpDir, 'sshd.pid'), 'utf8').trim());
    process.kill(pid, 'SIGTERM');
    // Each platform has its own delivery queue: the two arrive independently.
    expect(await waitFor(() => rig.telegram.withKey('incident:alpha.host_unreachable').length === 1 && rig.discord.withKey('incident:alpha.host_unreachable').length === 1, 15_000)).toBe(true);
    expect(rig.telegram.withKey('incident:alpha.host_unreachable')[0]!.title).toContain('host unreachable over SSH');
    const reminders = rig.telegram.withKey('incident-reminder:alpha.token_mismatch').length;
    await new Promise((r) => setTimeout(r, 2500));
    // The token incident still fires (unacked, 1.5 s reminders) but is held while the host cannot be seen.
    expect(rig.monitor.incidents().find((i) => i.family === 'token_mismatch')?.phase).toBe('firing');
    expect(rig.telegram.withKey('incident-reminder:alpha.token_mismatch').length).toBe(reminders);
    // Still one message for it, and no new gateway alert while the host cannot be seen.
    const newOnes = rig.telegram.messages.slice(before).filter((x) => x.messageKey?.startsWith('incident:'));
    expect(newOnes.map((x) => x.messageKey!.split('.')[1])).toEqual(['host_unreachable']);
    await sshd.restart();
    expect(await waitFor(() => rig.telegram.withKey('incident-recovery:alpha.host_unreachable').length === 1, 15_000)).toBe(true);
  }, 45_000);
});
