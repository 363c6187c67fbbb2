#!/usr/bin/env bash
# t0201-processing: donation process into doses + retained sample, labels (ZPL) and their audit,
# aliquot show/list/history/label/move/discard, and every refusal leaving nothing changed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inventory.sh"
setup_db
B1=$(inv_box 8 12)
B2=$(inv_box 2 2)

LOT=$(inv_lot D-0001 2 500)
PROC=$(ts "-10 minutes")
expect 0 "process into 3 doses with labels" fmtbank --user alice donation process "$LOT" --processed "$PROC" --doses 3 --labels "$TMP/lot.zpl"
body=${LOT:0:9}
mapfile -t AL <<<"$OUT"
assert_eq "${#AL[@]}" "4" "prints 4 IDs"
for i in 0 1 2; do
    assert_contains "${AL[$i]}" "$body-00$((i + 1))" "dose $((i + 1)) ID"
done
assert_contains "${AL[3]}" "$body-000" "the retained sample last"
assert_eq "$(sql "SELECT bool_and(fmtbank.check_char(left(aliquot_id, -1)) = right(aliquot_id, 1)) FROM fmtbank.aliquot")" "t" "every ID ends in its check character"
assert_contains "$ERR" "processed lot \"$LOT\" into 3 doses and retained sample \"${AL[3]}\"" "says what was made"
assert_eq "$(sql "SELECT string_agg(status || ':' || retained || ':' || volume_ml || ':' || glycerol_percent, ',' ORDER BY idx) FROM fmtbank.aliquot")" \
    "quarantine:true:200.0:10.0,quarantine:false:200.0:10.0,quarantine:false:200.0:10.0,quarantine:false:200.0:10.0" "in quarantine with volume and glycerol"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot WHERE a.expires_at = l.processed_at + interval '730 days'")" "4" "expiry = processed + shelf_life_days"
assert_eq "$(sql "SELECT to_char(processed_at, 'YYYY-MM-DD HH24:MI') || ' ' || doses FROM fmtbank.lot")" "$PROC 3" "the lot records processing"

# The label file: one well-formed label per tube.
zpl=$(cat "$TMP/lot.zpl")
assert_eq "$(grep -c '^^XA$' "$TMP/lot.zpl")" "4" "4 labels start with ^XA"
assert_eq "$(grep -c '^^XZ$' "$TMP/lot.zpl")" "4" "and end with ^XZ"
assert_eq "$(head -c 3 "$TMP/lot.zpl")" "^XA" "file starts with ^XA"
assert_eq "$(tail -n 1 "$TMP/lot.zpl")" "^XZ" "file ends with ^XZ"
for id in "${AL[@]}"; do
    assert_contains "$zpl" "^BXN,6,200^FH^FD$id^FS" "DataMatrix of $id"
done
assert_contains "$zpl" "^FDLot $(shown "$LOT")^FS" "lot on the label (check character set apart)"
assert_contains "$zpl" "^FDDonor D-0001^FS" "donor code on the label"
assert_contains "$zpl" "^FDProc ${PROC:0:10}^FS" "processed date on the label"
assert_contains "$zpl" "^FDExp $(sql "SELECT (processed_at + interval '730 days')::date FROM fmtbank.lot")^FS" "expiry on the label"
assert_eq "$(grep -c 'FDDose [123] of 3^FS' "$TMP/lot.zpl")" "3" "dose n of 3 on the doses"
assert_eq "$(grep -c 'FDRetained sample^FS' "$TMP/lot.zpl")" "1" "the retained sample says so"
assert_not_contains "$zpl" "QUARANTINE" "no status on a tube label (t0210-labels)"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.label_print WHERE kind = 'print' AND target = '$TMP/lot.zpl' AND who = 'alice'")" "4" "each print recorded"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE tbl = 'label_print'")" "4" "and audited"

