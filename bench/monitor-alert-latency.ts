/**
 * Benchmark (issue 6, parts 1 and 2): a failed connect appended to a host's gateway log → the alert
 * accepted by the Telegram Bot API stand-in, through the real path: sshd → follow script (`tail -F`)
 * → SshRunner stream → follower → signals → incident machine → AlertSender → notify queue (BullMQ) →
 * notify worker → TelegramAdapter (pacing queue, grammY) → stand-in. Against, in the same run with
 * rounds interleaved: a bare ssh2 `tail -F` of a file (append → line), a bare BullMQ add → completed,
 * and one Bot API call (the same sendMessage payload the adapter sent, straight through grammY's Api).
 * Then bursts of 1 000 matching lines/s on one host: one message edited in place, no 429, first alert
 * inside the same budget. The stand-in answers 429 by Telegram's documented limits (see monitor-rig.ts).
 *
 * Alert policy: fireAfterEvents = 1 (one 4008/1008 pair fires), so the figure is the path, not the
 * threshold; resolveAfterMs 300 and flapWindowMs 100 let a host's incident end between rounds; the
 * bench writes a healthy probe result for a host after its alert (the probe worker's interval is 1 h,
 * so probe SSH execs do not load the 2 CPUs during the measurement). Everything else is the default
 * (tick 1 s, edits at most every 5 s, production pacing of the Telegram adapter).
 *
 * Run: npx tsx bench/monitor-alert-latency.ts
 *   env BENCH_ROUNDS (150), BENCH_MONITOR_HOSTS (32 hosts used in turn), BENCH_BURSTS (3), BENCH_BURST_SECONDS (8)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Api } from 'grammy';
import { Redis } from 'ioredis';
import type { ChatAdapter } from '../src/domain/ports.js';
import { RedisMessageRefStore } from '../src/state/message-ref-store.js';
import { SecretBox } from '../src/util/secret-box.js';
import { TelegramAdapter } from '../src/chat/telegram/telegram-adapter.js';
import { configSchema } from '../src/config/schema.js';
import type { HostConfig } from '../src/domain/host.js';
import type { Delivery } from '../src/domain/types.js';
import { recordProbe } from '../src/jobs/probe.js';
import { SshRunner } from '../src/remote/ssh-runner.js';
import { createLogger } from '../src/util/logger.js';
import { createStandin } from '../src/standin/host-standin.js';
import { failurePair } from '../test/support/monitor-harness.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../test/support/redis.js';
import { hostConfigFor, startSshd } from '../src/standin/sshd.js';
import { startTelegramStandin, type RecordedCall } from '../test/support/telegram/telegram-standin.js';
import { atMost, fmt, interleaved, runIfMain, printHeader, printSeries, reportFigure, sleep, summarize, timeMs, type Figure } from './bench-kit.js';
import {
  appendLines,
  bareBullmq,
  deliverOnlyRouter,
  enforceTelegramLimits,
  maxInWindow,
  prepareHostLogs,
  RawTail,
  startMonitorRig,
  TELEGRAM_LIMIT_RULE,
  TimedRunner,
} from './monitor-rig.js';
import { KeySpace } from '../src/state/key-space.js';

const BENCH = 'monitor-alert-latency';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 150);
const HOSTS = Number(process.env.BENCH_MONITOR_HOSTS ?? 32);
const BURSTS = Number(process.env.BENCH_BURSTS ?? 3);
const BURST_SECONDS = Number(process.env.BENCH_BURST_SECONDS ?? 8);
const BURST_LINES_PER_SECOND = 1000;
/** A host is used again once its incident ended and its chat had no call for this long (the adapter's 3-per-3 s pacing). */
const CHAT_QUIET_MS = 3200;
const API_CHATS = Array.from({ length: 10 }, (_, i) => 7_300_001 + i);

/** A count that must equal `expected`; ratio = value / expected (value itself when 0 is expected). */
function exactly(name: string, value: number, expected: number, target: string, unit: string): Figure {
  return { bench: BENCH, name, value, unit, target, ratio: expected === 0 ? value : value / expected, pass: value === expected };
}

const plain = (html: string): string => html.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const textOf = (c: RecordedCall): string => plain(String(c.params.text ?? ''));

