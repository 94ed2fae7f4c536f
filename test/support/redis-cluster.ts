/**
 * A Redis Cluster of the test's own on loopback: three masters and three replicas, each a real `redis-server
 * --cluster-enabled yes` on a free port (and a free cluster-bus port) in a temp dir, joined by `redis-cli --cluster
 * create --cluster-replicas 1`. Data nodes persist every write (AOF, appendfsync always); a replica is promoted
 * `nodeTimeoutMs` (+ about a second of election) after its master dies. A killed node can be started again on its
 * port and data dir: it rejoins as a replica of the master that took over. With `tls`, every node listens only on a TLS
 * port (`port 0`) and its cluster bus and replication use TLS too (`tls-cluster yes`, `tls-replication yes`); with
 * `password` every node requires it (and gives it to its master as a replica).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from './free-port.js';
import type { TlsMaterial } from './tls-certs.js';

const run = promisify(execFile);

export interface ClusterNode {
  port: number;
  proc?: ChildProcess;
  args: string[];
}

export interface ClusterDeployment {
  /** Every data node, as `redis.cluster` takes them. */
  nodes: Array<{ host: string; port: number }>;
  /** Port of the master serving the slot of `key` now (asked of a live node). */
  ownerOf(key: string): Promise<number>;
  /** kill -9 the master serving the slot of `key`; resolves with its port once the process is gone. */
  killOwnerOf(key: string): Promise<number>;
  /** Wait until a node other than `oldPort` serves the slot of `key` as master and the cluster says ok. */
  waitForNewOwner(key: string, oldPort: number, timeoutMs?: number): Promise<number>;
  /** Start a killed node again on its port and data dir; resolves once it is an online replica of `key`'s master. */
  restart(port: number, key: string, timeoutMs?: number): Promise<void>;
  /** The last output of every redis-server (for a failing test's message). */
  logs(): string;
  /** Run a command on one node (port). */
  on<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T>;
  dispose(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`redis-cluster: timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function withClientOpts<T>(port: number, fn: (r: Redis) => Promise<T>, opts: RedisOptions = {}): Promise<T> {
  const r = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 1000, ...opts });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** CLUSTER SLOTS as [from, to, master port][] (a node's own view). */
async function slotTable(r: Redis): Promise<Array<[number, number, number]>> {
  const rows = (await r.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, ...unknown[]], ...unknown[]]>;
  return rows.map((x) => [Number(x[0]), Number(x[1]), Number(x[2][1])]);
}

/** Start 3 masters + 3 replicas and join them; resolves once every node says cluster_state:ok and each master has its replica online. */
type ClusterOpts = { nodeTimeoutMs?: number; tls?: TlsMaterial; tlsAuthClients?: boolean; password?: string };

/**
 * Start the deployment; a failed start is tried again with fresh ports (twice at most). Why: with test files in
 * parallel, a port that was free when picked can be taken before redis-server binds it, and a port freed by another
 * file's killed node is still dialled by that node's cluster (seen in a full run: a node here that never came up while
 * strangers' gossip hit its bus port).
 */
export async function startClusterDeployment(opts: ClusterOpts = {}): Promise<ClusterDeployment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

async function startOnce(opts: ClusterOpts): Promise<ClusterDeployment> {
  const nodeTimeout = opts.nodeTimeoutMs ?? 2000;
  const { tls, password } = opts;
  // How the test itself talks to the nodes: over TLS with the client certificate when they use TLS.
  const clientOpts: RedisOptions = {
    ...(tls ? { tls: { ca: tls.pem.ca, cert: tls.pem.clientCert, key: tls.pem.clientKey } } : {}),
    ...(password ? { password } : {}),
  };
  const withClient = <T>(port: number, fn: (r: Redis) => Promise<T>) => withClientOpts(port, fn, clientOpts);
  const dir = await mkdtemp(path.join(tmpdir(), 'clawmedic-cluster-'));
  const logs: string[] = [];
  const nodes: ClusterNode[] = [];
  const keep = (d: Buffer) => {
    logs.push(d.toString());
    if (logs.length > 600) logs.splice(0, logs.length - 600);
  };
  const spawnNode = (node: ClusterNode) => {
    const p = spawn('redis-server', node.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', keep);
    p.stderr!.on('data', keep);
    node.proc = p;
  };
  const live = () => nodes.filter((n) => n.proc);

  const dispose = async () => {
    const all = nodes.map((n) => n.proc).filter((p): p is ChildProcess => !!p && p.exitCode === null && p.signalCode === null);
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

  const slotOf = async (key: string) => {
    for (const n of live()) {
      const slot = await withClient(n.port, async (r) => Number(await r.call('CLUSTER', 'KEYSLOT', key))).catch(() => undefined);
      if (slot !== undefined) return slot;
    }
    throw new Error('redis-cluster: no live node answers');
  };
  /** The owner of `slot` in the view of node `port`. */
  const ownerSeenBy = async (port: number, slot: number) =>
    withClient(port, async (r) => (await slotTable(r)).find(([from, to]) => slot >= from && slot <= to)?.[2]);
  const masterHasOnlineReplica = (port: number) =>
    withClient(port, async (r) => {
      const info = await r.info('replication');
      return /role:master/.test(info) && /slave\d+:.*state=online/.test(info);
    });

  try {
    for (let i = 0; i < 6; i++) {
      const port = await freePort();
      // The bus port defaults to port + 10000, which nobody checked is free: pick one.
      const busPort = await freePort();
      const nodeDir = path.join(dir, `node-${i}`);
      await mkdir(nodeDir);
      const node: ClusterNode = {
        port,
        args: [
          ...(tls ? ['--port', '0', '--tls-port', String(port), ...tls.serverArgs({ authClients: opts.tlsAuthClients }), '--tls-cluster', 'yes', '--tls-replication', 'yes'] : ['--port', String(port)]),
          ...(password ? ['--requirepass', password, '--masterauth', password] : []),
          '--bind', '127.0.0.1', '--dir', nodeDir,
          '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort),
          '--cluster-node-timeout', String(nodeTimeout), '--cluster-announce-ip', '127.0.0.1',
          '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction',
        ],
      };
      spawnNode(node);
      nodes.push(node);
    }
    for (const n of nodes) await until(`redis-server on ${n.port}`, () => withClient(n.port, async (r) => (await r.ping()) === 'PONG'), 10_000);
    const cliTls = tls ? ['--tls', '--cacert', tls.files.ca, '--cert', tls.files.clientCert, '--key', tls.files.clientKey] : [];
    // The password through the environment: redis-cli warns about -a on its command line.
    await run('redis-cli', [...cliTls, '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], {
      timeout: 30_000,
      env: { ...process.env, ...(password ? { REDISCLI_AUTH: password } : {}) },
    });
    for (const n of nodes) {
      await until(`node ${n.port} to say cluster_state:ok`, () => withClient(n.port, async (r) => /cluster_state:ok/.test(String(await r.call('CLUSTER', 'INFO')))), 20_000);
    }
    const masters = [...new Set((await withClient(nodes[0]!.port, slotTable)).map((x) => x[2]))];
    for (const m of masters) await until(`master ${m} to have its replica online`, () => masterHasOnlineReplica(m), 20_000);
  } catch (err) {
    await dispose();
    throw new Error(`${(err as Error).message}\n${(err as { stderr?: string }).stderr ?? ''}\n${logs.join('').slice(-3000)}`);
  }

  const ownerOf = async (key: string) => {
    const slot = await slotOf(key);
    for (const n of live()) {
      const owner = await ownerSeenBy(n.port, slot).catch(() => undefined);
      if (owner) return owner;
    }
    throw new Error(`redis-cluster: nobody serves slot ${slot}`);
  };

  return {
    nodes: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    ownerOf,
    async killOwnerOf(key) {
      const port = await ownerOf(key);
      const node = nodes.find((n) => n.port === port);
      const p = node?.proc;
      if (!p) throw new Error(`no process of ours on master port ${port}`);
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGKILL');
      await exited;
      node.proc = undefined;
      return port;
    },
    async waitForNewOwner(key, oldPort, timeoutMs = 30_000) {
      const slot = await slotOf(key);
      return until(
        'a new master of the slot',
        async () => {
          const views = await Promise.all(live().map((n) => ownerSeenBy(n.port, slot).catch(() => undefined)));
          const owner = views.find((v) => v !== undefined && v !== oldPort);
          if (!owner || views.some((v) => v !== owner)) return false;
          const ok = await withClient(owner, async (r) => /role:master/.test(await r.info('replication')) && /cluster_state:ok/.test(String(await r.call('CLUSTER', 'INFO'))));
          return ok && owner;
        },
        timeoutMs,
      );
    },
    async restart(port, key, timeoutMs = 30_000) {
      const node = nodes.find((n) => n.port === port);
      if (!node || node.proc) throw new Error(`node ${port} is not a killed node of ours`);
      spawnNode(node);
      const owner = await ownerOf(key);
      await until(`node ${port} to rejoin as replica of ${owner}`, () => masterHasOnlineReplica(owner), timeoutMs);
    },
    logs: () => logs.join(''),
    on: withClient,
    dispose,
  };
}
