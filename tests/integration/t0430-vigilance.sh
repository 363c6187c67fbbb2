#!/usr/bin/env bash
# t0430-vigilance: recipients and vigilance through the CLI (product.md §13): "recipient show" and
# "donor recipients" (table and JSON); "recipient event add" of a serious reaction holds the stock
# of every donor of the recipient's doses at once and lists the other recipients to notify;
# "recipient event update" grades it (quality only; a reason; the history kept), unlikely marks the
# case "signal withdrawn - lift proposed" while the holds stay until a signed lift; scores; the
# vigilance report read back with openpyxl; the exit codes 2, 3, 4, 5 and 6, also through psql.
# The rule scenarios in full are tests/sql/sql/vigilance.sql.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db
# report content by plain IDs (t0209-readable-ids checks how IDs are shown)
DUMP() { /usr/bin/python3 "$FMTBANK_SRC/tests/integration/xlsxdump.py" --plain-ids "$1"; }

# Two donors, each with a released lot (>= 28 days old: the follow-up questionnaire) and a lot in
# quarantine; R-4301 receives a dose of each donor, R-4302 another dose of D-4301, R-4303 one of
# D-4302; R-4309 is a recipient of an unrelated donor D-4303.
for c in D-4301 D-4302 D-4303; do rel_donor "$c"; done
A1=$(rel_lot_full D-4301 40); A2=$(rel_lot_full D-4301 30)
B1=$(rel_lot_full D-4302 40); X1=$(rel_lot_full D-4303 40)
for c in D-4301 D-4302 D-4303; do rel_panel "$c" "$(d -45)"; rel_panel "$c" "$(d -5)"; done
for l in "$A1" "$B1" "$X1"; do sign "$l"; assert_eq "$RC" "0" "lot $l released"; done
mapfile -t AA < <(aliquots_of "$A1"); mapfile -t BB < <(aliquots_of "$B1"); mapfile -t XX < <(aliquots_of "$X1")
issue() { fmtbank --user alice aliquot issue "$1" --recipient "$2" --site "$3" >/dev/null 2>&1; }
issue "${AA[1]}" R-4301 "Hospital North"; issue "${BB[1]}" R-4301 "Hospital North"
issue "${AA[2]}" R-4302 "Hospital South"; issue "${BB[2]}" R-4303 "Hospital South"
issue "${XX[1]}" R-4309 "Hospital East"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.aliquot_issue")" "5" "five doses issued"

# --- reading: recipient show and donor recipients, table and JSON
expect 0 "recipient show" fmtbank --user alice recipient show r-4301
assert_contains "$OUT" "D-4301, D-4302" "both donors"
assert_contains "$OUT" "$(shown "${AA[1]}")" "the dose of D-4301"; assert_contains "$OUT" "$(shown "${BB[1]}")" "the dose of D-4302"
assert_contains "$OUT" "adverse events:" "the events section"
expect 0 "recipient show JSON" fmtbank --user audrey --format json recipient show R-4301
assert_eq "$(echo "$OUT" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["recipient"], len(d["doses"]), d["doses"][0]["site"], d["doses"][0]["use"], d["events"])')" \
    "R-4301 2 Hospital North clinical []" "JSON: recipient, doses, site, use, no event yet"
expect 0 "donor recipients JSON" fmtbank --user alice --format json donor recipients D-4301
assert_eq "$(echo "$OUT" | /usr/bin/python3 -c 'import json,sys; print(" ".join(r["recipient"] + "@" + r["lot"] for r in json.load(sys.stdin)))')" \
    "R-4301@$A1 R-4302@$A1" "every recipient of the donor, with the lot"
expect 0 "donor recipients table" fmtbank --user alice donor recipients D-4302
assert_contains "$OUT" "R-4303" "table lists R-4303"
expect 4 "an unknown recipient" fmtbank --user alice recipient show R-9999
expect 3 "a name is not a recipient code" fmtbank --user alice recipient show "Jane Doe"
expect 4 "an unknown donor" fmtbank --user alice donor recipients D-9999
expect 2 "recipient show without R" fmtbank --user alice recipient show

