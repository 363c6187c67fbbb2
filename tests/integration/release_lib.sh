# release_lib.sh: fixtures for the release tests (t03NN), sourced after lib.sh and
# screening_lib.sh (d, panel_rows, write_short).
#
# Donations in these tests are collected days ago, so they are registered by a superuser INSERT
# (as the inventory tests do): "donation add" judges eligibility with what had been recorded by
# the collection time, and this test database did not exist then. Everything after that goes
# through the CLI.

# rel_panel CODE DATE [omitted test ...]: imports an acceptable full panel collected on DATE
rel_panel() {
    local code=$1 day=$2
    shift 2
    { echo "donor,test,collected,result,unit,lab"; panel_rows "$code" "$day" "$@"; } >"$TMP/panel.csv"
    fmtbank --user alice result import "$TMP/panel.csv" >/dev/null 2>"$TMP/panel.err" ||
        { echo "# could not import the panel of $code on $day: $(cat "$TMP/panel.err")"; return 1; }
}

# rel_result CODE TEST DATE RESULT [UNIT]: one result through "result add"; prints its ID
rel_result() {
    fmtbank --user alice result add "$1" "$2" --collected "$3" --result "$4" ${5:+--unit "$5"} 2>/dev/null
}

# rel_short CODE DATE [item=yes ...]: the donation-day questionnaire of DATE
rel_short() {
    local code=$1 day=$2
    shift 2
    write_short "$TMP/short.csv" "$@"
    fmtbank --user alice questionnaire record "$code" --date "$day" --short --file "$TMP/short.csv" \
        >/dev/null 2>"$TMP/short.err" || { echo "# short questionnaire: $(cat "$TMP/short.err")"; return 1; }
}

# rel_followup CODE DATE [item=yes ...]: the follow-up questionnaire of DATE (post-donation health
# check); nothing when the donor already has one of that date
rel_followup() {
    local code=$1 day=$2
    shift 2
    [ "$(sql "SELECT count(*) FROM fmtbank.questionnaire q JOIN fmtbank.donor d ON d.id = q.donor_id
              WHERE d.code = '$code' AND q.kind = 'followup' AND q.q_date = '$day'")" = 0 ] || return 0
    write_followup "$TMP/followup.csv" "$@"
    fmtbank --user alice questionnaire record "$code" --date "$day" --followup --file "$TMP/followup.csv" \
        >/dev/null 2>"$TMP/followup.err" ||
        { echo "# follow-up questionnaire: $(cat "$TMP/followup.err")"; return 1; }
}

# rel_lot CODE "DATE HH:MM" [MASS]: a lot collected then (superuser INSERT, see above); prints its ID
rel_lot() {
    sql "INSERT INTO fmtbank.lot (lot_id, donor_id, collected_at, mass_g, bristol, rule_set_version)
         SELECT fmtbank.lot_next_id(now()), d.id, '$2', ${3:-200}, 4, 1
         FROM fmtbank.donor d WHERE d.code = '$1' RETURNING lot_id"
}

# rel_process LOT "DATE HH:MM" DOSES: processing through the CLI; prints the aliquot IDs
rel_process() {
    fmtbank --user alice donation process "$1" --processed "$2" --doses "$3" 2>/dev/null
}

# rel_donor CODE: registers a donor born in 1990, with a signed consent for every use
rel_donor() {
    fmtbank --user alice donor add "$1" --birth-year 1990 --sex F >/dev/null && donor_consent "$1"
}

# rel_lot_full CODE DAYS_AGO [DOSES]: a donation DAYS_AGO days ago with its donation-day
# questionnaire, processed 90 minutes after collection, and, when DAYS_AGO is at least 28, a clear
# follow-up questionnaire 28 days after it (followup_min_days); prints the lot ID. Panels are up to
# the caller.
rel_lot_full() {
    local code=$1 ago=$2 lot
    rel_short "$code" "$(d "-$ago")" || return 1
    lot=$(rel_lot "$code" "$(d "-$ago") 08:30") || return 1
    rel_process "$lot" "$(d "-$ago") 10:00" "${3:-3}" >/dev/null || return 1
    if [ "$ago" -ge 28 ]; then rel_followup "$code" "$(d "-$((ago - 28))")" || return 1; fi
    echo "$lot"
}

# Lot helpers: stored status, displayed status (lot show JSON), blocking rules (comma-separated).
lot_stored() { sql "SELECT status FROM fmtbank.lot WHERE lot_id = '$1'"; }
lot_shown() { sql "SELECT status FROM fmtbank.lot_show('$1')"; }
lot_rules() {
    sql "SELECT coalesce(string_agg(e ->> 'rule', ',' ORDER BY o), '') FROM fmtbank.lot_show('$1') s,
         jsonb_array_elements(s.blocking) WITH ORDINALITY AS x(e, o)"
}
lot_detail() { # LOT RULE: the details of RULE, newline-separated
    sql "SELECT string_agg(e ->> 'detail', E'\n') FROM fmtbank.lot_show('$1') s,
         jsonb_array_elements(s.blocking) e WHERE e ->> 'rule' = '$2'"
}
aliquots_of() { sql "SELECT aliquot_id FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot
                     WHERE l.lot_id = '$1' ORDER BY a.idx"; }
aliquot_states() { sql "SELECT string_agg(fmtbank.aliquot_status_now(a.status, a.expires_at), ',' ORDER BY a.idx)
                        FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot WHERE l.lot_id = '$1'"; }

# sign LOT [USER] [PASSWORD]: release sign with --password-stdin; $OUT/$ERR/$RC as run
sign() {
    printf '%s\n' "${3:-quinn-signs-1}" >"$TMP/pw"
    run_in "$TMP/pw" fmtbank --user "${2:-quinn}" release sign "$1" --meaning "Released for clinical use" --password-stdin
}
