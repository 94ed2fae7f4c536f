#!/usr/bin/env node
/**
 * The compiled build: `tsc -p tsconfig.build.json` (src/ → dist/) plus the files tsc does not copy
 * (the simulated host's shell executables and the real OpenClaw samples it serves, src/standin/).
 *
 *   node scripts/build.mjs              build now
 *   node scripts/build.mjs --if-stale   build only when src/ or the build config changed since the last build
 *
 * Every start path runs dist/, never TypeScript: `npm start` / `npm run demo` (prestart/predemo) and
 * bin/clawmedic.js in a checkout call this with --if-stale, so a fresh clone or a `git pull` is built
 * on first start and an unchanged tree costs one hash of src/ (a few ms). Plain JavaScript on purpose:
 * it must run before anything is compiled. It needs TypeScript (a devDependency) only when it builds.
 * The build goes to a temporary directory that replaces dist/ when complete, under a lock, so two
 * processes starting at once build once and nobody runs a half-written dist/.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');
const STAMP = '.build-hash';
const LOCK = path.join(ROOT, '.build.lock');
/** Inputs besides src/ whose change means a rebuild. */
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'scripts/build.mjs'];
/** Non-TypeScript files under src/ that dist/ needs at run time (relative to src/). */
const ASSET_DIRS = ['standin/host', 'standin/samples'];
/** A lock older than this belongs to a build that died (a build takes ~20 s on a busy 2-core machine). */
const STALE_LOCK_MS = 5 * 60_000;

/** Every file under `dir`, sorted, as paths relative to ROOT. */
function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(path.relative(ROOT, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** Hash of what dist/ is built from: every file under src/ (name, mode, content) and the build config. */
export function sourceHash() {
  const h = createHash('sha256');
  for (const rel of [...listFiles(SRC), ...CONFIG_FILES.filter((f) => existsSync(path.join(ROOT, f)))]) {
    const abs = path.join(ROOT, rel);
    h.update(`${rel}\0${statSync(abs).mode & 0o111 ? 'x' : '-'}\0`);
    h.update(readFileSync(abs));
    h.update('\0');
  }
  return h.digest('hex');
}

/** True when dist/ was built from exactly the current sources. */
export function isFresh() {
  try {
    return readFileSync(path.join(DIST, STAMP), 'utf8').trim() === sourceHash();
  } catch {
    return false;
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Take the build lock (a directory: mkdir is atomic); waits for another build, breaks a dead one's lock. */
function lock() {
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      sleep(200);
    }
  }
}

function unlock() {
  rmSync(LOCK, { recursive: true, force: true });
}

/** Compile src/ into a fresh directory, copy the assets, then put it in place of dist/. */
function compile(log) {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    throw new Error('building dist/ needs TypeScript, a devDependency: run `npm ci` (without --omit=dev), then `npm run build`');
  }
  const hash = sourceHash();
  const tmp = path.join(ROOT, `.dist-build-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const started = Date.now();
  log(`clawmedic: building dist/ from src/ (tsc) ...`);
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', tmp], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`tsc failed (exit ${r.status ?? r.signal}); dist/ was left as it was`);
  }
  // cpSync keeps each file's mode: the stand-in's executables stay executable.
  for (const rel of ASSET_DIRS) cpSync(path.join(SRC, rel), path.join(tmp, rel), { recursive: true });
  writeFileSync(path.join(tmp, STAMP), `${hash}\n`);
  const old = path.join(ROOT, `.dist-old-${process.pid}`);
  if (existsSync(DIST)) renameSync(DIST, old);
  renameSync(tmp, DIST);
  rmSync(old, { recursive: true, force: true });
  log(`clawmedic: dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Build dist/ (always, or with `ifStale` only when the sources changed). Progress goes to `log`
 * (stderr by default) and only when it builds, so a fresh dist/ starts silently.
 */
export function ensureBuild({ ifStale = false, log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  if (ifStale && isFresh()) return false;
  lock();
  try {
    // Another process may have built it while we waited for the lock.
    if (ifStale && isFresh()) return false;
    compile(log);
    return true;
  } finally {
    unlock();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    ensureBuild({ ifStale: process.argv.includes('--if-stale') });
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
