#!/usr/bin/env bash
# t0360-release-sign-desk: what the quality officer meets when signing (issue 14 item 8): every
# refusal that does not depend on the password comes before it is asked (a typo on a lot that
# cannot be signed is never asked for, never counted toward the lock), what is signed is shown
# before the prompt (lot, donor, doses, verdict, meaning), and the meaning comes from the site's
# controlled list (fmtbank.signature_meaning) with its default.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

L=$(ready_lot D-3601)
assert_eq "$(lot_shown "$L")" "ready" "a releasable lot"
rel_donor D-3602
U=$(rel_lot_full D-3602 40) && rel_panel D-3602 "$(d -50)"   # no post-donation panel
assert_contains "$(lot_rules "$U")" "post_panel" "an unreleasable lot (no post-donation panel)"

# --- the controlled list of meanings
expect 0 "release meanings" fmtbank --user quinn release meanings --format tsv
assert_contains "$OUT" "Released for clinical use	t" "the default is marked"
assert_contains "$OUT" "Released for research use	f" "research use"
assert_contains "$OUT" "Released for clinical trial use	f" "trial use"
expect 0 "an auditor reads it too" fmtbank --user audrey release meanings --format json
assert_contains "$OUT" '{"meaning":"Released for clinical use","default":true}' "as JSON"
sql_as quinn "INSERT INTO fmtbank.signature_meaning (meaning) VALUES ('Because I say so')"
assert_contains "$ERR" "permission denied" "psql: quality cannot add a meaning"
sql_as adam "UPDATE fmtbank.signature_meaning SET is_default = false"
assert_contains "$ERR" "permission denied" "psql: nor change the default"
# the administrator keeps the list (with a reason, audited)
expect 0 "an administrator adds a meaning" fmtbank --user adam --reason "compassionate-use programme" \
    release meaning add "Released for compassionate use"
assert_eq "$OUT" "Released for compassionate use" "prints the meaning added"
expect 3 "not without a reason" fmtbank --user adam release meaning add "Released for teaching"
assert_contains "$ERR" "requires a reason" "says so"
expect 6 "not as quality" fmtbank --user quinn --reason x release meaning add "Released for teaching"
assert_contains "$ERR" "requires the admin role" "names the role"
expect 5 "never twice (case ignored)" fmtbank --user adam --reason x release meaning add "released for COMPASSIONATE use"
assert_contains "$ERR" 'meaning "Released for compassionate use" is already on the list' "names the one on the list"
expect 3 "a bad --order" fmtbank --user adam --reason x release meaning add "Released for teaching" --order 1.5
assert_contains "$ERR" '--order: "1.5" is not a whole number' "names the option"
expect 5 "the default cannot be retired" fmtbank --user adam --reason x release meaning retire "Released for clinical use"
assert_contains "$ERR" "Make another meaning the default first" "says what to do"
expect 4 "an unknown meaning" fmtbank --user adam --reason x release meaning default "Released for nothing"
expect 0 "retire it" fmtbank --user adam --reason "programme ended" release meaning retire "Released for compassionate use"
expect 0 "the list" fmtbank --user quinn release meanings --format tsv
assert_not_contains "$OUT" "compassionate" "a retired meaning is off the list"
assert_eq "$(sql "select string_agg(op || ' ' || coalesce(reason, ''), ', ' order by id) from fmtbank.audit_log
                  where tbl = 'signature_meaning' and key = 'Released for compassionate use'")" \
    "INSERT compassionate-use programme, UPDATE programme ended" "both changes audited with their reasons"

