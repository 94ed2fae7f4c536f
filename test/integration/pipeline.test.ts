/**
 * The whole pipeline with real parts: console → router → BullMQ (real Redis) → worker →
 * SSH (real sshd) → OpenClaw host stand-in → notify → console. Asserts on what the user sees
 * and on what ran on the host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { startHarness, type Harness } from '../support/app-harness.js';
import type { Reply } from '../../src/domain/types.js';
import { createApp } from '../../src/main.js';
import { RedisUnavailableError } from '../../src/state/redis-wait.js';
import { createLogger } from '../../src/util/logger.js';
import { Redis } from 'ioredis';
import { IncidentStore } from '../../src/state/incident-store.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { KeySpace } from '../../src/state/key-space.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    moreHosts: (sshd) => [
      { name: 'badkey', ssh: { hostKeyFingerprint: sshd.otherHostKeyFingerprint } as never },
      { name: 'gone', ssh: { port: 1 } as never },
    ],
  });
}, 60_000);
afterAll(async () => h?.close());

/** Type a command in the console and wait for the final state of its message. */
async function run(text: string, timeoutMs = 60_000): Promise<Reply> {
  const con = h.app.console!;
  const first = await con.input(text);
  if (!first.messageKey) return first.reply;
  return con.waitFor(first.messageKey, timeoutMs);
}

async function press(reply: Reply, action: string): Promise<Reply> {
  const con = h.app.console!;
  const button = reply.buttons?.find((b) => b.action === action);
  expect(button, `a ${action} button`).toBeDefined();
  const res = await con.press(button!);
  expect(res.messageKey).toBeDefined();
  return con.waitFor(res.messageKey!, 120_000);
}

const ran = async () => (await h.standin.calls()).map((argv) => argv.join(' '));

