/**
 * Shared parts of the monitor benchmarks (issue 6): one host log file per inventory host on a
 * loopback sshd, a runner wrapper that timestamps streamed lines, the monitor process with the real
 * notify worker, the bare baselines (ssh2 `tail -F`, BullMQ add → completed) and a Telegram rate-limit
 * rule for the Bot API stand-in. Not a benchmark itself (run-all does not list it).
 */
import { appendFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Client, type ClientChannel } from 'ssh2';
import type { ChatAdapter, RouterPort } from '../src/domain/ports.js';
import type { AppConfig } from '../src/config/schema.js';
import type { HostConfig } from '../src/domain/host.js';
import type { ExecOptions, ExecResult, RemoteRunner } from '../src/domain/remote.js';
import type { Delivery, Platform } from '../src/domain/types.js';
import { AuditLog } from '../src/state/audit-log.js';
import { Notifier } from '../src/jobs/notifier.js';
import { startNotifyWorker } from '../src/jobs/notify-worker.js';
import { SecretBox } from '../src/util/secret-box.js';
import { createQueues, type Queues } from '../src/jobs/queues.js';
import { startMonitor, type MonitorDeps, type MonitorHandle } from '../src/monitor/index.js';
import { fingerprintOf, fingerprintsMatch } from '../src/remote/host-key.js';
import { ButtonStore } from '../src/state/button-store.js';
import { JobSigner } from '../src/util/job-signer.js';
import { createLogger } from '../src/util/logger.js';
import { shellQuote } from '../src/util/shell-quote.js';
import { statusOps } from '../test/support/monitor-harness.js';
import type { BotApiLayer, ApiError } from '../test/support/telegram/bot-api-layer.js';
import { TEST_REDIS_URL } from '../test/support/redis.js';
import { timeMs } from './bench-kit.js';
import { KeySpace } from '../src/state/key-space.js';

/** An inventory host of a benchmark with the gateway log file it is followed through. */
export interface BenchHost {
  host: HostConfig;
  logPath: string;
}

/**
 * One log file per host under `dir` (empty unless `seed` is given) and the monitor's cached log path
 * for each (KeySpace.logFile), so the follow script tails that file directly instead of
 * asking the stand-in's `openclaw gateway status` first (what a follower does after its first connect).
 */
export async function prepareHostLogs(redis: Redis, prefix: string, dir: string, hosts: HostConfig[], seed: string[] = []): Promise<BenchHost[]> {
  const out: BenchHost[] = [];
  for (const host of hosts) {
    const logPath = path.join(dir, `${host.name}.log`);
    await writeFile(logPath, seed.length ? `${seed.join('\n')}\n` : '');
    out.push({ host, logPath });
  }
  const pipe = redis.pipeline();
  const keys = new KeySpace(prefix);
  for (const h of out) pipe.set(keys.logFile(h.host.name), h.logPath);
  await pipe.exec();
  return out;
}

/** Append lines to a host's log in one write (as the gateway's logger does for each line). */
export function appendLines(logPath: string, lines: string[]): Promise<void> {
  return appendFile(logPath, lines.map((l) => `${l}\n`).join(''));
}

/**
 * A RemoteRunner around the real SshRunner that counts follow streams per host and timestamps every
 * streamed line as it reaches the process (before the follower's resume filter), so a benchmark can
 * split "line on the host → line in clawmedic" from what clawmedic does after.
 */
export class TimedRunner implements RemoteRunner {
  /** Streams opened so far per host (1 = never reconnected). */
  readonly connects = new Map<string, number>();
  /** Streams open right now. */
  open = 0;
  /** Called for each streamed line with the host name and performance.now(). */
  onLine?: (host: string, line: string, at: number) => void;
  /** Called when a stream of a host has opened (performance.now()). */
  onConnect?: (host: string, at: number) => void;
  /** Called when a stream of a host has ended (performance.now()). */
  onDone?: (host: string, at: number) => void;

  constructor(readonly inner: RemoteRunner) {}

  exec(host: HostConfig, script: string, opts: ExecOptions): Promise<ExecResult> {
    return this.inner.exec(host, script, opts);
  }

