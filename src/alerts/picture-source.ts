/**
 * Turns a picture reference (what travels through the notify queue) into PNG bytes in the sending
 * process: reads the host's series (one HGETALL) and the incident, builds the SVG, and has it rasterized
 * in a child process (picture-renderer.ts), so neither the event loop nor the bot's memory carries resvg. A render is kept under a short-TTL Redis key per host, incident and minute,
 * so the Telegram and Discord deliveries of one alert (possibly in two processes) and a diagnose right
 * after it share one render; renders of the same key in one process share one promise.
 */
import type { RedisClient } from '../state/redis.js';
import type { PictureRef } from '../domain/types.js';
import { minuteOf, readHostSeries, type HostSeries } from '../state/host-series.js';
import type { Incident } from '../domain/incident.js';
import type { IncidentReader } from '../domain/ports.js';
import { TTL, type KeySpace } from '../state/key-space.js';
import { buildPictureSvg, type PictureIncident } from './incident-picture.js';
import { incidentWindow } from './picture-ref.js';
import { PICTURE_MAX_BYTES } from './picture-png.js';
import { PictureRenderer } from './picture-renderer.js';

/** pino-compatible logger subset. */
interface PictureLogger {
  warn(obj: object, msg?: string): void;
}

/** The host has no recorded minute in the window and no incident: an empty chart says nothing. */
class NothingToShowError extends Error {
  constructor(host: string) {
    super(`nothing recorded for ${host} in the picture's window`);
    this.name = 'NothingToShowError';
  }
}

/** True when no minute of `s` has a refusal, a sample or a marker. */
export function seriesIsEmpty(s: HostSeries): boolean {
  const none = (a: ReadonlyArray<number | undefined>): boolean => a.every((v) => v === undefined || v === 0);
  return [...Object.values(s.refusals), ...Object.values(s.samples), ...Object.values(s.markers)].every(none);
}

export class PictureSource {
  private readonly inflight = new Map<string, Promise<Buffer | undefined>>();

  constructor(
    private readonly deps: {
      redis: RedisClient;
      keys: KeySpace;
      incidents: IncidentReader;
      logger?: PictureLogger;
      /** Clock (tests). */
      now?: () => number;
      /** SVG → PNG (default: a PictureRenderer of this source's own, i.e. a child process). */
      rasterize?: (svg: string) => Promise<Buffer>;
    },
  ) {}

  private renderer?: PictureRenderer;

  /** SVG → PNG with the given rasterizer, else this source's own child-process renderer. */
  private rasterize(svg: string): Promise<Buffer> {
    if (this.deps.rasterize) return this.deps.rasterize(svg);
    this.renderer ??= new PictureRenderer();
    return this.renderer.render(svg);
  }

  /** Stop the renderer's child process, if one runs (at shutdown). */
  async close(): Promise<void> {
    await this.renderer?.close();
  }

  /** Key of a cached render. */
  cacheKey(ref: PictureRef, now: number): string {
    return this.deps.keys.picture(ref.host, ref.incidentId, ref.hours, minuteOf(now));
  }

  /** The PNG for `ref`, or undefined when there is nothing to show or it cannot be made (logged). */
  async png(ref: PictureRef): Promise<Buffer | undefined> {
    const now = (this.deps.now ?? Date.now)();
    const key = this.cacheKey(ref, now);
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.fetchOrRender(ref, key, now).catch((err: unknown) => {
      if (err instanceof NothingToShowError) return undefined;
      this.deps.logger?.warn({ host: ref.host, err: err instanceof Error ? err.message : String(err) }, 'incident picture not made');
      return undefined;
    });
    this.inflight.set(key, p);
    void p.finally(() => this.inflight.delete(key));
    return p;
  }

  private async fetchOrRender(ref: PictureRef, key: string, now: number): Promise<Buffer | undefined> {
    const cached = await this.deps.redis.getBuffer(key);
    if (cached && cached.length > 0) return cached;
    const png = await this.render(ref, now);
    if (png.length > PICTURE_MAX_BYTES) throw new Error(`picture of ${png.length} bytes is over ${PICTURE_MAX_BYTES}`);
    await this.deps.redis.set(key, png, 'EX', TTL.pictureSec);
    return png;
  }

  /** Render without the cache (benchmarks call this). */
  async render(ref: PictureRef, now: number): Promise<Buffer> {
    const [series, incident] = await Promise.all([
      readHostSeries(this.deps.redis, this.deps.keys, ref.host, now, ref.hours),
      this.incidentOf(ref),
    ]);
    if (!incident.window && seriesIsEmpty(series)) throw new NothingToShowError(ref.host);
    return this.rasterize(buildPictureSvg(series, incident));
  }

  /** The incident to shade: the one named, else the host's firing one (a diagnose during an alert). */
  private async incidentOf(ref: PictureRef): Promise<PictureIncident> {
    let inc: Incident | undefined;
    if (ref.incidentId) inc = await this.deps.incidents.get(ref.incidentId);
    else inc = (await this.deps.incidents.loadOpen(ref.host)).filter((i) => i.phase === 'firing').sort((a, b) => b.openedAt - a.openedAt)[0];
    if (!inc) return {};
    return { cause: inc.cause, window: incidentWindow(inc) };
  }
}
