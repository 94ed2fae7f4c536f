/**
 * The incident picture's renderer process (alerts/picture-renderer.ts), for real: a Node child that loads
 * resvg, started on the first picture and gone after its idle time. A child that is killed or does not
 * answer in time fails only its own pictures (typed reason), and the next picture starts a new one. Through
 * the notify worker (real Redis, real BullMQ): when the picture cannot be made the alert is still
 * delivered, the picture message is dropped, and both facts are logged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { buildPictureSvg, PICTURE_SIZE } from '../../src/alerts/incident-picture.js';
import { PNG_SIGNATURE, pngSize, RESVG_BINDING, svgToPng } from '../../src/alerts/picture-png.js';
import { PictureRenderer, PictureRenderError } from '../../src/alerts/picture-renderer.js';
import { PictureSource } from '../../src/alerts/picture-source.js';
import { renderAlert, renderPictureMessage } from '../../src/alerts/render-incident.js';
import { AuditLog } from '../../src/state/audit-log.js';
import type { ChatAdapter } from '../../src/domain/ports.js';
import type { ChatRef, Platform } from '../../src/domain/types.js';
import { Notifier } from '../../src/jobs/notifier.js';
import { startNotifyWorker } from '../../src/jobs/notify-worker.js';
import { createQueues, type Queues } from '../../src/jobs/queues.js';
import { emptySeries, minuteOf, SERIES_LUA } from '../../src/state/host-series.js';
import { newIncident } from '../../src/monitor/incident-machine.js';
import { IncidentStore } from '../../src/state/incident-store.js';
import { createLogger } from '../../src/util/logger.js';
import { SecretBox } from '../../src/util/secret-box.js';
import { CapturingAdapter } from '../support/monitor-harness.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { KeySpace } from '../../src/state/key-space.js';

const prefix = uniquePrefix('picture-renderer');
const keys = new KeySpace(prefix);
const NOW = Date.now();

function svgOf(): string {
  const s = emptySeries('prod', minuteOf(NOW) - 59, 60);
  for (let i = 30; i < 50; i++) s.refusals.tok[i] = 3;
  s.samples.mem[40] = 55;
  return buildPictureSvg(s, { cause: 'token_mismatch', window: { from: NOW - 20 * 60_000 } });
}

/** True while a process with this pid exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('picture renderer (a real child process)', () => {
  it('makes the PNG in a child, not in this process, and the child goes away after its idle time', async () => {
    const r = new PictureRenderer({ idleExitMs: 300 });
    try {
      const png = await r.render(svgOf());
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      expect(pngSize(png)).toEqual({ width: PICTURE_SIZE.width, height: PICTURE_SIZE.height });
      const first = r.lastStats!;
      expect(first.cold).toBe(true);
      expect(first.pid).not.toBe(process.pid);
      expect(first.childMaxRssKib).toBeGreaterThan(0);
      // A second picture soon after reuses the running child.
      await r.render(svgOf());
      expect(r.lastStats!.pid).toBe(first.pid);
      expect(r.lastStats!.cold).toBe(false);
      // Quiet: the child exits by itself; the next picture starts another.
      await until('the idle child to exit', () => !alive(first.pid));
      expect(r.pid).toBeUndefined();
      await r.render(svgOf());
      expect(r.lastStats!.cold).toBe(true);
      expect(r.lastStats!.pid).not.toBe(first.pid);
    } finally {
      await r.close();
    }
  });

  it('warm() starts the child before any picture (the picture then waits for no start-up); warm() again keeps it past its idle time; left alone it exits', async () => {
    const r = new PictureRenderer({ idleExitMs: 400 });
    try {
      const start = await r.warm();
      expect(start).toBeDefined();
      expect(start!.pid).toBe(r.pid);
      expect(start!.childCpuMs).toBeGreaterThan(0);
      expect(r.lastStats).toBeUndefined(); // no picture was made to start it
      const png = await r.render(svgOf());
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      expect(r.lastStats).toMatchObject({ pid: start!.pid, cold: false });
      // Warmed every 150 ms (a monitor tick while an incident is open) for 3 idle times: the same child throughout.
      for (let i = 0; i < 8; i++) {
        await new Promise((res) => setTimeout(res, 150));
        expect(await r.warm()).toMatchObject({ pid: start!.pid });
      }
      expect(alive(start!.pid)).toBe(true);
      // No more warming and no picture: it goes.
      await until('the idle child to exit', () => !alive(start!.pid));
      expect(r.pid).toBeUndefined();
    } finally {
      await r.close();
    }
    expect(await r.warm()).toBeUndefined(); // closed: nothing starts
  });

  it("the idle time counts from the child's readiness: an idle time shorter than any start-up does not kill a starting child", async () => {
    const r = new PictureRenderer({ idleExitMs: 1 });
    try {
      const start = await r.warm();
      expect(start).toBeDefined();
      await until('the idle child to exit', () => !alive(start!.pid));
    } finally {
      await r.close();
    }
  });

  it('a child killed while making a picture fails that picture (reason "exited"); the next one works', async () => {
    const r = new PictureRenderer();
    try {
      const pending = r.render(svgOf());
      const pid = r.pid!;
      process.kill(pid, 'SIGKILL');
      const err = await pending.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PictureRenderError);
      expect((err as PictureRenderError).reason).toBe('exited');
      expect((err as Error).message).toMatch(/SIGKILL/);
      const png = await r.render(svgOf());
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      expect(r.lastStats!.pid).not.toBe(pid);
    } finally {
      await r.close();
    }
  });

  it('a child that does not answer in time is killed and the picture fails (reason "timeout")', async () => {
    // 1 ms: no child can start and answer that fast, so this is a renderer that misses its deadline.
    const r = new PictureRenderer({ timeoutMs: 1 });
    try {
      const pending = r.render(svgOf());
      const pid = r.pid!;
      const err = await pending.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as PictureRenderError).reason).toBe('timeout');
      await until('the late child to be killed', () => !alive(pid));
    } finally {
      await r.close();
    }
  });

  it('an SVG resvg refuses fails with reason "render" and the child keeps serving', async () => {
    const r = new PictureRenderer();
    try {
      const err = await r.render('<svg this is not xml').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as PictureRenderError).reason).toBe('render');
      const pid = r.lastStats!.pid;
      await r.render(svgOf());
      expect(r.lastStats!.pid).toBe(pid);
    } finally {
      await r.close();
    }
  });

  it('a PNG larger than one pipe read comes back whole, and pictures asked for at once each reach their own caller', async () => {
    // Noise compresses badly: this PNG is about 200 KiB, several reads of the child's stdout (64 KiB each).
    let x = 1;
    const rnd = (): number => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) & 0xffffff;
    const colour = (): string => `#${rnd().toString(16).padStart(6, '0')}`;
    const shapes: string[] = [];
    for (let i = 0; i < 64; i++) for (let j = 0; j < 36; j++) shapes.push(`<rect x="${i * 10}" y="${j * 10}" width="10" height="10" fill="${colour()}"/>`);
    for (let k = 0; k < 4000; k++) shapes.push(`<circle cx="${rnd() % 640}" cy="${rnd() % 360}" r="${1 + (rnd() % 3)}" fill="${colour()}"/>`);
    const noise = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360">${shapes.join('')}</svg>`;
    const small = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"/>';
    const r = new PictureRenderer();
    try {
      const [big, tiny, chart, bigAgain] = await Promise.all([r.render(noise), r.render(small), r.render(svgOf()), r.render(noise)]);
      expect(big.length).toBeGreaterThan(3 * 64 * 1024);
      expect(pngSize(big)).toEqual({ width: 640, height: 360 });
      expect(big.equals(bigAgain)).toBe(true);
      expect(pngSize(tiny)).toEqual({ width: 20, height: 10 });
      expect(pngSize(chart)).toEqual(PICTURE_SIZE);
      // The PNG ends with its IEND chunk: nothing of the next answer was cut into it.
      expect(big.subarray(-8, -4).toString('latin1')).toBe('IEND');
    } finally {
      await r.close();
    }
  });

  it("the child loads resvg's prebuilt binding itself (no loader, no process.report) and makes the same PNG, byte for byte, as resvg through its loader in this process", async () => {
    // Only one binding is installed for this platform here, so it is found, and it is the one the loader picks.
    expect(RESVG_BINDING).toMatch(new RegExp(`resvgjs\\.${process.platform}-${process.arch}[-\\w]*\\.node$`));
    const r = new PictureRenderer();
    try {
      const svg = svgOf();
      const [fromChild, fromLoader] = await Promise.all([r.render(svg), svgToPng(svg)]);
      expect(fromChild.equals(fromLoader)).toBe(true);
    } finally {
      await r.close();
    }
  });

  it('after close() no picture is made and no child is left', async () => {
    const r = new PictureRenderer();
    await r.render(svgOf());
    const pid = r.lastStats!.pid;
    await r.close();
    expect(alive(pid)).toBe(false);
    await expect(r.render(svgOf())).rejects.toMatchObject({ reason: 'closed' });
  });
});

describe('a picture that cannot be made (real Redis, real notify worker)', () => {
  const box = SecretBox.ephemeral();
  const chat: ChatRef = { platform: 'telegram', chatId: '-100777', isGroup: true };
  let redis: Redis;
  let connection: Redis;
  let queues: Queues;
  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    queues = createQueues(redis, keys);
    // The host has an afternoon to show: the picture would be made if the renderer answered.
    const m = minuteOf(NOW);
    await redis.eval(`${SERIES_LUA}\nseries_write(KEYS[1], ARGV[1])\nreturn 1`, 1, keys.series('prod'), JSON.stringify({ m, k: 120, i: { [`${m}:tok`]: 4, [`${m - 1}:tok`]: 3 }, s: { [`${m}:mem`]: '61' } }));
  });
  afterAll(async () => {
    await queues.close();
    connection.disconnect();
    redis.disconnect();
    await cleanupPrefix(prefix);
  });

  it.each([
    ['times out', { timeoutMs: 1 }, /no picture within 1 ms/],
    ['dies', { kill: true }, /exited \(signal SIGKILL\)/],
  ] as const)('the renderer %s: the alert is delivered, the picture message is dropped, both logged', async (_what, how, errPattern) => {
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (s: string) => void lines.push(s) });
    const renderer = new PictureRenderer('timeoutMs' in how ? { timeoutMs: how.timeoutMs } : {});
    const rasterize = (svg: string): Promise<Buffer> => {
      const p = renderer.render(svg);
      if ('kill' in how) process.kill(renderer.pid!, 'SIGKILL');
      return p;
    };
    const incidents = new IncidentStore(redis, keys);
    const pictures = new PictureSource({ redis, keys, incidents, logger, rasterize });
    const tg = new CapturingAdapter('telegram');
    const workers = startNotifyWorker({ connection, redis, keys, adapters: new Map<Platform, ChatAdapter>([['telegram', tg]]), logger, audit: new AuditLog(redis, keys), box, pictures });
    try {
      const notifier = new Notifier(queues, redis, keys, box);
      const inc = newIncident('prod', 'token_mismatch', 'log', NOW);
      // As the monitor sends them: the alert, then its picture answering it.
      await notifier.send({ chat, reply: renderAlert(inc, Date.now()), messageKey: `incident:${inc.id}:telegram:${chat.chatId}` });
      await notifier.send({ chat, reply: renderPictureMessage(inc), messageKey: `incident-picture:${inc.id}:telegram:${chat.chatId}`, replyToKey: `incident:${inc.id}:telegram:${chat.chatId}` });
      await until('the picture to be given up (logged)', () => lines.some((l) => l.includes('picture message dropped')));
      expect(tg.withKey(`incident:${inc.id}`)).toHaveLength(1);
      expect(tg.withKey('incident-picture:')).toHaveLength(0);
      const notMade = lines.map((l) => JSON.parse(l) as { msg: string; host?: string; err?: string }).find((l) => l.msg === 'incident picture not made');
      expect(notMade?.host).toBe('prod');
      expect(notMade?.err).toMatch(errPattern);
    } finally {
      await workers.close();
      await renderer.close();
    }
  });
});
