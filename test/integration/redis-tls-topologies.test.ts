/**
 * Issue 12.1 / 13.6: TLS (rediss://) through Redis Sentinel and to a Redis Cluster. Real processes with throw-away
 * certificates (openssl): every data node, sentinel and cluster node listens only on a TLS port (`port 0`), requires a
 * client certificate (`tls-auth-clients yes`) and a password, and replicates (and gossips) over TLS. clawmedic is
 * configured as an operator would (redis.sentinels / redis.cluster, REDIS_URL=rediss://…, REDIS_TLS_CA_FILE and the
 * client certificate): a BullMQ round trip and a whole process's /status go through, the connections follow a
 * failover over TLS, and a wrong CA or a missing client certificate is refused at once with a message that names the
 * problem and never the password.
 */
import { TLSSocket } from 'node:tls';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, redisTarget, type RedisClient, type RedisTlsOptions } from '../../src/state/redis.js';
import { RedisAccessError, waitForRedis } from '../../src/state/redis-wait.js';
import { KeySpace } from '../../src/state/key-space.js';
import { createLogger } from '../../src/util/logger.js';
import { startHarness } from '../support/app-harness.js';
import { startClusterDeployment, type ClusterDeployment } from '../support/redis-cluster.js';
import { startSentinelDeployment, type SentinelDeployment } from '../support/redis-sentinel.js';
import { uniquePrefix } from '../support/redis.js';
import { makeTlsMaterial, type TlsMaterial } from '../support/tls-certs.js';

const logger = createLogger('silent');
const PASSWORD = 'tls-pa:ss@w/rd-8841';
const ENC = encodeURIComponent(PASSWORD);

let tls: TlsMaterial;

beforeAll(async () => {
  tls = await makeTlsMaterial();
}, 60_000);
afterAll(() => tls?.dispose());

/** The secrets of an install that reaches Redis over TLS with a client certificate. */
const tlsSecrets = (redisUrl: string) => ({ redisUrl, redisUrlSet: true, redisTlsCa: tls.pem.ca, redisTlsCert: tls.pem.clientCert, redisTlsKey: tls.pem.clientKey });

/** The socket under a connection: a TLSSocket whose handshake completed when the data goes over TLS. */
function socketOf(conn: Redis): { encrypted: boolean; authorized: boolean; remotePort?: number } {
  const stream = (conn as unknown as { stream?: unknown }).stream;
  return stream instanceof TLSSocket ? { encrypted: true, authorized: stream.authorized, remotePort: stream.remotePort } : { encrypted: false, authorized: false };
}

