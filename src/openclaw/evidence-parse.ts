/**
 * The parser of the evidence pass's output. Each section is parsed on its own (one reader per
 * section below); a section that failed (non-zero rc, timeout, missing) becomes a gap with its
 * reason instead of spoiling the verdict.
 */
import { redact } from '../util/redact.js';
import type { ConfigFacts, Evidence, EvidenceSection, LogEvent } from './evidence-types.js';
import { parseConfigFacts, parseHealth, parseService } from './evidence-facts.js';
import { splitSections } from './evidence-sections.js';
import { parseLog } from './log-parser.js';
import { parseDockerStats, parseFree } from './parse-free.js';
import { parseGatewayStatusJson, parseGatewayStatusText } from './parse-gateway-status.js';
import { parseSs } from './parse-ss.js';

/** Sections whose failure is expected on many hosts and is not worth reporting as a gap. */
const OPTIONAL_SECTIONS = new Set(['listeners_sudo', 'gateway_status_text', 'log_journal', 'log_docker']);

/** Sections that the script must always produce; missing ones become gaps. */
const REQUIRED_SECTIONS = ['now', 'version', 'gateway_status', 'listeners', 'memory', 'kernel_oom', 'config', 'health', 'log_file'];

type Sections = Record<string, EvidenceSection>;
/** Records a failed section as a gap. */
type Gap = (s: EvidenceSection) => void;

function gapReason(sec: EvidenceSection): string {
  const last = sec.output.trim().split('\n').pop()?.trim() ?? '';
  const tail = last ? `: ${redact(last).slice(0, 160)}` : '';
  if (sec.rc === null) return `${sec.name}: output cut short${tail}`;
  if (sec.rc === 124) return `${sec.name}: timed out`;
  if (sec.rc === 127) return `${sec.name}: command not found${tail}`;
  return `${sec.name}: exit ${sec.rc}${tail}`;
}

/**
 * Parse the evidence script's stdout. Each section is parsed on its own; a section that failed
 * (non-zero rc, timeout, missing) becomes a gap with its reason instead of spoiling the verdict.
 */
export function parseEvidence(stdout: string): Evidence {
  const sections = splitSections(stdout);
  const ev: Evidence = { listeners: [], kernelOom: [], logEvents: [], logSources: [], gaps: [], sections: {} };
  const gap: Gap = (s) => ev.gaps.push(gapReason(s));

  for (const name of REQUIRED_SECTIONS) {
    if (!sections[name]) ev.gaps.push(`${name}: not collected`);
  }
  keepForDisplay(sections, ev);
  readClockAndVersion(sections, ev, gap);
  readGatewayStatus(sections, ev, gap);
  readListeners(sections, ev, gap);
  readMemoryAndOom(sections, ev, gap);
  readServiceAndConfig(sections, ev, gap);
  readHealth(sections, ev, gap);
  readLogs(sections, ev, gap);
  return ev;
}

/** Keep small sections (redacted) for display; logs are summarized by line count only. */
function keepForDisplay(sections: Sections, ev: Evidence): void {
  for (const [name, s] of Object.entries(sections)) {
    const isLog = name.startsWith('log_');
    ev.sections[name] = {
      name,
      rc: s.rc,
      output: isLog ? `(${s.output ? s.output.split('\n').length : 0} lines)` : redact(s.output.slice(0, 20000)),
    };
  }
}

function readClockAndVersion(sections: Sections, ev: Evidence, gap: Gap): void {
  const now = sections.now;
  if (now && now.rc === 0 && !Number.isNaN(Date.parse(now.output.trim()))) ev.hostNow = now.output.trim();

  const ver = sections.version;
  if (ver) {
    const m = /(\d{4}\.\d+\.\d+(?:[-.][\w.]+)?)/.exec(ver.output);
    if (ver.rc === 0 && m) ev.version = m[1];
    else gap(ver);
  }
}

