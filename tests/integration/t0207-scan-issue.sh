#!/usr/bin/env bash
# t0207-scan-issue: "fmtbank scan --mode issue --recipient R --site S" (product.md §11.0.1): a
# good scan issues exactly that tube (status issued, recipient and site recorded, out of its box);
# every refusal is the issue rules' own, answered "ERR <aliquot>: <why>" and changing nothing:
# held (naming the case; "hold add --aliquot"), recalled (a signed "case decide --recall"),
# expired, unreleased (quarantine), already issued, thawed, discarded, the retained sample; box,
# lot, freezer and position labels refused; missing --recipient/--site a usage error; the
# auditor and quality refused; a bad recipient code refused before any scan.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/inventory.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

decide() { # CASE DECISION: a signed case decision by quinn
    printf '%s\n' "quinn-signs-1" >"$TMP/pw"
    run_in "$TMP/pw" fmtbank --user quinn case decide "$1" "--$2" --meaning "Quality decision" --password-stdin
}

# A quarantine lot (LQ), two released lots (LR, LS) and a released lot to recall (LC).
# Released lots are at least 28 days old: their follow-up questionnaire is recorded (rel_lot_full).
rel_donor D-2071
LQ=$(rel_lot_full D-2071 50)
LR=$(rel_lot_full D-2071 35 4)
LS=$(rel_lot_full D-2071 36)
LC=$(rel_lot_full D-2071 37 2)
rel_panel D-2071 "$(d -40)"
rel_panel D-2071 "$(d -30)"
for l in "$LR" "$LS" "$LC"; do sign "$l"; assert_eq "$RC" "0" "lot $l released"; done
assert_eq "$(lot_stored "$LQ")" "quarantine" "LQ stays in quarantine"
mapfile -t AR < <(aliquots_of "$LR")
mapfile -t AQ < <(aliquots_of "$LQ")
mapfile -t AS < <(aliquots_of "$LS")
mapfile -t AC < <(aliquots_of "$LC")
BOX=$(inv_box 8 12)
scan_as alice "$BOX
$(printf '%s\n' "${AR[@]}" "${AS[@]}" "${AQ[@]}" "${AC[@]}")
"
assert_eq "$RC" "0" "the tubes are stored"
FREEZER=$(sql "SELECT freezer_id FROM fmtbank.freezer WHERE name = 'Freezer 1'")

# --- the command line
expect 2 "issue mode without --recipient and --site" fmtbank --user alice scan --mode issue
assert_contains "$ERR" "missing --recipient and --site" "names what is missing"
assert_contains "$ERR" "Usage: fmtbank scan" "with the usage"
expect 2 "--recipient without --site" fmtbank --user alice scan --mode issue --recipient R-2071
assert_contains "$ERR" "missing --site (it goes with --recipient)" "names the partner"
expect 2 "--site without --recipient" fmtbank --user alice scan --mode issue --site "Site North"
assert_contains "$ERR" "missing --recipient (it goes with --site)" "names the partner"
expect 2 "--recipient outside issue mode" fmtbank --user alice scan --recipient R-2071 --site "Site North"
assert_contains "$ERR" "--recipient and --site go with --mode issue" "says so"
expect 0 "scan --help documents issue mode" fmtbank scan --help
assert_contains "$OUT" "--mode issue --recipient R --site S (technician) issues each tube" "the mode in the help"
assert_contains "$OUT" "(store, retrieve, audit or issue)" "issue among the choices"

state=$(inv_state)
scan_as audrey "${AR[1]}
" --mode issue --recipient R-2071 --site "Site North"
assert_eq "$RC" "6" "an auditor may not scan to issue"
assert_contains "$ERR" "permission denied" "permission denied"
scan_as quinn "${AR[1]}
" --mode issue --recipient R-2071 --site "Site North"
assert_eq "$RC" "6" "quality may not scan (scanning is the technician's)"
scan_as alice "${AR[1]}
" --mode issue --recipient "Jane Doe" --site "Site North"
assert_eq "$RC" "3" "a name instead of a recipient code is refused before any scan"
assert_contains "$ERR" "invalid recipient code \"Jane Doe\"" "the issue rule's message"
assert_eq "$OUT" "" "no scan answered"
scan_as alice "${AR[1]}
" --mode issue --recipient R-2071 --site "  "
assert_eq "$RC" "3" "an empty site is refused before any scan"
assert_eq "$(inv_state)" "$state" "nothing changed"

