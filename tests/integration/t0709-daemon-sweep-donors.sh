#!/usr/bin/env bash
# t0709-daemon-sweep-donors: the donor sweep logs deferrals that ran out and results that expired
# (re-screen due) once, stores the derived status, and audits the change.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
setup_db

sql_as adam "SELECT what, n FROM fmtbank.sweep()"
assert_contains "$OUT" "donors: donors first seen|3" "first sweep records the three demo donors"
assert_eq "$(sql "select string_agg(status, ',' order by d.code) from fmtbank.donor_state s join fmtbank.donor d on d.id = s.donor_id")" \
    "screening,screening,screening" "stored as derived"
sql_as adam "SELECT what, n FROM fmtbank.sweep()"
assert_eq "$OUT" "" "a second sweep changes nothing"

# The last sweep was yesterday (sweeps judge what changed: a new day adds the donors whose stored
# dates ran out, 180_sweep_dirty), when D-0001 was deferred until today (the deferral has run
# out since) and D-0002 was eligible with results valid through yesterday (expired since).
sql "update fmtbank.sweep_state set day = day - 1" >/dev/null
sql "update fmtbank.donor_state set status = 'deferred', deferred_until = current_date
     where donor_id = (select id from fmtbank.donor where code = 'D-0001')" >/dev/null
sql "update fmtbank.donor_state set status = 'eligible', next_screening_due = current_date - 1
     where donor_id = (select id from fmtbank.donor where code = 'D-0002')" >/dev/null
# D-0003 is deferred now by a manual decision.
expect 0 "quality defers D-0003" fmtbank --user quinn --reason "travel" donor defer D-0003 --until "$(date -d '+30 days' +%F)"

run fmtbankd --once
assert_eq "$RC" "0" "fmtbankd --once"
assert_contains "$ERR" "sweep donors: deferrals that ran out: 1" "deferral that ran out logged"
assert_contains "$ERR" "sweep donors: donors whose results expired (re-screen due): 1" "expired results logged"
assert_contains "$ERR" "sweep donors: donors now deferred: 1" "new deferral logged"
assert_eq "$(sql "select s.status || ':' || coalesce(s.deferred_until::text, '') from fmtbank.donor_state s join fmtbank.donor d on d.id = s.donor_id where d.code = 'D-0003'")" \
    "deferred:$(date -d '+30 days' +%F)" "the deferral is stored with its end"
assert_eq "$(sql "select count(*) from fmtbank.audit_log where tbl = 'donor_state' and op = 'UPDATE'")" "5" "each change audited (2 seeded, 3 swept)"
run fmtbankd --once
assert_not_contains "$ERR" "sweep donors" "nothing more to log on the next pass"

sql_as alice "select * from fmtbank.sweep_donors()"
assert_contains "$ERR" "permission denied" "a technician cannot run the donor sweep"
sql_as alice "update fmtbank.donor_state set status = 'eligible'"
assert_contains "$ERR" "permission denied" "nor change the stored status"
sql_as alice "select fmtbank.sweep_full()"
assert_contains "$ERR" "permission denied" "nor ask for a full sweep"

# A full pass (quality, admin or the daemon) judges every donor again: nothing to change here.
sql_as quinn "select fmtbank.sweep_full()"
assert_eq "$RC" "0" "quality asks for a full sweep"
assert_eq "$(sql "select count(*) from fmtbank.sweep_dirty where donor_id is null and lot is null")" "2" \
    "marked for both steps"
run fmtbankd --once
assert_not_contains "$ERR" "sweep donors" "the full pass finds nothing to change"
assert_eq "$(sql "select count(*) from fmtbank.sweep_dirty")" "0" "and takes what it judged"

done_testing
