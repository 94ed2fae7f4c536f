/**
 * Test helpers: read fixtures and assemble evidence-script output from real samples, so unit
 * tests drive parseEvidence() exactly as a host's output would.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostConfig } from '../../../src/domain/host.js';
import { RC_MARK, SECTION_MARK } from '../../../src/openclaw/evidence.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/standin/samples');

/** Text of a fixture (path relative to src/standin/samples). */
export function fx(rel: string): string {
  return readFileSync(path.join(FIXTURES, rel), 'utf8');
}

/** Lines of one or more fixtures, concatenated (synthetic combos are only ever real lines). */
export function fxLines(...rels: string[]): string {
  return rels.map((r) => fx(r).replace(/\n$/, '')).join('\n');
}

/** One section of evidence-script output. */
export function section(name: string, body: string, rc = 0): string {
  return `\n${SECTION_MARK}${name}\n${body.replace(/\n$/, '')}\n\n${RC_MARK}${rc}\n`;
}

/** Evidence-script output with the sections named; omitted sections get harmless defaults. */
export function evidenceOutput(parts: {
  now?: string;
  version?: string;
  status?: string;
  statusText?: string;
  ss?: string;
  free?: string;
  kernel?: string;
  service?: string;
  config?: string;
  env?: string;
  health?: string;
  healthRc?: number;
  log?: string;
  journal?: string;
  containerMemory?: string;
}): string {
  let out = '';
  out += section('now', parts.now ?? '2026-11-25T15:40:00Z');
  out += section('version', parts.version ?? 'OpenClaw 2026.9.6 (eb377ac)');
  out += section('gateway_status', parts.status ?? fx('gateway-status-up.json'));
  if (parts.statusText !== undefined) out += section('gateway_status_text', parts.statusText);
  out += section('listeners', parts.ss ?? fx('derived/ss-gateway.txt'));
  out += section('listeners_sudo', 'sh: 1: sudo: not found', 127);
  out += section('memory', parts.free ?? fx('derived/free-2g-ok.txt'));
  if (parts.containerMemory !== undefined) out += section('container_memory', parts.containerMemory);
  out += section('kernel_oom', parts.kernel ?? '');
  if (parts.service !== undefined) out += section('service', parts.service);
  out += section('config', parts.config ?? fx('derived/config-facts-ok.txt'));
  if (parts.env !== undefined) out += section('env_file', parts.env);
  out += section('health', parts.health ?? fx('health-healthy.json'), parts.healthRc ?? 0);
  out += section('log_file', `# /tmp/openclaw/openclaw-2026-11-25.log\n${parts.log ?? ''}`);
  if (parts.journal !== undefined) out += section('log_journal', parts.journal);
  return out;
}

/** A native systemd host as in the samples (port 18789). */
export function nativeHost(over: Partial<HostConfig> = {}): HostConfig {
  return {
    name: 'prod',
    ssh: { host: '203.0.113.10', port: 22, user: 'claw', hostKeyFingerprint: 'SHA256:abc' },
    install: 'native',
    supervisor: { kind: 'systemd-user', unit: 'openclaw-gateway.service' },
    openclaw: { bin: 'openclaw' },
    gateway: { port: 18789 },
    allowKillPortOwner: false,
    autoFix: false,
    ...over,
  };
}

/** A docker host (`docker exec openclaw openclaw …`, `docker restart openclaw`). */
export function dockerHost(over: Partial<HostConfig> = {}): HostConfig {
  return nativeHost({
    name: 'box',
    install: 'docker',
    container: 'openclaw',
    supervisor: { kind: 'docker', container: 'openclaw' },
    ...over,
  });
}

/** A host whose gateway is started/stopped by inventory commands. */
export function commandsHost(over: Partial<HostConfig> = {}): HostConfig {
  return nativeHost({
    name: 'bare',
    supervisor: { kind: 'commands', start: 'nohup openclaw gateway run >/dev/null 2>&1 &', stop: 'openclaw gateway stop --force' },
    ...over,
  });
}
