#!/usr/bin/env bash
# t0340-consent: donor consent (product.md §12), the CLI contract. "donor consent" records a signed
# consent or its withdrawal (usage errors exit 2 before any statement, bad input exit 3, refusals
# exit 5, the auditor exit 6); "donor show" and JSON give the consent in force; "donor import"
# takes the optional consent columns, all or nothing, naming the line and field; a donation
# without consent in force is recorded as a rejected lot (rule consent, exit 5); "aliquot issue
# --use" and "scan --mode issue" are refused outside the scope in force (exit 5, naming the donor
# and the use), also for a technician calling the function or inserting an issue record in psql;
# a withdrawal leaves what was issued and refuses the rest. Scenarios in tests/sql/sql/consent.sql.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/inventory.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

HASH=$(printf 'signed form\n' | sha256sum | cut -c1-64)
consent_rows() { sql "SELECT count(*) FROM fmtbank.donor_consent"; }

# --- the command line
expect 0 "donor consent --help" fmtbank donor consent --help
assert_contains "$OUT" "--withdraw" "documents --withdraw"
assert_contains "$OUT" "--scope USES" "documents --scope"
expect 0 "aliquot issue --help" fmtbank aliquot issue --help
assert_contains "$OUT" "(clinical or research)" "--use lists clinical and research"
fmtbank --user alice donor add D-3401 --birth-year 1990 --sex F >/dev/null
before=$(consent_rows)
audit_before=$(audit_count)
expect 2 "no option" fmtbank --user alice donor consent D-3401
assert_contains "$ERR" "missing --version" "names what is missing"
assert_contains "$ERR" "Usage: fmtbank donor consent CODE" "with the usage"
expect 2 "no --scope" fmtbank --user alice donor consent D-3401 --version v1 --signed "$(d -5)"
assert_contains "$ERR" "missing --scope" "names --scope"
expect 2 "--withdraw without --date" fmtbank --user alice --reason x donor consent D-3401 --withdraw
assert_contains "$ERR" "missing --date" "names --date"
expect 2 "--withdraw with the options of a signature" fmtbank --user alice --reason x donor consent D-3401 --withdraw --date "$(d 0)" --version v1 --signed "$(d -5)" --scope clinical
assert_contains "$ERR" "--version, --signed and --scope do not go with --withdraw" "says so"
expect 2 "--document alone" fmtbank --user alice donor consent D-3401 --document "$HASH"
assert_contains "$ERR" "missing --version (it goes with --document)" "names the partner"
expect 2 "--date without --withdraw" fmtbank --user alice donor consent D-3401 --version v1 --signed "$(d -5)" --scope clinical --date "$(d 0)"
assert_contains "$ERR" "missing --withdraw (it goes with --date)" "names the partner"
expect 2 "no donor code" fmtbank --user alice donor consent --version v1 --signed "$(d -5)" --scope clinical
expect 2 "aliquot issue --use trial (trial dispensing is not an issue)" \
    fmtbank --user alice aliquot issue L26000001-0011 --recipient R-1 --site S --use trial
assert_contains "$ERR" 'invalid value "trial" for "--use"' "names the value"

# --- bad input (exit 3) and refusals: nothing recorded
expect 3 "signed in the future" fmtbank --user alice donor consent D-3401 --version v1 --signed "$(d 1)" --scope clinical
assert_contains "$ERR" "--signed $(d 1) is in the future" "says so"
expect 3 "not a date" fmtbank --user alice donor consent D-3401 --version v1 --signed yesterday --scope clinical
assert_contains "$ERR" 'invalid date "yesterday" for --signed' "names the field"
expect 3 "unknown use in the scope" fmtbank --user alice donor consent D-3401 --version v1 --signed "$(d -5)" --scope clinical,therapy
assert_contains "$ERR" 'invalid --scope "clinical,therapy"' "names the field"
expect 3 "a document hash that is not SHA-256" fmtbank --user alice donor consent D-3401 --version v1 --signed "$(d -5)" --scope clinical --document "${HASH:0:63}"
assert_contains "$ERR" "invalid --document" "names the field"
expect 4 "unknown donor" fmtbank --user alice donor consent D-9999 --version v1 --signed "$(d -5)" --scope clinical
expect 6 "the auditor may not record consent" fmtbank --user audrey donor consent D-3401 --version v1 --signed "$(d -5)" --scope clinical
expect 5 "nothing to withdraw" fmtbank --user alice --reason "donor phoned" donor consent D-3401 --withdraw --date "$(d 0)"
assert_contains "$ERR" 'donor "D-3401" has no consent to withdraw' "says so"
assert_eq "$(consent_rows)/$(audit_count)" "$before/$audit_before" "nothing recorded, nothing audited"

