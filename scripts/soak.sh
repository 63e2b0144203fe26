#!/usr/bin/env bash
# make soak: every test with REWIND_SOAK=1 (the long crash loops, the million-file tree,
# 60 bitmap rounds), then every fuzz target for FUZZTIME (default 2m) each.
set -euo pipefail
cd "$(dirname "$0")/.."
REWIND_SOAK=1 go test -count=1 -timeout 180m ./...
fuzztime=${FUZZTIME:-2m}
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do
  pkg=./$(dirname "${f#./}")
  for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
    echo "fuzzing $pkg $target for $fuzztime"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
  done
done
