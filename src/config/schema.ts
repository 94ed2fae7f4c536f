/**
 * zod schema of clawmedic.yaml: everything but secrets. The parsed result is `AppConfig`;
 * hosts come out exactly as `HostConfig` (src/domain/host.ts). Defaults live here, once.
 */
import { z } from 'zod';
import { DEFAULTS, HOST_NAME_PATTERN, REQUEST_LIMITS } from '../constants.js';

const portNumber = z
  .number({ error: 'expected integer 1-65535' })
  .int({ error: 'expected integer 1-65535' })
  .min(1, { error: 'expected integer 1-65535' })
  .max(65535, { error: 'expected integer 1-65535' });

/** The auto-fix budget: at least one an hour (0 would be `autoFix: false` on the hosts), at most one a minute. */
const autoFixPerHour = z
  .number({ error: 'expected integer 1-60' })
  .int({ error: 'expected integer 1-60' })
  .min(1, { error: 'expected integer 1-60 (to turn auto-fix off, set autoFix: false on the host)' })
  .max(60, { error: 'expected integer 1-60' });

const nonEmpty = z.string({ error: 'expected a non-empty string' }).trim().min(1, { error: 'expected a non-empty string' });

/*
 * Inventory values that end up in remote scripts. Templates quote every one of them whatever it holds
 * (src/openclaw/templates.ts); these rules refuse what can only be a mistake or an attack, so it is named
 * at start instead of surfacing as a strange command on a host. The key path comes from formatIssues (issues.ts).
 */
/** Control characters (newline, tab, ESC, NUL, DEL) never belong in a name or path. */
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/** A path on the host (bin, stateDir, envFile): no control characters, not starting with "-". */
const hostPath = nonEmpty.refine((v) => !CONTROL_CHARS.test(v) && !v.startsWith('-'), {
  error: 'expected a path (no newlines or control characters, not starting with "-")',
});
/** systemd unit names: ASCII letters, digits and : - _ . \ @ (systemd.unit(5)); a leading "-" would read as an option. */
const unitName = nonEmpty.regex(/^[A-Za-z0-9:_.\\@][A-Za-z0-9:_.\\@-]*$/, {
  error: 'expected a systemd unit name (letters, digits and : _ . \\ @ -, no spaces, not starting with "-")',
});
/** Docker container names (or ids): [a-zA-Z0-9][a-zA-Z0-9_.-]*, the rule the docker daemon applies. */
const containerName = nonEmpty.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
  error: 'expected a docker container name (letters, digits, "_", "." or "-", starting with a letter or digit)',
});
/** OpenClaw's own rule for --profile (it refuses anything else): letters, digits, "_" and "-", at most 64. */
const profileName = nonEmpty.regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, {
  error: 'expected an OpenClaw profile name (letters, digits, "_" or "-", starting with a letter or digit, at most 64)',
});
/** SSH host and user: one word, not starting with "-" (ssh would read it as an option). */
const sshWord = nonEmpty.refine((v) => !/[\s\u0000-\u001f\u007f]/.test(v) && !v.startsWith('-'), {
  error: 'expected one word (no spaces or control characters, not starting with "-")',
});

/** Platform ids are strings in config; numbers (Telegram ids written bare) are accepted and turned into strings. */
const platformId = z
  .union([z.string(), z.number().int()], { error: 'expected a user/chat id (string or integer)' })
  .transform((v) => String(v))
  .refine((v) => /^-?[0-9A-Za-z_.:-]{1,64}$/.test(v), { error: 'expected a platform id (digits, or letters for console)' });

const fingerprint = z
  .string({ error: 'expected a host key fingerprint "SHA256:<base64>"' })
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, {
    error: 'expected a host key fingerprint "SHA256:<43 base64 chars>" (get it with: clawmedic hosts fingerprint <host>:<port>)',
  });

const supervisorSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('systemd-user'), unit: unitName.default(DEFAULTS.systemdUnit) }).strict(),
    z.object({ kind: z.literal('docker'), container: containerName }).strict(),
    z.object({ kind: z.literal('commands'), start: nonEmpty, stop: nonEmpty, status: nonEmpty.optional() }).strict(),
  ],
  { error: 'expected kind: systemd-user | docker | commands' },
);

