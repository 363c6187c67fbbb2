#!/usr/bin/env bash
# t0420-release-report: "fmtbank release report LOT -o FILE.xlsx", the release certificate: a lot
# built and signed through the CLI, read back with an independent reader (openpyxl): the
# signature cells, the SHA-256 equal to the stored one, real dates, the DRAFT banner on every
# sheet of an unsigned lot and none once signed, identical cells when regenerated, who may run
# it, refusals (bad check character, unknown lot, missing -o), and the time for 100 aliquots.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db
# report content by plain IDs (t0209-readable-ids checks how IDs are shown)
DUMP() { /usr/bin/python3 "$FMTBANK_SRC/tests/integration/xlsxdump.py" --plain-ids "$1"; }
cells() { DUMP "$1" | grep '^cell ' | sed 's/ fmt=.*//'; } # cell contents only

rel_donor D-4201
L=$(rel_lot_full D-4201 40) && rel_panel D-4201 "$(d -50)" && rel_panel D-4201 "$(d -30)"
assert_eq "$(lot_shown "$L")" "ready" "a releasable lot"

# --- unsigned: a draft, bannered on every sheet
expect 0 "the report of an unsigned lot is written" fmtbank --user quinn release report "$L" -o "$TMP/draft.xlsx"
assert_eq "$OUT" "" "nothing on standard output"
assert_contains "$ERR" "wrote the release report of lot \"$L\" to \"$TMP/draft.xlsx\"" "a note on standard error"
D=$(DUMP "$TMP/draft.xlsx")
assert_contains "$D" "sheets Summary|Results|Verdicts|Aliquots" "four sheets"
for s in Summary Results Verdicts Aliquots; do
    assert_contains "$(echo "$D" | grep -E "^cell $s!A[0-9]+ ")" "DRAFT — NOT RELEASED" "the draft banner on $s"
done
assert_contains "$D" "Decision" "the summary has a decision"
assert_contains "$D" "releasable, not signed" "the draft says it is not signed"
cells "$TMP/draft.xlsx" >"$TMP/draft1"
fmtbank --user quinn release report "$L" -o "$TMP/draft2.xlsx" 2>/dev/null
cells "$TMP/draft2.xlsx" >"$TMP/draft2"
assert_eq "$(cmp -s "$TMP/draft1" "$TMP/draft2" && echo same)" "same" "a draft regenerated has identical cells"

# --- signed
sign "$L"
assert_eq "$RC" "0" "quinn signs the release"
expect 0 "the signed report is written" fmtbank --user quinn release report "$L" -o "$TMP/rel.xlsx"
S=$(DUMP "$TMP/rel.xlsx")
assert_not_contains "$S" "DRAFT" "no banner once signed"
sha=$(sql "SELECT s.sha256 FROM fmtbank.release_signature s JOIN fmtbank.lot l ON l.id = s.lot WHERE l.lot_id = '$L'")
assert_contains "$S" "text $sha" "the SHA-256 is the stored one"
assert_contains "$S" "text Quinn" "the printed name"
assert_contains "$S" "text Released for clinical use" "the meaning"
assert_contains "$S" "text released (signed)" "the decision"
signed=$(sql "SELECT to_char(s.signed_at, 'YYYY-MM-DD\"T\"HH24:MI:SS') FROM fmtbank.release_signature s JOIN fmtbank.lot l ON l.id = s.lot WHERE l.lot_id = '$L'")
assert_contains "$S" "date $signed" "the signature time is a real date-time"
assert_contains "$S" "props created=$signed" "the document's creation time is the signature time"
assert_contains "$(echo "$S" | grep -E '^cell Summary!B[0-9]+ text yes')" "yes" "the snapshot is verified"
assert_eq "$(echo "$S" | grep -cE '^cell Results!C[0-9]+ date ')" "$(sql "SELECT jsonb_array_length(s.snapshot -> 'results') FROM fmtbank.release_signature s")" \
    "every result has its collection date as a real date"
nres=$(sql "SELECT jsonb_array_length(s.snapshot -> 'results') FROM fmtbank.release_signature s")
assert_eq "$((nres >= 80))" "1" "pre- and post-donation results ($nres)"
assert_contains "$S" "text pre" "pre-donation results"
assert_contains "$S" "text post" "post-donation results"
assert_eq "$(echo "$S" | grep -cE '^cell Verdicts!C[0-9]+ text pass')" \
    "$(sql "SELECT jsonb_array_length(s.snapshot -> 'rules') FROM fmtbank.release_signature s")" "every rule verdict, all pass"
for a in $(aliquots_of "$L"); do
    assert_contains "$S" "text $a" "aliquot $a listed"
done
cells "$TMP/rel.xlsx" >"$TMP/rel1"
# A later change elsewhere does not change the certificate.
fmtbank --user alice donor add D-4299 --birth-year 1991 --sex M >/dev/null
for u in audrey alice adam; do
    expect 0 "$u may write the release report" fmtbank --user "$u" release report "$L" -o "$TMP/rel-$u.xlsx"
    cells "$TMP/rel-$u.xlsx" >"$TMP/rel-$u"
    assert_eq "$(cmp -s "$TMP/rel1" "$TMP/rel-$u" && echo same)" "same" "identical cells ($u, regenerated later)"
done

# --- refusals
bad="${L%?}$(printf '%s' "${L: -1}" | tr 'A-Z0-9*' 'B-ZA1-90A')"
before=$(audit_count)
expect 3 "a bad check character" fmtbank --user quinn release report "$bad" -o "$TMP/bad.xlsx"
assert_contains "$ERR" "check character" "says so"
unknown=$(sql "SELECT 'L99999999' || fmtbank.check_char('L99999999')")
expect 4 "an unknown lot with a good check character" fmtbank --user quinn release report "$unknown" -o "$TMP/bad.xlsx"
assert_contains "$ERR" "$unknown" "names it"
expect 2 "no -o" fmtbank --user quinn release report "$L"
expect 2 "no lot" fmtbank --user quinn release report -o "$TMP/bad.xlsx"
expect 2 "not an .xlsx name" fmtbank --user quinn release report "$L" -o "$TMP/bad.txt"
assert_eq "$(ls "$TMP"/bad.* 2>/dev/null)" "" "no file left by a refusal"
assert_eq "$(audit_count)" "$before" "refusals changed nothing"

# --- report check passes
expect 0 "report check passes" fmtbank report check
assert_contains "$OUT" "release: ok" "release definition ok"

# --- timing: a lot of 100 aliquots (not asserted)
rel_donor D-4202
rel_short D-4202 "$(d -40)"
L2=$(rel_lot D-4202 "$(d -40) 08:30" 6000)
rel_process "$L2" "$(d -40) 10:00" 100 >/dev/null || echo "# could not process $L2"
rel_followup D-4202 "$(d -12)"
 rel_panel D-4202 "$(d -50)" && rel_panel D-4202 "$(d -30)"
sign "$L2"
assert_eq "$RC" "0" "a 100-dose lot signed"
t0=$(date +%s.%N)
expect 0 "the report of a 100-aliquot lot" fmtbank --user quinn release report "$L2" -o "$TMP/big.xlsx"
t1=$(date +%s.%N)
echo "# release report of a lot with $(aliquots_of "$L2" | wc -l) aliquots: $(echo "$t1 - $t0" | bc) s (target <= 0.3 s)"
assert_eq "$(DUMP "$TMP/big.xlsx" | grep -cE '^cell Aliquots!A[0-9]+ text L')" "101" "every aliquot (100 doses and the retained sample) on the sheet"
done_testing
