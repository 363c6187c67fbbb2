#!/usr/bin/env bash
# t0712-daemon-sweep-dirty: the daemon's sweeps judge what changed (schema/180_sweep_dirty.sql):
# a recorded result marks its donor, the next pass judges that donor (and its lots) and takes
# the mark, a pass with nothing marked judges nothing; a rule change makes the next pass judge
# everything; nobody but the database writes the marks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
setup_db

run fmtbankd --once
assert_eq "$RC" "0" "first pass"
assert_contains "$ERR" "sweep donors: donors first seen: 3" "the first pass judges every donor"
assert_eq "$(sql "select string_agg(step, ',' order by step) from fmtbank.sweep_state")" "donors,release" \
    "each step remembers its pass"
assert_eq "$(sql "select count(*) from fmtbank.sweep_dirty")" "0" "nothing left to judge"

# A result through the CLI marks its donor for the next pass (the donor step, then its lots).
expect 0 "a result for D-0002" fmtbank --user alice result add D-0002 CRP --collected "$(date +%F)" \
    --result 1.2 --unit mg/L
assert_eq "$(sql "select d.code || ':' || x.step from fmtbank.sweep_dirty x join fmtbank.donor d on d.id = x.donor_id")" \
    "D-0002:donors" "the donor is marked, from its collection day"
run fmtbankd --once
assert_eq "$RC" "0" "the next pass"
assert_eq "$(sql "select count(*) from fmtbank.sweep_dirty")" "0" "judged and taken (both steps)"
assert_eq "$(sql "select count(*) from fmtbank.eligibility_summary_of(clock_timestamp(), null) e
                  join fmtbank.donor_state s using (donor_id)
                  where (s.status, s.deferred_until, s.next_screening_due)
                        is distinct from (e.status, e.deferred_until, e.next_screening_due)")" "0" \
    "the stored states equal a full evaluation"

# Nothing marked, no new day: the pass judges nothing and logs nothing of the donor or release steps.
run fmtbankd --once
assert_not_contains "$ERR" "sweep donors" "an idle pass: no donor change"
assert_not_contains "$ERR" "sweep release" "an idle pass: no lot change"

# A rule change marks everything for both steps.
expect 0 "admin changes a rule" fmtbank --user adam --reason "tighter validity" rules set screen_validity_days 45
assert_eq "$(sql "select string_agg(distinct step, ',') from fmtbank.sweep_dirty
                  where donor_id is null and lot is null")" "donors,release" \
    "a rule change: everything, for both steps"
run fmtbankd --once
assert_eq "$(sql "select count(*) from fmtbank.sweep_dirty")" "0" "the full pass takes the marks"

# The marks are the database's: no application role writes or clears them.
sql_as alice "insert into fmtbank.sweep_dirty (step) values ('donors')"
assert_contains "$ERR" "permission denied" "a technician cannot mark"
sql_as adam "delete from fmtbank.sweep_dirty"
assert_contains "$ERR" "permission denied" "an admin cannot clear the marks"
sql_as adam "update fmtbank.sweep_state set day = day - 1"
assert_contains "$ERR" "permission denied" "nor fake a day"

done_testing