# --- usage errors (2), bad input (3), not found (4), refusals (5), permissions (6): nothing stored
before=$(audit_count)
expect 2 "no --kind" fmtbank --user alice recipient event add R-4301 --date "$(d 0)" --serious yes --severity severe --description x
assert_contains "$ERR" "missing --kind" "names the option"
expect 2 "a kind not in the list" fmtbank --user alice recipient event add R-4301 --date "$(d 0)" --kind rash --serious yes --severity severe --description x
expect 2 "--serious maybe" fmtbank --user alice recipient event add R-4301 --date "$(d 0)" --kind fever --serious maybe --severity severe --description x
expect 3 "a malformed date" fmtbank --user alice recipient event add R-4301 --date yesterday --kind fever --serious no --severity mild --description x
assert_contains "$ERR" "--date" "names the field"
expect 3 "a future date" fmtbank --user alice recipient event add R-4301 --date "$(d 1)" --kind fever --serious no --severity mild --description x
expect 3 "an empty description" fmtbank --user alice recipient event add R-4301 --date "$(d 0)" --kind fever --serious no --severity mild --description " "
expect 4 "an unknown recipient" fmtbank --user alice recipient event add R-9999 --date "$(d 0)" --kind fever --serious no --severity mild --description x
expect 5 "an event before the first dose" fmtbank --user alice recipient event add R-4301 --date "$(d -1)" --kind fever --serious no --severity mild --description x
assert_contains "$ERR" "no dose was issued to it on or before that day" "says why"
expect 6 "an auditor records no event" fmtbank --user audrey recipient event add R-4301 --date "$(d 0)" --kind fever --serious yes --severity severe --description x
expect 6 "a technician does not grade" fmtbank --user alice recipient event add R-4301 --date "$(d 0)" --kind fever --serious yes --severity severe --imputability probable --description x
assert_contains "$ERR" "grading imputability requires the quality role" "says who grades"
sql_as audrey "SELECT * FROM fmtbank.recipient_event_add('R-4301', current_date::text, 'fever', 'yes', 'severe', NULL, 'x')"
assert_contains "$ERR" "permission denied: recording adverse events" "psql: the auditor is refused too"
sql_as alice "INSERT INTO fmtbank.recipient_event (event_code, recipient, event_date, kind, serious, severity, description) VALUES ('E26000001X', 'R-4301', current_date, 'fever', true, 'mild', 'x')"
assert_contains "$ERR" "permission denied for table recipient_event" "psql: no direct write"
assert_eq "$(audit_count)" "$before" "no refused command changed anything"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.safety_case")" "0" "no case"

# --- the hospital's call: a serious infection in R-4301, recorded by a technician
expect 0 "a serious infection" fmtbank --user alice recipient event add R-4301 --date "$(d 0)" --kind infection \
    --serious yes --severity severe --description "ESBL E. coli bacteraemia, admitted"
E1=$OUT
assert_eq "$(sql "SELECT fmtbank.with_check(left('$E1', 9)) = '$E1' AND '$E1' ~ '^E[0-9]{8}'")" "t" "an event ID with its check character"
assert_contains "$ERR" "imputability not_assessable" "not assessed yet"
assert_contains "$ERR" "on donor D-4301: open, holds 2 lots; other recipients to notify: R-4302 (${AA[2]})" "D-4301: both lots held, R-4302 to notify"
assert_contains "$ERR" "on donor D-4302: open, holds 1 lot; other recipients to notify: R-4303 (${BB[2]})" "D-4302: its lot held, R-4303 to notify"
assert_eq "$(sql "SELECT string_agg(l.lot_id, ' ' ORDER BY l.lot_id) FROM fmtbank.lot l
                  WHERE fmtbank.holds_of(l.id, NULL) <> '[]'")" "$(printf '%s\n' "$A1" "$A2" "$B1" | sort | tr '\n' ' ' | sed 's/ $//')" \
    "exactly the two donors' lots are held"
expect 5 "a held dose is not issued" fmtbank --user alice aliquot issue "${AA[3]}" --recipient R-4310 --site "Hospital North"
expect 0 "case list" fmtbank --user quinn --format json case list --source adverse_event
assert_eq "$(echo "$OUT" | /usr/bin/python3 -c 'import json,sys; print(" ".join(c["donor"] + ":" + c["status"] for c in json.load(sys.stdin)))')" \
    "D-4301:open D-4302:open" "two adverse_event cases, one per donor"
