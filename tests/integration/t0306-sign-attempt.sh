#!/usr/bin/env bash
# t0306-sign-attempt: signing in two phases (schema/070_sign_attempt.sql). A hostile psql caller
# cannot try passwords without them counting: fmtbank.sign_attempt() reveals nothing about the
# password until it is committed (no result, no error, no row the caller can read differs
# between a right and a wrong one), and fmtbank.release_sign() refuses an attempt of its own
# transaction (savepoint or not), a stale one, a used one, one for another lot or meaning, and
# another person's. Committed wrong passwords lock the signer even when nobody ever asks for the
# verdict; user unlock clears them. The CLI does both phases and signs as before.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

# psql_file ROLE: runs the psql script on stdin (meta-commands allowed) as ROLE; $RC, $OUT, $ERR.
psql_file() {
    cat >"$TMP/script.sql"
    run fmtbank --user "$1" db psql -X -A -t -q -v ON_ERROR_STOP=1 -f "$TMP/script.sql"
}
M="Released for clinical use"
L=$(ready_lot D-3001)
L2=$(ready_lot D-3002)

# --- the hostile loop: BEGIN; guess; look; ROLLBACK. Nothing tells a right guess from a wrong one.
observe() { # PASSWORD: what quinn can see inside the transaction of one sign_attempt
    psql_file quinn <<SQL
BEGIN;
SELECT fmtbank.sign_attempt('$L', '$M', '$1') IS NOT NULL AS got_id \gset
\echo got_id=:got_id
SELECT 'quinn=' || failed_attempts || ':' || (locked_at IS NULL) FROM fmtbank.app_user WHERE name = 'quinn';
SELECT 'list=' || locked FROM fmtbank.user_list WHERE name = 'quinn';
SELECT 'attempts=' || count(*) FROM fmtbank.signature_attempt;
SELECT 'audit=' || count(*) || ':' || coalesce(max(id), 0) FROM fmtbank.audit_log;
ROLLBACK;
SQL
}
before=$(audit_count)
for i in 1 2 3 4 5 6; do
    observe "guess-$i"
    assert_eq "$RC" "0" "round $i: a wrong guess inside a transaction raises nothing"
    wrong=$OUT
    observe quinn-signs-1
    assert_eq "$OUT" "$wrong" "round $i: and looks exactly like the right password from inside it"
done
assert_contains "$wrong" "got_id=t" "the caller gets an attempt id either way"
assert_eq "$(audit_count)" "$before" "the rolled-back guesses left nothing"
for f in signature_check release_signature; do
    sql_as quinn "SELECT count(*) FROM fmtbank.$f WHERE false"
    [ "$f" = signature_check ] && assert_contains "$ERR" "permission denied for table signature_check" "quality cannot read the stored checks"
done
sql_as postgres "SELECT has_table_privilege(r, 'fmtbank.signature_check', 'SELECT') FROM unnest(array['fmtbank_technician','fmtbank_quality','fmtbank_auditor','fmtbank_admin']) r"
assert_eq "$(echo $OUT)" "f f f f" "no role reads the checks"

# --- the verdict only from release_sign, and only for a committed attempt
psql_file quinn <<SQL
BEGIN;
SELECT fmtbank.sign_attempt('$L', '$M', 'guess-x') AS a \gset
SELECT outcome FROM fmtbank.release_sign('$L', '$M', :a);
ROLLBACK;
SQL
assert_eq "$RC" "3" "release_sign with an attempt of the same transaction fails"
assert_contains "$ERR" "it is not committed" "refused: not committed"
assert_contains "$ERR" "Commit fmtbank.sign_attempt() on its own" "and says what to do"
psql_file quinn <<SQL
BEGIN;
SAVEPOINT s;
SELECT fmtbank.sign_attempt('$L', '$M', 'guess-y') AS a \gset
RELEASE SAVEPOINT s;
SELECT outcome FROM fmtbank.release_sign('$L', '$M', :a);
ROLLBACK;
SQL
assert_contains "$ERR" "it is not committed" "an attempt made in a savepoint is not committed either"
psql_file quinn <<SQL
BEGIN;
SAVEPOINT s;
SELECT fmtbank.sign_attempt('$L', '$M', 'guess-z') AS a \gset
ROLLBACK TO SAVEPOINT s;
SELECT outcome FROM fmtbank.release_sign('$L', '$M', :a);
ROLLBACK;
SQL
assert_contains "$ERR" "is not an attempt of user \"quinn\"" "a rolled-back attempt does not exist"
assert_eq "$(sql "SELECT failed_attempts || ':' || (locked_at IS NULL) FROM fmtbank.app_user WHERE name = 'quinn'")" "0:true" \
    "no verdict was ever seen, none counted"
sql_as quinn "SELECT fmtbank.release_sign('$L', '$M', 'quinn-signs-1')"
assert_contains "$ERR" "fmtbank.release_sign(lot, meaning, password) is withdrawn" "the one-call signature is withdrawn"
sql_as quinn "SELECT outcome FROM fmtbank.release_sign('$L', '$M', NULL::bigint)"
assert_contains "$ERR" "no signature attempt given" "release_sign needs an attempt"

