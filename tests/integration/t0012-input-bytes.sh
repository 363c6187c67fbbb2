#!/usr/bin/env bash
# t0012-input-bytes: every input byte is data or refused. Questionnaire answers and scans refuse a
# NUL byte, invalid UTF-8 and control characters naming the line (and character), storing nothing; a
# UTF-8 byte order mark and CRLF are accepted. Label and report outputs are only ever regular
# files (a FIFO, a symbolic link, a device node, a directory are refused, never written through).
# Messages escape control characters; a negative positional value is not an option;
# libxlsxwriter's own "[ERROR]" lines become part of fmtbank's message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inventory.sh"
setup_db

qcount() { sql "select count(*) from fmtbank.questionnaire"; }
acount() { sql "select count(*) from fmtbank.questionnaire_answer"; }
# refused FILE DESCRIPTION EXPECTED_MESSAGE...: exit 3, each message printed, nothing stored
refused() {
    local file=$1 desc=$2
    shift 2
    local before
    before="$(qcount)/$(acount)/$(audit_count)"
    expect 3 "$desc: refused" fmtbank --user alice questionnaire record D-0001 --date "$(d 0)" --file "$file"
    for m in "$@"; do assert_contains "$ERR" "$m" "$desc: $m"; done
    assert_eq "$(qcount)/$(acount)/$(audit_count)" "$before" "$desc: nothing stored"
}

# ---------------------------------------------------------------- questionnaire answers
write_full "$TMP/full.csv"
grep -v '^bmi,' "$TMP/full.csv" >"$TMP/nobmi.csv"
n=$(($(wc -l <"$TMP/full.csv")))
{ cat "$TMP/nobmi.csv"; printf 'bmi,2\0003\n'; } >"$TMP/nul.csv"
refused "$TMP/nul.csv" "a NUL byte in an answer" "nul.csv:$n: NUL byte at character 6"
{ cat "$TMP/nobmi.csv"; printf 'bmi,23\xe9\n'; } >"$TMP/latin1.csv"
refused "$TMP/latin1.csv" "invalid UTF-8 in an answer" "latin1.csv:$n: invalid UTF-8 (byte 0xE9) at character 7"
{ cat "$TMP/nobmi.csv"; printf 'bmi,\033[31m23\n'; } >"$TMP/esc.csv"
refused "$TMP/esc.csv" "an escape sequence in an answer" "esc.csv:$n: control character U+001B at character 5 (only tab is allowed)"
assert_not_contains "$ERR" $'\033' "no raw escape character printed"
{ cat "$TMP/nobmi.csv"; printf '\007bmi,23\n'; } >"$TMP/bell.csv"
refused "$TMP/bell.csv" "a control character in an item" "bell.csv:$n: control character U+0007 at character 1"
{ cat "$TMP/nobmi.csv"; printf 'bmi,"23\tx"\n'; } >"$TMP/tab.csv"
refused "$TMP/tab.csv" "a tab is data (and here not a number)" "tab.csv:$n: answer"
{ printf '\xef\xbb\xbf'; sed 's/$/\r/' "$TMP/full.csv"; } >"$TMP/bom-crlf.csv"
expect 0 "a UTF-8 byte order mark and CRLF line ends are accepted" \
    fmtbank --user alice questionnaire record D-0001 --date "$(d 0)" --file "$TMP/bom-crlf.csv"
assert_eq "$(sql "select answer from fmtbank.questionnaire_answer where questionnaire_id = '$OUT' and item = 'bmi'")" \
    "23" "the answers are stored without the CR"

