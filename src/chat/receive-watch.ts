/**
 * Watches whether each chat adapter of this process can receive. When one has been down longer than
 * a short grace period (a 409 from a second poller, Discord's gateway gone), the admins are told
 * through the OTHER platforms' alert chats, and told again (same message, edited) when it is back.
 * Both are audited. A platform that cannot receive cannot carry the news about itself.
 */
import type { AppConfig } from '../config/schema.js';
import type { AuditLog } from '../state/audit-log.js';
import type { ChatRef, Delivery, Platform } from '../domain/types.js';
import type { ChatAdapter } from '../domain/ports.js';
import { describeReceive } from './receive-health.js';

export interface ReceiveWatchOptions {
  adapters: Map<Platform, ChatAdapter>;
  config: Pick<AppConfig, 'chats'>;
  notifier: { send(d: Delivery): Promise<void> };
  audit: Pick<AuditLog, 'record'>;
  logger: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
  /** How long an adapter may be down before the admins are told. */
  graceMs: number;
  /** How often states are checked. */
  checkMs: number;
}

const PLATFORM_NAME: Record<Platform, string> = { telegram: 'Telegram', discord: 'Discord', console: 'console' };

/** Alert chats on platforms other than `down`: where the admins hear about it. */
export function noticeChatsFor(config: Pick<AppConfig, 'chats'>, down: Platform): ChatRef[] {
  return config.chats
    .filter((c) => c.alerts && c.platform !== down)
    .map((c) => ({ platform: c.platform, chatId: c.chatId, isGroup: c.platform === 'discord' || c.chatId.startsWith('-') }));
}

/** Start watching; close() stops it. */
export function startReceiveWatch(opts: ReceiveWatchOptions): { close(): void } {
  /** Per platform: the outage (its `since`) the admins were told about. */
  const told = new Map<Platform, number>();
  let busy = false;

  const tell = async (platform: Platform, since: number, title: string, tone: 'error' | 'ok', body: string[]): Promise<void> => {
    const chats = noticeChatsFor(opts.config, platform);
    if (chats.length === 0) opts.logger.warn({ platform }, 'no alert chat on another platform to tell the admins that this adapter cannot receive');
    for (const chat of chats) {
      await opts.notifier.send({ chat, reply: { title, tone, body }, messageKey: `receive-down:${platform}:${since}:${chat.platform}:${chat.chatId}` });
    }
  };

  const check = async (): Promise<void> => {
    for (const [platform, adapter] of opts.adapters) {
      const s = adapter.receiveState?.();
      if (!s) continue;
      const name = PLATFORM_NAME[platform];
      if (!s.ok && !told.has(platform) && Date.now() - s.since >= opts.graceMs) {
        told.set(platform, s.since);
        const line = describeReceive(platform, s);
        opts.logger.warn({ platform, since: new Date(s.since).toISOString(), reason: s.reason }, 'chat adapter cannot receive; telling the admins');
        await opts.audit.record({ event: 'alert', action: 'adapter_down', detail: line });
        await tell(platform, s.since, `clawmedic cannot receive on ${name}`, 'error', [
          `Since ${new Date(s.since).toISOString().slice(0, 16).replace('T', ' ')} UTC: ${s.reason}.`,
          `Commands sent on ${name} wait until it recovers; clawmedic keeps trying on its own.`,
          ...(s.reason.includes('409') ? ['Another program polls this bot token: stop it (a second clawmedic, or OpenClaw\'s Telegram channel using the same token).'] : []),
        ]);
      } else if (s.ok && told.has(platform)) {
        const since = told.get(platform)!;
        told.delete(platform);
        const minutes = Math.max(1, Math.round((Date.now() - since) / 60_000));
        opts.logger.info({ platform }, 'chat adapter receives again');
        await opts.audit.record({ event: 'alert', action: 'adapter_up', detail: `${platform} receiving again after ~${minutes} min` });
        await tell(platform, since, `clawmedic receives on ${name} again`, 'ok', [`It could not receive for about ${minutes} min. Commands sent meanwhile are answered now.`]);
      }
    }
  };

  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    check()
      .catch((err: unknown) => opts.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'receive watch check failed'))
      .finally(() => (busy = false));
  }, opts.checkMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