# --- committed: the wrong password counts whether or not anybody asks for the verdict
A1=$(sql "SELECT fmtbank.sign_attempt('$L', '$M', 'guess-1')" quinn)
assert_eq "$(sql "SELECT failed_attempts FROM fmtbank.app_user WHERE name = 'quinn'")" "0" "a committed check is settled later"
sql_as quinn "SELECT outcome || '|' || message || '|' || detail FROM fmtbank.release_sign('$L', '$M', $A1)"
assert_eq "$OUT" "wrong_password|could not sign the release of lot \"$L\": wrong signature password|Failed attempt 1 of 5 for user \"quinn\"; it is recorded. After 5 the user is locked." \
    "release_sign gives the verdict of a committed wrong attempt, without raising"
assert_eq "$(sql "SELECT failed_attempts FROM fmtbank.app_user WHERE name = 'quinn'")" "1" "counted"
assert_eq "$(sql "SELECT ok || ':' || failures || ':' || detail FROM fmtbank.signature_attempt WHERE attempt = $A1")" \
    "false:1:wrong signature password (failed attempt 1 of 5)" "recorded as the attempt it was"
sql_as quinn "SELECT outcome FROM fmtbank.release_sign('$L', '$M', $A1)"
assert_eq "$OUT" "wrong_password" "asking again gives the same verdict"
assert_eq "$(sql "SELECT max(u.failed_attempts) || ':' || count(*) FROM fmtbank.app_user u JOIN fmtbank.signature_attempt a ON a.signer = u.name WHERE u.name = 'quinn'")" "1:1" \
    "and counts nothing twice"

# --- refused attempts: another lot, another meaning, another person, stale, used
A2=$(sql "SELECT fmtbank.sign_attempt('$L', '$M', 'quinn-signs-1')" quinn)
sql_as quinn "SELECT outcome FROM fmtbank.release_sign('$L2', '$M', $A2)"
assert_contains "$ERR" "cannot sign with signature attempt $A2: it was made for another lot or meaning" "an attempt for another lot is refused"
sql_as quinn "SELECT outcome FROM fmtbank.release_sign('$L', 'Released for research use', $A2)"
assert_contains "$ERR" "it was made for another lot or meaning" "and for another meaning"
PWQ='quincy-signs-1'
printf '%s\n' "$PWQ" | fmtbank --user adam user add quincy --role quality --name "Quincy Quartermaine" --password-stdin >/dev/null
type pgpass_add >/dev/null 2>&1 && pgpass_add quincy "$PWQ"
sql_as quincy "SELECT outcome FROM fmtbank.release_sign('$L', '$M', $A2)"
assert_contains "$ERR" "cannot sign with signature attempt $A2: it is not an attempt of user \"quincy\"" "another person's attempt is refused"
sql_as quinn "SELECT outcome FROM fmtbank.release_sign('$L', '$M', 999999)"
assert_contains "$ERR" "it is not an attempt of user \"quinn\"" "an unknown attempt is refused"
A3=$(sql "SELECT fmtbank.sign_attempt('$L', '$M', 'quinn-signs-1')" quinn)
# five minutes pass for A3 (the superuser moves its time back; the row is otherwise append-only)
sql "BEGIN; ALTER TABLE fmtbank.signature_check DISABLE TRIGGER append_only;
     UPDATE fmtbank.signature_check SET at = at - interval '6 minutes' WHERE id = $A3;
     ALTER TABLE fmtbank.signature_check ENABLE TRIGGER append_only; COMMIT" >/dev/null
sql_as quinn "SELECT outcome FROM fmtbank.release_sign('$L', '$M', $A3)"
assert_contains "$ERR" "cannot sign with signature attempt $A3: it is older than 00:05:00" "a stale attempt is refused"
sql_as quinn "SELECT outcome || ':' || released FROM fmtbank.release_sign('$L', '$M', $A2)"
assert_eq "$OUT" "signed:3" "a fresh committed right attempt signs"
assert_eq "$(sql "SELECT s.attempt FROM fmtbank.release_signature s JOIN fmtbank.lot l ON l.id = s.lot WHERE l.lot_id = '$L'")" "$A2" \
    "the signature names the attempt it used"
assert_eq "$(sql "SELECT failed_attempts FROM fmtbank.app_user WHERE name = 'quinn'")" "0" "a verified password resets the count"
sql_as quinn "SELECT outcome FROM fmtbank.release_sign('$L', '$M', $A2)"
assert_contains "$ERR" "cannot sign with signature attempt $A2: it was already used" "an attempt is used once"
sql_as audrey "SELECT fmtbank.sign_attempt('$L2', '$M', 'audrey-signs-1')"
assert_contains "$ERR" "permission denied: signing releases requires the quality role" "only quality makes attempts"
sql_as quinn "SELECT fmtbank.sign_attempt('$L', '$M', 'quinn-signs-1')"
assert_contains "$ERR" "it is already released" "no attempt on a released lot"

