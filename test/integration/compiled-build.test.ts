/**
 * Issue 15 items 4 and 5: clawmedic runs as it ships, compiled. `node dist/cli.js` loads its whole
 * module graph with tsx and esbuild unresolvable (as in the image, where they are not installed) and
 * loads no TypeScript; `npm run demo` (README's first command without a config) builds if needed and
 * runs the simulated host from dist/ (src/standin/ compiled, its shell executables and samples copied).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_RUNTIME_FLAGS } from '../../src/constants.js';
import { DIST_BUILD_TIMEOUT_MS, DIST_CLI, ensureDist, REPO_ROOT } from '../support/dist.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';

const run = promisify(execFile);
const PRELOAD = path.join(REPO_ROOT, 'test/support/module-trace/preload.mjs');
const EXAMPLE = path.join(REPO_ROOT, 'clawmedic.example.yaml');

let dir: string;
beforeAll(async () => {
  await ensureDist();
  dir = await mkdtemp(path.join(tmpdir(), 'clawmedic-dist-'));
}, DIST_BUILD_TIMEOUT_MS);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Run `args` under node with the module trace; returns the output and every module it loaded. */
async function traced(args: string[], cwd = dir): Promise<{ stdout: string; stderr: string; modules: string[] }> {
  const trace = path.join(dir, `trace-${Math.random().toString(36).slice(2)}.txt`);
  const r = await run(process.execPath, [...NODE_RUNTIME_FLAGS, '--import', PRELOAD, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, CLAWMEDIC_MODULE_TRACE: trace },
    timeout: 60_000,
  });
  const modules = (await readFile(trace, 'utf8')).split('\n').filter(Boolean).map((l) => l.replace(/^(esm|cjs) /, ''));
  return { stdout: r.stdout, stderr: r.stderr, modules };
}

describe('the compiled build', () => {
  it('the trace sees what is loaded and refuses tsx (else the next test could not fail)', async () => {
    // From the repository (where tsx is installed): a dist module that imports ioredis, then tsx itself.
    const redisModule = `file://${path.join(REPO_ROOT, 'dist/state/redis.js')}`;
    const script = `await import(${JSON.stringify(redisModule)}); await import('tsx/esm/api').then(() => console.log('loaded'), (e) => console.log(e.code));`;
    const r = await traced(['--input-type=module', '-e', script], REPO_ROOT);
    expect(r.stdout.trim()).toBe('ERR_MODULE_NOT_FOUND');
    expect(r.modules.some((m) => m.includes('/node_modules/ioredis/'))).toBe(true);
  });

  it.each([
    ['node dist/cli.js', [DIST_CLI]],
    ['bin/clawmedic.js', [path.join(REPO_ROOT, 'bin/clawmedic.js')]],
  ])('%s works with tsx and esbuild absent and loads no TypeScript', async (_what, entry) => {
    const r = await traced([...entry, 'config', 'check', '--config', EXAMPLE]);
    expect(r.stdout).toContain('clawmedic.example.yaml: OK — 3 host(s)');
    // The whole graph is loaded (cli → main → queues, adapters, Redis), from dist/.
    for (const m of ['dist/cli.js', 'dist/main.js', 'dist/jobs/queues.js']) expect(r.modules, m).toContain(`file://${path.join(REPO_ROOT, m)}`);
    expect(r.modules.some((m) => m.includes('/node_modules/ioredis/'))).toBe(true);
    expect(r.modules.filter((m) => /[/\\](tsx|esbuild|@esbuild)[/\\]/.test(m))).toEqual([]);
    const src = path.join(REPO_ROOT, 'src');
    expect(r.modules.filter((m) => /\.(c|m)?ts$/.test(m) || m.startsWith(src) || m.startsWith(`file://${src}`))).toEqual([]);
  });

  describe('npm run demo', () => {
    let redis: OwnRedis;
    beforeAll(async () => {
      // A Redis of its own: the demo's key prefix is fixed, and other suites may run a demo at the same time.
      redis = await startOwnRedis();
    });
    afterAll(async () => {
      await redis?.dispose();
    });

    it('starts the simulated host from dist/ and answers /status through the whole pipeline', async () => {
      const child = spawn('npm', ['run', 'demo'], {
        cwd: REPO_ROOT,
        env: { ...process.env, REDIS_URL: redis.url, DEMO_SCENARIO: 'gateway_down', LOG_LEVEL: 'silent' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const until = async (text: string) => {
        const end = Date.now() + 120_000;
        while (!out.includes(text) && child.exitCode === null && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
        expect(out, out.slice(-3000)).toContain(text);
      };
      try {
        await until('clawmedic> ');
        expect(out).toContain('clawmedic demo — simulated OpenClaw host "demo"');
        expect(out).toContain('Its state now: gateway_down.');
        child.stdin.write('/status demo\n');
        await until('demo: GATEWAY DOWN');
        child.stdin.end();
        expect(await exited).toBe(0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    }, 180_000);
  });
});
