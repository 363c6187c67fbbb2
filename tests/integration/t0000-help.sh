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
HELP=$OUT
# Every configuration key the daemon accepts is documented by --help (one declaration for both).
printf 'surprise = 1\n' >"$TMP/keys.conf"
expect 2 "fmtbankd unknown setting" fmtbankd --once --config "$TMP/keys.conf"
keys=$(printf '%s\n' "$ERR" | sed -n 's/.*Settings: \(.*\)\./\1/p' | tr -d ',')
[ "$(wc -w <<<"$keys")" -ge 10 ] && ok "the unknown-setting hint lists the keys" || not_ok "keys: $keys"
for k in $keys; do
    assert_contains "$HELP" "[key $k]" "fmtbankd --help documents the setting $k"
done
assert_contains "$HELP" "(default 60)" "fmtbankd --help shows the defaults"
expect 2 "fmtbankd bad choice" fmtbankd --once --log-level loud
assert_contains "$ERR" 'invalid value "loud" for "--log-level"' "names the value and the option"

expect 2 "no command is a usage error" fmtbank
expect 2 "unknown command" fmtbank frobnicate
assert_contains "$ERR" 'unknown command "frobnicate"' "names the unknown command"
expect 2 "unknown option" fmtbank donor add D-0001 --colour red
assert_contains "$ERR" 'unknown option "--colour"' "names the unknown option"
expect 2 "bad --format" fmtbank --format xml status
assert_contains "$ERR" 'invalid value "xml" for "--format"' "names the bad format"
expect 2 "missing option value" fmtbank donor add D-0001 --sex
expect 2 "bad choice, before any connection" fmtbank --db "host=/nonexistent" lot list --status gone
assert_contains "$ERR" 'invalid value "gone" for "--status"' "names the bad value"
assert_contains "$ERR" "Use quarantine, ready, released, rejected or recalled." "lists the choices"
expect 2 "required option, before any connection" fmtbank --db "host=/nonexistent" freezer add F9
assert_contains "$ERR" "missing --temp" "names the required option"
assert_contains "$ERR" "Usage: fmtbank freezer add NAME --temp C [--site S]" "with the usage"
expect 2 "too many arguments" fmtbank --db "host=/nonexistent" donor show D-0001 D-0002
assert_contains "$ERR" 'unexpected argument "D-0002"' "names the extra argument"
expect 2 "--name=value and a missing partner" fmtbank --db "host=/nonexistent" audit verify --anchors=a.log
assert_contains "$ERR" "missing --pub (it goes with --anchors)" "names the partner"
expect 0 "an option's --help" fmtbank box add --help
assert_contains "$OUT" "  --rows N" "lists the options"
expect 2 "group without verb" fmtbank donor
assert_contains "$ERR" "donor add" "group usage lists its commands"
expect 0 "group --help" fmtbank donor --help
expect 2 "fmtbankd bad option" fmtbankd --bogus

done_testing
