#!/usr/bin/env node
// Lists source files over the line limit and functions over the function limit (issue 15 item 6),
// so a split can be checked by a script rather than by eye. Usage: node scripts/size-report.mjs [dir] [fileMax] [fnMax]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = process.argv[2] ?? 'src';
const FILE_MAX = Number(process.argv[3] ?? 400);
const FN_MAX = Number(process.argv[4] ?? 80);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return walk(p);
    return /\.(ts|mts|cts)$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

/** A readable name for a function-like node: its own name, or the variable/property it is assigned to. */
function nameOf(node, sf) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (node.name) return node.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const p = node.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && p.name) {
    return p.name.getText(sf);
  }
  if (p && ts.isCallExpression(p)) return `<callback of ${p.expression.getText(sf).slice(0, 40)}>`;
  return '<anonymous>';
}

const files = [];
const fns = [];
for (const file of walk(root)) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lines = sf.getLineAndCharacterOfPosition(sf.end).line + (text.endsWith('\n') ? 0 : 1);
  if (lines > FILE_MAX) files.push({ file: relative('.', file), lines });
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.end).line;
      const span = end - start + 1;
      if (span > FN_MAX) fns.push({ file: relative('.', file), line: start + 1, name: nameOf(node, sf), lines: span });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

files.sort((a, b) => b.lines - a.lines);
fns.sort((a, b) => b.lines - a.lines);
console.log(`files over ${FILE_MAX} lines: ${files.length}`);
for (const f of files) console.log(`  ${String(f.lines).padStart(5)}  ${f.file}`);
console.log(`functions over ${FN_MAX} lines: ${fns.length}`);
for (const f of fns) console.log(`  ${String(f.lines).padStart(5)}  ${f.file}:${f.line}  ${f.name}`);
process.exitCode = files.length + fns.length > 0 ? 1 : 0;