# ---------------------------------------------------------------- scans
B1=$(inv_box 8 12)
LOT=$(inv_lot D-0001 2 600)
mapfile -t AL < <(inv_process "$LOT" 6)
assert_eq "${#AL[@]}" "7" "6 doses and a retained sample"
stored() { sql "SELECT count(*) FROM fmtbank.placement p JOIN fmtbank.aliquot a ON a.id = p.aliquot WHERE a.aliquot_id = '$1'"; }
printf '\xef\xbb\xbf%s\r\n%s\0x\r\n%s\xff\r\n%s\r\n' "$B1" "${AL[0]}" "${AL[1]}" "${AL[2]}" >"$TMP/scan.in"
run_in "$TMP/scan.in" fmtbank --user alice scan
assert_contains "$OUT" "OK box $B1" "a byte order mark and CRLF before the first scan are fine"
assert_contains "$OUT" "ERR unreadable scan on line 2 (a NUL byte)" "a NUL byte: refused naming the line"
assert_contains "$OUT" "ERR unreadable scan on line 3 (invalid UTF-8)" "invalid UTF-8: refused naming the line"
assert_contains "$OUT" "OK stored ${AL[2]} in $B1:A1" "the next scan goes on"
assert_eq "$(stored "${AL[0]}")/$(stored "${AL[1]}")/$(stored "${AL[2]}")" "0/0/1" "nothing of the refused lines stored"
assert_contains "$OUT" "SUMMARY 4 scans: 2 OK, 2 refused" "the summary counts them"
assert_eq "$(printf '%s' "$OUT" | LC_ALL=C grep -c $'[\x80-\xff]')" "0" "no raw invalid byte echoed"

