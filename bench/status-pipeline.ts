/**
 * Benchmark (issue 2): `/status prod` through console → router → BullMQ → worker → SSH → host
 * stand-in → reply, against its own parts measured in the same run: a raw ssh2 exec of the same
 * status script, a bare BullMQ add→completed round trip and one reply write (Redis PUBLISH →
 * subscriber). Also the cold path (new SSH connection per command) and Nagle on/off for `echo`.
 *
 * Run: npx tsx bench/status-pipeline.ts   (env BENCH_ROUNDS / BENCH_COLD_ROUNDS to change the counts)
 */
import { bareBullmq } from './bare-bullmq.js';
import { Redis } from 'ioredis';
import { startHarness } from '../test/support/app-harness.js';
import { TEST_REDIS_URL, uniquePrefix } from '../test/support/redis.js';
import { SshRunner } from '../src/remote/ssh-runner.js';
import { buildLightProbeScript } from '../src/openclaw/light-probe.js';
import type { HostConfig } from '../src/domain/host.js';
import { wrapRemoteScript } from '../src/remote/remote-wrapper.js';
import { RawSsh } from './raw-ssh.js';
import { atMost, interleaved, runIfMain, printHeader, printSeries, reportFigure, summarize, timeMs, type Figure } from './bench-kit.js';

const BENCH = 'status-pipeline';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 250);
const COLD_ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 60);
const ECHO_ROUNDS = Number(process.env.BENCH_ECHO_ROUNDS ?? 200);