describe('pipeline: /status, /diagnose, /fix through real Redis and a real sshd', () => {
  it('/status prod on a healthy host', async () => {
    await h.standin.setScenario('healthy');
    await h.standin.clearCalls();
    const reply = await run('/status prod');
    expect(reply.title).toBe('prod: OK');
    expect(reply.tone).toBe('ok');
    expect(reply.body?.[0]).toContain('OpenClaw 2026.9.6');
    expect(reply.body?.[0]).toContain('probe: /healthz');
    // The light probe answered from /proc and a GET over bash's /dev/tcp: no openclaw CLI call (3.6 s and ~300 MB
    // on a real host), no curl; at most one ss, when the gateway's pid was not known yet.
    const calls = await ran();
    expect(calls.filter((c) => c !== 'ss -tlnp')).toEqual([]);
  });

  it('/status prod with an open alert says both: the gateway answers, and the alert is open (issue 14)', async () => {
    await h.standin.setScenario('healthy');
    // A firing stale-tab incident, as the monitor stores it.
    const redis = new Redis(TEST_REDIS_URL);
    const store = new IncidentStore(redis, new KeySpace(h.prefix));
    const firedAt = Date.parse('2026-11-25T07:41:20Z');
    const id = 'prod.stale_client.test';
    const incident = { id, host: 'prod', cause: 'stale_client', family: 'token_mismatch', phase: 'firing', openedAt: firedAt - 30_000, firedAt, seenConns: [] };
    await redis.hset(store.incidentKey(id), 'data', JSON.stringify(incident));
    await redis.sadd(store.openSetKey('prod'), id);
    try {
      const reply = await run('/status prod');
      expect(reply.title).toBe('prod: gateway OK · 1 open alert: stale tab since 07:41 UTC');
      expect(reply.tone).toBe('warn');
    } finally {
      await redis.srem(store.openSetKey('prod'), id);
      await redis.del(store.incidentKey(id));
      redis.disconnect();
    }
    // Closed: back to a plain OK.
    expect((await run('/status prod')).title).toBe('prod: OK');
  });

  it('/status prod when the gateway is down says so', async () => {
    await h.standin.setScenario('gateway_down');
    const reply = await run('/status prod');
    expect(reply.title).toBe('prod: GATEWAY DOWN');
    expect(reply.body?.[0]).toContain('ECONNREFUSED');
  });

  it('/diagnose names a token mismatch with evidence, nothing changes on the host', async () => {
    await h.standin.setScenario('token_mismatch');
    await h.standin.clearCalls();
    const reply = await run('/diagnose prod');
    expect(reply.title).toMatch(/^prod: (token mismatch|stale tab|token rotated)/);
    expect(reply.evidence?.lines.join('\n')).toMatch(/4008|token_mismatch/);
    expect(reply.buttons?.map((b) => b.action)).toEqual(['fix', 'diagnose']);
    const calls = await ran();
    expect(calls.some((c) => /doctor --fix|^systemctl --user (start|stop|restart) /.test(c))).toBe(false);
  });

  it('/fix on a stopped gateway: plan → confirm → stop, doctor --fix, start → verified fixed', async () => {
    await h.standin.setScenario('gateway_down');
    await h.standin.clearCalls();
    const plan = await run('/fix prod');
    expect(plan.title).toContain('confirm the fix?');
    expect(plan.body?.join('\n')).toMatch(/doctor --fix/);
    // Nothing ran before the confirmation.
    expect((await ran()).some((c) => c.includes('doctor --fix'))).toBe(false);
    const outcome = await press(plan, 'confirm');
    expect(outcome.title).toMatch(/^prod: fixed/);
    const calls = await ran();
    const stop = calls.findIndex((c) => /^systemctl --user stop -- openclaw-gateway\.service/.test(c));
    const doctor = calls.findIndex((c) => c === 'openclaw doctor --fix');
    const start = calls.findIndex((c) => /^systemctl --user start -- openclaw-gateway\.service/.test(c));
    expect(stop).toBeGreaterThanOrEqual(0);
    expect(doctor).toBeGreaterThan(stop);
    expect(start).toBeGreaterThan(doctor);
    expect(calls.some((c) => c === 'openclaw restart')).toBe(false);
    const history = await run('/history prod');
    expect(history.detail).toMatch(/fix result: fixed/);
    // Each step's record is in the full trail.
    const all = await run('/history prod --all');
    expect(all.detail).toMatch(/step doctor_fix .*exit 0/);
  }, 120_000);

  it('/fix for a stale browser tab sends a fresh link privately and restarts nothing', async () => {
    await h.standin.setScenario('stale_client');
    await h.standin.clearCalls();
    const plan = await run('/fix prod');
    expect(plan.title).toMatch(/stale tab/);
    expect(plan.body?.join('\n')).toContain('(no restart)');
    expect(plan.body?.join('\n')).not.toMatch(/doctor|restart the gateway|stop the gateway/i);
    const con = h.app.console!;
    const seen: Reply[] = [];
    const orig = con.show.bind(con);
    con.show = (r: Reply) => {
      seen.push(r);
      orig(r);
    };
    try {
      await press(plan, 'confirm');
    } finally {
      con.show = orig;
    }
    const link = seen.find((r) => r.private);
    expect(link?.secret).toBe(`http://127.0.0.1:${h.standin.port}/#token=standin-dashboard-token-7c1e9a`);
    const calls = await ran();
    // Built from the config token by node on the host (the CLI's dashboard --json takes ~20 s on a real host).
    expect(calls).toContain('node link');
    expect(calls.some((c) => /systemctl --user (stop|start|restart)|doctor --fix/.test(c))).toBe(false);
    // The tokenized link never reaches the audit trail.
    const trail = await h.app.audit.recent(undefined, 200);
    expect(JSON.stringify(trail)).not.toMatch(/standin-dashboard-token/);
    // Nor does it stay in Redis as a finished job or anywhere else.
    const keys = await h.app.redis.keys(h.keys.pattern);
    for (const key of keys) {
      const type = await h.app.redis.type(key);
      const dump = type === 'string' ? await h.app.redis.get(key) : type === 'hash' ? JSON.stringify(await h.app.redis.hgetall(key)) : type === 'stream' ? JSON.stringify(await h.app.redis.xrange(key, '-', '+')) : type === 'list' ? JSON.stringify(await h.app.redis.lrange(key, 0, -1)) : '';
      expect(dump ?? '', key).not.toContain('standin-dashboard-token');
    }
  }, 120_000);

  it('a host key that does not match the pin is refused, naming both fingerprints', async () => {
    await h.standin.clearCalls();
    const reply = await run('/status badkey');
    expect(reply.title).toBe('badkey: UNREACHABLE');
    expect(reply.body?.[0]).toContain(`expected ${h.sshd.otherHostKeyFingerprint}, received ${h.sshd.hostKeyFingerprint}`);
    expect(await ran()).toEqual([]);
  });

  it('an unreachable host is reported, not crashed on', async () => {
    const reply = await run('/status gone');
    expect(reply.title).toBe('gone: UNREACHABLE');
    expect(reply.body?.[0]).toMatch(/unreachable/i);
  });

  it('/diagnose of an unreachable host fails clearly after its retries', async () => {
    const reply = await run('/diagnose gone', 90_000);
    expect(reply.tone).toBe('error');
    expect(reply.title).toMatch(/gone: diagnose failed: .*unreachable/i);
  }, 100_000);

  it('serves /healthz and /metrics', async () => {
    const { port } = h.app.http!.address() as AddressInfo;
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, checks: { redis: { ok: true } } });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/clawmedic_job_duration_seconds_count\{type="status",outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/clawmedic_ssh_exec_seconds_count\{host="prod",outcome="ok"\} [1-9]/);
  });
});

describe('pipeline: Redis unreachable at start', () => {
  it('says so clearly and gives up after the wait instead of crash-looping', async () => {
    const loaded = { ...h.loaded, secrets: { ...h.loaded.secrets, redisUrl: 'redis://127.0.0.1:1' } };
    const started = Date.now();
    const err = await createApp(loaded, { workers: true, adapters: [], http: false, redisWaitMs: 1500, logger: createLogger('silent') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect((err as Error).message).toBe('Redis at redis://127.0.0.1:1 is unreachable (ECONNREFUSED).');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
