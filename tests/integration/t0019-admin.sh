#!/usr/bin/env bash
# t0019-admin: what an administrator meets: "cmake --install" (make install) into a prefix whose
# binary uses its installed data, the manual page and the bash completion made from the command
# table, the hint naming "user add" for an unknown user, --format csv, tables fitted to the
# terminal's width, and no JSON inside a table's cells.
. "$(dirname "$0")/lib.sh"
setup_db

# --- install into a temporary prefix; the installed binary uses PREFIX/share/fmtbank
PREFIX="$TMP/prefix"
if cmake --install "$FMTBANK_BIN" --prefix "$PREFIX" >"$TMP/install.log" 2>&1; then
    ok "cmake --install into a prefix"
else
    not_ok "cmake --install failed" "$(tail -5 "$TMP/install.log")"
fi
for f in bin/fmtbank bin/fmtbankd share/fmtbank/schema share/fmtbank/reports \
    lib/fmtbank/fmtbank_auth.so share/man/man1/fmtbank.1 share/bash-completion/completions/fmtbank; do
    [ -e "$PREFIX/$f" ] && ok "installed $f" || not_ok "not installed: $f"
done
expect 0 "the installed binary lists the reports" "$PREFIX/bin/fmtbank" --user audrey --format tsv report list
assert_contains "$OUT" "$PREFIX/share/fmtbank/reports" "from its installed reports directory"
assert_not_contains "$OUT" "$FMTBANK_SRC/reports" "not from the source tree"
expect 0 "the installed binary runs a command" "$PREFIX/bin/fmtbank" --user audrey donor list
assert_contains "$OUT" "D-0001" "against the database"

# --- the manual page: renders without a warning, documents every command and option
MAN="$PREFIX/share/man/man1/fmtbank.1"
MANWIDTH=100 man --warnings -l "$MAN" >"$TMP/man.txt" 2>"$TMP/man.err"
[ -s "$TMP/man.txt" ] && ok "man -l renders the page" || not_ok "man -l rendered nothing" "$(cat "$TMP/man.err")"
[ ! -s "$TMP/man.err" ] && ok "without a warning" || not_ok "man warnings" "$(head -5 "$TMP/man.err")"
expect 0 "fmtbank --help" fmtbank --help
commands=$(printf '%s\n' "$OUT" | sed -n '/^Commands:/,/^$/p' | grep '^  ' | cut -c3-26 | sed 's/ *$//')
n=0 missing=""
while read -r c; do
    [ -n "$c" ] || continue
    n=$((n + 1))
    grep -q "^   $c\$" "$TMP/man.txt" || missing+="$c; "
done <<<"$commands"
[ "$n" -ge 40 ] && [ -z "$missing" ] && ok "the page has a section for each of the $n commands" ||
    not_ok "commands missing from the man page ($n listed): $missing"
grep -q -- "--birth-year YEAR" "$TMP/man.txt" && grep -q -- "--password-stdin" "$TMP/man.txt" &&
    grep -q "EXIT STATUS" "$TMP/man.txt" && grep -q "database unavailable" "$TMP/man.txt" &&
    ok "options and exit codes documented" || not_ok "options or exit codes missing from the page"
expect 0 "fmtbank help --man is the installed page" fmtbank help --man
[ "$OUT" = "$(cat "$MAN")" ] && ok "same page" || not_ok "the installed page differs from help --man"
expect 0 "help COMMAND is COMMAND --help" fmtbank help donor add
assert_contains "$OUT" "Usage: fmtbank donor add CODE" "help donor add"
expect 2 "help of an unknown command" fmtbank help frobnicate
assert_contains "$ERR" 'unknown command "frobnicate"' "named"
expect 2 "--man and --bash-completion together" fmtbank help --man --bash-completion

# --- bash completion: commands, subcommands, options, choices
COMP="$PREFIX/share/bash-completion/completions/fmtbank"
complete_words() { # WORDS...: what the completion proposes for the last (partial) word
    bash --norc -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
        _fmtbank; printf "%s\n" "${COMPREPLY[@]}"; complete -p fmtbank' _ "$COMP" "$@"
}
out=$(complete_words fmtbank "")
assert_contains "$out" "complete -F _fmtbank fmtbank" "complete -p registers the function"
for w in donor lot aliquot audit catalog help user; do
    grep -qx "$w" <<<"$out" || not_ok "first word $w not proposed" "$out"
done
[ "$(grep -cx 'add' <<<"$out")" = 0 ] && ok "first words: the command groups" || not_ok "subcommand proposed first"
out=$(complete_words fmtbank don)
[ "$(printf '%s\n' "$out" | grep -v '^complete' | sort | tr '\n' ' ')" = "donation donor " ] &&
    ok "prefix completion: donation donor" || not_ok "don -> $out"
out=$(complete_words fmtbank --user alice catalog test "")
[ "$(printf '%s\n' "$out" | grep -v '^complete' | sort | tr '\n' ' ')" = "add change retire " ] &&
    ok "after a global option and a group: its commands" || not_ok "catalog test -> $out"
