/**
 * Benchmark (issue 6, part 3): one clawmedic process following 500 hosts. Every inventory entry
 * points at ONE loopback sshd under its own name, so the runner's pool holds 500 SSH connections,
 * each with its own follow stream (`tail -F` of that host's log file). Measures:
 * - RSS against 1.5 × (idle process + 500 × one bare ssh2 follow connection), both baselines measured
 *   in child processes of this run (the idle process is this same program with the monitor following
 *   no host; the follow connection is a bare ssh2 client + `tail -n 0 -F`, 500 of them, per connection);
 * - heap after a full GC over the run (default 60 s; `--long` = the 10-minute run);
 * - an SSH drop (every sshd session killed): every host reconnects with randomized backoff; lines
 *   written meanwhile are neither lost nor counted twice; no incident is alerted twice;
 * - the limits met on the way (sshd MaxStartups, Linux's 128 inotify instances per user).
 * Traffic: real 4008/1008 pairs (deduplicated by conn id) and real plugin-failure lines (counted one by
 * one: a replayed line would count twice) at BENCH_FLEET_RATE appends/s spread over the hosts.
 * The alert policy, timings and backoff are the production defaults; alerts go to a counting adapter
 * (a real Telegram group would be paced to 20 messages a minute; the chat path is monitor-alert-latency's).
 *
 * Run: npx tsx bench/monitor-fleet.ts [--long | --seconds=N]
 *   env BENCH_FLEET_SECONDS (60), BENCH_FLEET_HOSTS (500), BENCH_FLEET_RATE (20 appends/s)
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, readlink, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { Client } from 'ssh2';
import type { ChatAdapter } from '../src/domain/ports.js';
import { configSchema, type AppConfig } from '../src/config/schema.js';
import type { HostConfig } from '../src/domain/host.js';
import type { Delivery } from '../src/domain/types.js';
import { MONITOR_DEFAULTS } from '../src/constants.js';
import { KeySpace } from '../src/state/key-space.js';
import { SshRunner } from '../src/remote/ssh-runner.js';
import { createStandin, shiftTimestamps, STANDIN_FIXTURES_DIR } from '../src/standin/host-standin.js';
import { failurePair } from '../test/support/monitor-harness.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../test/support/redis.js';
import { hostConfigFor, startSshd } from '../src/standin/sshd.js';
import { atMost, fmt, isMain, printHeader, rerunWithRuntimeFlags, printSeries, reportFigure, sleep, summarize, type Figure } from './bench-kit.js';
import { appendLines, memoryMiB, prepareHostLogs, profileFor, rawConnect, rawFollow, startMonitorRig, TimedRunner } from './monitor-rig.js';

const BENCH = 'monitor-fleet';
const HERE = fileURLToPath(import.meta.url);
const HOSTS = Number(process.env.BENCH_FLEET_HOSTS ?? 500);
const RATE = Number(process.env.BENCH_FLEET_RATE ?? 20);
/** Pairs of the seed log each host replays on its first connect (its tail -n 300 window), inside the firing window. */
const SEED_PAIRS = MONITOR_DEFAULTS.backlogLines / 2;
/** Lines every ordinary host gets right after the drop: 2 pairs + 1 plugin line. */
const DROP_PAIRS = 2;
const DROP_PLUGINS = 1;
/** The one host that writes more than the follower's backlog window while it is disconnected. */
const NOISY_DROP_PAIRS = 400;
const SSHD_MAX_STARTUPS = '2000';
const CHILD_LINE = '@@FLEET ';

function durationSeconds(): number {
  const arg = process.argv.find((a) => a === '--long' || a.startsWith('--seconds='));
  if (arg === '--long') return 600;
  if (arg) return Number(arg.slice('--seconds='.length));
  return Number(process.env.BENCH_FLEET_SECONDS ?? 60);
}

v8.setFlagsFromString('--expose-gc');
/** A full, synchronous GC (so heap figures are live objects, not garbage waiting). */
const gc = vm.runInNewContext('gc') as () => void;

const FX_PLUGIN = path.join(STANDIN_FIXTURES_DIR, 'log-plugin-load-failed.jsonl');
const FX_STARTUP = path.join(STANDIN_FIXTURES_DIR, 'log-crash-restart.jsonl');

/** A real "plugin failed during load" line with the given time: one plugin_failure event, no conn id to deduplicate. */
function pluginLine(template: string, at = Date.now()): string {
  const t = new Date(at).toISOString();
  return template.replace(/"(time|date)":"[^"]*"/g, (_m, k: string) => `"${k}":"${k === 'time' ? t.replace('Z', '+00:00') : t}"`);
}

/**
 * RSS (MiB) once it has settled: full GCs a second apart until five samples in a row lie within 1 MiB
 * (start-up garbage is handed back to the system only after a while; at most 40 s), then the median of `n`.
 */
