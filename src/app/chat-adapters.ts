/**
 * The chat adapters a process serves: the console when asked for; Telegram and Discord only when
 * asked for and their credentials are set, loaded on demand (a console process loads neither).
 */
import type { KeySpace } from '../state/key-space.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { ChatAdapter } from '../domain/ports.js';
import { ConsoleAdapter, type ConsoleAdapterOptions } from '../chat/console/console-adapter.js';
import type { Router } from '../router/router.js';
import type { RedisClient } from '../state/redis.js';
import type { Logger } from '../util/logger.js';
import type { SecretBox } from '../util/secret-box.js';

/** The chat adapters a process can be asked to start (AppOptions.adapters). */
export type AdapterName = 'console' | 'telegram' | 'discord';

/** Start Telegram/Discord adapters whose credentials are set (and that were asked for). */
export async function startChatAdapters(
  loaded: LoadedConfig,
  adapters: readonly AdapterName[],
  ctx: { router: Router; redis: RedisClient; keys: KeySpace; logger: Logger; box: SecretBox },
): Promise<ChatAdapter[]> {
  const { secrets, config } = loaded;
  const started: ChatAdapter[] = [];
  const wantTelegram = adapters.includes('telegram') && secrets.telegramToken;
  const wantDiscord = adapters.includes('discord') && secrets.discordToken && secrets.discordApplicationId;
  if (!wantTelegram && !wantDiscord) return started;
  const { RedisMessageRefStore } = await import('../state/message-ref-store.js');
  // On the job connection (ctx.redis), which waits a failover out: the reference of a message just sent must be
  // written, or the delivery fails after the send and its retry sends the message a second time instead of editing it.
  const refs = new RedisMessageRefStore(ctx.redis, ctx.keys, ctx.box);
  if (wantTelegram) {
    const { TelegramAdapter } = await import('../chat/telegram/telegram-adapter.js');
    const adapter = new TelegramAdapter({
      token: secrets.telegramToken!,
      router: ctx.router,
      refs,
      apiRoot: config.telegram.apiRoot,
      mode: config.telegram.mode,
      webhook: config.telegram.webhook && secrets.telegramWebhookSecret
        ? { ...config.telegram.webhook, secretToken: secrets.telegramWebhookSecret }
        : undefined,
      logger: ctx.logger,
    });
    await adapter.start();
    started.push(adapter);
  }
  if (wantDiscord) {
    const { DiscordAdapter } = await import('../chat/discord/discord-adapter.js');
    const adapter = new DiscordAdapter({
      token: secrets.discordToken!,
      applicationId: secrets.discordApplicationId!,
      guildId: secrets.discordGuildId ?? config.discord.guildId,
      router: ctx.router,
      refs,
      restApi: config.discord.restApi,
      logger: ctx.logger,
    });
    await adapter.start();
    started.push(adapter);
  }
  return started;
}

/** Start the console adapter (the local CLI/REPL on the same router). */
export async function startConsoleAdapter(opts: ConsoleAdapterOptions): Promise<ConsoleAdapter> {
  const adapter = new ConsoleAdapter(opts);
  await adapter.start();
  return adapter;
}