# --- a good scan issues exactly that tube
scan_as alice "${AR[1]}
" --mode issue --recipient r-2071 --site "Site North"
assert_eq "$RC" "0" "the issue session succeeds"
assert_eq "$(printf '%s\n' "$OUT" | head -1)" "OK ${AR[1]} issued to R-2071" "OK <aliquot> issued to R"
assert_contains "$OUT" "SUMMARY 1 scan: 1 OK, 0 refused; 0 stored, 0 retrieved, 0 seen, 1 issued" "the summary counts the issue"
expect 0 "aliquot show" fmtbank --user alice --format json aliquot show "${AR[1]}"
assert_contains "$OUT" '"status":"issued"' "aliquot show: issued"
assert_eq "$(sql "SELECT recipient || '|' || site || '|' || issued_by FROM fmtbank.issue_list WHERE aliquot = '${AR[1]}'")" \
    "R-2071|Site North|alice" "the recipient, site and technician are recorded"
assert_eq "$(where "${AR[1]}")" "" "the tube left its box"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.aliquot_issue")" "1" "exactly one tube issued"
assert_eq "$(sql "SELECT string_agg(aliquot_id, ',' ORDER BY aliquot_id) FROM fmtbank.aliquot WHERE status = 'issued'")" \
    "${AR[1]}" "and it is the scanned one"
expect 0 "history" fmtbank --user audrey aliquot history "${AR[1]}"
assert_contains "$OUT" "to recipient R-2071 at Site North" "a custody event of the issue"

# --- the refusals: held, recalled, expired, thawed, discarded
expect 0 "hold one dose" fmtbank --user alice hold add --aliquot "${AR[2]}" --reason "tube label smudged"
CH=$OUT
expect 0 "hold LC" fmtbank --user alice hold add --lot "$LC" --reason "processing deviation"
CR=$OUT
decide "$CR" recall
assert_eq "$RC" "0" "LC recalled by a signed decision"
assert_eq "$(lot_stored "$LC")" "recalled" "LC is recalled"
sql "UPDATE fmtbank.aliquot SET expires_at = now() - interval '1 hour' WHERE aliquot_id = '${AR[3]}'" >/dev/null
expect 0 "thaw a dose" fmtbank --user alice aliquot thaw "${AR[4]}"
expect 0 "discard a dose" fmtbank --user alice aliquot discard "${AS[1]}" --reason "cap cracked"

state=$(inv_state)
issues=$(sql "SELECT count(*) FROM fmtbank.aliquot_issue")
scan_as alice "${AR[2]}
${AC[1]}
${AR[3]}
${AQ[1]}
${AR[1]}
${AR[4]}
${AS[1]}
${AR[0]}
$BOX
$LR
$FREEZER
C4
MODE issue
" --mode issue --recipient R-2072 --site "Site South"
assert_eq "$RC" "5" "a session with refused scans exits 5"
mapfile -t ANS <<<"$OUT"
assert_contains "${ANS[0]}" "ERR ${AR[2]}: held by case $CH" "held: names the case"
assert_contains "${ANS[0]}" "(manual): tube label smudged" "and its reason"
assert_contains "${ANS[1]}" "ERR ${AC[1]}: recalled" "recalled"
assert_contains "${ANS[1]}" "Lot \"$LC\" is recalled" "names the lot"
assert_contains "${ANS[2]}" "ERR ${AR[3]}: expired - It expired on" "expired"
assert_eq "${ANS[2]: -1}" "." "no empty hint appended"
assert_contains "${ANS[3]}" "ERR ${AQ[1]}: not released" "unreleased (quarantine)"
assert_contains "${ANS[3]}" "Lot \"$LQ\" is quarantine." "says the lot's state"
assert_contains "${ANS[4]}" "ERR ${AR[1]}: already issued" "already issued"
assert_contains "${ANS[4]}" "Issued to R-2071 at Site North" "names the first issue"
assert_contains "${ANS[5]}" "ERR ${AR[4]}: thawed at" "thawed"
assert_contains "${ANS[6]}" "ERR ${AS[1]}: discarded" "discarded"
assert_contains "${ANS[7]}" "ERR ${AR[0]}: the retained sample of lot \"$LR\"" "the retained sample"
assert_eq "${ANS[8]}" "ERR $BOX: a box is not issued in issue mode - Issue tubes one by one: scan the label of each tube." "a box label"
assert_eq "${ANS[9]}" "ERR $LR: a lot is not issued in issue mode - Issue tubes one by one: scan the label of each tube." "a lot label"
assert_eq "${ANS[10]}" "ERR $FREEZER: a freezer is not issued in issue mode - Issue tubes one by one: scan the label of each tube." "a freezer label"
assert_contains "${ANS[11]}" "ERR cannot use position \"C4\" in issue mode" "a position"
assert_eq "${ANS[12]}" "OK mode issue: each tube scanned is issued to R-2072 at Site South" "MODE issue says to whom"
assert_contains "${ANS[13]}" "SUMMARY 13 scans: 1 OK, 12 refused; 0 stored, 0 retrieved, 0 seen, 0 issued" "the summary"
assert_eq "$(inv_state)" "$state" "the refused scans changed nothing"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.aliquot_issue")" "$issues" "no tube issued"
assert_eq "$(where "${AR[2]}")" "$BOX:A3" "the held tube is still in its box"
assert_eq "$(sql "SELECT status FROM fmtbank.aliquot WHERE aliquot_id = '${AR[2]}'")" "released" "and still released (held)"

