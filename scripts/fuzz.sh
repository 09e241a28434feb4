#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target in the module for the given time each (default 10s).
# A second argument, a regular expression, keeps only the targets whose names match it:
#   scripts/fuzz.sh 30s ParseLocation
# FUZZFLAGS adds flags to every go test run, e.g. FUZZFLAGS='-parallel 1' to fuzz on one core.
# FUZZMINIMIZE bounds how long the fuzzer minimizes an input it keeps (default 2s; Go's own
# default, 60s, lets one slow-to-shrink input eat a short run whole: FuzzApplyUpdate ran 83
# inputs in 10 s, minimizing its first new one, and 3,000 with 1 s).
#
# It runs them all even when one fails, then lists the failures and exits 1. For each failure it
# prints the end of the fuzzer's output and the failing input that `go test` wrote under the
# package's testdata/fuzz/FuzzX/, so the input can be committed as a regression test (make test
# runs every file there) and reproduced with: go test -run 'FuzzX/HASH' ./PKG
set -uo pipefail
t=${1:-10s}
only=${2:-.}
cd "$(dirname "$0")/.."

# deadline_race says whether a failed run is only Go 1.26's fuzz coordinator racing its own
# -fuzztime deadline on a busy machine: "context deadline exceeded" as the whole failure, no
# failing input written, no panic. A crash always writes its input, so this hides none.
deadline_race() {
  grep -q '^    context deadline exceeded$' "$1" &&
    ! grep -q 'Failing input written\|panic:\|_test.go:[0-9]' "$1"
}

# written_input names the input a failed run wrote ("Failing input written to
# testdata/fuzz/FuzzX/HASH", relative to the package), or nothing.
written_input() {
  sed -n 's/.*Failing input written to \(testdata\/fuzz\/[^ ]*\).*/\1/p' "$1" | tail -n 1
}

# stalled_worker says whether a failed run is only Go's watchdog killing a fuzz worker that the
# machine stopped running for 10 s (golang/go#56238): a worker that has not returned from one
# input after 10 s of wall-clock time panics, and the run reports "hung or terminated
# unexpectedly" with whatever input it was on. A nice -n 19 worker beside a busy core is stopped
# that long (observed: 12 s stalls while a benchmark ran). Such a run is told apart by rerunning
# its input alone: one that really hangs or kills the process fails again or takes as long again,
# so this hides none. It removes the input, which is no regression test, and sets alone_s to the
# seconds it took. Arguments: log, package, its directory, target.
stalled_worker() {
  grep -q 'fuzzing process hung or terminated unexpectedly' "$1" || return 1
  local input
  input=$(written_input "$1")
  [ -n "$input" ] && [ -f "$3/$input" ] || return 1
  go test -count=1 -v -run "^$4\$/^$(basename "$input")\$" -timeout 60s "$2" >"$1.alone" 2>&1 || return 1
  alone_s=$(sed -n "s/^ *--- PASS: $4\/[0-9a-f]* (\([0-9.]*\)s)\$/\1/p" "$1.alone" | head -n 1)
  [ -n "$alone_s" ] && awk -v s="$alone_s" 'BEGIN { exit !(s + 0 < 5) }' || return 1
  rm -f "$3/$input"
}

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
start=$SECONDS
targets=0
failed=()

while read -r pkg dir; do
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | awk '{print $2}' | sort -u | grep -E "$only"); do
    targets=$((targets + 1))
    log="$logs/$targets.log"
    echo "== $pkg $f ($t)"
    ok=0
    for try in 1 2; do
      if go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" -fuzzminimizetime "${FUZZMINIMIZE:-2s}" ${FUZZFLAGS:-} "$pkg" >"$log" 2>&1; then
        ok=1
        break
      fi
      ((try == 1)) || break
      if deadline_race "$log"; then
        echo "   go's fuzz coordinator reported its own deadline, with no failing input (golang/go#75804, fixed in Go 1.27); trying once more"
      elif stalled_worker "$log" "$pkg" "$dir" "$f"; then
        echo "   go's fuzzing called its worker hung, on an input that passes alone in ${alone_s}s: the machine stopped the worker (golang/go#56238); trying once more"
      else
        break
      fi
    done
    if ((ok)); then
      tail -n 1 "$log"
      continue
    fi
    failed+=("$pkg $f")
    echo "!! $pkg $f failed:"
    tail -n 40 "$log"
    # "Failing input written to testdata/fuzz/FuzzX/HASH" names the file, relative to the package.
    input=$(written_input "$log")
    if [ -n "$input" ] && [ -f "$dir/$input" ]; then
      echo "-- failing input $dir/$input:"
      cat "$dir/$input"
      echo "-- reproduce: go test -run '$f/$(basename "$input")' $pkg"
    fi
  done
done < <(go list -f '{{.ImportPath}} {{.Dir}}' ./...)

echo "fuzz: $targets targets, ${t} each, $((SECONDS - start)) s in all"
if ((targets == 0)); then
  echo "fuzz: no fuzz target matched $only (or go list failed)" >&2
  exit 1
fi
if ((${#failed[@]})); then
  echo "fuzz: ${#failed[@]} failed:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