# Refusals: nothing changes.
state=$(inv_state)
expect 5 "processed twice" fmtbank --user alice donation process "$LOT" --processed "$(ts now)" --doses 2
assert_contains "$ERR" "cannot process lot \"$LOT\": it was already processed at ${PROC}" "says when"
LOT2=$(inv_lot D-0002 3 120)
state=$(inv_state)
expect 5 "more doses than the mass allows" fmtbank --user alice donation process "$LOT2" --processed "$(ts now)" --doses 3
assert_contains "$ERR" "cannot process lot \"$LOT2\" into 3 doses: 150 g are needed, the lot has 120 g" "names the masses"
assert_contains "$ERR" "At most 2 doses can be made from this lot." "hints at the maximum"
expect 3 "processed before collection" fmtbank --user alice donation process "$LOT2" --processed "$(ts '-4 hours')" --doses 1
assert_contains "$ERR" "is before the collection of lot \"$LOT2\"" "says so"
expect 3 "processed in the future" fmtbank --user alice donation process "$LOT2" --processed "$(ts '+1 hour')" --doses 1
assert_contains "$ERR" "is in the future" "says so"
expect 3 "bad time" fmtbank --user alice donation process "$LOT2" --processed "yesterday" --doses 1
assert_contains "$ERR" 'invalid timestamp "yesterday" for --processed' "names the field"
for n in 0 abc 1000 -1; do
    expect 3 "--doses $n" fmtbank --user alice donation process "$LOT2" --processed "$(ts now)" --doses "$n"
done
assert_contains "$ERR" "invalid --doses" "names the field"
expect 2 "missing --doses" fmtbank --user alice donation process "$LOT2" --processed "$(ts now)"
expect 2 "missing --processed" fmtbank --user alice donation process "$LOT2" --doses 1
expect 4 "unknown lot" fmtbank --user alice donation process "$(sql "SELECT fmtbank.with_check('L26999999')")" --processed "$(ts now)" --doses 1
bad_lot="${LOT2:0:9}$( [ "${LOT2:9:1}" = "0" ] && echo 1 || echo 0 )"
expect 3 "lot ID with a bad check character" fmtbank --user alice donation process "$bad_lot" --processed "$(ts now)" --doses 1
assert_contains "$ERR" "invalid check character in lot ID" "says so"
expect 3 "an aliquot ID is not a lot ID" fmtbank --user alice donation process "${AL[0]}" --processed "$(ts now)" --doses 1
expect 6 "quality cannot process" fmtbank --user quinn donation process "$LOT2" --processed "$(ts now)" --doses 1
expect 6 "auditor cannot process" fmtbank --user audrey donation process "$LOT2" --processed "$(ts now)" --doses 1
expect 4 "labels into a missing directory: nothing processed" fmtbank --user alice donation process "$LOT2" --processed "$(ts now)" --doses 2 --labels "$TMP/nodir/x.zpl"
assert_contains "$ERR" "could not create \"$TMP/nodir/x.zpl\"" "names the file"
assert_eq "$(inv_state)" "$state" "refused processing changed nothing"
assert_eq "$(sql "SELECT status || ':' || (processed_at IS NULL) FROM fmtbank.lot WHERE lot_id = '$LOT2'")" "quarantine:true" "the lot is still unprocessed"
expect 0 "then 2 doses are fine" fmtbank --user alice donation process "$LOT2" --processed "$(ts now)" --doses 2
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" "3" "2 doses and the retained sample"

# Too late: the lot is rejected with its reason (the material exists), and still exit 5.
LATE=$(inv_lot D-0001 8 500)
before=$(sql "SELECT count(*) FROM fmtbank.aliquot")
expect 5 "processed 8 h after collection" fmtbank --user alice donation process "$LATE" --processed "$(ts now)" --doses 2 --labels "$TMP/late.zpl"
assert_contains "$ERR" "cannot process lot \"$LATE\": processed more than 6 h after collection; the lot is recorded as rejected" "says why"
assert_eq "$OUT" "" "prints no aliquot"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.aliquot")" "$before" "no aliquot made"
assert_eq "$(sql "SELECT status || ':' || (reject_reasons -> 0 ->> 'rule') FROM fmtbank.lot WHERE lot_id = '$LATE'")" "rejected:max_processing_hours" "the lot is rejected with its rule"
assert_contains "$(sql "SELECT reject_reasons -> 0 ->> 'detail' FROM fmtbank.lot WHERE lot_id = '$LATE'")" "the limit is 6 h" "and the detail"
[ ! -e "$TMP/late.zpl" ] && ok "no label file for a rejected lot" || not_ok "no label file for a rejected lot"
expect 5 "a rejected lot is not processed" fmtbank --user alice donation process "$LATE" --processed "$(ts now)" --doses 1
assert_contains "$ERR" "cannot process lot \"$LATE\": it is rejected" "says so"
assert_contains "$ERR" "max_processing_hours:" "with the reason"

