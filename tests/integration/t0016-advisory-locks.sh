#!/usr/bin/env bash
# t0016-advisory-locks: no application role can take an advisory lock (the audit chain's
# 70640001, the daemon's leadership 7064005001, any other) through psql; the daemon still leads
# through fmtbank.daemon_try_lead(); a writer waits at most fmtbank.lock_timeout for the audit
# chain and then fails with a clear message and exit 8, having written nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
setup_db
# A second daemon login (as a site would add one: a member of fmtbank_daemon), so the daemon's
# role is tested through psql like the persons'.
DPW="t0016-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
sql "CREATE ROLE t_daemon LOGIN PASSWORD '$DPW' IN ROLE fmtbank_daemon" >/dev/null
type pgpass_add >/dev/null 2>&1 && pgpass_add t_daemon "$DPW"

# ---- every role, every advisory lock function: permission denied
for who in alice quinn audrey adam t_daemon; do
    for q in "SELECT pg_advisory_lock(70640001)" \
             "SELECT pg_advisory_xact_lock(70640001)" \
             "SELECT pg_try_advisory_xact_lock(70640012)" \
             "SELECT pg_advisory_lock_shared(70640001)" \
             "SELECT pg_try_advisory_lock(7064005001)" \
             "SELECT pg_catalog.pg_try_advisory_lock(7064, 5001)" \
             "SELECT pg_advisory_unlock_all()"; do
        sql_as "$who" "$q"
        if [ "$RC" -ne 0 ] && [[ "$ERR" == *"permission denied for function pg_"* ]]; then
            ok "$who: $q refused"
        else
            not_ok "$who: $q not refused (exit $RC)"
        fi
    done
done
assert_eq "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" "0" \
    "no advisory lock is held after the attempts"
# Every pg_catalog advisory lock function: not executable by PUBLIC, executable by fmtbank_owner.
assert_eq "$(sql "SELECT count(*) FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace
                  AND (proname LIKE 'pg\_advisory%lock%' OR proname LIKE 'pg\_try\_advisory%')
                  AND (has_function_privilege('public', oid, 'EXECUTE')
                       OR NOT has_function_privilege('fmtbank_owner', oid, 'EXECUTE'))")" "0" \
    "every pg_advisory*lock* / pg_try_advisory* function: owner only"

# Every advisory lock in schema fmtbank goes through lock_wait (bounded) or daemon_try_lead.
assert_eq "$(sql "SELECT string_agg(p.oid::regprocedure::text, ' ') FROM pg_proc p
                  WHERE p.pronamespace = 'fmtbank'::regnamespace AND p.prosrc LIKE '%pg\_%advisory%'
                    AND p.proname NOT IN ('lock_wait', 'daemon_try_lead')")" "" \
    "no other fmtbank function takes an advisory lock itself"

# ---- the daemon's leadership function: the daemon's role only
for who in alice quinn audrey adam; do
    sql_as "$who" "SELECT fmtbank.daemon_try_lead()"
    [ "$RC" -ne 0 ] && [[ "$ERR" == *"permission denied"* ]] && ok "$who may not take the daemon's lead" \
        || not_ok "$who took the daemon's lead (exit $RC)"
done
sql_as t_daemon "SELECT fmtbank.daemon_try_lead()"
assert_eq "$OUT" "t" "a daemon login takes the lead through the function"
# The write lock: every writing role, not the auditor.
sql_as audrey "SELECT fmtbank.write_lock()"
[ "$RC" -ne 0 ] && [[ "$ERR" == *"permission denied"* ]] && ok "the auditor may not take the write lock" \
    || not_ok "auditor took the write lock (exit $RC)"
sql_as alice "SELECT fmtbank.write_lock()"
assert_eq "$RC" "0" "a technician takes the write lock (released at commit)"

