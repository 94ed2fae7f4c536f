/**
 * Issue 12 item 1: clawmedic reaches a Redis that is protected like host access — a password
 * (requirepass), an ACL user, and TLS (rediss:// with a throw-away CA). Real redis-server
 * processes on free ports; wrong or missing credentials and an untrusted certificate are refused
 * at once with a message that names the problem and never the password.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type RedisTlsOptions } from '../../src/state/redis.js';
import { RedisAccessError, waitForRedis } from '../../src/state/redis-wait.js';
import { createLogger } from '../../src/util/logger.js';
import { startHarness } from '../support/app-harness.js';
import { freePort } from '../support/free-port.js';

const execFileP = promisify(execFile);
const logger = createLogger('silent');
const PASSWORD = 'pa:ss@w/rd-0123456789';
const ENC = encodeURIComponent(PASSWORD);
/** redis-server command-line ACL: the default user off, one named user (each word its own argument). */
const ACL_USERS = ['--user', 'default', 'off', '--user', 'clawmedic', 'on', `>${PASSWORD}`, '~*', '&*', '+@all'];

let dir: string;
const procs: ChildProcess[] = [];
let certFile: string;
let keyFile: string;

/** Start a redis-server with `args` on a free port; resolves once it accepts TCP. */
async function startRedis(args: string[], portFlag: '--port' | '--tls-port' = '--port'): Promise<number> {
  const port = await freePort();
  const base = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const p = spawn('redis-server', [...base, ...(portFlag === '--tls-port' ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)]), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(p);
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 200; i++) {
    if (/Ready to accept connections/.test(out)) return port;
    if (p.exitCode !== null) throw new Error(`redis-server exited: ${out.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server did not start: ${out.slice(-500)}`);
}

/** A queue round trip through BullMQ on connections made by createRedis (what the app uses). */
async function bullRoundTrip(url: string, extra: RedisTlsOptions = {}): Promise<unknown> {
  const producer = createRedis(url, 'producer', extra);
  const workerConn = createRedis(url, 'worker', extra);
  const eventsConn = createRedis(url, 'worker', extra);
  const name = `auth-${Date.now()}`;
  const queue = new Queue(name, { connection: producer });
  // From the stream's start (the queue is new): from '$', a job finished before the first XREAD is missed.
  const events = new QueueEvents(name, { connection: eventsConn, lastEventId: '0-0' });
  const worker = new Worker(name, async (job) => `ran ${job.data.n}`, { connection: workerConn });
  try {
    await events.waitUntilReady();
    const job = await queue.add('x', { n: 7 });
    return await job.waitUntilFinished(events, 20_000);
  } finally {
    await worker.close();
    await events.close();
    await queue.close();
    for (const c of [producer, workerConn, eventsConn]) c.disconnect();
  }
}

async function refusal(url: string, extra: RedisTlsOptions = {}, maxWaitMs = 20_000): Promise<Error> {
  const err = await waitForRedis(url, logger, maxWaitMs, extra).then(
    () => new Error('connected'),
    (e: Error) => e,
  );
  return err;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'clawmedic-redis-auth-'));
  certFile = path.join(dir, 'redis.crt');
  keyFile = path.join(dir, 'redis.key');
  // Throw-away self-signed certificate for 127.0.0.1 (it is its own CA).
  await execFileP('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
  ]);
}, 60_000);
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('Redis with a password (requirepass)', () => {
  let port: number;
  beforeAll(async () => {
    port = await startRedis(['--requirepass', PASSWORD]);
  });

  it('works with the password in the URL, BullMQ included', async () => {
    await waitForRedis(`redis://:${ENC}@127.0.0.1:${port}`, logger, 5000);
    expect(await bullRoundTrip(`redis://:${ENC}@127.0.0.1:${port}`)).toBe('ran 7');
  }, 30_000);

  it('refuses a missing or wrong password at once, naming the problem and not the password', async () => {
    const missing = await refusal(`redis://127.0.0.1:${port}`);
    expect(missing).toBeInstanceOf(RedisAccessError);
    expect(missing.message).toMatch(/NOAUTH/);
    const wrong = await refusal(`redis://:nope-${ENC}@127.0.0.1:${port}`);
    expect(wrong).toBeInstanceOf(RedisAccessError);
    expect(wrong.message).toMatch(/WRONGPASS/);
    expect(wrong.message).toContain(`redis://127.0.0.1:${port}`);
    for (const e of [missing, wrong]) {
      expect(e.message).not.toContain(ENC);
      expect(e.message).not.toContain(PASSWORD);
    }
  }, 60_000);
});

describe('Redis with an ACL user', () => {
  let port: number;
  beforeAll(async () => {
    // The default user is off: only the named user gets in.
    port = await startRedis([...ACL_USERS]);
  });

  it('works as the ACL user, BullMQ included', async () => {
    const url = `redis://clawmedic:${ENC}@127.0.0.1:${port}`;
    await waitForRedis(url, logger, 5000);
    const r = createRedis(url, 'producer');
    expect(await r.acl('WHOAMI')).toBe('clawmedic');
    r.disconnect();
    expect(await bullRoundTrip(url)).toBe('ran 7');
  }, 30_000);

  it('refuses anonymous access and a wrong user', async () => {
    expect(await refusal(`redis://127.0.0.1:${port}`)).toBeInstanceOf(RedisAccessError);
    const wrong = await refusal(`redis://mallory:${ENC}@127.0.0.1:${port}`);
    expect(wrong).toBeInstanceOf(RedisAccessError);
    expect(wrong.message).not.toContain(PASSWORD);
  }, 60_000);
});

describe('Redis over TLS (rediss://) with an ACL user', () => {
  let port: number;
  let ca: string;
  beforeAll(async () => {
    port = await startRedis(
      ['--tls-cert-file', certFile, '--tls-key-file', keyFile, '--tls-ca-cert-file', certFile, '--tls-auth-clients', 'no', ...ACL_USERS],
      '--tls-port',
    );
    ca = await readFile(certFile, 'utf8');
  });

  it('works with the CA given, BullMQ included', async () => {
    const url = `rediss://clawmedic:${ENC}@127.0.0.1:${port}`;
    await waitForRedis(url, logger, 5000, { tlsCa: ca });
    expect(await bullRoundTrip(url, { tlsCa: ca })).toBe('ran 7');
  }, 30_000);

  it('refuses a server whose certificate it cannot verify (no CA given)', async () => {
    const err = await refusal(`rediss://clawmedic:${ENC}@127.0.0.1:${port}`);
    expect(err).toBeInstanceOf(RedisAccessError);
    expect(err.message).toMatch(/SELF_SIGNED|CERT/);
  }, 60_000);

  it('plain redis:// to the TLS port does not get in', async () => {
    const err = await refusal(`redis://clawmedic:${ENC}@127.0.0.1:${port}`, {}, 1500);
    expect(err.message).not.toBe('connected');
    expect(err.message).not.toContain(PASSWORD);
  }, 60_000);

  it('a whole clawmedic process runs /status over it', async () => {
    const h = await startHarness({ secrets: { redisUrl: `rediss://clawmedic:${ENC}@127.0.0.1:${port}`, redisTlsCa: ca }, app: { http: false } });
    try {
      await h.standin.setScenario('healthy');
      const con = h.app.console!;
      const first = await con.input('/status prod');
      const reply = await con.waitFor(first.messageKey!, 30_000);
      expect(reply.title).toBe('prod: OK');
      expect(reply.tone).toBe('ok');
    } finally {
      await h.close();
    }
  }, 90_000);
});