  async stream(host: HostConfig, script: string, onLine: (line: string) => void): Promise<{ stop(): void; done: Promise<void> }> {
    const name = host.name;
    const s = await this.inner.stream!(host, script, (line) => {
      this.onLine?.(name, line, performance.now());
      onLine(line);
    });
    this.open++;
    this.connects.set(name, (this.connects.get(name) ?? 0) + 1);
    this.onConnect?.(name, performance.now());
    const done = s.done.finally(() => {
      this.open--;
      this.onDone?.(name, performance.now());
    });
    return { stop: () => s.stop(), done };
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A router for adapters that only deliver (alerts); nothing in these benchmarks sends commands. */
export const deliverOnlyRouter: RouterPort = {
  handleCommand: async () => {
    throw new Error('the monitor benchmarks send no commands');
  },
  handleButton: async () => {
    throw new Error('the monitor benchmarks press no buttons');
  },
  hostsFor: () => [],
};

/** One clawmedic monitor process as main.ts wires it: queues, notify worker with `adapters`, startMonitor. */
export interface MonitorRig {
  monitor: MonitorHandle;
  redis: Redis;
  queues: Queues;
  /** Called with each delivery the monitor hands to the notify queue (performance.now() before the add). */
  onNotify?: (d: Delivery, at: number) => void;
  close(): Promise<void>;
}

export async function startMonitorRig(opts: {
  prefix: string;
  config: AppConfig;
  hosts: HostConfig[];
  runner: RemoteRunner;
  adapters: Map<Platform, ChatAdapter>;
  tuning?: MonitorDeps['tuning'];
  leaseMs?: number;
  probeWorker?: boolean;
  /** Count the Redis commands the process sends, by name (where the Redis time goes). */
  commandCounts?: Map<string, number>;
  /** Called with every log message of the monitor at warn level and above (lease lost, blind, …). */
  onWarn?: (msg: string, obj: object) => void;
}): Promise<MonitorRig> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  for (const c of [redis, connection]) c.on('error', () => undefined);
  if (opts.commandCounts) {
    const counts = opts.commandCounts;
    for (const c of [redis, connection]) {
      const send = c.sendCommand.bind(c);
      c.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
        counts.set(cmd.name, (counts.get(cmd.name) ?? 0) + 1);
        return (send as (...a: unknown[]) => unknown)(cmd, ...rest);
      }) as typeof c.sendCommand;
    }
  }
  const logger = createLogger(process.env.LOG_LEVEL ?? 'silent');
  const keys = new KeySpace(opts.prefix);
  const queues = createQueues(redis, keys);
  const box = SecretBox.ephemeral();
  const notifyWorker = startNotifyWorker({ connection, redis, keys, adapters: opts.adapters, logger, box });
  const notifier = new Notifier(queues, redis, keys, box);
  const rig = { redis, queues } as MonitorRig;
  const send = notifier.send.bind(notifier);
  notifier.send = (d: Delivery) => {
    rig.onNotify?.(d, performance.now());
    return send(d);
  };
  const onWarn = opts.onWarn;
  const monitorLogger: MonitorDeps['logger'] = onWarn
    ? {
        debug: (o: object, m?: string) => logger.debug(o, m),
        info: (o: object, m?: string) => logger.info(o, m),
        warn: (o: object, m?: string) => (onWarn(m ?? '', o), logger.warn(o, m)),
        error: (o: object, m?: string) => (onWarn(m ?? '', o), logger.error(o, m)),
      } as MonitorDeps['logger']
    : logger;
  rig.monitor = await startMonitor({
    config: opts.config,
    hosts: opts.hosts,
    redis,
    connection,
    keys,
    runner: opts.runner,
    ops: statusOps(opts.runner),
    notifier,
    buttons: new ButtonStore(redis, keys, JobSigner.ephemeral()),
    audit: new AuditLog(redis, keys),
    logger: monitorLogger,
    leaseMs: opts.leaseMs,
    probeWorker: opts.probeWorker,
    tuning: opts.tuning,
  });
  rig.close = async () => {
    await rig.monitor.close();
    await notifyWorker.close();
    await queues.close();
    redis.disconnect();
    connection.disconnect();
  };
  return rig;
}

export { bareBullmq } from './bare-bullmq.js';

/** Open a bare ssh2 connection (same pin check as the runner, Nagle off as the runner does). */
export async function rawConnect(host: HostConfig, privateKey: string): Promise<Client> {
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
    client.connect({
      host: host.ssh.host,
      port: host.ssh.port,
      username: host.ssh.user,
      privateKey,
      readyTimeout: 30_000,
      keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer) => fingerprintsMatch(fingerprintOf(key), host.ssh.hostKeyFingerprint),
    });
    client.setNoDelay(true);
  });
  return client;
}

