/**
 * Benchmark (issue 3): one diagnose pass on one host (`app.ops.diagnose(host)`: one SSH exec of the
 * evidence script + parsing + rules) against the sum of the evidence script's raw commands run one
 * by one over one warm ssh2 connection, in the same run. Also prints where a pass spends its time.
 *
 * Run: npx tsx bench/diagnose-pass.ts   (env BENCH_ROUNDS to change the count)
 */
import path from 'node:path';
import { startHarness } from '../test/support/app-harness.js';
import { buildEvidenceScript, parseEvidence } from '../src/openclaw/evidence.js';
import { diagnose } from '../src/openclaw/diagnose.js';
import { LOG_FILTER_ERE, SED_REDACT_TOKENS, openclawCmd, supervisorCmd } from '../src/openclaw/templates.js';
import { shellQuote } from '../src/util/shell-quote.js';
import type { HostConfig } from '../src/domain/host.js';
import { RawSsh } from './raw-ssh.js';
import { atMost, interleaved, runIfMain, printHeader, printSeries, reportFigure, summarize, timeMs, type Figure } from './bench-kit.js';

const BENCH = 'diagnose-pass';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 150);

/**
 * The evidence script's commands as separate commands, in its order, as they run on this host
 * (native install, systemd user unit, file log found through `gateway status --json`).
 */
function rawCommands(host: HostConfig, stateDir: string, kernelFallback: boolean): Array<[string, string]> {
  const script = buildEvidenceScript(host);
  // The gateway hello and the config reader are node one-liners inside the script: reuse them exactly as quoted there.
  const nodeCalls = [...script.matchAll(/(node -e '(?:[^']|'\\'')*')( -- [^ ]+ \d+ [^ ]+)?/g)];
  const helloCall = nodeCalls.find((m) => m[2])?.[0];
  const nodeCall = nodeCalls.find((m) => !m[2])?.[1];
  if (!nodeCall || !helloCall) throw new Error('no node -e gateway hello or config reader in the evidence script');
  const port = host.gateway.port;
  const filter = shellQuote(LOG_FILTER_ERE);
  const unit = host.supervisor.kind === 'systemd-user' ? host.supervisor.unit : 'openclaw-gateway.service';
  const cmds: Array<[string, string]> = [
    ['date', 'date -u +%Y-%m-%dT%H:%M:%SZ'],
    // Where `openclaw --version`, `gateway status --json` and `health --json` ran before issue 11.
    ['node -e <gateway hello>', `${helloCall} </dev/null 2>&1`],
    ['ss -tlnp | grep', `ss -tlnp 2>&1 | grep -E ${shellQuote(`^State|:${port}[[:space:]]`)}`],
    ['sudo -n ss -tlnp', 'sudo -n ss -tlnp 2>&1 | tail -n 1'],
    ['free -m', 'free -m 2>&1'],
    ['journalctl -k', "journalctl -k --no-pager -o short-iso --since='2 hours ago' 2>&1 | grep -iE 'killed process|out of memory' | tail -n 50"],
  ];
  if (kernelFallback) cmds.push(['dmesg', "dmesg --time-format iso 2>&1 | grep -iE 'killed process|out of memory' | tail -n 50"]);
  cmds.push(
    ['systemctl --user show', `${supervisorCmd(host, 'status')} 2>&1 | ${SED_REDACT_TOKENS}`],
    ['node -e <config reader>', `${nodeCall} ${shellQuote(path.join(stateDir, 'openclaw.json'))} 2>&1`],
    ['tail log | grep | tail', `tail -n 20000 ${shellQuote(path.join(stateDir, 'openclaw.log'))} | grep -E ${filter} | tail -n 2000`],
    [
      'journalctl --user -u | grep | tail',
      `XDG_RUNTIME_DIR="\${XDG_RUNTIME_DIR:-/run/user/$(id -u)}" journalctl --user -u ${shellQuote(unit)} --since='2 hours ago' -o short-iso --no-pager -q 2>&1 | grep -E ${filter} | tail -n 2000`,
    ],
  );
  return cmds;
}

