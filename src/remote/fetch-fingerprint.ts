/**
 * `clawmedic hosts fingerprint <host[:port]>`: read a host's key the way ssh-keyscan does, so a user
 * can pin it after checking it out of band. Aborts before authentication; sends no credentials.
 */
import { Client } from 'ssh2';
import { HostUnreachableError, SshTimeoutError } from '../domain/errors.js';
import { redact } from '../util/redact.js';
import { fingerprintOf, keyTypeOf } from './host-key.js';

/** The key a host presented: OpenSSH fingerprint (SHA256:...) and key type (ssh-ed25519, ...). */
export interface HostKeyInfo {
  fingerprint: string;
  keyType: string;
}

/**
 * Connect to `host:port`, capture the host key in hostVerifier, reject it and disconnect.
 * The key is the one ssh2 negotiates (its default preference), i.e. exactly what SshRunner will later check.
 */
export function fetchHostKeyFingerprint(host: string, port: number, timeoutMs: number): Promise<HostKeyInfo> {
  const label = `${host}:${port}`;
  return new Promise((resolve, reject) => {
    const client = new Client();
    let captured: HostKeyInfo | undefined;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      // The handshake is aborted by hostVerifier returning false; make sure the socket goes too.
      try {
        client.end();
      } catch {
        /* already closed */
      }
    };
    const timer = setTimeout(() => {
      settle(() => reject(new SshTimeoutError(label, 'connect', timeoutMs)));
      client.destroy();
    }, timeoutMs);

    client.on('error', (err: Error & { code?: string }) => {
      if (captured) {
        const info = captured;
        return settle(() => resolve(info));
      }
      settle(() => reject(new HostUnreachableError(label, redact(err.code ?? err.message))));
    });
    client.on('close', () => {
      if (captured) {
        const info = captured;
        return settle(() => resolve(info));
      }
      settle(() => reject(new HostUnreachableError(label, 'connection closed before a host key was offered')));
    });
    try {
      client.connect({
        host,
        port,
        username: 'clawmedic-keyscan',
        readyTimeout: timeoutMs,
        hostVerifier: (key: Buffer) => {
          captured = { fingerprint: fingerprintOf(key), keyType: keyTypeOf(key) };
          // Refuse: we only wanted the key, never a session.
          return false;
        },
      });
      client.setNoDelay(true);
    } catch (err) {
      settle(() => reject(new HostUnreachableError(label, redact((err as Error).message))));
    }
  });
}