# --- a donation without consent is recorded as a rejected lot (rule consent)
make_eligible D-3401
short_q D-3401 "$(d 0)"
collected=$(ts "-3 hours")
expect 5 "a donation without consent" fmtbank --user alice donation add D-3401 --collected "$collected" --mass 200 --bristol 4
LREJ=$OUT
assert_contains "$ERR" "is recorded as rejected" "recorded, rejected"
assert_contains "$ERR" "consent: No consent is recorded for donor D-3401" "the rule consent says why"
assert_eq "$(sql "SELECT status || ' ' || (reject_reasons -> 0 ->> 'rule') FROM fmtbank.lot WHERE lot_id = '$LREJ'")" \
    "rejected consent" "the lot exists, rejected by the rule consent"

# --- a signed consent: shown by donor show (table and JSON), audited
expect 0 "consent signed (quality may record it too)" fmtbank --user quinn --format json donor consent D-3401 \
    --version 2026-03 --signed "$(d -5)" --scope research,CLINICAL --document "${HASH^^}"
assert_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["consent"], o["version"], o["signed_on"], ",".join(o["scope"]), o["document"], o["in_force"])')" \
    "in_force 2026-03 $(d -5) clinical,research $HASH ['clinical', 'research']" "the consent now, scope normalised, hash in lower case"
expect 0 "donor show" fmtbank --user alice --format json donor show D-3401
assert_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["consent"], o["consent_version"], o["consent_signed"], o["consent_scope"], o["consent_withdrawn"], o["consent_in_force"])')" \
    "in_force 2026-03 $(d -5) ['clinical', 'research'] None ['clinical', 'research']" "donor show JSON carries the consent in force"
expect 0 "donor show (table)" fmtbank --user alice donor show D-3401
assert_contains "$OUT" "consent_version     2026-03" "the table too"
expect 5 "the same consent twice" fmtbank --user alice donor consent D-3401 --version 2026-03 --signed "$(d -5)" --scope clinical,research
assert_contains "$ERR" "is already recorded" "says so"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE tbl = 'donor_consent' AND op = 'INSERT'")" \
    "$(sql "SELECT count(*) FROM fmtbank.donor_consent")" "every consent event is audited"
expect 0 "a donation with consent" fmtbank --user alice --reason "second stool" donation add D-3401 --collected "$(ts "-10 minutes")" --mass 200 --bristol 4 --not-duplicate
assert_eq "$(sql "SELECT status FROM fmtbank.lot WHERE lot_id = '$OUT'")" "quarantine" "recorded in quarantine"

