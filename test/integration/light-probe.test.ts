/**
 * The light probe behind /status and the monitor (ss + GET /healthz + /proc, CLI only as a fallback)
 * over a real sshd against the host stand-in: what it says for each fault, which probe answered,
 * what ran on the host, and that a hung HTTP client never holds it past its deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostConfig } from '../../src/domain/host.js';
import type { Reply } from '../../src/domain/types.js';
import { probeFamily } from '../../src/jobs/probe.js';
import { startHarness, type Harness } from '../support/app-harness.js';

let h: Harness;
let prod: HostConfig;

beforeAll(async () => {
  h = await startHarness();
  prod = h.loaded.hosts.find((x) => x.name === 'prod')!;
}, 60_000);
afterAll(async () => h?.close());

async function status(): Promise<Reply> {
  const con = h.app.console!;
  const first = await con.input('/status prod');
  return con.waitFor(first.messageKey!, 60_000);
}
const ran = async () => (await h.standin.calls()).map((argv) => argv.join(' '));
const cliCalls = async () => (await ran()).filter((c) => c.startsWith('openclaw'));

describe('light probe over SSH', () => {
  it('healthy: /healthz answers, with the gateway RSS and host memory; no CLI even when the CLI is as slow as on a real host', async () => {
    await h.standin.setScenario('healthy');
    await h.standin.setLatency(1); // the stand-in's `openclaw gateway status --json` now takes 3.6 s, `--version` 0.5 s
    try {
      await h.standin.clearCalls();
      const t0 = Date.now();
      const s = await h.app.ops.status(prod);
      const ms = Date.now() - t0;
      expect(s).toMatchObject({ reachable: true, probeOk: true, probe: 'healthz', listening: `127.0.0.1:${prod.gateway.port}`, version: '2026.9.6' });
      expect(s.fallbackReason).toBeUndefined();
      // VmRSS of the real process the stand-in names on the port.
      expect(s.gatewayRssMb).toBeGreaterThan(0);
      expect(s.memoryUsedPct).toBeGreaterThan(0);
      // Less than the replayed `gateway status --json` alone (3.6 s); ~30 ms on an idle machine.
      expect(ms).toBeLessThan(3500);
      expect(await cliCalls()).toEqual([]);
      expect(probeFamily(s)).toBeUndefined();
    } finally {
      await h.standin.setLatency(0);
    }
  });

  it('a gateway that answers /healthz but refuses the config token: the probe says up (token problems come from the log follower / diagnose)', async () => {
    await h.standin.setScenario('token_override');
    await h.standin.clearCalls();
    const s = await h.app.ops.status(prod);
    expect(s).toMatchObject({ probeOk: true, probe: 'healthz' });
    expect(probeFamily(s)).toBeUndefined();
    expect(await cliCalls()).toEqual([]);
  });

  it('another program holds the port and answers HTTP 200: a port conflict naming it, not healthy, and not its page', async () => {
    await h.standin.setScenario('port_conflict');
    await h.standin.clearCalls();
    const s = await h.app.ops.status(prod);
    const owner = (await h.standin.state()).owner_pid;
    expect(s).toMatchObject({ probeOk: false, probe: 'healthz', portConflict: true });
    expect(s.probeError).toBe(`port ${prod.gateway.port} answered HTTP 200 but not as an OpenClaw gateway: it is held by python3 (pid ${owner}), not by the OpenClaw gateway`);
    expect(s.gatewayRssMb).toBeUndefined();
    expect(probeFamily(s)).toBe('port_conflict');
    expect(await cliCalls()).toEqual([]);
    const reply = await status();
    expect(reply.title).toBe('prod: PORT TAKEN BY ANOTHER PROGRAM');
    const text = JSON.stringify(reply);
    expect(text).not.toMatch(/Directory listing|<html|DOCTYPE/i);
    expect(reply.body?.[0]).toContain('held by python3');
  });

  it('gateway down: nothing listens, connection refused → down from the light probe alone', async () => {
    await h.standin.setScenario('gateway_down');
    await h.standin.clearCalls();
    const s = await h.app.ops.status(prod);
    expect(s).toMatchObject({ probeOk: false, probe: 'healthz' });
    expect(s.probeError).toContain(`ECONNREFUSED 127.0.0.1:${prod.gateway.port}`);
    expect(s.listening).toBeUndefined();
    expect(probeFamily(s)).toBe('gateway_down');
    expect(await cliCalls()).toEqual([]);
  });

  it('/healthz answers 404: the CLI answers instead, and the status says which probe and why', async () => {
    await h.standin.setScenario('healthy');
    await h.standin.setHealthzMode('404');
    await h.standin.clearCalls();
    const s = await h.app.ops.status(prod);
    expect(s).toMatchObject({ probeOk: true, probe: 'cli', version: '2026.9.6' });
    expect(s.fallbackReason).toBe(`port ${prod.gateway.port} answered HTTP 404 but not as an OpenClaw gateway on /healthz`);
    expect(await cliCalls()).toContain('openclaw gateway status --json');
    const reply = await status();
    expect(reply.title).toBe('prod: OK');
    expect(reply.body?.[0]).toContain(`probe: OpenClaw CLI (port ${prod.gateway.port} answered HTTP 404`);
  });

  it('a listener that never answers: curl gives up at its 2 s deadline, the probe reports it, no CLI', async () => {
    await h.standin.setScenario('healthy');
    await h.standin.setHealthzMode('hang');
    const t0 = Date.now();
    const s = await h.app.ops.status(prod);
    const ms = Date.now() - t0;
    expect(s).toMatchObject({ reachable: true, probeOk: false, probe: 'healthz' });
    expect(s.probeError).toContain('did not answer GET /healthz within 2 s');
    expect(probeFamily(s)).toBe('gateway_down');
    expect(ms).toBeGreaterThanOrEqual(1900);
    // Well inside the light probe's own exec deadline (10 s; reachable: true says it was not hit), with slack for a loaded machine.
    expect(ms).toBeLessThan(7000);
  });

  it('a gateway that answers a status line and then dribbles headers forever: the GET is abandoned at its 3 s total deadline', async () => {
    await h.standin.setScenario('healthy');
    await h.standin.setHealthzMode('wedged');
    await h.standin.clearCalls();
    const t0 = Date.now();
    const s = await h.app.ops.status(prod);
    const ms = Date.now() - t0;
    expect(s).toMatchObject({ reachable: true, probeOk: false, probe: 'healthz' });
    expect(s.probeError).toContain('did not answer GET /healthz');
    // $SECONDS has 1 s steps: the total deadline ends the GET between 2 and 3 s after it started.
    expect(ms).toBeGreaterThanOrEqual(1900);
    expect(ms).toBeLessThan(8000);
    expect(await cliCalls()).toEqual([]);
    await h.standin.setHealthzMode(undefined);
  });

  it('the second probe checks the owner through the fds the first found: no ss (which reads every process\'s fds)', async () => {
    await h.standin.setScenario('healthy');
    await h.app.ops.status(prod); // learns the gateway's pid and fd (ss runs here when the hint is new)
    await h.standin.clearCalls();
    const s = await h.app.ops.status(prod);
    expect(s).toMatchObject({ probeOk: true, probe: 'healthz' });
    expect(s.gatewayRssMb).toBeGreaterThan(0);
    expect(await ran()).toEqual([]);
    // A restarted gateway has another pid: the stale hint costs one ss, and the probe still names the owner.
    await h.standin.setScenario('gateway_down');
    await h.standin.setScenario('healthy');
    await h.standin.clearCalls();
    const again = await h.app.ops.status(prod);
    expect(again).toMatchObject({ probeOk: true, probe: 'healthz' });
    expect(again.gatewayRssMb).toBeGreaterThan(0);
    expect(await ran()).toEqual(['ss -tlnp']);
  });
});
