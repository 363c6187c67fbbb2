#!/usr/bin/env bash
# fuzz.sh BUILD SECONDS [NAME...]: long libFuzzer runs ("make fuzz") of the harnesses of
# tests/fuzz built in BUILD (FMTBANK_FUZZ=ON), SECONDS each, one after the other; all of them, or
# the NAMEs given (csv, scanline, ...). New inputs are kept in BUILD/fuzz/NAME/corpus, crashes in
# BUILD/fuzz/NAME/artifacts. Exits non-zero at the first harness that finds a crash.
set -euo pipefail
build=${1:?usage: fuzz.sh BUILD SECONDS [NAME...]}
seconds=${2:?usage: fuzz.sh BUILD SECONDS [NAME...]}
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in "$build"/tests/fuzz/fuzz_*; do names+=("${f##*/fuzz_}"); done
fi
for n in "${names[@]}"; do
    bin=$build/tests/fuzz/fuzz_$n
    [ -x "$bin" ] || { echo "fuzz: no harness $bin (build with FMTBANK_FUZZ=ON)" >&2; exit 2; }
    mkdir -p "$build/fuzz/$n/corpus" "$build/fuzz/$n/artifacts"
    echo "fuzz: $n for $seconds s" >&2
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$build/fuzz/$n/artifacts/" "$build/fuzz/$n/corpus" "$src/tests/fuzz/corpus/$n"
done