# --- issue: a released lot of a donor whose consent covers clinical use only
fmtbank --user alice donor add D-3402 --birth-year 1990 --sex F >/dev/null
expect 0 "consent for clinical use" fmtbank --user alice donor consent D-3402 --version v1 --signed "$(d -60)" --scope clinical
LR=$(rel_lot_full D-3402 35 4)
rel_panel D-3402 "$(d -40)"
rel_panel D-3402 "$(d -30)"
sign "$LR"
assert_eq "$RC" "0" "lot released"
mapfile -t A < <(sql "SELECT a.aliquot_id FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot
                      WHERE l.lot_id = '$LR' AND NOT a.retained ORDER BY a.idx")
state=$(inv_state)
expect 5 "issue for research outside the scope" fmtbank --user alice aliquot issue "${A[0]}" --recipient R-3401 --site "City Hospital" --use research
assert_contains "$ERR" "cannot issue \"${A[0]}\": donor \"D-3402\" has no consent in force for research use" "names the donor and the use"
assert_contains "$ERR" "covers clinical, not research use" "says what it covers"
assert_eq "$(inv_state)" "$state" "nothing changed"
expect 0 "issue for clinical use (the default)" fmtbank --user alice aliquot issue "${A[0]}" --recipient R-3401 --site "City Hospital"
assert_contains "$ERR" "for clinical use" "says the use"
assert_eq "$(sql "SELECT use FROM fmtbank.issue_list WHERE aliquot = '${A[0]}'")" "clinical" "the use is on the issue record"

# a narrower consent: research only, from today
expect 0 "a new consent: research only" fmtbank --user alice donor consent D-3402 --version v2 --signed "$(d 0)" --scope research
expect 5 "clinical issue refused now" fmtbank --user alice aliquot issue "${A[1]}" --recipient R-3402 --site "City Hospital"
assert_contains "$ERR" "no consent in force for clinical use" "says so"
expect 0 "research issue allowed" fmtbank --user alice aliquot issue "${A[1]}" --recipient R-3402 --site "Research Lab" --use research
assert_eq "$(sql "SELECT use FROM fmtbank.issue_list WHERE aliquot = '${A[1]}'")" "research" "stored as research"
# a technician in psql: the function refuses the same, and the table takes no direct insert
sql_as alice "SELECT fmtbank.aliquot_issue('${A[2]}', 'R-3403', 'City Hospital', 'clinical')"
assert_eq "$RC" "1" "psql: the function refuses a clinical issue"
assert_contains "$ERR" "has no consent in force for clinical use" "with the consent message"
sql_as alice "INSERT INTO fmtbank.aliquot_issue (aliquot, recipient, site, use) SELECT id, 'R-3403', 'X', 'research' FROM fmtbank.aliquot WHERE aliquot_id = '${A[2]}'"
assert_contains "$ERR" "permission denied" "psql: no direct insert of an issue record"
# scan --mode issue goes through the same rule
BOX=$(inv_box 8 12)
scan_as alice "$BOX
${A[2]}
${A[3]}
"
assert_eq "$RC" "0" "tubes stored"
scan_as alice "${A[2]}
" --mode issue --recipient R-3403 --site "City Hospital"
assert_contains "$OUT" "ERR ${A[2]}: donor \"D-3402\" has no consent in force for clinical use" "scan issue refused by the consent rule"
assert_eq "$(sql "SELECT status FROM fmtbank.aliquot WHERE aliquot_id = '${A[2]}'")" "released" "the tube is not issued"

# --- withdrawal: needs a reason and a date not before the signing; leaves what was issued
expect 3 "a withdrawal without --reason" fmtbank --user alice donor consent D-3402 --withdraw --date "$(d 0)"
assert_contains "$ERR" "requires a reason" "says so"
expect 3 "a withdrawal before the signing of the consent in force" fmtbank --user alice --reason "donor phoned" donor consent D-3402 --withdraw --date "$(d -1)"
assert_contains "$ERR" "before the signing of the consent in force (version v2, signed $(d 0))" "names the consent"
expect 3 "a withdrawal in the future" fmtbank --user alice --reason "donor phoned" donor consent D-3402 --withdraw --date "$(d 1)"
expect 0 "withdrawn" fmtbank --user alice --reason "donor phoned" --format json donor consent D-3402 --withdraw --date "$(d 0)"
assert_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["consent"], o["version"], o["withdrawn_on"], o["in_force"])')" \
    "withdrawn v2 $(d 0) None" "the withdrawn consent, nothing in force"
