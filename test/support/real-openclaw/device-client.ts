/**
 * A client with a signed device identity, as OpenClaw's browser Control UI in a secure context is:
 * an Ed25519 key pair whose device id is sha256(raw public key), a `connect` carrying
 * `device {id, publicKey, signature, signedAt, nonce}` signed over the v3 payload
 * `v3|id|client|mode|role|scopes|signedAt|token|nonce|platform|deviceFamily` (the token field is
 * the token presented: the gateway token, else the device token). Frame and payload shapes follow
 * openclaw 2026.9.6 (dist/device-auth-*.mjs, gateway-client connect-auth).
 *
 * Real 2026.9.6 behaviour this client reproduces: a local client presenting the gateway token with a
 * device identity is paired silently (`device pairing auto-approved device=<id>`) and its hello-ok
 * carries `auth.deviceToken`; that token alone then connects (`auth=device-token device=yes`); after
 * `openclaw devices rotate --device <id> --role operator` (token withheld from the CLI:
 * `tokenDelivery: withheld-cross-device`) the old one is refused with `unauthorized: device token
 * mismatch (rotate/reissue device token)` (AUTH_DEVICE_TOKEN_MISMATCH); one connect with the gateway
 * token gets the current device token back.
 */
import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import WebSocket from 'ws';

/** A device key pair and its id. */
export interface DeviceIdentity {
  deviceId: string;
  /** Raw 32-byte public key, base64url (the wire form). */
  publicKey: string;
  privateKey: KeyObject;
}

/** A fresh Ed25519 device identity. */
export function createDeviceIdentity(): DeviceIdentity {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // SPKI DER of an Ed25519 key = 12-byte prefix + the 32 raw bytes.
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(12);
  return { deviceId: createHash('sha256').update(raw).digest('hex'), publicKey: raw.toString('base64url'), privateKey };
}

/** What one connect of a device saw. */
export interface DeviceConnectResult {
  helloOk: boolean;
  /** hello-ok `auth.deviceToken`: the device token the gateway issued (or re-issued). */
  deviceToken?: string;
  /** hello-ok `auth.method`: `token`, `device-token`. */
  method?: string;
  error?: { code?: string; message?: string; details?: { code?: string; authReason?: string; [k: string]: unknown } };
  closeCode?: number;
}

export interface DeviceConnectOptions {
  url: string;
  identity: DeviceIdentity;
  /** What the device presents: the gateway token, or only its stored device token. */
  auth: { token: string } | { deviceToken: string };
  /** Browser Origin header (a Control UI sends one). */
  origin?: string;
  clientId?: string;
  clientMode?: string;
  timeoutMs?: number;
}

const SCOPES = ['operator.admin', 'operator.read', 'operator.write', 'operator.approvals', 'operator.pairing'];

/** One connect with a signed device identity; on rejection the client closes 4008 `connect failed`, as the UI does. */
export function deviceConnect(opts: DeviceConnectOptions): Promise<DeviceConnectResult> {
  const clientId = opts.clientId ?? 'webchat-ui';
  const clientMode = opts.clientMode ?? 'webchat';
  const role = 'operator';
  const presented = 'token' in opts.auth ? opts.auth.token : opts.auth.deviceToken;
  return new Promise((resolve) => {
    const out: DeviceConnectResult = { helloOk: false };
    const ws = new WebSocket(opts.url, {
      headers: { 'User-Agent': 'clawmedic-test-device/1.0', ...(opts.origin ? { Origin: opts.origin } : {}) },
    });
    const id = randomUUID();
    const timer = setTimeout(() => ws.terminate(), opts.timeoutMs ?? 30_000);
    ws.on('message', (data) => {
      let msg: { type?: string; event?: string; id?: string; ok?: boolean; payload?: { nonce?: string; auth?: { deviceToken?: string; method?: string } }; error?: DeviceConnectResult['error'] };
      try {
        msg = JSON.parse(data.toString()) as typeof msg;
      } catch {
        return;
      }
      if (msg.type === 'event' && msg.event === 'connect.challenge') {
        const nonce = msg.payload?.nonce ?? '';
        const signedAt = Date.now();
        const payload = ['v3', opts.identity.deviceId, clientId, clientMode, role, SCOPES.join(','), String(signedAt), presented, nonce, 'linux', ''].join('|');
        const signature = sign(null, Buffer.from(payload, 'utf8'), opts.identity.privateKey).toString('base64url');
        ws.send(
          JSON.stringify({
            type: 'req',
            id,
            method: 'connect',
            params: {
              minProtocol: 3,
              maxProtocol: 4,
              client: { id: clientId, version: 'control-ui', platform: 'linux', mode: clientMode },
              role,
              scopes: SCOPES,
              caps: [],
              auth: opts.auth,
              device: { id: opts.identity.deviceId, publicKey: opts.identity.publicKey, signature, signedAt, nonce },
              userAgent: 'clawmedic-test-device/1.0',
              locale: 'en-US',
            },
          }),
        );
      } else if (msg.type === 'res' && msg.id === id) {
        if (msg.ok) {
          out.helloOk = true;
          out.deviceToken = msg.payload?.auth?.deviceToken;
          out.method = msg.payload?.auth?.method;
          ws.close(1000, 'done');
        } else {
          out.error = msg.error;
          ws.close(4008, 'connect failed');
        }
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      clearTimeout(timer);
      out.closeCode = code;
      resolve(out);
    });
  });
}
