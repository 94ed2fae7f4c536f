/**
 * Benchmark (issue 4): `/status prod` from a Telegram update (the moment the Bot API stand-in holds it
 * for the bot's long poll; real grammY long polling) to the final reply accepted by the stand-in, against the console path to the same host
 * in the same run (rounds interleaved). Prints where the Telegram time goes.
 *
 * Run: npx tsx bench/telegram-status.ts   (env BENCH_ROUNDS to change the count)
 */
import { startHarness } from '../test/support/app-harness.js';
import { startTelegramStandin, type RecordedCall } from '../test/support/telegram/telegram-standin.js';
import type { ChatAdapter } from '../src/chat/adapter.js';
import type { Delivery } from '../src/domain/types.js';
import { atMost, interleaved, runIfMain, printHeader, printSeries, reportFigure, summarize, timeMs, type Figure } from './bench-kit.js';

const BENCH = 'telegram-status';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100);
/**
 * Pause after each arm. Without it the Telegram arm makes about 28 Bot API calls a second, and the send
 * queue's overall limit (Telegram's 30/s, a sliding window) starts holding calls back: that is
 * Telegram's broadcast pacing, not one user's command path. The figure is also printed without the
 * pause ("back to back"), for information.
 */
const PAUSE_MS = Number(process.env.BENCH_PAUSE_MS ?? 50);
/**
 * One private chat per round: Telegram allows about 1 message/s per chat (bursts of 3 here), so
 * back-to-back commands in one chat would measure that pacing, not clawmedic's path.
 */
const CHATS = Array.from({ length: 48 }, (_, i) => 7_000_001 + i);
const FINAL_TITLE = /prod: OK/;
const WARMUP = 3;

