/**
 * A Redis Sentinel deployment of the test's own on loopback: one master, two replicas (so the
 * master can be killed twice) and three sentinels (quorum 2), each a real `redis-server` on a free
 * port. Data nodes persist every write (AOF, appendfsync always) in a temp dir; sentinels notice a
 * dead master after `downAfterMs` and promote a replica. With `tls`, every process listens only on a TLS port (`port 0`),
 * replication and the sentinels' own links use TLS too (`tls-replication yes`), and with `password` the data nodes
 * require it (the sentinels and replicas are given it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from './free-port.js';
import type { TlsMaterial } from './tls-certs.js';

export const MASTER_NAME = 'mymaster';

export interface SentinelNode {
  port: number;
  proc?: ChildProcess;
}

export interface SentinelDeployment {
  masterName: string;
  /** The data nodes (index 0 starts as master). */
  nodes: SentinelNode[];
  sentinels: Array<{ host: string; port: number }>;
  /** Port of the master the sentinels name now. */
  masterPort(): Promise<number>;
  /** kill -9 the current master; resolves with its port once the process is gone. */
  killMaster(): Promise<number>;
  /** Wait until the sentinels name a master other than `oldPort` that answers as master. */
  waitForNewMaster(oldPort: number, timeoutMs?: number): Promise<number>;
  /** Wait until the current master has at least `n` replicas online. */
  waitForReplicas(n: number, timeoutMs?: number): Promise<void>;
  /** The last output of every redis-server and sentinel process (for a failing test's message). */
  logs(): string;
  /** Run a command on one data node (port). */
  on<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T>;
  dispose(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`redis-sentinel: timed out waiting for ${what}`);
    await sleep(100);
  }
}

function spawnRedis(args: string[], logTo: string[]): ChildProcess {
  const p = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer) => {
    logTo.push(d.toString());
    if (logTo.length > 400) logTo.splice(0, logTo.length - 400);
  };
  p.stdout!.on('data', keep);
  p.stderr!.on('data', keep);
  return p;
}

async function withClient<T>(port: number, fn: (r: Redis) => Promise<T>, opts: RedisOptions = {}): Promise<T> {
  const r = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 1000, ...opts });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** Start master + 2 replicas + 3 sentinels; resolves once the replicas are in sync and every sentinel knows them. */
