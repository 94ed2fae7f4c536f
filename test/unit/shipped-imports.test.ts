/**
 * Issue 15 item 4: shipped code never depends on test code. Every module specifier in every file under
 * src/ (static imports and re-exports, `import()`, `require()`, `import.meta.resolve`) is read and resolved;
 * none may point into test/ or bench/, nor at a dev-only package (tsx, vitest, ...) that the production
 * image does not install. Tests and benchmarks import src/ (the simulated host in src/standin/ included),
 * never the other way round.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SRC = path.join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(m|c)?[jt]s$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Module specifiers of a TypeScript/JavaScript text: from '…', import '…', import('…'), require('…'), import.meta.resolve('…'). */
export function specifiersOf(text: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*[,)]/g,
    /\brequire(?:\.resolve)?\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
    /\bimport\.meta\.resolve\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1]!);
  return out;
}

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; dependencies: Record<string, string> };
const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);

describe('shipped code (src/) imports nothing of the tests', () => {
  const files = sourceFiles(SRC);

  it('the reader finds every kind of import (a check that cannot see imports would pass anything)', () => {
    const text = [
      "import { a } from '../../test/support/x.js';",
      "import type { B } from './b.js';",
      "export * from '../c.js';",
      "import './side-effect.js';",
      "const { d } = await import('../../bench/d.js');",
      "const e = require('tsx');",
      "import {\n  f,\n  g,\n} from 'vitest';",
    ].join('\n');
    expect(specifiersOf(text).sort()).toEqual(['../../bench/d.js', '../../test/support/x.js', '../c.js', './b.js', './side-effect.js', 'tsx', 'vitest'].sort());
  });

  it('reads a real number of files and imports', () => {
    expect(files.length).toBeGreaterThan(100);
    const all = files.flatMap((f) => specifiersOf(readFileSync(f, 'utf8')));
    expect(all.length).toBeGreaterThan(files.length);
  });

  it('no file under src/ imports from test/ or bench/, or a package that is not a production dependency', () => {
    const bad: string[] = [];
    for (const file of files) {
      for (const spec of specifiersOf(readFileSync(file, 'utf8'))) {
        const rel = path.relative(ROOT, file);
        if (spec.startsWith('.')) {
          const target = path.relative(ROOT, path.resolve(path.dirname(file), spec));
          if (!target.startsWith(`src${path.sep}`)) bad.push(`${rel} → ${spec} (outside src/: ${target})`);
        } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
          // (bare builtins such as 'fs' appear in the node scripts the templates run on the host)
          const name = packageOf(spec);
          if (!(name in pkg.dependencies)) bad.push(`${rel} → ${spec} (${name in pkg.devDependencies ? 'a devDependency' : 'not a dependency'})`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
