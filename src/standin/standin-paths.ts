/** Where the host stand-in's files are. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Beside this module in src/standin/ and, copied by scripts/build.mjs, in dist/standin/.
const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Directory of the stand-in executables. */
export const STANDIN_BIN_DIR = path.join(HERE, 'host', 'bin');
/** The real OpenClaw output the stand-in serves (verbatim samples + derived/); the tests read the same files. */
export const STANDIN_FIXTURES_DIR = path.join(HERE, 'samples');
/** The real gateway listener (see gateway.mjs). */
export const GATEWAY_SCRIPT = path.join(HERE, 'host', 'gateway.mjs');
