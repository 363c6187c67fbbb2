#!/usr/bin/env bash
# t0350-as-of-stock: "--as-of TS" on lot show|list, release check, aliquot show|list, location
# show, trace and report inventory (product.md §12 "As-of everywhere"). A history is built through
# the CLI (lot entered, processed, tubes stored, one moved, results arriving later, released, a
# dose issued, the lot held by a case, the case decided and closed) with the time captured between
# steps; every command is then asked about each captured moment: states, positions, holds and
# blocking reasons as they were, the as-of answer equal to the present answer given at that
# moment, and byte-identical when asked again after every later event.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

now() { sql "SELECT clock_timestamp()"; }
# asof NAME CMD...: runs "fmtbank --user audrey CMD... --as-of $T_NAME" and keeps its output
# (stdout, then the exit code) in $TMP/asof.NAME for the comparison at the end
declare -a ASKED=()
asof() {
    local name=$1 at=$2
    shift 2
    run fmtbank --user audrey "$@" --as-of "$at"
    printf '%s\n--rc %s\n' "$OUT" "$RC" >"$TMP/asof.$name"
    ASKED+=("$name|$at|$*")
}
# json FIELD: the value of a top-level field of the JSON object in $OUT
json() { python3 -c 'import json,sys; v=json.loads(sys.stdin.read())[sys.argv[1]]; print(v if isinstance(v,str) else json.dumps(v))' "$1" <<<"$OUT"; }
# rules: the blocking rules of the lot JSON in $OUT, comma-separated
rules() { python3 -c 'import json,sys; print(",".join(b["rule"] for b in json.loads(sys.stdin.read())["blocking"]))' <<<"$OUT"; }
# same_as_present NAME: the JSON in $OUT without as_of equals the present answer kept in $TMP/now.NAME
same_as_present() {
    local a
    a=$(python3 -c 'import json,sys; o=json.loads(sys.stdin.read()); o.pop("as_of"); print(json.dumps(o, sort_keys=True))' <<<"$OUT")
    assert_eq "$a" "$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read()), sort_keys=True))' <"$TMP/now.$1")" "$1: the as-of answer is the answer given then"
}
keep_now() { # NAME CMD...: the present answer, for same_as_present
    local name=$1
    shift
    fmtbank --user audrey "$@" >"$TMP/now.$name" 2>/dev/null
}

F=$(fmtbank --user adam freezer add "As-of freezer" --temp -80)
B=$(fmtbank --user adam box add --freezer "$F" --rows 2 --cols 3)
rel_donor D-7001
T0=$(now)

# --- entered, not processed
rel_short D-7001 "$(d -40)"
L=$(rel_lot D-7001 "$(d -40) 08:30")
T1=$(now)
keep_now lot1 --format json lot show "$L"

# --- processed: 3 doses and the retained sample
rel_process "$L" "$(d -40) 10:00" 3 >/dev/null
mapfile -t A < <(aliquots_of "$L")
assert_eq "${#A[@]}" "4" "4 aliquots"
rel_followup D-7001 "$(d -12)"
T2=$(now)
keep_now lot2 --format json lot show "$L"

# --- stored in the box (row-major: A1, A2, A3, B1), then one tube moved to B3
printf '%s\n' "$B" "${A[@]}" | fmtbank --user alice scan >/dev/null 2>&1
assert_eq "$(sql "SELECT count(*) FROM fmtbank.placement WHERE aliquot IS NOT NULL")" "4" "4 tubes stored"
T3=$(now)
keep_now alq3 --format json aliquot show "${A[1]}"
fmtbank --user alice aliquot move "${A[1]}" --to "$B:B3" >/dev/null 2>&1
T4=$(now)
keep_now alq4 --format json aliquot show "${A[1]}"

# --- the results arrive later: the lot becomes ready
rel_panel D-7001 "$(d -60)"
rel_panel D-7001 "$(d -25)"
T5=$(now)
keep_now lot5 --format json lot show "$L"

