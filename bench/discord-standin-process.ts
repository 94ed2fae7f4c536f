/**
 * The Discord stand-in of bench/discord-interactions.ts in a process of its own, as Discord is: its HTTP
 * REST API, its WebSocket gateway and their garbage do not share clawmedic's event loop and heap (the
 * way bench/telegram-standin-process.ts does it for the Bot API). Not a benchmark itself (run-all does
 * not list it). The parent forks it with an IPC channel:
 *   child → parent  { type: 'ready', restApi, token, applicationId, guildId, channelId }
 *                   { type: 'invoked', id, at }        the stand-in sent INTERACTION_CREATE
 *                   { type: 'ack', id, at, rejected }   the initial callback (the deferral) was accepted
 *                   { type: 'edit', id, at, loading, edits, text }   the interaction's original message changed
 *                   { type: 'failed', id, error }       the stand-in could not dispatch it
 *   parent → child  { type: 'invoke', id, command, options } | { type: 'forget', id } | { type: 'stop' }
 * `text` is the message's content and its embeds as JSON; `rejected` counts callbacks the stand-in refused.
 * The stand-in watches an interaction until the parent forgets it. Times are wall-clock milliseconds
 * (performance.timeOrigin + performance.now()), stamped here when the stand-in's state changed: both
 * processes read the same machine clock, so they compare across the two.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startDiscordStandin, type InteractionHandle } from '../test/support/discord/discord-standin.js';
import { wallMs } from './telegram-standin-process.js';

export { wallMs };

export type DiscordStandinMessage =
  | { type: 'ready'; restApi: string; token: string; applicationId: string; guildId: string; channelId: string }
  | { type: 'invoked'; id: number; at: number }
  | { type: 'ack'; id: number; at: number; rejected: number }
  | { type: 'edit'; id: number; at: number; loading: boolean; edits: number; text: string }
  | { type: 'failed'; id: number; error: string };
export type DiscordStandinCommand =
  | { type: 'invoke'; id: number; command: string; options?: Record<string, string | number | boolean> }
  | { type: 'forget'; id: number }
  | { type: 'stop' };

interface Watch {
  handle: InteractionHandle;
  acked: boolean;
  /** edits/loading/deleted of the original message last reported. */
  seen: string;
}

async function main(): Promise<void> {
  const send = (m: DiscordStandinMessage) => process.send!(m);
  const dc = await startDiscordStandin();
  const watches = new Map<number, Watch>();
  // One check over the watched interactions on every change of the stand-in's state (it also polls).
  const check = (): false => {
    const at = wallMs();
    for (const [id, w] of watches) {
      const v = w.handle.view();
      if (!w.acked && v.initial) {
        w.acked = true;
        send({ type: 'ack', id, at, rejected: v.rejected.length });
      }
      const m = v.original;
      if (!m) continue;
      const seen = `${m.edits}|${m.loading}|${m.deleted}`;
      if (seen === w.seen) continue;
      w.seen = seen;
      send({ type: 'edit', id, at, loading: m.loading, edits: m.edits, text: `${m.content} ${JSON.stringify(m.embeds)}` });
    }
    return false;
  };
  void dc.waitFor(check, 2 ** 31 - 1, 'the bench to stop').catch(() => undefined);
  const stop = () => void dc.stop().finally(() => process.exit(0));
  process.on('message', (cmd: DiscordStandinCommand) => {
    if (cmd.type === 'stop') return stop();
    if (cmd.type === 'forget') return void watches.delete(cmd.id);
    try {
      const at = wallMs();
      const handle = dc.userInvokes(cmd.command, cmd.options ?? {});
      send({ type: 'invoked', id: cmd.id, at });
      watches.set(cmd.id, { handle, acked: false, seen: '' });
      check();
    } catch (err) {
      send({ type: 'failed', id: cmd.id, error: String(err) });
    }
  });
  process.on('disconnect', stop);
  send({ type: 'ready', restApi: dc.restApi, token: dc.token, applicationId: dc.applicationId, guildId: dc.guildId, channelId: dc.channelId });
}

