#!/usr/bin/env bash
# template.sh: the CTest fixture every integration test that calls setup_db requires. It makes one
# embedded instance with "fmtbank init --demo" (the real init: migrations, code set, demo users)
# in $FMTBANK_BIN/test-template and stops it; setup_db (lib.sh) then copies that stopped cluster
# into the test's own FMTBANK_HOME instead of running initdb and every migration again. The tests
# of init itself (t0001, t0002, t0004-upgrade) still run init.
set -u
: "${FMTBANK_BIN:?FMTBANK_BIN must point at the build directory}"
unset FMTBANK_DSN PGHOST PGHOSTADDR PGPORT PGDATABASE PGSERVICE PGUSER FMTBANK_SCHEMA FMTBANK_REPORTS
dir="$FMTBANK_BIN/test-template"
if [ -d "$dir/data" ]; then FMTBANK_HOME="$dir" "$FMTBANK_BIN/fmtbank" db stop >/dev/null 2>&1; fi
rm -rf "$dir"
mkdir -p "$dir"
chmod 755 "$dir"
export FMTBANK_HOME="$dir"
"$FMTBANK_BIN/fmtbank" init --demo >"$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
"$FMTBANK_BIN/fmtbank" db stop >>"$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
echo "ok 1 - template instance in $dir"
