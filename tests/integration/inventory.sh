# inventory.sh: fixtures for the inventory tests (t02NN-*.sh), sourced after lib.sh.
. "$(dirname "${BASH_SOURCE[0]}")/screening_lib.sh"

# make_eligible CODE: a clear full questionnaire and an acceptable full panel, both of yesterday
# (screening_lib.sh), so the donor is eligible from now on.
make_eligible() {
    local code=$1
    write_full "$TMP/full-$code.csv"
    fmtbank --user alice questionnaire record "$code" --date "$(d -1)" --file "$TMP/full-$code.csv" \
        >/dev/null || { echo "make_eligible: questionnaire of $code refused"; exit 1; }
    { echo "donor,test,collected,result,unit,lab"; panel_rows "$code" "$(d -1)"; } >"$TMP/panel-$code.csv"
    fmtbank --user alice result import "$TMP/panel-$code.csv" >/dev/null 2>&1 \
        || { echo "make_eligible: panel of $code refused"; exit 1; }
}

# short_q CODE DATE [ITEM]: the donation-day questionnaire of DATE, every answer no, or yes to ITEM.
short_q() {
    write_short "$TMP/short-$1.csv" ${3:+"$3=yes"}
    fmtbank --user alice questionnaire record "$1" --date "$2" --short --file "$TMP/short-$1.csv" \
        >/dev/null || { echo "short_q: questionnaire of $1 refused"; exit 1; }
}

# ts OFFSET: a local timestamp relative to now, e.g. ts "-3 hours".
ts() { date -d "$1" '+%Y-%m-%d %H:%M'; }

# inv_lot [DONOR] [HOURS_AGO] [MASS]: a lot in quarantine made by a superuser INSERT (the
# fixture the inventory tests use instead of donation add); prints its lot ID.
inv_lot() {
    local donor=${1:-D-0001} ago=${2:-2} mass=${3:-500}
    sql "INSERT INTO fmtbank.lot (lot_id, donor_id, collected_at, mass_g, bristol)
         SELECT fmtbank.lot_next_id(now()), d.id, now() - interval '$ago hours', $mass, 4
         FROM fmtbank.donor d WHERE d.code = '$donor' RETURNING lot_id"
}

# inv_process LOT DOSES: processes LOT now through the CLI (as alice); prints the aliquot IDs
# (doses, then the retained sample).
inv_process() {
    fmtbank --user alice donation process "$1" --processed "$(ts now)" --doses "$2" 2>/dev/null
}

# inv_box [ROWS] [COLS]: a box in freezer "Freezer 1" (created on first use); prints its ID.
inv_box() {
    if [ "$(sql "SELECT count(*) FROM fmtbank.freezer WHERE name = 'Freezer 1'")" = 0 ]; then
        fmtbank --user adam freezer add "Freezer 1" --temp -80 --site "Main lab" >/dev/null
    fi
    fmtbank --user adam box add --freezer "Freezer 1" --rack R1 --rows "${1:-8}" --cols "${2:-12}"
}

# scan_as USER INPUT [ARGS...]: runs "fmtbank scan" with INPUT on stdin; $OUT/$ERR/$RC as run.
scan_as() {
    local user=$1 input=$2
    shift 2
    printf '%s' "$input" >"$TMP/scan.in"
    run_in "$TMP/scan.in" fmtbank --user "$user" scan "$@"
}

# where ALIQUOT: "BOX:POS" of a tube, or nothing.
where() { sql "SELECT coalesce(fmtbank.aliquot_location(a.id), '') FROM fmtbank.aliquot a WHERE aliquot_id = '$1'"; }

# Counts that a refused operation must leave unchanged.
inv_state() {
    sql "SELECT (SELECT count(*) FROM fmtbank.audit_log) || '/' ||
                (SELECT count(*) FROM fmtbank.custody_event) || '/' ||
                (SELECT count(aliquot) FROM fmtbank.placement) || '/' ||
                (SELECT count(*) FROM fmtbank.lot) || '/' || (SELECT count(*) FROM fmtbank.aliquot)"
}
