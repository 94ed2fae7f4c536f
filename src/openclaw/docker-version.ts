/**
 * The OpenClaw version of a docker install: the light probe cannot read it from the host (the package
 * is in the container), so the caller runs this script once per container (host-status.ts caches it by
 * the gateway's pid) and parses its output here.
 */
import type { HostConfig } from '../domain/host.js';
import { shellQuote } from '../util/shell-quote.js';
import { splitSections } from './evidence-sections.js';
import { SECTION_FNS } from './light-probe-bash.js';
import { packageVersionSearch } from './light-probe-script.js';
import { TemplateError, TIMEOUT_PRELUDE } from './templates.js';

/** Deadline of each docker command of the docker version script (the docker CLI answers in well under a second). */
export const DOCKER_VERSION_CMD_SEC = 10;
/** Exec deadline of the docker version script: two docker commands under their deadlines, with slack. */
export const DOCKER_VERSION_TIMEOUT_MS = 25_000;

/**
 * The OpenClaw version of a docker install, which the light probe cannot read (the package is in the
 * container): the same package.json search as on a native host, run in the container by one `docker exec`
 * (`sh` and shell builtins, plus `readlink` when the bin is a link; no `openclaw`, which costs ~0.5 s and
 * ~100 MB); if that fails (no sh in the image, the container stopped), the image's OCI version label and its
 * name (a tag may carry the version) from one `docker inspect`. The docker CLI alone peaks at ~23 MB RSS
 * (docker 28.2), over the probe's 20 MB budget: the caller runs this once per container (host-status.ts caches it by the gateway's pid), never per probe.
 * Sections: `docker_version` (the version line, rc 0 when found), `docker_image` ("<image>|<label>").
 */
export function buildDockerVersionScript(host: HostConfig): string {
  if (!host.container) throw new TemplateError(`${host.name}: docker install without a container name`);
  const c = shellQuote(host.container);
  const inner = `${packageVersionSearch(host.openclaw.bin, false)}; exit $_cm_v`;
  const imageFormat = shellQuote('{{.Config.Image}}|{{index .Config.Labels "org.opencontainers.image.version"}}');
  return [
    '# clawmedic docker version: read-only',
    TIMEOUT_PRELUDE,
    ...SECTION_FNS,
    // One short line of each, '@' replaced so nothing from the container can forge a section marker.
    `_cm_o=$(_cm_to ${DOCKER_VERSION_CMD_SEC} docker exec -- ${c} sh -c ${shellQuote(inner)} </dev/null 2>/dev/null); _cm_rc=$?`,
    `_cm_s docker_version; printf '%s\\n' "$_cm_o" | head -n 1 | head -c 200 | tr '@' '?'; _cm_e $_cm_rc`,
    `if [ "$_cm_rc" != 0 ]; then _cm_o=$(_cm_to ${DOCKER_VERSION_CMD_SEC} docker inspect -f ${imageFormat} -- ${c} </dev/null 2>/dev/null); _cm_rc=$?; ` +
      `_cm_s docker_image; printf '%s\\n' "$_cm_o" | head -n 1 | head -c 300 | tr '@' '?'; _cm_e $_cm_rc; fi`,
  ].join('\n');
}

/** A version as OpenClaw numbers its releases (2026.9.6, 2026.10.1-beta.2). */
const VERSION_RE = /^v?(\d{4}\.\d{1,2}\.\d{1,3}(?:[-+][0-9A-Za-z.-]{1,40})?)$/;

/** What the docker version script found: the version and where from, or why not. */
export interface DockerVersion {
  version?: string;
  /** package: the package.json in the container; image: the image's OCI version label or its tag. */
  source?: 'package' | 'image';
  /** The image as docker names it, when the fallback ran ("openclaw:local"). */
  image?: string;
}

/** Parse the docker version script's output. */
export function parseDockerVersion(stdout: string): DockerVersion {
  const sec = splitSections(stdout);
  const pkg = sec.docker_version;
  const line = pkg?.output.trim().split('\n')[0]?.trim() ?? '';
  if (pkg && pkg.rc === 0 && VERSION_RE.test(line)) return { version: VERSION_RE.exec(line)![1], source: 'package' };
  const img = sec.docker_image;
  if (!img || img.rc !== 0) return {};
  const [image = '', label = ''] = img.output.trim().split('\n')[0]!.split('|').map((x) => x.trim());
  const tag = /:([^:/]+)$/.exec(image)?.[1] ?? '';
  const v = VERSION_RE.exec(label)?.[1] ?? VERSION_RE.exec(tag)?.[1];
  return { ...(v ? { version: v, source: 'image' as const } : {}), ...(image ? { image: image.slice(0, 120) } : {}) };
}
