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
      deadline_race "$log" || break
      echo "   go's fuzz coordinator reported its own deadline, with no failing input (golang/go#75804, fixed in Go 1.27); trying once more"
    done
    if ((ok)); then
      tail -n 1 "$log"
      continue
    fi
    failed+=("$pkg $f")
    echo "!! $pkg $f failed:"
    tail -n 40 "$log"
    # "Failing input written to testdata/fuzz/FuzzX/HASH" names the file, relative to the package.
    input=$(sed -n 's/.*Failing input written to \(testdata\/fuzz\/[^ ]*\).*/\1/p' "$log" | tail -n 1)
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
