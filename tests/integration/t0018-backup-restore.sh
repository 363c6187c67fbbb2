#!/usr/bin/env bash
# t0018-backup-restore: the restore drill (product.md §15, issue 16 items 1 and 2). pgBackRest set
# up on the embedded instance (fmtbank backup setup), a full backup, data made before and after a
# time T (a donor, an inbox file the daemon imports), then "backup restore --target-time T": exactly
# the data up to T is back (counts, audit verify, the signed restore anchor in a new anchor log),
# the lost audit rows are reported by id, the replaced data directory is kept, and the inbox file
# imported after T goes back into the inbox and is imported once more. Refusals change nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
export PGUSER=postgres

if ! command -v pgbackrest >/dev/null; then
    echo "1..0 # SKIP pgbackrest is not installed (scripts/install-deps.sh)"
    exit 0
fi

setup_db
sql_as adam "SELECT * FROM fmtbank.sweep()"

# ---------------------------------------------------------------- setup, and who may run it
expect 6 "backup setup as a technician: permission denied" fmtbank --user alice backup setup
assert_contains "$ERR" "requires the admin role" "names the role"
[ ! -e "$FMTBANK_HOME/pgbackrest.conf" ] && ok "nothing written" || not_ok "nothing written"
expect 2 "backup setup for a configured server: documented, not managed" \
    fmtbank --db "$(fmtbank db url)" --user adam backup setup
assert_contains "$ERR" "Backup and 30-year retention" "points at the README section"
expect 2 "--type outside full|diff|incr" fmtbank --user adam backup run --type partial

expect 0 "backup setup" fmtbank --user adam backup setup --retention-days 35
assert_contains "$OUT" "repository    $FMTBANK_HOME/backup" "repository in FMTBANK_HOME"
assert_contains "$ERR" "restarted" "the restart archive_mode needs"
conf=$(cat "$FMTBANK_HOME/pgbackrest.conf")
assert_contains "$conf" "pg1-socket-path=$FMTBANK_HOME" "the socket path in the configuration"
assert_contains "$conf" "repo1-retention-full=35" "the retention"
assert_eq "$(sql "SELECT current_setting('archive_mode')")" "on" "archive_mode on"
assert_contains "$(sql "SELECT current_setting('archive_command')")" \
    "--config=$FMTBANK_HOME/pgbackrest.conf --stanza=fmtbank archive-push %p" "archive_command"
echo "# edited by the operator" >>"$FMTBANK_HOME/pgbackrest.conf"
expect 0 "backup setup again" fmtbank --user adam backup setup
assert_contains "$OUT" "(kept)" "keeps the configuration"
assert_contains "$(cat "$FMTBANK_HOME/pgbackrest.conf")" "# edited by the operator" \
    "with the operator's edit"

# ---------------------------------------------------------------- refusals before any backup
expect 5 "restore with no backup in the repository: refused" \
    fmtbank --user adam --reason drill backup restore --target-time "$(date -d '-1 min' '+%F %T')"
assert_contains "$ERR" "no backup finished before" "says so"

expect 0 "backup run" fmtbank --user adam backup run
label=$OUT
[[ "$label" =~ ^[0-9]{8}-[0-9]{6}F$ ]] && ok "prints the full backup's label" ||
    not_ok "prints the full backup's label"
expect 0 "backup list" fmtbank --user adam backup list
assert_contains "$OUT" "full backup: $label" "lists it"
expect 0 "backup list --format json" fmtbank --user adam --format json backup list
assert_contains "$OUT" "\"label\":\"$label\"" "as JSON"
expect 0 "backup check" fmtbank --user adam backup check
expect 6 "backup list as the auditor: permission denied" fmtbank --user audrey backup list

# ---------------------------------------------------------------- data before T
expect 0 "donor before T" fmtbank --user alice donor add D-0018001 --birth-year 1990 --sex F
before_rows=$(audit_count)
before_max=$(sql "SELECT max(id) FROM fmtbank.audit_log")
before_donors=$(sql "SELECT count(*) FROM fmtbank.donor")
T=$(sql "SELECT to_char(clock_timestamp(), 'YYYY-MM-DD\"T\"HH24:MI:SS.USOF')")

# ---------------------------------------------------------------- data after T
expect 0 "donor after T" fmtbank --user alice donor add D-0018002 --birth-year 1991 --sex M
donor_csv "$INBOX/late.csv" 18100 3
expect 0 "daemon imports an inbox file after T" fmtbankd --once --inbox "$INBOX" --interval 1
[ -f "$INBOX/processed/late.csv" ] && ok "moved to processed/" || not_ok "moved to processed/"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.donor WHERE code LIKE 'D-00181%'")" "3" "imported"
after_rows=$(audit_count)
after_max=$(sql "SELECT max(id) FROM fmtbank.audit_log")
[ "$after_rows" -gt "$before_rows" ] && ok "rows written after T" || not_ok "rows written after T"

expect 0 "keygen" fmtbank audit keygen --private "$TMP/anchor.key" --public "$TMP/anchor.pub"
expect 0 "an anchor of the trail before the restore" \
    fmtbank --user audrey audit anchor --key "$TMP/anchor.key" --log "$TMP/old-anchors.log"

# ---------------------------------------------------------------- refused restores change nothing
expect 3 "restore without --reason" fmtbank --user adam backup restore --target-time "$T"
assert_contains "$ERR" "requires a reason" "says so"
expect 6 "restore by the quality manager: permission denied" \
    fmtbank --user quinn --reason drill backup restore --target-time "$T"
expect 3 "restore to the future" \
    fmtbank --user adam --reason drill backup restore --target-time "$(date -d '+1 day' '+%F %T')"