# A real daemon still becomes the active one and holds its lock in its lock session.
donor_csv "$INBOX/one.csv" 600000 2
start_daemon a --inbox "$INBOX" --interval 1
a=$DPID
wait_log "$TMP/a.log" "active daemon" 10 || not_ok "the daemon became active"
wait_log "$TMP/a.log" 'imported "one.csv": 2 rows' 10 && ok "and imports" || not_ok "no import"
assert_eq "$(sql "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s USING (pid)
                  WHERE l.locktype = 'advisory' AND l.granted AND s.application_name = 'fmtbankd lock'")" \
    "1" "its lock session holds the leadership lock"
run fmtbankd --once --inbox "$INBOX" --config /dev/null
assert_contains "$ERR" "another fmtbankd is active: nothing done" "a second daemon sees the lead taken"
kill -TERM "$a"
wait_exit "$a" 10
assert_eq "$RC" "0" "daemon exits 0"

# ---- a superuser holds the audit chain: writers time out with a clear message, write nothing
sql "ALTER ROLE alice SET fmtbank.lock_timeout = '1s'" >/dev/null
printf 'code,birth_year,sex\nD-0700001,1980,F\n' >"$TMP/donor.csv"
printf 'donor,test,collected,result,unit,lab\nD-0001,HIV,2026-11-20,negative,,LabA\n' >"$TMP/res.csv"
fmtbank --user postgres db psql -X -A -t -q -c "SELECT pg_advisory_lock(70640001)" \
    -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
holder=$!
DAEMON_PIDS+=("$holder")
held() { [ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = 70640001")" = 1 ]; }
wait_until 10 held || not_ok "the superuser's session holds 70640001"
audit0=$(audit_count)
results0=$(sql "SELECT count(*) FROM fmtbank.result")
donors0=$(sql "SELECT count(*) FROM fmtbank.donor")
t0=$(now_ms)
run fmtbank --user alice result import "$TMP/res.csv"
took=$(($(now_ms) - t0))
assert_eq "$RC" "8" "result import: exit 8 (temporary conflict)"
assert_contains "$ERR" "another writer holds the audit chain for more than 1 s; try again" "clear message"
assert_not_contains "$ERR" "bad line" "not reported as bad input"
echo "# result import gave up after $took ms (fmtbank.lock_timeout 1s)"
[ "$took" -ge 1000 ] && ok "it waited the timeout first" || not_ok "gave up after $took ms"
expect 8 "donor import: exit 8" fmtbank --user alice donor import "$TMP/donor.csv"
assert_contains "$ERR" "another writer holds the audit chain for more than 1 s; try again" "clear message"
expect 8 "result add: exit 8" fmtbank --user alice result add D-0002 HIV --collected 2026-11-20 --result negative
assert_contains "$ERR" "try again" "clear message"
run fmtbank --help
assert_contains "$OUT" "8  temporary conflict" "--help documents exit 8"
assert_eq "$(audit_count)" "$audit0" "no audit row written"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.result")" "$results0" "no result written"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.donor")" "$donors0" "no donor written"

# The session ends: the same commands go through.
release_holder() {
    sql "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = 70640001 AND granted" >/dev/null
    wait "$holder" 2>/dev/null
}
release_holder
free() { [ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 70640001")" = 0 ]; }
wait_until 10 free || not_ok "the lock is released"
expect 0 "result import once the lock is free" fmtbank --user alice result import "$TMP/res.csv"
expect 0 "donor import once the lock is free" fmtbank --user alice donor import "$TMP/donor.csv"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.result")" "$((results0 + 1))" "the result is written"

# An invalid setting is refused clearly, not waited on for ever (only read when the lock is taken).
sql "ALTER ROLE alice SET fmtbank.lock_timeout = 'soon'" >/dev/null
fmtbank --user postgres db psql -X -A -t -q -c "SELECT pg_advisory_lock(70640001)" \
    -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
holder=$!
DAEMON_PIDS+=("$holder")
wait_until 10 held || not_ok "held again"
expect 3 "invalid fmtbank.lock_timeout: exit 3" fmtbank --user alice result add D-0002 HIV --collected 2026-11-20 --result negative
assert_contains "$ERR" 'invalid fmtbank.lock_timeout "soon"' "names the setting"
release_holder
check_daemon_logs
done_testing
