/**
 * The Bot API stand-in of bench/telegram-status.ts in a process of its own, as Telegram is: its HTTP
 * servers, telegram-test-api's storage and their garbage do not share clawmedic's event loop and heap.
 * Not a benchmark itself (run-all does not list it). The parent forks it with an IPC channel:
 *   child → parent  { type: 'ready', apiRoot, token }
 *                   { type: 'update', chat, at }    the update is held for the bot's long poll
 *                   { type: 'call', method, chat, text, status, at }   a Bot API call the stand-in answered
 *                   { type: 'sent', id, at }        a userSends finished (telegram-test-api took the message)
 *   parent → child  { type: 'userSends', id, chat, text } | { type: 'stop' }
 * Times are wall-clock milliseconds (performance.timeOrigin + performance.now()): both processes read the
 * same machine clock, so they compare across the two.
 */
import { startTelegramStandin, type RecordedCall } from '../test/support/telegram/telegram-standin.js';

export type StandinMessage =
  | { type: 'ready'; apiRoot: string; token: string }
  | { type: 'update'; chat: number; text: string; at: number }
  | { type: 'call'; method: string; chat: number; text: string; status: number; at: number }
  | { type: 'sent'; id: number; at: number };
export type StandinCommand = { type: 'userSends'; id: number; chat: number; text: string } | { type: 'stop' };

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between processes. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const send = (m: StandinMessage) => process.send!(m);
  const tg = await startTelegramStandin();
  const enqueue = tg.layer.enqueue.bind(tg.layer);
  tg.layer.enqueue = (updates) => {
    const at = wallMs();
    for (const u of updates) {
      const msg = (u as { message?: { text?: string; chat?: { id?: number } } }).message;
      if (msg?.text && msg.chat?.id !== undefined) send({ type: 'update', chat: msg.chat.id, text: msg.text, at });
    }
    enqueue(updates);
  };
  const calls = tg.layer.calls;
  const push = calls.push.bind(calls);
  calls.push = (...items: RecordedCall[]) => {
    const at = wallMs();
    for (const c of items) {
      send({ type: 'call', method: c.method, chat: Number(c.params.chat_id), text: String(c.params.text ?? c.params.caption ?? ''), status: c.status, at });
    }
    return push(...items);
  };
  process.on('message', (cmd: StandinCommand) => {
    if (cmd.type === 'stop') {
      void tg.stop().finally(() => process.exit(0));
      return;
    }
    void tg.userSends(cmd.chat, cmd.chat, cmd.text).then(
      () => send({ type: 'sent', id: cmd.id, at: wallMs() }),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
  process.on('disconnect', () => void tg.stop().finally(() => process.exit(0)));
  send({ type: 'ready', apiRoot: tg.apiRoot, token: tg.token });
}

if (process.env.CLAWMEDIC_TG_STANDIN_CHILD) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
