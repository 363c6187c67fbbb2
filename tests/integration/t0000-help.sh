#!/usr/bin/env bash
# t0000-help: --help of every command (from the command table), --version, usage errors.
. "$(dirname "$0")/lib.sh"

expect 0 "fmtbank --help" fmtbank --help
assert_contains "$OUT" "Exit codes:" "--help documents exit codes"
assert_contains "$OUT" "7  database unavailable" "--help lists code 7"
commands=$(printf '%s\n' "$OUT" | sed -n '/^Commands:/,/^$/p' | awk 'NF>1 && /^  /{print $1" "$2}')
n=0
while read -r w1 w2; do
    # one-word commands have their summary as the second word: retry with one word
    if fmtbank "$w1" "$w2" --help >/dev/null 2>&1 && fmtbank "$w1" "$w2" --help | grep -q "^Usage: fmtbank $w1 $w2"; then
        n=$((n + 1)); continue
    fi
    expect 0 "$w1 --help" fmtbank "$w1" --help
    assert_contains "$OUT" "Usage: fmtbank $w1" "$w1 --help shows its usage"
    n=$((n + 1))
done <<<"$commands"
[ "$n" -ge 10 ] && ok "help checked for $n commands" || not_ok "too few commands found: $n"

for c in "donor add" "user add" "db psql" "audit verify" "init"; do
    expect 0 "$c --help" fmtbank $c --help
    assert_contains "$OUT" "Usage: fmtbank $c" "$c --help usage line"
done

expect 0 "--version" fmtbank --version
assert_contains "$OUT" "fmtbank 0." "version printed"
expect 0 "fmtbankd --version" fmtbankd --version
expect 0 "fmtbankd --help" fmtbankd --help

expect 2 "no command is a usage error" fmtbank
expect 2 "unknown command" fmtbank frobnicate
assert_contains "$ERR" 'unknown command "frobnicate"' "names the unknown command"
expect 2 "unknown option" fmtbank donor add D-0001 --colour red
assert_contains "$ERR" 'unknown option "--colour"' "names the unknown option"
expect 2 "bad --format" fmtbank --format xml status
assert_contains "$ERR" 'invalid value "xml" for "--format"' "names the bad format"
expect 2 "missing option value" fmtbank donor add D-0001 --sex
expect 2 "group without verb" fmtbank donor
assert_contains "$ERR" "donor add" "group usage lists its commands"
expect 0 "group --help" fmtbank donor --help
expect 2 "fmtbankd bad option" fmtbankd --bogus

done_testing
