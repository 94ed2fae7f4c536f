import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfigText } from '../../src/config/load-config.js';
import { loadSecrets } from '../../src/config/secrets.js';
import { ConfigError } from '../../src/domain/errors.js';
import { clusterOptions, connectionOptions, describeRedis, redisTarget } from '../../src/state/redis.js';
import { KeySpace } from '../../src/state/key-space.js';
import { redact } from '../../src/util/redact.js';

const FP = `SHA256:${'A'.repeat(43)}`;
const base = (extra = '') => `hosts:
  - name: prod
    ssh: { host: 203.0.113.7, user: claw, hostKeyFingerprint: "${FP}" }
    supervisor: { kind: systemd-user }
${extra}`;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('refuses a Telegram or Discord id that is a username, naming the key (issue 12.8)', () => {
    expect(errorOf(() => parseConfigText(base('people:\n  - { platform: telegram, userId: alice, role: admin }'), 'clawmedic.yaml'))).toContain(
      'people[0].userId: expected the numeric telegram user id (a username like "alice" never matches: ids never change, names do)',
    );
    expect(errorOf(() => parseConfigText(base('chats:\n  - { platform: discord, chatId: general, hosts: [prod] }'), 'clawmedic.yaml'))).toContain(
      'chats[0].chatId: expected the numeric discord chat id',
    );
    // Numeric ids (negative for Telegram groups) and console names stay fine.
    const ok = parseConfigText(
      base('people:\n  - { platform: telegram, userId: 42, role: admin }\n  - { platform: console, userId: local, role: admin }\nchats:\n  - { platform: telegram, chatId: -100123, hosts: [prod] }'),
      'clawmedic.yaml',
    );
    expect(ok.chats[0]!.chatId).toBe('-100123');
  });

  it('refuses a duration longer than a day (Node timers overflow and fire at once), naming the key', () => {
    expect(errorOf(() => parseConfigText(base('jobs: { commandTimeoutSec: 1e9 }'), 'clawmedic.yaml'))).toContain(
      'jobs.commandTimeoutSec: expected at most 86400 seconds (one day)',
    );
  });

  it('applies defaults', () => {
    const c = parseConfigText(base(), 'clawmedic.yaml');
    expect(c.hosts[0]!.ssh.port).toBe(22);
    expect(c.hosts[0]!.gateway.port).toBe(18789);
    expect(c.hosts[0]!.supervisor).toEqual({ kind: 'systemd-user', unit: 'openclaw-gateway.service' });
    expect(c.hosts[0]!.allowKillPortOwner).toBe(false);
    expect(c.console.userId).toBe('local');
    expect(c.redis.keyPrefix).toBe('clawmedic');
  });

  it('names file, key path, expectation and the bad value', () => {
    const text = base().replace('user: claw', 'port: "22a", user: claw');
    expect(errorOf(() => parseConfigText(text, 'dir/clawmedic.yaml'))).toBe(
      'clawmedic.yaml: hosts[0].ssh.port: expected integer 1-65535, got "22a"',
    );
  });

  it('reports unknown keys, bad fingerprints and docker without container', () => {
    const text = `hosts:
  - name: a
    ssh: { host: h, user: u, hostKeyFingerprint: "md5:xx" }
    supervisor: { kind: docker, container: c }
    install: docker
    colour: blue
`;
    const msg = errorOf(() => parseConfigText(text, 'clawmedic.yaml'));
    expect(msg).toContain('clawmedic.yaml: hosts[0].ssh.hostKeyFingerprint: expected a host key fingerprint');
    expect(msg).toContain('clawmedic.yaml: hosts[0]: unknown key(s) "colour"');
  });

  it('rejects a host name that could carry shell syntax', () => {
    const msg = errorOf(() => parseConfigText(base().replace('name: prod', 'name: "prod;rm -rf /"'), 'clawmedic.yaml'));
    expect(msg).toContain('hosts[0].name: expected a host name');
  });

  it('refuses inventory names and paths that could only be a mistake or an option, naming the key (issue 12.2)', () => {
    const host = (fields: string) => `hosts:
  - name: prod
    ssh: { host: 203.0.113.7, user: claw, hostKeyFingerprint: "${FP}" }
${fields}
`;
    const cases: Array<[string, string]> = [
      ['    supervisor: { kind: systemd-user, unit: "openclaw gateway.service" }', 'hosts[0].supervisor.unit: expected a systemd unit name'],
      ['    supervisor: { kind: systemd-user, unit: "--help" }', 'hosts[0].supervisor.unit: expected a systemd unit name'],
      ['    supervisor: { kind: docker, container: "oc\\nrm -rf ~" }\n    install: docker\n    container: oc', 'hosts[0].supervisor.container: expected a docker container name'],
      ['    supervisor: { kind: docker, container: oc }\n    install: docker\n    container: "-rf"', 'hosts[0].container: expected a docker container name'],
      ['    supervisor: { kind: systemd-user }\n    openclaw: { bin: "--help" }', 'hosts[0].openclaw.bin: expected a path'],
      ['    supervisor: { kind: systemd-user }\n    openclaw: { stateDir: "/srv/x\\n$(touch y)" }', 'hosts[0].openclaw.stateDir: expected a path'],
      ['    supervisor: { kind: systemd-user }\n    openclaw: { profile: "$(id)" }', 'hosts[0].openclaw.profile: expected an OpenClaw profile name'],
      ['    supervisor: { kind: systemd-user }\n    envFile: "-x"', 'hosts[0].envFile: expected a path'],
    ];
    for (const [fields, message] of cases) {
      expect(errorOf(() => parseConfigText(host(fields), 'clawmedic.yaml'))).toContain(message);
    }
    const sshUser = base().replace('user: claw', 'user: "-oProxyCommand=x"');
    expect(errorOf(() => parseConfigText(sshUser, 'clawmedic.yaml'))).toContain('hosts[0].ssh.user: expected one word');
    // Ordinary values stay fine: template units, container ids, nvm paths with spaces, profiles.
    const ok = parseConfigText(
      host('    supervisor: { kind: systemd-user, unit: "openclaw-gateway@work.service" }\n    openclaw: { bin: "~/Library/Application Support/nvm/openclaw", profile: work_2, stateDir: ~/.openclaw-work }\n    envFile: /srv/openclaw/.env'),
      'clawmedic.yaml',
    );
    expect(ok.hosts[0]!.openclaw.profile).toBe('work_2');
  });

  it('checks chat bindings against hosts and duplicate people', () => {
    const msg = errorOf(() =>
      parseConfigText(
        base(`people:
  - { platform: telegram, userId: 1, role: admin }
  - { platform: telegram, userId: "1", role: viewer }
chats:
  - { platform: telegram, chatId: -100, hosts: [nope] }
`),
        'clawmedic.yaml',
      ),
    );
    expect(msg).toContain('people[1].userId: duplicate person telegram:1');
    expect(msg).toContain('chats[0].hosts[0]: unknown host "nope"');
  });

  it('reports YAML syntax errors with line and column', () => {
    expect(errorOf(() => parseConfigText('hosts: [\n  a: b', 'clawmedic.yaml'))).toMatch(/^clawmedic\.yaml: line \d+, column \d+: invalid YAML/);
  });

  it('names the file when YAML aliases explode (an alias bomb), instead of a bare yaml error (issue 12.8)', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)].join('\n');
    const msg = errorOf(() => parseConfigText(bomb, '/etc/clawmedic/prod.yaml'));
    expect(msg).toMatch(/^prod\.yaml: invalid YAML \(.*alias/i);
  });

  it('says a malformed secret was set but does not fit, never "got nothing" and never the value (issue 12.8)', () => {
    const msg = errorOf(() => loadSecrets({ TELEGRAM_BOT_TOKEN: '12345:tooshort' }));
    expect(msg).toContain('environment: TELEGRAM_BOT_TOKEN: expected a bot token');
    expect(msg).toContain('got a value that does not fit (not shown: it is a secret)');
    expect(msg).not.toContain('got nothing');
    expect(msg).not.toContain('tooshort');
    expect(errorOf(() => loadSecrets({ CLAWMEDIC_METRICS_TOKEN: 'short' }))).toContain('environment: CLAWMEDIC_METRICS_TOKEN: expected 16-256 characters');
  });

  it('reports a missing file clearly', () => {
    expect(errorOf(() => loadConfig(join(tmpdir(), 'does-not-exist.yaml'), {}))).toContain('file not found');
  });

  it('loads a file and env secrets, never echoing a secret in an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'clawmedic.yaml'), base());
    const loaded = loadConfig(join(dir, 'clawmedic.yaml'), { REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(loaded.hosts[0]!.name).toBe('prod');
    const bad = 'not-a-token-but-secretish-value';
    const msg = errorOf(() => loadSecrets({ TELEGRAM_BOT_TOKEN: bad }));
    expect(msg).toContain('environment: TELEGRAM_BOT_TOKEN');
    expect(msg).not.toContain(bad);
  });
});