# --- released, a dose issued
sign "$L"
assert_eq "$RC" "0" "released: $ERR"
T6=$(now)
fmtbank --user alice aliquot issue "${A[2]}" --recipient R-0701 --site "Site North" >/dev/null 2>&1
T7=$(now)
keep_now alq7 --format json aliquot show "${A[2]}"

# --- held by a case, the hold lifted, the recipient notified, the case closed
C=$(fmtbank --user alice hold add --lot "$L" --reason "donor reported fever after donation" 2>/dev/null)
T8=$(now)
keep_now lot8 --format json lot show "$L"
printf 'quinn-signs-1\n' >"$TMP/pw"
fmtbank --user quinn case decide "$C" --lift --meaning "Fever unrelated" --password-stdin <"$TMP/pw" >/dev/null 2>&1
fmtbank --user quinn case notify "$C" --recipient R-0701 --by phone --at "$(d -1) 23:55" >/dev/null 2>&1
expect 0 "close the case" fmtbank --user quinn case close "$C" --reason "lifted and notified"
T9=$(now)
keep_now lot9 --format json lot show "$L"

# ------------------------------------------------------------------ lot show / release check
asof lot0 "$T0" --format json lot show "$L"
assert_eq "$RC" "4" "before it was entered the lot is not found"
assert_contains "$ERR" "had not been entered at" "says so"

asof lot1 "$T1" --format json lot show "$L"
assert_eq "$RC" "0" "lot show at T1"
assert_eq "$(json status)" "quarantine" "T1: quarantine"
assert_eq "$(json aliquots)" "0" "T1: no aliquot yet"
assert_eq "$(json processed_at)" "null" "T1: not processed"
assert_contains "$(rules)" "processing" "T1: blocked by processing"
assert_contains "$OUT" "not processed yet" "T1: the reason as it was"
same_as_present lot1

asof lot2 "$T2" --format json lot show "$L"
assert_eq "$(json aliquots)" "4" "T2: 4 aliquots"
assert_eq "$(rules)" "pre_panel,post_panel" "T2: only the panels block (no result recorded yet)"
same_as_present lot2

asof lot5 "$T5" --format json lot show "$L"
assert_eq "$(json status)" "ready" "T5: ready"
assert_eq "$(json blocking)" "[]" "T5: nothing blocks"
assert_eq "$(json stored_status)" "quarantine" "T5: stored quarantine (no sweep ran)"
same_as_present lot5

asof rc2 "$T2" release check "$L"
assert_eq "$RC" "5" "release check at T2: not releasable (exit 5)"
assert_contains "$ERR" "was not releasable at $T2" "says when"
assert_contains "$OUT" "pre_panel" "with the reasons of then"
asof rc5 "$T5" release check "$L"
assert_eq "$RC" "0" "release check at T5: releasable"
assert_contains "$ERR" "was releasable at $T5" "says when"
asof rc6 "$T6" --format json release check "$L"
assert_eq "$RC" "5" "release check at T6: released, so not releasable again"
assert_eq "$(json status)" "released" "T6: released"
assert_eq "$(json held)" "false" "T6: not held"

asof lot8 "$T8" --format json lot show "$L"
assert_eq "$(json status)" "released" "T8: released"
assert_eq "$(json held)" "true" "T8: held"
assert_contains "$(json holds)" "$C" "T8: by the case"
assert_eq "$(rules)" "status,hold" "T8: blocked by status and hold"
same_as_present lot8

asof lot9 "$T9" --format json lot show "$L"
assert_eq "$(json held)" "false" "T9: the hold ended by the decision"
assert_eq "$(json holds)" "[]" "T9: no hold in force"
same_as_present lot9

asof lot7 "$T7" --format json lot show "$L"
assert_eq "$(json held)" "false" "T7: not yet held"
assert_eq "$(json as_of)" "$(sql "SELECT to_json('$T7'::timestamptz) #>> '{}'")" "JSON carries as_of"

asof lotday "$(d -1)" --format json lot show "$L"
assert_eq "$RC" "4" "a date is the end of that day: yesterday the lot had not been entered"

