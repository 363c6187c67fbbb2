#!/usr/bin/env bash
# t0210-labels: tube and box labels (issue 14 item 7): ZPL laid out for 203 and 300 dpi (--dpi,
# default from the site setting label_dpi), no status band, dose n of N and the storage
# temperature (site setting storage_temp_c) on a tube, "box label"; refusals change nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inventory.sh"
setup_db
DOT=$'\u00b7'
DEG=$'\u00b0'

BOX=$(inv_box 2 3)
FRZ=$(sql "SELECT freezer_id FROM fmtbank.freezer WHERE name = 'Freezer 1'")
LOT=$(inv_lot D-0001 2 500)
expect 0 "process into 2 doses with labels (the site's default, 300 dpi)" \
    fmtbank --user alice donation process "$LOT" --processed "$(ts now)" --doses 2 --labels "$TMP/lot.zpl"
mapfile -t AL <<<"$OUT"
z=$(cat "$TMP/lot.zpl")
assert_eq "$(grep -c '^^PW384$' "$TMP/lot.zpl")" "3" "three labels 384 dots wide (1.28 in at 300 dpi)"
assert_eq "$(grep -c '^^LL150$' "$TMP/lot.zpl")" "3" "and 150 dots long (0.5 in)"
assert_contains "$z" "^FO10,10^BXN,6,200^FH^FD${AL[0]}^FS" "DataMatrix of the plain ID, 6-dot modules"
assert_contains "$z" "^FO118,6^A0N,24,20^FH^FD$(shown "${AL[0]}")^FS" "the ID as people read it"
assert_contains "$z" "^FO118,34^A0N,18,16^FH^FDLot $(shown "$LOT")^FS" "the lot"
assert_contains "$z" "^FO118,54^A0N,18,16^FH^FDDonor D-0001^FS" "the donor code"
assert_contains "$z" "^FO118,74^A0N,18,16^FH^FDDose 1 of 2^FS" "dose 1 of 2"
assert_contains "$z" "^FDDose 2 of 2^FS" "dose 2 of 2"
assert_eq "$(grep -c '\^FDRetained sample\^FS' "$TMP/lot.zpl")" "1" "the retained sample says so, once"
assert_eq "$(grep -c "^^FO10,110^A0N,18,16^FH^FD-80 ${DEG}C^FS$" "$TMP/lot.zpl")" "3" "the storage temperature on every label"
assert_contains "$z" "^FO118,114^A0N,18,16^FH^FDExp " "the expiry"
assert_not_contains "$z" "^GB" "no status band (no box drawn)"
assert_not_contains "$z" "^FR" "no reversed field"
assert_not_contains "$z" "QUARANTINE" "no status printed"

# --dpi 203: every coordinate, font and module scaled by 203/300.
expect 0 "aliquot label --dpi 203" fmtbank --user alice aliquot label "${AL[0]}" --dpi 203
assert_contains "$OUT" $'^PW260\n^LL102\n' "260 x 102 dots: the same 1.28 x 0.5 in"
assert_contains "$OUT" "^FO7,7^BXN,4,200^FH^FD${AL[0]}^FS" "4-dot modules (the same 8 mm symbol)"
assert_contains "$OUT" "^FO80,4^A0N,16,14^FH^FD$(shown "${AL[0]}")^FS" "the ID at (80,4)"
assert_contains "$OUT" "^FO80,50^A0N,12,11^FH^FDDose 1 of 2^FS" "dose line scaled"
assert_contains "$OUT" "^FO7,74^A0N,12,11^FH^FD-80 ${DEG}C^FS" "temperature scaled"
assert_contains "$OUT" "^FO7,88^A0N,11,9^FH^FDREPRINT^FS" "a reprint says so"
assert_not_contains "$OUT" "^PW384" "nothing at 300 dpi"

# The site settings: the default resolution and the storage temperature (owner only).
sql "UPDATE fmtbank.site_setting SET value = '203' WHERE name = 'label_dpi'" >/dev/null
sql "UPDATE fmtbank.site_setting SET value = '-70' WHERE name = 'storage_temp_c'" >/dev/null
expect 0 "aliquot label with the site at 203 dpi" fmtbank --user alice aliquot label "${AL[1]}"
assert_contains "$OUT" "^PW260" "the site setting is the default"
assert_contains "$OUT" "^FD-70 ${DEG}C^FS" "the site's storage temperature"
expect 0 "--dpi 300 overrides it" fmtbank --user alice aliquot label "${AL[1]}" --dpi 300
assert_contains "$OUT" "^PW384" "300 dpi"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE tbl = 'site_setting' AND op = 'UPDATE'")" "2" "setting changes are audited"

