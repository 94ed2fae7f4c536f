/**
 * clawmedic's Node flags (NODE_RUNTIME_FLAGS) are on every command line that starts it: they cannot go
 * in NODE_OPTIONS, so a start path without them would quietly run with twice the memory.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_RUNTIME_FLAGS } from '../../src/constants.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe('Node runtime flags', () => {
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
  const startLines: Array<[string, string]> = [
    ['npm start', scripts.start!],
    ['npm run demo', scripts.demo!],
    ['npm run bench', scripts.bench!],
    ['bin/clawmedic.js shebang', read('bin/clawmedic.js').split('\n')[0]!],
    ['Dockerfile CMD', read('Dockerfile').split('\n').find((l) => l.startsWith('CMD'))!],
    ['docker-compose clawmedic command', read('docker-compose.yml').split('\n').find((l) => l.includes('dist/cli.js'))!],
  ];

  it.each(startLines)('%s passes every flag', (_what, line) => {
    expect(line).toBeDefined();
    for (const flag of NODE_RUNTIME_FLAGS) expect(line).toContain(flag);
  });

  // Issue 15 item 5: production runs the compiled build; tsx (a devDependency) only runs tests and benchmarks.
  it.each(startLines.filter(([what]) => what !== 'npm run bench'))('%s runs the compiled dist/cli.js with node, not tsx', (_what, line) => {
    expect(line).toMatch(/\bnode\b/);
    expect(line).not.toMatch(/\btsx\b|src\/cli\.ts/);
  });

  it('bin/clawmedic.js runs dist/cli.js, building it first only in a checkout; npm start/demo build a stale dist/ first', () => {
    const bin = read('bin/clawmedic.js');
    expect(bin).toContain("await import('../dist/cli.js')");
    expect(bin).not.toMatch(/from 'tsx|import\('tsx/);
    expect(scripts.start).toContain('dist/cli.js start');
    expect(scripts.demo).toContain('dist/cli.js demo');
    expect(scripts.prestart).toBe('node scripts/build.mjs --if-stale');
    expect(scripts.predemo).toBe('node scripts/build.mjs --if-stale');
  });

  it('node accepts the flags (a typo would stop every start)', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [...NODE_RUNTIME_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
