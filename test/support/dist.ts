/**
 * The compiled build (dist/) for tests that run clawmedic as it ships (`node dist/cli.js`, bin/clawmedic.js).
 * bin/clawmedic.js would build a stale dist/ itself, but then inside a timed test; this builds it in the
 * test's beforeAll instead (scripts/build.mjs takes a lock, so parallel test files build it once).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The compiled CLI every start path runs. */
export const DIST_CLI = path.join(REPO_ROOT, 'dist/cli.js');
/** What a build may take on a loaded 2-core machine (tsc alone: ~16 s idle); for the beforeAll that calls ensureDist. */
export const DIST_BUILD_TIMEOUT_MS = 240_000;

/** Build dist/ unless it was built from the current src/ already. */
export async function ensureDist(): Promise<void> {
  await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'scripts/build.mjs'), '--if-stale'], { cwd: REPO_ROOT, timeout: DIST_BUILD_TIMEOUT_MS });
}
