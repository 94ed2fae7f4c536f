/**
 * Issue 14, item 4: Telegram's "/" menu by role. The adapter, started with the real router and the
 * config's people and chats, sets one menu per audience through setMyCommands scopes; the Bot API
 * stand-in records them. Strangers see /help only; a viewer never sees /fix.
 */
import { createRequestGuards } from '../../src/router/request-limits.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { parseConfigText } from '../../src/config/load-config.js';
import { Router } from '../../src/router/router.js';
import { ButtonStore } from '../../src/state/button-store.js';
import { AuditLog } from '../../src/state/audit-log.js';
import { Inflight } from '../../src/state/inflight.js';
import { FixAttempts } from '../../src/state/fix-attempts.js';
import { createQueues, type Queues } from '../../src/jobs/queues.js';
import { createLogger } from '../../src/util/logger.js';
import { JobSigner } from '../../src/util/job-signer.js';
import { RedisMessageRefStore } from '../../src/state/message-ref-store.js';
import { SecretBox } from '../../src/util/secret-box.js';
import { TelegramAdapter } from '../../src/chat/telegram/telegram-adapter.js';
import { startTelegramStandin, type TelegramStandin } from '../support/telegram/telegram-standin.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { KeySpace } from '../../src/state/key-space.js';

const FP = `SHA256:${'A'.repeat(43)}`;
const config = parseConfigText(
  `hosts:
  - { name: prod, ssh: { host: h, user: u, hostKeyFingerprint: "${FP}" }, supervisor: { kind: systemd-user } }
people:
  - { platform: telegram, userId: 101, role: viewer, name: Vic }
  - { platform: telegram, userId: 202, role: operator, name: Ola }
  - { platform: telegram, userId: 303, role: admin, name: Ada }
  - { platform: discord, userId: "404", role: admin }
chats:
  - { platform: telegram, chatId: -1001, hosts: [prod] }
`,
  'clawmedic.yaml',
);

const prefix = uniquePrefix('menus');
const keys = new KeySpace(prefix);
let redis: Redis;
let queues: Queues;
let tg: TelegramStandin;
let adapter: TelegramAdapter;

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL);
  queues = createQueues(redis, keys);
  tg = await startTelegramStandin();
  const signer = JobSigner.ephemeral();
  const router = new Router({ config, queues, signer, buttons: new ButtonStore(redis, keys, signer), audit: new AuditLog(redis, keys), inflight: new Inflight(redis, keys), fixAttempts: new FixAttempts(redis, keys), logger: createLogger('silent'), ...createRequestGuards(redis, keys, config) });
  const quiet = () => undefined;
  adapter = new TelegramAdapter({ token: tg.token, apiRoot: tg.apiRoot, router, refs: new RedisMessageRefStore(redis, keys, SecretBox.ephemeral()), logger: { info: quiet, warn: quiet, error: quiet }, pollingTimeoutSeconds: 1 });
  await adapter.start();
}, 30_000);
afterAll(async () => {
  await adapter?.stop();
  await tg?.stop();
  await queues.close();
  redis.disconnect();
  await cleanupPrefix(prefix);
});

const menu = (scope: object): string[] | undefined => tg.layer.scopedCommands.get(JSON.stringify(scope))?.map((c) => c.command);

describe('Telegram menus by role (setMyCommands scopes)', () => {
  it('strangers (default scope) see /help only', () => {
    expect(tg.layer.commands.map((c) => c.command)).toEqual(['help']);
  });
  it('the bound group shows what a viewer may run; no /fix, /diagnose, /mute', () => {
    const group = menu({ type: 'chat', chat_id: -1001 })!;
    expect(group).toEqual(['status', 'hosts', 'history', 'help']);
  });
  it('operators and admins get their role\'s menu as members of the group and in their DM; the viewer has no member menu', () => {
    for (const id of [202, 303]) {
      const member = menu({ type: 'chat_member', chat_id: -1001, user_id: id })!;
      expect(member).toEqual(expect.arrayContaining(['status', 'diagnose', 'fix', 'mute', 'unmute', 'ack', 'history', 'help']));
      expect(menu({ type: 'chat', chat_id: id })).toEqual(member);
    }
    expect(menu({ type: 'chat_member', chat_id: -1001, user_id: 101 })).toBeUndefined();
    expect(menu({ type: 'chat', chat_id: 101 })).toEqual(['status', 'hosts', 'history', 'help']);
  });
  it('nobody from another platform gets a Telegram menu', () => {
    expect([...tg.layer.scopedCommands.keys()].some((k) => k.includes('404'))).toBe(false);
  });
});