/** `gateway status`: the JSON form, else the text form (its own section, or the JSON section's text). */
function readGatewayStatus(sections: Sections, ev: Evidence, gap: Gap): void {
  const gs = sections.gateway_status;
  const gst = sections.gateway_status_text;
  if (gs) {
    const parsed = parseGatewayStatusJson(gs.output);
    if (parsed) ev.gatewayStatus = parsed;
    else if (gst) {
      const t = parseGatewayStatusText(gst.output);
      if (t) ev.gatewayStatus = t;
      else gap(gst.rc === 0 ? { ...gst, rc: null } : gst);
    } else {
      const t = parseGatewayStatusText(gs.output);
      if (t) ev.gatewayStatus = t;
      else gap(gs.rc === 0 ? { ...gs, output: 'no status in output', rc: 1 } : gs);
    }
  }
  if (!ev.version && ev.gatewayStatus?.cliVersion) ev.version = ev.gatewayStatus.cliVersion;
}

function readListeners(sections: Sections, ev: Evidence, gap: Gap): void {
  const port = ev.gatewayStatus?.port;
  const ls = sections.listeners;
  if (ls) {
    if (ls.rc === 0) ev.listeners = parseSs(ls.output, port);
    else gap(ls);
  }
  const lsu = sections.listeners_sudo;
  if (lsu && lsu.rc === 0) {
    // sudo sees owners the user cannot: fill in process/pid for the same sockets, add hidden ones.
    for (const l of parseSs(lsu.output, port)) {
      const same = ev.listeners.find((x) => x.address === l.address && x.port === l.port);
      if (same) {
        same.process ??= l.process;
        same.pid ??= l.pid;
      } else ev.listeners.push(l);
    }
  }
}

function readMemoryAndOom(sections: Sections, ev: Evidence, gap: Gap): void {
  const mem = sections.memory;
  if (mem) {
    const m = mem.rc === 0 ? parseFree(mem.output) : null;
    if (m) ev.memory = m;
    else gap(mem);
  }
  const cmem = sections.container_memory;
  if (cmem) {
    const m = cmem.rc === 0 ? parseDockerStats(cmem.output) : null;
    if (m) ev.containerMemory = m;
    else gap(cmem);
  }

  const oom = sections.kernel_oom;
  if (oom) {
    if (oom.rc === 0) ev.kernelOom = parseLog(oom.output).filter((e) => e.kind === 'kernel_oom');
    else gap(oom);
  }
}