/** Run the benchmark; returns the headline figures. */
export async function run(): Promise<Figure[]> {
  printHeader('telegram /status prod: update → final reply accepted by the Bot API stand-in, vs the console');
  const tg = await startTelegramStandin();
  const h = await startHarness({
    app: { adapters: ['console', 'telegram'] },
    secrets: { telegramToken: tg.token },
    extra: {
      telegram: { apiRoot: tg.apiRoot },
      people: [{ platform: 'console', userId: 'local', role: 'admin' }, ...CHATS.map((id) => ({ platform: 'telegram', userId: String(id), role: 'viewer' }))],
      chats: CHATS.map((id) => ({ platform: 'telegram', chatId: String(id), hosts: ['prod'] })),
    },
  });
  const figures: Figure[] = [];

  // Timestamps (performance.now) of what the stand-in accepted and of what the notify worker handed to the adapter.
  type Seen = { at: number; call: RecordedCall };
  let seen: Seen[] = [];
  let onSeen: (() => void) | undefined;
  const calls = tg.layer.calls;
  const push = calls.push.bind(calls);
  calls.push = (...items: RecordedCall[]) => {
    const at = performance.now();
    for (const call of items) seen.push({ at, call });
    onSeen?.();
    return push(...items);
  };
  // The clock starts when the Bot API stand-in holds the update for the bot (Telegram has it); the time
  // telegram-test-api takes to accept the simulated user's message before that is the stand-in's, printed apart.
  let updateReadyAt = 0;
  const enqueue = tg.layer.enqueue.bind(tg.layer);
  tg.layer.enqueue = (updates) => {
    if (updates.some((u) => (u as { message?: { text?: string } }).message?.text === '/status prod')) updateReadyAt = performance.now();
    enqueue(updates);
  };
  const adapter = h.app.adapters.get('telegram') as ChatAdapter;
  const deliver = adapter.deliver.bind(adapter);
  let handedFinalAt = 0;
  adapter.deliver = (d: Delivery) => {
    if (FINAL_TITLE.test(d.reply.title)) handedFinalAt = performance.now();
    return deliver(d);
  };

  const textOf = (c: RecordedCall) => String(c.params.text ?? c.params.caption ?? '');
  const inChat = (c: RecordedCall, chat: number) => Number(c.params.chat_id) === chat && c.status === 200;
  const breakdown = { userSide: [] as number[], queuedReply: [] as number[], handedFinal: [] as number[], pacingWait: [] as number[] };
  let turn = 0;

  const telegramStatus = async (): Promise<number> => {
    const chat = CHATS[turn++ % CHATS.length]!;
    seen = [];
    handedFinalAt = 0;
    updateReadyAt = 0;
    const typedAt = performance.now();
    const final = new Promise<Seen>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('telegram: no final reply within 20 s')), 20_000);
      onSeen = () => {
        const hit = seen.find((s) => inChat(s.call, chat) && /^(sendMessage|editMessageText)$/.test(s.call.method) && FINAL_TITLE.test(textOf(s.call)));
        if (hit) {
          clearTimeout(timer);
          onSeen = undefined;
          resolve(hit);
        }
      };
    });
    await tg.userSends(chat, chat, '/status prod');
    const hit = await final;
    if (!updateReadyAt) throw new Error('telegram: the stand-in never queued the update');
    const t0 = updateReadyAt;
    if (turn <= WARMUP) return hit.at - t0;
    breakdown.userSide.push(t0 - typedAt);
    const first = seen.find((s) => inChat(s.call, chat) && s.call.method === 'sendMessage');
    if (first && first !== hit) breakdown.queuedReply.push(first.at - t0);
    if (handedFinalAt) {
      breakdown.handedFinal.push(handedFinalAt - t0);
      breakdown.pacingWait.push(hit.at - handedFinalAt);
    }
    return hit.at - t0;
  };
  const con = h.app.console!;
  const consoleStatus = () =>
    timeMs(async () => {
      const first = await con.input('/status prod');
      const final = await con.waitFor(first.messageKey!, 20_000);
      if (!FINAL_TITLE.test(final.title)) throw new Error(`console: unexpected reply ${final.title}`);
    });

  try {
    console.log(`\n## ${ROUNDS} rounds, ${WARMUP} warm-up, arms interleaved, ${PAUSE_MS} ms pause after each; ${CHATS.length} Telegram chats used in turn`);
    const res = await interleaved(ROUNDS, WARMUP, { telegram: telegramStatus, console: consoleStatus }, { deadlineMs: 50_000, pauseMs: PAUSE_MS });
    const sT = summarize(res.telegram!);
    const sC = summarize(res.console!);
    printSeries('Telegram: update → final reply accepted', sT);
    printSeries('console: command → final reply', sC);
    console.log('  where the Telegram time goes (from the update being ready for the bot):');
    printSeries('  (before: telegram-test-api takes the user message)', summarize(breakdown.userSide));
    if (breakdown.queuedReply.length) printSeries('  "queued" reply accepted by the stand-in', summarize(breakdown.queuedReply));
    if (breakdown.handedFinal.length) printSeries('  final reply handed to the adapter', summarize(breakdown.handedFinal));
    if (breakdown.pacingWait.length) printSeries('  handed → accepted (send queue pacing + HTTP)', summarize(breakdown.pacingWait));
    // For information: back to back, where Telegram's overall 30 calls/s limit starts to pace the replies.
    const b2bRounds = Math.min(ROUNDS, 60);
    const b2b = await interleaved(b2bRounds, 0, { telegram: telegramStatus, console: consoleStatus }, { deadlineMs: 30_000 });
    console.log(`  back to back (no pause, ~28 Bot API calls/s; for information, no target):`);
    printSeries('  Telegram: update → final reply accepted', summarize(b2b.telegram!));
    printSeries('  console: command → final reply', summarize(b2b.console!));
    figures.push(atMost(BENCH, 'Telegram /status p99', sT.p99, 1.3 * sC.p99, '1.3 × console p99'));
    reportFigure(figures[figures.length - 1]!);
    figures.push(atMost(BENCH, 'Telegram /status median', sT.median, 1.3 * sC.median, '1.3 × console median'));
    reportFigure(figures[figures.length - 1]!);
  } finally {
    await h.close();
    await tg.stop();
  }
  return figures;
}

runIfMain(import.meta.url, run);
