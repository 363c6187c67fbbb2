#!/usr/bin/env bash
# t0106-questionnaire-template: questionnaires without hand-built CSVs (issue 14, item 2).
# "questionnaire template --full|--short|--followup" prints the file to fill in from the catalog
# in force (item,answer,question; an item added or retired changes it at once), the filled file is
# recorded as it is (the question column ignored, also after a spreadsheet saved it with ';');
# "questionnaire record --date" defaults to today; "never" answers a date item (and nothing else).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
setup_db
qcount() { sql "select count(*) from fmtbank.questionnaire"; }
items() { # KIND: the items to answer, in the catalog's order
    sql "SELECT code FROM fmtbank.question_item_at(clock_timestamp()) WHERE questionnaire = '$1' AND derived IS NULL ORDER BY sort_order"
}

# ---- the three templates follow the catalog in force
for kind in full short followup; do
    flag=--$kind
    expect 0 "template $flag" fmtbank --user alice questionnaire template "$flag"
    assert_eq "$(head -1 <<<"$OUT")" "item,answer,question" "$kind: the header"
    assert_eq "$(tail -n +2 <<<"$OUT" | cut -d, -f1)" "$(items "$kind")" "$kind: every item to answer, in order"
    assert_eq "$(tail -n +2 <<<"$OUT" | cut -d, -f2 | sort -u)" "" "$kind: every answer empty"
done
expect 0 "template without a flag is the full one" fmtbank --user alice questionnaire template
assert_eq "$(tail -n +2 <<<"$OUT" | cut -d, -f1)" "$(items full)" "the full items"
assert_not_contains "$OUT" "age," "a derived item (age) is not asked"
assert_contains "$OUT" 'antibiotics_last,,"When did you last take antibiotics? [the last time, YYYY-MM-DD, or never]"' "a date item says it takes never"
assert_contains "$OUT" 'phq9,,PHQ-9 depression score (0-27) [a whole number from 0 to 27]' "a number item gives its range"
assert_contains "$OUT" '[yes or no]' "a boolean item says yes or no"
expect 2 "two kinds at once are a usage error" fmtbank --user alice questionnaire template --short --followup
assert_contains "$ERR" "exclude each other" "says why"

# an item added now is in the template at once; a retired one leaves it
expect 0 "admin adds a follow-up item" fmtbank --user adam --reason "new risk" catalog question add followup_rash \
    --questionnaire followup --type boolean --effect defer --defer-days 30 --text "Since your donation, have you had a rash?" --source "site SOP"
expect 0 "template --followup" fmtbank --user alice questionnaire template --followup
assert_contains "$OUT" 'followup_rash,,"Since your donation, have you had a rash? [yes or no]"' "the new item is asked"
expect 0 "admin retires it" fmtbank --user adam --reason "withdrawn" catalog question retire followup_rash
expect 0 "template --followup" fmtbank --user alice questionnaire template --followup
assert_not_contains "$OUT" "followup_rash" "the retired item is no longer asked"

# ---- fill the template in: no, never, numbers; recorded as it is, dated today by default
fmtbank --user alice questionnaire template >"$TMP/t.csv"
awk -F, 'NR == 1 { print; next }
         /YYYY-MM-DD, or never/ { sub(/,,/, ",never,"); print; next }
         /^bmi,/ { sub(/,,/, ",23,"); print; next }
         /^phq9,/ || /^gad7,/ { sub(/,,/, ",2,"); print; next }
         { sub(/,,/, ",no,"); print }' "$TMP/t.csv" >"$TMP/filled.csv"
sed -i 's/^covid_last,never,/covid_last,NEVER,/' "$TMP/filled.csv"
q0=$(qcount)
expect 0 "the filled template is recorded, without --date" fmtbank --user alice questionnaire record D-0001 --file "$TMP/filled.csv"
qid=$OUT
assert_eq "$(sql "SELECT q_date = current_date FROM fmtbank.questionnaire WHERE id = '$qid'")" "t" "dated today"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.questionnaire_answer WHERE questionnaire_id = '$qid'")" "$(items full | wc -l)" "every item answered"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.questionnaire_answer a JOIN fmtbank.question_item_at(clock_timestamp()) q ON q.code = a.item WHERE a.questionnaire_id = '$qid' AND q.type = 'date' AND a.date_value IS NULL AND a.answer = ''")" \
    "$(sql "SELECT count(*) FROM fmtbank.question_item_at(clock_timestamp()) WHERE questionnaire = 'full' AND type = 'date'")" \
    "never (any case) is stored as no date, like an empty answer"

# the same file from a spreadsheet: ';' and a BOM, question column and all
{ printf '\xef\xbb\xbf'; sed 's/^\([^,]*\),\([^,]*\),/\1;\2;/; s/^item,answer,question$/item;answer;question/' "$TMP/filled.csv"; } >"$TMP/semi.csv"
expect 0 "the spreadsheet's copy is recorded (another donor)" fmtbank --user alice questionnaire record D-0002 --file "$TMP/semi.csv"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.questionnaire_answer WHERE questionnaire_id = '$OUT'")" "$(items full | wc -l)" "every item answered"

