#!/usr/bin/env bash
# t0011-import-bytes: every byte of an import file is data or a refused line (issue 15, item 2).
# The CSV is read in C and sent by COPY in text format: a line "\." no longer ends the COPY (it is
# a donor code, refused as invalid), tabs and backslashes are stored as written, one UTF-8 BOM and
# CRLF line ends are accepted; NUL bytes, invalid UTF-8 and control characters other than tab make
# a bad line named by its number; then nothing is stored (exit 3). Donor import, result import
# and the daemon's inbox (fmtbankd --once).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
setup_db
d() { date -d "$1 day" +%F; }
state() { sql "SELECT (SELECT count(*) FROM fmtbank.donor) || '/' || (SELECT count(*) FROM fmtbank.result) || '/' || (SELECT count(*) FROM fmtbank.audit_log)"; }
DH=code,birth_year,sex
RH=donor,test,collected,result,unit,lab
Y=$(d -2)

# bad_case NAME LINE MESSAGE-PART: the donor file $TMP/NAME.donor.csv and the result file
# $TMP/NAME.result.csv are refused, naming LINE; nothing stored.
bad_case() {
    local name=$1 line=$2 msg=$3 kind before
    for kind in donor result; do
        before=$(state)
        expect 3 "$kind import: $name is refused" fmtbank --user alice "$kind" import "$TMP/$name.$kind.csv"
        assert_contains "$ERR" "$name.$kind.csv:$line: $msg" "$kind import: $name: line $line named"
        assert_contains "$ERR" "Nothing was imported" "$kind import: $name: says nothing was imported"
        assert_eq "$OUT" "" "$kind import: $name: prints no identifiers"
        assert_eq "$(state)" "$before" "$kind import: $name: nothing stored, nothing audited"
    done
}

# ---- \. is data: a line "\." alone is a line of one field; as a code it is an invalid code; the
# lines after it are read and validated too
printf '%s\nD-0500,1990,F\n\\.\nD-0501,1990,F\n' "$DH" >"$TMP/eod.donor.csv"
printf '%s\nD-0001,HIV,%s,negative,,Lab\n\\.\nD-0001,NORO,%s,negative,,Lab\n' "$RH" "$Y" "$Y" >"$TMP/eod.result.csv"
bad_case eod 3 '1 field, expected'
printf '%s\nD-0500,1990,F\n\\.,1990,F\nD-0501,1990,Q\n' "$DH" >"$TMP/eod2.donor.csv"
printf '%s\nD-0001,HIV,%s,negative,,Lab\n\\.,HIV,%s,negative,,Lab\nD-0001,NORO,%s,negative,,Lab\n' "$RH" "$Y" "$Y" "$Y" >"$TMP/eod2.result.csv"
bad_case eod2 3 'invalid donor code "\."'
expect 3 "donor import: the line after \\. is validated too" fmtbank --user alice donor import "$TMP/eod2.donor.csv"
assert_contains "$ERR" 'eod2.donor.csv:4: invalid sex "Q"' "line 4 after \\. reported"
assert_contains "$ERR" "2 bad lines" "both lines counted"

# ---- NUL bytes
printf '%s\nD-0500,1990,F\nD-05\00001,1990,F\n' "$DH" >"$TMP/nul.donor.csv"
printf '%s\nD-0001,HIV,%s,negative,,Lab\nD-0001,NORO,%s,negative,,La\000b\n' "$RH" "$Y" "$Y" >"$TMP/nul.result.csv"
bad_case nul 3 'NUL byte at character'

# ---- invalid UTF-8 (a Latin-1 byte, an overlong slash, a lone continuation byte, a surrogate)
printf '%s\nD-0500,1990,F\nD-0501,1990,F\n"D-0502",1990,\xe9\n' "$DH" >"$TMP/latin1.donor.csv"
printf '%s\nD-0001,HIV,%s,negative,,Lab\nD-0001,NORO,%s,negative,,Lab\nD-0001,HEV_IGM,%s,negative,,Labor M\xe9nchen\n' "$RH" "$Y" "$Y" "$Y" >"$TMP/latin1.result.csv"
bad_case latin1 4 'invalid UTF-8 (byte 0xE9)'
LC_ALL=C sed -i '4s/.*/D-0503,1990,F/' "$TMP/latin1.donor.csv"
LC_ALL=C sed -i '4s/.*/D-0001,HEV_IGM,'"$Y"',negative,,Lab/' "$TMP/latin1.result.csv"
printf 'D-05\xc0\xaf3,1990,F\n' >>"$TMP/latin1.donor.csv"
printf 'D-0001,HAV_IGM,%s,negative,,L\xed\xa0\x80b\n' "$Y" >>"$TMP/latin1.result.csv"
expect 3 "donor import: an overlong form is invalid UTF-8" fmtbank --user alice donor import "$TMP/latin1.donor.csv"
assert_contains "$ERR" 'latin1.donor.csv:5: invalid UTF-8 (byte 0xC0) at character 5' "names line and character"
expect 3 "result import: an encoded surrogate is invalid UTF-8" fmtbank --user alice result import "$TMP/latin1.result.csv"
assert_contains "$ERR" 'latin1.result.csv:5: invalid UTF-8 (byte 0xED)' "names the line"