/** Run `tail -n 0 -F file` on `client`; calls onLine per line. Resolves once the channel is open. */
export function rawFollow(client: Client, file: string, onLine: (line: string) => void): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.exec(`exec tail -n 0 -F ${shellQuote(file)}`, (err, ch) => {
      if (err) return reject(err);
      let pending = '';
      ch.setEncoding('utf8');
      ch.on('data', (chunk: string) => {
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) !== -1) {
          onLine(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
        }
      });
      ch.stderr.on('data', () => undefined);
      resolve(ch);
    });
  });
}

/**
 * The baseline of the alert path's first hop: a bare ssh2 client following one file with a bare
 * `tail -F`; `measure(lines)` appends the lines in one write and times until the last one arrives.
 */
export class RawTail {
  private waiting?: { line: string; resolve: () => void };
  private constructor(
    private readonly client: Client,
    readonly file: string,
  ) {}

  static async open(host: HostConfig, privateKey: string, file: string): Promise<RawTail> {
    await writeFile(file, '');
    const client = await rawConnect(host, privateKey);
    const t = new RawTail(client, file);
    await rawFollow(client, file, (line) => {
      if (t.waiting && line === t.waiting.line) t.waiting.resolve();
    });
    // tail opens the file and sets its inotify watch a moment after the channel opens: prove it is live.
    for (let i = 0; ; i++) {
      const ok = await Promise.race([t.measure([`warm-up ${i}`]).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))]);
      if (ok) break;
      if (i > 10) throw new Error('raw tail -F never delivered a line');
    }
    return t;
  }

  measure(lines: string[]): Promise<number> {
    return timeMs(async () => {
      const arrived = new Promise<void>((resolve) => (this.waiting = { line: lines[lines.length - 1]!, resolve }));
      await appendLines(this.file, lines);
      await arrived;
      this.waiting = undefined;
    });
  }

  close(): void {
    this.client.end();
  }
}

/** Telegram's limits as the stand-in enforces them in these benchmarks (Telegram publishes no exact algorithm). */
export interface TelegramLimitRule {
  /** Token bucket per chat: refill one call per this many ms … */
  perChatIntervalMs: number;
  /** … up to this many calls back to back. */
  perChatBurst: number;
  /** Calls into one group chat (negative id) per rolling 60 s. */
  perGroupPerMinute: number;
  /** Calls per second over all chats (rolling 1 s). */
  globalPerSecond: number;
}

/** The rule used: Telegram's documented "about 1 message/s per chat, 20/min per group, 30/s overall", bursts of 3. */
export const TELEGRAM_LIMIT_RULE: TelegramLimitRule = { perChatIntervalMs: 1000, perChatBurst: 3, perGroupPerMinute: 20, globalPerSecond: 30 };

const LIMITED_METHODS = new Set(['sendMessage', 'editMessageText', 'editMessageReplyMarkup', 'sendDocument', 'deleteMessage']);

/**
 * Make the Bot API stand-in answer 429 (with retry_after) like Telegram when a call into a chat breaks
 * `rule`. The stand-in only fails calls when told to, so without this "zero 429s" could not fail.
 * Calls refused this way are in its call log with status 429, like injected ones. Calls into `exempt`
 * chats are neither limited nor counted.
 */
