/**
 * Issue 15 item 6: no source file over 400 lines and no function over 80 lines in src/. The rule is
 * scripts/size-report.mjs (TypeScript's parser finds every function-like node and its span); this test
 * runs it on src/ and, so it cannot pass by reading nothing, on a throw-away tree that breaks both limits.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '../..');
const report = (dir: string) => spawnSync(process.execPath, ['scripts/size-report.mjs', dir], { cwd: REPO, encoding: 'utf8' });

describe('size limits (issue 15.6)', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'cm-size-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('src/ has no file over 400 lines and no function over 80 lines', () => {
    const r = report('src');
    expect(r.stdout).toContain('files over 400 lines: 0');
    expect(r.stdout).toContain('functions over 80 lines: 0');
    expect(r.status).toBe(0);
  });

  it('the report names a long file and a long function, and exits 1', () => {
    const body = Array.from({ length: 81 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    writeFileSync(path.join(tmp, 'long-fn.ts'), `export function tooLong(): number {\n${body}\n  return v0;\n}\n`);
    writeFileSync(path.join(tmp, 'long-file.ts'), Array.from({ length: 401 }, (_, i) => `export const c${i} = ${i};`).join('\n') + '\n');
    const r = report(tmp);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/401\s+\S*long-file\.ts/);
    expect(r.stdout).toMatch(/\d+\s+\S*long-fn\.ts:1\s+tooLong/);
  });
});