/** The parent's view of one interaction the stand-in process dispatched. */
export interface RemoteInteraction {
  /** When the stand-in sent INTERACTION_CREATE (wall clock). */
  invoked: Promise<number>;
  /** Resolves when the deferral was accepted: when, and ms since the dispatch. */
  acknowledged(timeoutMs?: number): Promise<{ at: number; latencyMs: number; rejected: number }>;
  /** Resolves with the time (wall clock) of the first state of the original message that matches. */
  waitFor(predicate: (m: { text: string; loading: boolean }) => boolean, timeoutMs?: number): Promise<number>;
  /** The stand-in stops watching it (call once the bench has what it needs). */
  forget(): void;
}

/** The stand-in process as the bench uses it. */
export interface RemoteDiscordStandin {
  restApi: string;
  token: string;
  applicationId: string;
  guildId: string;
  channelId: string;
  userInvokes(command: string, options?: Record<string, string | number | boolean>): RemoteInteraction;
  stop(): Promise<void>;
}

interface Tracked {
  invokedAt?: number;
  ack?: { at: number; rejected: number };
  edits: Array<{ at: number; text: string; loading: boolean }>;
  error?: string;
  wake: Set<() => void>;
}

/** Fork the stand-in process (same Node flags and loader as this one); resolves once it serves. */
export async function forkDiscordStandin(): Promise<RemoteDiscordStandin> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: process.execArgv,
    env: { ...process.env, CLAWMEDIC_DC_STANDIN_CHILD: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const tracked = new Map<number, Tracked>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Extract<DiscordStandinMessage, { type: 'ready' }>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`Discord stand-in process exited with ${code}`)));
    child.on('message', (m: DiscordStandinMessage) => {
      if (m.type === 'ready') return resolve(m);
      const t = tracked.get(m.id);
      if (!t) return;
      if (m.type === 'invoked') t.invokedAt = m.at;
      else if (m.type === 'ack') t.ack = { at: m.at, rejected: m.rejected };
      else if (m.type === 'edit') t.edits.push({ at: m.at, text: m.text, loading: m.loading });
      else t.error = m.error;
      for (const w of [...t.wake]) w();
    });
  });
  // Resolves with `get(t)` once it is defined; rejects on a dispatch failure or after `timeoutMs`.
  const until = <T>(t: Tracked, get: (t: Tracked) => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`Discord stand-in process: no ${what} within ${timeoutMs} ms`)), timeoutMs);
      const done = (err?: Error, v?: T) => {
        clearTimeout(timer);
        t.wake.delete(poll);
        if (err) reject(err);
        else resolve(v as T);
      };
      const poll = () => {
        if (t.error) return done(new Error(`Discord stand-in process: ${t.error}`));
        const v = get(t);
        if (v !== undefined) done(undefined, v);
      };
      t.wake.add(poll);
      poll();
    });
  let nextId = 0;
  return {
    ...ready,
    userInvokes(command, options = {}) {
      const id = nextId++;
      const t: Tracked = { edits: [], wake: new Set() };
      tracked.set(id, t);
      child.send({ type: 'invoke', id, command, options } satisfies DiscordStandinCommand);
      const invoked = until(t, (x) => x.invokedAt, 10_000, `dispatch of /${command}`);
      invoked.catch(() => undefined); // the caller sees the rejection when it awaits; a probe may never await it
      return {
        invoked,
        acknowledged: (timeoutMs = 10_000) =>
          until(t, (x) => (x.ack && x.invokedAt !== undefined ? { ...x.ack, latencyMs: x.ack.at - x.invokedAt } : undefined), timeoutMs, `deferral of /${command}`),
        waitFor: (predicate, timeoutMs = 20_000) => until(t, (x) => x.edits.find((e) => predicate(e))?.at, timeoutMs, `matching edit of /${command}`),
        forget() {
          tracked.delete(id);
          child.send({ type: 'forget', id } satisfies DiscordStandinCommand);
        },
      };
    },
    async stop() {
      if (child.connected) child.send({ type: 'stop' } satisfies DiscordStandinCommand);
      await exited;
    },
  };
}

if (process.env.CLAWMEDIC_DC_STANDIN_CHILD) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
