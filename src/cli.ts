/**
 * The `clawmedic` command line: config check, host-key fingerprint, one-shot run, console,
 * bot, worker, demo, discord register. Errors are one readable line and exit code 1 or 2;
 * never a stack trace for a user mistake.
 */
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadConfig, type LoadedConfig } from './config/load-config.js';
import { ClawmedicError } from './domain/errors.js';
import type { Reply } from './domain/types.js';
import { createApp, type App } from './main.js';
import { createLogger, type Logger } from './util/logger.js';
import { redact } from './util/redact.js';

const USAGE = `clawmedic — diagnose and fix OpenClaw gateways from chat

Usage:
  clawmedic config check [--config clawmedic.yaml]
  clawmedic hosts fingerprint <host>[:port]
  clawmedic run "/status prod" [--config f] [--yes] [--timeout 180]
  clawmedic console [--config f]
  clawmedic start [--config f]      the bot: Telegram/Discord when their tokens are set, else the console
  clawmedic worker [--config f]     workers only, to add capacity on another machine sharing Redis
  clawmedic demo                    a simulated OpenClaw host on loopback and the console, nothing to configure
  clawmedic discord register [--config f]

Secrets come from the environment or .env (see .env.example); everything else from clawmedic.yaml.`;

/** Exit codes: 0 ok, 1 the command ran and reported a failure, 2 usage/config error. */
const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

function fail(message: string, code: number = EXIT.usage): never {
  process.stderr.write(`clawmedic: ${redact(message)}\n`);
  process.exit(code);
}

function loadDotEnv(): void {
  // Secrets live in .env for local runs; real env wins (loadEnvFile does not override set vars).
  if (existsSync('.env')) process.loadEnvFile('.env');
}

function configPath(values: { config?: string }): string {
  return values.config ?? process.env.CLAWMEDIC_CONFIG ?? 'clawmedic.yaml';
}

/** Wait for SIGINT/SIGTERM, then close the app gracefully (running jobs finish, connections close). */
function closeOnSignal(app: App, logger = createLogger()): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const onSignal = (sig: string) => {
      if (closing) process.exit(130);
      closing = true;
      logger.info(`${sig}: stopping (finishing running jobs; press Ctrl-C again to force)`);
      void app.close().then(resolve);
    };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
  });
}

async function runOnce(loaded: LoadedConfig, text: string, yes: boolean, timeoutSec: number): Promise<number> {
  const app = await createApp(loaded, { workers: true, adapters: ['console'], http: false, redisWaitMs: 5000 });
  const con = app.console!;
  try {
    const first = await con.input(text);
    if (!first.messageKey) return first.reply.tone === 'error' ? EXIT.failed : EXIT.ok;
    let final: Reply = await con.waitFor(first.messageKey, timeoutSec * 1000);
    const confirm = final.buttons?.find((b) => b.action === 'confirm');
    if (confirm && yes) {
      const pressed = await con.press(confirm);
      if (!pressed.messageKey) return EXIT.failed;
      final = await con.waitFor(pressed.messageKey, timeoutSec * 1000);
    } else if (confirm) {
      process.stdout.write('Not confirmed: nothing was changed. Re-run with --yes to apply this plan.\n');
    }
    return final.tone === 'error' ? EXIT.failed : EXIT.ok;
  } finally {
    await app.close();
  }
}

async function runConsole(loaded: LoadedConfig, withWorkers: boolean): Promise<void> {
  const app = await createApp(loaded, { workers: withWorkers, adapters: ['console'], http: false, redisWaitMs: 10_000 });
  const con = app.console!;
  process.stdout.write('clawmedic console — type /help, a command like /status, or the number of a button. Ctrl-D quits.\n');
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'clawmedic> ' });
  rl.prompt();
  for await (const line of rl) {
    if (line.trim()) await con.input(line).catch((err: unknown) => process.stdout.write(`error: ${redact(String(err))}\n`));
    rl.prompt();
  }
  await app.close();
}

type CliOptions = { config?: string; yes?: boolean; timeout?: string };

/** `clawmedic config check`: load and validate the config, say what it holds. */
function configCheck(sub: string | undefined, values: CliOptions): void {
  if (sub !== 'check') fail(`unknown subcommand "config ${sub ?? ''}"\n${USAGE}`);
  const loaded = loadConfig(configPath(values));
  process.stdout.write(
    `${loaded.file}: OK — ${loaded.hosts.length} host(s), ${loaded.config.people.length} person(s), ${loaded.config.chats.length} chat(s); ` +
      `adapters: ${[loaded.secrets.telegramToken && 'telegram', loaded.secrets.discordToken && 'discord', 'console'].filter(Boolean).join(', ')}\n`,
  );
  // Said once here instead of as a gap on every diagnose: an unprivileged SSH user cannot read dmesg.
  process.stdout.write(
    'Note: kernel OOM kills are read from the journal or dmesg; an SSH user without access to them (group systemd-journal or adm, ' +
      'or kernel.dmesg_restrict=0) gives clawmedic no kernel OOM evidence, only the supervisor\'s exit status and the gateway log.\n',
  );
}