const hostSchema = z
  .object({
    name: z.string({ error: 'expected a host name' }).regex(HOST_NAME_PATTERN, {
      error: 'expected a host name of lowercase letters, digits, "-" or "_" (1-63 chars)',
    }),
    ssh: z
      .object({
        host: sshWord,
        port: portNumber.default(22),
        user: sshWord,
        hostKeyFingerprint: fingerprint,
        privateKeyPath: nonEmpty.optional(),
        /** Allow SHA-1 (ssh-rsa host keys, hmac-sha1, sha1 key exchange) for this host only: an old sshd that offers nothing else. */
        legacyAlgorithms: z.boolean({ error: 'expected true or false' }).optional(),
      })
      .strict(),
    install: z.enum(['native', 'docker'], { error: 'expected native | docker' }).default('native'),
    container: containerName.optional(),
    supervisor: supervisorSchema,
    openclaw: z
      .object({
        bin: hostPath.default('openclaw'),
        profile: profileName.optional(),
        stateDir: hostPath.optional(),
      })
      .strict()
      .default({ bin: 'openclaw' }),
    gateway: z
      .object({
        port: portNumber.default(DEFAULTS.gatewayPort),
        url: z.url({ error: 'expected a URL such as wss://claw.example.com' }).optional(),
      })
      .strict()
      .default({ port: DEFAULTS.gatewayPort }),
    envFile: hostPath.optional(),
    allowKillPortOwner: z.boolean({ error: 'expected true or false' }).default(false),
    autoFix: z.boolean({ error: 'expected true or false' }).default(false),
  })
  .strict()
  .superRefine((h, ctx) => {
    if (h.install === 'docker' && !h.container) {
      ctx.addIssue({ code: 'custom', path: ['container'], message: 'expected a container name for install: docker' });
    }
  });

/**
 * Telegram and Discord ids are numbers (Discord's are snowflakes written as digits). A username such as
 * "alice" would be accepted and then never match anyone: clawmedic authorizes by immutable id only.
 */
function numericIdOnChatPlatforms(v: { platform: string; userId?: string; chatId?: string }, ctx: z.RefinementCtx): void {
  for (const key of ['userId', 'chatId'] as const) {
    const id = v[key];
    if (id === undefined || v.platform === 'console') continue;
    if (!/^-?[0-9]{1,20}$/.test(id)) {
      ctx.addIssue({ code: 'custom', path: [key], message: `expected the numeric ${v.platform} ${key === 'userId' ? 'user' : 'chat'} id (a username like "${id}" never matches: ids never change, names do)` });
    }
  }
}

const personSchema = z
  .object({
    platform: z.enum(['telegram', 'discord', 'console'], { error: 'expected telegram | discord | console' }),
    userId: platformId,
    role: z.enum(['viewer', 'operator', 'admin'], { error: 'expected viewer | operator | admin' }),
    name: z.string().optional(),
    /** Hosts this person may name in a private chat (DM) with the bot; "*" = all. */
    hosts: z.array(nonEmpty, { error: 'expected a list of host names (or ["*"])' }).optional(),
  })
  .strict()
  .superRefine(numericIdOnChatPlatforms);

const chatSchema = z
  .object({
    platform: z.enum(['telegram', 'discord', 'console'], { error: 'expected telegram | discord | console' }),
    chatId: platformId,
    /** Host names this chat may see; "*" = all hosts. */
    hosts: z.array(nonEmpty, { error: 'expected a list of host names (or ["*"])' }).min(1),
    /** Send alerts for those hosts here. */
    alerts: z.boolean().default(true),
  })
  .strict()
  .superRefine(numericIdOnChatPlatforms);

/** Longest duration a setting may have: Node timers overflow past ~24.8 days (then fire after ~1 ms); a day is plenty. */
const MAX_DURATION_SEC = 86_400;
const durationSec = z
  .number({ error: 'expected a number of seconds' })
  .positive({ error: 'expected a positive number of seconds' })
  .max(MAX_DURATION_SEC, { error: `expected at most ${MAX_DURATION_SEC} seconds (one day)` });

