#!/usr/bin/env bash
# demo.sh runs the whole assist loop on this machine: a gateway with its bbolt store, a demo
# technician, an agent on a virtual display (Xvfb with an xterm, unless a real display is
# reachable) filing a request, a one-time connection file, and the viewer on that desktop.
# It keeps running until Ctrl-C. DEMO_ONESHOT=1 takes a snapshot and exits (for scripts).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin
demo=${DEMO_DIR:-$(mktemp -d /tmp/assist-demo.XXXXXX)}
mkdir -p "$demo"
pids=()
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
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "gateway: a data directory, a demo technician, assistd serve"
ssh-keygen -q -t ed25519 -N '' -C demo-technician -f "$demo/technician_ed25519"
"$bin/assistd" init --data "$demo/gateway" --admin demo --admin-full-name "Demo Technician" --admin-key "$demo/technician_ed25519.pub"
ssh_port=$(free_port); http_port=$(free_port)
"$bin/assistd" serve --data "$demo/gateway" --ssh "127.0.0.1:$ssh_port" --http "127.0.0.1:$http_port" 2>"$demo/assistd.log" &
pids+=($!)
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$ssh_port) 2>/dev/null && break; sleep 0.1; done
hostkey=$("$bin/assistd" hostkey --data "$demo/gateway")
echo "listening on 127.0.0.1:$ssh_port (SSH) and http://127.0.0.1:$http_port (help desk); log: $demo/assistd.log"

say "display: the person's desktop"
if [ -n "${DISPLAY:-}" ] && xdpyinfo >/dev/null 2>&1; then
  display=$DISPLAY
  echo "using the real display $display"
else
  Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp -noreset 3>"$demo/display" 2>"$demo/xvfb.log" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$demo/display" ] && break; sleep 0.1; done
  display=":$(cat "$demo/display")"
  DISPLAY=$display xterm -geometry 120x40+100+100 -fa Monospace -fs 12 -e bash --norc &
  pids+=($!)
  echo "started a virtual display $display (Xvfb 1920x1080) with an xterm in it"
fi

say "agent: the person asks for help"
"$bin/assist-agent" request --gateway "127.0.0.1:$ssh_port" --gateway-key "$hostkey" --key "$demo/agent_ed25519" \
  --name "Pat Person" --email pat@example.org --phone "+1 555 0100" --message "My printer does not print." \
  --consent full --display "$display" >"$demo/agent.log" 2>&1 </dev/null &
pids+=($!)
for _ in $(seq 100); do grep -q 'request code is' "$demo/agent.log" 2>/dev/null && break; sleep 0.1; done
cat "$demo/agent.log"
code=$(grep -o '[2-9A-Z]\{4\}-[2-9A-Z]\{4\}' "$demo/agent.log" | head -1)

export ASSIST_GATEWAY=127.0.0.1:$ssh_port ASSIST_USER=demo ASSIST_IDENTITY=$demo/technician_ed25519 ASSIST_GATEWAY_KEY=$hostkey
say "technician: assist request list"
"$bin/assist" request list
say "technician: assist otc $code"
(cd "$demo" && "$bin/assist" otc "$code")

if [ -n "${DEMO_ONESHOT:-}" ]; then
  say "viewer: one snapshot of the person's screen"
  "$bin/assist" connect "$demo/$code.otc" --snapshot "$demo/snapshot.png"
  exit 0
fi

cat <<TRY

Try, in another terminal (these variables point assist at the demo gateway):
  export ASSIST_GATEWAY=$ASSIST_GATEWAY ASSIST_USER=demo ASSIST_IDENTITY=$ASSIST_IDENTITY
  export ASSIST_GATEWAY_KEY='$hostkey'
  $bin/assist request list --json
  $bin/assist request show $code
  ssh -p $ssh_port -i $ASSIST_IDENTITY -o StrictHostKeyChecking=no demo@127.0.0.1 request list
  $bin/assist cp $demo/$code.otc:/etc/hostname .     # needs a fresh .otc once this session ends
  $bin/assist audit --limit 20
  help desk in a browser: http://127.0.0.1:$http_port  (set a password: echo 'a long password' | $bin/assist user passwd)

TRY
say "viewer: assist connect $code.otc (Ctrl-C ends the demo)"
"$bin/assist" connect "$demo/$code.otc" || true
wait