# ------------------------------------------------------------------ lot list
asof list1 "$T1" --format tsv lot list
assert_contains "$OUT" "$L	D-7001	quarantine" "T1 list: the lot, quarantine"
asof list5r "$T5" --format tsv lot list --status ready
assert_contains "$OUT" "$L" "T5 list --status ready: the lot"
asof list6r "$T6" --format tsv lot list --status ready
assert_not_contains "$OUT" "$L" "T6 list --status ready: not any more"
asof list8h "$T8" --format tsv lot list --held
assert_contains "$OUT" "$L" "T8 list --held: held"
asof list9h "$T9" --format tsv lot list --held
assert_not_contains "$OUT" "$L" "T9 list --held: not held"
asof list0 "$T0" --format tsv lot list
assert_not_contains "$OUT" "$L" "T0 list: not entered yet"
asof listbad "$T5" lot list --status bogus
assert_eq "$RC" "2" "a bad --status is refused with --as-of too"

# ------------------------------------------------------------------ aliquots
asof alq2 "$T2" --format json aliquot show "${A[1]}"
assert_eq "$(json status)" "quarantine" "T2: tube in quarantine"
assert_eq "$(json box)" "null" "T2: not stored yet"
asof alq3 "$T3" --format json aliquot show "${A[1]}"
assert_eq "$(json box):$(json position)" "$B:A2" "T3: stored in A2"
same_as_present alq3
asof alq4 "$T4" --format json aliquot show "${A[1]}"
assert_eq "$(json box):$(json position)" "$B:B3" "T4: moved to B3"
same_as_present alq4
asof alq6 "$T6" --format json aliquot show "${A[2]}"
assert_eq "$(json status)" "released" "T6: released"
asof alq7 "$T7" --format json aliquot show "${A[2]}"
assert_eq "$(json status)" "issued" "T7: issued"
assert_eq "$(json box)" "null" "T7: out of the box"
same_as_present alq7
asof alq8 "$T8" --format json aliquot show "${A[1]}"
assert_eq "$(json held)" "true" "T8: tube held"
asof alq9 "$T9" --format json aliquot show "${A[1]}"
assert_eq "$(json held)" "false" "T9: tube no longer held"
asof alq1 "$T1" aliquot show "${A[1]}"
assert_eq "$RC" "4" "T1: the tube had not been made"

asof alist3 "$T3" --format tsv aliquot list --box "$B"
assert_eq "$(cut -f2,6,7 <<<"$OUT" | tail -n +2 | sort | tr '\n' ' ')" \
    "${A[0]}	$B	A1 ${A[1]}	$B	A2 ${A[2]}	$B	A3 ${A[3]}	$B	B1 " "T3 list --box: four tubes, row-major"
asof alist7 "$T7" --format tsv aliquot list --lot "$L" --status issued
assert_eq "$(tail -n +2 <<<"$OUT" | cut -f2)" "${A[2]}" "T7 list --status issued: the issued dose"
asof alist6 "$T6" --format tsv aliquot list --lot "$L" --status issued
assert_eq "$(tail -n +2 <<<"$OUT" | wc -l)" "0" "T6 list --status issued: none yet"
asof alist8 "$T8" --format tsv aliquot list --held
assert_eq "$(tail -n +2 <<<"$OUT" | wc -l)" "4" "T8 list --held: the 4 tubes of the lot"

# ------------------------------------------------------------------ location show
asof loc2 "$T2" --format json location show "$B"
assert_eq "$(json occupied)" "0" "T2: the box was empty"
asof loc3 "$T3" --format tsv location show "$B"
assert_eq "$(tail -n +2 <<<"$OUT" | cut -f2 | tr '\n' ' ')" "A1 A2 A3 B1 " "T3: A1 A2 A3 B1"
asof loc4 "$T4" --format tsv location show "$B"
assert_eq "$(tail -n +2 <<<"$OUT" | cut -f2 | tr '\n' ' ')" "A1 A3 B1 B3 " "T4: A2 moved to B3"
asof loc7 "$T7" --format json location show "$B"
assert_eq "$(json occupied)" "3" "T7: the issued dose left the box"
asof locmap "$T4" location show "$B"
assert_contains "$OUT" "4 occupied, 2 free; as of" "the map says when"
asof loc0 "$T0" location show "$B"
assert_eq "$RC" "0" "the box existed at T0"
asof locbefore "$(d -2)" location show "$B"
assert_eq "$RC" "4" "before the box was registered: not found"

