/**
 * How Telegram updates reach the bot: our own long-poll loop (default) or a webhook server behind
 * a TLS proxy. Receiving health (polling answers or not) is reported to the adapter's ReceiveHealth.
 */
import { createServer, type Server } from 'node:http';
import { webhookCallback, type Bot } from 'grammy';
import { ConfigError } from '../../domain/errors.js';
import type { ReceiveHealth } from '../receive-health.js';
import { errorText, isApiError } from './api-errors.js';
import { TelegramConflictError } from './telegram-conflict-error.js';

/** The update kinds clawmedic handles; Telegram sends no others. */
const ALLOWED_UPDATES = ['message', 'callback_query'] as const;
/** Polling after a failure: 1 s doubling up to 30 s (a second poller may stop any moment; Telegram may be down for long). */
const POLL_BACKOFF_FIRST_MS = 1_000;
const POLL_BACKOFF_MAX_MS = 30_000;

/** Webhook settings: public URL Telegram calls, the secret it sends back, and where we listen. */
export interface TelegramWebhook {
  url: string;
  secretToken: string;
  port: number;
  path: string;
  host?: string;
}

/** Receiving options (see TelegramAdapterOptions for their defaults). */
export interface ReceiverOptions {
  webhook?: TelegramWebhook;
  pollingTimeoutSeconds?: number;
  conflictGraceMs?: number;
}

/** Logger subset the receiver uses. */
export interface ReceiverLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Resolve after `ms`, or at once when `signal` aborts. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Feeds updates into `bot.handleUpdate` by polling or through a webhook server. */
export class TelegramReceiver {
  private webhookServer: Server | undefined;
  private polling: Promise<void> | undefined;
  private pollAbort: AbortController | undefined;

  constructor(
    private readonly bot: Bot,
    private readonly opts: ReceiverOptions,
    private readonly health: ReceiveHealth,
    private readonly log: ReceiverLogger,
  ) {}

  /** Stop polling or close the webhook server (the webhook stays registered). */
  async stop(): Promise<void> {
    this.pollAbort?.abort();
    await this.polling?.catch(() => undefined);
    if (this.webhookServer) {
      // The webhook stays registered: Telegram keeps updates for us until we are back.
      await new Promise<void>((resolve) => this.webhookServer!.close(() => resolve()));
      this.webhookServer = undefined;
    }
  }

  /** Start long polling; resolves once updates flow. Throws TelegramConflictError when another program owns the token. */
  async startPolling(): Promise<void> {
    // A webhook set by someone else means another program owns this token; deleting it would break that program.
    const info = await this.bot.api.getWebhookInfo();
    if (info.url) throw new TelegramConflictError('webhook');
    let settle!: (err?: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      let done = false;
      settle = (err) => {
        if (done) return;
        done = true;
        if (err) reject(err);
        else resolve();
      };
    });
    // A poll still pending after the grace period means nobody else is polling right now.
    const grace = setTimeout(() => settle(), this.opts.conflictGraceMs ?? 1500);
    grace.unref();
    this.pollAbort = new AbortController();
    this.polling = this.pollLoop(this.pollAbort.signal, settle).finally(() => clearTimeout(grace));
    await ready;
  }

  /**
   * Our own long-poll loop instead of bot.start(), which stops for good on the first 409. A 409 at
   * start is refused (another program owns the token); later, any failure (409 from a second poller,
   * network, 5xx) marks receiving down and polling goes on with capped exponential backoff, because
   * the other poller may be a mistake that ends.
   */
  private async pollLoop(signal: AbortSignal, settle: (err?: Error) => void): Promise<void> {
    let offset: number | undefined;
    let failures = 0;
    let started = false;
    while (!signal.aborted) {
      let updates: Awaited<ReturnType<Bot['api']['getUpdates']>>;
      try {
        updates = await this.bot.api.getUpdates(
          { ...(offset !== undefined ? { offset } : {}), timeout: this.opts.pollingTimeoutSeconds ?? 30, allowed_updates: [...ALLOWED_UPDATES] },
          // grammY types its signal with the abort-controller polyfill; Node's AbortSignal is what it uses at runtime.
          signal as unknown as Parameters<Bot['api']['getUpdates']>[1],
        );
      } catch (err) {
        if (signal.aborted) return;
        const conflict = isApiError(err, 409);
        if (!started) {
          if (conflict) {
            settle(new TelegramConflictError('polling'));
            return;
          }
          if (isApiError(err, 401)) {
            settle(new Error(`telegram polling stopped: ${errorText(err)}`));
            return;
          }
        }
        const reason = conflict ? 'another program polls this bot token (409 Conflict)' : `getUpdates failed: ${errorText(err)}`;
        if (failures === 0) this.log.error({ error: reason }, 'telegram: cannot receive updates; polling goes on with backoff');
        this.health.markDown(reason);
        const wait = Math.min(POLL_BACKOFF_FIRST_MS * 2 ** failures, POLL_BACKOFF_MAX_MS);
        failures++;
        await abortableSleep(wait, signal);
        continue;
      }
      if (!started) {
        started = true;
        settle();
      }
      if (failures > 0) this.log.info({ failedPolls: failures }, 'telegram: receiving updates again');
      failures = 0;
      this.health.markOk();
      for (const update of updates) {
        offset = update.update_id + 1;
        // Handlers log their own errors (bot.catch); one bad update never stops the loop.
        await this.bot.handleUpdate(update).catch((err: unknown) => this.log.error({ updateId: update.update_id, error: errorText(err) }, 'telegram: update failed'));
      }
    }
  }

  /** Listen for Telegram's webhook calls, then register the webhook. */
  async startWebhook(): Promise<void> {
    const wh = this.opts.webhook;
    if (!wh) throw new ConfigError('telegram webhook mode needs webhook.url, webhook.secretToken, webhook.port and webhook.path');
    const handle = webhookCallback(this.bot, 'http', { secretToken: wh.secretToken, onTimeout: 'return' });
    this.webhookServer = createServer((req, res) => {
      if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== wh.path) {
        res.writeHead(404).end();
        return;
      }
      handle(req, res).catch((err: unknown) => {
        this.log.warn({ error: errorText(err) }, 'telegram: webhook request failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.webhookServer!.once('error', reject);
      this.webhookServer!.listen(wh.port, wh.host ?? '127.0.0.1', () => resolve());
    });
    await this.bot.api.setWebhook(wh.url, { secret_token: wh.secretToken, allowed_updates: [...ALLOWED_UPDATES] });
  }
}