# --- the CLI: both phases, as before
printf 'wrong-one\n' >"$TMP/pw"
run_in "$TMP/pw" fmtbank --user quinn release sign "$L2" --meaning "$M" --password-stdin
assert_eq "$RC" "5" "CLI: a wrong password is refused (exit 5)"
assert_contains "$ERR" "Failed attempt 1 of 5 for user \"quinn\"; it is recorded." "CLI: counted"
printf 'quinn-signs-1\n' >"$TMP/pw"
run_in "$TMP/pw" fmtbank --user quinn release sign "$L2" --meaning "$M" --password-stdin
assert_eq "$RC" "0" "CLI: the right password signs"
assert_eq "$(lot_stored "$L2"):$(sql "SELECT count(*) FROM fmtbank.release_signature s JOIN fmtbank.signature_check k ON k.id = s.attempt AND k.ok")" \
    "released:2" "CLI: released, through a committed attempt"

# --- committed wrong attempts lock, even when nobody asks release_sign for the verdict
L3=$(ready_lot D-3003)
for i in 1 2 3 4 5; do
    a=$(sql "SELECT fmtbank.sign_attempt('$L3', '$M', 'guess-$i')" quincy)
    assert_eq "${a:+id}" "id" "quincy's committed guess $i gets an id"
done
# a settle that is rolled back changes nothing: the committed failures still count
psql_file quincy <<SQL
BEGIN;
SELECT 'attempt=' || coalesce(fmtbank.sign_attempt('$L3', '$M', '$PWQ')::text, 'none');
SELECT 'quincy=' || failed_attempts || ':' || (locked_at IS NOT NULL) FROM fmtbank.app_user WHERE name = 'quincy';
ROLLBACK;
SQL
assert_eq "$OUT" "$(printf 'attempt=none\nquincy=5:true')" "the sixth try, even with the right password, finds quincy locked"
assert_eq "$(sql "SELECT failed_attempts FROM fmtbank.app_user WHERE name = 'quincy'")" "4" \
    "(each attempt settled the ones before it; the settle of the fifth was rolled back)"
printf '%s\n' "$PWQ" >"$TMP/pw"
before=$(audit_count)
run_in "$TMP/pw" fmtbank --user quincy release sign "$L3" --meaning "$M" --password-stdin
assert_eq "$RC" "5" "CLI: a locked signer cannot sign with the right password"
assert_contains "$ERR" "user \"quincy\" cannot sign: it is locked after 5 failed signature attempts" "CLI: says so"
assert_eq "$(sql "SELECT failed_attempts || ':' || (locked_at IS NOT NULL) FROM fmtbank.app_user WHERE name = 'quincy'")" "5:true" \
    "the lock is now recorded"
assert_eq "$(sql "SELECT string_agg(failures::text, ',' ORDER BY id) FROM fmtbank.signature_attempt WHERE signer = 'quincy' AND NOT ok")" "1,2,3,4,5" \
    "each committed failure recorded once"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE id > 0 AND tbl = 'signature_attempt' AND new_row ->> 'signer' = 'quincy'")" "5" \
    "and audited"
assert_eq "$(sql "SELECT locked FROM fmtbank.user_list WHERE name = 'quincy'")" "t" "user list shows the lock"

# --- user unlock resets the signature failures
expect 6 "quinn cannot unlock" fmtbank --user quinn user unlock quincy --reason "x"
expect 0 "adam unlocks quincy" fmtbank --user adam user unlock quincy --reason "identity confirmed in person"
assert_eq "$(sql "SELECT failed_attempts || ':' || (locked_at IS NULL) FROM fmtbank.app_user WHERE name = 'quincy'")" "0:true" "unlock resets the count"
expect 5 "unlocking again: not locked" fmtbank --user adam user unlock quincy --reason "again"
run_in "$TMP/pw" fmtbank --user quincy release sign "$L3" --meaning "$M" --password-stdin
assert_eq "$RC" "0" "unlocked, quincy signs"
# committed failures nobody settled yet still make a user unlockable
L4=$(ready_lot D-3004)
sql "SELECT fmtbank.sign_attempt('$L4', '$M', 'guess-1')" quincy >/dev/null
assert_eq "$(sql "SELECT failed_attempts FROM fmtbank.app_user WHERE name = 'quincy'")" "0" "one committed failure, unsettled"
expect 0 "adam can clear unsettled failures" fmtbank --user adam user unlock quincy --reason "new password issued"
assert_eq "$(sql "SELECT max(u.failed_attempts) || ':' || count(*) FROM fmtbank.app_user u JOIN fmtbank.signature_attempt a ON a.signer = u.name AND NOT a.ok WHERE u.name = 'quincy'")" "0:6" \
    "settled (recorded) and then cleared"

expect 0 "audit trail intact" fmtbank --user audrey audit verify
done_testing
