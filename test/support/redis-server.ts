/**
 * A redis-server of the test's own, persisting with AOF (the shared one on 6379 keeps nothing
 * on disk), for tests that restart or kill Redis. Same port and data dir across restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

export interface OwnRedis {
  url: string;
  port: number;
  start(): Promise<void>;
  /** SIGTERM (clean) or SIGKILL (crash); AOF with appendfsync always keeps every write either way. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  dispose(): Promise<void>;
}


async function answers(port: number): Promise<boolean> {
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Start a persistent redis-server on a free loopback port. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'clawmedic-redis-'));
  let proc: ChildProcess | undefined;
  const handle: OwnRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      proc = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction'],
        { stdio: 'ignore' },
      );
      for (let i = 0; i < 100; i++) {
        if (await answers(port)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('redis-server did not start');
    },
    async stop(signal = 'SIGTERM') {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill(signal);
      await exited;
    },
    async dispose() {
      await handle.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}
