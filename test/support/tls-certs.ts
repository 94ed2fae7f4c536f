/**
 * Throw-away TLS material for tests, made with openssl in a temp dir: a CA, a server certificate signed by it for
 * 127.0.0.1 / localhost (redis-server, sentinels, cluster nodes and their replication and bus links all use it), a
 * client certificate signed by the same CA (for `tls-auth-clients yes`), and a second, unrelated CA: trusting that one
 * instead must get clawmedic refused.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TlsMaterial {
  dir: string;
  /** Files, for redis-server's tls-* options. */
  files: { ca: string; cert: string; key: string; clientCert: string; clientKey: string; wrongCa: string };
  /** PEM texts, as clawmedic's secrets hold them. */
  pem: { ca: string; clientCert: string; clientKey: string; wrongCa: string };
  /** The TLS flags of a redis-server (or sentinel, or redis-cli-free server) that serves with this material. */
  serverArgs(opts?: { authClients?: boolean }): string[];
  dispose(): Promise<void>;
}

async function ca(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', key, '-out', cert]);
  return { cert, key };
}

async function leaf(dir: string, name: string, signer: { cert: string; key: string }, ext: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const extFile = path.join(dir, `${name}.ext`);
  await writeFile(extFile, ext);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', key, '-out', csr]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', signer.cert, '-CAkey', signer.key, '-CAcreateserial', '-days', '1', '-extfile', extFile, '-out', cert]);
  return { cert, key };
}

export async function makeTlsMaterial(): Promise<TlsMaterial> {
  const dir = await mkdtemp(path.join(tmpdir(), 'clawmedic-tls-'));
  const good = await ca(dir, 'test-ca');
  const wrong = await ca(dir, 'wrong-ca');
  // One certificate serves both ends of the nodes' own links (replication, cluster bus): server and client use.
  const server = await leaf(dir, 'redis', good, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  const client = await leaf(dir, 'clawmedic', good, 'extendedKeyUsage=clientAuth\n');
  const files = { ca: good.cert, cert: server.cert, key: server.key, clientCert: client.cert, clientKey: client.key, wrongCa: wrong.cert };
  const pem = {
    ca: await readFile(files.ca, 'utf8'),
    clientCert: await readFile(files.clientCert, 'utf8'),
    clientKey: await readFile(files.clientKey, 'utf8'),
    wrongCa: await readFile(files.wrongCa, 'utf8'),
  };
  return {
    dir,
    files,
    pem,
    serverArgs: ({ authClients = false } = {}) => [
      '--tls-cert-file', files.cert, '--tls-key-file', files.key, '--tls-ca-cert-file', files.ca,
      '--tls-auth-clients', authClients ? 'yes' : 'no',
    ],
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
