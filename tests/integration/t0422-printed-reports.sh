#!/usr/bin/env bash
# t0422-printed-reports: how the workbooks print, read from their XML (xl/worksheets/sheetN.xml,
# xl/styles.xml) and with openpyxl: header rows as tall as their wrapped headers, text wrapped
# within columns at most 60 wide and rows as tall as their text, a page one page wide at 60 % or
# more (else 60 % with pages to the right), header rows repeated, booleans yes/no, every timestamp
# with its UTC offset, the release certificate's aliquot status named for what it is, and its
# sheets protected once signed (not as a draft). t0423 prints the same workbooks with LibreOffice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

rel_donor D-4221
L=$(rel_lot_full D-4221 40) && rel_panel D-4221 "$(d -50)" && rel_panel D-4221 "$(d -30)"
assert_eq "$(lot_shown "$L")" "ready" "a releasable lot"
expect 0 "draft certificate" fmtbank --user quinn release report "$L" -o "$TMP/draft.xlsx"
sign "$L"
assert_eq "$RC" "0" "quinn signs the release"
expect 0 "signed certificate" fmtbank --user quinn release report "$L" -o "$TMP/signed.xlsx"
expect 0 "audit report" fmtbank --user audrey report audit -o "$TMP/audit.xlsx"
expect 0 "eligibility report" fmtbank --user quinn report eligibility -o "$TMP/elig.xlsx"

# facts FILE.xlsx: one line per fact, for assert_contains:
#   sheet NAME protected=yes|no fit=width|scale=N repeat=ROWS
#   header NAME row=R height=H lines=L   (L: the most lines a header takes, by the same estimate)
#   maxwidth NAME W                      (the widest column)
#   wrapped NAME COL yes|no              (a text column's cells wrap)
#   tall NAME R H                        (a data row given a height, with its text's longest line)
#   boolean VALUE                         (every distinct value of a yes/no column)
#   stamp FORMAT                          (every number format of a timestamp cell)
facts() {
    /usr/bin/python3 - "$1" <<'EOF'
import re, sys, zipfile, openpyxl
path = sys.argv[1]
wb = openpyxl.load_workbook(path)
z = zipfile.ZipFile(path)
names = {}
rels = z.read("xl/_rels/workbook.xml.rels").decode()
book = z.read("xl/workbook.xml").decode()
for name, rid in re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"', book):
    target = re.search(r'Id="%s"[^>]*Target="([^"]+)"' % rid, rels) or \
        re.search(r'Target="([^"]+)"[^>]*Id="%s"' % rid, rels)
    names[name.replace("&amp;", "&")] = "xl/" + target.group(1)
defined = re.findall(r'<definedName name="_xlnm.Print_Titles"[^>]*>([^<]+)<', book)
seen_bool, seen_fmt = set(), set()
for ws in wb.worksheets:
    xml = z.read(names[ws.title]).decode()
    prot = "yes" if "<sheetProtection" in xml else "no"
    ps = re.search(r"<pageSetup[^>]*>", xml).group(0)
    scale = re.search(r' scale="(\d+)"', ps)
    fit = "width" if 'fitToPage="1"' in xml and 'fitToHeight="0"' in ps else \
        "scale=%s" % (scale.group(1) if scale else "100")
    repeat = "none"
    for d in defined:
        if d.startswith("'%s'!" % ws.title) or d.startswith("%s!" % ws.title):
            repeat = d.split("!")[-1].split(",")[-1]
    print("sheet %s protected=%s fit=%s repeat=%s" % (ws.title, prot, fit, repeat))
    widths = {k: v.width for k, v in ws.column_dimensions.items() if v.width}
    print("maxwidth %s %.1f" % (ws.title, max(widths.values()) if widths else 0))
    # the header row: the first row whose cells are all bold with a fill
    hr = 0
    for row in ws.iter_rows(min_row=1, max_row=12):
        cells = [c for c in row if c.value is not None]
        if len(cells) > 1 and all(c.font.b for c in cells) and cells[0].fill.fgColor.rgb not in (None, "00000000"):
            r = hr = cells[0].row
            h = ws.row_dimensions[r].height
            print("header %s row=%d height=%s" % (ws.title, r, h if h else "default"))
            for c in cells:
                print("headercell %s %s wrap=%s" % (ws.title, c.value.replace(" ", "_"), c.alignment.wrap_text))
            break
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and len(c.value) > 70 and not c.font.b and not c.font.i and c.row > hr:
                print("wrapped %s %s %s" % (ws.title, c.column_letter, "yes" if c.alignment.wrap_text else "no"))
                h = ws.row_dimensions[c.row].height
                print("tall %s %d %s %d" % (ws.title.replace(" ", "_"), c.row, h, len(c.value)))
            if c.is_date and c.number_format and "h" in c.number_format:
                seen_fmt.add(c.number_format)
            if c.value in ("yes", "no", True, False):
                seen_bool.add(str(c.value))
for f in sorted(seen_fmt):
    print("stamp %s" % f)
for b in sorted(seen_bool):
    print("boolean %s" % b)
EOF
}

# --- the signed certificate: protected, aliquot status named, booleans yes/no, zones
S=$(facts "$TMP/signed.xlsx")
for s in Summary Results Verdicts Aliquots; do
    assert_contains "$S" "sheet $s protected=yes" "signed: sheet $s protected"
done
D=$(facts "$TMP/draft.xlsx")
for s in Summary Results Verdicts Aliquots; do
    assert_contains "$D" "sheet $s protected=no" "draft: sheet $s not protected"