# --- held material is refused by the database, whoever calls the issue function
sql_as alice "SELECT fmtbank.aliquot_issue('${AR[2]}', 'R-2072', 'Site South')"
assert_contains "$ERR" "held by case $CH" "aliquot_issue through psql: held"
assert_eq "$(inv_state)" "$state" "nothing changed"

# --- MODE issue needs a session started in issue mode; switching modes inside one
scan_as alice "MODE issue
${AS[2]}
"
assert_eq "$RC" "5" "MODE issue in a store session is refused"
assert_contains "$OUT" "ERR issue mode needs a recipient and a site" "says why"
assert_contains "$OUT" "ERR cannot store \"${AS[2]}\": no box selected" "the session stayed in store mode"
scan_as alice "MODE retrieve
$BOX
${AS[2]}
MODE issue
${AS[2]}
" --mode issue --recipient R-2073 --site "Site East"
assert_eq "$RC" "0" "retrieve, then issue, in one issue session"
assert_contains "$OUT" "OK retrieved ${AS[2]} from $BOX:" "retrieved"
assert_contains "$OUT" "OK ${AS[2]} issued to R-2073" "then issued"
assert_eq "$(sql "SELECT recipient || '|' || site FROM fmtbank.issue_list WHERE aliquot = '${AS[2]}'")" "R-2073|Site East" "to that recipient and site"

# --- a decision lifting the hold makes the held tube issuable
decide "$CH" lift
assert_eq "$RC" "0" "the hold lifted by a signed decision"
scan_as alice "${AR[2]}
" --mode issue --recipient R-2074 --site "Site West"
assert_eq "$RC" "0" "the lifted tube is issued"
assert_eq "$(printf '%s\n' "$OUT" | head -1)" "OK ${AR[2]} issued to R-2074" "OK"

# --- --use: what the doses are issued for, within the donor's consent (as "aliquot issue --use")
expect 2 "--use outside issue mode" fmtbank --user alice scan --use research
assert_contains "$ERR" "--use goes with --mode issue" "says so"
expect 2 "--use of no known kind" fmtbank --user alice scan --mode issue --recipient R-2075 --site "Site West" --use teaching
assert_contains "$ERR" "Use clinical or research." "lists the uses"
expect 0 "consent narrowed to clinical use" fmtbank --user alice donor consent D-2071 --version v9 --signed "$(d 0)" --scope clinical
state=$(inv_state)
scan_as alice "${AS[3]}
" --mode issue --recipient R-2075 --site "Research Lab" --use research
assert_eq "$RC" "5" "research use outside the consent is refused"
assert_contains "$OUT" "ERR ${AS[3]}: " "the tube named"
assert_contains "$OUT" "no consent in force for research use" "the consent rule's reason"
assert_eq "$(inv_state)" "$state" "nothing changed"
expect 0 "consent for research only" fmtbank --user alice donor consent D-2071 --version v10 --signed "$(d 0)" --scope research
scan_as alice "${AS[3]}
" --mode issue --recipient R-2075 --site "Research Lab"
assert_eq "$RC" "5" "without --use the issue is clinical, and refused now"
assert_contains "$OUT" "no consent in force for clinical use" "says clinical"
scan_as alice "${AS[3]}
" --mode issue --recipient R-2075 --site "Research Lab" --use research
assert_eq "$RC" "0" "issued for research"
assert_eq "$(sql "SELECT use FROM fmtbank.issue_list WHERE aliquot = '${AS[3]}'")" "research" "stored with its use"
done_testing
