/**
 * Locates (installing on first use) the REAL OpenClaw gateway and its private Node 24 under
 * <repo>/.cache/openclaw/, via scripts/install-openclaw.sh (idempotent, ~0.2 s when cached).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, from this file's location (test/support/real-openclaw/). */
export const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where a real install lives and how to run it. */
export interface OpenclawInstall {
  cacheDir: string;
  /** Node >= 24.16 binary that openclaw requires (the test process itself runs Node 20). */
  nodeBin: string;
  /** A directory holding only `node` (-> nodeBin): put it first on PATH of openclaw's processes. */
  nodeBinDir: string;
  /** The package's bin entry (openclaw.mjs), run as `nodeBin openclawEntry ...args`. */
  openclawEntry: string;
  /** Installed openclaw version, e.g. "2026.9.6". */
  version: string;
  /** How long ensureOpenclawInstalled() took in this process (0 when memoised). */
  installMs: number;
}

let cached: OpenclawInstall | undefined;

/**
 * Runs scripts/install-openclaw.sh once per process and returns the paths.
 * Why a script and not code here: CI and developers can warm the cache outside vitest too.
 */
export function ensureOpenclawInstalled(): OpenclawInstall {
  if (cached) return { ...cached, installMs: 0 };
  const cacheDir = process.env.OPENCLAW_CACHE_DIR ?? path.join(REPO_DIR, '.cache', 'openclaw');
  const started = Date.now();
  execFileSync('bash', [path.join(REPO_DIR, 'scripts', 'install-openclaw.sh')], {
    env: { ...process.env, OPENCLAW_CACHE_DIR: cacheDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10 * 60_000,
  });
  const pkgDir = path.join(cacheDir, 'node_modules', 'openclaw');
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as {
    version: string;
    bin: { openclaw: string };
  };
  const nodeBinDir = path.join(cacheDir, 'node24', 'bin');
  const install: OpenclawInstall = {
    cacheDir,
    nodeBin: path.join(nodeBinDir, 'node'),
    nodeBinDir,
    openclawEntry: path.join(pkgDir, pkg.bin.openclaw),
    version: pkg.version,
    installMs: Date.now() - started,
  };
  if (!existsSync(install.nodeBin) || !existsSync(install.openclawEntry)) {
    throw new Error(`openclaw install incomplete under ${cacheDir}; rerun scripts/install-openclaw.sh`);
  }
  cached = install;
  return install;
}