describe('redis: Sentinel (issue 13.6)', () => {
  const sentinelYaml = 'redis:\n  sentinels:\n    - { host: 10.0.0.1 }\n    - { host: 10.0.0.2, port: 26380 }\n  masterName: mymaster';

  it('reads sentinels and the master name; port defaults to 26379', () => {
    const cfg = parseConfigText(base(sentinelYaml), 'clawmedic.yaml');
    expect(cfg.redis.sentinels).toEqual([
      { host: '10.0.0.1', port: 26379 },
      { host: '10.0.0.2', port: 26380 },
    ]);
    expect(cfg.redis.masterName).toBe('mymaster');
    expect(cfg.redis.keyPrefix).toBe('clawmedic');
  });

  it('names the missing half, a bad port and a password put in the YAML', () => {
    expect(errorOf(() => parseConfigText(base('redis:\n  sentinels: [{ host: 10.0.0.1 }]'), 'clawmedic.yaml'))).toContain('clawmedic.yaml: redis.masterName: expected the master name');
    expect(errorOf(() => parseConfigText(base('redis:\n  masterName: mymaster'), 'clawmedic.yaml'))).toContain('clawmedic.yaml: redis.sentinels: expected a list of sentinels');
    expect(errorOf(() => parseConfigText(base('redis:\n  sentinels: [{ host: 10.0.0.1, port: 0 }]\n  masterName: m'), 'clawmedic.yaml'))).toContain('redis.sentinels[0].port: expected integer 1-65535');
    expect(errorOf(() => parseConfigText(base('redis:\n  sentinels: []\n  masterName: m'), 'clawmedic.yaml'))).toContain('redis.sentinels: expected at least one sentinel');
    // Passwords live in the environment only.
    expect(errorOf(() => parseConfigText(base(`${sentinelYaml}\n  password: hunter2`), 'clawmedic.yaml'))).toContain('redis: unknown key(s) "password"');
  });

  it('takes the master credentials from REDIS_URL, whose host must be the master name; the sentinel password from its own variable', () => {
    const redis = { sentinels: [{ host: '10.0.0.1', port: 26379 }], masterName: 'mymaster' };
    const t = redisTarget(redis, { redisUrl: 'redis://clawmedic:p%40ss@mymaster/2', redisUrlSet: true, redisSentinelPassword: 'sentinel-pw' });
    expect(t.extra.sentinel).toEqual({ sentinels: [{ host: '10.0.0.1', port: 26379 }], name: 'mymaster', sentinelPassword: 'sentinel-pw' });
    const o = connectionOptions(t.url, t.extra);
    expect(o).toMatchObject({ sentinels: [{ host: '10.0.0.1', port: 26379 }], name: 'mymaster', role: 'master', username: 'clawmedic', password: 'p@ss', db: 2, sentinelPassword: 'sentinel-pw', failoverDetector: false });
    // REDIS_URL unset: no credentials, database 0.
    expect(connectionOptions(redisTarget(redis, { redisUrl: 'redis://127.0.0.1:6379', redisUrlSet: false }).url, redisTarget(redis, { redisUrl: 'redis://127.0.0.1:6379', redisUrlSet: false }).extra)).toMatchObject({ name: 'mymaster', db: 0 });
    // A real address in REDIS_URL contradicts the sentinels: refused, naming the variable, never the password.
    const err = errorOf(() => redisTarget(redis, { redisUrl: 'redis://:secret-pw@10.0.0.9:6379', redisUrlSet: true }));
    expect(err).toContain('environment: REDIS_URL: names redis://10.0.0.9:6379 while redis.sentinels is set');
    expect(err).toContain('redis://[user:password@]mymaster[/db]');
    expect(err).not.toContain('secret-pw');
    // Without sentinels REDIS_URL is used as it is.
    expect(redisTarget({}, { redisUrl: 'redis://10.0.0.9:6379' })).toEqual({ url: 'redis://10.0.0.9:6379', extra: { tlsCa: undefined } });
  });

  it('rediss:// through the sentinels: TLS to the data nodes and the sentinels (unless sentinelTls: false), CA and client certificate on both', () => {
    const redis = { sentinels: [{ host: 'sentinel-1.internal', port: 26379 }], masterName: 'mymaster' };
    const secrets = { redisUrl: 'rediss://clawmedic:p%40ss@mymaster/1', redisUrlSet: true, redisTlsCa: 'CA-PEM', redisTlsCert: 'CERT-PEM', redisTlsKey: 'KEY-PEM' };
    const t = redisTarget(redis, secrets);
    const o = connectionOptions(t.url, t.extra);
    const tls = { ca: 'CA-PEM', cert: 'CERT-PEM', key: 'KEY-PEM', rejectUnauthorized: true };
    expect(o).toMatchObject({ name: 'mymaster', username: 'clawmedic', password: 'p@ss', db: 1, enableTLSForSentinelMode: true, tls, sentinelTLS: tls });
    // No servername: the master name is not a host; each node is checked against the address the sentinels give.
    expect(o.tls).not.toHaveProperty('servername');
    expect(describeRedis(t.url, t.extra)).toBe('Sentinel master "mymaster" (via sentinel-1.internal:26379) over TLS');
    // Sentinels that listen in plain text while the data nodes use TLS.
    const plainSentinels = connectionOptions(...(Object.values(redisTarget({ ...redis, sentinelTls: false }, secrets)) as [string, object]));
    expect(plainSentinels).toMatchObject({ tls, enableTLSForSentinelMode: true });
    expect(plainSentinels).not.toHaveProperty('sentinelTLS');
    // redis:// through the sentinels: no TLS anywhere, unless asked for the sentinels alone.
    const plain = redisTarget(redis, { ...secrets, redisUrl: 'redis://mymaster' });
    expect(connectionOptions(plain.url, plain.extra)).not.toHaveProperty('tls');
    expect(connectionOptions(plain.url, plain.extra)).not.toHaveProperty('sentinelTLS');
    expect(connectionOptions(...(Object.values(redisTarget({ ...redis, sentinelTls: true }, { redisUrl: 'redis://mymaster', redisUrlSet: true })) as [string, object]))).toMatchObject({ sentinelTLS: { rejectUnauthorized: true } });
    expect(errorOf(() => parseConfigText(base('redis:\n  sentinelTls: true'), 'clawmedic.yaml'))).toContain('redis.sentinelTls: expected only with sentinels');
    // A real address in a rediss:// URL is still refused, and the fix keeps the scheme.
    expect(errorOf(() => redisTarget(redis, { ...secrets, redisUrl: 'rediss://10.0.0.9:6380' }))).toContain('rediss://[user:password@]mymaster[/db]');
  });

  it('a client certificate needs both files; the key is a secret', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(tmpdir(), 'clawmedic-tlsenv-'));
    try {
      const cert = path.join(dir, 'c.crt');
      const key = path.join(dir, 'c.key');
      await writeFile(cert, '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n');
      // A fake key, its armour built here so no key-shaped literal sits in the repository.
      await writeFile(key, `-----BEGIN PRIVATE ${'KEY'}-----\nclient-key-body-0123456789\n-----END PRIVATE ${'KEY'}-----\n`);
      expect(errorOf(() => loadSecrets({ REDIS_TLS_CERT_FILE: cert }))).toContain('environment: REDIS_TLS_KEY_FILE: not set, and REDIS_TLS_CERT_FILE is');
      expect(errorOf(() => loadSecrets({ REDIS_TLS_KEY_FILE: key }))).toContain('environment: REDIS_TLS_CERT_FILE: not set, and REDIS_TLS_KEY_FILE is');
      expect(errorOf(() => loadSecrets({ REDIS_TLS_CERT_FILE: cert, REDIS_TLS_KEY_FILE: path.join(dir, 'missing.key') }))).toContain('environment: REDIS_TLS_KEY_FILE: cannot read');
      const s = loadSecrets({ REDIS_TLS_CERT_FILE: cert, REDIS_TLS_KEY_FILE: key });
      expect(s.redisTlsCert).toContain('MIIBcert');
      expect(s.redisTlsKey).toContain('client-key-body-0123456789');
      expect(redact(`key: ${s.redisTlsKey}`)).not.toContain('client-key-body-0123456789');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('registers REDIS_SENTINEL_PASSWORD as a secret', () => {
    const s = loadSecrets({ REDIS_URL: 'redis://mymaster', REDIS_SENTINEL_PASSWORD: 'sentinel-secret-value-42' });
    expect(s.redisSentinelPassword).toBe('sentinel-secret-value-42');
    expect(s.redisUrlSet).toBe(true);
    expect(loadSecrets({}).redisUrlSet).toBe(false);
    expect(redact('auth sentinel-secret-value-42 failed')).not.toContain('sentinel-secret-value-42');
  });
});

describe('redis: Cluster (issue 13.6)', () => {
  const clusterYaml = 'redis:\n  cluster:\n    - { host: 10.0.0.21 }\n    - { host: 10.0.0.22, port: 7001 }';

  it('reads the cluster nodes (port defaults to 6379); every key goes under the prefix as a hash tag', () => {
    const cfg = parseConfigText(base(clusterYaml), 'clawmedic.yaml');
    expect(cfg.redis.cluster).toEqual([
      { host: '10.0.0.21', port: 6379 },
      { host: '10.0.0.22', port: 7001 },
    ]);
    expect(KeySpace.forConfig(cfg.redis).prefix).toBe('{clawmedic}');
    // Without a cluster the prefix is used as it is (existing installs keep their keys).
    expect(KeySpace.forConfig(parseConfigText(base(), 'clawmedic.yaml').redis).prefix).toBe('clawmedic');
  });

  it('names a bad node, an empty list, a password in the YAML, and sentinels given as well', () => {
    expect(errorOf(() => parseConfigText(base('redis:\n  cluster: []'), 'clawmedic.yaml'))).toContain('clawmedic.yaml: redis.cluster: expected at least one cluster node');
    expect(errorOf(() => parseConfigText(base('redis:\n  cluster: [{ host: 10.0.0.21, port: 70000 }]'), 'clawmedic.yaml'))).toContain('redis.cluster[0].port: expected integer 1-65535');
    expect(errorOf(() => parseConfigText(base('redis:\n  cluster: [{ host: "" }]'), 'clawmedic.yaml'))).toContain('redis.cluster[0].host: expected a host name or address');
    expect(errorOf(() => parseConfigText(base('redis:\n  cluster: [{ host: a, password: x }]'), 'clawmedic.yaml'))).toContain('redis.cluster[0]: unknown key(s) "password"');
    const both = errorOf(() => parseConfigText(base(`${clusterYaml}\n  sentinels: [{ host: 10.0.0.1 }]\n  masterName: m`), 'clawmedic.yaml'));
    expect(both).toContain('clawmedic.yaml: redis.cluster: expected either cluster or sentinels + masterName, not both');
  });

  it('takes user and password from REDIS_URL, whose host must be one of the nodes; database 0 only', () => {
    const redis = { cluster: [{ host: '10.0.0.21', port: 6379 }, { host: '10.0.0.22', port: 7001 }] };
    const t = redisTarget(redis, { redisUrl: 'redis://clawmedic:p%40ss@10.0.0.22:7001', redisUrlSet: true });
    expect(t.extra).toEqual({ tlsCa: undefined, cluster: { nodes: redis.cluster } });
    expect(describeRedis(t.url, t.extra)).toBe('Redis Cluster (via 10.0.0.21:6379, 10.0.0.22:7001)');
    expect(redisTarget(redis, { redisUrl: 'redis://10.0.0.21/0', redisUrlSet: true }).extra.cluster).toBeDefined();
    // REDIS_URL unset: no credentials, the first node as the address to describe.
    expect(redisTarget(redis, { redisUrl: 'redis://127.0.0.1:6379', redisUrlSet: false }).url).toBe('redis://10.0.0.21:6379');
    const err = errorOf(() => redisTarget(redis, { redisUrl: 'redis://:secret-pw@10.0.0.9:6379', redisUrlSet: true }));
    expect(err).toContain('environment: REDIS_URL: names redis://10.0.0.9:6379, which is not one of the redis.cluster nodes');
    expect(err).not.toContain('secret-pw');
    expect(errorOf(() => redisTarget(redis, { redisUrl: 'redis://10.0.0.21:6379/2', redisUrlSet: true }))).toContain('a Redis Cluster has only database 0');
  });

  it('rediss:// to a Cluster: TLS to every node, each checked against the host it is reached at (names not resolved first)', () => {
    const redis = { cluster: [{ host: 'redis-1.internal', port: 6380 }] };
    const t = redisTarget(redis, { redisUrl: 'rediss://clawmedic:p%40ss@redis-1.internal:6380', redisUrlSet: true, redisTlsCa: 'CA-PEM', redisTlsCert: 'CERT-PEM', redisTlsKey: 'KEY-PEM' });
    const o = clusterOptions(t.url, 'worker', t.extra);
    expect(o.redisOptions).toMatchObject({ username: 'clawmedic', password: 'p@ss', tls: { ca: 'CA-PEM', cert: 'CERT-PEM', key: 'KEY-PEM', rejectUnauthorized: true } });
    expect(o.redisOptions?.tls).not.toHaveProperty('servername');
    let looked: string | undefined;
    o.dnsLookup!('redis-2.internal', (_err, address) => (looked = address));
    expect(looked).toBe('redis-2.internal');
    expect(describeRedis(t.url, t.extra)).toBe('Redis Cluster (via redis-1.internal:6380) over TLS');
    // redis:// keeps plain connections and ioredis' own name resolution.
    const plain = clusterOptions('redis://redis-1.internal:6380', 'worker', t.extra);
    expect(plain.redisOptions).not.toHaveProperty('tls');
    expect(plain).not.toHaveProperty('dnsLookup');
  });

  it('workers wait a failover out; producers give up after a bounded number of retries', () => {
    const worker = clusterOptions('redis://clawmedic:p%40ss@10.0.0.21:6379', 'worker');
    expect(worker.redisOptions).toMatchObject({ username: 'clawmedic', password: 'p@ss', maxRetriesPerRequest: null });
    expect(worker.maxRedirections).toBe(Infinity);
    const producer = clusterOptions('redis://10.0.0.21:6379', 'producer');
    expect(producer.redisOptions?.maxRetriesPerRequest).toBe(2);
    expect(producer.redisOptions).not.toHaveProperty('password');
    expect(Number(producer.maxRedirections) * Number(producer.retryDelayOnFailover)).toBeLessThanOrEqual(5000);
  });
});

describe('clawmedic.example.yaml', () => {
  it('is a valid configuration (what the README tells users to copy)', () => {
    const file = join(fileURLToPath(new URL('../../clawmedic.example.yaml', import.meta.url)));
    const loaded = loadConfig(file, {});
    expect(loaded.hosts.map((h) => h.name)).toEqual(['prod', 'homelab', 'lab']);
    expect(loaded.hosts[1]!.supervisor).toEqual({ kind: 'docker', container: 'openclaw-openclaw-1' });
  });
});