# aliquot show / list / history
expect 0 "aliquot show json" fmtbank --user audrey --format json aliquot show "${AL[0],,}"
assert_contains "$OUT" "\"id\":\"${AL[0]}\",\"lot\":\"$LOT\",\"donor\":\"D-0001\",\"status\":\"quarantine\",\"box\":null,\"position\":null,\"expires\":\"" "the product.md fields (lower-case ID accepted)"
expect 4 "show unknown aliquot" fmtbank --user alice aliquot show "$(sql "SELECT fmtbank.with_check('L26999999-001')")"
assert_contains "$ERR" "not found" "says not found"
expect 3 "show with bad check character" fmtbank --user alice aliquot show "${AL[0]:0:13}$( [ "${AL[0]:13:1}" = "0" ] && echo 1 || echo 0 )"
assert_contains "$ERR" "invalid check character in aliquot ID" "says so"
expect 0 "list by lot" fmtbank --user alice --format json aliquot list --lot "$LOT"
assert_eq "$(grep -o '"id"' <<<"$OUT" | wc -l)" "4" "4 aliquots of the lot"
expect 0 "list by status" fmtbank --user alice --format tsv aliquot list --status quarantine
assert_eq "$(printf '%s\n' "$OUT" | tail -n +2 | wc -l)" "7" "7 in quarantine"
expect 3 "list by a bad status" fmtbank --user alice aliquot list --status frozen
assert_contains "$ERR" 'invalid --status "frozen"' "names the value"
expect 4 "list by an unknown lot (no aliquot at all would still be an error)" fmtbank --user alice aliquot list --lot "$(sql "SELECT fmtbank.with_check('L26999999')")"

# Storing and moving (custody events); aliquot move.
scan_as alice "$B1"$'\n'"${AL[0]}"$'\n'"${AL[1]}"$'\n'
assert_eq "$RC" "0" "two tubes scanned into $B1"
expect 0 "move to another box" fmtbank --user alice --reason "reorganising" aliquot move "${AL[0]}" --to "${B2,,}:b2"
assert_eq "$OUT" "$B2:B2" "prints the new position"
assert_eq "$(where "${AL[0]}")" "$B2:B2" "it is there"
state=$(inv_state)
expect 5 "move onto an occupied position" fmtbank --user alice aliquot move "${AL[1]}" --to "$B2:B2"
assert_contains "$ERR" "cannot move \"${AL[1]}\" to \"$B2:B2\": position is occupied by \"${AL[0]}\"" "names the occupant"
expect 5 "move to where it is" fmtbank --user alice aliquot move "${AL[1]}" --to "$B1:A2"
assert_contains "$ERR" "it is already in \"$B1:A2\"" "says so"
expect 5 "move a tube that is not stored" fmtbank --user alice aliquot move "${AL[2]}" --to "$B2:A1"
assert_contains "$ERR" "it is not stored in any box" "says so"
expect 3 "move outside the box" fmtbank --user alice aliquot move "${AL[1]}" --to "$B2:C1"
assert_contains "$ERR" "position \"C1\" is outside box \"$B2\"" "says so"
expect 3 "a location without a box" fmtbank --user alice aliquot move "${AL[1]}" --to "C1"
assert_contains "$ERR" 'invalid location "C1" for --to' "says so"
expect 2 "missing --to" fmtbank --user alice aliquot move "${AL[1]}"
expect 6 "auditor cannot move" fmtbank --user audrey aliquot move "${AL[1]}" --to "$B2:A1"
assert_eq "$(inv_state)" "$state" "refused moves changed nothing"

# Reprint: audited, marked REPRINT; refused for a discarded tube; all or nothing.
expect 0 "reprint to stdout" fmtbank --user alice aliquot label "${AL[0]}" "${AL[3]}"
assert_eq "$(grep -c '^^XA$' <<<"$OUT")" "2" "two labels"
assert_contains "$OUT" "^FDREPRINT^FS" "marked as a reprint"
assert_contains "$OUT" "^BXN,6,200^FH^FD${AL[3]}^FS" "the retained sample's DataMatrix"
expect 0 "reprint to a file" fmtbank --user quinn aliquot label "${AL[1]}" -o "$TMP/re.zpl"
assert_contains "$(cat "$TMP/re.zpl")" "^FD${AL[1]}^FS" "the file has the label"
assert_eq "$(sql "SELECT string_agg(kind || ':' || target || ':' || who, ',' ORDER BY id) FROM fmtbank.label_print WHERE id > 4 AND aliquot IN (SELECT id FROM fmtbank.aliquot WHERE lot = (SELECT id FROM fmtbank.lot WHERE lot_id = '$LOT'))")" \
    "reprint:stdout:alice,reprint:stdout:alice,reprint:$TMP/re.zpl:quinn" "every reprint recorded with where it went and who"

