#!/usr/bin/env bash
# t0301-signature: the electronic release signature (21 CFR Part 11): who may sign, the meaning,
# re-authentication (a wrong password refused AND recorded, five lock the signer until an
# administrator unlocks), the signed record (printed name, user, time, meaning, rule-set
# version, snapshot and its SHA-256; immutable), the lot and its doses released together (not
# the retained sample), "already released", and two officers signing at once: one release.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

L=$(ready_lot D-2001)
assert_eq "$(lot_shown "$L")" "ready" "a releasable lot"

# --- who may sign
before=$(audit_count)
for u in alice audrey adam; do
    sign "$L" "$u" "$u-signs-1"
    assert_eq "$RC" "6" "$u cannot sign a release"
    assert_contains "$ERR" "permission denied: signing releases requires the quality role" "$u is told why"
done
expect 5 "the instance's superuser is no signer" sh -c "echo x | fmtbank --user postgres release sign $L --meaning 'Released for clinical use' --password-stdin"
assert_contains "$ERR" "user \"postgres\" cannot sign: it is not an fmtbank user" "says so"
expect 3 "a meaning not on the site's list" sh -c "echo quinn-signs-1 | fmtbank --user quinn release sign $L --meaning 'Released' --password-stdin"
assert_contains "$ERR" "meaning \"Released\" is not one of the site's release signature meanings" "says so"
assert_contains "$ERR" "\"Released for clinical use\", \"Released for research use\"" "and lists them"
expect 3 "an empty meaning" sh -c "echo quinn-signs-1 | fmtbank --user quinn release sign $L --meaning '  ' --password-stdin"
assert_contains "$ERR" "the signature needs its meaning" "says so"
expect 2 "no password source: no terminal to prompt at" fmtbank --user quinn release sign "$L" --meaning "Released for clinical use"
assert_contains "$ERR" "no terminal to ask for the signature password" "says so"
assert_contains "$ERR" "--password-stdin" "and what to use"
expect 2 "no lot" fmtbank --user quinn release sign --meaning "Released for clinical use"
assert_eq "$(audit_count)" "$before" "refusals changed nothing"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.signature_attempt")" "0" "and recorded no attempt"
assert_eq "$(lot_stored "$L"):$(aliquot_states "$L")" "quarantine:quarantine,quarantine,quarantine,quarantine" "the lot is untouched"

# --- a wrong password is refused and recorded
sign "$L" quinn "not-my-password"
assert_eq "$RC" "5" "a wrong password is refused (exit 5)"
assert_contains "$ERR" "could not sign the release of lot \"$L\": wrong signature password" "says so"
assert_contains "$ERR" "Failed attempt 1 of 5 for user \"quinn\"; it is recorded." "counts the attempt"
assert_eq "$OUT" "" "prints no signature"
assert_eq "$(sql "SELECT signer || ':' || ok || ':' || detail FROM fmtbank.signature_attempt")" \
    "quinn:false:wrong signature password (failed attempt 1 of 5)" "the failed attempt is recorded"
assert_eq "$(sql "SELECT failed_attempts || ':' || (locked_at IS NULL) FROM fmtbank.app_user WHERE name = 'quinn'")" "1:true" "quinn's failures counted, not locked"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE id > 0 AND tbl IN ('signature_attempt', 'app_user') AND who = 'quinn'")" "2" "both in the audit trail"
assert_eq "$(lot_stored "$L"):$(sql "SELECT count(*) FROM fmtbank.release_signature")" "quarantine:0" "nothing released, no signature"

# --- a lot that is not releasable
L2=$(rel_donor D-2002 && rel_lot_full D-2002 40); rel_panel D-2002 "$(d -50)"
before=$(audit_count)
sign "$L2"
assert_eq "$RC" "5" "a lot without its post-donation panel cannot be signed"
assert_contains "$ERR" "cannot sign the release of lot \"$L2\": it is not releasable" "says so"
assert_contains "$ERR" "post_panel: no acceptable result of the 40 required tests" "with what blocks it"
assert_eq "$(audit_count)" "$before" "nothing changed"

# --- the signature
T0=$(sql "SELECT clock_timestamp()")
sign "$L"
assert_eq "$RC" "0" "quinn signs with the right password"
SIG=$OUT
assert_contains "$ERR" "released lot \"$L\" (3 doses); signature SHA-256 " "says what was released"
assert_eq "$(sql "SELECT id FROM fmtbank.release_signature")" "$SIG" "prints the signature ID"
assert_eq "$(lot_stored "$L")" "released" "the lot is released"
assert_eq "$(aliquot_states "$L")" "quarantine,released,released,released" "its doses released, not the retained sample"
assert_eq "$(sql "SELECT failed_attempts FROM fmtbank.app_user WHERE name = 'quinn'")" "0" "a good signature resets the failure count"
assert_eq "$(sql "SELECT s.signer || '|' || s.printed_name || '|' || s.meaning || '|' || s.rule_set_version || '|' || (s.signed_at > '$T0')
                  FROM fmtbank.release_signature s")" "quinn|Quinn Qualmann|Released for clinical use|1|true" "user, printed name, meaning, rule-set version, time"
