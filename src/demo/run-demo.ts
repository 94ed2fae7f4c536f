/**
 * `clawmedic demo`: a simulated OpenClaw host on loopback (a real sshd with throw-away keys
 * and the host stand-in that replays real OpenClaw 2026.9.6 output), real Redis, and the
 * console — so a newcomer sees /status → /diagnose → /fix work with nothing configured.
 * The simulated host (src/standin/) is the one the test suites use on purpose: the demo shows
 * exactly what is tested.
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { parseConfigText, type LoadedConfig } from '../config/load-config.js';
import type { HostConfig } from '../domain/host.js';
import { createApp } from '../main.js';
import { createStandin, SCENARIOS } from '../standin/host-standin.js';
import { hostConfigFor, startSshd } from '../standin/sshd.js';
import { createLogger } from '../util/logger.js';
import { redact } from '../util/redact.js';

const SCENARIO_HINT =
  'Scenarios: healthy, gateway_down, stale_client, token_rotated, token_override, port_conflict, plugin_failure, oom, crash_loop, mode_unset, rate_limited';

/** Run the demo until stdin closes. `scenario` picks the simulated host's starting state. */
export async function runDemo(scenario = process.env.DEMO_SCENARIO ?? 'stale_client'): Promise<void> {
  if (!(SCENARIOS as readonly string[]).includes(scenario)) throw new Error(`unknown DEMO_SCENARIO "${scenario}". ${SCENARIO_HINT}`);
  const standin = await createStandin();
  await standin.setScenario(scenario as (typeof SCENARIOS)[number]);
  const sshd = await startSshd({ binDir: standin.binDir, env: standin.env });
  const host: HostConfig = hostConfigFor(sshd, { name: 'demo', supervisor: { kind: 'systemd-user', unit: 'openclaw-gateway.service' } });
  const config = parseConfigText(
    stringify({
      hosts: [host],
      people: [{ platform: 'console', userId: 'local', role: 'admin' }],
      redis: { keyPrefix: 'clawmedic-demo' },
      fix: { verifyWindowSec: 2 },
    }),
    'demo.yaml',
  );
  const loaded: LoadedConfig = {
    file: 'demo.yaml',
    config,
    hosts: config.hosts as HostConfig[],
    // The demo is one process that signs and runs its own jobs: a key made for this run is enough.
    secrets: { redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', sshPrivateKey: sshd.privateKey, jobKey: randomBytes(32).toString('hex') },
  };
  const app = await createApp(loaded, { workers: true, adapters: ['console'], http: false, redisWaitMs: 10_000, logger: createLogger('warn'), verifyWindowSec: 2 });
  const con = app.console!;
  process.stdout.write(
    [
      `clawmedic demo — simulated OpenClaw host "demo" (sshd on 127.0.0.1:${sshd.port}, pinned key ${sshd.hostKeyFingerprint})`,
      `Its state now: ${scenario}. Try: /status demo   /diagnose demo   /fix demo   /history demo   /help`,
      'Type the number of a button to press it. Ctrl-D quits.',
      `(${SCENARIO_HINT}; start with DEMO_SCENARIO=<name> npm start)`,
      '',
    ].join('\n'),
  );
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'clawmedic> ' });
  rl.prompt();
  for await (const line of rl) {
    if (line.trim()) await con.input(line).catch((err: unknown) => process.stdout.write(`error: ${redact(String(err))}\n`));
    rl.prompt();
  }
  // Let in-flight replies arrive before tearing down.
  await new Promise((r) => setTimeout(r, 300));
  await app.close();
  await sshd.stop();
  await standin.cleanup();
}
