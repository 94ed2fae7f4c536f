// Module hooks of preload.mjs (they run on the loader thread): log each resolved ESM URL, refuse tsx/esbuild.
import { appendFileSync } from 'node:fs';

let out;
const BLOCKED = /(^|[/\\])(tsx|esbuild|@esbuild)([/\\]|$)/;
const refuse = (what) => Object.assign(new Error(`Cannot find package '${what}' (blocked: not in the production image)`), { code: 'ERR_MODULE_NOT_FOUND' });

export function initialize(data) {
  out = data.out;
}

export async function resolve(specifier, context, next) {
  if (BLOCKED.test(specifier)) throw refuse(specifier);
  const r = await next(specifier, context);
  if (BLOCKED.test(r.url)) throw refuse(specifier);
  appendFileSync(out, `esm ${r.url}\n`);
  return r;
}
