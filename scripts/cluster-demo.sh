#!/usr/bin/env bash
# cluster-demo.sh runs the whole assist loop across a cluster on this machine: a 3-member etcd
# (etcd's own server, embedded in bin/etcdcluster), three gateways sharing it, an agent on
# gateway 3 filing a request, a technician listing it through gateway 1, a one-time connection
# file minted on gateway 2 that opens the desktop of the agent on gateway 3, then kill -9 of
# gateway 3: the agent resumes its request on another gateway, and assistd check and cluster
# status say how the cluster stands. DEMO_ONESHOT=1 takes a snapshot through gateway 2 and the
# failover, then exits (for scripts); otherwise the viewer stays open until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/demo.sh assist-cluster-demo

say "etcd: three members on 127.0.0.1"
"$bin/etcdcluster" --dir "$demo/etcd" --members 3 >"$demo/etcd.out" 2>"$demo/etcd.log" &
pids+=($!)
for _ in $(seq 300); do [ -s "$demo/etcd.out" ] && break; sleep 0.1; done
store=$(head -1 "$demo/etcd.out")
[ -n "$store" ] || { echo "etcd did not start:"; cat "$demo/etcd.log"; exit 1; }
echo "--store $store"

say "gateways: initialise the cluster once, three assistd with copies of the first's keys"
technician_key
"$bin/assistd" init --store "$store" --data "$demo/gw1" --admin demo --admin-full-name "Demo Technician" --admin-key "$demo/technician_ed25519.pub"
for n in 2 3; do mkdir -m 700 "$demo/gw$n"; cp -p "$demo/gw1"/ssh_host_ed25519_key* "$demo/gw1/audit.key" "$demo/gw$n/"; done
declare -A port gpid
http_port=$(free_port)
for n in 1 2 3; do
  port[$n]=$(free_port)
  http=""; [ "$n" = 1 ] && http="127.0.0.1:$http_port"
  "$bin/assistd" serve --store "$store" --data "$demo/gw$n" --gateway-name "gw$n" --ssh "127.0.0.1:${port[$n]}" \
    --advertise "127.0.0.1:${port[$n]}" --http "$http" 2>"$demo/gw$n.log" &
  gpid[$n]=$!; pids+=($!)
done
for n in 1 2 3; do wait_port "${port[$n]}"; echo "gw$n on 127.0.0.1:${port[$n]} (log $demo/gw$n.log)"; done
echo "help desk web screen of gw1: http://127.0.0.1:$http_port"
hostkey=$("$bin/assistd" hostkey --data "$demo/gw1")

say "display: the person's desktop"
virtual_display 1280x800x24 100x30+80+80
echo "a virtual display $display with an xterm in it"

say "agent: the person asks for help on gw3, knowing all three gateways"
ask_for_help "127.0.0.1:${port[3]},127.0.0.1:${port[1]},127.0.0.1:${port[2]}"

tech() { ASSIST_GATEWAY=127.0.0.1:${port[$1]} ASSIST_USER=demo ASSIST_IDENTITY=$demo/technician_ed25519 ASSIST_GATEWAY_KEY=$hostkey "$bin/assist" "${@:2}"; }
say "technician on gw1: assist request list (filed through gw3)"
tech 1 request list
say "technician on gw2: assist otc $code (every gateway's address in it, gw2's first)"
(cd "$demo" && tech 2 otc "$code")
grep '^gateway:' "$demo/$code.otc"
say "assistd cluster status"
"$bin/assistd" cluster status --store "$store" --data "$demo/gw1"

if [ -n "${DEMO_ONESHOT:-}" ]; then
  say "viewer through gw2: one snapshot of the desktop of the agent on gw3"
  "$bin/assist" connect "$demo/$code.otc" --snapshot "$demo/snapshot.png"
  echo "wrote $demo/snapshot.png"
fi

say "kill -9 gw3: the agent moves to the next gateway it knows and resumes $code"
killed=$(date +%s%N)
{ kill -9 "${gpid[3]}"; wait "${gpid[3]}"; } 2>/dev/null || true
for _ in $(seq 200); do grep -q 'Connected again' "$demo/agent.log" && break; sleep 0.05; done
echo "the agent is online again, same code, $(( ($(date +%s%N) - killed) / 1000000 )) ms after the kill"
tech 1 request list
tail -3 "$demo/agent.log"
say "assistd check --store … (the audit chain and every index, while the gateways run)"
"$bin/assistd" check --store "$store" --data "$demo/gw1" --gateway-name gw1
say "assistd cluster status, once gw3's lease ran out"
sleep 4 # the lease's TTL is 3 s: nothing to wait on but the clock
"$bin/assistd" cluster status --store "$store" --data "$demo/gw1"

[ -n "${DEMO_ONESHOT:-}" ] && exit 0
cat <<TRY

Try, in another terminal:
  export ASSIST_USER=demo ASSIST_IDENTITY=$demo/technician_ed25519 ASSIST_GATEWAY_KEY='$hostkey'
  ASSIST_GATEWAY=127.0.0.1:${port[2]} $bin/assist request list
  $bin/assistd cluster status --store $store --data $demo/gw1 --json
TRY
say "viewer: assist connect $code.otc through gw2 (a fresh file; Ctrl-C ends the demo)"
(cd "$demo" && tech 2 otc "$code" >/dev/null)
"$bin/assist" connect "$demo/$code.otc" || true
wait