expect 0 "todo asks quality to grade it" fmtbank --user quinn --format tsv todo
assert_contains "$(echo "$OUT" | grep "^event_grading")" "$E1"$'\t'"grade its imputability (quality)" "event_grading names the event"
C1=$(sql "SELECT c.case_code FROM fmtbank.safety_case c JOIN fmtbank.donor d ON d.id = c.donor_id WHERE d.code = 'D-4301'")
expect 0 "recipient show JSON with the event" fmtbank --user alice --format json recipient show R-4301
assert_eq "$(echo "$OUT" | /usr/bin/python3 -c 'import json,sys; e=json.load(sys.stdin)["events"][0]; print(e["event"], e["kind"], e["serious"], len(e["cases"]), e["cases"][0]["recipients"][0]["recipient"])')" \
    "$E1 infection True 2 R-4302" "the event, its two cases and the recipient to notify"
expect 0 "a non-serious event" fmtbank --user adam recipient event add R-4309 --date "$(d 0)" --kind gi_symptoms --serious no --severity mild --description "bloating"
E2=$OUT
assert_not_contains "$ERR" "case " "opens nothing"
expect 0 "another non-serious event" fmtbank --user alice recipient event add R-4303 --date "$(d 0)" --kind fever --serious no --severity mild --description "38.0 C"
E3=$OUT
assert_eq "$(sql "SELECT count(*) FROM fmtbank.safety_case")" "2" "still two cases"

# --- follow-ups: a reason, quality grades, the history kept
expect 2 "an update with nothing" fmtbank --user quinn recipient event update "$E1" --reason x
expect 3 "an update without a reason" fmtbank --user quinn recipient event update "$E1" --outcome recovering
expect 3 "a malformed event ID" fmtbank --user quinn recipient event update E00000000X --outcome recovering --reason x
expect 4 "an unknown event" fmtbank --user quinn recipient event update "$(sql "SELECT fmtbank.with_check('E99999999')")" --outcome recovering --reason x
expect 6 "a technician does not grade" fmtbank --user alice recipient event update "$E1" --imputability unlikely --reason x
expect 0 "a technician records the outcome" fmtbank --user alice recipient event update "$E1" --outcome recovering --reason "ward call"
expect 5 "the same again changes nothing" fmtbank --user alice recipient event update "$E1" --outcome recovering --reason "ward call"
expect 0 "quality grades it unlikely" fmtbank --user quinn --format json recipient event update "$E1" --imputability unlikely --reason "isolate typed: not the donor strain"
assert_eq "$(echo "$OUT" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["imputability"], " ".join(str(c["withdrawn"]) + ":" + str(c["lots_held"]) for c in d["cases"]))')" \
    "unlikely True:2 True:1" "JSON: both cases withdrawn, their holds still there"
expect 0 "todo after the grading" fmtbank --user quinn --format tsv todo
assert_not_contains "$OUT" "event_grading" "graded: nothing to grade"
assert_contains "$(echo "$OUT" | grep "^signal_withdrawn")" "$C1" "the lift proposed for D-4301's case"
expect 0 "case list shows the proposal" fmtbank --user quinn case list --source adverse_event
assert_contains "$OUT" "signal withdrawn - lift proposed" "lift proposed"
expect 5 "the held dose is still not issued" fmtbank --user alice aliquot issue "${AA[3]}" --recipient R-4310 --site "Hospital North"
printf '%s\n' quinn-signs-1 >"$TMP/pw"
run_in "$TMP/pw" fmtbank --user quinn case decide "$C1" --lift --meaning "Quality decision" --password-stdin
assert_eq "$RC" "0" "a signed lift ends the D-4301 holds"
expect 0 "the lifted dose is issued again" fmtbank --user alice aliquot issue "${AA[3]}" --recipient R-4310 --site "Hospital North"
assert_eq "$(sql "SELECT string_agg(h.action || ':' || h.imputability || ':' || coalesce(h.outcome, '-'), ' ' ORDER BY h.id)
                  FROM fmtbank.recipient_event_history h JOIN fmtbank.recipient_event e ON e.id = h.event_id
                  WHERE e.event_code = '$E1'")" "recorded:not_assessable:- updated:not_assessable:recovering updated:unlikely:recovering" \
    "the append-only history of grades and outcomes"