expect 0 "history" fmtbank --user audrey --format json aliquot history "${AL[0]}"
for ev in created labelled stored moved; do
    assert_contains "$OUT" "\"event\":\"$ev\"" "history shows $ev"
done
assert_contains "$OUT" "\"detail\":\"from $B1:A1 to $B2:B2\",\"who\":\"alice\",\"reason\":\"reorganising\"" "the move with its reason"
assert_contains "$OUT" "\"detail\":\"label reprinted to stdout\"" "the reprint"

# Discard: a reason is required; the tube leaves its box.
state=$(inv_state)
expect 3 "discard without a reason" fmtbank --user alice aliquot discard "${AL[0]}"
assert_contains "$ERR" "discarding an aliquot requires a reason" "says so"
expect 6 "auditor cannot discard" fmtbank --user audrey --reason x aliquot discard "${AL[0]}"
assert_eq "$(inv_state)" "$state" "refused discards changed nothing"
expect 0 "discard with a reason" fmtbank --user alice --reason "cracked tube" aliquot discard "${AL[0]}"
assert_eq "$(sql "SELECT status || ':' || status_reason FROM fmtbank.aliquot WHERE aliquot_id = '${AL[0]}'")" "discarded:cracked tube" "discarded with the reason"
assert_eq "$(where "${AL[0]}")" "" "out of its box"
expect 0 "history shows the discard" fmtbank --user alice aliquot history "${AL[0]}"
assert_contains "$OUT" "discarded  from $B2:B2" "discarded from where it was"
state=$(inv_state)
expect 5 "discard twice" fmtbank --user alice --reason again aliquot discard "${AL[0]}"
assert_contains "$ERR" "it is discarded" "says so"
expect 5 "no label for a discarded tube" fmtbank --user alice aliquot label "${AL[2]}" "${AL[0]}"
assert_contains "$ERR" "cannot print a label for \"${AL[0]}\": it is discarded" "says so"
expect 4 "no label for an unknown tube" fmtbank --user alice aliquot label "${AL[2]}" "$(sql "SELECT fmtbank.with_check('L26999999-001')")"
expect 2 "label needs an ID" fmtbank --user alice aliquot label
expect 6 "auditor cannot print labels" fmtbank --user audrey aliquot label "${AL[2]}"
assert_eq "$(inv_state)" "$state" "refusals (the valid ID included) recorded no print"

# Expired is shown at once, whatever the stored status.
sql "UPDATE fmtbank.aliquot SET expires_at = now() - interval '1 day' WHERE aliquot_id = '${AL[2]}'" >/dev/null
expect 0 "expired shown" fmtbank --user alice --format json aliquot show "${AL[2]}"
assert_contains "$OUT" '"status":"expired"' "an expired tube shows as expired"
expect 0 "expired listed" fmtbank --user alice --format tsv aliquot list --status expired
assert_contains "$OUT" "${AL[2]}" "listed as expired"

# Not through psql either.
sql_as alice "UPDATE fmtbank.aliquot SET status = 'released'"
assert_contains "$ERR" "permission denied" "technician cannot change a status with psql"
sql_as alice "INSERT INTO fmtbank.label_print (aliquot, kind, target) SELECT id, 'print', 'x' FROM fmtbank.aliquot"
assert_contains "$ERR" "permission denied" "technician cannot forge a label print"
sql_as postgres "UPDATE fmtbank.custody_event SET who = 'mallory'"
assert_contains "$ERR" 'cannot update "custody_event": it is append-only' "custody events are append-only, superuser included"
sql_as postgres "DELETE FROM fmtbank.label_print"
assert_contains "$ERR" "records are never deleted" "label prints are never deleted"
expect 0 "audit trail intact" fmtbank --user audrey audit verify

done_testing