expect 5 "no issue after the withdrawal" fmtbank --user alice aliquot issue "${A[3]}" --recipient R-3404 --site "Research Lab" --use research
assert_contains "$ERR" "Donor D-3402 withdrew consent (version v2, signed $(d 0)) from $(d 0)" "the detail says when"
scan_as alice "${A[3]}
" --mode issue --recipient R-3404 --site "City Hospital"
assert_contains "$OUT" "ERR ${A[3]}: donor \"D-3402\" has no consent in force for clinical use" "scan issue refused after the withdrawal"
assert_eq "$(sql "SELECT string_agg(a.status, ',' ORDER BY a.idx) FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot WHERE l.lot_id = '$LR' AND NOT a.retained")" \
    "issued,issued,released,released" "the doses issued before stay issued, the rest stay in stock"
expect 0 "donor show after the withdrawal" fmtbank --user alice --format json donor show D-3402
assert_contains "$OUT" "\"consent\":\"withdrawn\"" "withdrawn"
assert_contains "$OUT" "\"consent_withdrawn\":\"$(d 0)\"" "from today"
assert_eq "$(sql "SELECT reason FROM fmtbank.donor_consent WHERE event = 'withdrawn'")" "donor phoned" "the reason is kept"

# --- donor import with the consent columns: all or nothing, bad values named by line and field
cat >"$TMP/consent.csv" <<EOF
code,birth_year,sex,consent_version,consent_signed,consent_scope,consent_document
D-3410,1990,F,v1,$(d -3),"clinical,research",$HASH
D-3411,1985,M,,,,
D-3412,1992,X,v1,$(d -3),research;trial,
EOF
cat >"$TMP/consent-bad.csv" <<EOF
code,birth_year,sex,consent_version,consent_signed,consent_scope,consent_document
D-3420,1990,F,v1,$(d 1),clinical,
D-3421,1990,F,v1,$(d -3),therapy,
D-3422,1990,F,v1,,clinical,
D-3423,1990,F,v1,$(d -3),clinical,xyz
D-3424,1990,F,v1,2026-13-01,clinical,
D-3425,1990,F,,,,$HASH
D-3426,1990,F,v1,$(d -3),clinical,
EOF
donors_before=$(sql "SELECT count(*) FROM fmtbank.donor")
before=$(consent_rows)
expect 3 "an import with bad consent values" fmtbank --user alice donor import "$TMP/consent-bad.csv"
assert_contains "$ERR" "consent-bad.csv:2: consent_signed $(d 1) is in the future" "line 2: the future"
assert_contains "$ERR" 'consent-bad.csv:3: invalid consent_scope "therapy"' "line 3: the scope"
assert_contains "$ERR" "consent-bad.csv:4: consent_signed is missing" "line 4: the day missing"
assert_contains "$ERR" 'consent-bad.csv:5: invalid consent_document "xyz"' "line 5: the hash"
assert_contains "$ERR" 'consent-bad.csv:6: invalid consent_signed "2026-13-01"' "line 6: not a date"
assert_contains "$ERR" "consent-bad.csv:7: consent_version is missing" "line 7: a hash alone"
assert_contains "$ERR" "6 bad lines" "every bad line, the good one not"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.donor")/$(consent_rows)" "$donors_before/$before" "nothing imported"
expect 0 "an import with consent columns" fmtbank --user alice donor import "$TMP/consent.csv"
assert_eq "$OUT" "D-3410
D-3411
D-3412" "the new codes"
assert_eq "$(sql "SELECT string_agg(donor || ' ' || version || ' ' || array_to_string(scope, ',') || ' ' || coalesce(left(document_sha256, 8), '-'), '; ' ORDER BY donor)
                  FROM fmtbank.consent_list WHERE donor LIKE 'D-341%'")" \
    "D-3410 v1 clinical,research ${HASH:0:8}; D-3412 v1 research,trial -" "consent recorded for the lines that give one"
expect 0 "donor show of an imported donor without consent" fmtbank --user alice --format json donor show D-3411
assert_contains "$OUT" "\"consent\":\"none\"" "none"
printf 'code,birth_year,sex,consent_version\nD-3430,1990,F,v1\n' >"$TMP/partial.csv"
expect 3 "a header with only some consent columns" fmtbank --user alice donor import "$TMP/partial.csv"
assert_contains "$ERR" "wrong number of fields in header line: got 4, expected 3 (or 7 with consent_version" "names both headers"

done_testing
