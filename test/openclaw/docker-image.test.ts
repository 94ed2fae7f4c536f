/**
 * Issue 15 item 5: the product's Dockerfile builds, and its image holds dist/ and the production
 * dependencies only (no TypeScript, tsx, esbuild, sources or tests), runs as the user node and answers.
 * The Dockerfile is built as users build it, with one difference: the Node 24 image it starts from
 * (`--build-arg NODE_IMAGE`) is the local stand-in of scripts/docker-node-base.sh, because no image
 * registry may be reachable; `npm ci` inside the build reaches the npm registry over the host network.
 * The engine comes from scripts/docker-base.sh; when it cannot be set up the tests are skipped with the
 * reason. A build on vfs storage takes minutes: this is in the real-OpenClaw/docker suite, not `npm test`.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_DIR } from '../support/real-openclaw/index.js';

const execFileP = promisify(execFile);
const TAG = 'clawmedic:test';

async function sh(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; out: string; stdout: string }> {
  try {
    const r = await execFileP(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20, cwd: REPO_DIR });
    return { code: 0, out: r.stdout + r.stderr, stdout: r.stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`, stdout: e.stdout ?? '' };
  }
}
const tail = (s: string, n = 15) => s.trim().split('\n').slice(-n).join('\n');

describe('the Docker image (Dockerfile built on a local Node 24 base)', () => {
  let skipWhy = '';
  let nodeImage = '';
  let dir = '';
  const timings: Record<string, number> = {};
  /** `docker run --rm` of the built image with the host network. */
  const run = (args: string[], opts: { volumes?: string[] } = {}) =>
    sh('docker', ['run', '--rm', '--network', 'host', ...(opts.volumes ?? []).flatMap((v) => ['-v', v]), TAG, ...args], 300_000);

  beforeAll(async () => {
    let t = Date.now();
    const engine = await sh('bash', [path.join(REPO_DIR, 'scripts/docker-base.sh'), 'ensure'], 40 * 60_000);
    timings['docker-base ensure'] = Date.now() - t;
    if (engine.code !== 0) {
      skipWhy = `Docker could not be set up (scripts/docker-base.sh ensure): ${tail(engine.out, 3).replace(/\n/g, ' | ')}`;
      return;
    }
    // From here on a failure is the product's (or the stand-in's) and fails the tests.
    t = Date.now();
    const base = await sh('bash', [path.join(REPO_DIR, 'scripts/docker-node-base.sh'), 'ensure'], 20 * 60_000);
    timings['node base'] = Date.now() - t;
    expect(base.code, tail(base.out)).toBe(0);
    nodeImage = base.stdout.trim().split('\n').at(-1)!;
    const before = (await sh('docker', ['image', 'inspect', '-f', '{{.Id}}', TAG], 60_000)).stdout.trim();
    t = Date.now();
    const build = await sh('docker', ['build', '--network', 'host', '--build-arg', `NODE_IMAGE=${nodeImage}`, '-t', TAG, '.'], 45 * 60_000);
    timings['docker build'] = Date.now() - t;
    expect(build.code, tail(build.out, 30)).toBe(0);
    // The image this tag named before (an earlier run's) is left without a name: remove it (vfs keeps full copies).
    const after = (await sh('docker', ['image', 'inspect', '-f', '{{.Id}}', TAG], 60_000)).stdout.trim();
    if (before && before !== after) await sh('docker', ['rmi', before], 120_000);
    dir = mkdtempSync(path.join(os.tmpdir(), 'clawmedic-image-'));
    chmodSync(dir, 0o755); // the container's user node (uid 1000) reads the mounted config
  }, 90 * 60_000);

  afterAll(() => {
    console.log(`docker-image timings (ms): ${JSON.stringify(timings)}`);
    if (skipWhy) console.warn(`docker-image skipped: ${skipWhy}`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every stage starts from NODE_IMAGE, which defaults to the official Node 24 image', (ctx) => {
    if (skipWhy) return ctx.skip();
    const lines = readFileSync(path.join(REPO_DIR, 'Dockerfile'), 'utf8').split('\n');
    expect(lines).toContain('ARG NODE_IMAGE=node:24-bookworm-slim');
    const froms = lines.filter((l) => /^FROM\s/i.test(l));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^FROM \$\{NODE_IMAGE\}( AS \w+)?$/);
    expect(nodeImage).not.toBe('node:24-bookworm-slim');
  });

  it('holds dist/ and the production dependencies only: no TypeScript, tsx, esbuild, src/ or test/', async (ctx) => {
    if (skipWhy) return ctx.skip();
    const probe = `
      const fs = require('node:fs'), path = require('node:path');
      const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(d, e.name);
        return e.isDirectory() ? (e.name === 'node_modules' ? [] : walk(p)) : [p];
      });
      const mods = fs.readdirSync('node_modules').flatMap((m) => m.startsWith('@') ? fs.readdirSync('node_modules/' + m).map((s) => m + '/' + s) : [m]);
      console.log(JSON.stringify({ cwd: process.cwd(), top: fs.readdirSync('.').sort(), mods, files: walk('.') }));`;
    const r = await run(['node', '-e', probe]);
    expect(r.code, r.out).toBe(0);
    const seen = JSON.parse(r.stdout) as { cwd: string; top: string[]; mods: string[]; files: string[] };
    expect(seen.cwd).toBe('/app');
    expect(seen.top).toEqual(['clawmedic.example.yaml', 'dist', 'node_modules', 'package.json']);
    expect(seen.files).toContain('dist/cli.js');
    // No TypeScript anywhere outside node_modules but declaration files.
    expect(seen.files.filter((f) => /\.(ts|tsx|mts|cts)$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    const pkg = JSON.parse(readFileSync(path.join(REPO_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies)) expect(seen.mods, `production dependency ${dep}`).toContain(dep);
    // What only the dev dependencies pull in, as package-lock.json marks it (`"dev": true`): none of it.
    const lock = JSON.parse(readFileSync(path.join(REPO_DIR, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages)
      .filter(([k, v]) => k.startsWith('node_modules/') && !k.slice(13).includes('/node_modules/') && v.dev)
      .map(([k]) => k.slice(13));
    for (const name of ['typescript', 'tsx', 'esbuild', 'vitest']) expect(devOnly, `${name} is dev-only in package-lock.json`).toContain(name);
    expect(seen.mods.filter((m) => devOnly.includes(m))).toEqual([]);
  });

  it('runs as the user node (uid 1000)', async (ctx) => {
    if (skipWhy) return ctx.skip();
    const user = await sh('docker', ['image', 'inspect', '-f', '{{.Config.User}}', TAG], 60_000);
    expect(user.out.trim()).toBe('node');
    const r = await run(['node', '-e', 'console.log(JSON.stringify({ uid: process.getuid(), name: require("node:os").userInfo().username }))']);
    expect(r.code, r.out).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ uid: 1000, name: 'node' });
  });

  it('answers: --help, and `config check` of a mounted clawmedic.yaml (OK, then a mistake named by its key)', async (ctx) => {
    if (skipWhy) return ctx.skip();
    const help = await run(['node', 'dist/cli.js', '--help']);
    expect(help.code, help.out).toBe(0);
    expect(help.stdout).toContain('clawmedic config check [--config clawmedic.yaml]');

    const example = readFileSync(path.join(REPO_DIR, 'clawmedic.example.yaml'), 'utf8');
    writeFileSync(path.join(dir, 'good.yaml'), example, { mode: 0o644 });
    const good = await run(['node', 'dist/cli.js', 'config', 'check', '--config', '/config/good.yaml'], { volumes: [`${dir}:/config:ro`] });
    expect(good.code, good.out).toBe(0);
    expect(good.stdout).toMatch(/^\/config\/good\.yaml: OK — \d+ host\(s\)/m);

    const bad = example.replace(/^(\s+port: )22$/m, '$1"22a"');
    expect(bad).not.toBe(example);
    writeFileSync(path.join(dir, 'bad.yaml'), bad, { mode: 0o644 });
    const refused = await run(['node', 'dist/cli.js', 'config', 'check', '--config', '/config/bad.yaml'], { volumes: [`${dir}:/config:ro`] });
    expect(refused.code, refused.out).toBe(2);
    expect(refused.out).toMatch(/^clawmedic: bad\.yaml: hosts\[\d+\]\.ssh\.port: expected integer 1-65535, got "22a"$/m);
  });
});
