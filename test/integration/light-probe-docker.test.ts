/**
 * The light probe on a docker install, over a real sshd against the host stand-in (whose `docker` plays the
 * gateway's container): the package.json of OpenClaw is in the container, not on the host, so the version is
 * read there by one `docker exec` (the same package.json search as on a native host, no `openclaw`), once per
 * container: the next probes run no docker at all until the gateway's pid changes. A container where nothing
 * names a version says so ("version unknown (docker image …)") instead of leaving the version out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostConfig } from '../../src/domain/host.js';
import type { Reply } from '../../src/domain/types.js';
import { startHarness, type Harness } from '../support/app-harness.js';

let h: Harness;
const docker = (name: string) => ({ name, install: 'docker' as const, container: 'openclaw', supervisor: { kind: 'docker' as const, container: 'openclaw' } });
beforeAll(async () => {
  h = await startHarness({ moreHosts: () => [docker('dock'), docker('dock-stopped')] });
}, 60_000);
afterAll(async () => h?.close());

const hostNamed = (name: string): HostConfig => h.loaded.hosts.find((x) => x.name === name)!;
const dockerCalls = async () => (await h.standin.calls()).filter((argv) => argv[0] === 'docker').map((argv) => argv.slice(0, 2).join(' '));
const cliCalls = async () => (await h.standin.calls()).filter((argv) => argv[0] === 'openclaw');

async function status(name: string): Promise<Reply> {
  const con = h.app.console!;
  const first = await con.input(`/status ${name}`);
  return con.waitFor(first.messageKey!, 60_000);
}

describe('light probe on a docker install (real sshd, stand-in container)', () => {
  it('names the version from the container, read once: the next probes start no docker process', async () => {
    await h.standin.setScenario('docker_healthy');
    await h.standin.clearCalls();
    const dock = hostNamed('dock');
    const s = await h.app.ops.status(dock);
    expect(s).toMatchObject({ reachable: true, probeOk: true, probe: 'healthz', version: '2026.9.6' });
    expect(s.versionUnknown).toBeUndefined();
    // One docker exec in the container (no docker inspect: the package said it), and no OpenClaw CLI.
    expect(await dockerCalls()).toEqual(['docker exec']);
    expect(await cliCalls()).toEqual([]);

    await h.standin.clearCalls();
    for (let i = 0; i < 3; i++) expect((await h.app.ops.status(dock)).version).toBe('2026.9.6');
    expect(await dockerCalls()).toEqual([]);
    // The chat says it too.
    expect((await status('dock')).body?.join(' ')).toMatch(/^OpenClaw 2026\.9\.6 · listening/);
  });

  it('a restarted gateway (another pid on the port) is read again, once', async () => {
    const dock = hostNamed('dock');
    const before = h.standin.gatewayPid;
    // The container stops and starts again: a new gateway process.
    await h.standin.setScenario('docker_healthy', { running: false });
    await h.standin.setScenario('docker_healthy');
    expect(h.standin.gatewayPid).not.toBe(before);
    await h.standin.clearCalls();
    expect((await h.app.ops.status(dock)).version).toBe('2026.9.6');
    expect((await h.app.ops.status(dock)).version).toBe('2026.9.6');
    expect(await dockerCalls()).toEqual(['docker exec']);
  });

  it('a stopped container: no version from it and none on its image → "version unknown (docker image openclaw:local)"', async () => {
    await h.standin.setScenario('docker_healthy', { running: false });
    await h.standin.clearCalls();
    const s = await h.app.ops.status(hostNamed('dock-stopped'));
    expect(s.probeOk).toBe(false);
    expect(s.version).toBeUndefined();
    expect(s.versionUnknown).toBe('docker image openclaw:local');
    // The exec fails on a stopped container; the image is asked once; nothing else of docker.
    expect((await dockerCalls()).filter((c) => c === 'docker exec' || c === 'docker inspect').slice(0, 2)).toEqual(['docker exec', 'docker inspect']);
    expect((await status('dock-stopped')).body?.join(' ')).toContain('OpenClaw version unknown (docker image openclaw:local)');
  });
});