export function enforceTelegramLimits(layer: BotApiLayer, rule: TelegramLimitRule = TELEGRAM_LIMIT_RULE, exempt: ReadonlySet<number> = new Set()): void {
  const target = layer as unknown as { takeInjection(method: string, params: Record<string, unknown>): ApiError | undefined };
  const injected = target.takeInjection.bind(layer);
  const buckets = new Map<number, { tokens: number; at: number }>();
  const groupCalls = new Map<number, number[]>();
  const allCalls: number[] = [];
  target.takeInjection = (method, params) => {
    const first = injected(method, params);
    if (first || !LIMITED_METHODS.has(method) || params.chat_id === undefined) return first;
    const chat = Number(params.chat_id);
    // A benchmark's own baseline calls (another "bot") must not use up the budget of the one measured.
    if (exempt.has(chat)) return undefined;
    const now = Date.now();
    const b = buckets.get(chat) ?? { tokens: rule.perChatBurst, at: now };
    b.tokens = Math.min(rule.perChatBurst, b.tokens + (now - b.at) / rule.perChatIntervalMs);
    b.at = now;
    buckets.set(chat, b);
    const group = groupCalls.get(chat) ?? [];
    while (group.length && group[0]! <= now - 60_000) group.shift();
    while (allCalls.length && allCalls[0]! <= now - 1000) allCalls.shift();
    let retryMs = 0;
    if (b.tokens < 1) retryMs = (1 - b.tokens) * rule.perChatIntervalMs;
    if (chat < 0 && group.length >= rule.perGroupPerMinute) retryMs = Math.max(retryMs, group[0]! + 60_000 - now);
    if (allCalls.length >= rule.globalPerSecond) retryMs = Math.max(retryMs, allCalls[0]! + 1000 - now);
    if (retryMs > 0) {
      if (process.env.BENCH_DEBUG) console.log(`  429 rule: chat ${chat} tokens ${b.tokens.toFixed(2)} group ${group.length} global ${allCalls.length}`);
      const retry = Math.max(1, Math.ceil(retryMs / 1000));
      return { error_code: 429, description: `Too Many Requests: retry after ${retry}`, parameters: { retry_after: retry } };
    }
    b.tokens -= 1;
    if (chat < 0) {
      group.push(now);
      groupCalls.set(chat, group);
    }
    allCalls.push(now);
    return undefined;
  };
}

/** Most calls that fall in any window of `windowMs` (sliding), from ascending timestamps. */
export function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[hi]! - times[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** RSS and heap of this process in MiB (optionally after a full GC). */
export function memoryMiB(): { rss: number; heapUsed: number; external: number } {
  const m = process.memoryUsage();
  return { rss: m.rss / 2 ** 20, heapUsed: m.heapUsed / 2 ** 20, external: (m.external + m.arrayBuffers) / 2 ** 20 };
}

/** Self time of one function in a CPU profile. */
export interface ProfileEntry {
  fn: string;
  where: string;
  selfMs: number;
}

/**
 * Sample this process's CPU for `ms` with the inspector's profiler (in process, no flags) and return
 * self time per function and per place (a file of ours, or a package under node_modules), most first.
 */
export async function profileFor(ms: number): Promise<{ byFunction: ProfileEntry[]; byPlace: Array<{ where: string; selfMs: number }>; totalMs: number }> {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params?: object): Promise<T> =>
    new Promise((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 1000 });
  await post('Profiler.start');
  await new Promise((r) => setTimeout(r, ms));
  const { profile } = await post<{ profile: { nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>; startTime: number; endTime: number; samples: number[] } }>('Profiler.stop');
  session.disconnect();
  const totalHits = profile.samples.length || 1;
  const msPerHit = (profile.endTime - profile.startTime) / 1000 / totalHits;
  const place = (url: string): string => {
    if (!url) return '(native / V8)';
    const nm = url.lastIndexOf('node_modules/');
    if (nm >= 0) {
      const rest = url.slice(nm + 13).split('/');
      return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    }
    const src = url.indexOf('/src/');
    if (src >= 0) return url.slice(src + 1);
    const b = url.indexOf('/bench/');
    if (b >= 0) return url.slice(b + 1);
    return url.startsWith('node:') ? url : path.basename(url);
  };
  const byFn = new Map<string, ProfileEntry>();
  const byPlace = new Map<string, number>();
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (!hits || n.callFrame.functionName === '(idle)') continue;
    const where = place(n.callFrame.url);
    const fn = n.callFrame.functionName || '(anonymous)';
    const key = `${fn}@${where}:${n.callFrame.lineNumber}`;
    const e = byFn.get(key) ?? { fn, where: `${where}:${n.callFrame.lineNumber + 1}`, selfMs: 0 };
    e.selfMs += hits * msPerHit;
    byFn.set(key, e);
    byPlace.set(where, (byPlace.get(where) ?? 0) + hits * msPerHit);
  }
  return {
    // (idle) is left out: these are the busy samples only.
    byFunction: [...byFn.values()].sort((a, b) => b.selfMs - a.selfMs),
    byPlace: [...byPlace].map(([where, selfMs]) => ({ where, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
    totalMs: (profile.endTime - profile.startTime) / 1000,
  };
}
