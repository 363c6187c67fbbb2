#!/usr/bin/env bash
# t0361-audit-log-readable: "audit log" as an auditor reads it (issue 14 item 10): the changed
# fields old -> new, codes (donor, test, lot, aliquot, box:position, case) instead of UUIDs and
# internal numbers, --who USER (the global --user still chooses the acting role), --donor CODE
# and --lot LOT across every table that concerns them, and a friendly refusal naming the roles.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inventory.sh"
setup_db
UUID='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

fmtbank --user alice --reason "first visit" donor add D-3611 --birth-year 1990 --sex F >/dev/null
fmtbank --user alice donor add D-3612 --birth-year 1985 --sex M >/dev/null
fmtbank --user alice result add D-3611 CRP --collected "$(d -2)" --result 1.2 --unit mg/L >/dev/null
R=$(sql "SELECT r.id FROM fmtbank.result r JOIN fmtbank.donor d ON d.id = r.donor_id WHERE d.code = 'D-3611'")
fmtbank --user alice --reason "lab reissued" result correct "$R" --result 2.5 >/dev/null
fmtbank --user alice result add D-3612 CRP --collected "$(d -2)" --result 1.0 --unit mg/L >/dev/null
B=$(inv_box 2 2)
LOT=$(inv_lot D-3611 2 400)
mapfile -t AL < <(inv_process "$LOT" 2)   # AL[0..1] doses, AL[2] the retained sample
LOT2=$(inv_lot D-3612 2 400)
mapfile -t AL2 < <(inv_process "$LOT2" 1)
scan_as alice "$B"$'\n'"${AL[0]}"$'\n'
assert_eq "$RC" "0" "a dose stored in the box"
fmtbank --user quinn --reason "contact tracing" donor defer D-3611 --until "$(d 30)" >/dev/null
fmtbank --user quinn donor identity D-3611 --full-name "Jane Doe" >/dev/null

# --- who may read it
expect 6 "a technician cannot read the audit trail" fmtbank --user alice audit log
assert_contains "$ERR" "permission denied: reading the audit trail requires the auditor or quality or admin role" "told which role it takes"
assert_contains "$ERR" 'The acting user "alice" has none of them' "and who is acting"
expect 6 "nor with a filter" fmtbank --user alice audit log --donor D-3611

# --- --donor: every table that concerns the donor, nothing of another donor
expect 0 "audit log --donor" fmtbank --user audrey audit log --donor D-3611 --format tsv
tables=$(printf '%s\n' "$OUT" | tail -n +2 | cut -f4 | sort -u | tr '\n' ' ')
for t in donor result lot aliquot placement custody_event donor_decision; do
    assert_contains " $tables" " $t " "--donor includes $t rows"
done
assert_not_contains "$tables" "donor_identity" "identity rows stay hidden from the auditor"
assert_not_contains "$OUT" "D-3612" "nothing of another donor"
assert_not_contains "$OUT" "$LOT2" "nor its lot"
assert_eq "$(printf '%s\n' "$OUT" | grep -cE "$UUID")" "0" "no UUID anywhere in the table"
assert_contains "$OUT" "donor D-3611, test CRP" "a result's subject: donor and test code"
assert_contains "$OUT" "test_no: CRP" "the test number resolved to its code"
assert_contains "$OUT" "superseded_at: (none) → " "the correction: old → new"
assert_contains "$OUT" "lab reissued" "with its reason"
assert_contains "$OUT" "supersedes: CRP result of D-3611 collected $(d -2), recorded " "the corrected result named, not its UUID"
assert_contains "$OUT" "doses: (none) → 2" "processing: the lot's changed fields"
assert_contains "$OUT" "aliquot ${AL[0]}, box $B:A1" "a placement: the aliquot and box:position"
assert_contains "$OUT" "aliquot: (none) → ${AL[0]}" "the placement's change"
assert_contains "$OUT" "lot: $LOT" "an aliquot's lot by its ID"
assert_contains "$OUT" "decision: defer" "the deferral"
expect 0 "quality sees the identity rows too" fmtbank --user quinn audit log --donor D-3611 --table donor_identity --format tsv
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" "2" "one identity row"
assert_contains "$OUT" "donor D-3611" "its subject"

# --- --lot: the lot, its doses and what names them; not the donor's other rows
expect 0 "audit log --lot" fmtbank --user audrey audit log --lot "$LOT" --format tsv
tables=$(printf '%s\n' "$OUT" | tail -n +2 | cut -f4 | sort -u | tr '\n' ' ')
assert_eq "$tables" "aliquot custody_event lot placement " "the lot, its doses, their placements and custody"
assert_eq "$(printf '%s\n' "$OUT" | tail -n +2 | cut -f4,5 | grep -c "^aliquot	INSERT")" "3" "its three tubes"
assert_not_contains "$OUT" "$LOT2" "not another lot"
expect 0 "--lot and --donor together" fmtbank --user audrey audit log --lot "$LOT" --donor D-3612 --format tsv
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" "1" "both must hold: nothing (header only)"

# --- --who: the acting user of each change; --user still chooses who runs the command
expect 0 "audit log --who quinn" fmtbank --user audrey audit log --who quinn --format tsv
assert_eq "$(printf '%s\n' "$OUT" | tail -n +2 | cut -f3 | sort -u)" "quinn" "only quinn's changes"
assert_contains "$OUT" "donor_decision" "quinn's deferral"
expect 0 "--who with --donor" fmtbank --user audrey audit log --who alice --donor D-3612 --format tsv
assert_eq "$(printf '%s\n' "$OUT" | tail -n +2 | cut -f3 | sort -u)" "alice" "alice's changes"
assert_contains "$OUT" "D-3612" "of that donor"
assert_not_contains "$OUT" "D-3611" "only"

# --- JSON keeps the full rows beside the readable columns
expect 0 "json" fmtbank --user audrey audit log --table donor --key D-3611 --format json
assert_contains "$OUT" '"subject":"D-3611"' "the subject"
assert_contains "$OUT" '"changes":"code: D-3611; birth_year: 1990; sex: F; created_at: ' "the inserted fields"
assert_contains "$OUT" '"new_row":{' "and the full new row"
assert_contains "$OUT" '"reason":"first visit"' "and the reason"

# --- refusals
expect 4 "an unknown donor" fmtbank --user audrey audit log --donor D-9999
assert_contains "$ERR" 'donor "D-9999" not found' "says so"
expect 4 "an unknown user" fmtbank --user audrey audit log --who nobody
assert_contains "$ERR" 'user "nobody" not found' "says so"
expect 3 "a mistyped lot ID" fmtbank --user audrey audit log --lot L99999999X
expect 2 "--who needs a value" fmtbank --user audrey audit log --who
expect 0 "help" fmtbank audit log --help
assert_contains "$OUT" "--who USER" "--help documents --who"
assert_contains "$OUT" "--donor CODE" "--donor"
assert_contains "$OUT" "--lot LOT" "--lot"
# psql: the same function, the same rights (the row policy holds: it runs as the caller)
sql_as alice "SELECT count(*) FROM fmtbank.audit_trail(NULL, NULL, NULL, NULL, NULL, 'D-3611', NULL)"
assert_contains "$ERR" "reading the audit trail requires the auditor" "psql: the technician is refused as well"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_trail(NULL, NULL, 'donor_identity', NULL, NULL, NULL, NULL)" audrey)" "0" \
    "psql: the auditor sees no identity rows through it"

expect 0 "audit trail intact" fmtbank --user audrey audit verify
done_testing