export const configSchema = z
  .object({
    hosts: z.array(hostSchema, { error: 'expected a list of hosts' }).min(1, { error: 'expected at least one host' }),
    people: z.array(personSchema, { error: 'expected a list of people' }).default([]),
    chats: z.array(chatSchema, { error: 'expected a list of chats' }).default([]),
    console: z
      .object({ userId: platformId.default('local') })
      .strict()
      .default({ userId: 'local' }),
    redis: z
      .object({
        keyPrefix: z.string().regex(/^[a-z0-9:_-]{1,40}$/).default(DEFAULTS.keyPrefix),
        /**
         * Redis Sentinel: where the sentinels listen. With them clawmedic asks the sentinels for the current master
         * and follows failovers; passwords stay in the environment (REDIS_URL, REDIS_SENTINEL_PASSWORD).
         */
        sentinels: z
          .array(
            z
              .object({ host: z.string({ error: 'expected a host name or address' }).trim().min(1, { error: 'expected a host name or address' }), port: portNumber.default(26379) })
              .strict(),
            { error: 'expected a list of {host, port}' },
          )
          .min(1, { error: 'expected at least one sentinel' })
          .optional(),
        /**
         * Redis Cluster: some of its nodes (any node will do; clawmedic learns the rest from them). Every key then lives
         * under the hash tag `{<keyPrefix>}:` (one slot), so BullMQ's scripts and clawmedic's MULTIs and scripts stay
         * within one slot; passwords stay in the environment (REDIS_URL).
         */
        cluster: z
          .array(
            z
              .object({ host: z.string({ error: 'expected a host name or address' }).trim().min(1, { error: 'expected a host name or address' }), port: portNumber.default(6379) })
              .strict(),
            { error: 'expected a list of cluster nodes {host, port}' },
          )
          .min(1, { error: 'expected at least one cluster node' })
          .optional(),
        /**
         * TLS to the sentinels themselves. Unset: as REDIS_URL (rediss:// means TLS to the sentinels and to the data
         * nodes); false for sentinels that listen only in plain text while the data nodes use TLS.
         */
        sentinelTls: z.boolean({ error: 'expected true or false' }).optional(),
        /** The master group name the sentinels monitor (`sentinel monitor <name> …`). */
        masterName: z.string({ error: 'expected the master name the sentinels monitor' }).regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected the master name the sentinels monitor (letters, digits, . _ -)' }).optional(),
      })
      .strict()
      .superRefine((r, ctx) => {
        if (r.sentinels && !r.masterName) ctx.addIssue({ code: 'custom', path: ['masterName'], message: 'expected the master name the sentinels monitor (required with sentinels)' });
        if (r.cluster && (r.sentinels || r.masterName)) {
          // Two answers to "where is Redis": a Cluster is not reached through sentinels (it fails over by itself).
          ctx.addIssue({ code: 'custom', path: ['cluster'], message: 'expected either cluster or sentinels + masterName, not both (a Redis Cluster fails over by itself)' });
        }
        if (r.sentinelTls !== undefined && !r.sentinels) ctx.addIssue({ code: 'custom', path: ['sentinelTls'], message: 'expected only with sentinels' });
        if (r.masterName && !r.sentinels) ctx.addIssue({ code: 'custom', path: ['sentinels'], message: 'expected a list of sentinels {host, port} (required with masterName)' });
      })
      .default({ keyPrefix: DEFAULTS.keyPrefix }),
    jobs: z
      .object({
        commandTimeoutSec: durationSec.default(DEFAULTS.commandTimeoutSec),
        connectTimeoutSec: durationSec.default(DEFAULTS.connectTimeoutSec),
        maxOutputBytes: z.number().int().positive().default(DEFAULTS.maxOutputBytes),
        confirmTtlSec: durationSec.default(DEFAULTS.confirmTtlSec),
        concurrency: z.number().int().min(1).max(64).default(DEFAULTS.workerConcurrency),
      })
      .strict()
      .default({
        commandTimeoutSec: DEFAULTS.commandTimeoutSec,
        connectTimeoutSec: DEFAULTS.connectTimeoutSec,
        maxOutputBytes: DEFAULTS.maxOutputBytes,
        confirmTtlSec: DEFAULTS.confirmTtlSec,
        concurrency: DEFAULTS.workerConcurrency,
      }),
    /** Limits per person, per chat and for unknown users (issue 12.6); upper bounds keep a typo from disabling them. */
    limits: z
      .object({
        perPerson: z.number().int().min(1).max(1000).default(REQUEST_LIMITS.perPerson),
        perChat: z.number().int().min(1).max(10_000).default(REQUEST_LIMITS.perChat),
        windowSec: z.number().int().min(1).max(3600).default(REQUEST_LIMITS.windowSec),
        unknownReplySec: z.number().int().min(1).max(86_400).default(REQUEST_LIMITS.unknownReplySec),
        statusQueuedPerChat: z.number().int().min(1).max(100).default(REQUEST_LIMITS.statusQueuedPerChat),
      })
      .strict()
      .default({ ...REQUEST_LIMITS }),
    fix: z
      .object({
        maxAttemptsPerHour: z.number().int().min(1).default(DEFAULTS.fixMaxAttemptsPerHour),
        /**
         * Auto-fixes per host per hour (hosts with `autoFix: true`); then the monitor escalates and stops.
         * Unset: maxAttemptsPerHour, the limit the monitor always used (issue 15 asks for no behaviour change).
         */
        autoFixMaxPerHour: autoFixPerHour.optional(),
        /** Overrides the per-cause log window of the runbooks (a stale tab loops every 15 s: they watch longer). */
        verifyWindowSec: durationSec.optional(),
        /** How long a fix waits for a (re)started gateway to answer its probe (it boots in ~10 s). */
        startWaitSec: durationSec.default(DEFAULTS.startWaitSec),
      })
      .strict()
      .default({ maxAttemptsPerHour: DEFAULTS.fixMaxAttemptsPerHour, startWaitSec: DEFAULTS.startWaitSec })
      .transform((fix) => ({ ...fix, autoFixMaxPerHour: fix.autoFixMaxPerHour ?? fix.maxAttemptsPerHour })),
    alerts: z
      .object({
        probeIntervalSec: durationSec.default(DEFAULTS.probeIntervalSec),
        fireAfterEvents: z.number().int().min(1).default(DEFAULTS.fireAfterEvents),
        fireWindowSec: durationSec.default(DEFAULTS.fireWindowSec),
        probeFailuresToFire: z.number().int().min(1).default(DEFAULTS.probeFailuresToFire),
        resolveAfterSec: durationSec.default(DEFAULTS.resolveAfterSec),
        reminderIntervalSec: durationSec.default(DEFAULTS.reminderIntervalSec),
      })
      .strict()
      .default({
        probeIntervalSec: DEFAULTS.probeIntervalSec,
        fireAfterEvents: DEFAULTS.fireAfterEvents,
        fireWindowSec: DEFAULTS.fireWindowSec,
        probeFailuresToFire: DEFAULTS.probeFailuresToFire,
        resolveAfterSec: DEFAULTS.resolveAfterSec,
        reminderIntervalSec: DEFAULTS.reminderIntervalSec,
      }),
    http: z
      .object({ host: nonEmpty.default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(DEFAULTS.httpPort) })
      .strict()
      .default({ host: '127.0.0.1', port: DEFAULTS.httpPort }),
    telegram: z
      .object({
        mode: z.enum(['polling', 'webhook']).default('polling'),
        apiRoot: z.url().optional(),
        webhook: z
          .object({ url: z.url(), port: portNumber, path: nonEmpty.default('/telegram') })
          .strict()
          .optional(),
      })
      .strict()
      .default({ mode: 'polling' }),
    discord: z
      .object({ guildId: platformId.optional(), restApi: z.url().optional() })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const names = new Set<string>();
    cfg.hosts.forEach((h, i) => {
      if (names.has(h.name)) ctx.addIssue({ code: 'custom', path: ['hosts', i, 'name'], message: `duplicate host name "${h.name}"` });
      names.add(h.name);
    });
    cfg.chats.forEach((c, i) =>
      c.hosts.forEach((h, j) => {
        if (h !== '*' && !names.has(h)) {
          ctx.addIssue({ code: 'custom', path: ['chats', i, 'hosts', j], message: `unknown host "${h}" (not in hosts)` });
        }
      }),
    );
    cfg.people.forEach((p, i) =>
      (p.hosts ?? []).forEach((h, j) => {
        if (h !== '*' && !names.has(h)) ctx.addIssue({ code: 'custom', path: ['people', i, 'hosts', j], message: `unknown host "${h}" (not in hosts)` });
      }),
    );
    const seen = new Set<string>();
    cfg.people.forEach((p, i) => {
      const key = `${p.platform}:${p.userId}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['people', i, 'userId'], message: `duplicate person ${key}` });
      seen.add(key);
    });
    if (cfg.telegram.mode === 'webhook' && !cfg.telegram.webhook) {
      // TELEGRAM_WEBHOOK_SECRET (env) is checked at start: it is a secret.
      ctx.addIssue({ code: 'custom', path: ['telegram', 'webhook'], message: 'expected webhook {url, port} for mode: webhook' });
    }
  });

/** clawmedic.yaml after validation and defaults. */
export type AppConfig = z.infer<typeof configSchema>;
export type PersonConfig = AppConfig['people'][number];
export type ChatConfig = AppConfig['chats'][number];
