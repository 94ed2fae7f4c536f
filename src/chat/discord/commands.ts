/**
 * The one definition of clawmedic's Discord slash commands (discord.js builders), their
 * registration (guild-scoped when a guild id is given: instant; global otherwise), and the
 * re-assembly of an invoked command into the text the router parses ("/fix prod").
 */
import {
  InteractionContextType,
  PermissionFlagsBits,
  REST,
  Routes,
  SlashCommandBuilder,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  type SlashCommandStringOption,
} from 'discord.js';
import type { CommandName } from '../../domain/types.js';
import { REQUIRED_ROLE } from '../../router/authorize.js';

/** Name of the option that names a host; it autocompletes from the hosts bound to the chat. */
export const HOST_OPTION = 'host';
/** Host names are short identifiers (the router validates them strictly). */
const HOST_MAX_LENGTH = 64;
/** Options that are free text (the router reads them as "the rest of the line"); must come last. */
const FREE_TEXT_OPTIONS: ReadonlySet<string> = new Set(['reason']);

const hostOption = (required: boolean, description: string) => (o: SlashCommandStringOption) =>
  o.setName(HOST_OPTION).setDescription(description).setRequired(required).setAutocomplete(true).setMaxLength(HOST_MAX_LENGTH);

/**
 * Commands that change something or need the operator role (REQUIRED_ROLE). Discord cannot name
 * clawmedic's people, so these are hidden by default from members without Manage Server; a server
 * admin lets operators see them under Server Settings → Integrations (per role or member). The
 * router still decides every use.
 */
const OPERATOR_COMMANDS: ReadonlySet<string> = new Set(
  (Object.keys(REQUIRED_ROLE) as CommandName[]).filter((c) => REQUIRED_ROLE[c] !== 'viewer'),
);

const command = (name: string, description: string): SlashCommandBuilder => {
  const builder = new SlashCommandBuilder()
    .setName(name)
    .setDescription(description)
    // Usable in servers and in the bot's DMs (DMs see the hosts bound to the user).
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM);
  return OPERATOR_COMMANDS.has(name) ? builder.setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild) : builder;
};

/**
 * Every slash command clawmedic registers. Option order is the order the router reads
 * arguments in, so commandText() re-assembles "/mute prod 30m deploy" from it.
 */
export const DISCORD_COMMANDS: readonly SlashCommandBuilder[] = [
  command('status', 'Show the gateway status of one host, or of every host bound here').addStringOption(
    hostOption(false, 'Host to check (default: all hosts bound to this channel)'),
  ) as SlashCommandBuilder,
  command('diagnose', 'Diagnose a host: read its gateway status, logs and config, and name the cause').addStringOption(
    hostOption(true, 'Host to diagnose'),
  ) as SlashCommandBuilder,
  command('fix', 'Plan a fix for a host; nothing changes until you press Confirm').addStringOption(
    hostOption(true, 'Host to fix'),
  ) as SlashCommandBuilder,
  command('hosts', 'List the hosts you may act on here'),
  command('history', 'Recent diagnoses and fixes of a host').addStringOption(
    hostOption(true, 'Host whose history to show'),
  ) as SlashCommandBuilder,
  command('mute', "Silence a host's alerts for a while")
    .addStringOption(hostOption(true, 'Host to mute'))
    .addStringOption((o) => o.setName('duration').setDescription('How long, e.g. 30m, 2h, 1d (default 1h)').setMaxLength(16))
    .addStringOption((o) => o.setName('reason').setDescription('Why (shown in the audit trail)').setMaxLength(200)) as SlashCommandBuilder,
  command('unmute', "Resume a host's alerts").addStringOption(hostOption(true, 'Host to unmute')) as SlashCommandBuilder,
  command('ack', "Acknowledge a host's open incident: no more reminders").addStringOption(
    hostOption(true, 'Host whose incident to acknowledge'),
  ) as SlashCommandBuilder,
  command('help', 'What clawmedic can do'),
];

/** JSON bodies of DISCORD_COMMANDS, as sent to Discord. */
export function commandPayloads(): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return DISCORD_COMMANDS.map((c) => c.toJSON());
}

/**
 * Re-assemble an invoked slash command into router text: "/name value1 value2", values in
 * definition order, missing optional ones skipped. Whitespace inside a value is kept only in
 * free-text options (a reason); elsewhere it becomes "-" so one value stays one word.
 */
export function commandText(name: string, value: (option: string) => string | number | boolean | null | undefined): string {
  const def = commandPayloads().find((c) => c.name === name);
  const names = (def?.options ?? []).map((o) => o.name);
  const parts = [`/${name}`];
  for (const opt of names) {
    const v = value(opt);
    if (v === null || v === undefined) continue;
    const text = String(v).trim();
    if (!text) continue;
    parts.push(FREE_TEXT_OPTIONS.has(opt) ? text.replace(/\s+/g, ' ') : text.replace(/\s+/g, '-'));
  }
  return parts.join(' ');
}

/** Where registerCommands sends the commands. */
export interface RegisterCommandsOptions {
  /** Bot token (never logged). */
  token: string;
  applicationId: string;
  /** Register in this guild only (takes effect at once); global otherwise (may take up to an hour). */
  guildId?: string;
  /** REST base URL (tests point this at the Discord stand-in); default discord.js's. */
  restApi?: string;
  /** An existing discord.js REST client (the adapter passes its own so one queue handles rate limits). */
  rest?: REST;
}

/** What registerCommands did, for the log line and the CLI. */
export interface RegisterCommandsResult {
  scope: 'guild' | 'global';
  names: string[];
}

/**
 * Bulk-overwrite the application's slash commands with DISCORD_COMMANDS (PUT: idempotent, so it
 * runs on every start). Used by the adapter on start and by `clawmedic discord register`.
 */
export async function registerCommands(opts: RegisterCommandsOptions): Promise<RegisterCommandsResult> {
  const rest = opts.rest ?? new REST({ version: '10', ...(opts.restApi ? { api: opts.restApi } : {}) }).setToken(opts.token);
  const route = opts.guildId
    ? Routes.applicationGuildCommands(opts.applicationId, opts.guildId)
    : Routes.applicationCommands(opts.applicationId);
  const body = commandPayloads();
  await rest.put(route, { body });
  return { scope: opts.guildId ? 'guild' : 'global', names: body.map((c) => c.name) };
}
