/**
 * Issue 12 item 4: the image build context of a configured checkout (what the Dockerfile COPYs) must not
 * carry secrets — .env files, clawmedic.yaml, keys, git history, caches — and must still carry what
 * the image runs. .dockerignore is read from the repository and evaluated with Docker's own rules
 * (moby patternmatcher: cleaned patterns, `*` within a path segment, `**` across segments, `!`
 * re-includes, the last matching pattern wins, a pattern matching a parent directory excludes
 * everything below it).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Pattern {
  re: RegExp;
  exclusion: boolean;
  text: string;
}

/** One .dockerignore line as moby turns it into a regular expression. */
function compile(line: string): Pattern | undefined {
  let text = line.trim();
  if (!text || text.startsWith('#')) return undefined;
  const exclusion = text.startsWith('!');
  if (exclusion) text = text.slice(1).trim();
  text = path.posix.normalize(text).replace(/^\/+/, '').replace(/\/+$/, '');
  let re = '^';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '*') {
      if (text[i + 1] === '*') {
        i++;
        if (text[i + 1] === '/') {
          i++;
          re += '(.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '\\') {
      re += `\\${text[++i] ?? '\\'}`;
    } else {
      re += ch.replace(/[.+^${}()|[\]]/g, '\\$&');
    }
  }
  return { re: new RegExp(`${re}$`), exclusion, text };
}

function loadPatterns(): Pattern[] {
  return readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map(compile)
    .filter((p): p is Pattern => p !== undefined);
}

/** Is `file` (relative, "/"-separated) left out of the build context? moby's MatchesOrParentMatches. */
function ignored(patterns: Pattern[], file: string): boolean {
  const parts = file.split('/');
  let matched = false;
  for (const p of patterns) {
    if (p.exclusion !== matched) continue;
    let match = p.re.test(file);
    for (let i = 1; !match && i < parts.length; i++) match = p.re.test(parts.slice(0, i).join('/'));
    if (match) matched = !p.exclusion;
  }
  return matched;
}

/** Files a configured checkout holds besides the tracked ones (what `clawmedic init`, a user and npm leave). */
const SECRETS_OF_A_CONFIGURED_CHECKOUT = [
  '.env',
  '.env.local',
  '.env.production',
  'deploy/.env',
  'clawmedic.yaml',
  'clawmedic.prod.yaml',
  'config/clawmedic.yaml',
  '.git/config',
  '.git/objects/ab/cdef',
  'node_modules/ssh2/package.json',
  '.cache/openclaw/node_modules/openclaw/package.json',
  'id_ed25519',
  'id_ed25519.pub',
  'keys/id_rsa',
  'keys/clawmedic_ed25519',
  '.ssh/clawmedic_ed25519',
  'tls/redis-ca.pem',
  'tls/server.key',
  'server.pem',
  'certs/bundle.p12',
  '.npmrc',
  'clawmedic.log',
];

describe('.dockerignore keeps secrets out of the image build context', () => {
  const patterns = loadPatterns();

  it('the matcher follows Docker rules (parent directories, **, negation, last match wins)', () => {
    const rules = ['a', '**/*.pem', '!keep.pem', 'b/*.txt'].map((l) => compile(l)!);
    expect(ignored(rules, 'a/deep/file')).toBe(true);
    expect(ignored(rules, 'x/y/z.pem')).toBe(true);
    expect(ignored(rules, 'z.pem')).toBe(true);
    expect(ignored(rules, 'keep.pem')).toBe(false);
    expect(ignored(rules, 'b/one.txt')).toBe(true);
    expect(ignored(rules, 'b/c/one.txt')).toBe(false);
    expect(ignored(rules, 'ab')).toBe(false);
  });

  it.each(SECRETS_OF_A_CONFIGURED_CHECKOUT)('excludes %s', (file) => {
    expect(ignored(patterns, file)).toBe(true);
  });

  it('keeps every tracked file the image is built from (what the Dockerfile COPYs) and the documented examples', () => {
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
    // The sources of every COPY from the build context (not --from=<stage>): its last word is the destination.
    const sources = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')
      .split('\n')
      .filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l))
      .flatMap((l) => l.trim().split(/\s+/).slice(1, -1));
    expect(sources).toEqual(expect.arrayContaining(['package-lock.json', 'tsconfig.build.json', 'src']));
    const needed = tracked.filter((f) => sources.some((s) => f === s || f.startsWith(`${s}/`)));
    expect(needed.length).toBeGreaterThan(20);
    for (const s of sources) expect(needed.some((f) => f === s || f.startsWith(`${s}/`)), `COPY ${s}: no tracked file`).toBe(true);
    expect(needed.filter((f) => ignored(patterns, f))).toEqual([]);
    for (const f of ['.env.example', 'clawmedic.example.yaml', 'Dockerfile']) expect(ignored(patterns, f), f).toBe(false);
  });

  it('no tracked file looks like a secret the patterns would miss', () => {
    // A key or env file committed under a new name must be caught here, not in the image.
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
    const suspicious = tracked.filter((f) => /(^|\/)(\.env(\..+)?|id_(rsa|ed25519|ecdsa|dsa)[^/]*|[^/]+\.(pem|key|p12|pfx))$/.test(f));
    expect(suspicious.filter((f) => !ignored(patterns, f) && f !== '.env.example')).toEqual([]);
  });
});
