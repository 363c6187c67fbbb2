#!/usr/bin/env bash
# t0720-standby: a streaming hot standby of the embedded instance in a second FMTBANK_HOME
# (product.md §15). Every read-only command and report works on it; a change fails with
# "read-only standby" (exit 7) and writes nothing; failed logins and signatures on it are counted
# nowhere but on the primary (not on the standby); "db promote" is refused while the primary
# answers and works once it is stopped; a multi-host connection string with
# target_session_attrs=read-write then finds the new primary. Waits on replay LSNs, never sleeps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db
PRIMARY=$FMTBANK_HOME
SB=$(mktemp -d /tmp/fmtbank-sb.XXXXXX)
chmod 755 "$SB"
trap 'FMTBANK_HOME=$SB fmtbank db stop >/dev/null 2>&1; rm -rf "$SB"; t_cleanup' EXIT
S() { FMTBANK_HOME=$SB "$@"; }
sb_sql() { S fmtbank --user "${2:-postgres}" db psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }

lot=$(ready_lot D-7001) || { not_ok "a releasable lot on the primary"; done_testing; }

# An instance configured by an older fmtbank (no replication settings): init restarts it once.
conf="$PRIMARY/data/fmtbank_auth.conf"
grep -v fmtbank_replication.conf "$conf" >"$TMP/auth.conf" && cat "$TMP/auth.conf" >"$conf"
expect 0 "init on a running instance configured before standbys" fmtbank init
assert_contains "$ERR" "the embedded instance was restarted" "restarts it to take the replication settings"
grep -q "^include_if_exists = 'fmtbank_replication.conf'" "$conf" && ok "which are included again" ||
    not_ok "no replication include in fmtbank_auth.conf"
assert_eq "$(sql "SHOW wal_keep_size")" "256MB" "the primary keeps WAL for its standbys"
expect 0 "init again" fmtbank init
assert_not_contains "$ERR" "restarted" "restarts only once"

# --- the standby -------------------------------------------------------------------------------
expect 2 "standby create needs --home" fmtbank db standby create --from "$(fmtbank db url)"
expect 0 "db standby create copies the primary into a new home" \
    fmtbank db standby create --from "$(fmtbank db url)" --home "$SB"
assert_contains "$ERR" "standby running in $SB" "and says where it runs"
[ -f "$SB/data/standby.signal" ] && ok "the copy is a standby (standby.signal)" || not_ok "standby.signal"
[ -S "$SB/.s.PGSQL.5432" ] && ok "with its own socket in its home" || not_ok "standby socket"
run S fmtbank db status
assert_contains "$OUT" "role     standby" "db status: a standby"
run fmtbank db status
assert_contains "$OUT" "role     primary" "db status: the primary"
expect 5 "a second standby create into the same home is refused" \
    fmtbank db standby create --from "$(fmtbank db url)" --home "$SB"
assert_eq "$(sql "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" "1" \
    "the primary streams to one standby (pg_stat_replication)"
assert_eq "$(sb_sql "SELECT pg_is_in_recovery()")" "t" "the standby is in recovery"

# caught_up: the standby has replayed everything the primary has written so far.
caught_up() {
    local lsn
    lsn=$(sql "SELECT pg_current_wal_lsn()") &&
        [ "$(sb_sql "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ]
}
wait_for() { # SECONDS CMD...: polls CMD (bounded, no fixed sleep)
    local end=$(($(date +%s) + $1 * 6))
    shift
    while [ "$(date +%s)" -lt "$end" ]; do "$@" && return 0; sleep 0.05; done
    return 1
}

fmtbank --user alice donor add D-7002 --birth-year 1985 --sex M >/dev/null || not_ok "donor add on the primary"
wait_for 10 caught_up && ok "the standby replays the primary's changes" || not_ok "replay"

# --- every read-only command works on the standby ---------------------------------------------
reads=(
    "--user audrey status"
    "--user audrey donor list"
    "--user audrey donor show D-7002"
    "--user audrey donor explain D-7001"
    "--user audrey lot list"
    "--user audrey lot show $lot"
    "--user quinn release check $lot"
    "--user audrey release review"
    "--user audrey aliquot list --lot $lot"
    "--user audrey location list"
    "--user audrey catalog tests"
    "--user audrey catalog questions"
    "--user audrey catalog rules"
    "--user audrey result list D-7001"
    "--user audrey audit verify"
    "--user audrey audit log --table donor"
    "--user adam user list"
    "--user audrey report list"
    "--user audrey report inventory -o $TMP/inv.xlsx"
    "--user audrey report eligibility -o $TMP/elig.xlsx"
    "--user audrey report audit -o $TMP/audit.xlsx"
    "--user audrey lookback D-7001"
    "--user audrey lookback list"
    "--user audrey catalog wordings"
    "--user audrey catalog history"
    "--user audrey rules history"
    "--user quinn release meanings"
    "--user quinn case list"
    "--user quinn trace D-7001"
    "--user quinn todo"
    "--user audrey report check"
    "--user audrey questionnaire list D-7001"
)
for r in "${reads[@]}"; do
    # shellcheck disable=SC2086
    run env FMTBANK_HOME="$SB" fmtbank $r
    if [ "$RC" -eq 0 ]; then ok "on the standby: $r"; else not_ok "on the standby: $r" "exit $RC"; fi