assert_contains "$ERR" "is not in the past" "says so"
expect 5 "restore to before the oldest backup" \
    fmtbank --user adam --reason drill backup restore --target-time 2020-01-01
assert_contains "$ERR" "no backup finished before 2020-01-01" "says so"
expect 2 "restore signing into the old anchor log" fmtbank --user adam --reason drill \
    backup restore --target-time "$T" --key "$TMP/anchor.key" --anchor-log "$TMP/old-anchors.log"
assert_contains "$ERR" "is not new" "says so"
assert_eq "$(audit_count)" "$after_rows" "the refusals changed nothing"
assert_eq "$(ls -d "$FMTBANK_HOME"/data.before-restore-* 2>/dev/null | wc -l)" "0" \
    "no data directory moved"
sql_as alice "SELECT * FROM fmtbank.restore_record('$T', 1, NULL, '{}', '{}', '/x', '{}')"
[ "$RC" -ne 0 ] && [[ "$ERR" == *"requires the admin role"* ]] &&
    ok "psql: restore_record refused to a technician" || not_ok "psql: restore_record refused"
sql_as adam "SET fmtbank.reason = 'fake'; SELECT * FROM fmtbank.restore_record('$T', 1, NULL, '{}', '{}', '/x', '{}')"
[ "$RC" -ne 0 ] && [[ "$ERR" == *"no point-in-time restore to record"* ]] &&
    ok "psql: no restore record without a restore" || not_ok "psql: restore_record without a restore"
sql_as adam "INSERT INTO fmtbank.restore_event (target_time, lost_rows, old_datadir) VALUES (now(), 0, 'x')"
[ "$RC" -ne 0 ] && ok "psql: no direct insert into restore_event" || not_ok "psql: direct insert"

# ---------------------------------------------------------------- the restore
expect 0 "restore to T" fmtbank --user adam --reason "restore drill" backup restore \
    --target-time "$T" --inbox "$INBOX" --key "$TMP/anchor.key" --anchor-log "$TMP/new-anchors.log"
restore_out=$OUT
lost=$((after_rows - before_rows))
assert_contains "$OUT" "restored to " "reports the restore"
assert_contains "$OUT" "audit rows lost: $lost (ids $((before_max + 1)) to $after_max," \
    "reports the lost audit range by id"
assert_contains "$OUT" "re-queued inbox file: late.csv" "names the re-queued inbox file"
assert_contains "$OUT" "fmtbank-anchor v1 " "signs the restore anchor"
aside=$(ls -d "$FMTBANK_HOME"/data.before-restore-*)
[ -f "$aside/PG_VERSION" ] && ok "the replaced data directory is kept" || not_ok "kept aside"
assert_contains "$restore_out" "$aside" "and named"

assert_eq "$(sql "SELECT count(*) FROM fmtbank.donor")" "$before_donors" "donor count as at T"
expect 0 "the donor before T is back" fmtbank --user alice donor show D-0018001
expect 4 "the donor after T is gone" fmtbank --user alice donor show D-0018002
assert_eq "$(audit_count)" "$((before_rows + 1))" "the trail up to T plus the restore anchor row"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE id <= $before_max")" "$before_rows" \
    "every row up to T"
anchor_row=$(sql "SELECT max(id) FROM fmtbank.audit_log")
[ "$anchor_row" -gt "$after_max" ] && ok "the anchor row's id is past every lost id" ||
    not_ok "anchor row id $anchor_row after $after_max"
assert_eq "$(sql "SELECT tbl || ' ' || (new_row->>'lost_rows') || ' ' || (new_row->>'old_head_seq')
                  || ' ' || reason FROM fmtbank.audit_log WHERE id = $anchor_row")" \
    "restore_event $lost $after_max restore drill" "the anchor row names the lost rows and the old head"
assert_contains "$(cat "$TMP/new-anchors.log")" "fmtbank-anchor v1 $anchor_row " \
    "the new anchor log anchors the restore row"
sql_as adam "SET fmtbank.reason = 'again'; SELECT * FROM fmtbank.restore_record('$T', 1, NULL, '{}', '{}', '/x', '{}')"
[ "$RC" -ne 0 ] && [[ "$ERR" == *"no point-in-time restore to record"* ]] &&
    ok "psql: one restore record per restore" || not_ok "psql: a second restore record"
assert_eq "$(sql "SELECT count(*) || ' ' || min(timeline) FROM fmtbank.restore_event")" "1 2" \
    "one restore_event, on the new timeline"
expect 0 "audit verify" fmtbank --user audrey audit verify
expect 0 "audit verify --anchors (the new log)" fmtbank --user audrey audit verify \
    --anchors "$TMP/new-anchors.log" --pub "$TMP/anchor.pub"
expect 5 "the old anchor log ends with rows the restore lost" fmtbank --user audrey audit verify \
    --anchors "$TMP/old-anchors.log" --pub "$TMP/anchor.pub"
assert_contains "$ERR" "truncated" "says the trail was cut"

# ---------------------------------------------------------------- the re-queued file, once
[ -f "$INBOX/late.csv" ] && [ ! -e "$INBOX/processed/late.csv" ] &&
    ok "late.csv is back in the inbox" || not_ok "late.csv is back in the inbox"
expect 0 "the daemon imports it again" fmtbankd --once --inbox "$INBOX" --interval 1
assert_eq "$(sql "SELECT count(*) FROM fmtbank.donor WHERE code LIKE 'D-00181%'")" "3" "imported once"
expect 0 "audit verify after the daemon" fmtbank --user audrey audit verify
expect 0 "backup check after the restore" fmtbank --user adam backup check

check_daemon_logs
done_testing
