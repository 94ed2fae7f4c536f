/**
 * A WebSocket client that behaves like OpenClaw's browser Control UI: waits for the server's
 * `connect.challenge`, sends a `connect` request (client webchat-ui, role operator, auth.token), and
 * on rejection closes its own socket with 4008 `connect failed`, then reconnects with backoff
 * (0.8 s ×1.7 capped at 15 s in the real UI) — the "stale tab" that loops forever.
 * Frame shapes follow openclaw 2026.9.6 (dist/control-ui/assets/control-ui-core-*.js).
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { waitUntil } from './net-util.js';

/** One connection attempt as the client saw it. */
export interface ControlUiAttempt {
  n: number;
  /** ms since the client started. */
  atMs: number;
  challenge: boolean;
  /** hello-ok received: the gateway accepted the token. */
  helloOk: boolean;
  /** The rejected connect's error ({code, message, details}). */
  error?: { code?: string; message?: string; details?: { code?: string; authReason?: string; [k: string]: unknown } };
  /** Close code/reason as seen by this client (the server's 1008 usually arrives before our 4008 echo). */
  closeCode?: number;
  closeReason?: string;
  /** Code this client itself sent (4008 on rejection, as the UI does). */
  sentCloseCode?: number;
  /** Socket-level error (ECONNREFUSED when the gateway is down). */
  socketError?: string;
}

/** Options of startControlUiClient() / staleTab(). */
export interface ControlUiClientOptions {
  url: string;
  token: string;
  /** Origin header; must be one the gateway allows (its own http://127.0.0.1:<port> or localhost). */
  origin: string;
  /** Stop after this many connection attempts (default 5). */
  attempts?: number;
  /** Stop after this long at the latest (default: no limit). */
  maxDurationMs?: number;
  /** Reconnect backoff; real UI: 800 ms ×1.7 capped at 15000 ms. Tests may go faster. */
  backoff?: { initialMs: number; factor: number; maxMs: number };
  /** client.id: 'webchat-ui' (default) or 'openclaw-control-ui'. */
  clientId?: string;
  clientVersion?: string;
  userAgent?: string;
  /**
   * After hello-ok, stay connected this long, then close 1000 and stop (default 200 ms).
   * Infinity: stay until the server closes (4001 on rotation), then reconnect like the UI.
   */
  holdMs?: number;
  /** ms to wait for connect.challenge before closing 4008 'connect challenge timeout'. */
  challengeTimeoutMs?: number;
}

/** The real UI's reconnect cadence. */
export const UI_BACKOFF = { initialMs: 800, factor: 1.7, maxMs: 15_000 } as const;

/** A running client; `done` resolves with every attempt once it stops. */
export interface ControlUiClient {
  attempts: ControlUiAttempt[];
  done: Promise<ControlUiAttempt[]>;
  /** Wait until `pred(attempts)` holds. */
  waitFor(pred: (a: ControlUiAttempt[]) => boolean, timeoutMs?: number): Promise<void>;
  stop(): void;
}

/**
 * Start a Control-UI-like client. After a successful connect it stays connected until the
 * server closes it (e.g. 4001 `gateway auth changed`), then reconnects with the same token.
 */