done
run S fmtbank --user audrey donor show D-7002 --format json
assert_contains "$OUT" '"code":"D-7002"' "the standby shows what the primary recorded"
run S fmtbank --user audrey status
assert_contains "$OUT" "standby (read-only)" "status names the standby"
run fmtbank --user audrey status
assert_contains "$OUT" "primary" "and the primary"
[ -s "$TMP/inv.xlsx" ] && ok "a report written from the standby" || not_ok "report file"

# --- a change on the standby: "read-only standby", exit 7, nothing written ----------------------
audit_before=$(audit_count)
expect 7 "donor add on the standby: exit 7" S fmtbank --user alice donor add D-7003 --birth-year 1990 --sex F
assert_contains "$ERR" "read-only standby" "with a clear message"
assert_not_contains "$ERR" "25006" "not a raw SQLSTATE"
expect 7 "donor defer on the standby: exit 7" \
    S fmtbank --user quinn donor defer D-7002 --until 2099-01-01 --reason "standby test"
assert_contains "$ERR" "read-only standby" "defer: read-only standby"
expect 7 "a result import on the standby: exit 7" \
    S fmtbank --user alice result add D-7002 HIV --collected "$(d -1)" --result negative
assert_contains "$ERR" "read-only standby" "result add: read-only standby"

# A signature on the standby: refused before the password is even checked; no attempt anywhere.
printf 'wrong-password\n' >"$TMP/pw"
run_in "$TMP/pw" env FMTBANK_HOME="$SB" fmtbank --user quinn release sign "$lot" \
    --meaning "Released for clinical use" --password-stdin
assert_eq "$RC" "7" "release sign on the standby: exit 7"
assert_contains "$ERR" "read-only standby" "release sign: read-only standby"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.signature_check WHERE signer = 'quinn'")" "0" \
    "no signature attempt recorded on the primary"
assert_eq "$(sql "SELECT failed_attempts FROM fmtbank.app_user WHERE name = 'quinn'")" "0" \
    "quinn's signature failure count unchanged"
assert_eq "$(audit_count)" "$audit_before" "the refused changes wrote no audit row"

# A failed login on the standby: refused, not counted there (the counts are the primary's).
run env FMTBANK_HOME="$SB" PGPASSWORD=not-alices fmtbank --user alice status
assert_eq "$RC" "6" "a wrong password on the standby: exit 6"
run env FMTBANK_HOME="$SB" PGPASSWORD=not-alices fmtbank --user alice status
assert_eq "$(sb_sql "SELECT fmtbank.user_login_failures('alice')")" "0" "the standby counts no failed login"
assert_contains "$(cat "$SB/postgres.log")" 'failed login of role "alice" on a standby: not counted' \
    "the standby logs the failure as not counted"
expect 0 "alice still logs in on the standby" S fmtbank --user alice donor show D-7002
run env PGPASSWORD=not-alices fmtbank --user alice status
assert_eq "$(sql "SELECT fmtbank.user_login_failures('alice')")" "1" "the primary counts its own failed login"
run sb_sql "SELECT fmtbank.login_reset_raw('alice')"
assert_contains "$ERR" "cannot reset the failed logins of \"alice\" on a standby" \
    "the server module resets no count on a standby"

# --- multi-host connection strings -------------------------------------------------------------
RW="host=$PRIMARY,$SB dbname=fmtbank target_session_attrs=read-write"
RO="host=$SB,$PRIMARY dbname=fmtbank target_session_attrs=prefer-standby"
expect 0 "a writer with target_session_attrs=read-write finds the primary" \
    fmtbank --db "$RW" --user alice donor add D-7004 --birth-year 1980 --sex F
wait_for 10 caught_up || not_ok "replay of D-7004"
run fmtbank --db "$RO" --user audrey status
assert_contains "$OUT" "standby (read-only)" "a reader with prefer-standby reads the standby"
expect 0 "and reads there what the primary wrote" fmtbank --db "$RO" --user audrey donor show D-7004

# --- promotion ---------------------------------------------------------------------------------
expect 5 "db promote is refused while the primary answers" S fmtbank db promote
assert_contains "$ERR" "still answers" "saying so"
assert_eq "$(sb_sql "SELECT pg_is_in_recovery()")" "t" "the standby is still a standby"
expect 5 "db promote on a primary: nothing to promote" fmtbank db promote
expect 0 "the primary stops" fmtbank db stop
expect 0 "db promote once the primary is gone" S fmtbank db promote
assert_eq "$(sb_sql "SELECT pg_is_in_recovery()")" "f" "the standby is now a primary"
[ ! -e "$SB/data/standby.signal" ] && ok "standby.signal is gone" || not_ok "standby.signal left"
run S fmtbank db status
assert_contains "$OUT" "role     primary" "db status: promoted to primary"
expect 0 "a change on the new primary" S fmtbank --user alice donor add D-7005 --birth-year 1991 --sex M
expect 0 "the read-write connection string follows the new primary" \
    fmtbank --db "$RW" --user alice donor add D-7006 --birth-year 1992 --sex F
assert_eq "$(sb_sql "SELECT string_agg(code, ',' ORDER BY code) FROM fmtbank.donor WHERE code >= 'D-7001'")" \
    "D-7001,D-7002,D-7004,D-7005,D-7006" "every donor is on the new primary, the refused one not"
run S fmtbank --user audrey audit verify
assert_eq "$RC" "0" "the audit trail on the new primary verifies"
run S fmtbank --user audrey status
assert_contains "$OUT" "primary" "status: primary"

done_testing