/** `clawmedic hosts fingerprint <host>[:port]`: the host key to pin. */
async function hostsFingerprint(sub: string | undefined, target: string | undefined): Promise<void> {
  if (sub !== 'fingerprint' || !target) fail('usage: clawmedic hosts fingerprint <host>[:port]');
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(target);
  if (!m) fail(`"${target}" is not host or host:port`);
  const { fetchHostKeyFingerprint } = await import('./remote/fetch-fingerprint.js');
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = Number(m[2] ?? 22);
  const { fingerprint, keyType } = await fetchHostKeyFingerprint(host, port, 10_000);
  process.stdout.write(`${host}:${port} ${keyType} ${fingerprint}\n`);
  process.stdout.write(`Pin it in clawmedic.yaml under the host's ssh.hostKeyFingerprint. Compare with "ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub" on the host.\n`);
}

/** `clawmedic start`: the bot with its chats (the console without chat tokens, the demo without a config). */
async function start(values: CliOptions, logger: Logger): Promise<never> {
  const named = values.config ?? process.env.CLAWMEDIC_CONFIG;
  if (named !== undefined && !existsSync(named)) {
    // A config someone named (flag or env) that is not there is a typo, never a reason to start the demo.
    fail(`${named}: no such config file (named by ${values.config !== undefined ? '--config' : 'CLAWMEDIC_CONFIG'}); nothing was started`);
  }
  if (!existsSync(configPath(values))) {
    // First run on a fresh machine, nothing named: show the demo instead of an error.
    process.stdout.write(`No ${configPath(values)} yet (copy clawmedic.example.yaml to configure your hosts): starting the demo.\n`);
    const { runDemo } = await import('./demo/run-demo.js');
    await runDemo();
    process.exit(0);
  }
  const loaded = loadConfig(configPath(values));
  const chat = (['telegram', 'discord'] as const).filter((p) => (p === 'telegram' ? loaded.secrets.telegramToken : loaded.secrets.discordToken));
  if (chat.length === 0) {
    logger.info('no TELEGRAM_BOT_TOKEN or DISCORD_TOKEN set: starting the console (see .env.example)');
    await runConsole(loaded, true);
    process.exit(0);
  }
  const app = await createApp(loaded, { workers: true, adapters: [...chat], http: true, redisWaitMs: Infinity, logger, monitor: true });
  logger.info(`clawmedic running: ${chat.join(', ')}; ${loaded.hosts.length} host(s); http ${loaded.config.http.host}:${loaded.config.http.port}`);
  await closeOnSignal(app, logger);
  process.exit(0);
}

/** `clawmedic discord register`: the slash commands. */
async function discordRegister(sub: string | undefined, values: CliOptions): Promise<void> {
  if (sub !== 'register') fail('usage: clawmedic discord register');
  const loaded = loadConfig(configPath(values));
  const { secrets } = loaded;
  if (!secrets.discordToken || !secrets.discordApplicationId) fail('DISCORD_TOKEN and DISCORD_APPLICATION_ID must be set');
  const { registerCommands } = await import('./chat/discord/commands.js');
  const guildId = secrets.discordGuildId ?? loaded.config.discord.guildId;
  await registerCommands({ token: secrets.discordToken, applicationId: secrets.discordApplicationId, guildId, restApi: loaded.config.discord.restApi });
  process.stdout.write(`Slash commands registered ${guildId ? `in guild ${guildId} (instant)` : 'globally (may take up to an hour to show)'}.\n`);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      yes: { type: 'boolean', short: 'y', default: false },
      timeout: { type: 'string', default: '180' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [cmd, sub, ...rest] = positionals;
  if (values.help || !cmd) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  loadDotEnv();
  const logger = createLogger();

  switch (cmd) {
    case 'config':
      return configCheck(sub, values);
    case 'hosts':
      return hostsFingerprint(sub, rest[0]);
    case 'run': {
      if (!sub) fail('usage: clawmedic run "/status prod"');
      const timeout = Number(values.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0) fail(`--timeout: expected seconds, got "${values.timeout}"`);
      const code = await runOnce(loadConfig(configPath(values)), [sub, ...rest].join(' '), values.yes ?? false, timeout);
      process.exit(code);
    }
    case 'console':
      await runConsole(loadConfig(configPath(values)), true);
      process.exit(0);
    case 'start':
      return start(values, logger);
    case 'worker': {
      const app = await createApp(loadConfig(configPath(values)), { workers: true, adapters: [], http: true, redisWaitMs: Infinity, logger, monitor: true });
      logger.info('clawmedic worker running');
      await closeOnSignal(app, logger);
      process.exit(0);
    }
    case 'demo': {
      const { runDemo } = await import('./demo/run-demo.js');
      await runDemo();
      process.exit(0);
    }
    case 'discord':
      return discordRegister(sub, values);
    default:
      fail(`unknown command "${cmd}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ClawmedicError) fail(err.message, err.code === 'CONFIG' ? EXIT.usage : EXIT.failed);
  if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) fail(`${err.message}\n${USAGE}`);
  fail(err instanceof Error ? err.message : String(err), EXIT.failed);
});