done
# protection is a rule of the file, not only an attribute: openpyxl reads it back
prot=$(/usr/bin/python3 -c 'import openpyxl,sys; wb=openpyxl.load_workbook(sys.argv[1]); print(" ".join(str(ws.protection.sheet) for ws in wb.worksheets))' "$TMP/signed.xlsx")
assert_eq "$prot" "True True True True" "openpyxl sees every signed sheet protected"
assert_contains "$S" "headercell Aliquots Status_when_evaluated_(before_release) wrap=True" \
    "the aliquot status column says what it is"
assert_contains "$S" "headercell Aliquots Released_by_this_signature wrap=True" "and the released column"
assert_not_contains "$S" "Status_(signed)" "no longer 'Status (signed)'"
assert_contains "$S" "boolean no" "booleans: no"
assert_contains "$S" "boolean yes" "booleans: yes"
assert_not_contains "$S" "boolean True" "no TRUE"
assert_not_contains "$S" "boolean False" "no FALSE"
stamps=$(grep '^stamp ' <<<"$S")
[ -n "$stamps" ] && ok "timestamps found" || not_ok "no timestamp cell" "$S"
bare=$(grep '^stamp ' <<<"$S" | grep -v '"[+-][0-9][0-9]:[0-9][0-9]"$')
assert_eq "$bare" "" "every timestamp's format shows its UTC offset"
assert_contains "$stamps" 'stamp yyyy-mm-dd hh:mm:ss "+00:00"' "the signature time with its offset"
# wrapped headers: the header row as tall as its most wrapped header
hrow=$(grep '^header Aliquots ' <<<"$S")
height=$(sed 's/.*height=//; s/\.0$//' <<<"$hrow")
[ "$height" != default ] && awk -v h="$height" 'BEGIN { exit !(h >= 45) }' &&
    ok "Aliquots header row given the height of three lines ($height pt)" || not_ok "header row: $hrow"
row=$(sed 's/.*row=\([0-9]*\).*/\1/' <<<"$hrow")
unzip -p "$TMP/signed.xlsx" xl/worksheets/sheet4.xml | grep -q "<row r=\"$row\"[^>]* ht=\"$height\" customHeight=\"1\"" &&
    ok "<row r=\"$row\" ht=\"$height\"> in the sheet XML" || not_ok "no ht on row $row"
assert_contains "$S" "sheet Aliquots protected=yes fit=width repeat=\$$row:\$$row" "one page wide, header repeated"

# --- the audit trail: readable columns, wrapped, one page wide
A=$(facts "$TMP/audit.xlsx")
assert_contains "$A" "sheet Trail protected=no fit=width" "Trail printed one page wide"
assert_contains "$A" "sheet Row data protected=no fit=width" "Row data printed one page wide"
for s in Trail "Row data"; do
    w=$(grep "^maxwidth $s " <<<"$A" | awk '{print $NF}')
    awk -v w="$w" 'BEGIN { exit !(w <= 60.8) }' && ok "$s: no column wider than 60 ($w)" ||
        not_ok "$s: a column $w wide"
done
assert_contains "$A" "wrapped Trail G yes" "long changes wrap"
assert_not_contains "$A" "wrapped Trail G no" "every long one"
assert_contains "$A" "wrapped Row data E yes" "long rows wrap"
# a row with wrapped text is at least as tall as its text needs at ~1.25 characters a digit
# (409 points, Excel's tallest row, at most)
short=$(grep '^tall ' <<<"$A" | awk '{ need = (int($5 / (50 * 1.25)) + 1) * 15; if (need > 409) need = 409;
                                      if ($4 == "None" || $4 + 0 < need) print }')
assert_eq "$short" "" "every row with long text is given a height for its lines"
bare=$(grep '^stamp ' <<<"$A" | grep -v '"[+-][0-9][0-9]:[0-9][0-9]"$')
assert_eq "$bare" "" "every audit timestamp with its offset"
subtitle=$(/usr/bin/python3 -c 'import openpyxl,sys; print(openpyxl.load_workbook(sys.argv[1])["Trail"]["A2"].value)' "$TMP/audit.xlsx")
[[ $subtitle =~ ^Period\ .*\ [+-][0-9][0-9]:[0-9][0-9]\ to\ .*\ [+-][0-9][0-9]:[0-9][0-9]\ \(excluded\)$ ]] &&
    ok "the period's times with their offsets" || not_ok "subtitle: $subtitle"

# --- eligibility: the Donors sheet one page wide, its reasons wrapped
E=$(facts "$TMP/elig.xlsx")
assert_contains "$E" "sheet Donors protected=no fit=width" "Donors one page wide"
assert_contains "$E" "sheet Reasons protected=no fit=width" "Reasons one page wide"
assert_not_contains "$E" "fit=scale=" "no sheet needs the minimum scale"

# --- a definition too wide for one page is printed at 60 %, first column repeated
B="$TMP/wide"
mkdir -p "$B"
cp "$FMTBANK_SRC/reports/audit.report" "$FMTBANK_SRC/reports/audit.sql" "$B/"
sed -i 's/^column reason  = text      | Reason    | 22$/column reason  = text      | Reason    | 60/;
        s/^column subject = text      | Subject   | 24$/column subject = text      | Subject   | 60/;
        s/^column who     = text      | Who       | 10$/column who     = text      | Who       | 60/' "$B/audit.report"
FMTBANK_REPORTS="$B" expect 0 "a wide audit report" fmtbank --user audrey report audit -o "$TMP/wide.xlsx"
W=$(facts "$TMP/wide.xlsx")
assert_contains "$W" "sheet Trail protected=no fit=scale=60 repeat=\$4:\$4" "too wide: printed at 60 %"
unzip -p "$TMP/wide.xlsx" xl/workbook.xml | grep -q "Trail'\?!\$A:\$A" &&
    ok "the first column repeated on the pages to the right" || not_ok "no repeated column"

done_testing
