/**
 * Benchmark (issue 11 item 1): the light probe behind /status and every monitor probe.
 *
 * 1. `/status prod` end to end (console → router → BullMQ → worker → SSH → stand-in → reply) on a warm
 *    connection, against 1.5 × (raw ssh2 exec p99 of `curl -s http://127.0.0.1:<port>/healthz` + raw
 *    exec p99 of `ss -tlnp`) + one reply write p99, all measured in this run, rounds interleaved.
 *    The stand-in replays the real CLI's wall time (CLAWMEDIC_STANDIN_LATENCY, 1 by default here:
 *    `gateway status --json` 3.6 s), so a probe that still called the CLI would show it. For context, a
 *    few rounds of the CLI fallback (/healthz answering 404) show what every /status cost before.
 * 2. One probe's cost on the host: CPU time (user + sys) and peak RSS of the processes the probe script
 *    starts, from `/usr/bin/time -f` around `sh -c <script>` (getrusage of the whole reaped tree; the
 *    RSS is the largest single process, ru_maxrss). Measured (a) over SSH on the stand-in host (its
 *    gateway is a real listener, its ss the real one) and (b) on this machine against a local
 *    listener answering like the gateway's /healthz, run by bash (the fast path: /proc + /dev/tcp), with the
 *    owner hint every probe after the first has, and without it (the first probe: ss -tlnp). /usr/bin/time
 *    reports CPU in 10 ms steps. Targets: ≤ 50 ms CPU, ≤ 20 MB. The real CLI:
 *    4 100 ms and 296 MB per call (shared/openclaw-ops.md).
 *
 * Run: npx tsx bench/status-probe.ts   (env BENCH_ROUNDS, BENCH_COST_ROUNDS, CLAWMEDIC_STANDIN_LATENCY)
 */
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { Redis } from 'ioredis';
import type { HostConfig } from '../src/domain/host.js';
import { buildLightProbeScript, parseLightProbe } from '../src/openclaw/light-probe.js';
import { shellQuote } from '../src/util/shell-quote.js';
import { startHarness } from '../test/support/app-harness.js';
import { freePort } from '../src/standin/free-port.js';
import { TEST_REDIS_URL, uniquePrefix } from '../test/support/redis.js';
import { atMost, benchStandinLatency, fmt, interleaved, printHeader, printSeries, reportFigure, runIfMain, summarize, timeMs, type Figure } from './bench-kit.js';
import { RawSsh } from './raw-ssh.js';

const BENCH = 'status-probe';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const COST_ROUNDS = Number(process.env.BENCH_COST_ROUNDS ?? 60);
const CLI_ROUNDS = 3;
const TIME_BIN = '/usr/bin/time';

/** One reply write: PUBLISH of a console-sized payload until the subscriber has it (as status-pipeline). */
async function replyWrite(): Promise<{ write: () => Promise<number>; close: () => Promise<void> }> {
  const pub = new Redis(TEST_REDIS_URL);
  const sub = new Redis(TEST_REDIS_URL);
  const channel = `${uniquePrefix('bench-pub')}:console:x`;
  await sub.subscribe(channel);
  let waiting: (() => void) | undefined;
  sub.on('message', () => waiting?.());
  const payload = JSON.stringify({ chat: { platform: 'console', chatId: 'local-1' }, messageKey: 'job:1', seq: 2, reply: { title: 'prod: OK', tone: 'ok', body: ['x'.repeat(160)] } });
  return {
    write: () =>
      timeMs(async () => {
        const got = new Promise<void>((r) => (waiting = r));
        await pub.publish(channel, payload);
        await got;
      }),
    async close() {
      sub.disconnect();
      pub.disconnect();
    },
  };
}

/** `/usr/bin/time -f` line: "@@COST <user s> <sys s> <max RSS KiB>". */
const COST_MARK = '@@COST';
function parseCost(text: string): { cpuMs: number; rssMb: number } {
  const m = new RegExp(`${COST_MARK} ([\\d.]+) ([\\d.]+) (\\d+)`).exec(text);
  if (!m) throw new Error(`no ${COST_MARK} line in: ${text.slice(-300)}`);
  return { cpuMs: (Number(m[1]) + Number(m[2])) * 1000, rssMb: Number(m[3]) / 1024 };
}
/** The probe script under /usr/bin/time; the script's own output is dropped, time's goes to a temp file then stdout. */
function timedScript(script: string): string {
  return [
    '_cm_t=$(mktemp)',
    `${TIME_BIN} -o "$_cm_t" -f ${shellQuote(`${COST_MARK} %U %S %M`)} sh -c ${shellQuote(script)} >/dev/null 2>&1`,
    'cat "$_cm_t"; rm -f "$_cm_t"',
  ].join('; ');
}

