#!/usr/bin/env -S node --optimize-for-size
// Entry for `npx clawmedic`: runs the compiled CLI (dist/cli.js), never TypeScript at run time.
// In a checkout (src/ present) it first builds dist/ when src/ changed since the last build, so a
// fresh clone or a `git pull` needs no separate step; where only dist/ ships (the Docker image) it
// runs dist/ as it is.
import { existsSync } from 'node:fs';

if (existsSync(new URL('../src/cli.ts', import.meta.url))) {
  const { ensureBuild } = await import('../scripts/build.mjs');
  try {
    ensureBuild({ ifStale: true });
  } catch (err) {
    process.stderr.write(`clawmedic: ${err.message}\n`);
    process.exit(2);
  }
}
await import('../dist/cli.js');
