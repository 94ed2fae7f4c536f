/**
 * Locates (installing on first use) the REAL OpenClaw gateway and its private Node under
 * <repo>/.cache/openclaw/, via scripts/install-openclaw.sh (idempotent, ~0.2 s when cached).
 * OPENCLAW_VERSION picks another release (e.g. 2026.4.29, in .cache/openclaw-2026.4.29/), and
 * OPENCLAW_CACHE_DIR another directory.
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
  /** The Node binary this openclaw requires (24.16+ for 2026.9, 22.14+ for 2026.4; the test process runs its own). */
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

/** The version the suite runs unless OPENCLAW_VERSION names another (scripts/install-openclaw.sh has the same default). */
export const DEFAULT_OPENCLAW_VERSION = '2026.9.6';

/**
 * Where a version is installed unless OPENCLAW_CACHE_DIR says: the default version in
 * .cache/openclaw (as before), any other in .cache/openclaw-<version>, so two versions never
 * overwrite each other (the script reinstalls when the cached version differs).
 */
export function defaultCacheDir(version: string): string {
  return path.join(REPO_DIR, '.cache', version === DEFAULT_OPENCLAW_VERSION ? 'openclaw' : `openclaw-${version}`);
}

/**
 * Runs scripts/install-openclaw.sh once per process and returns the paths.
 * Why a script and not code here: CI and developers can warm the cache outside vitest too.
 */
export function ensureOpenclawInstalled(): OpenclawInstall {
  if (cached) return { ...cached, installMs: 0 };
  const version = process.env.OPENCLAW_VERSION || DEFAULT_OPENCLAW_VERSION;
  const cacheDir = process.env.OPENCLAW_CACHE_DIR || defaultCacheDir(version);
  const started = Date.now();
  execFileSync('bash', [path.join(REPO_DIR, 'scripts', 'install-openclaw.sh')], {
    env: { ...process.env, OPENCLAW_VERSION: version, OPENCLAW_CACHE_DIR: cacheDir },
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
