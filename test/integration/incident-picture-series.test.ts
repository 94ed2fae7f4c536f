/**
 * The series behind the incident picture, in real Redis: known failure lines fed to a HostMonitor land as
 * per-minute counts by cause in the host's series hash (written by the monitor's own fenced save), a
 * gateway start as a restart marker, a running fix as a fix marker, a probe's memory as a sample; minutes
 * older than the window are trimmed; the picture made from it is a PNG whose bars match those counts,
 * rendered once per minute and reused from its short-lived key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { AlertSender } from '../../src/alerts/alert-sender.js';
import { MuteStore } from '../../src/state/mute-store.js';
import { PNG_SIGNATURE, pngSize } from '../../src/alerts/picture-png.js';
import { hostPicture } from '../../src/alerts/picture-ref.js';
import { PictureSource } from '../../src/alerts/picture-source.js';
import { buildPictureSvg, PICTURE_SIZE } from '../../src/alerts/incident-picture.js';
import { policyFromConfig } from '../../src/monitor/incident-machine.js';
import { HostMonitor, type HostMonitorDeps } from '../../src/monitor/host-monitor.js';
import { IncidentStore } from '../../src/state/incident-store.js';
import { minuteOf, readHostSeries, SERIES_LUA } from '../../src/state/host-series.js';
import { recordProbe } from '../../src/jobs/probe.js';
import type { HostConfig } from '../../src/domain/host.js';
import type { RemoteRunner } from '../../src/domain/remote.js';
import { createLogger } from '../../src/util/logger.js';
import { failurePair } from '../support/monitor-harness.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { KeySpace } from '../../src/state/key-space.js';

const prefix = uniquePrefix('picture');
const keys = new KeySpace(prefix);
let redis: Redis;
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
  await cleanupPrefix(prefix);
});

const STARTING = JSON.stringify({
  '0': '{"subsystem":"gateway"}',
  '1': 'loading configuration…',
  _meta: { name: '{"subsystem":"gateway"}', date: new Date().toISOString(), logLevelName: 'INFO' },
  time: new Date().toISOString().replace('Z', '+00:00'),
  message: 'loading configuration…',
});

function monitorFor(host: string, sent: string[], extra: Partial<HostMonitorDeps> = {}): HostMonitor {
  const logger = createLogger('silent');
  return new HostMonitor({
    host: { name: host } as HostConfig,
    allHosts: [host],
    policy: policyFromConfig({ fireAfterEvents: 3, fireWindowSec: 60, probeFailuresToFire: 2, resolveAfterSec: 60, reminderIntervalSec: 3600 }),
    processId: 'proc-test',
    redis,
    keys,
    runner: {} as RemoteRunner,
    store: new IncidentStore(redis, keys),
    mutes: new MuteStore(redis, keys),
    sender: { send: async (kind: string) => (sent.push(kind), 1) } as unknown as AlertSender,
    logger,
    probeIntervalMs: 60_000,
    tickMs: 1000,
    onLeaseLost: () => undefined,
    ...extra,
  });
}

describe('incident picture series (real Redis)', () => {
  it('failure lines fed to the monitor are counted per minute and cause; a start and a fix are markers; the alert queues one picture', async () => {
    const sent: string[] = [];
    const mon = monitorFor('prod', sent);
    const now = Date.now();
    // 4 token refusals (4008/1008 pairs from 4 clients) and one rate-limited one, all in this minute.
    for (const origin of ['http://a.example', 'http://b.example', 'http://c.example', 'http://d.example']) {
      for (const line of failurePair({ origin, at: now })) mon.onLine(line, now);
    }
    mon.onLine(STARTING, now);
    await mon.tick();
    // A clawmedic fix starts on the host: a fix marker.
    await new MuteStore(redis, keys).setFixRunning('prod', true);
    await mon.tick();
    await mon.stop();

    const series = await readHostSeries(redis, keys, 'prod', Date.now(), 1);
    const last = series.minutes - 1;
    const at = minuteOf(now) - series.fromMinute;
    expect(at === last || at === last - 1).toBe(true);
    expect(series.refusals.tok[at]).toBe(4);
    expect(series.refusals.tok.reduce((a, b) => a + b, 0)).toBe(4);
    expect(series.refusals.rate.reduce((a, b) => a + b, 0)).toBe(0);
    expect(series.markers.rst.reduce((a, b) => a + b, 0)).toBe(1);
    expect(series.markers.fix.reduce((a, b) => a + b, 0)).toBe(1);
    // The incident fired and was announced: one alert and, after the save, one picture.
    expect(sent.filter((k) => k === 'alert').length).toBeGreaterThanOrEqual(1);
    expect(sent.filter((k) => k === 'picture')).toHaveLength(1);
    expect(sent.indexOf('picture')).toBeGreaterThan(sent.indexOf('alert'));
    // One key per host, expiring by itself.
    expect(await redis.pttl(keys.series('prod'))).toBeGreaterThan(6 * 3600_000);

    // The SVG made from it has the same bars.
    const svg = buildPictureSvg(series, { cause: 'token_mismatch', window: { from: now } });
    expect((svg.match(/class="bar s-tok" data-n="4"/g) ?? []).length).toBe(1);
  });

  it("an incident's first signal starts the renderer before the alert; the alert's picture is made in the monitor's process before its reference is queued, and a sender elsewhere finds it in Redis", async () => {
    const host = 'warm-host';
    const source = new PictureSource({ redis, keys, incidents: new IncidentStore(redis, keys) });
    const queued: Array<{ kind: string; cached?: boolean }> = [];
    let pictureRef: ReturnType<typeof hostPicture> | undefined;
    const sender = {
      send: async (kind: string, inc: { host: string; id: string }, now: number) => {
        // What a sending process in another clawmedic process would look up for this message.
        if (kind === 'picture') pictureRef = hostPicture(inc.host, inc.id, now);
        const cached = pictureRef && kind === 'picture' ? (await redis.exists(source.cacheKey(pictureRef, now))) === 1 : undefined;
        queued.push({ kind, cached });
        return 1;
      },
    } as unknown as AlertSender;
    const mon = monitorFor(host, [], { sender, pictures: source });
    try {
      expect(source.rendererPid).toBeUndefined();
      const now = Date.now();
      // One refusal: the incident opens (pending, no alert yet) and the renderer starts.
      for (const line of failurePair({ origin: 'http://a.example', at: now })) mon.onLine(line, now);
      const pid = source.rendererPid;
      expect(pid).toBeDefined();
      await mon.tick();
      expect(queued).toEqual([]);
      // Two more: it fires; the same child (already running) makes the picture, which is in Redis when queued.
      for (const origin of ['http://b.example', 'http://c.example']) {
        for (const line of failurePair({ origin, at: now })) mon.onLine(line, now);
      }
      await mon.tick();
      expect(queued.map((q) => q.kind)).toContain('alert');
      expect(queued.filter((q) => q.kind === 'picture')).toEqual([{ kind: 'picture', cached: true }]);
      expect(source.rendererPid).toBe(pid);
      // A sender in another process (its own source, which must not render) gets that PNG from Redis.
      let rendered = 0;
      const elsewhere = new PictureSource({ redis, keys, incidents: new IncidentStore(redis, keys), rasterize: async () => (rendered++, Buffer.alloc(0)) });
      const png = await elsewhere.png(pictureRef!);
      expect(rendered).toBe(0);
      expect(png && png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    } finally {
      await mon.stop();
      await source.close();
    }
  });

  it('a probe stores host memory and, when the status has it, the gateway RSS', async () => {
    const at = Date.now();
    await recordProbe(redis, keys, 'mem-host', { host: 'mem-host', reachable: true, probeOk: true, memoryUsedPct: 63, durationMs: 5 }, at);
    await recordProbe(redis, keys, 'mem-host', { host: 'mem-host', reachable: true, probeOk: true, memoryUsedPct: 64, gatewayRssMb: 300, durationMs: 5 }, at + 1);
    // Unreachable: no sample.
    await recordProbe(redis, keys, 'mem-host', { host: 'mem-host', reachable: false, probeOk: false, error: 'down', durationMs: 5 }, at + 2);
    const series = await readHostSeries(redis, keys, 'mem-host', at, 1);
    expect(series.samples.mem[series.minutes - 1]).toBe(64);
    expect(series.samples.rss[series.minutes - 1]).toBe(300);
  });

  it('minutes that fall out of the window are trimmed on the next write', async () => {
    const key = keys.series('trim-host');
    const write = (spec: object) => redis.eval(`${SERIES_LUA}\nseries_write(KEYS[1], ARGV[1])\nreturn 1`, 1, key, JSON.stringify(spec));
    const m = minuteOf(Date.now());
    await write({ m, k: 10, i: { [`${m}:tok`]: 1, [`${m - 5}:tok`]: 2 } });
    await write({ m: m + 8, k: 10, i: { [`${m + 8}:rate`]: 1 } });
    expect(await redis.hget(key, `${m - 5}:tok`)).toBeNull();
    expect(await redis.hget(key, `${m}:tok`)).toBe('1');
    await write({ m: m + 30, k: 10, s: { [`${m + 30}:mem`]: '50' } });
    const fields = Object.keys(await redis.hgetall(key)).filter((f) => f !== '_trim');
    expect(fields).toEqual([`${m + 30}:mem`]);
  });

  it('the picture is made from Redis once per minute and reused from its short-lived key', async () => {
    const source = new PictureSource({ redis, keys, incidents: new IncidentStore(redis, keys) });
    const ref = hostPicture('prod');
    const [a, b] = await Promise.all([source.png(ref), source.png(ref)]);
    expect(a).toBeDefined();
    expect(a!.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(pngSize(a!)).toEqual({ width: PICTURE_SIZE.width, height: PICTURE_SIZE.height });
    expect(b!.equals(a!)).toBe(true);
    expect(await redis.ttl(source.cacheKey(ref, Date.now()))).toBeGreaterThan(0);
    // A host with nothing recorded and no incident: no picture (the message is dropped, not sent empty).
    expect(await source.png(hostPicture('nothing-here'))).toBeUndefined();
    await source.close(); // its renderer's child process
    // Closed (the app shutting down while a monitor tick still runs): warming starts nothing again.
    source.warm();
    expect(source.rendererPid).toBeUndefined();
  });
});
