/**
 * The outside view of a gateway: a credential-free WebSocket upgrade of its public URL. Against a
 * real WebSocket server it succeeds and sends nothing; against a proxy that answers upgrades with
 * plain HTTP it fails; and /diagnose then names a proxy/firewall that drops WebSocket upgrades.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeWebSocketUpgrade } from '../../src/jobs/external-probe.js';
import { startHarness, type Harness } from '../support/app-harness.js';

let proxy: http.Server;
let proxyUrl: string;
let h: Harness;

beforeAll(async () => {
  // A reverse proxy without WebSocket support: every request, upgrade or not, gets 400.
  proxy = http.createServer((_req, res) => {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('Bad Request');
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `ws://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  h = await startHarness({ moreHosts: () => [{ name: 'proxied', gateway: { port: 18789, url: proxyUrl } }] });
}, 60_000);
afterAll(async () => {
  await h?.close();
  await new Promise((r) => proxy.close(r));
});

describe('external WebSocket probe', () => {
  it('succeeds against a WebSocket server and presents no credential', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const received: string[] = [];
    const headers: string[] = [];
    wss.on('connection', (ws, req) => {
      headers.push(JSON.stringify(req.headers));
      ws.on('message', (m) => received.push(String(m)));
    });
    const r = await probeWebSocketUpgrade(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
    await new Promise((res) => setTimeout(res, 100));
    wss.close();
    expect(r).toMatchObject({ ok: true, status: 101 });
    expect(received).toEqual([]);
    expect(headers.join()).not.toMatch(/authorization|token/i);
  });

  it('fails with the status of a proxy that does not upgrade, and with the error of a closed port', async () => {
    expect(await probeWebSocketUpgrade(proxyUrl)).toMatchObject({ ok: false, status: 400 });
    expect(await probeWebSocketUpgrade('ws://127.0.0.1:1/')).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
  });

  it('/diagnose names the proxy when the host-side probe is fine but the public URL refuses upgrades', async () => {
    await h.standin.setScenario('healthy');
    const con = h.app.console!;
    const res = await con.input('/diagnose proxied');
    const reply = await con.waitFor(res.messageKey!, 60_000);
    expect(reply.title).toMatch(/^proxied: proxy blocks WebSocket \(high confidence\)/);
    expect(reply.body?.join('\n')).toMatch(/Let WebSocket upgrades through the reverse proxy/);
    expect(reply.evidence?.lines.join('\n')).toContain(`upgrade of ${proxyUrl} from clawmedic: HTTP 400`);
  }, 60_000);
});
