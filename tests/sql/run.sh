#!/usr/bin/env bash
# run.sh: the SQL regression layer (pg_regress style). One embedded instance; each tests/sql/sql/
# NAME.sql runs through psql as the superuser inside one transaction that is rolled back (after
# the helpers of prelude.sql, not echoed), with ON_ERROR_ROLLBACK so that a refused statement
# shows its error and the file goes on; the echoed output must equal expected/NAME.out.
#   FMTBANK_BIN=build tests/sql/run.sh [NAME...]          run (all files by default)
#   FMTBANK_BIN=build tests/sql/run.sh --update [NAME...]  rewrite expected/ from this run; review
#                                                          the diff before committing it
. "$(dirname "$0")/../integration/lib.sh"
SQLDIR=$FMTBANK_SRC/tests/sql
update=0
if [ "${1:-}" = --update ]; then update=1; shift; fi
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in "$SQLDIR"/sql/*.sql; do names+=("$(basename "$f" .sql)"); done
fi
setup_db
results=$TMP/results
mkdir -p "$results"
# psql names an error's line in its whole input; printed as the line of NAME.sql instead, so that
# the expected output does not depend on the prelude's length: the 4 setting lines below, the
# prelude, the ECHO line
offset=$((4 + $(sed -n '$=' "$SQLDIR/prelude.sql") + 1))
for name in "${names[@]}"; do
    file=$SQLDIR/sql/$name.sql
    [ -f "$file" ] || { not_ok "$name: no such file $file"; continue; }
    t0=$(date +%s%N)
    {
        printf '\\set ON_ERROR_ROLLBACK on\n\\set VERBOSITY terse\n\\pset null (null)\nBEGIN;\n'
        cat "$SQLDIR/prelude.sql"
        printf '\\set ECHO queries\n'
        cat "$file"
        printf '\\set ECHO none\nROLLBACK;\n'
    } | fmtbank --user postgres db psql -X -q -v ON_ERROR_STOP=0 --pset pager=off -f - 2>&1 |
        awk -v off="$offset" -v f="$name.sql" 'match($0, /^psql:<stdin>:[0-9]+:/) {
            n = substr($0, 14, RLENGTH - 14) - off
            $0 = "psql:" f ":" n ":" substr($0, RLENGTH + 1)
        } { print }' >"$results/$name.out"
    ms=$((($(date +%s%N) - t0) / 1000000))
    if [ "$update" = 1 ]; then
        cp "$results/$name.out" "$SQLDIR/expected/$name.out"
        ok "$name: expected output rewritten (${ms} ms)"
    elif diff -u "$SQLDIR/expected/$name.out" "$results/$name.out" >"$results/$name.diff"; then
        ok "$name (${ms} ms)"
    else
        not_ok "$name: output differs from expected/$name.out" "$(head -80 "$results/$name.diff")"
    fi
done
done_testing
