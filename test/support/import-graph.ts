/**
 * The import graph of src/: every module specifier of every source file, read with the TypeScript parser (so a
 * specifier inside a string or a comment, such as a script the templates run on a host, is not an import), resolved
 * to the file it names. Used by test/unit/architecture.test.ts; `npx tsx test/support/import-graph.ts` prints it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One import: the file holding it, the file it resolves to (both relative to src/), and how it imports. */
export interface ImportEdge {
  from: string;
  to: string;
  spec: string;
  kind: 'import' | 'import type' | 'export from' | 'import()' | 'import("…").T';
  line: number;
}

/** Every `.ts` file under dir (relative paths, `/` separated); declaration files excluded. */
export function sourceFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return sourceFiles(p, base);
      return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path.relative(base, p).split(path.sep).join('/')] : [];
    })
    .sort();
}

/**
 * The relative module specifiers of one TypeScript text with their kind and line: static imports (values and
 * `import type`, a type-only import is an arrow too), `export … from`, dynamic `import('…')` and type queries
 * `import('…').T`.
 */
export function importsOf(text: string, fileName = 'x.ts'): Array<Omit<ImportEdge, 'from' | 'to'>> {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: Array<Omit<ImportEdge, 'from' | 'to'>> = [];
  const add = (lit: ts.Node | undefined, kind: ImportEdge['kind']) => {
    if (lit && ts.isStringLiteralLike(lit)) out.push({ spec: lit.text, kind, line: sf.getLineAndCharacterOfPosition(lit.getStart()).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, node.importClause?.isTypeOnly ? 'import type' : 'import');
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, 'export from');
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression, 'import');
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], 'import()');
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, 'import("…").T');
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Resolves a relative specifier (`./x.js` → `x.ts`, `./dir` → `dir/index.ts`) against the importing file; undefined when it leaves src/ or names no source file. */
function resolve(srcDir: string, from: string, spec: string): string | undefined {
  const abs = path.resolve(srcDir, path.dirname(from), spec);
  const candidates = [abs.replace(/\.(m|c)?js$/, '.ts'), abs, `${abs}.ts`, path.join(abs, 'index.ts')];
  for (const c of candidates) {
    if (c.endsWith('.ts') && existsSync(c)) {
      const rel = path.relative(srcDir, c).split(path.sep).join('/');
      return rel.startsWith('..') ? undefined : rel;
    }
  }
  return undefined;
}

/** Every import between two files of src/ (package and node: imports are not arrows of ours). */
export function importGraph(srcDir: string): { files: string[]; edges: ImportEdge[] } {
  const files = sourceFiles(srcDir);
  const edges: ImportEdge[] = [];
  for (const from of files) {
    for (const imp of importsOf(readFileSync(path.join(srcDir, from), 'utf8'), from)) {
      if (!imp.spec.startsWith('.')) continue;
      const to = resolve(srcDir, from, imp.spec);
      if (to === undefined) throw new Error(`${from}:${imp.line}: cannot resolve ${imp.spec}`);
      edges.push({ from, to, ...imp });
    }
  }
  return { files, edges };
}

/** The folder a file belongs to for layering: its first folder under src/ (`chat/telegram/x.ts` → `chat`), or the file itself at the top (`main.ts`). */
export const folderOf = (file: string): string => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file.replace(/\.ts$/, ''));

/** Strongly connected components with more than one node (or a self-loop), each sorted; Tarjan's algorithm. */
export function cycles(nodes: string[], arrows: Array<[string, string]>): string[][] {
  const next = new Map<string, Set<string>>(nodes.map((n) => [n, new Set()]));
  for (const [a, b] of arrows) next.get(a)?.add(b);
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || next.get(v)!.has(v)) out.push(comp.sort());
    }
  };
  for (const n of nodes) if (!idx.has(n)) strong(n);
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The folder graph: one arrow per (folder, folder) pair with the imports that make it. */
export function folderArrows(edges: ImportEdge[]): Map<string, ImportEdge[]> {
  const out = new Map<string, ImportEdge[]>();
  for (const e of edges) {
    const a = folderOf(e.from);
    const b = folderOf(e.to);
    if (a === b) continue;
    const key = `${a} → ${b}`;
    out.set(key, [...(out.get(key) ?? []), e]);
  }
  return out;
}

const describeEdge = (e: ImportEdge) => `src/${e.from}:${e.line} → ${e.kind} '${e.spec}'`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const srcDir = path.resolve(import.meta.dirname, '../../src');
  const { files, edges } = importGraph(srcDir);
  const folders = [...new Set(files.map(folderOf))].sort();
  const arrows = folderArrows(edges);
  console.log(`${files.length} files, ${edges.length} imports between them, ${folders.length} folders, ${arrows.size} folder arrows`);
  console.log('\nfolder cycles:');
  for (const c of cycles(folders, [...arrows.keys()].map((k) => k.split(' → ') as [string, string]))) console.log(`  {${c.join(', ')}}`);
  console.log('\nfile cycles:');
  for (const c of cycles(files, edges.map((e) => [e.from, e.to]))) console.log(`  {${c.join(', ')}}`);
  console.log('\nfolder arrows:');
  for (const [k, es] of [...arrows].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`  ${k} (${es.length})`);
    if (process.argv.includes('-v')) for (const e of es) console.log(`      ${describeEdge(e)}`);
  }
}