/** Run the benchmark; returns the headline figures. */
export async function run(): Promise<Figure[]> {
  printHeader('monitor alert latency: line appended on the host → alert accepted by the Telegram stand-in; 1 000 lines/s bursts');
  const figures: Figure[] = [];
  const logger = createLogger(process.env.LOG_LEVEL ?? 'silent');
  const tg = await startTelegramStandin();
  enforceTelegramLimits(tg.layer, TELEGRAM_LIMIT_RULE, new Set(API_CHATS));
  const standin = await createStandin();
  const sshd = await startSshd({ binDir: standin.binDir, env: standin.env });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'clawmedic-bench-mon-'));
  const prefix = uniquePrefix('bench-mon');
  const keys = new KeySpace(prefix);
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });

  const latHosts: HostConfig[] = Array.from({ length: HOSTS }, (_, i) => hostConfigFor(sshd, { name: `lat-${String(i).padStart(2, '0')}` }));
  const burstHosts: HostConfig[] = Array.from({ length: BURSTS }, (_, i) => hostConfigFor(sshd, { name: `burst-${i + 1}` }));
  const hosts = [...latHosts, ...burstHosts];
  const latChat = (i: number) => 7_200_001 + i;
  const burstChat = (i: number) => -1_009_000_001 - i;
  for (let i = 0; i < HOSTS; i++) tg.addChat(latChat(i), 'private');
  for (let i = 0; i < BURSTS; i++) tg.addChat(burstChat(i), 'supergroup', `ops ${i + 1}`);
  for (const c of API_CHATS) tg.addChat(c, 'private');
  const config = configSchema.parse({
    hosts,
    people: [{ platform: 'telegram', userId: '111', role: 'admin', name: 'alice' }],
    chats: [
      ...latHosts.map((h, i) => ({ platform: 'telegram', chatId: String(latChat(i)), hosts: [h.name], alerts: true })),
      ...burstHosts.map((h, i) => ({ platform: 'telegram', chatId: String(burstChat(i)), hosts: [h.name], alerts: true })),
    ],
    alerts: { fireAfterEvents: 1, probeIntervalSec: 3600 },
  });
  const bench = await prepareHostLogs(redis, prefix, dir, hosts);
  const logOf = new Map(bench.map((b) => [b.host.name, b.logPath]));

  // Every call the stand-in answers, with performance.now() of the moment it was recorded.
  const lastCallAt = new Map<number, number>();
  let onCall: ((call: RecordedCall, at: number) => void) | undefined;
  const calls = tg.layer.calls;
  const push = calls.push.bind(calls);
  calls.push = (...items: RecordedCall[]) => {
    const at = performance.now();
    for (const c of items) {
      if (c.params.chat_id !== undefined) lastCallAt.set(Number(c.params.chat_id), at);
      onCall?.(c, at);
    }
    return push(...items);
  };
  const waitCall = (pred: (c: RecordedCall) => boolean, timeoutMs: number, what: string): Promise<{ call: RecordedCall; at: number }> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        onCall = undefined;
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      onCall = (call, at) => {
        if (call.status === 200 && pred(call)) {
          clearTimeout(timer);
          onCall = undefined;
          resolve({ call, at });
        }
      };
    });

  const t0 = performance.now();
  const sshRunner = new SshRunner({ privateKey: sshd.privateKey });
  const runner = new TimedRunner(sshRunner);
  const adapter = new TelegramAdapter({ token: tg.token, router: deliverOnlyRouter, refs: new RedisMessageRefStore(redis, keys, SecretBox.ephemeral()), apiRoot: tg.apiRoot, logger });
  await adapter.start();
  const rig = await startMonitorRig({
    prefix,
    config,
    hosts,
    runner,
    adapters: new Map([['telegram', adapter as ChatAdapter]]),
    tuning: { resolveAfterMs: 300, flapWindowMs: 100 },
  });
  const bull = await bareBullmq();
  const rawTail = await RawTail.open(latHosts[0]!, sshd.privateKey, path.join(dir, 'raw-baseline.log'));
  const api = new Api(tg.token, { apiRoot: tg.apiRoot });

  try {
    while (runner.connects.size < hosts.length) {
      if (performance.now() - t0 > 60_000) throw new Error(`only ${runner.connects.size} of ${hosts.length} follow streams opened`);
      await sleep(50);
    }
    console.log(`  ${hosts.length} hosts followed (one sshd on loopback) after ${fmt(performance.now() - t0)} ms; alert chats: one private chat per host`);
    await sleep(1000); // let every tail -F open its file

    // ---- where the time of a pipeline round goes
    let cur: { name: string; last: string; line?: number; notify?: number; deliver?: number } | undefined;
    runner.onLine = (host, line, at) => {
      if (cur && host === cur.name && cur.line === undefined && line === cur.last) cur.line = at;
    };
    rig.onNotify = (d, at) => {
      if (cur && cur.notify === undefined && d.messageKey?.startsWith(`incident:${cur.name}.`)) cur.notify = at;
    };
    const deliver = adapter.deliver.bind(adapter);
    adapter.deliver = (d: Delivery) => {
      if (cur && cur.deliver === undefined && d.messageKey?.startsWith(`incident:${cur.name}.`)) cur.deliver = performance.now();
      return deliver(d);
    };
    const parts = { tail: [] as number[], monitor: [] as number[], queue: [] as number[], telegram: [] as number[] };

    const cycles = new Array<number>(HOSTS).fill(0);
    let rr = 0;
    let alertPayload: Record<string, unknown> | undefined;
    const ready = (i: number): boolean =>
      performance.now() - (lastCallAt.get(latChat(i)) ?? 0) > CHAT_QUIET_MS && !rig.monitor.incidents().some((x) => x.host === latHosts[i]!.name);
    const nextHost = async (): Promise<number> => {
      const started = performance.now();
      for (;;) {
        for (let k = 0; k < HOSTS; k++) {
          const i = (rr + k) % HOSTS;
          if (ready(i)) {
            rr = i + 1;
            return i;
          }
        }
        if (performance.now() - started > 30_000) throw new Error('no host became ready again within 30 s (incidents not ending?)');
        await sleep(20);
      }
    };
    let record = false;
    const pipeline = async (): Promise<number> => {
      const i = await nextHost();
      const name = latHosts[i]!.name;
      const chat = latChat(i);
      const pair = failurePair();
      cur = { name, last: pair[1]! };
      const accepted = waitCall((c) => c.method === 'sendMessage' && Number(c.params.chat_id) === chat && textOf(c).includes(`ALERT: ${name}:`), 20_000, `alert for ${name}`);
      const start = performance.now();
      await appendLines(logOf.get(name)!, pair);
      const { call, at } = await accepted;
      const ms = at - start;
      const c = cur;
      if (record && c.line !== undefined && c.notify !== undefined && c.deliver !== undefined) {
        parts.tail.push(c.line - start);
        parts.monitor.push(c.notify - c.line);
        parts.queue.push(c.deliver - c.notify);
        parts.telegram.push(at - c.deliver);
      }
      cur = undefined;
      alertPayload ??= call.params;
      cycles[i]!++;
      // The gateway is healthy again: what the probe worker would store (ends the incident after resolveAfterMs).
      await recordProbe(redis, keys, name, { host: name, reachable: true, probeOk: true, durationMs: 1 });
      return ms;
    };
    let apiTurn = 0;
    const apiCall = (): Promise<number> =>
      timeMs(async () => {
        const p = alertPayload ?? { text: 'warm-up' };
        const chat = API_CHATS[apiTurn++ % API_CHATS.length]!;
        await api.sendMessage(chat, String(p.text), {
          ...(p.parse_mode ? { parse_mode: p.parse_mode as 'HTML' } : {}),
          ...(p.reply_markup ? { reply_markup: p.reply_markup as never } : {}),
          link_preview_options: { is_disabled: true },
        });
      });

    console.log(`\n## alert latency (${ROUNDS} rounds, 10 warm-up, arms interleaved; hosts used in turn, each again once its incident ended)`);
    const warm = { pipeline: 0 };
    const res = await interleaved(
      ROUNDS,
      10,
      {
        pipeline: async () => {
          if (++warm.pipeline > 10) record = true;
          return pipeline();
        },
        rawTail: () => rawTail.measure(failurePair()),
        bullmq: bull.roundTrip,
        apiCall,
      },
      // A pause per arm keeps the rounds near 4 a second: the first pass over the hosts must not send
      // alerts faster than Telegram's 30 calls/s (that would measure the global pacing, not the path).
      { deadlineMs: 90_000, pauseMs: 50 },
    );
    const sPipe = summarize(res.pipeline!);
    const sTail = summarize(res.rawTail!);
    const sBull = summarize(res.bullmq!);
    const sApi = summarize(res.apiCall!);
    printSeries('line appended → alert accepted (stand-in)', sPipe);
    printSeries('(a) bare ssh2 `tail -F`: append → line', sTail);
    printSeries('(b) bare BullMQ add → completed', sBull);
    printSeries('(c) one Bot API call (the alert\'s sendMessage)', sApi);
    const budget = 1.5 * (sTail.p99 + sBull.p99) + sApi.p99;
    figures.push(atMost(BENCH, 'alert latency p99', sPipe.p99, budget, '1.5 × (raw tail -F p99 + BullMQ p99) + API call p99'));
    reportFigure(figures.at(-1)!);
    const medianBudget = 1.5 * (sTail.median + sBull.median) + sApi.median;
    console.log(`     context (no target): median ${fmt(sPipe.median)} ms against the same formula on medians, ${fmt(medianBudget)} ms`);
    console.log('  where the time goes (measured rounds):');
    printSeries('  append → line in clawmedic (sshd, wrapper, tail -F)', summarize(parts.tail));
    printSeries('  line → notify job queued (follower, machine, tick)', summarize(parts.monitor));
    printSeries('  queued → adapter.deliver (BullMQ, notify worker)', summarize(parts.queue));
    printSeries('  deliver → accepted (TelegramAdapter, HTTP)', summarize(parts.telegram));
    const alertsSent = latHosts.map((h, i) => calls.filter((c) => c.status === 200 && c.method === 'sendMessage' && Number(c.params.chat_id) === latChat(i) && textOf(c).includes('ALERT: ')).length);
    const dup = alertsSent.reduce((a, n, i) => a + Math.max(0, n - cycles[i]!), 0);
    const latTimes = calls.filter((c) => c.status === 200 && Number(c.params.chat_id) > 7_200_000 && Number(c.params.chat_id) < 7_300_000).map((c) => c.at);
    console.log(`  Bot API calls into the alert chats: ${latTimes.length}, most in any 1 s: ${maxInWindow(latTimes, 1000)} (limit ${TELEGRAM_LIMIT_RULE.globalPerSecond}/s)`);
    console.log(`  alert messages: ${alertsSent.reduce((a, b) => a + b, 0)} for ${cycles.reduce((a, b) => a + b, 0)} incidents (${dup} extra)`);

    // ---- bursts: 1 000 matching lines/s for one host
    const burstFirst: number[] = [];
    for (let b = 0; b < BURSTS; b++) {
      const host = burstHosts[b]!;
      const chat = burstChat(b);
      const file = logOf.get(host.name)!;
      console.log(`\n## burst ${b + 1}/${BURSTS}: ${BURST_LINES_PER_SECOND} lines/s (4008/1008 pairs) for ${BURST_SECONDS} s on ${host.name}, alerts to a supergroup`);
      const first = waitCall((c) => c.method === 'sendMessage' && Number(c.params.chat_id) === chat, 30_000, `first alert of ${host.name}`);
      let pairs = 0;
      const lag: number[] = [];
      const start = performance.now();
      const endAt = start + BURST_SECONDS * 1000;
      let firstAt: number | undefined;
      void first.then((f) => (firstAt = f.at)).catch(() => undefined);
      let nextLagSample = start + 200;
      while (performance.now() < endAt) {
        const due = Math.floor(((performance.now() - start) * BURST_LINES_PER_SECOND) / 1000 / 2) + 1;
        if (due > pairs) {
          const lines: string[] = [];
          for (; pairs < due; pairs++) lines.push(...failurePair());
          await appendLines(file, lines);
        }
        if (performance.now() >= nextLagSample) {
          nextLagSample += 200;
          const seen = rig.monitor.incidents().find((x) => x.host === host.name)?.count ?? 0;
          lag.push(((pairs - seen) * 2 * 1000) / BURST_LINES_PER_SECOND);
        }
        await sleep(4);
      }
      const wall = (performance.now() - start) / 1000;
      await first;
      const firstMs = firstAt! - start;
      burstFirst.push(firstMs);
      // The last state reaches the chat with the next allowed edit (at most one per 5 s).
      const doneBy = performance.now() + 20_000;
      let final = '';
      for (;;) {
        const mine = calls.filter((c) => c.status === 200 && Number(c.params.chat_id) === chat);
        final = mine.length ? textOf(mine.at(-1)!) : '';
        if (final.includes(`Count: ${pairs} events`) || performance.now() > doneBy) break;
        await sleep(100);
      }
      const inChat = calls.filter((c) => Number(c.params.chat_id) === chat);
      const sends = inChat.filter((c) => c.status === 200 && c.method === 'sendMessage').length;
      const edits = inChat.filter((c) => c.status === 200 && c.method === 'editMessageText').length;
      const r429 = inChat.filter((c) => c.status === 429).length;
      const times = inChat.filter((c) => c.status === 200).map((c) => c.at);
      const counted = rig.monitor.incidents().find((x) => x.host === host.name)?.count ?? 0;
      console.log(`  appended ${pairs * 2} lines (${fmt((pairs * 2) / wall)} lines/s over ${fmt(wall)} s); monitor counted ${counted} of ${pairs} failures`);
      console.log(`  first alert accepted ${fmt(firstMs)} ms after the first line; chat calls: ${sends} sendMessage, ${edits} editMessageText, ${r429} × 429`);
      console.log(`  most calls into the chat in any 1 s: ${maxInWindow(times, 1000)}, in any 60 s: ${maxInWindow(times, 60_000)} (rule: ${TELEGRAM_LIMIT_RULE.perChatBurst} back to back, then 1/s; ${TELEGRAM_LIMIT_RULE.perGroupPerMinute}/min per group)`);
      console.log(`  last message state shows every failure: ${final.includes(`Count: ${pairs} events`) ? 'yes' : `NO (${/Count: [^\n]*/.exec(final)?.[0] ?? 'no count'})`}`);
      const sLag = summarize(lag);
      console.log(`  monitor behind the log during the burst (200 ms samples): median ${fmt(sLag.median)} ms, p99 ${fmt(sLag.p99)} ms, max ${fmt(sLag.max)} ms`);
      figures.push(exactly(`burst ${b + 1}: alert messages for the incident`, sends, 1, '= 1 (edited in place)', 'messages'));
      reportFigure(figures.at(-1)!);
      figures.push(exactly(`burst ${b + 1}: 429s from the stand-in`, r429, 0, '= 0', '429s'));
      reportFigure(figures.at(-1)!);
      figures.push(exactly(`burst ${b + 1}: failures not counted`, pairs - counted, 0, `= 0 of ${pairs}`, 'lost'));
      reportFigure(figures.at(-1)!);
    }
    const worst = Math.max(...burstFirst);
    figures.push(atMost(BENCH, `burst first alert, worst of ${BURSTS}`, worst, budget, '1.5 × (raw tail -F p99 + BullMQ p99) + API call p99'));
    reportFigure(figures.at(-1)!);
    const r429 = calls.filter((c) => c.status === 429);
    const where = new Map<string, number>();
    for (const c of r429) {
      const k = `${c.method} into ${Number(c.params.chat_id) < 0 ? 'a group' : 'a private chat'}`;
      where.set(k, (where.get(k) ?? 0) + 1);
    }
    if (process.env.BENCH_DEBUG) {
      for (const chat of new Set(r429.map((c) => Number(c.params.chat_id)))) {
        const t00 = calls[0]!.at;
        console.log(`  calls into ${chat}:`);
        for (const c of calls.filter((x) => Number(x.params.chat_id) === chat)) console.log(`    ${c.at - t00} ${c.method} ${c.status} ${textOf(c).slice(0, 50)}`);
      }
    }
    console.log(`\n  429s answered by the stand-in over the whole run: ${r429.length}${r429.length ? ` (${[...where].map(([k, n]) => `${n} × ${k}`).join(', ')})` : ''}`);
  } finally {
    rawTail.close();
    await bull.close();
    await rig.close();
    await adapter.stop();
    await runner.close();
    redis.disconnect();
    await tg.stop();
    await sshd.stop();
    await standin.cleanup();
    await rm(dir, { recursive: true, force: true });
    await cleanupPrefix(prefix);
  }
  return figures;
}

runIfMain(import.meta.url, run);