out=$(complete_words fmtbank donor add D-1 --b)
grep -qx -- "--birth-year" <<<"$out" && ok "a command's options" || not_ok "--b -> $out"
out=$(complete_words fmtbank lot list --status "")
grep -qx released <<<"$out" && grep -qx quarantine <<<"$out" && ok "an option's allowed values" ||
    not_ok "--status -> $out"
out=$(complete_words fmtbank --format c)
grep -qx csv <<<"$out" && ok "--format csv proposed" || not_ok "--format -> $out"

# --- an unknown user is told about "user add"
expect 6 "an unknown user" fmtbank --user nobody donor list
assert_contains "$ERR" 'user add nobody --role ROLE' "the hint names user add"
pgpass_add ghost some-password-1
expect 6 "an unknown user with a password" fmtbank --user ghost donor list
assert_contains "$ERR" 'password authentication failed for user "ghost"' "the server's message"
assert_contains "$ERR" 'user add ghost --role ROLE' "the hint names user add"

# --- --format csv: RFC 4180, one row per record, the table's cells (no JSON)
expect 0 "csv" fmtbank --user audrey --format csv catalog tests
printf '%s\n' "$OUT" >"$TMP/tests.csv"
expect 0 "tsv" fmtbank --user audrey --format tsv catalog tests
tsv_rows=$(printf '%s\n' "$OUT" | wc -l)
read -r rows cols phases < <(/usr/bin/python3 -c '
import csv, sys
r = list(csv.reader(open(sys.argv[1], newline="")))
hiv = [x for x in r if x[0] == "HIV"][0]
print(len(r), len(set(len(x) for x in r)), hiv[r[0].index("required")].replace(" ", "_"))' "$TMP/tests.csv")
assert_eq "$rows" "$tsv_rows" "as many csv records as tsv lines"
assert_eq "$cols" "1" "every record has the same number of fields"
assert_eq "$phases" "pre,_post" "a value with a comma is quoted (and a JSON array shown as a list)"
expect 0 "csv of one object" fmtbank --user audrey --format csv donor show D-0001
assert_contains "$OUT" "code,status," "a header line"
expect 2 "an unknown format" fmtbank --format xml donor list
assert_contains "$ERR" "table, tsv, json or csv" "csv among the formats"

# --- no JSON inside a table's cells
for c in "status" "catalog tests" "questionnaire list D-0001" "audit log --table screening_test" \
    "audit log --table donor_consent" "donor list" "lot list" "case list" "todo"; do
    expect 0 "$c" fmtbank --user audrey $c
    if grep -qE '\{"|\["|\[\]|\[\{' <<<"$OUT"; then
        not_ok "JSON in the table of $c" "$(grep -E '\{"|\["|\[\]|\[\{' <<<"$OUT" | head -3)"
    else
        ok "no JSON in the table of $c"
    fi
done
expect 0 "status as JSON keeps its counts array" fmtbank --user audrey --format json status
assert_contains "$OUT" '"counts":[{"entity"' "json unchanged"

# --- tables fitted to the terminal: at a terminal 80 columns wide no line is wider; piped, whole
at_tty() { # COLS CMD...: runs CMD at a pseudo-terminal COLS wide, its output (no CRs) in $OUT
    local cols=$1
    shift
    script -qec "stty cols $cols; $(printf '%q ' "$@")" /dev/null >"$TMP/tty" 2>&1 </dev/null
    RC=$?
    OUT=$(tr -d '\r' <"$TMP/tty")
}
widest() { awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' <<<"$1"; }
expect 0 "catalog tests piped" fmtbank --user audrey catalog tests
piped=$(widest "$OUT")
[ "$piped" -gt 100 ] && ok "piped: lines whole ($piped columns)" || not_ok "piped lines cut: $piped"
at_tty 100 fmtbank --user audrey catalog tests
assert_eq "$RC" 0 "catalog tests at a terminal"
w=$(widest "$OUT")
[ "$w" -le 100 ] && ok "at a 100-column terminal: $w columns" || not_ok "too wide: $w" "$OUT"
assert_contains "$OUT" "HIV-1/2" "a long name wrapped within its column"
assert_contains "$OUT" "(40 rows)" "every row"
[ "$(grep -c '^HIV ' <<<"$OUT")" = 1 ] && ok "the table shape kept" || not_ok "HIV row missing"
at_tty 80 fmtbank --user audrey audit log --table screening_test
w=$(widest "$OUT")
[ "$w" -le 80 ] && ok "audit log at 80 columns: $w columns" || not_ok "too wide: $w" "${OUT:0:2000}"
assert_contains "$OUT" "-[ 1 ]---" "rows too tall to wrap are records"
assert_contains "$OUT" "changes  code: HIV; test_no: HIV;" "a record's field and its wrapped value"
COLUMNS=60 at_tty 120 fmtbank --user audrey status
w=$(widest "$OUT")
[ "$w" -le 60 ] && ok "COLUMNS sets the width: $w" || not_ok "COLUMNS ignored: $w" "$OUT"
assert_contains "$OUT" "donor registered: " "status counts as text"

done_testing