assert_eq "$(sql "SELECT encode(sha256(convert_to(snapshot::text, 'UTF8')), 'hex') = sha256 FROM fmtbank.release_signature")" "t" "the SHA-256 is that of the snapshot"
snap=$(sql "SELECT snapshot::text FROM fmtbank.release_signature")
for f in "\"lot\": \"$L\"" '"donor": "D-2001"' '"meaning": "Released for clinical use"' '"printed_name": "Quinn Qualmann"' \
         '"user": "quinn"' '"rule_set_version": 1' "\"collection_day\": \"$(d -40)\"" '"processed_at": "' \
         '"pre_window_days": 60' '"post_window_days": 60'; do
    assert_contains "$snap" "$f" "the snapshot has $f"
done
assert_eq "$(sql "SELECT count(*) FILTER (WHERE e ->> 'phase' = 'pre' AND (e ->> 'used')::boolean) || '/' ||
                         count(*) FILTER (WHERE e ->> 'phase' = 'post' AND (e ->> 'used')::boolean)
                  FROM fmtbank.release_signature, jsonb_array_elements(snapshot -> 'results') e")" "40/40" "every pre and post result used, with dates"
assert_eq "$(sql "SELECT string_agg((e ->> 'rule') || '=' || (e ->> 'verdict'), ',')
                  FROM fmtbank.release_signature, jsonb_array_elements(snapshot -> 'rules') e")" \
    "status=pass,processing=pass,donation_questionnaire=pass,pre_panel=pass,post_panel=pass,post_donation_check=pass,unacceptable_result=pass,hold=pass,donor_excluded=pass" "every rule verdict"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.release_signature, jsonb_array_elements(snapshot -> 'aliquots') e")" "4" "every aliquot"
assert_eq "$(sql "SELECT jsonb_array_length(snapshot -> 'releases') FROM fmtbank.release_signature")" "3" "and which it released"
assert_eq "$(sql "SELECT verified || ':' || released_aliquots || ':' || donor FROM fmtbank.release_record WHERE lot = '$L'")" "true:3:D-2001" "the release record verifies"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.release_record_result WHERE lot = '$L' AND used")" "80" "the record's results"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE tbl = 'release_signature' AND new_row -> 'snapshot' ->> 'lot' = '$L'")" "1" "the signature is in the audit trail with its snapshot"
assert_eq "$(sql "SELECT string_agg(old_row ->> 'status' || '>' || (new_row ->> 'status'), ',' ORDER BY id) FROM fmtbank.audit_log WHERE tbl = 'lot' AND key = '$L'
                  AND old_row ->> 'status' <> new_row ->> 'status'")" \
    "quarantine>ready,ready>released" "the lot went quarantine, ready, released (audited)"

# --- immutable
sql_as postgres "UPDATE fmtbank.release_signature SET meaning = 'something else'"
assert_contains "$ERR" "cannot update \"release_signature\": it is append-only" "not even a superuser changes a signature"
sql_as postgres "DELETE FROM fmtbank.release_signature"
assert_contains "$ERR" "cannot delete from \"release_signature\"" "nor deletes it"
sql_as quinn "UPDATE fmtbank.release_signature SET meaning = 'something else'"
assert_contains "$ERR" "permission denied" "quality has no UPDATE"
sql_as quinn "INSERT INTO fmtbank.release_signature (lot, signer, printed_name, signed_at, meaning, rule_set_version, snapshot, sha256)
              SELECT id, 'quinn', 'Q', now(), 'm', 1, '{}', 'x' FROM fmtbank.lot WHERE lot_id = '$L2'"
assert_contains "$ERR" "permission denied" "nor INSERT: a signature is only made by release_sign"
assert_eq "$(sql "SELECT meaning FROM fmtbank.release_signature")" "Released for clinical use" "unchanged"

# --- already released
before=$(audit_count)
sign "$L"
assert_eq "$RC" "5" "signing a released lot again is refused"
assert_contains "$ERR" "cannot sign the release of lot \"$L\": it is already released" "says so"
assert_contains "$ERR" "Signed by Quinn Qualmann (quinn) on" "and by whom"
assert_eq "$(audit_count)" "$before" "nothing changed"

# --- five failures lock the signer until an administrator unlocks
printf 'quincy-signs-1\n' | fmtbank --user adam user add quincy --role quality --name "Quincy Quartermaine" --password-stdin >/dev/null
pgpass_add quincy 'quincy-signs-1'
L3=$(ready_lot D-2003)
for i in 1 2 3 4; do
    sign "$L3" quincy "guess-$i"
    assert_eq "$RC" "5" "wrong password $i refused"