async function settledRss(n = 5): Promise<{ rss: number; heapUsed: number }> {
  const recent: number[] = [];
  for (let i = 0; i < 40; i++) {
    gc();
    recent.push(memoryMiB().rss);
    if (recent.length >= 5 && Math.max(...recent.slice(-5)) - Math.min(...recent.slice(-5)) < 1) break;
    await sleep(1000);
  }
  const rss: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < n; i++) {
    gc();
    const m = memoryMiB();
    rss.push(m.rss);
    heap.push(m.heapUsed);
    await sleep(1000);
  }
  return { rss: summarize(rss).median, heapUsed: summarize(heap).median };
}

/** Counts deliveries per messageKey (bounded by the number of incidents), keeps nothing else. */
class CountingAdapter implements ChatAdapter {
  readonly platform = 'telegram' as const;
  readonly byKey = new Map<string, number>();
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async deliver(d: Delivery): Promise<void> {
    const k = d.messageKey ?? '(none)';
    this.byKey.set(k, (this.byKey.get(k) ?? 0) + 1);
  }
}

function fleetConfig(hosts: HostConfig[]): AppConfig {
  return configSchema.parse({
    hosts,
    people: [{ platform: 'telegram', userId: '111', role: 'admin', name: 'alice' }],
    chats: [{ platform: 'telegram', chatId: '-1001', hosts: ['*'], alerts: true }],
  });
}

// ------------------------------------------------------------------------------------------------
// Child processes: the two baselines, each in a fresh node process with the same modules loaded.

interface ChildArgs {
  mode: 'idle' | 'raw';
  hosts: HostConfig[];
  privateKey: string;
  files: string[];
}

async function childMain(args: ChildArgs): Promise<void> {
  const out = (o: object) => console.log(`${CHILD_LINE}${JSON.stringify(o)}`);
  if (args.mode === 'idle') {
    const prefix = uniquePrefix('bench-fleet-idle');
    const runner = new TimedRunner(new SshRunner({ privateKey: args.privateKey }));
    const rig = await startMonitorRig({ prefix, config: fleetConfig(args.hosts), hosts: [], runner, adapters: new Map([['telegram', new CountingAdapter()]]) });
    // As long as the monitor process had run before its figures were taken: start-up garbage handed back.
    await sleep(20_000);
    const m = await settledRss();
    out({ mode: 'idle', ...m });
    await rig.close();
    await runner.close();
    await cleanupPrefix(prefix);
    return;
  }
  // raw: bare ssh2 connections, each following one file with a bare `tail -n 0 -F`, opened in five steps;
  // the RSS per connection is the slope over the steps (one before/after difference is mostly allocator noise).
  const host = args.hosts[0]!;
  const clients: Client[] = [];
  let failures = 0;
  const open = async (file: string): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        const c = await rawConnect(host, args.privateKey);
        await rawFollow(c, file, () => undefined);
        clients.push(c);
        return;
      } catch (err) {
        failures++;
        if (attempt >= 20) throw err;
        await sleep(500 + Math.random() * 1000);
      }
    }
  };
  // Warm-up: 10 connections load every code path a connection uses; the first step is taken with them open
  // (a step with none is skewed by start-up garbage the allocator hands back to the system later).
  await Promise.all(args.files.slice(0, 10).map(open));
  await sleep(2000);
  const steps: Array<{ conns: number; rss: number }> = [{ conns: clients.length, rss: (await settledRss()).rss }];
  const started = performance.now();
  const per = Math.ceil((args.files.length - 10) / 5);
  for (let i = 10; i < args.files.length; i += per) {
    await Promise.all(args.files.slice(i, i + per).map(open));
    await sleep(2000);
    steps.push({ conns: clients.length, rss: (await settledRss(3)).rss });
  }
  const connectMs = performance.now() - started;
  const perConn = theilSen(steps.map((s) => s.conns), steps.map((s) => s.rss));
  out({ mode: 'raw', steps, perConn, conns: clients.length, failures, connectMs });
  for (const c of clients) c.end();
  await sleep(500);
}

/** Run this file as a child in `mode` (arguments in a file: 500 hosts are too long for one env variable); resolves with the JSON it prints. */
async function runChild<T>(args: ChildArgs, dir: string): Promise<T> {
  const argsFile = path.join(dir, `child-${args.mode}.json`);
  await writeFile(argsFile, JSON.stringify(args));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, HERE], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, CLAWMEDIC_FLEET_CHILD: argsFile },
    });
    let buf = '';
    let result: T | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith(CHILD_LINE)) result = JSON.parse(line.slice(CHILD_LINE.length)) as T;
        else if (line.trim()) console.log(`  [${args.mode} child] ${line}`);
      }
    });
    child.on('close', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`${args.mode} child exited with ${code}`))));
  });
}

// ------------------------------------------------------------------------------------------------

/** `tail` processes following files under `dir`: which host each follows and whether it holds an inotify instance. */
async function tailsUnder(dir: string): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let argv: string[];
    try {
      argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    } catch {
      continue;
    }
    if (path.basename(argv[0] ?? '') !== 'tail') continue;
    const file = argv.find((a) => a.startsWith(dir));
    if (!file) continue;
    let inotify = false;
    try {
      for (const fd of await readdir(`/proc/${pid}/fd`)) {
        if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')).includes('inotify')) inotify = true;
      }
    } catch {
      continue;
    }
    out.set(path.basename(file, '.log'), inotify);
  }
  return out;
}