/** Run the benchmark; returns the headline figures. */
export async function run(): Promise<Figure[]> {
  printHeader('diagnose pass: ops.diagnose(prod) vs the evidence commands one by one over one warm connection');
  // Latency off: this figure compares the evidence pass with the same commands run one by one, and
  // replayed CLI sleeps (~20 s a pass) would be nearly all of both arms. The real-CLI cost of /diagnose
  // is issue 11's diagnose target (CLAWMEDIC_STANDIN_LATENCY does not change this bench).
  const h = await startHarness({ standinLatency: 0 });
  const figures: Figure[] = [];
  try {
    // A host with a client looping on a stale token: a real-sized log and a non-trivial verdict.
    await h.standin.setScenario('token_mismatch');
    const host = h.loaded.hosts.find((x) => x.name === 'prod')!;
    const raw = await RawSsh.connect(host);
    const probe = await raw.exec("journalctl -k --no-pager -o short-iso --since='2 hours ago' 2>&1");
    const cmds = rawCommands(host, h.standin.stateDir, probe.code !== 0 || probe.stdout.includes('No journal files'));
    for (const [name, cmd] of cmds) {
      const r = await raw.exec(cmd);
      if (name.startsWith('openclaw gateway status') && !r.stdout.includes('"rpc"')) throw new Error(`raw ${name} failed: ${r.stdout}${r.stderr}`);
    }
    const perCommand = new Map<string, number[]>(cmds.map(([n]) => [n, []]));
    let lastVerdict = '';

    console.log(`\n## ${ROUNDS} rounds, 5 warm-up, arms interleaved; stand-in scenario token_mismatch`);
    const res = await interleaved(
      ROUNDS,
      5,
      {
        diagnose: async () => {
          // Every `gateway status` makes the stand-in's looping client log two more ~1.4 KB lines; start each
          // round from the same log (46 lines, 50 KB) so rounds compare (untimed).
          await h.standin.setScenario('token_mismatch');
          return timeMs(async () => {
            const v = await h.app.ops.diagnose(host);
            lastVerdict = v.findings[0]?.cause ?? 'none';
            if (lastVerdict !== 'token_mismatch') throw new Error(`diagnose said ${lastVerdict}, expected token_mismatch`);
          });
        },
        rawSum: async () => {
          let total = 0;
          for (const [name, cmd] of cmds) {
            const ms = await timeMs(() => raw.exec(cmd));
            perCommand.get(name)!.push(ms);
            total += ms;
          }
          return total;
        },
      },
      { deadlineMs: 40_000 },
    );
    // The same script in one exec on the raw connection: transport + host time without parsing.
    const script = buildEvidenceScript(host);
    const scriptMs: number[] = [];
    for (let i = 0; i < 20; i++) scriptMs.push(await timeMs(() => raw.exec(script)));
    const sDiag = summarize(res.diagnose!);
    const sSum = summarize(res.rawSum!);
    const sScript = summarize(scriptMs);
    printSeries('ops.diagnose(prod) (one exec + parse + rules)', sDiag);
    printSeries(`sum of ${cmds.length} raw commands, one by one`, sSum);
    printSeries('raw ssh2 exec of the whole evidence script', sScript);
    console.log(`     verdict: ${lastVerdict}`);
    figures.push(atMost(BENCH, 'diagnose pass p99', sDiag.p99, 1.2 * sSum.p99, '1.2 × sum-of-raw-commands p99'));
    reportFigure(figures[figures.length - 1]!);
    const medianFig = atMost(BENCH, 'diagnose pass median', sDiag.median, 1.2 * sSum.median, '1.2 × sum-of-raw-commands median');
    figures.push(medianFig);
    reportFigure(medianFig);

    console.log('\n## where a pass spends its time (raw commands, median per command)');
    const rows = [...perCommand].map(([n, xs]) => [n, summarize(xs).median] as const).sort((a, b) => b[1] - a[1]);
    for (const [n, ms] of rows) console.log(`  ${n.padEnd(40)} ${ms.toFixed(1).padStart(7)} ms`);
    // Host-side parsing cost alone, on the output of one pass.
    const out = (await raw.exec(buildEvidenceScript(host))).stdout;
    const parseMs: number[] = [];
    for (let i = 0; i < 200; i++) parseMs.push(await timeMs(async () => void diagnose(host, parseEvidence(out))));
    printSeries(`parseEvidence + diagnose on ${(out.length / 1024).toFixed(0)} KiB of output`, summarize(parseMs));
    await raw.close();
  } finally {
    await h.close();
  }
  return figures;
}

runIfMain(import.meta.url, run);