# ---- refusals: never is not an answer to a yes/no or a number; a wrong third column
sed 's/^prion_risk,no,/prion_risk,never,/; s/^bmi,23,/bmi,never,/' "$TMP/filled.csv" >"$TMP/never.csv"
q0=$(qcount)
expect 3 "never to a yes/no item and a number is refused" fmtbank --user alice questionnaire record D-0003 --file "$TMP/never.csv"
assert_contains "$ERR" 'answer "never" to "prion_risk" must be yes or no' "the boolean line named"
assert_contains "$ERR" 'answer "never" to "bmi" is not a number' "the number line named"
sed 's/^antibiotics_last,never,/antibiotics_last,nevermore,/' "$TMP/filled.csv" >"$TMP/nevermore.csv"
expect 3 "a date item's answer must be a date or never" fmtbank --user alice questionnaire record D-0003 --file "$TMP/nevermore.csv"
assert_contains "$ERR" 'answer "nevermore" to "antibiotics_last" is not a valid date (use YYYY-MM-DD, or never)' "says what it takes"
sed '1s/.*/item,answer,notes/' "$TMP/filled.csv" >"$TMP/notes.csv"
expect 3 "a third column other than question is refused" fmtbank --user alice questionnaire record D-0003 --file "$TMP/notes.csv"
assert_contains "$ERR" 'line 1: expected the header "item,answer" (or "item,answer,question")' "names the header"
sed '3s/$/,extra/' "$TMP/filled.csv" >"$TMP/extra.csv"
expect 3 "a line with a fourth field is refused" fmtbank --user alice questionnaire record D-0003 --file "$TMP/extra.csv"
assert_contains "$ERR" "extra.csv:3: expected 3 fields (item,answer,question), found 4" "names the line"
assert_eq "$(qcount)" "$q0" "nothing stored by the refusals"

# ---- --interactive: each item asked in turn, each answer checked as typed, a refused one asked again
fmtbank --user alice questionnaire template --short >"$TMP/short.csv"
tail -n +2 "$TMP/short.csv" | cut -d, -f1 >"$TMP/short.items"
{
    first=1
    while read -r item; do
        if [ "$first" = 1 ]; then echo "maybe"; first=0; fi # refused, asked again
        echo " No "
    done <"$TMP/short.items"
} >"$TMP/short.answers"
n=$(wc -l <"$TMP/short.items")
q0=$(qcount)
run_in "$TMP/short.answers" fmtbank --user alice questionnaire record D-0003 --short --interactive
assert_eq "$RC" "0" "interactive: recorded"
assert_eq "$(sql "SELECT kind || ' ' || (q_date = current_date) || ' ' || (SELECT count(*) FROM fmtbank.questionnaire_answer a WHERE a.questionnaire_id = q.id) FROM fmtbank.questionnaire q WHERE id = '$OUT'")" \
    "short true $n" "the donation-day questionnaire of today, every item answered"
first_item=$(head -1 "$TMP/short.items")
assert_contains "$ERR" "1/$n " "asks with the item's number"
assert_contains "$ERR" "[yes or no]" "says what it takes"
assert_contains "$ERR" "answer \"maybe\" to \"$first_item\" must be yes or no; again, please" "a refused answer is named at once"
assert_eq "$(grep -c "^1/$n " <<<"$ERR")" "2" "and the item asked again"
assert_eq "$(sql "SELECT answer FROM fmtbank.questionnaire_answer WHERE questionnaire_id = '$OUT' AND item = '$first_item'")" "no" "the second answer kept"
head -2 "$TMP/short.answers" >"$TMP/partial.answers"
q0=$(qcount)
run_in "$TMP/partial.answers" fmtbank --user alice questionnaire record D-0002 --short --interactive
assert_eq "$RC" "3" "interactive: end of input before the last item is refused"
assert_contains "$ERR" "the answers ended before item" "says where it stopped"
assert_contains "$ERR" "Nothing was stored" "nothing stored"
assert_eq "$(qcount)" "$q0" "nothing stored indeed"
run_in "$TMP/short.answers" fmtbank --user audrey questionnaire record D-0002 --short --interactive
assert_eq "$RC" "6" "an auditor may not record (refused at the first answer)"
expect 2 "neither --file nor --interactive" fmtbank --user alice questionnaire record D-0002
assert_contains "$ERR" "missing --file (or --interactive)" "names both"
expect 2 "both --file and --interactive" fmtbank --user alice questionnaire record D-0002 --file "$TMP/filled.csv" --interactive
assert_contains "$ERR" "exclude each other" "says so"

done_testing
