#!/usr/bin/env bash
# t0423-printed-pdf (slow tier: LibreOffice, installed by scripts/install-deps.sh --slow): the
# audit, eligibility and signed release workbooks printed to PDF by LibreOffice headless, then
# measured with poppler (pdfinfo, pdftotext -bbox through pdfscale.py): a sane number of pages,
# text printed at a readable size on every page (the audit trail printed at ~5 % and the
# eligibility donors at ~48 % before), and the certificate's wrapped header clear of its first row.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

for tool in libreoffice pdfinfo pdftotext; do
    command -v "$tool" >/dev/null && ok "$tool present" ||
        not_ok "$tool missing: run scripts/install-deps.sh --slow (make test-slow does)"
done

rel_donor D-4231
L=$(rel_lot_full D-4231 40) && rel_panel D-4231 "$(d -50)" && rel_panel D-4231 "$(d -30)"
sign "$L"
assert_eq "$RC" "0" "quinn signs the release"
expect 0 "signed certificate" fmtbank --user quinn release report "$L" -o "$TMP/release.xlsx"
expect 0 "audit report" fmtbank --user audrey report audit -o "$TMP/audit.xlsx"
expect 0 "eligibility report" fmtbank --user quinn report eligibility -o "$TMP/eligibility.xlsx"

mkdir -p "$TMP/pdf" "$TMP/lo"
# its own profile directory, so that parallel tests (and a desktop session) do not share one
if libreoffice -env:UserInstallation="file://$TMP/lo" --headless --convert-to pdf --outdir "$TMP/pdf" \
    "$TMP/release.xlsx" "$TMP/audit.xlsx" "$TMP/eligibility.xlsx" >"$TMP/lo.log" 2>&1 &&
    [ -s "$TMP/pdf/audit.pdf" ] && [ -s "$TMP/pdf/eligibility.pdf" ] && [ -s "$TMP/pdf/release.pdf" ]; then
    ok "LibreOffice printed the three workbooks"
else
    not_ok "LibreOffice conversion failed" "$(tail -5 "$TMP/lo.log")"
fi
scale() { /usr/bin/python3 "$FMTBANK_SRC/tests/integration/pdfscale.py" "$1"; }
pages() { pdfinfo "$1" | awk '/^Pages:/ { print $2 }'; }

# 11-point text printed at 100 % is about 13 points tall in the PDF; at 60 %, about 8
readable() { # PDF WHAT: every page's median word height at least 7.5 points
    local m
    m=$(scale "$1" | awk '/^min_height/ { print $2 }')
    awk -v m="$m" 'BEGIN { exit !(m >= 7.5) }' && ok "$2: text readable on every page (min median height $m pt)" ||
        not_ok "$2: text printed too small: $m pt" "$(scale "$1" | head -20)"
}
readable "$TMP/pdf/audit.pdf" "audit trail"
readable "$TMP/pdf/eligibility.pdf" "eligibility"
readable "$TMP/pdf/release.pdf" "release certificate"

rows=$(sql "select count(*) from fmtbank.audit_log where not pii")
p=$(pages "$TMP/pdf/audit.pdf")
# the Trail and the Row data sheets: several rows a page each, never one row a page
[ "$p" -ge 3 ] && [ "$p" -le $((rows / 3 + 5)) ] && ok "audit: $p pages for $rows rows" ||
    not_ok "audit: $p pages for $rows rows"
p=$(pages "$TMP/pdf/eligibility.pdf")
[ "$p" -ge 3 ] && [ "$p" -le 8 ] && ok "eligibility: $p pages" || not_ok "eligibility: $p pages"
p=$(pages "$TMP/pdf/release.pdf")
[ "$p" -ge 4 ] && [ "$p" -le 8 ] && ok "release certificate: $p pages" || not_ok "release: $p pages"

# The Aliquots header wraps over three lines: its last line ends above the first aliquot's ID.
gap=$(/usr/bin/python3 - "$TMP/pdf/release.pdf" "$L" <<'EOF'
import subprocess, sys, xml.etree.ElementTree as ET
pdf, lot = sys.argv[1], sys.argv[2]
root = ET.fromstring(subprocess.run(["pdftotext", "-bbox", pdf, "-"], check=True, capture_output=True).stdout)
for page in (e for e in root.iter() if e.tag.endswith("page")):
    words = [(w.text or "", float(w.get("yMin")), float(w.get("yMax"))) for w in page if w.tag.endswith("word")]
    head = [w for w in words if w[0] in ("(before", "release)")]
    if not head:
        continue
    bottom = max(w[2] for w in head)
    ids = [w[1] for w in words if w[0].startswith(lot[:9]) and w[1] > min(h[1] for h in head)]
    print("%.1f" % (min(ids) - bottom) if ids else "none")
    break
else:
    print("none")
EOF
)
[ "$gap" != none ] && awk -v g="$gap" 'BEGIN { exit !(g >= 0) }' &&
    ok "the wrapped header ends above the first row ($gap pt apart)" || not_ok "header and first row: $gap"

done_testing
