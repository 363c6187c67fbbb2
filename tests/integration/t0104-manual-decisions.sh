#!/usr/bin/env bash
# t0104-manual-decisions: "donor defer|exclude|reinstate" (quality only, reason required, audited),
# their effect on the derived status and its boundary, and every refusal changing nothing (CLI and
# psql).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
setup_db

dcount() { sql "select count(*) from fmtbank.donor_decision"; }
status() { sql "select status || '|' || coalesce(deferred_until::text, '') from fmtbank.donor_status_at((fmtbank.donor_get('$1')).id)"; }
status_as_of() { sql "select status from fmtbank.donor_status_at((fmtbank.donor_get('$1')).id, fmtbank.parse_as_of('$2'))"; }

# D-0001 eligible; D-0002 excluded by a questionnaire answer
write_full "$TMP/q.csv"
write_full "$TMP/q2.csv" prion_risk=yes
{ echo "donor,test,collected,result,unit,lab"; panel_rows D-0001 "$(d -1)"; panel_rows D-0002 "$(d -1)"; } >"$TMP/p.csv"
fmtbank --user alice result import "$TMP/p.csv" >/dev/null
fmtbank --user alice questionnaire record D-0001 --date "$(d 0)" --file "$TMP/q.csv" >/dev/null
fmtbank --user alice questionnaire record D-0002 --date "$(d 0)" --file "$TMP/q2.csv" >/dev/null
assert_eq "$(status D-0001)" "eligible|" "D-0001 starts eligible"
assert_eq "$(status D-0002)" "excluded|" "D-0002 starts excluded (prion_risk)"

# ---- refusals change nothing
n0=$(dcount); a0=$(audit_count)
expect 6 "a technician cannot defer" fmtbank --user alice --reason x donor defer D-0001 --until "$(d 30)"
assert_contains "$ERR" "permission denied: deferring donors requires the quality role" "says who may"
expect 6 "an admin cannot exclude" fmtbank --user adam --reason x donor exclude D-0001
assert_contains "$ERR" "excluding donors requires the quality role" "says who may"
expect 6 "an auditor cannot reinstate" fmtbank --user audrey --reason x donor reinstate D-0001
expect 3 "a reason is required" fmtbank --user quinn donor defer D-0001 --until "$(d 30)"
assert_contains "$ERR" "deferring a donor requires a reason" "says so"
expect 3 "exclusion needs a reason" fmtbank --user quinn donor exclude D-0001
expect 2 "--until is required" fmtbank --user quinn --reason x donor defer D-0001
expect 3 "--until must be in the future" fmtbank --user quinn --reason x donor defer D-0001 --until "$(d 0)"
assert_contains "$ERR" "deferral date $(d 0) is not in the future" "says so"
expect 3 "--until must be a date" fmtbank --user quinn --reason x donor defer D-0001 --until tomorrow
assert_contains "$ERR" 'invalid date "tomorrow" for --until' "names the option"
expect 4 "an unknown donor" fmtbank --user quinn --reason x donor exclude D-9999
expect 5 "nothing to reinstate" fmtbank --user quinn --reason x donor reinstate D-0001
assert_contains "$ERR" 'donor "D-0001" has no manual deferral or exclusion in force' "says so"
expect 5 "a derived exclusion is not lifted by reinstate" fmtbank --user quinn --reason x donor reinstate D-0002
assert_contains "$ERR" "Deferrals and exclusions derived from results and questionnaires end by themselves" "explains why"
assert_eq "$(dcount)/$(audit_count)" "$n0/$a0" "refusals recorded nothing"
sql_as alice "select fmtbank.donor_decide('D-0001', 'exclude', null)"
assert_contains "$ERR" "permission denied" "psql: a technician cannot call donor_decide"
sql_as alice "insert into fmtbank.donor_decision (donor_id, decision, reason) select id, 'exclude', 'x' from fmtbank.donor where code = 'D-0001'"
assert_contains "$ERR" "permission denied for table donor_decision" "psql: nor insert a decision"
sql_as quinn "insert into fmtbank.donor_decision (donor_id, decision, reason) select id, 'exclude', 'x' from fmtbank.donor where code = 'D-0001'"
assert_contains "$ERR" "permission denied for table donor_decision" "psql: quality decides only through the function"
assert_eq "$(dcount)" "$n0" "still nothing recorded"

