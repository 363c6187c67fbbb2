#!/usr/bin/env bash
# valgrind.sh: representative commands of a non-sanitised build under valgrind memcheck; any
# error or definite leak fails (run by "make test" through the valgrind CTest label).
. "$(dirname "$0")/lib.sh"
setup_db
VG=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-fds=no)

vg() { # DESCRIPTION CMD...: the command must not trip valgrind (exit 99)
    local desc=$1
    shift
    run "${VG[@]}" "$@"
    if [ "$RC" -ne 99 ] && [[ "$ERR" != *"definitely lost"* ]]; then ok "$desc"; else not_ok "$desc" "valgrind errors: $*"; fi
}

printf 'code,birth_year,sex\nD-0100,1990,F\nbad,x,Q\n' >"$TMP/bad.csv"
printf 'code,birth_year,sex\nD-0100,1990,F\n' >"$TMP/good.csv"
vg "help" fmtbank --help
vg "status" fmtbank status
vg "user list json" fmtbank --user audrey --format json user list
vg "donor add" fmtbank --user alice donor add D-0042 --birth-year 1991
vg "donor import with errors" fmtbank --user alice donor import "$TMP/bad.csv"
vg "donor import" fmtbank --user alice donor import "$TMP/good.csv"
vg "refused command" fmtbank --user alice user add x --role admin
vg "audit log" fmtbank --user audrey audit log --format tsv
vg "audit verify" fmtbank --user audrey audit verify
vg "usage error" fmtbank donor add
vg "init" fmtbank init
vg "report audit" fmtbank --user audrey report audit -o "$TMP/audit.xlsx"
vg "report check" fmtbank report check
vg "report refused" fmtbank --user alice report audit -o "$TMP/refused.xlsx"
mkdir -p "$TMP/inbox"
printf 'code,birth_year,sex\nD-0200,1990,F\n' >"$TMP/inbox/good.csv"
cp "$TMP/bad.csv" "$TMP/inbox/bad.csv"
printf 'settle = 0\n' >"$TMP/fmtbankd.conf"
vg "fmtbankd --once with an inbox" fmtbankd --once --inbox "$TMP/inbox" --config "$TMP/fmtbankd.conf"
vg "fmtbankd bad configuration" fmtbankd --once --config "$TMP/bad.csv"

done_testing
