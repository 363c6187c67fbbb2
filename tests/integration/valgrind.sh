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
mkdir -m 700 "$TMP/anchor"
vg "audit keygen" fmtbank audit keygen --private "$TMP/anchor/a.key" --public "$TMP/anchor/a.pub"
vg "audit keygen refused" fmtbank audit keygen --private "$TMP/anchor/a.key" --public "$TMP/anchor/b.pub"
vg "audit anchor" fmtbank --user audrey audit anchor --key "$TMP/anchor/a.key" --log "$TMP/anchor/log" --outbox "$TMP/anchor"
vg "audit anchor again" fmtbank --user audrey audit anchor --key "$TMP/anchor/a.key" --log "$TMP/anchor/log"
vg "audit verify --anchors" fmtbank --user audrey audit verify --anchors "$TMP/anchor/log" --pub "$TMP/anchor/a.pub"
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

# Inventory: storage, processing with labels, a scan session (stdin), the box map.
vg_in() { # DESCRIPTION INPUT CMD...: as vg, with INPUT on stdin
    local desc=$1 input=$2
    shift 2
    run_in "$input" "${VG[@]}" "$@"
    if [ "$RC" -ne 99 ] && [[ "$ERR" != *"definitely lost"* ]]; then ok "$desc"; else not_ok "$desc" "valgrind errors: $*"; fi
}
vg "freezer add" fmtbank --user adam freezer add "Freezer 1" --temp -80
vg "box add" fmtbank --user adam box add --freezer "Freezer 1" --rows 8 --cols 12
box=$(sql "SELECT box_id FROM fmtbank.box")
lot=$(sql "INSERT INTO fmtbank.lot (lot_id, donor_id, collected_at, mass_g, bristol)
           SELECT fmtbank.lot_next_id(now()), id, now() - interval '1 hour', 500, 4
           FROM fmtbank.donor WHERE code = 'D-0001' RETURNING lot_id")
vg "donation process with labels" fmtbank --user alice donation process "$lot" --processed "$(date '+%F %H:%M')" --doses 3 --labels "$TMP/l.zpl"
{ echo "$box"; sql "SELECT aliquot_id FROM fmtbank.aliquot"; echo C4; echo nonsense; echo "MODE audit"; echo "$box"; } >"$TMP/scan.in"
vg_in "scan session" "$TMP/scan.in" fmtbank --user alice scan --timing
{ sql "SELECT aliquot_id FROM fmtbank.aliquot LIMIT 1"; echo "$box"; echo "$lot"; echo "MODE store"; echo "MODE issue"; } >"$TMP/issue.in"
vg_in "scan session in issue mode" "$TMP/issue.in" fmtbank --user alice scan --mode issue --recipient R-0001 --site "Site North"
vg "location show" fmtbank --user alice location show "$box"
vg "aliquot label" fmtbank --user alice aliquot label "$(sql "SELECT aliquot_id FROM fmtbank.aliquot LIMIT 1")"
vg "aliquot history json" fmtbank --user alice --format json aliquot history "$(sql "SELECT aliquot_id FROM fmtbank.aliquot LIMIT 1")"
vg "report inventory (box map)" fmtbank --user alice report inventory -o "$TMP/inventory.xlsx"
vg "report expiring" fmtbank --user alice report expiring --param days=800 -o "$TMP/expiring.xlsx"
vg "report eligibility" fmtbank --user alice report eligibility -o "$TMP/eligibility.xlsx"
vg "report parameter out of bounds" fmtbank --user alice report expiring --param days=-1 -o "$TMP/x.xlsx"

# Release: lot state, release check and a refused signature (the lot has no panels), lookback,
# review, issue refused, thaw.
vg "lot show" fmtbank --user alice lot show "$lot"
vg "lot list json" fmtbank --user alice --format json lot list
vg "release check (not releasable)" fmtbank --user quinn release check "$lot"
printf 'wrong-password\n' >"$TMP/pw"
vg_in "release sign (wrong password)" "$TMP/pw" fmtbank --user quinn release sign "$lot" --meaning "Released for clinical use" --password-stdin
vg "lookback" fmtbank --user quinn --format json lookback D-0001
vg "lookback list" fmtbank --user quinn lookback list
vg "release review" fmtbank --user quinn release review
tube=$(sql "SELECT aliquot_id FROM fmtbank.aliquot WHERE NOT retained ORDER BY aliquot_id LIMIT 1")
vg "aliquot issue (refused)" fmtbank --user alice aliquot issue "$tube" --recipient R-0001 --site "Site A"
vg "aliquot thaw" fmtbank --user alice aliquot thaw "$tube"

done_testing
