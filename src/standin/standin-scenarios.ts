/**
 * The scenarios the host stand-in plays and the files that play them: each is real OpenClaw log lines
 * (slices of the samples) laid out back to back ending just before now, lines a failing client logs
 * again at every observation, the config and an optional service override.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { STANDIN_FIXTURES_DIR } from './standin-paths.js';

/** Scenarios the stand-in can play. */
export const SCENARIOS = [
  'healthy',
  'docker_healthy',
  'token_mismatch',
  'stale_client',
  'token_rotated',
  'config_autorestored',
  'token_override',
  'device_token_mismatch',
  'gateway_down',
  'crash_loop',
  'oom',
  'heap_oom',
  'plugin_failure',
  'port_conflict',
  'mode_unset',
  'rate_limited',
  'insecure_context',
  'origin_not_allowed',
  'second_gateway',
  'telegram_conflict',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** A slice of a fixture file: lines from..to (1-based, inclusive). */
interface Ref {
  file: string;
  from?: number;
  to?: number;
}

export interface ScenarioDef {
  running: boolean;
  /** Log blocks, laid out one after another ending just before now; each keeps its real spacing. */
  blocks: Ref[][];
  /** Lines a failing client logs again at every observation (`gateway status`). */
  loop?: Ref[];
  modeUnset?: boolean;
  portOwner?: boolean;
  oomKill?: boolean;
  tokenOverride?: boolean;
  restarts?: number;
}

// The file-log lines of a normal start (`loading configuration…` … `cron: started`), OpenClaw 2026.9.6.
const STARTUP: Ref = { file: 'log-crash-restart.jsonl', from: 31, to: 46 };

export const DEFS: Record<ScenarioName, ScenarioDef> = {
  healthy: { running: true, blocks: [[STARTUP]] },
  docker_healthy: { running: true, blocks: [[STARTUP]] },
  token_mismatch: {
    running: true,
    blocks: [[STARTUP], [{ file: 'log-wrong-token.jsonl' }, { file: 'log-stale-tab-loop.jsonl' }]],
    loop: [{ file: 'log-wrong-token.jsonl' }, { file: 'log-stale-tab-loop.jsonl', from: 27, to: 28 }],
  },
  stale_client: {
    running: true,
    blocks: [[STARTUP], [{ file: 'log-stale-tab-loop.jsonl' }]],
    loop: [{ file: 'log-stale-tab-loop.jsonl', from: 27, to: 28 }],
  },
  token_rotated: {
    running: true,
    blocks: [[STARTUP], [{ file: 'log-token-rotated-while-connected.jsonl' }]],
    loop: [{ file: 'log-token-rotated-while-connected.jsonl', from: 13, to: 14 }],
  },
  config_autorestored: {
    running: true,
    blocks: [[{ file: 'log-mode-unset-autorestored.jsonl' }], [STARTUP], [{ file: 'log-wrong-token.jsonl' }, { file: 'log-stale-tab-loop.jsonl', from: 1, to: 8 }]],
    loop: [{ file: 'log-wrong-token.jsonl' }],
  },
  token_override: {
    running: true,
    tokenOverride: true,
    blocks: [[STARTUP], [{ file: 'log-host-cli-probe-wrong-token.jsonl' }], [{ file: 'log-wrong-token.jsonl' }]],
    loop: [{ file: 'log-wrong-token.jsonl' }],
  },
  device_token_mismatch: {
    running: true,
    blocks: [[STARTUP], [{ file: 'derived/log-device-token-mismatch.stdout.txt' }]],
    loop: [{ file: 'derived/log-device-token-mismatch.stdout.txt' }],
  },
  gateway_down: {
    running: false,
    blocks: [[STARTUP], [{ file: 'log-crash-restart.jsonl', from: 1, to: 2 }]],
  },
  crash_loop: { running: false, restarts: 5, blocks: [[STARTUP], [STARTUP], [STARTUP], [STARTUP]] },
  oom: { running: false, oomKill: true, blocks: [[{ file: 'log-oom-cgroup-350m.txt', from: 1, to: 5 }]] },
  heap_oom: { running: false, blocks: [[{ file: 'log-oom-heap-limit-128m.txt' }]] },
  plugin_failure: { running: true, blocks: [[{ file: 'log-plugin-load-failed.stdout.txt' }]] },
  port_conflict: { running: false, portOwner: true, blocks: [[{ file: 'log-port-conflict.jsonl' }]] },
  mode_unset: {
    running: false,
    modeUnset: true,
    blocks: [[STARTUP], [{ file: 'derived/log-sigterm.stdout.txt' }], [{ file: 'derived/log-mode-blocked.stdout.txt' }]],
  },
  rate_limited: {
    running: true,
    blocks: [[STARTUP], [{ file: 'log-rate-limited.jsonl' }]],
    loop: [{ file: 'log-rate-limited.jsonl', from: 9, to: 10 }],
  },
  insecure_context: {
    running: true,
    blocks: [[STARTUP], [{ file: 'derived/log-insecure-context.stdout.txt' }]],
    loop: [{ file: 'derived/log-insecure-context.stdout.txt' }],
  },
  origin_not_allowed: {
    running: true,
    blocks: [[STARTUP], [{ file: 'derived/log-origin-not-allowed.stdout.txt' }]],
    loop: [{ file: 'derived/log-origin-not-allowed.stdout.txt' }],
  },
  second_gateway: { running: true, blocks: [[STARTUP], [{ file: 'log-second-gateway-run.jsonl' }]] },
  telegram_conflict: { running: true, blocks: [[STARTUP], [{ file: 'derived/log-telegram-409.stdout.txt' }]] },
};

const ISO_RE = /(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)/g;

function formatLike(ms: number, frac: string | undefined, zone: string): string {
  const iso = new Date(ms).toISOString(); // 2026-11-25T15:01:30.887Z
  const base = iso.slice(0, 19);
  const f = frac ? iso.slice(19, 23) : '';
  if (zone === 'Z') return `${base}${f}Z`;
  return `${base}${f}${zone.includes(':') ? '+00:00' : '+0000'}`;
}

function tsRange(lines: string[]): [number, number] | null {
  let min = Infinity;
  let max = -Infinity;
  for (const l of lines) {
    for (const m of l.matchAll(ISO_RE)) {
      const zone = m[3]!.length === 5 ? `${m[3]!.slice(0, 3)}:${m[3]!.slice(3)}` : m[3]!;
      const ms = Date.parse(`${m[1]}${m[2] ?? ''}${zone}`);
      if (Number.isNaN(ms)) continue;
      min = Math.min(min, ms);
      max = Math.max(max, ms);
    }
  }
  return Number.isFinite(min) ? [min, max] : null;
}

/**
 * Shift every ISO timestamp in `lines` by the same offset so the newest lands at `endMs`.
 * Lines stay real OpenClaw lines; only their times move (diagnose looks at a recent window).
 */
export function shiftTimestamps(lines: string[], endMs: number): string[] {
  const r = tsRange(lines);
  if (!r) return [...lines];
  const offset = endMs - r[1];
  return lines.map((l) =>
    l.replace(ISO_RE, (_all, base: string, frac: string | undefined, zone: string) => {
      const z = zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
      const ms = Date.parse(`${base}${frac ?? ''}${z}`);
      return Number.isNaN(ms) ? _all : formatLike(ms + offset, frac, zone);
    }),
  );
}

async function readRef(ref: Ref): Promise<string[]> {
  const text = await readFile(path.join(STANDIN_FIXTURES_DIR, ref.file), 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice((ref.from ?? 1) - 1, ref.to ?? lines.length);
}

/** The config token is the one the stand-in's `openclaw dashboard --json` serves, so both fresh-link paths agree. */
const CONFIG_OK = { gateway: { mode: 'local', auth: { mode: 'token', token: 'standin-dashboard-token-7c1e9a' }, port: 18789, bind: 'loopback' } };

/**
 * Write a scenario's files into the state dir: the gateway log (its blocks back to back, the last one
 * ending 2 s before `now`), the client loop lines, openclaw.json and the service override.
 */
export async function writeScenarioFiles(stateDir: string, port: number, def: ScenarioDef, now: number): Promise<void> {
  // Lay the blocks out back to back, the last one ending 2 s ago.
  const blocks = await Promise.all(def.blocks.map(async (refs) => (await Promise.all(refs.map(readRef))).flat()));
  const out: string[][] = new Array(blocks.length);
  let end = now - 2000;
  for (let i = blocks.length - 1; i >= 0; i--) {
    const r = tsRange(blocks[i]!);
    out[i] = shiftTimestamps(blocks[i]!, end);
    end -= (r ? r[1] - r[0] : 0) + 3000;
  }
  // The samples were taken on port 18789; this stand-in's port is its own.
  const ported = (lines: string[]) => lines.map((l) => l.split('18789').join(String(port)));
  await writeFile(path.join(stateDir, 'openclaw.log'), `${ported(out.flat()).join('\n')}\n`);
  const loop = def.loop ? ported((await Promise.all(def.loop.map(readRef))).flat()) : [];
  await writeFile(path.join(stateDir, 'loop.lines'), loop.length ? `${loop.join('\n')}\n` : '');
  const cfg = structuredClone(CONFIG_OK) as { gateway: Record<string, unknown> };
  cfg.gateway.port = port;
  if (def.modeUnset) delete cfg.gateway.mode;
  await writeFile(path.join(stateDir, 'openclaw.json'), JSON.stringify(cfg, null, 2));
  const override = path.join(stateDir, 'override.conf');
  await rm(override, { force: true });
  if (def.tokenOverride) {
    await writeFile(override, `[Service]\nExecStart=\nExecStart=/home/claw/.local/bin/openclaw gateway run --port ${port} --token stale-standin-token-4f2a9c\n`);
  }
}