/** inotify instances held by all processes of this machine (they count against the per-user limit when the user is the same). */
async function inotifyInUse(): Promise<number> {
  let n = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      for (const fd of await readdir(`/proc/${pid}/fd`)) if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')).includes('inotify')) n++;
    } catch {
      /* gone or not ours */
    }
  }
  return n;
}

/** A fixed-size ring of samples (no growth of our own while the heap is watched). */
class Ring {
  private readonly buf: Float64Array;
  private n = 0;
  constructor(size: number) {
    this.buf = new Float64Array(size);
  }
  push(x: number): void {
    this.buf[this.n++ % this.buf.length] = x;
  }
  values(): number[] {
    return Array.from(this.buf.subarray(0, Math.min(this.n, this.buf.length)));
  }
  get count(): number {
    return this.n;
  }
}

/** Median of the pairwise slopes (Theil–Sen): one step skewed by the allocator handing memory back does not move it. */
function theilSen(xs: number[], ys: number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++) if (xs[j] !== xs[i]) slopes.push((ys[j]! - ys[i]!) / (xs[j]! - xs[i]!));
  return summarize(slopes).median;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return num / den;
}

function exactly(name: string, value: number, expected: number, target: string, unit: string): Figure {
  return { bench: BENCH, name, value, unit, target, ratio: expected === 0 ? value : value / expected, pass: value === expected };
}

