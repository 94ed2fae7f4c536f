// Loaded with `node --import` by test/integration/compiled-build.test.ts: records every module the process
// loads (ESM through a resolve hook, CommonJS from require's cache at exit) into $CLAWMEDIC_MODULE_TRACE,
// and makes tsx and esbuild unresolvable, as in the production image where they are not installed.
import { appendFileSync } from 'node:fs';
import Module, { createRequire, register } from 'node:module';

const out = process.env.CLAWMEDIC_MODULE_TRACE;
if (!out) throw new Error('CLAWMEDIC_MODULE_TRACE is not set');
const BLOCKED = /(^|[/\\])(tsx|esbuild|@esbuild)([/\\]|$)/;

register('./hooks.mjs', import.meta.url, { data: { out } });

// CommonJS resolution does not go through the ESM hooks on every Node version: refuse it here too.
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (BLOCKED.test(request)) throw Object.assign(new Error(`Cannot find module '${request}' (blocked: not in the production image)`), { code: 'MODULE_NOT_FOUND' });
  const file = resolveFilename.call(this, request, ...rest);
  if (BLOCKED.test(file)) throw Object.assign(new Error(`Cannot find module '${request}' (blocked: not in the production image)`), { code: 'MODULE_NOT_FOUND' });
  return file;
};

process.on('exit', () => {
  const cjs = Object.keys(createRequire(import.meta.url).cache);
  appendFileSync(out, cjs.map((f) => `cjs ${f}\n`).join(''));
});
