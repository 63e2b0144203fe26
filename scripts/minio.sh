#!/bin/sh
# minio.sh — the MinIO server rewind's S3 tests run against (loopback only).
#
#   scripts/minio.sh install   build the pinned server into the cache once
#   scripts/minio.sh path      print where the binary is (or will be)
#
# The binary lives at ${REWIND_CACHE:-$HOME/.cache/rewind}/bin/minio; tests
# find it there or at $REWIND_MINIO. Building takes ~3-4 minutes on 2 cores,
# once; later runs return at once.
set -eu

# Pinned: the newest MinIO server module, built and tested with go1.26.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

cache=${REWIND_CACHE:-$HOME/.cache/rewind}
bin=$cache/bin/minio
stamp=$cache/bin/minio.version

case ${1:-install} in
path)
	echo "${REWIND_MINIO:-$bin}"
	;;
install)
	if [ -n "${REWIND_MINIO:-}" ] && [ -x "$REWIND_MINIO" ]; then
		exit 0
	fi
	if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$MINIO_VERSION" ]; then
		exit 0
	fi
	command -v go >/dev/null || { echo "minio.sh: go is needed to build MinIO: install Go >= 1.24" >&2; exit 1; }
	mkdir -p "$cache/bin"
	echo "minio.sh: building MinIO $MINIO_VERSION into $cache/bin (one time, a few minutes)" >&2
	GOBIN=$cache/bin go install "github.com/minio/minio@$MINIO_VERSION"
	echo "$MINIO_VERSION" >"$stamp"
	;;
*)
	echo "usage: $0 install|path" >&2
	exit 2
	;;
esac
