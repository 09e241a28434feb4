#!/usr/bin/env bash
# demo.sh runs the whole assist loop on this machine: a gateway with its bbolt store, a demo
# technician, an agent on a virtual display (Xvfb with an xterm, unless a real display is
# reachable) filing a request, a one-time connection file, and the viewer on that desktop.
# It keeps running until Ctrl-C. DEMO_ONESHOT=1 takes a snapshot and exits (for scripts).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/demo.sh assist-demo

say "gateway: a data directory, a demo technician, assistd serve"
technician_key
"$bin/assistd" init --data "$demo/gateway" --admin demo --admin-full-name "Demo Technician" --admin-key "$demo/technician_ed25519.pub"
ssh_port=$(free_port); http_port=$(free_port)
"$bin/assistd" serve --data "$demo/gateway" --ssh "127.0.0.1:$ssh_port" --http "127.0.0.1:$http_port" 2>"$demo/assistd.log" &
pids+=($!)
wait_port "$ssh_port"
hostkey=$("$bin/assistd" hostkey --data "$demo/gateway")
echo "listening on 127.0.0.1:$ssh_port (SSH) and http://127.0.0.1:$http_port (help desk); log: $demo/assistd.log"

say "display: the person's desktop"
if [ -n "${DISPLAY:-}" ] && xdpyinfo >/dev/null 2>&1; then
  display=$DISPLAY
  echo "using the real display $display"
else
  virtual_display 1920x1080x24 120x40+100+100
  echo "started a virtual display $display (Xvfb 1920x1080) with an xterm in it"
fi

say "agent: the person asks for help"
ask_for_help "127.0.0.1:$ssh_port" --phone "+1 555 0100"

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