# ---- control characters other than tab: BEL, ESC, a lone CR, vertical tab, DEL, C1 (U+0085)
i=0
for c in '\007' '\033' '\r' '\013' '\177' '\302\205'; do
    i=$((i + 1))
    printf "%s\nD-0500,1990,F\nD-0501,19${c}90,F\n" "$DH" >"$TMP/ctl$i.donor.csv"
    printf "%s\nD-0001,HIV,%s,negative,,Lab\nD-0001,NORO,%s,negative,,La${c}b\n" "$RH" "$Y" "$Y" >"$TMP/ctl$i.result.csv"
    bad_case "ctl$i" 3 'control character U+'
done
assert_contains "$ERR" "U+0085 at character" "a C1 control is named by its code point"

# ---- tabs and backslashes are stored as written; \N is not NULL; BOM and CRLF are accepted
printf '\xef\xbb\xbf%s\r\nD-0001,HIV,%s,negative,,Lab\tOne\r\nD-0001,NORO,%s,negative,,\\N\r\nD-0001,HAV_IGM,%s,negative,,"C:\\\\lab\\t, ""x"""\r\n' \
    "$RH" "$Y" "$Y" "$Y" >"$TMP/good.result.csv"
expect 0 "result import: BOM, CRLF, tab, backslashes" fmtbank --user alice result import "$TMP/good.result.csv"
assert_eq "$(wc -l <<<"$OUT")" "3" "three IDs printed"
labs=$(sql "SELECT string_agg(lab, '|' ORDER BY lab COLLATE \"C\") FROM fmtbank.result WHERE id IN ($(sed "s/.*/'&'/" <<<"$OUT" | paste -sd,))")
assert_eq "$(printf '%s' "$labs" | od -c)" "$(printf 'C:\\\\lab\\t, "x"|Lab\tOne|\\N' | od -c)" \
    "stored byte for byte (tab, \\N and backslashes are data)"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.result WHERE lab IS NULL AND collected = '$Y'")" "0" "\\N did not become NULL"
printf '\xef\xbb\xbf%s\r\nd-0600,1990,f\r\n\r\nD-0601,,\r\n' "$DH" >"$TMP/good.donor.csv"
expect 0 "donor import: BOM, CRLF and a blank line" fmtbank --user alice donor import "$TMP/good.donor.csv"
assert_eq "$OUT" "$(printf 'D-0600\nD-0601')" "codes printed in file order"
printf '\xef\xbb\xbf\xef\xbb\xbf%s\nD-0700,1990,F\n' "$DH" >"$TMP/bom2.donor.csv"
expect 3 "only one BOM is stripped" fmtbank --user alice donor import "$TMP/bom2.donor.csv"
assert_contains "$ERR" 'could not read' "the second BOM makes the header wrong"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.donor WHERE code = 'D-0700'")" "0" "nothing stored"
printf '%s\nD-0701,1990,F\n"D-0702,1990,F\n' "$DH" >"$TMP/quote.donor.csv"
expect 3 "an unterminated quote is a bad line" fmtbank --user alice donor import "$TMP/quote.donor.csv"
assert_contains "$ERR" 'quote.donor.csv:3: unterminated quoted field' "names the line"
printf '%s\nD-0703,1990,F\nD-0704,1990\n' "$DH" >"$TMP/short.donor.csv"
expect 3 "a short line is a bad line" fmtbank --user alice donor import "$TMP/short.donor.csv"
assert_contains "$ERR" 'short.donor.csv:3: 2 fields, expected 3' "names the line"
printf '%s\nD-0705,1990,F\n' "$DH" | fmtbank --user alice donor import - >/dev/null 2>&1
assert_eq "$(sql "SELECT count(*) FROM fmtbank.donor WHERE code = 'D-0705'")" "1" "standard input still works"

# ---- the daemon's inbox: the same reader
before=$(state | cut -d/ -f1-2)
cp "$TMP/eod2.result.csv" "$INBOX/lab-eod.csv"
cp "$TMP/nul.donor.csv" "$INBOX/donors-nul.csv"
cp "$TMP/ctl1.result.csv" "$INBOX/lab-bel.csv"
cp "$TMP/latin1.donor.csv" "$INBOX/donors-utf8.csv"
echo "settle = 0" >"$TMP/fast.conf"
run fmtbankd --once --inbox "$INBOX" --config "$TMP/fast.conf"
# (the inbox checks a whole file's encoding before it reads lines: those reports say "line N")
for f in 'lab-eod.csv:3: invalid donor code "\."' 'donors-nul.csv:line 3 contains a NUL byte' \
         'lab-bel.csv:3: control character U+0007' 'donors-utf8.csv:line 5 contains invalid UTF-8'; do
    name=${f%%:*}
    [[ "$f" == *:line* ]] && f=${f#*:}
    if [ -f "$INBOX/rejected/$name.errors.txt" ]; then
        assert_contains "$(cat "$INBOX/rejected/$name.errors.txt")" "$f" "inbox: $name rejected, line named"
    else
        not_ok "inbox: $name rejected" "no $INBOX/rejected/$name.errors.txt" "$(ls -R "$INBOX")"
    fi
done
assert_eq "$(state | cut -d/ -f1-2)" "$before" "inbox: nothing stored"

done_testing
