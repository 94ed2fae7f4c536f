/**
 * Issue 15 item 6: the folders of src/ are one-way stairs. Every import of every file (static, `import type`,
 * `export … from`, `import()`, `import('…').T`: a type is an arrow too) is read with the TypeScript parser and
 * resolved to a file; the test fails on a folder cycle, a file cycle, an import from a folder to one above it
 * in LAYERS, and a folder LAYERS does not place — naming the file, the line and the import.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cycles, folderArrows, folderOf, importGraph, importsOf, type ImportEdge } from '../support/import-graph.js';

/**
 * The layers of src/, top to bottom: a file may import its own folder and any folder below its own, never one
 * above. The order follows the flow a command takes, chat adapter → router → jobs (queues, workers) →
 * remote/openclaw → notify (a job of its own) → back to the adapter; the way back goes through ports in
 * domain/ (ChatAdapter, DeliverySender, …), not through imports. Why each sits where it does:
 * - cli, demo, main, app: entry points and the composition root (app holds createApp's parts: preflight,
 *   connections, stores, workers, adapters, teardown); they wire everything below and nothing imports them.
 * - chat: the adapters, the top of the flow: they hand Commands to the router (RouterPort) and render Replies.
 * - router: authorize, confirm, audit, enqueue. It reaches the monitor only through AlertCommands (a port).
 * - monitor: the other source of work (log follower + probe → incidents); it enqueues probes and fixes and
 *   has alerts sent, so it sits above jobs and alerts.
 * - jobs: queues and workers (status/diagnose/plan, fix, notify, the scheduled probe); they render results and pictures (alerts,
 *   render), run steps over remote/openclaw and deliver through the ChatAdapter port.
 * - alerts: incident → message, pictures, the alert sender (through the DeliverySender port), and the
 *   replies of /mute, /unmute and /ack (the monitor plugs them into the router).
 * - render: Replies for commands and results, used by router, jobs and alerts.
 * - remote: the ssh2 transport; http: metrics and /healthz (workers count into its registry).
 * - config: clawmedic.yaml + env (which checks the Redis target).
 * - state: Redis connections, KeySpace and the stores behind it (the audit trail too), used by everything above.
 * - openclaw: pure OpenClaw knowledge (the button store keeps plans in its stored form, so it is below state).
 * - standin: the simulated host (demo and tests).
 * - domain, util, constants: shared types, ports, errors, helpers and constants; they
 *   import nothing of ours above them.
 */
export const LAYERS = [
  'cli',
  'demo',
  'main',
  'app',
  'chat',
  'router',
  'monitor',
  'jobs',
  'alerts',
  'render',
  'remote',
  'http',
  'config',
  'state',
  'openclaw',
  'standin',
  'domain',
  'util',
  'constants',
] as const;

const SRC = path.resolve(import.meta.dirname, '../../src');
const rank = new Map<string, number>(LAYERS.map((l, i) => [l, i]));
const where = (e: ImportEdge) => `src/${e.from}:${e.line} ${e.kind} '${e.spec}'`;

/** Every way the graph breaks the stairs, one readable line each (empty: none). */
export function violations(files: string[], edges: ImportEdge[], layers: ReadonlyMap<string, number> = rank): string[] {
  const out: string[] = [];
  for (const folder of new Set(files.map(folderOf))) {
    if (!layers.has(folder)) out.push(`src/${folder}: not placed in LAYERS (test/unit/architecture.test.ts): decide where it sits in the flow`);
  }
  const arrows = folderArrows(edges);
  for (const c of cycles([...new Set(files.map(folderOf))], [...arrows.keys()].map((k) => k.split(' → ') as [string, string]))) {
    const inCycle = [...arrows].filter(([k]) => c.includes(k.split(' → ')[0]!) && c.includes(k.split(' → ')[1]!)).flatMap(([, es]) => es);
    // Name the imports that close the cycle: those against LAYERS (all of them while a folder is not placed).
    const upward = inCycle.filter((e) => (layers.get(folderOf(e.to)) ?? -1) < (layers.get(folderOf(e.from)) ?? -1));
    out.push(`folder cycle {${c.join(', ')}} closed by: ${(upward.length ? upward : inCycle).map(where).join('; ')}`);
  }
  for (const c of cycles(files, edges.map((e) => [e.from, e.to]))) {
    const inCycle = edges.filter((e) => c.includes(e.from) && c.includes(e.to));
    out.push(`file cycle {${c.join(', ')}} through: ${inCycle.map(where).join('; ')}`);
  }
  for (const e of edges) {
    const from = folderOf(e.from);
    const to = folderOf(e.to);
    if (from === to || !layers.has(from) || !layers.has(to)) continue;
    if (layers.get(to)! < layers.get(from)!) out.push(`${where(e)}: ${from} imports ${to}, which is above it in LAYERS (against the flow)`);
  }
  return out;
}

describe('architecture: one-way stairs (issue 15)', () => {
  const { files, edges } = importGraph(SRC);

  it('the reader sees every kind of import, a type-only one included, and nothing inside strings or comments', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b/b.js';",
      "import { type C, d } from './c.js';",
      "export * from './e.js';",
      "export type { F } from './f.js';",
      "import './g.js';",
      "const { h } = await import('./h.js');",
      "let i: import('../i/i.js').I[] = [];",
      "import {\n  j,\n  k,\n} from 'some-package';",
      "const script = \"import x from './not-an-import.js'\"; // import y from './nor-this.js'",
    ].join('\n');
    expect(importsOf(text).map((i) => `${i.kind} ${i.spec} :${i.line}`)).toEqual([
      'import ./a.js :1',
      'import type ../b/b.js :2',
      'import ./c.js :3',
      'export from ./e.js :4',
      'export from ./f.js :5',
      'import ./g.js :6',
      'import() ./h.js :7',
      'import("…").T ../i/i.js :8',
      'import some-package :12',
    ]);
  });

  it('reads a real number of files and arrows', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(edges.length).toBeGreaterThan(400);
    expect(new Set(files.map(folderOf)).size).toBeGreaterThan(12);
  });

  it('the check catches a cycle, a file cycle and an upward arrow, naming the import (a check that cannot fail proves nothing)', () => {
    const e = (from: string, to: string, kind: ImportEdge['kind'] = 'import type'): ImportEdge => ({ from, to, spec: `../${to.replace(/\.ts$/, '.js')}`, kind, line: 7 });
    const found = violations(
      ['jobs/w.ts', 'router/r.ts', 'router/s.ts', 'nowhere/n.ts'],
      [e('jobs/w.ts', 'router/s.ts'), e('router/r.ts', 'jobs/w.ts', 'import'), e('router/s.ts', 'router/r.ts', 'import()')],
    );
    expect(found).toEqual([
      'src/nowhere: not placed in LAYERS (test/unit/architecture.test.ts): decide where it sits in the flow',
      "folder cycle {jobs, router} closed by: src/jobs/w.ts:7 import type '../router/s.js'",
      "file cycle {jobs/w.ts, router/r.ts, router/s.ts} through: src/jobs/w.ts:7 import type '../router/s.js'; src/router/r.ts:7 import '../jobs/w.js'; src/router/s.ts:7 import() '../router/r.js'",
      "src/jobs/w.ts:7 import type '../router/s.js': jobs imports router, which is above it in LAYERS (against the flow)",
    ]);
  });

  it('src/ has no folder cycle, no file cycle and no import against the layers', () => {
    expect(violations(files, edges)).toEqual([]);
  });
});