# ------------------------------------------------------------------ trace
asof tr1 "$T1" --format tsv trace "$L"
assert_contains "$OUT" "donation" "T1 trace: the donation"
assert_contains "$OUT" "; quarantine" "T1 trace: the lot's status as it was stored then"
assert_not_contains "$OUT" "released" "T1 trace: nothing of the release"
assert_not_contains "$OUT" "processed" "T1 trace: nor the processing"
asof tr8 "$T8" --format tsv trace "$L"
assert_contains "$OUT" "; released" "T8 trace: released then"
assert_contains "$OUT" "held" "T8 trace: the hold"
assert_not_contains "$OUT" "case decision" "T8 trace: not the later decision"

# ------------------------------------------------------------------ report inventory
expect 0 "inventory as of T4" fmtbank --user audrey report inventory --as-of "$T4" -o "$TMP/inv4.xlsx"
expect 0 "inventory as of T7" fmtbank --user audrey report inventory --as-of "$T7" -o "$TMP/inv7.xlsx"
/usr/bin/python3 - "$TMP/inv4.xlsx" "$TMP/inv7.xlsx" "$B" "${A[1]}" "${A[2]}" >"$TMP/inv.out" 2>&1 <<'PY'
import sys, openpyxl
inv4, inv7, box, a1, a2 = sys.argv[1:]
def cells(path, sheet):
    ws = openpyxl.load_workbook(path)[sheet]
    return [[c.value for c in r] for r in ws.iter_rows()]
def find(rows, value):
    return [r for r in rows if value in r]
r4 = find(cells(inv4, "Aliquots"), a1)
print("T4 position", r4[0][3] if r4 else None)
r7 = find(cells(inv7, "Aliquots"), a2)
print("T7 issued in a box", bool(r7))
u7 = find(cells(inv7, "Not in a box"), a2)
print("T7 not in a box", u7[0][3] if u7 else None)
s4 = find(cells(inv4, "By state"), "quarantine")
print("T4 quarantine", s4[0][1] if s4 else None)
PY
inv=$(cat "$TMP/inv.out")
assert_contains "$inv" "T4 position B3" "inventory T4: the moved tube in B3"
assert_contains "$inv" "T7 issued in a box False" "inventory T7: the issued dose is not in a box"
assert_contains "$inv" "T7 not in a box issued" "inventory T7: it is listed as issued"
assert_contains "$inv" "T4 quarantine 4" "inventory T4: 4 tubes in quarantine (before the release)"
expect 3 "inventory --as-of must be a time" fmtbank --user audrey report inventory --as-of yesterday -o "$TMP/bad.xlsx"

# ------------------------------------------------------------------ nothing changes afterwards
# a later event still: the sweep stores the states, a tube is discarded
fmtbank --user alice --reason "cracked" aliquot discard "${A[3]}" >/dev/null 2>&1
sql "SELECT fmtbank.sweep_release()" >/dev/null 2>&1
for entry in "${ASKED[@]}"; do
    IFS='|' read -r name at args <<<"$entry"
    # shellcheck disable=SC2086
    run fmtbank --user audrey $args --as-of "$at"
    printf '%s\n--rc %s\n' "$OUT" "$RC" >"$TMP/again.$name"
    if cmp -s "$TMP/asof.$name" "$TMP/again.$name"; then
        ok "$name: the same answer after later events"
    else
        not_ok "$name: the answer changed after later events" "$(diff "$TMP/asof.$name" "$TMP/again.$name" | head -10)"
    fi
done

done_testing
