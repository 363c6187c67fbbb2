#!/usr/bin/env bash
# t0713-eligibility-store: eligibility "now" reads the donor sweep's stored evaluations
# (schema/330_eligibility_store.sql) while results are recorded and the sweep runs, all at the
# same time. In every consistent snapshot (a repeatable-read transaction, one moment for both)
# what donor_eligibility_at answers equals a full evaluation field by field, whether the donor's
# change was swept yet or not; the stored rows are really used; and after the last pass every
# stored row is the full evaluation's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
setup_db
ROUNDS=10

run fmtbankd --once
assert_eq "$RC" "0" "the first pass stores every donor's evaluation"
assert_eq "$(sql "select count(*) from fmtbank.donor_eligibility")" "$(sql "select count(*) from fmtbank.donor")" \
    "one stored row per donor"

# compare: one line "differing rows:store used" in one snapshot at one moment
COMPARE="BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
WITH t AS MATERIALIZED (SELECT clock_timestamp() AS t),
e AS MATERIALIZED (SELECT x.* FROM t, fmtbank.eligibility_summary_of(t.t, NULL) x),
n AS MATERIALIZED (SELECT x.* FROM t, fmtbank.donor_eligibility_at(t.t) x)
SELECT (SELECT count(*) FROM e FULL JOIN n ON n.donor_id = e.donor_id
        WHERE row(n.*)::text IS DISTINCT FROM row(e.*)::text)
       || ':' || (SELECT fmtbank.eligibility_stale(t.t) IS NOT NULL FROM t);
COMMIT;"

# Writers: a technician records CRP results for the three donors, unacceptable and acceptable in
# turn (each a day later than the one before), so statuses and reasons keep changing; each round
# waits for one more comparison, so that comparisons fall between the rounds however busy the
# machine.
compared() { [ "$(grep -c ':' "$TMP/checks")" -gt "$1" ]; }
writer() {
    local i code v
    for ((i = 0; i < ROUNDS; i++)); do
        wait_until 120 compared "$i" || echo x >>"$TMP/writer.fail"
        for code in D-0001 D-0002 D-0003; do
            v=$([ $((i % 2)) = 0 ] && echo 55 || echo 1.0)
            fmtbank --user alice result add "$code" CRP --collected "$(date -d "-$((ROUNDS + 5 - i)) days" +%F)" \
                --result "$v" --unit mg/L >/dev/null 2>>"$TMP/writer.err" || echo x >>"$TMP/writer.fail"
        done
    done
    touch "$TMP/writer.done"
}
# The sweep, as the daemon runs it, over and over until the writer is done.
sweeper() {
    while [ ! -e "$TMP/writer.done" ]; do
        fmtbank --user adam db psql -X -A -t -q -c "SELECT count(*) FROM fmtbank.sweep()" >/dev/null \
            2>>"$TMP/sweeper.err" || echo x >>"$TMP/sweeper.fail"
    done
}
# Readers: the comparison, over and over until the writer is done.
checker() {
    while [ ! -e "$TMP/writer.done" ]; do
        fmtbank db psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$COMPARE" >>"$TMP/checks" 2>>"$TMP/checker.err" ||
            echo x >>"$TMP/checker.fail"
    done
}
: >"$TMP/checks"
writer & w=$!
sweeper & s=$!
checker & c=$!
wait "$w" "$s" "$c"

assert_eq "$(cat "$TMP/writer.fail" 2>/dev/null | wc -l)" "0" "every result recorded ($(head -c 300 "$TMP/writer.err" 2>/dev/null))"
assert_eq "$(cat "$TMP/sweeper.fail" 2>/dev/null | wc -l)" "0" "every sweep passed ($(head -c 300 "$TMP/sweeper.err" 2>/dev/null))"
assert_eq "$(cat "$TMP/checker.fail" 2>/dev/null | wc -l)" "0" "every comparison ran ($(head -c 300 "$TMP/checker.err" 2>/dev/null))"
checks=$(grep -c ':' "$TMP/checks")
echo "# $checks comparisons during $ROUNDS rounds of 3 results"
[ "$checks" -ge "$ROUNDS" ] && ok "comparisons ran while results and sweeps were written" ||
    not_ok "comparisons ran while results and sweeps were written" "only $checks"
assert_eq "$(grep -vc '^0:' "$TMP/checks")" "0" "every comparison: the answer now equals a full evaluation"
grep -q ':true$' "$TMP/checks" && ok "the stored evaluations were used" ||
    not_ok "the stored evaluations were used" "$(sort "$TMP/checks" | uniq -c)"
assert_eq "$(sql "select count(*) from fmtbank.result r join fmtbank.screening_test t using (test_no)
                  where t.code = 'CRP' and r.lab is null and r.value in (55, 1.0)")" "$((ROUNDS * 3))" \
    "every result is there"

# After a last pass nothing is left to judge, and every stored row is the full evaluation's.
run fmtbankd --once
assert_eq "$RC" "0" "a last pass"
assert_eq "$(sql "select count(*) from fmtbank.eligibility_summary_of(clock_timestamp(), null) e
                  left join fmtbank.donor_eligibility s using (donor_id)
                  where (s.status, s.deferred_until, s.reasons, s.next_screening_due, s.rule_set_version)
                        is distinct from (e.status, e.deferred_until, e.reasons, e.next_screening_due,
                                          e.rule_set_version)")" "0" \
    "every stored row equals a full evaluation"
assert_eq "$(sql "select fmtbank.eligibility_stale(clock_timestamp()) = '{}'")" "t" "nothing left to judge"

# The comparison can fail: a stored row changed behind the sweep's back is what "now" answers.
sql "update fmtbank.donor_eligibility set status = 'excluded', reasons = '[]'
     where donor_id = (select id from fmtbank.donor where code = 'D-0001')" >/dev/null
assert_eq "$(fmtbank db psql -X -A -t -q -c "$COMPARE")" "1:true" "a faked stored row shows as one difference"

done_testing
