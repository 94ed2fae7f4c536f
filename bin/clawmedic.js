#!/usr/bin/env -S node --optimize-for-size
// Entry for `npx clawmedic`: runs the TypeScript CLI through tsx so no build step is needed.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli.ts');
