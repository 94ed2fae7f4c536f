/**
 * Small loopback helpers for the real-OpenClaw harness: free ports, "is anything listening",
 * waiting with a deadline. Kept apart so every harness module uses the same definitions.
 */
import net from 'node:net';
import { freePort } from '../free-port.js';
export { freePort };


/** Does a TCP connect to 127.0.0.1:port succeed? (what `connect ECONNREFUSED` is the opposite of) */
export async function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
    sock.setTimeout(2000, () => done(false));
  });
}

/** Poll `check` every `intervalMs` until it returns a truthy value or `timeoutMs` passes. */
export async function waitUntil<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Promise-based setTimeout. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
