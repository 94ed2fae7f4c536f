/**
 * The rule table: every diagnosis rule, in the order they run (later rules may read what earlier
 * ones found). Add a rule by writing it in its own file (or its family's) and listing it here.
 */
import type { Rule } from './context.js';
import { deviceTokenRule, insecureContextRule, originRule, rateLimitRule, tokenRule } from './clients.js';
import { gatewayModeRule } from './mode.js';
import { dnsRule, proxyRule, telegramRule, urlMismatchRule } from './network.js';
import { pluginRule } from './plugins.js';
import { portConflictRule } from './port.js';
import { downRule, memoryRule, secondGatewayRule } from './process.js';

export interface NamedRule {
  name: string;
  rule: Rule;
}

export const RULES: NamedRule[] = [
  { name: 'port-conflict', rule: portConflictRule },
  { name: 'gateway-mode', rule: gatewayModeRule },
  { name: 'memory', rule: memoryRule },
  { name: 'down-crash', rule: downRule },
  { name: 'plugins', rule: pluginRule },
  { name: 'second-gateway', rule: secondGatewayRule },
  { name: 'insecure-context', rule: insecureContextRule },
  { name: 'origin', rule: originRule },
  { name: 'rate-limit', rule: rateLimitRule },
  { name: 'device-token', rule: deviceTokenRule },
  { name: 'gateway-token', rule: tokenRule },
  { name: 'url-mismatch', rule: urlMismatchRule },
  { name: 'dns', rule: dnsRule },
  { name: 'proxy', rule: proxyRule },
  { name: 'telegram', rule: telegramRule },
];

export type { Rule, RuleContext } from './context.js';
export { buildContext, type DiagnoseOptions } from './context.js';