export function startControlUiClient(opts: ControlUiClientOptions): ControlUiClient {
  const maxAttempts = opts.attempts ?? 5;
  const backoff = opts.backoff ?? UI_BACKOFF;
  const started = Date.now();
  const attempts: ControlUiAttempt[] = [];
  let stopped = false;
  let current: WebSocket | undefined;
  let delay = backoff.initialMs;
  let resolveDone!: (a: ControlUiAttempt[]) => void;
  const done = new Promise<ControlUiAttempt[]>((r) => (resolveDone = r));
  let wakeup: (() => void) | undefined;

  const finish = (): void => {
    stopped = true;
    wakeup?.();
    resolveDone(attempts);
  };

  const once = (n: number): Promise<void> =>
    new Promise((resolve) => {
      const att: ControlUiAttempt = { n, atMs: Date.now() - started, challenge: false, helloOk: false };
      attempts.push(att);
      const ws = new WebSocket(opts.url, {
        headers: { Origin: opts.origin, 'User-Agent': opts.userAgent ?? 'clawmedic-test-control-ui/1.0' },
      });
      current = ws;
      const connectId = randomUUID();
      const challengeTimer = setTimeout(() => {
        if (!att.challenge && ws.readyState === WebSocket.OPEN) {
          att.sentCloseCode = 4008;
          ws.close(4008, 'connect challenge timeout');
        }
      }, opts.challengeTimeoutMs ?? 6000);
      ws.on('message', (data) => {
        let msg: { type?: string; event?: string; id?: string; ok?: boolean; payload?: { type?: string }; error?: ControlUiAttempt['error'] };
        try {
          msg = JSON.parse(data.toString()) as typeof msg;
        } catch {
          return;
        }
        if (msg.type === 'event' && msg.event === 'connect.challenge') {
          att.challenge = true;
          clearTimeout(challengeTimer);
          ws.send(
            JSON.stringify({
              type: 'req',
              id: connectId,
              method: 'connect',
              params: {
                // The range both lines speak: 2026.4.29 refuses anything without 3 ("protocol
                // mismatch", expectedProtocol 3, close 1002), 2026.9.6 speaks 4.
                minProtocol: 3,
                maxProtocol: 4,
                client: {
                  id: opts.clientId ?? 'webchat-ui',
                  version: opts.clientVersion ?? 'control-ui',
                  platform: 'linux',
                  mode: 'webchat',
                },
                role: 'operator',
                scopes: ['operator.admin', 'operator.read', 'operator.write', 'operator.approvals', 'operator.pairing'],
                caps: [],
                auth: { token: opts.token },
                userAgent: opts.userAgent ?? 'clawmedic-test-control-ui/1.0',
                locale: 'en-US',
              },
            }),
          );
        } else if (msg.type === 'res' && msg.id === connectId) {
          if (msg.ok) {
            att.helloOk = true;
            delay = backoff.initialMs; // the UI resets its backoff after a good hello
            const hold = opts.holdMs ?? 200;
            if (Number.isFinite(hold)) {
              setTimeout(() => {
                stopped = true; // a tab whose token works is not what this client models: done
                ws.close(1000, 'done');
              }, hold);
            }
          } else {
            att.error = msg.error;
            // What the UI does: close(1008 → 4008, 'connect failed').
            att.sentCloseCode = 4008;
            ws.close(4008, 'connect failed');
          }
        }
      });
      ws.on('error', (err) => {
        att.socketError = (err as NodeJS.ErrnoException).code ?? err.message;
      });
      ws.on('close', (code, reason) => {
        clearTimeout(challengeTimer);
        att.closeCode = code;
        att.closeReason = reason.toString();
        resolve();
      });
    });

  void (async () => {
    for (let n = 1; n <= maxAttempts && !stopped; n++) {
      if (opts.maxDurationMs !== undefined && Date.now() - started > opts.maxDurationMs) break;
      await once(n);
      if (stopped || n === maxAttempts) break;
      await new Promise<void>((r) => {
        wakeup = r;
        setTimeout(r, delay);
      });
      delay = Math.min(Math.round(delay * backoff.factor), backoff.maxMs);
    }
    finish();
  })();

  return {
    attempts,
    done,
    stop() {
      stopped = true;
      current?.close(1000, 'test done');
      wakeup?.();
    },
    async waitFor(pred, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(attempts)) {
        if (Date.now() > deadline) throw new Error(`control-ui client: condition not met in ${timeoutMs} ms: ${JSON.stringify(attempts)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** A stale tab: `attempts` connects with `token`, looping on rejection; resolves with what it saw. */
export function staleTab(opts: ControlUiClientOptions): Promise<ControlUiAttempt[]> {
  return startControlUiClient(opts).done;
}

/**
 * Wait until the gateway accepts a connect with `token` from `origin` (one attempt every 1 s).
 * Why: 2026.4.29 restarts itself (SIGUSR1, in-process) for a new gateway.auth.token and refuses
 * connects for ~5-10 s meanwhile, where 2026.9.6 hot-reloads it without a gap.
 */
export async function waitForHello(url: string, token: string, origin: string, timeoutMs = 120_000): Promise<void> {
  await waitUntil(
    'gateway accepts the token',
    async () => (await staleTab({ url, token, origin, attempts: 1 }))[0]?.helloOk === true,
    timeoutMs,
    1000,
  );
}
