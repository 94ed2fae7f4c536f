/**
 * Adds Telegram-like latency to chosen Bot API methods of the stand-in (real Telegram answers in 50-300 ms,
 * the loopback stand-in in ~1 ms), so e2e tests see the orderings a real deployment sees.
 */
import type { TelegramStandin } from './telegram-standin.js';

/** Delay every call of `methods` by `ms` before the stand-in handles it; returns a function that undoes it. */
export function addLatency(tg: TelegramStandin, methods: string[], ms: number): () => void {
  // BotApiLayer routes every method but getUpdates through dispatch(); wrapping it keeps the stand-in untouched.
  const layer = tg.layer as unknown as { dispatch: (method: string, params: Record<string, unknown>) => Promise<unknown> };
  const original = layer.dispatch;
  layer.dispatch = async function (this: unknown, method, params) {
    if (methods.includes(method)) await new Promise((r) => setTimeout(r, ms));
    return original.call(this, method, params);
  };
  return () => {
    layer.dispatch = original;
  };
}