# ---------------------------------------------------------------- label and report outputs
mkdir -p "$TMP/outs"
cd "$TMP/outs" || exit 1
mkfifo fifo.zpl
echo keep >target.txt
ln -s target.txt link.zpl
ln -s nowhere.zpl dangling.zpl
mknod chardev.zpl c 1 3 # a copy of the null device's node, in our own directory
mkdir dir.zpl
audit0=$(audit_count)
for f in fifo:FIFO link:"symbolic link" dangling:"symbolic link" chardev:"character device" dir:directory; do
    name=${f%%:*} kind=${f#*:}
    expect 3 "label output to a $kind: refused" timeout 60 fmtbank --user alice aliquot label "${AL[3]}" -o "$TMP/outs/$name.zpl"
    assert_contains "$ERR" "refusing to write \"$TMP/outs/$name.zpl\": it is a $kind, not a regular file" \
        "$kind: the message names the file and what it is"
done
[ -p fifo.zpl ] && ok "the FIFO is still a FIFO" || not_ok "the FIFO is still a FIFO"
[ -L link.zpl ] && [ "$(cat target.txt)" = keep ] && ok "the link and its target are untouched" || not_ok "the link and its target are untouched"
[ -L dangling.zpl ] && [ ! -e nowhere.zpl ] && ok "a dangling link is not followed" || not_ok "a dangling link is not followed"
[ -c chardev.zpl ] && ok "the device node is still a device node" || not_ok "the device node is still a device node"
assert_eq "$(audit_count)" "$audit0" "no print recorded for a refused output"
echo old >regular.zpl
expect 0 "a regular file is replaced" fmtbank --user alice aliquot label "${AL[3]}" -o "$TMP/outs/regular.zpl"
assert_eq "$(head -c 3 regular.zpl)" "^XA" "with the labels"
expect 0 "a new file is created" fmtbank --user alice aliquot label "${AL[3]}" -o "$TMP/outs/new.zpl"
assert_eq "$(ls -A | grep -c '^\.')" "0" "no temporary file left"

mkfifo fifo.xlsx
ln -s target.txt link.xlsx
mknod chardev.xlsx c 1 3
for f in fifo:FIFO link:"symbolic link" chardev:"character device"; do
    name=${f%%:*} kind=${f#*:}
    expect 3 "report output to a $kind: refused" timeout 60 fmtbank --user audrey report audit -o "$TMP/outs/$name.xlsx"
    assert_contains "$ERR" "refusing to write \"$TMP/outs/$name.xlsx\": it is a $kind, not a regular file" \
        "report, $kind: says so"
done
[ -p fifo.xlsx ] && [ -L link.xlsx ] && [ -c chardev.xlsx ] && [ "$(cat target.txt)" = keep ] \
    && ok "the report outputs are untouched" || not_ok "the report outputs are untouched"
assert_eq "$(ls -A | grep -c '^\.')" "0" "no temporary file left"

# libxlsxwriter's own error lines are folded into fmtbank's message (a file size limit here).
run bash -c "trap '' XFSZ; ulimit -f 2; exec fmtbank --user audrey report audit -o '$TMP/outs/big.xlsx'"
[ "$RC" -ne 0 ] && ok "a workbook that cannot be written fails (exit $RC)" || not_ok "a workbook that cannot be written fails"
assert_not_contains "$ERR" "[ERROR]" "no raw [ERROR] line from libxlsxwriter"
assert_contains "$ERR" "fmtbank: error: could not write the workbook" "fmtbank's message"
assert_contains "$ERR" "DETAIL: libxlsxwriter: " "with the library's words as its detail"
[ ! -e big.xlsx ] && ok "no partial workbook" || not_ok "no partial workbook"
cd "$TMP" || exit 1

# ---------------------------------------------------------------- messages and arguments
expect 3 "a control character in an argument" fmtbank --user alice aliquot show $'L26\033[2J'
assert_not_contains "$ERR" $'\033' "is not echoed raw"
assert_contains "$ERR" '\x1B[2J' "but escaped"
printf 'code,birth_year,sex\nD-0400001,1980,F\nD-04\033[2J,1980,F\n' >"$TMP/donors.csv"
expect 3 "a control character in an imported donor code" fmtbank --user alice donor import "$TMP/donors.csv"
assert_not_contains "$ERR" $'\033' "the bad line is not echoed raw"
assert_contains "$ERR" 'donors.csv:3: control character U+001B' "but refused, naming the line and the character"
expect 3 "a negative positional value is a value, not an option" fmtbank --user alice aliquot show -5
assert_not_contains "$ERR" "unknown option" "not taken for an option"
assert_contains "$ERR" '"-5"' "named as the value it is"

# ---------------------------------------------------------------- a server in recovery
# A second embedded instance made a standby without hot_standby: it stays in recovery and refuses
# connections ("the database system is not accepting connections"), as during crash recovery.
REC="$TMP/rec"
rec() { FMTBANK_HOME=$REC "$@"; }
rec_stop() { FMTBANK_HOME=$REC fmtbank db stop >/dev/null 2>&1; }
trap 'rec_stop; t_cleanup' EXIT
mkdir -p "$REC" && chmod 755 "$REC"
rec fmtbank db start >/dev/null 2>&1 && rec fmtbank db stop >/dev/null 2>&1 || not_ok "second instance"
echo "hot_standby = off" >>"$REC/data/postgresql.conf"
touch "$REC/data/standby.signal"
chown --reference="$REC/data/postgresql.conf" "$REC/data/standby.signal"
t0=$(date +%s%N)
run env FMTBANK_HOME="$REC" FMTBANK_RECOVERY_WAIT=1 fmtbank db start
took=$((($(date +%s%N) - t0) / 1000000))
assert_eq "$RC" "7" "a server in recovery: database unavailable (exit 7)"
assert_contains "$ERR" "the database server is starting up or recovering and did not accept connections within 1 s" \
    "said clearly, not as a failed start"
assert_contains "$ERR" "FMTBANK_RECOVERY_WAIT" "the hint names the setting"
[ "$took" -ge 1000 ] && [ "$took" -lt 30000 ] && ok "waited the bounded time ($took ms)" || not_ok "waited $took ms"
run env FMTBANK_HOME="$REC" FMTBANK_RECOVERY_WAIT=1 fmtbank --user postgres status
assert_eq "$RC" "7" "any command: exit 7"
assert_contains "$ERR" "starting up or recovering" "with the same message"
# A command started during recovery goes on when the server is ready (promoted here).
refusals() { grep -c "not accepting connections" "$REC/postgres.log"; }
n0=$(refusals)
( FMTBANK_HOME=$REC FMTBANK_RECOVERY_WAIT=120 fmtbank db start >"$TMP/rec.out" 2>&1; echo "rc=$?" >>"$TMP/rec.out" ) &
waiter=$!
refused_twice() { [ "$(refusals)" -ge $((n0 + 2)) ]; }
for _ in $(seq 300); do refused_twice && break; sleep 0.1; done
refused_twice && ok "the command is waiting (its tries are refused)" || not_ok "the command is waiting"
pg_ctl_bin=$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | tail -1)
if [ "$(id -u)" = 0 ]; then
    runuser -u "$(stat -c %U "$REC/data")" -- "$pg_ctl_bin" promote -D "$REC/data" >/dev/null
else
    "$pg_ctl_bin" promote -D "$REC/data" >/dev/null
fi
wait "$waiter"
assert_contains "$(cat "$TMP/rec.out")" "rc=0" "and succeeds once the server accepts connections"
assert_contains "$(cat "$TMP/rec.out")" "embedded instance running" "the instance is running"
rec_stop

done_testing