# ---- defer
expect 0 "quality defers" fmtbank --user quinn --reason "travel plans unclear" donor defer D-0001 --until "$(d 30)"
assert_contains "$ERR" "donor \"D-0001\" is now deferred until $(d 30)" "says the new status"
assert_eq "$(status D-0001)" "deferred|$(d 30)" "deferred until the date"
expect 0 "donor show" fmtbank --format json donor show D-0001
assert_contains "$OUT" "{\"rule\": \"manual\", \"detail\": \"deferred by quinn on $(d 0) until $(d 30): travel plans unclear\"}" "the reason names who, when, until, why"
assert_eq "$(sql "select count(*) from fmtbank.audit_log where tbl = 'donor_decision' and who = 'quinn' and reason = 'travel plans unclear'")" "1" "audited with the reason"
assert_eq "$(status_as_of D-0001 "$(d 29)")" "deferred" "the day before the end: deferred"
assert_eq "$(status_as_of D-0001 "$(d 30)")" "eligible" "the day of the end: no longer deferred"
assert_eq "$(status_as_of D-0001 "$(d 31)")" "eligible" "the day after: eligible"
expect 0 "explain after the end" fmtbank donor explain D-0001 --as-of "$(d 31)"
assert_contains "$OUT" "the deferral by quinn until $(d 30) has ended" "explain says the deferral ended"
n0=$(dcount)
expect 5 "the same deferral again" fmtbank --user quinn --reason x donor defer D-0001 --until "$(d 30)"
assert_contains "$ERR" "donor \"D-0001\" is already deferred until $(d 30)" "says so"
assert_eq "$(dcount)" "$n0" "nothing recorded"
expect 0 "a longer deferral replaces it" fmtbank --user quinn --reason "longer" donor defer D-0001 --until "$(d 40)"
assert_eq "$(status D-0001)" "deferred|$(d 40)" "deferred until the new date"

# ---- exclude
expect 0 "quality excludes" fmtbank --user quinn --reason "positive contact tracing" donor exclude D-0001
assert_eq "$(status D-0001)" "excluded|" "excluded"
n0=$(dcount)
expect 5 "excluding again" fmtbank --user quinn --reason x donor exclude D-0001
assert_contains "$ERR" 'donor "D-0001" is already excluded' "says so"
assert_contains "$ERR" "positive contact tracing" "with the reason in force"
expect 5 "deferring an excluded donor" fmtbank --user quinn --reason x donor defer D-0001 --until "$(d 10)"
assert_contains "$ERR" "Reinstate the donor first" "hints at reinstate"
assert_eq "$(dcount)" "$n0" "nothing recorded"
expect 0 "explain names the decision" fmtbank --format json donor explain D-0001
assert_contains "$OUT" '"rule" : "manual", "verdict" : "excluded"' "manual rule excluded"

# ---- reinstate
expect 0 "quality reinstates" fmtbank --user quinn --reason "tracing negative" donor reinstate D-0001
assert_eq "$(status D-0001)" "eligible|" "eligible again"
expect 0 "explain shows the reinstatement" fmtbank donor explain D-0001
assert_contains "$OUT" "reinstated by quinn on $(d 0): tracing negative" "explain: reinstated by whom, why"
expect 0 "quality excludes D-0002 too" fmtbank --user quinn --reason "belt and braces" donor exclude D-0002
expect 0 "reinstating lifts only the manual exclusion" fmtbank --user quinn --reason "undo" donor reinstate D-0002
assert_eq "$(status D-0002)" "excluded|" "the derived exclusion stands"
assert_eq "$(sql "select count(*) from fmtbank.audit_log where tbl = 'donor_decision'")" "6" "every decision audited"
expect 0 "audit log of decisions" fmtbank --user audrey --format json audit log --table donor_decision
assert_contains "$OUT" '"reason":"tracing negative"' "the audit log has the reason"

done_testing
