# Shared state handling of the OpenClaw host stand-in (sourced by every executable in bin/).
# State lives in $CLAWMEDIC_STANDIN_STATE: `state` (key=value), `openclaw.log` (the gateway file log
# the stand-in serves), `openclaw.json` (config), `loop.lines` (what a failing client logs per
# observation), `calls.log` (argv of every invocation, tab-separated, \t \n \\ escaped).
set -u
S="${CLAWMEDIC_STANDIN_STATE:?CLAWMEDIC_STANDIN_STATE is not set}"
STANDIN_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FX="${CLAWMEDIC_STANDIN_FIXTURES:-$STANDIN_HOME/../samples}"
D="$FX/derived"
LOG="$S/openclaw.log"

scenario=healthy
running=1
restarts=0
owner_pid=
pending=
oom_at=
# shellcheck disable=SC1091
[ -f "$S/state" ] && . "$S/state"

log_call() {
  local out="$1" a
  shift
  for a in "$@"; do
    a=${a//\\/\\\\}
    a=${a//$'\t'/\\t}
    a=${a//$'\n'/\\n}
    out+=$'\t'"$a"
  done
  printf '%s\n' "$out" >>"$S/calls.log"
}

save_state() {
  printf 'scenario=%s\nrunning=%s\nrestarts=%s\nowner_pid=%s\npending=%s\noom_at=%s\n' \
    "$scenario" "$running" "$restarts" "$owner_pid" "$pending" "$oom_at" >"$S/state.tmp"
  mv "$S/state.tmp" "$S/state"
}

now_iso() { date -u +%Y-%m-%dT%H:%M:%S.%3N+00:00; }

# Append fixture lines to the gateway log, stamped with the current time (real lines, new time).
append_now() {
  local t
  t=$(now_iso)
  sed -e "s/\"time\":\"[^\"]*\"/\"time\":\"$t\"/" -e "s/18789/${CLAWMEDIC_STANDIN_PORT:-18789}/g" \
    -e "s/^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]*[+-][0-9][0-9]:[0-9][0-9]/$t/" "$@" >>"$LOG"
}

# A killed owner may linger as a zombie until its parent reaps it: that no longer holds the port.
owner_alive() {
  [ -n "$owner_pid" ] && kill -0 "$owner_pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$owner_pid/status" 2>/dev/null
}

# Scenarios where a client keeps failing while the gateway runs: every observation logs one more round.
client_loop_scenario() {
  case "$scenario" in
    stale_client | token_mismatch | token_rotated | rate_limited | insecure_context | device_token_mismatch | \
      origin_not_allowed | config_autorestored | token_override) return 0 ;;
  esac
  return 1
}

observe() {
  if [ "$running" = 1 ] && client_loop_scenario && [ -s "$S/loop.lines" ]; then
    # Every reconnect is a new connection: give this round's lines fresh (but paired) conn ids.
    local p
    p=$(printf '%04x%04x' $RANDOM $RANDOM)
    sed -E "s/[0-9a-f]{8}(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/$p\1/g" "$S/loop.lines" >"$S/.loop"
    append_now "$S/.loop"
  fi
}

GW_PORT="${CLAWMEDIC_STANDIN_PORT:-18789}"

# Is the stand-in gateway's real listener process (gateway.mjs, pid in $S/gateway.pid) alive?
gw_proc_alive() {
  local pid=
  [ -f "$S/gateway.pid" ] && read -r pid <"$S/gateway.pid"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
}

# Start the real listener of a running gateway and wait until it accepts (a real start takes seconds too).
gw_proc_up() {
  gw_proc_alive && return 0
  setsid "${CLAWMEDIC_STANDIN_NODE:-node}" "$STANDIN_HOME/gateway.mjs" "$GW_PORT" "$S" "$FX" </dev/null >/dev/null 2>&1 &
  echo $! >"$S/gateway.pid"
  local i
  for i in $(seq 1 500); do
    (exec 3<>"/dev/tcp/127.0.0.1/$GW_PORT") 2>/dev/null && return 0
    sleep 0.02
  done
  return 1
}

# Stop the real listener and wait until it is gone (the port is free again).
gw_proc_down() {
  local pid= i
  [ -f "$S/gateway.pid" ] && read -r pid <"$S/gateway.pid"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null
  for i in $(seq 1 500); do
    gw_proc_alive || return 0
    sleep 0.02
  done
  kill -9 "$pid" 2>/dev/null
  # Gone before the next start binds the port (else the new listener loses it to this one).
  for i in $(seq 1 250); do
    gw_proc_alive || return 0
    sleep 0.02
  done
  return 0
}

# Start the gateway the way a supervisor would. Returns 0 when it runs afterwards.
gw_start() {
  if [ "$running" = 1 ]; then return 0; fi
  # A gateway that will not come up whatever is done (tests of a fix that does not help): `touch $S/wont_start`.
  if [ -f "$S/wont_start" ]; then return 0; fi
  if owner_alive; then
    append_now "$FX/log-port-conflict.txt"
    restarts=$((restarts + 1))
    save_state
    return 1
  fi
  if [ "$scenario" = mode_unset ]; then
    append_now "$D/log-mode-blocked.stdout.txt"
    save_state
    return 1
  fi
  if [ -n "$pending" ]; then
    scenario=$pending
    pending=
  fi
  case "$scenario" in
    gateway_down | crash_loop | oom | heap_oom | port_conflict) scenario=healthy ;;
    token_override) [ -f "$S/override.conf" ] || scenario=healthy ;;
  esac
  running=1
  # A manual start resets the supervisor's automatic-restart counter (systemd NRestarts).
  restarts=0
  save_state
  gw_proc_up
  sed -n '3,$p' "$FX/log-crash-restart.stdout.txt" >"$S/.startup"
  append_now "$S/.startup"
  return 0
}

gw_stop() {
  if [ "$running" = 1 ]; then
    append_now "$D/log-sigterm.stdout.txt"
    running=0
    save_state
  fi
  gw_proc_down
  return 0
}

# Wall time of the real CLI call this stand-in replaces: $1 = seconds measured on a real OpenClaw
# 2026.9.6 host (2 cores), scaled by $S/latency if present, else $CLAWMEDIC_STANDIN_LATENCY (0 = instant).
# The real CLI spends that time in Node start-up and module loading; the stand-in only sleeps.
real_latency() {
  local f="${CLAWMEDIC_STANDIN_LATENCY:-0}"
  [ -f "$S/latency" ] && read -r f <"$S/latency"
  case "$f" in "" | 0 | 0.0 | 0.00) return 0 ;; esac
  sleep "$(awk -v s="$1" -v f="$f" 'BEGIN { printf "%.3f", s * f }')"
}

# A real sample with this state's paths and port owner pid.
serve() {
  sed -e "s#/tmp/openclaw/openclaw-2026-11-25.log#$LOG#g" \
    -e "s#/home/claw/.openclaw/openclaw.json#$S/openclaw.json#g" \
    -e "s#~/.openclaw/openclaw.json#$S/openclaw.json#g" \
    -e "s#26892#${owner_pid:-26892}#g" "$1"
}

# The sample `gateway status` answer for this state (json|txt): up, refused (a --token override), port taken, down.
status_sample() {
  local f
  if [ "$running" = 1 ]; then
    if [ "$scenario" = token_override ]; then f=gateway-status-token-mismatch; else f=gateway-status-up; fi
  elif owner_alive; then f=gateway-status-port-conflict
  else f=gateway-status-down; fi
  serve "$FX/$f.$1"
}