done
assert_contains "$ERR" "Failed attempt 4 of 5" "the fourth is counted"
sign "$L3" quincy "guess-5"
assert_eq "$RC" "5" "the fifth too"
assert_contains "$ERR" "That was failed attempt 5 of 5: user \"quincy\" is now locked." "and locks the signer"
assert_contains "$ERR" "fmtbank user unlock quincy" "tells how to unlock"
assert_eq "$(sql "SELECT failed_attempts || ':' || (locked_at IS NOT NULL) FROM fmtbank.app_user WHERE name = 'quincy'")" "5:true" "locked"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.signature_attempt WHERE signer = 'quincy' AND NOT ok")" "5" "five failures recorded"
before=$(audit_count)
sign "$L3" quincy quincy-signs-1
assert_eq "$RC" "5" "a locked signer cannot sign even with the right password"
assert_contains "$ERR" "user \"quincy\" cannot sign: it is locked after 5 failed signature attempts" "says so"
assert_eq "$(audit_count):$(lot_stored "$L3")" "$before:quarantine" "nothing changed"
expect 6 "quinn cannot unlock" fmtbank --user quinn user unlock quincy --reason "x"
expect 0 "adam unlocks quincy" fmtbank --user adam user unlock quincy --reason "identity confirmed by phone"
sign "$L3" quincy quincy-signs-1
assert_eq "$RC" "0" "unlocked, quincy signs"
assert_eq "$(sql "SELECT printed_name FROM fmtbank.release_signature s JOIN fmtbank.lot l ON l.id = s.lot WHERE l.lot_id = '$L3'")" "Quincy Quartermaine" "with quincy's printed name"

# --- a quality officer without a signature password
fmtbank --user adam user add qira --role quality </dev/null >/dev/null
L4=$(ready_lot D-2004)
sign "$L4" qira "whatever-1"
assert_eq "$RC" "6" "no password set: one password per person, so no login and no signature"
assert_contains "$ERR" "no password supplied" "says so"

# --- through psql: the same functions, the same record (two transactions: 070_sign_attempt)
sql_as quinn "SELECT outcome FROM fmtbank.release_sign('$L4', 'Released', 'wrong-one')"
assert_contains "$ERR" "fmtbank.release_sign(lot, meaning, password) is withdrawn" "psql: the old one-call signature is refused"
assert_contains "$ERR" "fmtbank.sign_attempt(lot, meaning, password) and commit" "and says what to call instead"
A=$(sql "SELECT fmtbank.sign_attempt('$L4', 'Released for clinical use', 'wrong-one')" quinn)
sql_as quinn "SELECT outcome FROM fmtbank.release_sign('$L4', 'Released for clinical use', $A)"
assert_eq "$OUT" "wrong_password" "psql: a wrong password returns the refusal"
assert_eq "$(sql "SELECT failed_attempts FROM fmtbank.app_user WHERE name = 'quinn'")" "1" "and is recorded as well"
sql_as quinn "UPDATE fmtbank.app_user SET failed_attempts = 0 WHERE name = 'quinn'"
assert_contains "$ERR" "permission denied" "quality cannot reset its own failure count"

# --- two quality officers signing at once: exactly one release
for round in 1 2 3; do
    Lc=$(ready_lot "D-21$round$round")
    printf 'quinn-signs-1\n' >"$TMP/p1"; printf 'quincy-signs-1\n' >"$TMP/p2"
    fmtbank --user quinn release sign "$Lc" --meaning "Released for clinical use" --password-stdin <"$TMP/p1" >"$TMP/o1" 2>"$TMP/e1" &
    p1=$!
    fmtbank --user quincy release sign "$Lc" --meaning "Released for research use" --password-stdin <"$TMP/p2" >"$TMP/o2" 2>"$TMP/e2" &
    p2=$!
    wait $p1; r1=$?
    wait $p2; r2=$?
    assert_eq "$(printf '%s\n' $r1 $r2 | sort | tr '\n' ' ')" "0 5 " "round $round: one signature succeeds, the other is refused"
    assert_contains "$(cat "$TMP/e1" "$TMP/e2")" "it is already released" "round $round: the second finds it released"
    assert_eq "$(sql "SELECT count(*) FROM fmtbank.release_signature s JOIN fmtbank.lot l ON l.id = s.lot WHERE l.lot_id = '$Lc'")" "1" "round $round: one signature row"
    assert_eq "$(aliquot_states "$Lc")" "quarantine,released,released,released" "round $round: released once"
done

# --- at a terminal: the password is asked for without echo (script(1) gives the command a tty)
if command -v script >/dev/null; then
    L5=$(ready_lot D-2005)
    # (typed after the prompt: input typed before it is flushed with the echo turned off)
    run bash -c "(sleep 3; printf 'quinn-signs-1\\n') |
                 script -qec \"fmtbank --user quinn release sign $L5 --meaning 'Released for research use'\" /dev/null"
    assert_eq "$RC" "0" "signed at a terminal"
    assert_contains "$OUT" "Signing the release of lot $L5: \"Released for research use\"" "the prompt says what is signed"
    assert_contains "$OUT" "Signature password:" "and asks for the password"
    assert_not_contains "$OUT" "quinn-signs-1" "which is not echoed"
    assert_eq "$(lot_stored "$L5")" "released" "released"
else
    not_ok "script(1) (util-linux) is needed to test the terminal prompt"
fi

expect 0 "audit trail intact" fmtbank --user audrey audit verify
done_testing