/** Run the benchmark; returns the headline figures. */
export async function run(): Promise<Figure[]> {
  printHeader('status probe: /status prod with the light probe, and one probe\'s cost on the host');
  const latency = benchStandinLatency();
  console.log(`  stand-in replays the real CLI's wall times × ${latency} (gateway status --json ${fmt(3.6 * latency)} s)`);
  // One person sends hundreds of /status a minute here: lift the per-person limits (their own checks are tests).
  const h = await startHarness({ standinLatency: latency, extra: { limits: { perPerson: 1000, perChat: 10_000 } } });
  const figures: Figure[] = [];
  const pub = await replyWrite();
  const host: HostConfig = h.loaded.hosts.find((x) => x.name === 'prod')!;
  const port = host.gateway.port;
  const con = h.app.console!;
  const raw = await RawSsh.connect(host);
  try {
    await h.standin.setScenario('healthy');
    let probeUsed = '';
    const status = () =>
      timeMs(async () => {
        const first = await con.input('/status prod');
        if (!first.messageKey) throw new Error(`/status was not queued: ${first.reply.title}`);
        const final = await con.waitFor(first.messageKey!, 60_000);
        if (final.title !== 'prod: OK') throw new Error(`unexpected status reply: ${final.title}`);
        probeUsed = /probe: ([^·]+)/.exec(final.body?.[0] ?? '')?.[1]?.trim() ?? '?';
      });
    const rawCurl = () =>
      timeMs(async () => {
        const r = await raw.exec(`curl -s http://127.0.0.1:${port}/healthz`);
        if (!r.stdout.includes('"status":"live"')) throw new Error(`raw curl: ${r.stdout.slice(0, 80)}`);
      });
    const rawSs = () =>
      timeMs(async () => {
        const r = await raw.exec('ss -tlnp');
        if (!r.stdout.includes(`:${port}`)) throw new Error('raw ss: no listener on the gateway port');
      });

    console.log(`\n## /status prod, warm (${ROUNDS} rounds, 20 warm-up, arms interleaved)`);
    const warm = await interleaved(ROUNDS, 20, { status, rawCurl, rawSs, publish: pub.write }, { deadlineMs: 60_000 });
    const sStatus = summarize(warm.status!);
    const sCurl = summarize(warm.rawCurl!);
    const sSs = summarize(warm.rawSs!);
    const sPub = summarize(warm.publish!);
    printSeries(`/status prod end to end (console), probe: ${probeUsed}`, sStatus);
    printSeries(`raw ssh2 exec: curl -s http://127.0.0.1:${port}/healthz`, sCurl);
    printSeries('raw ssh2 exec: ss -tlnp', sSs);
    printSeries('one reply write (PUBLISH → subscriber)', sPub);
    const limit = 1.5 * (sCurl.p99 + sSs.p99) + sPub.p99;
    figures.push(atMost(BENCH, '/status warm p99 (light probe)', sStatus.p99, limit, '1.5 × (raw curl /healthz p99 + raw ss p99) + reply write p99'));
    reportFigure(figures[figures.length - 1]!);

    // Context: the CLI fallback, what every /status and probe ran before (with the replayed CLI time).
    await h.standin.setHealthzMode('404');
    const cli: number[] = [];
    for (let i = 0; i < CLI_ROUNDS; i++) cli.push(await timeMs(() => h.app.ops.status(host)));
    await h.standin.setHealthzMode(undefined);
    printSeries(`context: ops.status via the CLI fallback (${CLI_ROUNDS} rounds)`, summarize(cli));

    // --- One probe's cost on the host.
    const haveTime = spawnSync('sh', ['-c', `[ -x ${TIME_BIN} ]`]).status === 0;
    if (!haveTime) {
      console.log(`\n## probe cost: ${TIME_BIN} is missing on this machine, skipped`);
      return figures;
    }
    const script = buildLightProbeScript(host);
    console.log(`\n## one probe's cost on the host (${COST_ROUNDS} rounds each): ${TIME_BIN} around sh -c <light probe script>`);
    const viaSsh: Array<{ cpuMs: number; rssMb: number }> = [];
    for (let i = 0; i < COST_ROUNDS + 3; i++) {
      const r = await raw.exec(timedScript(script));
      if (i >= 3) viaSsh.push(parseCost(r.stdout));
    }
    printSeries('(a) stand-in host over SSH: CPU (user+sys)', summarize(viaSsh.map((c) => c.cpuMs)));
    printSeries('(a) stand-in host over SSH: peak RSS of one process', summarize(viaSsh.map((c) => c.rssMb)), 'MB');

    // (b) The real tools on this machine against a listener that answers like the gateway.
    const lport = await freePort();
    const srv = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/healthz' ? '{"ok":true,"status":"live"}' : '{}');
    });
    await new Promise<void>((r) => srv.listen(lport, '127.0.0.1', r));
    const local: Array<{ cpuMs: number; rssMb: number }> = [];
    const localFirst: Array<{ cpuMs: number; rssMb: number }> = [];
    const sh = (cmd: string) =>
      new Promise<string>((resolve, reject) => {
        const c = spawn('sh', ['-c', cmd]);
        let o = '';
        c.stdout.on('data', (d: Buffer) => (o += d.toString()));
        c.on('error', reject);
        c.on('close', () => resolve(o));
      });
    try {
      // As a bash login shell runs it (the fast path). The first probe of a host has no owner hint (ss -p runs);
      // every later one checks the fds the previous one found.
      const lhost = { ...host, gateway: { port: lport } };
      const first = buildLightProbeScript(lhost);
      const learned = parseLightProbe(await sh(first), lport).listeners?.find((l) => l.pid === process.pid && l.fd !== undefined);
      if (!learned) throw new Error('the probe did not find this process as the owner of the local listener');
      const steady = buildLightProbeScript(lhost, { hint: { pid: process.pid, fds: [learned.fd!] } });
      const bashTimed = (script: string) => timedScript(`exec bash -c ${shellQuote(script)}`);
      for (let i = 0; i < COST_ROUNDS + 3; i++) {
        const a = parseCost(await sh(bashTimed(steady)));
        const b = parseCost(await sh(bashTimed(first)));
        if (i >= 3) {
          local.push(a);
          localFirst.push(b);
        }
      }
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
    const lCpu = summarize(local.map((c) => c.cpuMs));
    const lRss = summarize(local.map((c) => c.rssMb));
    printSeries('(b) real bash + /proc on this machine, owner hint (every probe but the first): CPU (user+sys)', lCpu);
    printSeries('(b) same: peak RSS of one process', lRss, 'MB');
    printSeries('(b) first probe of a host (no hint: ss -tlnp names the owner): CPU (user+sys)', summarize(localFirst.map((c) => c.cpuMs)));
    const aCpu = summarize(viaSsh.map((c) => c.cpuMs));
    const aRss = summarize(viaSsh.map((c) => c.rssMb));
    figures.push(atMost(BENCH, 'one probe, host CPU p99 (real tools, steady state)', lCpu.p99, 50, '≤ 50 ms (the CLI: 4 100 ms)'));
    reportFigure(figures[figures.length - 1]!);
    figures.push(atMost(BENCH, 'one probe, peak RSS max (real tools)', lRss.max, 20, '≤ 20 MB (the CLI: 296 MB)', 'MB'));
    reportFigure(figures[figures.length - 1]!);
    figures.push(atMost(BENCH, 'one probe, host CPU p99 (stand-in over SSH)', aCpu.p99, 50, '≤ 50 ms'));
    reportFigure(figures[figures.length - 1]!);
    figures.push(atMost(BENCH, 'one probe, peak RSS max (stand-in over SSH)', aRss.max, 20, '≤ 20 MB', 'MB'));
    reportFigure(figures[figures.length - 1]!);
  } finally {
    await raw.close();
    await pub.close();
    await h.close();
  }
  return figures;
}

runIfMain(import.meta.url, run);