# a follow-up makes the non-serious event serious: the case on its donor opens then
expect 2 "never back to not serious" fmtbank --user alice recipient event update "$E2" --serious no --reason x
expect 0 "the event became serious" fmtbank --user alice recipient event update "$E2" --serious yes --reason "admitted with dehydration"
assert_contains "$ERR" "case " "a case now"
assert_contains "$ERR" "on donor D-4303: open, holds 1 lot; other recipients to notify: none" "D-4303's lot held, no other recipient"
expect 3 "a fatal outcome of a non-serious event" fmtbank --user alice recipient event update "$E3" --outcome fatal --reason x
assert_contains "$ERR" "it is not serious" "says why"
expect 3 "a death is serious" fmtbank --user alice recipient event add R-4309 --date "$(d 0)" --kind death --serious no --severity severe --description x

# --- scores
expect 0 "a PHQ-9 score" fmtbank --user alice recipient score R-4301 --visit week2 --date "$(d 0)" --item phq9 --value 11
expect 3 "out of range" fmtbank --user alice recipient score R-4301 --visit week8 --date "$(d 0)" --item phq9 --value 28
assert_contains "$ERR" "--value" "names the field"
expect 3 "an unknown item" fmtbank --user alice recipient score R-4301 --visit week8 --date "$(d 0)" --item bdi --value 3
expect 5 "twice for a visit" fmtbank --user alice recipient score R-4301 --visit week2 --date "$(d 0)" --item phq9 --value 12
expect 6 "an auditor records no score" fmtbank --user audrey recipient score R-4301 --visit week8 --date "$(d 0)" --item gad7 --value 3
# many at once from a file: all or nothing, each bad line named
printf 'recipient,visit,date,item,value\nR-4301,week8,%s,phq9,7\nr-4302,week2,%s,gad7,4\n' "$(d 0)" "$(d 0)" >"$TMP/scores.csv"
printf 'recipient,visit,date,item,value\nR-4301,week26,%s,phq9,30\nR-9999,week2,%s,phq9,1\nR-4302,week8,%s,phq9,2\nR-4302,week8,%s,PHQ9,3\n' \
    "$(d 0)" "$(d 0)" "$(d 0)" "$(d 0)" >"$TMP/bad-scores.csv"
before=$(audit_count)
expect 3 "a file with bad lines" fmtbank --user alice recipient score import "$TMP/bad-scores.csv"
assert_contains "$ERR" "bad-scores.csv:2: invalid --value \"30\" for phq9" "line 2: out of range"
assert_contains "$ERR" "bad-scores.csv:3: recipient \"R-9999\" not found" "line 3: unknown recipient"
assert_contains "$ERR" "bad-scores.csv:5: recipient R-4302, visit week8, item phq9 appears on line 4 already" "line 5: twice in the file"
assert_not_contains "$ERR" "bad-scores.csv:4:" "line 4 is good"
printf 'recipient,visit,item,value\n' >"$TMP/header.csv"
expect 3 "a wrong header" fmtbank --user alice recipient score import "$TMP/header.csv"
expect 6 "an auditor imports no score" fmtbank --user audrey recipient score import "$TMP/scores.csv"
expect 4 "a missing file" fmtbank --user alice recipient score import "$TMP/none.csv"
assert_eq "$(audit_count)" "$before" "nothing stored by a refused import"
expect 0 "a good file" fmtbank --user alice recipient score import "$TMP/scores.csv"
assert_contains "$ERR" "imported 2 scores" "both lines"
assert_eq "$(sql "SELECT string_agg(recipient || ':' || visit || ':' || instrument || '=' || value, ' ' ORDER BY id) FROM fmtbank.recipient_score")" \
    "R-4301:week2:phq9=11 R-4301:week8:phq9=7 R-4302:week2:gad7=4" "the scores stored, codes and items normalised"
expect 3 "the same file again: bad lines" fmtbank --user alice recipient score import "$TMP/scores.csv"
assert_contains "$ERR" "scores.csv:2: recipient R-4301 already has a phq9 score for visit week8" "names the score already there"
expect 0 "recipient show lists the score" fmtbank --user audrey recipient show R-4301
assert_contains "$OUT" "week2" "the visit"; assert_contains "$OUT" "phq9" "the item"
# a score corrected, never overwritten
expect 3 "a correction needs a reason" fmtbank --user alice recipient score correct R-4301 --visit week2 --item phq9 --value 12
assert_contains "$ERR" "correcting an outcome score requires a reason" "says so"
expect 4 "no such score" fmtbank --user alice --reason "form" recipient score correct R-4301 --visit week9 --item phq9 --value 12
assert_contains "$ERR" "recipient R-4301 has no phq9 score at visit \"week9\"" "names what is missing"
assert_contains "$ERR" "phq9 at week2, phq9 at week8" "lists its scores"
expect 5 "the value in force already" fmtbank --user alice --reason "form" recipient score correct R-4301 --visit week2 --item phq9 --value 11
expect 3 "out of range" fmtbank --user alice --reason "form" recipient score correct R-4301 --visit week2 --item phq9 --value 40
expect 6 "an auditor corrects nothing" fmtbank --user audrey --reason "form" recipient score correct R-4301 --visit week2 --item phq9 --value 12
expect 2 "--value is required" fmtbank --user alice --reason "form" recipient score correct R-4301 --visit week2 --item phq9
expect 0 "corrected with a reason" fmtbank --user alice --reason "transcription error: the form says 12" \
    recipient score correct R-4301 --visit week2 --item phq9 --value 12
