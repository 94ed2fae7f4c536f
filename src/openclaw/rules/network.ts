/** What sits between clients and the gateway: URL/profile mismatch, DNS, proxy or firewall; and the Telegram channel. */
import { eventLine, finding, lastMsOf, type Rule } from './context.js';
import { dashboardHttpUrl } from './clients.js';

function normUrl(u: string | undefined): string | undefined {
  if (!u) return undefined;
  try {
    const url = new URL(u.trim());
    const proto = url.protocol.replace('ws:', 'http:').replace('wss:', 'https:');
    const port = url.port || (proto === 'https:' ? '443' : '80');
    return `${proto}//${url.hostname.toLowerCase()}:${port}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return u.trim().toLowerCase().replace(/\/+$/, '');
  }
}

export const urlMismatchRule: Rule = (ctx) => {
  const { host, evidence, gs, port } = ctx;
  const ev: string[] = [];
  const invUrl = normUrl(host.gateway.url);
  if (invUrl && evidence.envGatewayUrl && normUrl(evidence.envGatewayUrl) !== invUrl) {
    ev.push(`GATEWAY_URL in ${host.envFile ?? '.env'} is ${evidence.envGatewayUrl}, clients use ${host.gateway.url}`);
  }
  if (invUrl && evidence.config?.mode === 'remote' && evidence.config.remoteUrl && normUrl(evidence.config.remoteUrl) !== invUrl) {
    ev.push(`gateway.remote.url is ${evidence.config.remoteUrl}, clients use ${host.gateway.url}`);
  }
  if (gs?.port !== undefined && gs.port !== port) ev.push(`the CLI probes port ${gs.port} (${gs.probeUrl ?? ''}), the inventory says ${port}`);
  if (gs?.configCliPath && gs.configServicePath && gs.configCliPath !== gs.configServicePath) {
    ev.push(`Config (cli) ${gs.configCliPath} ≠ Config (service) ${gs.configServicePath}: CLI and service use different profiles`);
  }
  if (ev.length === 0) return null;
  return finding({
    cause: 'gateway_url_mismatch',
    confidence: ev.length > 1 ? 'high' : 'medium',
    weight: 65,
    summary: 'The gateway address/profile the tools use does not match the one clients use',
    evidence: ev,
    userActions: [
      host.envFile && evidence.envGatewayUrl
        ? `Correct GATEWAY_URL in ${host.envFile} to ${host.gateway.url ?? 'the gateway address'} and restart what reads it.`
        : 'Correct the URL or profile so the CLI, the service and the clients point at the same gateway.',
    ],
    current: true,
  });
};

/** Node's resolver errors: the name does not resolve (NXDOMAIN) or no resolver answered. */
const DNS_ERROR_RE = /\b(ENOTFOUND|EAI_AGAIN|EAI_NONAME|getaddrinfo)\b/;

export const dnsRule: Rule = (ctx) => {
  const ext = ctx.evidence.externalProbe;
  if (!ext || ext.ok || !ext.error || !DNS_ERROR_RE.test(ext.error)) return null;
  let hostname: string | undefined;
  try {
    hostname = new URL(ext.url).hostname;
  } catch {
    hostname = undefined;
  }
  const temporary = /EAI_AGAIN/.test(ext.error);
  return finding({
    cause: 'dns_unresolved',
    confidence: 'high',
    weight: 74,
    summary: `The gateway's name ${hostname ?? ext.url} does not resolve${temporary ? ' (no DNS server answered)' : ''}: clients cannot find the gateway; this is DNS, not the proxy or the gateway`,
    evidence: [`lookup of ${hostname ?? ext.url} from clawmedic: ${ext.error}`, ctx.probeOk ? `probe on the host ${ctx.gs?.probeUrl ?? ''}: ok`.replace('  ', ' ') : ''],
    userActions: [
      `Check the DNS record of ${hostname ?? 'the gateway name'} (an A/AAAA record pointing at the server) and the spelling of the gateway URL in the inventory.`,
    ],
    current: true,
    details: hostname ? { hostname } : undefined,
  });
};

export const proxyRule: Rule = (ctx) => {
  const ext = ctx.evidence.externalProbe;
  if (!ext || ext.ok || !ctx.probeOk) return null;
  if (ext.error && DNS_ERROR_RE.test(ext.error)) return null;
  const seen = ext.status !== undefined ? `HTTP ${ext.status}` : (ext.error ?? 'no answer');
  return finding({
    cause: 'proxy_blocks_websocket',
    confidence: ext.status !== undefined ? 'high' : 'medium',
    weight: 72,
    summary: `From outside, ${dashboardHttpUrl(ext.url)} refuses the WebSocket upgrade (${seen}) while the gateway answers on the host: a proxy or firewall in front of it drops WebSocket upgrades`,
    evidence: [`upgrade of ${ext.url} from clawmedic: ${seen}`, `probe on the host ${ctx.gs?.probeUrl ?? ''}: ok`.replace('  ', ' ')],
    userActions: [
      'Let WebSocket upgrades through the reverse proxy (nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; Caddy and Traefik pass them by default).',
      'Open the public port (443/8443) for long-lived connections in the firewall or security group; clawmedic does not change proxies or firewalls.',
    ],
    current: true,
  });
};

export const telegramRule: Rule = (ctx) => {
  const tg = ctx.windowEvents.filter((e) => e.kind === 'telegram_conflict');
  if (tg.length === 0) return null;
  const last = lastMsOf(tg);
  return finding({
    cause: 'telegram_conflict',
    confidence: 'high',
    weight: 40,
    summary: `OpenClaw's Telegram channel is fighting another poller of the same bot token (409 Conflict ×${tg.length})`,
    evidence: tg.slice(-2).map(eventLine),
    userActions: ['Find and stop the second process polling this bot token (another OpenClaw, an old copy, a test bot). clawmedic never uses OpenClaw’s bot token.'],
    lastSeen: last,
    current: !Number.isFinite(last) || last >= ctx.liveMs,
  });
};