function readServiceAndConfig(sections: Sections, ev: Evidence, gap: Gap): void {
  const svc = sections.service;
  if (svc) {
    const s = parseService(svc.output);
    if (svc.rc === 0 && s) ev.service = s;
    else gap(svc);
  }

  const cfg = sections.config;
  if (cfg) {
    const facts = parseConfigFacts(cfg.output);
    if (facts.readable || cfg.output.includes('via=config-get')) ev.config = facts;
    else gap(cfg);
  }

  const envf = sections.env_file;
  if (envf) {
    if (envf.rc === 0) {
      const m = /GATEWAY_URL=\s*["']?([^"'\s#]+)/.exec(envf.output);
      if (m) ev.envGatewayUrl = redact(m[1]!);
    } else gap(envf);
  }
}

function readHealth(sections: Sections, ev: Evidence, gap: Gap): void {
  const h = sections.health;
  if (h) {
    const parsed = parseHealth(h.output);
    if (parsed) ev.health = parsed;
    // health goes through the gateway: when its probe already failed, this is no extra blind spot.
    else if (ev.gatewayStatus?.probeOk !== false) gap(h);
  }
}

/** Dedup key: the same event seen in the file log and in the journal/docker stdout counts once. */
function eventKey(e: LogEvent): string {
  if ('conn' in e) return `${e.kind}|${e.conn}|${'code' in e ? e.code : ''}`;
  const bucket = Number.isNaN(e.ms) ? e.text.slice(0, 80) : String(Math.floor(e.ms / 2000));
  return `${e.kind}|${bucket}|${'plugin' in e ? e.plugin : ''}`;
}

function logBody(sec: EvidenceSection | undefined): { source?: string; text: string } {
  if (!sec) return { text: '' };
  const text = sec.output;
  if (text.startsWith('# ')) {
    const nl = text.indexOf('\n');
    return { source: text.slice(2, nl < 0 ? undefined : nl).trim(), text: nl < 0 ? '' : text.slice(nl + 1) };
  }
  return { text };
}

/**
 * Logs: file log first (richest), then journal / docker stdout. An event already seen in an
 * earlier source is dropped; repeats within one source are real (a client loops on one conn id).
 */
function readLogs(sections: Sections, ev: Evidence, gap: Gap): void {
  const seenBefore = new Set<string>();
  let lastMs = NaN;
  for (const name of ['log_file', 'log_journal', 'log_docker']) {
    const sec = sections[name];
    if (!sec) continue;
    if (sec.rc !== 0 && !OPTIONAL_SECTIONS.has(name)) {
      gap(sec);
      // A section cut by the output cap still holds good lines: parse them; anything else failed outright.
      if (sec.rc !== null) continue;
    }
    const { source, text } = logBody(sec);
    if (!text.trim()) continue;
    ev.logSources.push(name === 'log_file' ? `file:${source ?? '?'}` : name === 'log_journal' ? 'journal' : 'docker logs');
    const keys: string[] = [];
    let carry: LogEvent | undefined;
    for (const e of parseLog(text)) {
      // Untimed lines (stderr: "FATAL ERROR …") happened right after the previous timed line.
      if (Number.isNaN(e.ms) && carry) {
        e.ms = carry.ms;
        e.time = carry.time;
      } else if (!Number.isNaN(e.ms)) carry = e;
      const k = eventKey(e);
      if (seenBefore.has(k)) continue;
      keys.push(k);
      ev.logEvents.push(e);
      if (!Number.isNaN(e.ms) && !(e.ms <= lastMs)) lastMs = e.ms;
    }
    for (const k of keys) seenBefore.add(k);
  }
  // Sources interleave: order by time, keeping lines without a time where they came.
  ev.logEvents.push(...restoresFromClobbered(ev.config, ev.logEvents));
  ev.logEvents = stableSortByTime(ev.logEvents);
  if (!Number.isNaN(lastMs)) ev.lastLogTime = new Date(lastMs).toISOString();
}

function stableSortByTime(events: LogEvent[]): LogEvent[] {
  let prev = -Infinity;
  const keyed = events.map((e, i) => {
    const k = Number.isNaN(e.ms) ? prev : e.ms;
    prev = k;
    return { e, i, k };
  });
  keyed.sort((a, b) => a.k - b.k || a.i - b.i);
  return keyed.map((x) => x.e);
}

/**
 * A config auto-restore seen only from the `.clobbered` copy it left (no `Config auto-restored`
 * line in the log within two minutes of it): an event at the copy's time, so the rules read it as
 * the restore it was. Seen on 2026.4.29, whose restore line goes to stdout only.
 */
const CLOBBER_MATCH_MS = 120_000;
function restoresFromClobbered(config: ConfigFacts | undefined, logged: readonly LogEvent[]): LogEvent[] {
  const out: LogEvent[] = [];
  for (const time of config?.clobberedAt ?? []) {
    const ms = Date.parse(time);
    if (logged.some((e) => e.kind === 'config_autorestored' && Math.abs(e.ms - ms) <= CLOBBER_MATCH_MS)) continue;
    out.push({
      kind: 'config_autorestored',
      time,
      ms,
      text: `openclaw.json.clobbered copy kept at ${time} (a config auto-restore; its log line went to stdout only)`,
      path: config?.path,
      reason: 'seen from the openclaw.json.clobbered copy it left',
    });
  }
  return out;
}
