#!/usr/bin/env bash
# bench.sh — run the Go benchmarks of every package that has them, write
# .cache/bench/new.txt, and compare it with a baseline through benchstat.
#
#   scripts/bench.sh                      # what `make bench` runs
#   BENCH=Stage COUNT=1 scripts/bench.sh  # a subset, once
#   PKGS=./vmdisk scripts/bench.sh        # one package
#
# Baseline: testdata/bench-baseline.txt if checked in, else .cache/bench/baseline.txt
# (make one with: cp .cache/bench/new.txt .cache/bench/baseline.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH=${BENCH:-.}
BENCHTIME=${BENCHTIME:-3x}
COUNT=${COUNT:-5}
TIMEOUT=${TIMEOUT:-180m}
out=.cache/bench
mkdir -p "$out"

# PKGS (space-separated) or every tracked package with a func Benchmark… in a
# _test.go file (blockstore/s3's MinIO benchmark builds MinIO once: scripts/minio.sh).
if [ -n "${PKGS:-}" ]; then
	read -ra pkgs <<<"$PKGS"
else
	mapfile -t pkgs < <(git ls-files '*_test.go' | xargs grep -l '^func Benchmark' | xargs -n1 dirname | sort -u | sed 's|^|./|')
fi
if [ ${#pkgs[@]} -eq 0 ]; then
	echo "bench: no package has a benchmark" >&2
	exit 1
fi
echo "bench: ${pkgs[*]} (-bench '$BENCH' -benchtime $BENCHTIME -count $COUNT)" >&2

{
	echo "# $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD) on $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	go test -run '^$' -bench "$BENCH" -benchtime "$BENCHTIME" -count "$COUNT" -timeout "$TIMEOUT" "${pkgs[@]}"
} | tee "$out/new.txt.part"
mv "$out/new.txt.part" "$out/new.txt"

baseline=
for f in testdata/bench-baseline.txt "$out/baseline.txt"; do
	if [ -f "$f" ]; then baseline=$f; break; fi
done
if [ -z "$baseline" ]; then
	echo "bench: no baseline (testdata/bench-baseline.txt or $out/baseline.txt); to make this run the baseline:" >&2
	echo "  cp $out/new.txt $out/baseline.txt" >&2
	exit 0
fi

benchstat=$(command -v benchstat || true)
if [ -z "$benchstat" ]; then
	gobin="$PWD/.cache/bin"
	if [ ! -x "$gobin/benchstat" ]; then
		echo "bench: installing benchstat into $gobin" >&2
		GOBIN="$gobin" go install golang.org/x/perf/cmd/benchstat@latest
	fi
	benchstat="$gobin/benchstat"
fi
echo "bench: $baseline → $out/new.txt" >&2
"$benchstat" "$baseline" "$out/new.txt" | tee "$out/compare.txt"
