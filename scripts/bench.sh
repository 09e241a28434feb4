#!/usr/bin/env bash
# bench.sh prints assist's performance figures:
#   1. Go benchmarks of the desktop protocol's encoder and of X11 capture (on Xvfb, started by the tests);
#   2. the end-to-end desktop bench: four screen workloads through a real gateway on loopback;
#   3. file transfer through the gateway against OpenSSH's sftp, direct and through a jump host.
# BENCH_FILE_SIZE (default 1GiB) and BENCH_SECONDS (default 10, per desktop workload) shorten a run.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin

echo "== Go benchmarks: rdp encoder, X11 capture"
go test -run '^$' -bench . -benchmem -benchtime 2s ./rdp ./agent/internal/xdesktop

if [ -d internal/deskbench ]; then
  echo
  echo "== desktop end to end through the gateway (1920x1080 Xvfb)"
  go build -o bin/deskbench ./internal/deskbench
  bin/deskbench -seconds "${BENCH_SECONDS:-10}"
fi

echo
echo "== file transfer through the gateway vs OpenSSH"
go build -o bin/filebench ./internal/filebench
bin/filebench -size "${BENCH_FILE_SIZE:-1GiB}" -runs 2
