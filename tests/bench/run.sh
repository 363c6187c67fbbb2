#!/usr/bin/env bash
# run.sh: runs every benchmark (tests/bench/bench_*.sh) against a throwaway embedded instance and
# prints their figures ("make bench"). Benchmarks print numbers; they assert nothing.
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
for b in "$here"/bench_*.sh; do
    [ -e "$b" ] || continue
    echo "== $(basename "$b" .sh)"
    FMTBANK_BIN="$BUILD" bash "$b"
done
