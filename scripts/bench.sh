#!/usr/bin/env bash
# bench.sh prints assist's performance figures:
#   1. Go benchmarks of the desktop protocol's encoder and of X11 capture (on Xvfb, started by the tests),
#      and of the Windows agent's GDI capture under Wine (labelled as Wine: it says nothing of Windows);
#   2. the end-to-end desktop bench: the agent's memory over 50 viewer sessions one after another,
#      then five screen workloads through a real gateway, on four links;
#   2b. session recording (BenchmarkRecording, BenchmarkRecorder, BenchmarkSeekOneHour in ./sshd);
#   3. file transfer through the gateway against OpenSSH's sftp, direct and through a jump host;
#   4. scale: a load program speaking the agent protocol against bin/assistd (idle agents held,
#      filings/s, request list latency with 100k stored, back-online time after a link drop), then
#      filings/s and request list latency again with the gateway on a 3-member etcd (-store etcd).
# BENCH_FILE_SIZE (default 1GiB), BENCH_SECONDS (default 4, per desktop workload and link),
# BENCH_LINKS (default lan,broadband,vpn,bad) and BENCH_SESSIONS (default 50; 0 skips them) shorten
# a run; BENCH_PARTS picks parts (default "go desk file scale"), e.g. BENCH_PARTS=scale make bench;
# BENCH_AGENTS (default 20000) sets the scale part's idle agents.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
parts=" ${BENCH_PARTS:-go desk record file scale} "
part() { [[ "$parts" == *" $1 "* ]]; }

if part go; then
echo "== Go benchmarks: rdp encoder, X11 capture, pixel conversion"
go test -run '^$' -bench . -benchmem -benchtime 2s ./rdp ./agent/internal/xdesktop ./agent/internal/bgrx
fi

if part go; then
echo
echo "== Windows capture (GDI) under Wine on a 1920x1080 Xvfb: a figure for Wine, not for Windows"
go test -run '^$' -bench 'GDI(Capture|Parts)UnderWine' -benchtime 1x ./agent/internal/windesktop
fi

if part desk && [ -d internal/cmd/deskbench ]; then
  echo
  echo "== desktop end to end through the gateway (1920x1080 Xvfb)"
  go build -o bin/deskbench ./internal/cmd/deskbench
  bin/deskbench -seconds "${BENCH_SECONDS:-4}" -links "${BENCH_LINKS:-lan,broadband,vpn,bad}" -sessions "${BENCH_SESSIONS:-50}"
fi

if part record; then
  echo
  echo "== session recording: size an hour vs bytes crossed, CPU added during full, seek in a one-hour recording"
  BENCH_SECONDS="${BENCH_SECONDS:-4}" go test -run '^$' -bench 'BenchmarkRecording|BenchmarkRecorder$|BenchmarkSeekOneHour' -benchtime 1x ./sshd
fi

if part file; then
echo
echo "== file transfer through the gateway vs OpenSSH"
go build -o bin/filebench ./internal/cmd/filebench
bin/filebench -size "${BENCH_FILE_SIZE:-1GiB}" -runs 2
fi

if part scale; then
echo
echo "== scale: agents, filings and request lists against bin/assistd on loopback"
go build -o bin/scalebench ./internal/cmd/scalebench
bin/scalebench -assistd bin/assistd -agents "${BENCH_AGENTS:-20000}"
echo
echo "== scale on the etcd store: the same filings and request lists, one gateway on a 3-member etcd on this machine"
bin/scalebench -assistd bin/assistd -store etcd
fi