/** A plain-text client to `port` gets no answer: the port speaks only TLS. */
async function plainAnswers(port: number): Promise<boolean> {
  const r = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 1000, commandTimeout: 1500 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** A queue round trip through BullMQ on connections made by createRedis (what the app uses). */
async function bullRoundTrip(url: string, extra: RedisTlsOptions, prefix: string): Promise<unknown> {
  const conns = [createRedis(url, 'producer', extra), createRedis(url, 'worker', extra), createRedis(url, 'worker', extra)];
  const [producer, workerConn, eventsConn] = conns as [RedisClient, RedisClient, RedisClient];
  const name = `tls-${Date.now()}`;
  const queue = new Queue(name, { connection: producer, prefix });
  // From the stream's start (the queue is new): from '$', a job finished before the first XREAD is missed and
  // waitUntilFinished times out (seen 2 in 4 runs of this file).
  const events = new QueueEvents(name, { connection: eventsConn, prefix, lastEventId: '0-0' });
  const worker = new Worker(name, async (job) => `ran ${job.data.n}`, { connection: workerConn, prefix });
  try {
    await events.waitUntilReady();
    const job = await queue.add('x', { n: 7 });
    return await job.waitUntilFinished(events, 20_000);
  } finally {
    await worker.close();
    await events.close();
    await queue.close();
    for (const c of conns) c.disconnect();
  }
}

/** waitForRedis's refusal (or an Error saying it connected), and how long it took. */
async function refusal(url: string, extra: RedisTlsOptions): Promise<{ err: Error; ms: number }> {
  const t0 = Date.now();
  const err = await waitForRedis(url, logger, 20_000, extra).then(
    () => new Error('connected'),
    (e: Error) => e,
  );
  return { err, ms: Date.now() - t0 };
}

function expectNoPassword(message: string): void {
  expect(message).not.toContain(PASSWORD);
  expect(message).not.toContain(ENC);
}

/** /status prod from the console of a whole clawmedic process made with these secrets and redis section. */
async function statusThroughApp(secrets: ReturnType<typeof tlsSecrets>, redis: Record<string, unknown>): Promise<string> {
  const h = await startHarness({ secrets, extra: { redis: { keyPrefix: uniquePrefix('tlsapp'), ...redis } }, app: { http: false } });
  try {
    await h.standin.setScenario('healthy');
    const first = await h.app.console!.input('/status prod');
    return (await h.app.console!.waitFor(first.messageKey!, 30_000)).title;
  } finally {
    await h.close();
  }
}

describe('Redis Sentinel over TLS (client certificate and password required)', () => {
  let sd: SentinelDeployment;
  let url: string;
  let extra: RedisTlsOptions;

  beforeAll(async () => {
    sd = await startSentinelDeployment({ tls, tlsAuthClients: true, password: PASSWORD, downAfterMs: 2000, failoverTimeoutMs: 4000 });
    const t = redisTarget({ sentinels: sd.sentinels, masterName: sd.masterName }, tlsSecrets(`rediss://:${ENC}@${sd.masterName}`));
    url = t.url;
    extra = t.extra;
  }, 90_000);
  afterAll(() => sd?.dispose());

  it('the deployment speaks only TLS: no plain port on any data node, no plain answer from any port', async () => {
    for (const n of sd.nodes) expect(await sd.on(n.port, async (r) => (await r.config('GET', 'port')) as string[])).toEqual(['port', '0']);
    for (const port of [...sd.nodes.map((n) => n.port), ...sd.sentinels.map((s) => s.port)]) expect(await plainAnswers(port), `port ${port}`).toBe(false);
  }, 30_000);

  it('clawmedic goes through the sentinels to the master over TLS: BullMQ round trip, and a whole process answers /status', async () => {
    await waitForRedis(url, logger, 10_000, extra);
    const conn = createRedis(url, 'producer', extra) as Redis;
    try {
      expect(await conn.ping()).toBe('PONG');
      const sock = socketOf(conn);
      expect(sock).toMatchObject({ encrypted: true, authorized: true, remotePort: await sd.masterPort() });
    } finally {
      conn.disconnect();
    }
    expect(await bullRoundTrip(url, extra, uniquePrefix('tlsq'))).toBe('ran 7');
    expect(await statusThroughApp(tlsSecrets(url), { sentinels: sd.sentinels, masterName: sd.masterName })).toBe('prod: OK');
  }, 90_000);

  it('the master killed: the connection follows the failover to the new master, over TLS', async () => {
    const conn = createRedis(url, 'worker', extra) as Redis;
    conn.on('error', () => undefined);
    try {
      const key = `${uniquePrefix('tlsfo')}:k`;
      await conn.set(key, 'before');
      const killedAt = Date.now();
      const old = await sd.killMaster();
      const write = conn.set(key, 'after');
      const fresh = await sd.waitForNewMaster(old);
      const promotedMs = Date.now() - killedAt;
      // Sent right after the kill: this connection waits failovers out (worker role) and asks the sentinels again.
      await write;
      console.log(`sentinel over TLS: master ${old} → ${fresh} promoted ${promotedMs} ms after the kill; a write sent at the kill answered after ${Date.now() - killedAt} ms`);
      expect(await conn.get(key)).toBe('after');
      expect(socketOf(conn)).toMatchObject({ encrypted: true, authorized: true, remotePort: fresh });
      await sd.on(fresh, async (r) => expect(await r.get(key)).toBe('after'));
    } finally {
      conn.disconnect();
    }
  }, 60_000);

  it('a wrong CA is refused at once, naming the certificate and REDIS_TLS_CA_FILE, never the password', async () => {
    const { err, ms } = await refusal(url, { ...extra, tlsCa: tls.pem.wrongCa });
    expect(err).toBeInstanceOf(RedisAccessError);
    expect(err.message).toMatch(/clawmedic refused the server's TLS certificate: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE): /);
    expect(err.message).toContain('REDIS_TLS_CA_FILE must hold the CA');
    expect(err.message).toContain(`Sentinel master "${sd.masterName}"`);
    expect(err.message).toContain('over TLS');
    expectNoPassword(err.message);
    expect(ms).toBeLessThan(5000);
  }, 30_000);

  it('without a client certificate the servers refuse, and the message names the variables to set', async () => {
    const { tlsCert: _c, tlsKey: _k, ...noClientCert } = extra;
    const { err, ms } = await refusal(url, noClientCert);
    expect(err).toBeInstanceOf(RedisAccessError);
    expect(err.message).toMatch(/refused the connection: \S+: tlsv13 alert certificate required\. /);
    expect(err.message).toContain('REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE');
    expect(ms).toBeLessThan(5000);
    expectNoPassword(err.message);
  }, 30_000);
});

describe('Redis Cluster over TLS (client certificate and password required)', () => {
  let cd: ClusterDeployment;
  let url: string;
  let extra: RedisTlsOptions;

  beforeAll(async () => {
    cd = await startClusterDeployment({ tls, tlsAuthClients: true, password: PASSWORD, nodeTimeoutMs: 2000 });
    const t = redisTarget({ cluster: cd.nodes }, tlsSecrets(`rediss://:${ENC}@127.0.0.1:${cd.nodes[0]!.port}`));
    url = t.url;
    extra = t.extra;
  }, 90_000);
  afterAll(() => cd?.dispose());

  it('the cluster speaks only TLS: no plain port on any node, and its slot map names the TLS ports', async () => {
    for (const n of cd.nodes) {
      expect(await cd.on(n.port, async (r) => (await r.config('GET', 'port')) as string[])).toEqual(['port', '0']);
      expect(await plainAnswers(n.port), `port ${n.port}`).toBe(false);
    }
    const ports = new Set(cd.nodes.map((n) => n.port));
    const slots = (await cd.on(cd.nodes[0]!.port, (r) => r.call('CLUSTER', 'SLOTS'))) as Array<[number, number, [string, number]]>;
    for (const [, , [, port]] of slots) expect(ports.has(Number(port))).toBe(true);
  }, 30_000);

  it('clawmedic reaches every node it uses over TLS: BullMQ round trip, and a whole process answers /status', async () => {
    await waitForRedis(url, logger, 10_000, extra);
    const prefix = KeySpace.forConfig({ keyPrefix: uniquePrefix('tlsq'), cluster: true }).prefix;
    expect(await bullRoundTrip(url, extra, prefix)).toBe('ran 7');
    const conn = createRedis(url, 'producer', extra);
    try {
      await conn.set(`${prefix}:probe`, '1');
      const nodes = (conn as unknown as { nodes(): Redis[] }).nodes();
      expect(nodes.length).toBeGreaterThan(0);
      for (const n of nodes.filter((x) => x.status === 'ready')) expect(socketOf(n)).toMatchObject({ encrypted: true, authorized: true });
    } finally {
      conn.disconnect();
    }
    expect(await statusThroughApp(tlsSecrets(url), { cluster: cd.nodes })).toBe('prod: OK');
  }, 90_000);

  it('the master of the slot killed: a waiting connection gets its answer from the promoted replica, over TLS', async () => {
    const tag = KeySpace.forConfig({ keyPrefix: uniquePrefix('tlsfo'), cluster: true }).prefix;
    const conn = createRedis(url, 'worker', extra);
    conn.on('error', () => undefined);
    try {
      await conn.set(`${tag}:k`, 'before');
      const killedAt = Date.now();
      const old = await cd.killOwnerOf(tag);
      const write = conn.set(`${tag}:k`, 'after');
      const fresh = await cd.waitForNewOwner(tag, old);
      const promotedMs = Date.now() - killedAt;
      await write;
      console.log(`cluster over TLS: master ${old} → ${fresh} serves the slot ${promotedMs} ms after the kill; a write sent at the kill answered after ${Date.now() - killedAt} ms`);
      expect(await conn.get(`${tag}:k`)).toBe('after');
      const node = (conn as unknown as { nodes(): Redis[] }).nodes().find((n) => n.options.port === fresh);
      expect(node && socketOf(node)).toMatchObject({ encrypted: true, authorized: true, remotePort: fresh });
    } finally {
      conn.disconnect();
    }
  }, 60_000);

  it('a wrong CA is refused at once, naming the certificate and REDIS_TLS_CA_FILE, never the password', async () => {
    const { err, ms } = await refusal(url, { ...extra, tlsCa: tls.pem.wrongCa });
    expect(err).toBeInstanceOf(RedisAccessError);
    expect(err.message).toMatch(/clawmedic refused the server's TLS certificate: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE): /);
    expect(err.message).toContain('REDIS_TLS_CA_FILE must hold the CA');
    expect(err.message).toContain('Redis Cluster (via');
    expectNoPassword(err.message);
    expect(ms).toBeLessThan(5000);
  }, 30_000);
});
