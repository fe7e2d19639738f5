#!/usr/bin/env bash
# Prints Warden's performance report: ingest throughput against the JSON decode ceiling, peak
# memory, a user query among 1,000,000 stored events, and a 1,000,000-event backfill from the
# fake API at 1000 requests a minute (about two minutes of it is the rate limit).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(mktemp -d)/warden-bench"
go build -o "$bin" ./cmd/warden-bench
"$bin" "$@"
echo
echo "Go micro-benchmarks (decoder, store, detection):"
go test -run '^$' -bench . -benchtime 3x ./backend/... 2>&1 | grep -E '^(Benchmark|ok|FAIL)' || true
