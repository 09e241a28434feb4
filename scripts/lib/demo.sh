# lib/demo.sh is what scripts/demo.sh and scripts/cluster-demo.sh share: sourced from the top of
# the checkout with the name of the demo's directory (". scripts/lib/demo.sh assist-demo"), it
# makes that directory (DEMO_DIR, or a new one in /tmp), kills what the demo started on exit,
# and defines the steps both demos take.
set -euo pipefail
bin=$PWD/bin
demo=${DEMO_DIR:-$(mktemp -d "/tmp/$1.XXXXXX")}
mkdir -p "$demo"
pids=() # what the demo started, killed on exit
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port prints a loopback port nothing listens on (bash only: no python on a bare Debian).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
# wait_port waits up to 15 s for something to listen on loopback port $1.
wait_port() { for _ in $(seq 150); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "nothing listens on $1" >&2; exit 1; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# technician_key makes the demo technician's key pair, $demo/technician_ed25519 and .pub.
technician_key() { ssh-keygen -q -t ed25519 -N '' -C demo-technician -f "$demo/technician_ed25519"; }

# virtual_display SCREEN GEOMETRY starts Xvfb with one screen of SCREEN (WxHxDEPTH) and an xterm
# at GEOMETRY on it, and sets display.
virtual_display() {
  Xvfb -displayfd 3 -screen 0 "$1" -nolisten tcp -noreset 3>"$demo/display" 2>"$demo/xvfb.log" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$demo/display" ] && break; sleep 0.1; done
  display=":$(cat "$demo/display")"
  DISPLAY=$display xterm -geometry "$2" -fa Monospace -fs 12 -e bash --norc &
  pids+=($!)
}

# ask_for_help GATEWAYS [FLAG ...] runs the agent as the demo person filing a request at
# GATEWAYS (comma-separated), pinned to $hostkey, sharing $display, with the FLAGs added; once
# the request is filed it prints the agent's words and sets code.
ask_for_help() {
  local gateways=$1
  shift
  "$bin/assist-agent" request --gateway "$gateways" --gateway-key "$hostkey" --key "$demo/agent_ed25519" \
    --name "Pat Person" --email pat@example.org --message "My printer does not print." "$@" \
    --consent full --display "$display" >"$demo/agent.log" 2>&1 </dev/null &
  pids+=($!)
  for _ in $(seq 150); do grep -q 'request code is' "$demo/agent.log" 2>/dev/null && break; sleep 0.1; done
  cat "$demo/agent.log"
  code=$(grep -o '[2-9A-Z]\{4\}-[2-9A-Z]\{4\}' "$demo/agent.log" | head -1)
}