/** Run the benchmark; returns the headline figures. */
export async function run(): Promise<Figure[]> {
  const seconds = durationSeconds();
  printHeader(`monitor fleet: one process following ${HOSTS} hosts over loopback SSH; ${seconds} s run${seconds >= 600 ? ' (the 10-minute run)' : ' (short run; --long for 10 minutes)'}`);
  const figures: Figure[] = [];
  const maxInotify = Number((await readFile('/proc/sys/fs/inotify/max_user_instances', 'utf8')).trim());
  console.log(`  limits: fs.inotify.max_user_instances ${maxInotify} (${await inotifyInUse()} instances in use on the machine before start), open files ${(await readFile('/proc/self/limits', 'utf8')).match(/Max open files\s+(\d+)/)?.[1] ?? '?'}, sshd MaxStartups ${SSHD_MAX_STARTUPS}`);

  // Latency off: this bench measures the follower's memory at 500 hosts, not CLI wall time.
  const standin = await createStandin({ latency: 0 });
  const sshd = await startSshd({ binDir: standin.binDir, env: standin.env, maxStartups: SSHD_MAX_STARTUPS });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'clawmedic-bench-fleet-'));
  const prefix = uniquePrefix('bench-fleet');
  const ks = new KeySpace(prefix);
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
  const hosts: HostConfig[] = Array.from({ length: HOSTS }, (_, i) => hostConfigFor(sshd, { name: `fleet-${String(i).padStart(3, '0')}` }));
  const bench = await prepareHostLogs(redis, prefix, dir, hosts);
  const index = new Map(hosts.map((h, i) => [h.name, i]));
  const pluginTemplate = (await readFile(FX_PLUGIN, 'utf8')).split('\n')[0]!;
  const startup = (await readFile(FX_STARTUP, 'utf8')).split('\n').slice(30, 46);

  let rig: Awaited<ReturnType<typeof startMonitorRig>> | undefined;
  const sshRunner = new SshRunner({ privateKey: sshd.privateKey });
  const runner = new TimedRunner(sshRunner);
  let streamErrors = 0;
  const stream = runner.stream.bind(runner);
  runner.stream = async (...a) => {
    try {
      return await stream(...a);
    } catch (err) {
      streamErrors++;
      throw err;
    }
  };
  let stopTraffic = false;
  try {
    // ---- baselines, each in its own process, before the monitor starts
    console.log('\n## baselines (child processes)');
    const raw = await runChild<{ steps: Array<{ conns: number; rss: number }>; perConn: number; conns: number; failures: number; connectMs: number }>({
      mode: 'raw',
      hosts: [hosts[0]!],
      privateKey: sshd.privateKey,
      files: bench.map((b) => b.logPath),
    }, dir);
    // No tail of the raw child may keep an inotify instance the monitor's tails should get.
    await sshd.dropConnections();
    const perConn = raw.perConn;
    console.log(`  bare ssh2 + tail -n 0 -F: ${raw.conns} connections opened in 5 steps (${raw.failures} failed attempts, retried); RSS by step: ${raw.steps.map((x) => `${x.conns} → ${fmt(x.rss)} MiB`).join(', ')}`);
    console.log(`  one bare follow connection: ${fmt(perConn * 1024)} KiB (median of the slopes between steps)`);
    const idle = await runChild<{ rss: number; heapUsed: number }>({ mode: 'idle', hosts, privateKey: sshd.privateKey, files: [] }, dir);
    console.log(`  idle monitor process (same program, following no host): RSS ${fmt(idle.rss)} MiB, heap ${fmt(idle.heapUsed)} MiB`);
    const rssLimit = 1.5 * (idle.rss + HOSTS * perConn);

    // ---- seed logs: every host's last 300 lines are 150 failed connects of the last minute (its first replay)
    const now = Date.now();
    for (const b of bench) {
      const lines: string[] = shiftTimestamps(startup, now - 90_000);
      for (let p = 0; p < SEED_PAIRS; p++) lines.push(...failurePair({ at: now - 60_000 + p * 300 }));
      await writeFile(b.logPath, `${lines.join('\n')}\n`);
    }
    const pairs = new Int32Array(HOSTS).fill(SEED_PAIRS);
    const plugins = new Int32Array(HOSTS);

    // ---- the monitor
    console.log(`\n## ${HOSTS} hosts: start`);
    const adapter = new CountingAdapter();
    const commands = new Map<string, number>();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const ping = new Redis(TEST_REDIS_URL);
    const rtt = new Ring(4000);
    const pinger = setInterval(() => {
      const t = performance.now();
      void ping.ping().then(() => rtt.push(performance.now() - t), () => undefined);
    }, 500);
    pinger.unref();
    // Lease keys of 50 random hosts a second: how close their renewals come to the lease period.
    const leaseTtl = { sampled: 0, missing: 0, min: Infinity };
    const leaseSampler = setInterval(() => {
      const pipe = ping.pipeline();
      for (let k = 0; k < 50; k++) pipe.pttl(ks.lease(hosts[Math.floor(Math.random() * HOSTS)]!.name));
      void pipe.exec().then((res) => {
        for (const [, v] of res ?? []) {
          const ttl = Number(v);
          leaseTtl.sampled++;
          if (ttl < 0) leaseTtl.missing++;
          else leaseTtl.min = Math.min(leaseTtl.min, ttl);
        }
      }, () => undefined);
    }, 1000);
    leaseSampler.unref();
    const redisCpu = async (): Promise<number> => {
      const info = await ping.info('cpu');
      const v = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0);
      return v('used_cpu_user') + v('used_cpu_sys');
    };
    /** What one phase cost: CPU of this process and of Redis, event-loop delay, Redis round trips, commands. */
    const phase = async () => {
      loop.reset();
      const at = performance.now();
      const cpu = process.cpuUsage();
      const redis0 = await redisCpu();
      const cmds = new Map(commands);
      const rtt0 = rtt.count;
      Object.assign(leaseTtl, { sampled: 0, missing: 0, min: Infinity });
      return async (name: string) => {
        const ms = performance.now() - at;
        const c = process.cpuUsage(cpu);
        const r = (await redisCpu()) - redis0;
        const lag = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
        const pings = rtt.values().slice(-(rtt.count - rtt0));
        const top = [...commands].map(([k, n]) => [k, n - (cmds.get(k) ?? 0)] as const).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).slice(0, 5);
        console.log(`  [${name}: ${fmt(ms / 1000)} s] CPU: this process ${fmt(((c.user + c.system) / 1000 / ms) * 100)} % of a core, Redis ${fmt(((r * 1000) / ms) * 100)} %; event-loop delay p50 ${fmt(lag.p50)} ms, p99 ${fmt(lag.p99)} ms, max ${fmt(lag.max)} ms; Redis PING p99 ${fmt(summarize(pings).p99)} ms`);
        console.log(`  [${name}] Redis commands/s of this process (main connections): ${top.map(([k, n]) => `${k} ${fmt(n / (ms / 1000))}`).join(', ')}`);
        console.log(`  [${name}] lease keys sampled ${leaseTtl.sampled}: ${leaseTtl.missing} missing (${name === 'start' ? 'hosts not taken yet, or expired' : 'expired: host without a lease'}), lowest TTL left ${fmt(leaseTtl.min)} ms of ${MONITOR_DEFAULTS.leaseMs}`);
      };
    };
    const t0 = performance.now();
    let lastFirstConnect = 0;
    runner.onConnect = (host, at) => {
      if (runner.connects.get(host) === 1) lastFirstConnect = at;
    };
    const warnings = new Map<string, { n: number; first: number; last: number }>();
    const onWarn = (msg: string) => {
      const at = (performance.now() - t0) / 1000;
      const w = warnings.get(msg);
      if (w) {
        w.n++;
        w.last = at;
      } else warnings.set(msg, { n: 1, first: at, last: at });
    };
    const printWarnings = () =>
      console.log(`  monitor warnings so far: ${warnings.size ? [...warnings].map(([m, w]) => `"${m}" × ${w.n} (${fmt(w.first)}–${fmt(w.last)} s after start)`).join('; ') : 'none'}`);
    const endStart = await phase();
    rig = await startMonitorRig({ prefix, config: fleetConfig(hosts), hosts, runner, adapters: new Map([['telegram', adapter]]), commandCounts: commands, onWarn });
    const adopted = performance.now() - t0;
    while (runner.connects.size < HOSTS) {
      if (performance.now() - t0 > 180_000) throw new Error(`only ${runner.connects.size} of ${HOSTS} follow streams opened in 180 s`);
      await sleep(100);
    }
    const allConnected = lastFirstConnect - t0;
    // Every seed line read: each host's incident counts its 150 seed failures.
    const seeded = () => rig!.monitor.incidents().filter((i) => i.family === 'token_mismatch' && i.count >= SEED_PAIRS).length;
    while (seeded() < HOSTS && performance.now() - t0 < 240_000) await sleep(250);
    const replayed = performance.now() - t0;
    console.log(`  first lease round (take + start ${HOSTS} host monitors): ${fmt(adopted)} ms (lease period ${MONITOR_DEFAULTS.leaseMs} ms); all ${HOSTS} follow streams open: ${fmt(allConnected)} ms (${streamErrors} failed stream opens)`);
    console.log(`  all seed backlogs read (${HOSTS} × 300 lines): ${fmt(replayed)} ms; sshd accepted ${sshd.acceptedConnections()} connections, throttled/dropped ${(sshd.log().match(/drop connection|MaxStartups/g) ?? []).length}`);
    await endStart('start');
    let tails = await tailsUnder(dir);
    const withInotify = [...tails.values()].filter(Boolean).length;
    console.log(`  tail -F processes: ${tails.size}; with an inotify instance: ${withInotify}; polling every 1 s (inotify instances exhausted): ${tails.size - withInotify}`);
    printWarnings();

    // ---- memory sampling through every phase
    const mem = { t: [] as number[], rss: [] as number[], heap: [] as number[], gcT: [] as number[], gcHeap: [] as number[], phase: [] as string[], gcPhase: [] as string[] };
    let phaseName = 'A';
    const runStart = performance.now();
    let tick = 0;
    const sampler = setInterval(() => {
      const t = (performance.now() - runStart) / 1000;
      const m = memoryMiB();
      mem.t.push(t);
      mem.rss.push(m.rss);
      mem.heap.push(m.heapUsed);
      mem.phase.push(phaseName);
      if (++tick % 2 === 0) {
        gc();
        mem.gcT.push(t);
        mem.gcHeap.push(memoryMiB().heapUsed);
        mem.gcPhase.push(phaseName);
      }
    }, 5000);

    // ---- steady traffic
    const lat = { inotify: new Ring(20_000), polling: new Ring(20_000), inotifyAfter: new Ring(20_000), pollingAfter: new Ring(20_000) };
    let afterDrop = false;
    const marker: Array<{ at: number; last: string | undefined }> = hosts.map(() => ({ at: 0, last: undefined }));
    let measureLatency = true; // off from the drop until every tail runs again (those lines wait for the reconnect)
    runner.onLine = (host, line, at) => {
      const m = marker[index.get(host)!]!;
      if (m.last !== undefined && line === m.last && measureLatency) {
        const ino = tails.get(host);
        (afterDrop ? (ino ? lat.inotifyAfter : lat.pollingAfter) : ino ? lat.inotify : lat.polling).push(at - m.at);
        m.last = undefined;
      }
    };
    const noisy = 0; // fleet-000: kept out of the random traffic, writes 400 pairs while disconnected
    // One writer per host, lines stamped when written: a host's log stays in time order as a gateway's does
    // (the follower's resume position is a time; a line stamped before one already read is skipped on replay).
    const chains: Array<Promise<void>> = hosts.map(() => Promise.resolve());
    const appendTo = (i: number, kind: 'pair' | 'plugin'): Promise<void> => {
      const write = async (): Promise<void> => {
        const lines = kind === 'pair' ? failurePair() : [pluginLine(pluginTemplate)];
        if (kind === 'pair') pairs[i]!++;
        else plugins[i]!++;
        marker[i] = { at: performance.now(), last: lines[lines.length - 1] };
        await appendLines(bench[i]!.logPath, lines);
      };
      chains[i] = chains[i]!.then(write);
      return chains[i]!;
    };
    let appended = 0;
    let pausedTraffic = false;
    const traffic = (async () => {
      let active = 0;
      let last = performance.now();
      while (!stopTraffic) {
        const nowT = performance.now();
        if (!pausedTraffic) active += nowT - last;
        last = nowT;
        const due = Math.floor((active / 1000) * RATE);
        while (appended < due && !stopTraffic) {
          appended++;
          const i = 1 + Math.floor(Math.random() * (HOSTS - 1));
          await appendTo(i, Math.random() < 0.7 ? 'pair' : 'plugin');
        }
        await sleep(20);
      }
    })();

    /**
     * Events counted per host and family over the whole run: open incidents from memory (the freshest) plus
     * every incident that already ended, from Redis (kept there TTL.resolvedIncidentSec). A suspect incident that
     * never fired ends after a quiet fire window (a plugin failing once a minute never reaches 3 in 2 min),
     * and the next line opens a new one: its events were counted, by the incident that ended.
     */
    const countedEvents = async (incs: Array<{ id: string; host: string; family: string; count: number }>) => {
      const byId = new Map<string, { host: string; family: string; count: number }>();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', ks.incident('*'), 'COUNT', 1000);
        cursor = next;
        const pipe = redis.pipeline();
        for (const k of keys) pipe.hget(k, 'data');
        for (const [, raw] of (await pipe.exec()) ?? []) {
          if (typeof raw !== 'string') continue;
          const x = JSON.parse(raw) as { id: string; host: string; family: string; count: number };
          byId.set(x.id, { host: x.host, family: x.family, count: x.count });
        }
      } while (cursor !== '0');
      for (const x of incs) byId.set(x.id, { host: x.host, family: x.family, count: x.count });
      const sum = new Map<string, number>();
      for (const x of byId.values()) sum.set(`${x.host}/${x.family}`, (sum.get(`${x.host}/${x.family}`) ?? 0) + x.count);
      return sum;
    };

    /** Counted vs written failure events of the ordinary hosts, and alert messages per host/cause. */
    const countCheck = async () => {
      const incs = rig!.monitor.incidents();
      const counted = await countedEvents(incs);
      let lost = 0;
      let twice = 0;
      let hostsLost = 0;
      let hostsTwice = 0;
      for (let i = 1; i < HOSTS; i++) {
        const name = hosts[i]!.name;
        const tok = counted.get(`${name}/token_mismatch`) ?? 0;
        const plg = counted.get(`${name}/plugin_failure`) ?? 0;
        const l = Math.max(0, pairs[i]! - tok) + Math.max(0, plugins[i]! - plg);
        const d = Math.max(0, tok - pairs[i]!) + Math.max(0, plg - plugins[i]!);
        lost += l;
        twice += d;
        if (l) hostsLost++;
        if (d) hostsTwice++;
      }
      const alertKeys = [...adapter.byKey.keys()].filter((key) => key.startsWith('incident:'));
      const perFamily = new Map<string, number>();
      for (const key of alertKeys) {
        const fam = key.split(':')[1]!.split('.').slice(0, 2).join('.');
        perFamily.set(fam, (perFamily.get(fam) ?? 0) + 1);
      }
      const dupAlerts = [...perFamily.values()].filter((n) => n > 1).length;
      return { lost, twice, hostsLost, hostsTwice, alerts: alertKeys.length, families: perFamily.size, dupAlerts, alertKeys, incs };
    };

    // ---- phase A: steady, before the drop (CPU profile in its middle)
    const aMs = seconds * 1000 * 0.4;
    const bMs = seconds * 1000 * 0.6;
    console.log(`\n## phase A: ${fmt(aMs / 1000)} s steady, ${RATE} appends/s (70 % 4008/1008 pairs, 30 % plugin-failure lines) over ${HOSTS - 1} hosts`);
    const endA = await phase();
    await sleep(aMs * 0.3);
    const prof = await profileFor(Math.min(10_000, aMs * 0.4));
    await sleep(Math.max(0, aMs - (performance.now() - runStart)));
    await endA('phase A');
    const busy = prof.byFunction;
    const busyMs = busy.reduce((a, e) => a + e.selfMs, 0);
    console.log(`  CPU profile, ${fmt(prof.totalMs / 1000)} s of phase A: busy ${fmt(busyMs)} ms (${fmt((busyMs / prof.totalMs) * 100)} %). Self time by place: ${prof.byPlace.slice(0, 8).map((x) => `${x.where} ${fmt((x.selfMs / busyMs) * 100)} %`).join(', ')}`);
    console.log(`  top functions: ${busy.slice(0, 10).map((e) => `${e.fn} (${e.where}) ${fmt((e.selfMs / busyMs) * 100)} %`).join('; ')}`);
    pausedTraffic = true;
    await sleep(3000);
    const beforeDrop = await countCheck();
    console.log(`  before the drop (traffic paused 3 s): ${beforeDrop.lost} failure events not counted (${beforeDrop.hostsLost} hosts), ${beforeDrop.twice} counted twice; ${beforeDrop.alerts} alert messages for ${beforeDrop.families} host/cause pairs`);
    printWarnings();
    pausedTraffic = false;

    // ---- the SSH drop: every sshd session and its tail killed; lines keep coming meanwhile
    console.log('\n## SSH drop');
    phaseName = 'drop';
    const endDrop = await phase();
    const reconnect = { at: new Float64Array(HOSTS).fill(Number.NaN), lost: new Float64Array(HOSTS).fill(Number.NaN), dropT: 0, allBackMs: Number.NaN, tailsBackMs: Number.NaN };
    const before = new Map(runner.connects);
    runner.onConnect = (host, at) => {
      const i = index.get(host)!;
      if (Number.isNaN(reconnect.at[i]!) && runner.connects.get(host)! > (before.get(host) ?? 0)) reconnect.at[i] = at - reconnect.dropT;
    };
    runner.onDone = (host, at) => {
      const i = index.get(host)!;
      if (Number.isNaN(reconnect.lost[i]!)) reconnect.lost[i] = at - reconnect.dropT;
    };
    measureLatency = false;
    reconnect.dropT = performance.now();
    await sshd.dropConnections();
    const killedMs = performance.now() - reconnect.dropT;
    const writes: Array<Promise<void>> = [];
    for (let i = 1; i < HOSTS; i++) {
      for (let p = 0; p < DROP_PAIRS; p++) writes.push(appendTo(i, 'pair'));
      for (let p = 0; p < DROP_PLUGINS; p++) writes.push(appendTo(i, 'plugin'));
    }
    const noisyLines: string[] = [];
    for (let p = 0; p < NOISY_DROP_PAIRS; p++) noisyLines.push(...failurePair());
    pairs[noisy]! += NOISY_DROP_PAIRS;
    writes.push((chains[noisy] = chains[noisy]!.then(() => appendLines(bench[noisy]!.logPath, noisyLines))));
    await Promise.all(writes);
    console.log(`  killed every sshd session in ${fmt(killedMs)} ms (the test sshd kills them one by one); ${fmt(performance.now() - reconnect.dropT)} ms after the drop every host had ${DROP_PAIRS} pairs + ${DROP_PLUGINS} plugin line more, ${hosts[noisy]!.name} ${NOISY_DROP_PAIRS * 2} lines more`);
    const waitStart = performance.now();
    while (reconnect.at.some((x) => Number.isNaN(x)) && performance.now() - waitStart < 180_000) await sleep(50);
    reconnect.allBackMs = Math.max(...reconnect.at);
    runner.onDone = undefined;
    // The stream counts as open before the remote shell has started tail: wait until every tail runs again.
    while ((tails = await tailsUnder(dir)).size < HOSTS && performance.now() - waitStart < 240_000) await sleep(1000);
    reconnect.tailsBackMs = performance.now() - reconnect.dropT;
    const inot = [...tails.values()].filter(Boolean).length;
    console.log(`  ${Array.from(reconnect.at).filter((x) => !Number.isNaN(x)).length} of ${HOSTS} follow streams open again ${fmt(reconnect.allBackMs)} ms after the drop; every tail running again after ${fmt(reconnect.tailsBackMs)} ms (${tails.size} tails: ${inot} with inotify, ${tails.size - inot} polling)`);
    await endDrop('drop → every tail back');
    printWarnings();
    afterDrop = true;
    measureLatency = true;

    // ---- phase B: steady after the reconnect
    console.log(`\n## phase B: ${fmt(bMs / 1000)} s steady after the reconnect`);
    phaseName = 'B';
    const endB = await phase();
    await sleep(bMs);
    stopTraffic = true;
    await traffic;
    await endB('phase B');
    // Lines still on their way (polling tails read once a second; the last ticks save the counts).
    await sleep(3000);
    clearInterval(sampler);
    clearInterval(pinger);
    clearInterval(leaseSampler);
    ping.disconnect();
    loop.disable();
    printWarnings();

    // ---- results: memory
    console.log(`\n## memory (phase A ${fmt(aMs / 1000)} s + phase B ${fmt(bMs / 1000)} s)`);
    const steadyRss = summarize(mem.rss.filter((_, i) => mem.phase[i] !== 'drop'));
    printSeries('RSS, 5 s samples in phases A and B', steadyRss, 'MiB');
    printSeries('RSS, 5 s samples from the drop until every tail ran again', summarize(mem.rss.filter((_, i) => mem.phase[i] === 'drop')), 'MiB');
    printSeries('heap used, 5 s samples (no forced GC), A and B', summarize(mem.heap.filter((_, i) => mem.phase[i] !== 'drop')), 'MiB');
    console.log(`  RSS / heap used, every 5 s: ${mem.rss.map((r, i) => `${mem.phase[i]} ${fmt(mem.t[i]!)}s ${fmt(r)}/${fmt(mem.heap[i]!)}`).join(', ')}`);
    console.log(`  heap after full GC, every 10 s: ${mem.gcHeap.map((h, i) => `${mem.gcPhase[i]} ${fmt(mem.gcT[i]!)}s ${fmt(h)}`).join(', ')}`);
    figures.push(atMost(BENCH, `RSS, ${HOSTS} hosts (max of phases A and B)`, steadyRss.max, rssLimit, `1.5 × (idle ${fmt(idle.rss)} MiB + ${HOSTS} × ${fmt(perConn * 1024)} KiB per follow connection)`, 'MiB'));
    reportFigure(figures.at(-1)!);
    const gcA = mem.gcHeap.filter((_, i) => mem.gcPhase[i] === 'A');
    const gcBi = mem.gcHeap.map((_, i) => i).filter((i) => mem.gcPhase[i] === 'B');
    const gcB = gcBi.map((i) => mem.gcHeap[i]!);
    const third = Math.max(1, Math.floor(gcB.length / 3));
    const bFirst = summarize(gcB.slice(0, third)).median;
    const bLast = summarize(gcB.slice(-third)).median;
    const perHour = slope(gcBi.map((i) => mem.gcT[i]!), gcB) * 3600;
    console.log(`  heap after GC: phase A median ${fmt(summarize(gcA).median)} MiB; phase B first third ${fmt(bFirst)} MiB, last third ${fmt(bLast)} MiB; trend in phase B ${fmt(perHour)} MiB/h`);
    figures.push(atMost(BENCH, `heap growth after GC in phase B (${fmt(bMs / 1000)} s)`, bLast - bFirst, Math.max(1, bFirst * 0.02), '≤ max(1 MiB, 2 % of the heap)', 'MiB'));
    reportFigure(figures.at(-1)!);

    // ---- results: reconnect
    console.log('\n## reconnect after the SSH drop');
    const back = Array.from(reconnect.at).filter((x) => !Number.isNaN(x));
    printSeries('drop → stream end seen by the follower', summarize(Array.from(reconnect.lost).filter((x) => !Number.isNaN(x))));
    printSeries('drop → follow stream open again, per host', summarize(back));
    const buckets = new Map<number, number>();
    for (const x of back) buckets.set(Math.floor(x / 1000) * 1000, (buckets.get(Math.floor(x / 1000) * 1000) ?? 0) + 1);
    console.log(`  streams open again per second after the drop: ${[...buckets].sort((a, b) => a[0] - b[0]).map(([b, n]) => `${b / 1000}–${b / 1000 + 1} s: ${n}`).join(', ')}`);
    console.log(`  stream opens that failed (retried with backoff): ${streamErrors}; sshd drops: ${(sshd.log().match(/drop connection/g) ?? []).length}`);
    figures.push(exactly('hosts following again after the SSH drop', back.length, HOSTS, `= ${HOSTS} (streams back in ${fmt(reconnect.allBackMs / 1000)} s, tails in ${fmt(reconnect.tailsBackMs / 1000)} s)`, 'hosts'));
    reportFigure(figures.at(-1)!);

    // ---- results: lines and alerts
    console.log('\n## lines and alerts');
    const { lost, twice, hostsLost, hostsTwice, dupAlerts, alertKeys, incs, families } = await countCheck();
    const expectedEvents = Array.from(pairs).slice(1).reduce((a, b) => a + b, 0) + Array.from(plugins).reduce((a, b) => a + b, 0);
    console.log(`  ${HOSTS - 1} ordinary hosts: ${expectedEvents} failure events written (seed, traffic, during the drop); ${lost} not counted (${hostsLost} hosts), ${twice} counted twice (${hostsTwice} hosts); before the drop: ${beforeDrop.lost} not counted, ${beforeDrop.twice} twice`);
    const kinds = (p: string) => [...adapter.byKey.keys()].filter((key) => key.startsWith(p)).length;
    const edits = alertKeys.reduce((a, key) => a + adapter.byKey.get(key)! - 1, 0);
    console.log(`  alert messages: ${alertKeys.length} (${families} host/cause pairs; ${beforeDrop.alerts} before the drop), edited ${edits} times in all; recovery notices ${kinds('incident-recovery:')}, flapping notices ${kinds('incident-flap:')}, reminders ${kinds('incident-reminder:')}`);
    console.log(`  host_unreachable incidents opened by the drop: ${incs.filter((x) => x.family === 'host_unreachable').length}`);
    figures.push(exactly('failure lines lost (seed, traffic, during the drop)', lost, 0, `= 0 of ${expectedEvents}`, 'lines'));
    reportFigure(figures.at(-1)!);
    figures.push(exactly('failure lines counted twice', twice, 0, '= 0', 'lines'));
    reportFigure(figures.at(-1)!);
    figures.push(exactly('host/cause pairs alerted twice', dupAlerts, 0, '= 0', 'incidents'));
    reportFigure(figures.at(-1)!);
    const noisyCount = incs.find((x) => x.host === hosts[noisy]!.name && x.family === 'token_mismatch')?.count ?? 0;
    console.log(`  ${hosts[noisy]!.name} wrote ${NOISY_DROP_PAIRS * 2} lines while disconnected (backlog window ${MONITOR_DEFAULTS.backlogLines} lines): ${noisyCount} of ${pairs[noisy]} failures counted`);
    figures.push(exactly(`failures lost by a host that wrote ${NOISY_DROP_PAIRS * 2} lines while disconnected`, pairs[noisy]! - noisyCount, 0, '= 0', 'failures'));
    reportFigure(figures.at(-1)!);

    // ---- where the time goes
    console.log('\n## line latency (append on the host → line in clawmedic)');
    printSeries('phase A, tail with inotify', summarize(lat.inotify.values()));
    printSeries('phase A, tail polling (no inotify instance left)', summarize(lat.polling.values()));
    printSeries('phase B, tail with inotify', summarize(lat.inotifyAfter.values()));
    printSeries('phase B, tail polling', summarize(lat.pollingAfter.values()));
  } finally {
    stopTraffic = true;
    await rig?.close();
    await runner.close();
    redis.disconnect();
    await sshd.stop();
    await standin.cleanup();
    await rm(dir, { recursive: true, force: true });
    await cleanupPrefix(prefix);
  }
  return figures;
}

if (process.env.CLAWMEDIC_FLEET_CHILD) {
  readFile(process.env.CLAWMEDIC_FLEET_CHILD, 'utf8')
    .then((text) => childMain(JSON.parse(text) as ChildArgs))
    .then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
} else if (isMain(import.meta.url) && !rerunWithRuntimeFlags()) {
  run().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
