/**
 * Probe of the gateway's public URL from where clawmedic runs: a bare WebSocket upgrade, the
 * way a browser starts, without any credential (the gateway only asks for one after the
 * upgrade, in its connect.challenge; we close before that, so OpenClaw's auth rate limiter never
 * sees a failure). A host-side probe that works plus an upgrade refused from outside is the
 * signature of a proxy or firewall that drops WebSocket upgrades.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

/** What the outside sees. */
export interface ExternalProbe {
  url: string;
  /** The upgrade was accepted (HTTP 101). */
  ok: boolean;
  /** HTTP status of a refused upgrade (400, 403, 426, 502...). */
  status?: number;
  /** Network error code (ECONNREFUSED, ETIMEDOUT, ENOTFOUND...). */
  error?: string;
  durationMs: number;
}

/** Try the upgrade on `url` (ws/wss/http/https) within `timeoutMs`. Never throws. */
export function probeWebSocketUpgrade(url: string, timeoutMs = 5000): Promise<ExternalProbe> {
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<ExternalProbe, 'url' | 'durationMs'>) => {
      if (settled) return;
      settled = true;
      resolve({ url, durationMs: Date.now() - started, ...r });
    };
    let target: URL;
    try {
      target = new URL(url.replace(/^ws(s?):/, 'http$1:'));
    } catch {
      done({ ok: false, error: 'invalid URL' });
      return;
    }
    const lib = target.protocol === 'https:' ? https : http;
    const req = lib.request(target, {
      method: 'GET',
      timeout: timeoutMs,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'User-Agent': 'clawmedic-probe',
      },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy(); // accepted: leave before the gateway's challenge, presenting nothing
      done({ ok: true, status: 101 });
    });
    req.on('response', (res) => {
      res.resume();
      done({ ok: false, status: res.statusCode });
      req.destroy();
    });
    req.on('timeout', () => {
      done({ ok: false, error: 'ETIMEDOUT' });
      req.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
    req.end();
  });
}