assert_contains "$ERR" "corrected phq9 to 12 for recipient R-4301 at visit week2" "says what was corrected"
expect 0 "recipient show" fmtbank --user audrey --format json recipient show R-4301
assert_eq "$(echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); s=[x for x in d["scores"] if x["visit"]=="week2"][0]; print(s["value"], s["recorded_value"], s["corrections"][0]["reason"], s["corrections"][0]["corrected_by"])')" \
    "12 11 transcription error: the form says 12 alice" "the value in force, the value recorded, the correction with its reason and who"
assert_eq "$(sql "SELECT value FROM fmtbank.recipient_score WHERE recipient = 'R-4301' AND visit = 'week2'")" "11" "the recorded value is kept"

# --- the vigilance report
expect 6 "a technician does not write the report" fmtbank --user alice report vigilance -o "$TMP/v.xlsx"
expect 0 "the vigilance report" fmtbank --user quinn report vigilance --param since="$(d -7)" --param until="$(d 0)" -o "$TMP/v.xlsx"
S=$(DUMP "$TMP/v.xlsx")
assert_contains "$S" "sheets Summary|Events|Imputability|Cases|Holds|Decisions|Notifications" "seven sheets"
assert_contains "$(echo "$S" | grep "^cell Events!A" )" "text $E1" "the event"
assert_contains "$(echo "$S" | grep "^cell Events!C5 ")" "date $(d 0)T00:00:00" "its date, a real date"
assert_contains "$(echo "$S" | grep "^cell Events!E5 ")" "text yes" "serious: yes"
assert_contains "$(echo "$S" | grep "^cell Events!I5 ")" "text D-4301, D-4302" "both donors"
assert_eq "$(echo "$S" | grep -c "^cell Imputability!A[0-9]* text $E1")" "3" "three grades of the infection"
assert_contains "$(echo "$S" | grep "^cell Imputability!G7 ")" "isolate typed" "the reason of the grade"
assert_contains "$(echo "$S" | grep "^cell Cases!")" "signal withdrawn - lift proposed" "the withdrawn case"
assert_contains "$(echo "$S" | grep "^cell Holds!B")" "text $B1" "a held lot"
assert_contains "$(echo "$S" | grep "^cell Decisions!B5 ")" "text lift" "the signed lift"
assert_contains "$(echo "$S" | grep "^cell Notifications!B")" "text R-4302" "R-4302 to notify"
assert_contains "$(echo "$S" | grep "^cell Notifications!B")" "text R-4303" "R-4303 to notify"
assert_not_contains "$(echo "$S" | grep "^cell Notifications!B")" "text R-4301" "not the reporting recipient"
assert_contains "$(echo "$S" | grep "^cell Summary!B6 ")" "int 3" "summary: three events"
assert_contains "$(echo "$S" | grep "^cell Summary!B7 ")" "int 2" "summary: two serious"
assert_contains "$(echo "$S" | grep "^cell Summary!B10 ")" "int 3" "summary: three cases"
assert_contains "$(echo "$S" | grep "^cell Summary!B12 ")" "int 2" "summary: two lots still held (D-4301's lifted)"
expect 0 "an auditor writes it" fmtbank --user audrey report vigilance --param since="$(d -7)" --param until="$(d 0)" -o "$TMP/v2.xlsx"
expect 3 "a malformed date parameter" fmtbank --user quinn report vigilance --param since=soon -o "$TMP/v3.xlsx"
expect 0 "report check" fmtbank --user quinn report check
assert_contains "$OUT" "vigilance: ok" "the definition checks"

done_testing