# --- refusals before the password: none asks for it, none counts
sign "$U" quinn "a-typo"
assert_eq "$RC" "5" "an unreleasable lot is refused (exit 5)"
assert_contains "$ERR" "cannot sign the release of lot \"$U\": it is not releasable" "says so"
assert_contains "$ERR" "post_panel" "with the blocking rule"
assert_not_contains "$ERR" "wrong signature password" "the typo is not even looked at"
printf 'a-typo\n' >"$TMP/pw"
run_in "$TMP/pw" fmtbank --user quinn release sign "$L" --meaning "Released because" --password-stdin
assert_eq "$RC" "3" "a meaning not on the list is refused (exit 3)"
assert_contains "$ERR" "meaning \"Released because\" is not one of the site's release signature meanings" "names it"
assert_contains "$ERR" '"Released for clinical use", "Released for research use", "Released for clinical trial use"' "lists the meanings"
sql "UPDATE fmtbank.signature_meaning SET retired_at = now() WHERE meaning = 'Released for clinical trial use'"
sign_m() { printf '%s\n' "$3" >"$TMP/pw"; run_in "$TMP/pw" fmtbank --user quinn release sign "$1" --meaning "$2" --password-stdin; }
sign_m "$L" "Released for clinical trial use" "a-typo"
assert_eq "$RC" "3" "a retired meaning is refused"
sql_as quinn "SELECT fmtbank.sign_attempt('$U', 'Released for clinical use', 'a-typo')"
assert_contains "$ERR" "it is not releasable" "psql: phase 1 refuses the unreleasable lot as well"
sql_as quinn "SELECT fmtbank.sign_attempt('$L', 'Whatever', 'a-typo')"
assert_contains "$ERR" "is not one of the site's release signature meanings" "psql: and a meaning off the list"
sql_as alice "SELECT * FROM fmtbank.release_sign_preview('$L', NULL)"
assert_contains "$ERR" "signing releases requires the quality role" "psql: the preview is the quality role's"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.signature_check")" "0" "no password check was stored"
assert_eq "$(sql "SELECT failed_attempts FROM fmtbank.app_user WHERE name = 'quinn'")" "0" "nothing counts toward the lock"

# at a terminal: the refusal comes without any prompt (nothing is typed: it would hang if asked)
if command -v script >/dev/null; then
    run bash -c "script -qec \"fmtbank --user quinn release sign $U\" /dev/null </dev/null"
    assert_eq "$RC" "5" "at a terminal: refused at once"
    assert_not_contains "$OUT" "Signature password:" "without asking the password"
    assert_contains "$OUT" "it is not releasable" "saying why"
else
    not_ok "script(1) (util-linux) is needed to test the terminal prompt"
fi

# --- what is signed, before the prompt; the default meaning
printf 'quinn-signs-1\n' >"$TMP/pw"
run_in "$TMP/pw" fmtbank --user quinn release sign "$L" --password-stdin
assert_eq "$RC" "0" "signed without --meaning"
assert_contains "$ERR" "Release of lot $L" "shows the lot"
assert_contains "$ERR" "donor:     D-3601" "the donor"
assert_contains "$ERR" "doses:     3 to release" "the doses"
assert_contains "$ERR" "verdict:   releasable (" "the verdict"
assert_contains "$ERR" 'meaning:   "Released for clinical use"' "the default meaning"
assert_eq "$(sql "SELECT meaning FROM fmtbank.release_signature s JOIN fmtbank.lot l ON l.id = s.lot
                  WHERE l.lot_id = '$L'")" "Released for clinical use" "signed with the default meaning"
n=$(sql "SELECT count(*) FROM fmtbank.lot_eval(now(), ARRAY[(SELECT id FROM fmtbank.lot WHERE lot_id = '$L')], NULL, false, 'rules')")
assert_contains "$ERR" "($n of $n rules pass)" "every rule passed"
# a released lot: refused before the password too
sign "$L" quinn "a-typo"
assert_eq "$RC" "5" "already released: refused"
assert_contains "$ERR" "it is already released" "says so"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.signature_check WHERE NOT ok")" "0" "and no typo was recorded"

# a lot signed with another meaning of the list
L2=$(ready_lot D-3603)
sign_m "$L2" "  Released for research use " "quinn-signs-1"
assert_eq "$RC" "0" "a listed meaning (trimmed) signs"
assert_contains "$ERR" 'meaning:   "Released for research use"' "shown"
assert_eq "$(sql "SELECT meaning FROM fmtbank.release_signature s JOIN fmtbank.lot l ON l.id = s.lot
                  WHERE l.lot_id = '$L2'")" "Released for research use" "and recorded"

expect 0 "audit trail intact" fmtbank --user audrey audit verify
done_testing