# Refusals: nothing is recorded.
prints=$(sql "SELECT count(*) FROM fmtbank.label_print")
expect 2 "--dpi 600" fmtbank --user alice aliquot label "${AL[0]}" --dpi 600
assert_contains "$ERR" 'invalid value "600"' "names the value"
expect 2 "--dpi without --labels" fmtbank --user alice donation process "$LOT" --processed "$(ts now)" --doses 1 --dpi 203
sql_as alice "SELECT count(*) FROM fmtbank.label_print(ARRAY['${AL[0]}'], 'x', '600')"
[ "$RC" -ne 0 ] && ok "label_print refuses 600 dpi for a psql user too" || not_ok "label_print refuses 600 dpi for a psql user too"
assert_contains "$ERR" 'invalid label resolution "600" for --dpi' "in the database's words"
sql_as postgres "UPDATE fmtbank.site_setting SET value = '600' WHERE name = 'label_dpi'"
assert_contains "$ERR" "site_setting_label_dpi" "the site setting cannot hold an unprintable resolution, not even for the owner"
sql_as postgres "UPDATE fmtbank.site_setting SET value = 'cold' WHERE name = 'storage_temp_c'"
assert_contains "$ERR" "site_setting_storage_temp_c" "nor a temperature that is not a number"
sql_as alice "UPDATE fmtbank.site_setting SET value = '300' WHERE name = 'label_dpi'"
assert_contains "$ERR" "permission denied" "a technician cannot change a site setting"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.label_print")" "$prints" "no print recorded by a refusal"

# Box labels: the box ID to scan, its freezer, rack, size and temperature.
expect 0 "box label" fmtbank --user alice box label "$(shown "$BOX")" --dpi 300
assert_contains "$OUT" $'^PW384\n^LL150\n' "300 dpi"
assert_contains "$OUT" "^BXN,6,200^FH^FD$BOX^FS" "DataMatrix of the plain box ID"
assert_contains "$OUT" "^FD$(shown "$BOX")^FS" "the box ID as people read it"
assert_contains "$OUT" "^FDFreezer 1 ($(shown "$FRZ"))^FS" "its freezer"
assert_contains "$OUT" "^FDRack R1^FS" "its rack"
assert_contains "$OUT" "^FDSize 2 x 3^FS" "its size"
assert_contains "$OUT" "^FD-80 ${DEG}C^FS" "the freezer's temperature"
assert_not_contains "$OUT" "^GB" "no band"
expect 0 "box label to a file at the site's 203 dpi" fmtbank --user adam box label "$BOX" "$BOX" -o "$TMP/box.zpl"
assert_eq "$(grep -c '^^XA$' "$TMP/box.zpl")" "2" "two labels"
assert_eq "$(grep -c '^^PW260$' "$TMP/box.zpl")" "2" "at 203 dpi"
assert_contains "$ERR" "wrote 2 box labels to \"$TMP/box.zpl\"" "says so"
audit0=$(audit_count)
expect 6 "an auditor prints no box label" fmtbank --user audrey box label "$BOX"
expect 3 "a box ID with a wrong check character" fmtbank --user alice box label "${BOX:0:7}$([ "${BOX: -1}" = 0 ] && echo 1 || echo 0)"
assert_contains "$ERR" "invalid check character in box ID" "says so"
expect 4 "an unknown box" fmtbank --user alice box label "B999999$(sql "SELECT fmtbank.check_char('B999999')")"
expect 2 "box label without a box" fmtbank --user alice box label
assert_eq "$(audit_count)" "$audit0" "box labels record nothing"

# --help says how to print.
expect 0 "box label --help" fmtbank box label --help
assert_contains "$OUT" "lp -d PRINTER -o raw FILE.zpl" "how to send it to a Zebra printer"
expect 0 "aliquot label --help" fmtbank aliquot label --help
assert_contains "$OUT" "--dpi DPI" "the --dpi option"
assert_contains "$OUT" "(203 or 300)" "with its choices"
assert_contains "$OUT" "no status" "says there is no status on the label"
done_testing