export async function startSentinelDeployment(
  opts: { downAfterMs?: number; failoverTimeoutMs?: number; tls?: TlsMaterial; tlsAuthClients?: boolean; password?: string } = {},
): Promise<SentinelDeployment> {
  const downAfter = opts.downAfterMs ?? 1000;
  const { tls, password } = opts;
  // How the test itself talks to the processes: over TLS with the client certificate when they use TLS.
  const tlsClient: RedisOptions = tls ? { tls: { ca: tls.pem.ca, cert: tls.pem.clientCert, key: tls.pem.clientKey } } : {};
  const nodeClient: RedisOptions = { ...tlsClient, ...(password ? { password } : {}) };
  const tlsArgs = tls ? [...tls.serverArgs({ authClients: opts.tlsAuthClients }), '--tls-replication', 'yes'] : [];
  const portArgs = (port: number) => (tls ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)]);
  const failoverTimeout = opts.failoverTimeoutMs ?? 3000;
  const dir = await mkdtemp(path.join(tmpdir(), 'clawmedic-sentinel-'));
  const logs: string[] = [];
  const nodes: SentinelNode[] = [];
  const sentinelProcs: ChildProcess[] = [];
  const sentinels: Array<{ host: string; port: number }> = [];

  const dispose = async () => {
    const all = [...nodes.map((n) => n.proc), ...sentinelProcs].filter((p): p is ChildProcess => !!p && p.exitCode === null && p.signalCode === null);
    await Promise.all(
      all.map(
        (p) =>
          new Promise<void>((r) => {
            p.once('exit', () => r());
            p.kill('SIGKILL');
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const nodeDir = path.join(dir, `node-${i}`);
      await mkdir(nodeDir);
      const args = [
        ...portArgs(port), ...tlsArgs, ...(password ? ['--requirepass', password, '--masterauth', password] : []),
        '--bind', '127.0.0.1', '--dir', nodeDir,
        '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction',
        '--replica-announce-ip', '127.0.0.1',
        ...(i > 0 ? ['--replicaof', '127.0.0.1', String(nodes[0]!.port)] : []),
      ];
      const node: SentinelNode = { port, proc: spawnRedis(args, logs) };
      nodes.push(node);
      await until(`redis-server on ${port}`, () => withClient(port, async (r) => (await r.ping()) === 'PONG', nodeClient), 10_000);
    }
    const master = nodes[0]!.port;
    await until('two replicas in sync', () => withClient(master, async (r) => ((await r.info('replication')).match(/state=online/g)?.length ?? 0) >= 2, nodeClient), 15_000);

    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = path.join(dir, `sentinel-${i}.conf`);
      // Sentinel rewrites its config file as it learns: each needs its own writable file.
      await writeFile(
        conf,
        [
          ...(tls
            ? [
                'port 0',
                `tls-port ${port}`,
                `tls-cert-file ${tls.files.cert}`,
                `tls-key-file ${tls.files.key}`,
                `tls-ca-cert-file ${tls.files.ca}`,
                `tls-auth-clients ${opts.tlsAuthClients ? 'yes' : 'no'}`,
                // The sentinels reach the data nodes over TLS too.
                'tls-replication yes',
              ]
            : [`port ${port}`]),
          'bind 127.0.0.1',
          `dir ${dir}`,
          'sentinel announce-ip 127.0.0.1',
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} ${downAfter}`,
          `sentinel failover-timeout ${MASTER_NAME} ${failoverTimeout}`,
          `sentinel parallel-syncs ${MASTER_NAME} 2`,
          ...(password ? [`sentinel auth-pass ${MASTER_NAME} ${password}`] : []),
          '',
        ].join('\n'),
      );
      sentinelProcs.push(spawnRedis([conf, '--sentinel'], logs));
      sentinels.push({ host: '127.0.0.1', port });
    }
    // Every sentinel has found both replicas and the other two sentinels (hello messages, every 2 s).
    for (const s of sentinels) {
      await until(
        `sentinel ${s.port} to know the deployment`,
        () =>
          withClient(s.port, async (r) => {
            const m = (await r.call('SENTINEL', 'MASTER', MASTER_NAME)) as string[];
            const f = Object.fromEntries(m.flatMap((v, i) => (i % 2 === 0 ? [[v, m[i + 1]]] : [])));
            return Number(f['num-slaves']) >= 2 && Number(f['num-other-sentinels']) >= 2;
          }, tlsClient),
        20_000,
      );
    }
  } catch (err) {
    await dispose();
    throw new Error(`${(err as Error).message}\n${logs.join('').slice(-3000)}`);
  }

  const masterPort = async () =>
    withClient(sentinels[0]!.port, async (r) => Number(((await r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as string[])[1]), tlsClient);

  return {
    masterName: MASTER_NAME,
    nodes,
    sentinels,
    masterPort,
    async killMaster() {
      const port = await masterPort();
      const node = nodes.find((n) => n.port === port);
      const p = node?.proc;
      if (!p) throw new Error(`no process of ours on master port ${port}`);
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGKILL');
      await exited;
      node.proc = undefined;
      return port;
    },
    async waitForNewMaster(oldPort, timeoutMs = 30_000) {
      return until(
        'a new master',
        async () => {
          for (const s of sentinels) {
            const port = await withClient(s.port, async (r) => Number(((await r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as string[])[1]), tlsClient).catch(() => 0);
            if (port && port !== oldPort && (await withClient(port, async (r) => /role:master/.test(await r.info('replication')), nodeClient).catch(() => false))) return port;
          }
          return false;
        },
        timeoutMs,
      );
    },
    async waitForReplicas(n, timeoutMs = 30_000) {
      await until(
        `${n} replica(s) online`,
        async () => withClient(await masterPort(), async (r) => ((await r.info('replication')).match(/state=online/g)?.length ?? 0) >= n, nodeClient),
        timeoutMs,
      );
    },
    logs: () => logs.join(''),
    on: (port, fn) => withClient(port, fn, nodeClient),
    dispose,
  };
}