/** One reply write: PUBLISH of a console-sized payload until the subscriber has it (what the console path pays). */
async function replyWrite(): Promise<{ write: () => Promise<number>; close: () => Promise<void> }> {
  const pub = new Redis(TEST_REDIS_URL);
  const sub = new Redis(TEST_REDIS_URL);
  const channel = `${uniquePrefix('bench-pub')}:console:x`;
  await sub.subscribe(channel);
  let waiting: (() => void) | undefined;
  sub.on('message', () => waiting?.());
  const payload = JSON.stringify({ chat: { platform: 'console', chatId: 'local-1' }, messageKey: 'job:1', seq: 2, reply: { title: 'prod: OK', tone: 'ok', fields: [{ name: 'prod', value: 'x'.repeat(200) }] } });
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

/** Run the benchmark; returns the headline figures. */
export async function run(): Promise<Figure[]> {
  printHeader('status pipeline: /status prod via console → router → BullMQ → worker → SSH → stand-in → reply');
  // Our own runner (same defaults as the app's), so the cold rounds can close its connections.
  const runner = new SshRunner({ connectTimeoutMs: 10_000, defaultMaxOutputBytes: 1_000_000 });
  // Hundreds of /status a minute from one person: lift the per-person limits (their own checks are tests).
  const h = await startHarness({ app: { runner }, extra: { limits: { perPerson: 1000, perChat: 10_000 } } });
  const figures: Figure[] = [];
  const bull = await bareBullmq();
  const pub = await replyWrite();
  const host: HostConfig = h.loaded.hosts.find((x) => x.name === 'prod')!;
  // What /status runs on a healthy host: the light probe (ss + GET /healthz + /proc), one exec.
  const script = buildLightProbeScript(host);
  const con = h.app.console!;
  try {
    // Where the time goes inside the pipeline: the router's answer, the worker's SSH call, the rest.
    const parts = { router: [] as number[], ssh: [] as number[], rest: [] as number[], record: false };
    const ops = h.app.ops;
    const opsStatus = ops.status.bind(ops);
    let sshMs = 0;
    ops.status = async (x) => {
      const t0 = performance.now();
      try {
        return await opsStatus(x);
      } finally {
        sshMs = performance.now() - t0;
      }
    };
    const status = () =>
      timeMs(async () => {
        const t0 = performance.now();
        const first = await con.input('/status prod');
        const routed = performance.now() - t0;
        const final = await con.waitFor(first.messageKey!, 30_000);
        if (final.title !== 'prod: OK') throw new Error(`unexpected status reply: ${final.title}`);
        if (parts.record) {
          const total = performance.now() - t0;
          parts.router.push(routed);
          parts.ssh.push(sshMs);
          parts.rest.push(total - routed - sshMs);
        }
      });
    const raw = await RawSsh.connect(host);
    const rawStatus = () =>
      timeMs(async () => {
        const r = await raw.exec(script);
        if (!r.stdout.includes('"status":"live"')) throw new Error('raw light probe got no /healthz answer');
      });

    // --- warm: every arm on an open connection / idle queue, interleaved round by round.
    console.log(`\n## warm (${ROUNDS} rounds, 30 warm-up, arms interleaved)`);
    parts.record = true;
    const wrapped = wrapRemoteScript(script, 62);
    const warm = await interleaved(
      ROUNDS,
      30,
      {
        pipeline: status,
        rawSsh: rawStatus,
        // Context only: the same script inside the runner's kill-on-disconnect wrapper (what SshRunner sends).
        rawWrapped: () => timeMs(() => raw.exec(wrapped)),
        bullmq: bull.roundTrip,
        publish: pub.write,
      },
      { deadlineMs: 22_000 },
    );
    const sPipe = summarize(warm.pipeline!);
    const sRaw = summarize(warm.rawSsh!);
    const sBull = summarize(warm.bullmq!);
    const sPub = summarize(warm.publish!);
    printSeries('/status prod end to end (console)', sPipe);
    printSeries('(a) raw ssh2 exec of buildLightProbeScript, warm', sRaw);
    printSeries('    context: the same, inside the runner wrapper', summarize(warm.rawWrapped!));
    printSeries('(b) bare BullMQ add → completed (QueueEvents)', sBull);
    printSeries('one reply write (PUBLISH → subscriber)', sPub);
    const limit = 1.2 * (sRaw.p99 + sBull.p99) + sPub.p99;
    figures.push(atMost(BENCH, '/status warm p99', sPipe.p99, limit, '1.2 × (raw ssh p99 + BullMQ p99) + reply write p99'));
    reportFigure(figures[figures.length - 1]!);
    parts.record = false;
    console.log(`     overhead over raw ssh: median ${(sPipe.median - sRaw.median).toFixed(1)} ms, p99 ${(sPipe.p99 - sRaw.p99).toFixed(1)} ms`);
    console.log('  where the pipeline time goes (warm-up rounds included):');
    printSeries('  router: command → "Checking…" reply', summarize(parts.router));
    printSeries('  worker: ops.status (SshRunner exec + parse)', summarize(parts.ssh));
    printSeries('  rest: BullMQ pickup, audit, notify, PUBLISH', summarize(parts.rest));

    // --- cold: the runner has no connection when the command arrives.
    console.log(`\n## cold (${COLD_ROUNDS} rounds, 5 warm-up): runner.close() before each /status; raw = connect + exec + close`);
    const cold = await interleaved(
      COLD_ROUNDS,
      5,
      {
        pipeline: async () => {
          await runner.close();
          return status();
        },
        rawConnectExec: () =>
          timeMs(async () => {
            const c = await RawSsh.connect(host);
            await c.exec(script);
            await c.close();
          }),
        bullmq: bull.roundTrip,
      },
      { deadlineMs: 12_000 },
    );
    const cPipe = summarize(cold.pipeline!);
    const cRaw = summarize(cold.rawConnectExec!);
    const cBull = summarize(cold.bullmq!);
    printSeries('/status prod, cold connection (console)', cPipe);
    printSeries('raw ssh2 connect + exec (+ close)', cRaw);
    printSeries('bare BullMQ add → completed', cBull);
    const coldLimit = 1.2 * (cRaw.p99 + cBull.p99);
    figures.push(atMost(BENCH, '/status cold p99', cPipe.p99, coldLimit, '1.2 × (raw connect+exec p99 + BullMQ p99)'));
    reportFigure(figures[figures.length - 1]!);

    // --- Nagle: `echo` on warm connections with TCP_NODELAY on and off. A stall needs a command to follow the
    // previous one on the same connection while the server still delays its ACK, so each arm runs bursts of
    // back-to-back commands (as a busy worker does), on a connection of its own per burst; arms alternate by burst.
    const CONNS = 4;
    const BURST = Math.max(1, Math.round(ECHO_ROUNDS / CONNS));
    console.log(`\n## warm \`echo\` exec, Nagle off vs on (${CONNS} bursts × ${BURST} back-to-back commands per arm, 3 warm-up per burst)`);
    const rawOn = await Promise.all(Array.from({ length: CONNS }, () => RawSsh.connect(host)));
    const rawOff = await Promise.all(Array.from({ length: CONNS }, () => RawSsh.connect(host, { noDelay: false })));
    const runOn = Array.from({ length: CONNS }, () => new SshRunner({}));
    const runOff = Array.from({ length: CONNS }, () => new SshRunner({ noDelay: false }));
    const arms: Record<string, (i: number) => Promise<unknown>> = {
      'raw ssh2, noDelay true': (i) => rawOn[i]!.exec('echo ok'),
      'raw ssh2, noDelay false (Nagle on)': (i) => rawOff[i]!.exec('echo ok'),
      'raw ssh2 + runner wrapper, noDelay true': (i) => rawOn[i]!.exec(wrapRemoteScript('echo ok', 12)),
      'SshRunner, noDelay true (default)': (i) => runOn[i]!.exec(host, 'echo ok', { timeoutMs: 10_000 }),
      'SshRunner, noDelay false': (i) => runOff[i]!.exec(host, 'echo ok', { timeoutMs: 10_000 }),
    };
    const echo = new Map<string, number[]>(Object.keys(arms).map((n) => [n, []]));
    const perConn = new Map<string, number[]>();
    for (let i = 0; i < CONNS; i++) {
      for (const [name, fn] of Object.entries(arms)) {
        for (let w = 0; w < 3; w++) await fn(i);
        const xs: number[] = [];
        for (let j = 0; j < BURST; j++) xs.push(await timeMs(() => fn(i)));
        echo.get(name)!.push(...xs);
        perConn.set(`${name}#${i}`, xs);
      }
    }
    for (const name of Object.keys(arms)) {
      printSeries(`\`echo ok\` ${name}`, summarize(echo.get(name)!));
      const medians = Array.from({ length: CONNS }, (_, i) => summarize(perConn.get(`${name}#${i}`)!).median);
      console.log(`     median per connection: ${medians.map((m) => `${m.toFixed(1)} ms`).join(', ')}`);
    }
    const eT = summarize(echo.get('raw ssh2, noDelay true')!);
    const eF = summarize(echo.get('raw ssh2, noDelay false (Nagle on)')!);
    const rT = summarize(echo.get('SshRunner, noDelay true (default)')!);
    const rF = summarize(echo.get('SshRunner, noDelay false')!);
    console.log(`     Nagle on costs ${(eF.median - eT.median).toFixed(1)} ms per raw echo and ${(rF.median - rT.median).toFixed(1)} ms per SshRunner echo at the median`);
    await Promise.all([...rawOn, ...rawOff].map((c) => c.close()));
    await Promise.all([...runOn, ...runOff].map((r) => r.close()));
    await raw.close();
  } finally {
    await pub.close();
    await bull.close();
    await h.close();
    await runner.close();
  }
  return figures;
}

runIfMain(import.meta.url, run);
