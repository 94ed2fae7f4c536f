/**
 * Saves real OpenClaw output into test/fixtures/openclaw-real/ when OPENCLAW_CAPTURE=1, with
 * tokens, the temp home and the install dir replaced, so fixtures stay facts and hold no secret.
 */
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { redact } from '../../../src/util/redact.js';
import { DEFAULT_OPENCLAW_VERSION, defaultCacheDir, REPO_DIR } from './install.js';

/** Placeholders for machine-specific text, longest first. */
export interface FixtureScrub {
  secrets?: string[];
  paths?: Array<[string, string]>;
}

/**
 * Write `text` to test/fixtures/openclaw-real/<name> (only when OPENCLAW_CAPTURE=1; a normal
 * run never edits the tree). Returns the scrubbed text either way so tests can look at it.
 */
export function saveRealFixture(name: string, text: string, scrub: FixtureScrub = {}): string {
  let out = text;
  for (const s of scrub.secrets ?? []) if (s) out = out.split(s).join('<redacted>');
  // The install of whichever version runs (OPENCLAW_VERSION / OPENCLAW_CACHE_DIR), as install.ts picks it.
  const installDir = process.env.OPENCLAW_CACHE_DIR || defaultCacheDir(process.env.OPENCLAW_VERSION || DEFAULT_OPENCLAW_VERSION);
  const paths = [...(scrub.paths ?? []), [installDir, '<install-dir>'] as [string, string]];
  // Node reports module paths resolved: a symlinked .cache shows up under its real directory.
  const realInstall = realOrSame(installDir);
  if (realInstall !== installDir) paths.push([realInstall, '<install-dir>']);
  for (const [from, to] of paths.sort((a, b) => b[0].length - a[0].length)) out = out.split(from).join(to);
  // Temp dirs of the harness and the test user's home are machine-specific.
  out = out.replace(new RegExp(`${escapeRe(os.tmpdir())}/clawmedic-[A-Za-z0-9-]+`, 'g'), '<tmp-dir>');
  out = out.split(os.homedir()).join('<user-home>');
  out = redact(out);
  if (process.env.OPENCLAW_CAPTURE === '1') {
    const dir = path.join(REPO_DIR, 'test', 'fixtures', 'openclaw-real');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, name), out.endsWith('\n') ? out : `${out}\n`);
  }
  return out;
}

function realOrSame(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
