#!/usr/bin/env bash
# t0020-archive: "fmtbank archive --until D -o DIR" (product.md §15, issue 16 item 5): the datasets
# as CSV, JSON and xlsx, the audit-chain segment, donor identity only in the sealed file, and the
# README's recipe run without fmtbank (sha256sum -c MANIFEST, python3 VERIFY.py, openssl cms to
# open the sealed file), which detects a changed file, a rewritten audit row (even with the
# manifest recomputed) and a cut segment. Refusals write nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"

setup_db
lot=$(ready_lot D-0019001) || { echo "could not make a releasable lot"; exit 1; }
sign "$lot"
[ "$RC" -eq 0 ] && ok "a signed release" || not_ok "a signed release"
expect 0 "donor identity" fmtbank --user quinn donor identity D-0019001 --full-name "Ada Sealedname" \
    --contact "ada@example.org"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/seal.key" -out "$TMP/seal.pem" \
    -subj /CN=fmtbank-archive-test -days 11000 2>/dev/null
today=$(date +%F)

# ---------------------------------------------------------------- refusals write nothing
expect 6 "archive by a technician: permission denied" \
    fmtbank --user alice archive --until "$today" -o "$TMP/a0" --seal-cert "$TMP/seal.pem"
assert_contains "$ERR" "requires the quality role" "names the role"
expect 6 "archive by the auditor: permission denied" \
    fmtbank --user audrey archive --until "$today" -o "$TMP/a0" --seal-cert "$TMP/seal.pem"
expect 3 "--until in the future" fmtbank --user quinn archive --until "$(date -d '+2 days' +%F)" \
    -o "$TMP/a0" --seal-cert "$TMP/seal.pem"
assert_contains "$ERR" "is in the future" "says so"
expect 3 "--until not a date" fmtbank --user quinn archive --until soon -o "$TMP/a0" \
    --seal-cert "$TMP/seal.pem"
expect 2 "--seal-cert missing" fmtbank --user quinn archive --until "$today" -o "$TMP/a0"
echo "not a certificate" >"$TMP/bad.pem"
expect 3 "--seal-cert not a certificate" fmtbank --user quinn archive --until "$today" \
    -o "$TMP/a0" --seal-cert "$TMP/bad.pem"
mkdir "$TMP/full" && echo keep >"$TMP/full/x"
expect 5 "an output directory with files in it" fmtbank --user quinn archive --until "$today" \
    -o "$TMP/full" --seal-cert "$TMP/seal.pem"
assert_eq "$(ls "$TMP/full")" "x" "left as it was"
[ ! -e "$TMP/a0" ] && ok "nothing written by the refusals" || not_ok "nothing written"
sql_as alice "SELECT count(*) FROM fmtbank.archive_donor_identity"
[ "$RC" -ne 0 ] && ok "psql: the archive views are quality's only" || not_ok "psql: archive views"

# ---------------------------------------------------------------- the archive
expect 0 "keygen" fmtbank audit keygen --private "$TMP/anchor.key" --public "$TMP/anchor.pub"
rows=$(audit_count)
expect 0 "archive --until today" fmtbank --user quinn archive --until "$today" -o "$TMP/arch" \
    --seal-cert "$TMP/seal.pem" --key "$TMP/anchor.key"
assert_eq "$OUT" "$TMP/arch" "prints the directory"
assert_contains "$ERR" "MANIFEST SHA-256" "prints the manifest's hash to keep elsewhere"
A="$TMP/arch"
for f in release_signatures cases case_decisions case_notifications results questionnaires \
    questionnaire_answers lots aliquots custody issues recipient_events donors audit; do
    [ -f "$A/$f.csv" ] && [ -f "$A/$f.json" ] && grep -q "  $f.csv\$" "$A/MANIFEST" ||
        not_ok "$f.csv and $f.json in the manifest"
done
ok "every dataset as CSV and JSON, in the manifest"
assert_contains "$(cat "$A/release_signatures.csv")" "$lot" "the signed release"
assert_contains "$(cat "$A/lots.json")" "\"lot_id\":\"$lot\"" "the lot (JSON)"
assert_eq "$(($(wc -l <"$A/aliquots.csv") - 1))" "$(sql "SELECT count(*) FROM fmtbank.aliquot")" \
    "every aliquot (processing)"
assert_eq "$(python3 -c 'import csv,sys; print(sum(1 for _ in csv.DictReader(open(sys.argv[1], newline=""))))' \
    "$A/results.csv")" "$(sql "SELECT count(*) FROM fmtbank.result")" "every result"
assert_contains "$(cat "$A/ARCHIVE.txt")" "audit_rows: $rows" "the audit segment is the whole trail"
sheets=$(python3 -c 'import zipfile,sys,re; print(" ".join(re.findall(r"<sheet name=\"([^\"]+)\"",
    zipfile.ZipFile(sys.argv[1]).read("xl/workbook.xml").decode())))' "$A/archive.xlsx")
assert_contains "$sheets" "release_signatures" "archive.xlsx has the releases sheet"
assert_contains "$sheets" "audit" "and the audit sheet"
assert_eq "$(grep -rl -e Sealedname -e ada@example.org "$A" | wc -l)" "0" \
    "donor identity in no open file"

# ---------------------------------------------------------------- the recipe, without fmtbank
cd "$A" || exit 1
run sha256sum -c MANIFEST
[ "$RC" -eq 0 ] && ok "sha256sum -c MANIFEST" || not_ok "sha256sum -c MANIFEST"
run openssl pkeyutl -verify -pubin -inkey "$TMP/anchor.pub" -rawin -in MANIFEST -sigfile MANIFEST.sig
[ "$RC" -eq 0 ] && ok "openssl: MANIFEST.sig is the signer's signature of MANIFEST" ||
    not_ok "MANIFEST.sig does not verify"
run python3 VERIFY.py
[ "$RC" -eq 0 ] && ok "VERIFY.py" || not_ok "VERIFY.py"
assert_contains "$OUT" "audit segment intact: $rows rows" "recomputes every row's hash"
assert_contains "$OUT" "sealed rows not opened" "says the identity rows stay sealed"
run openssl cms -decrypt -inform DER -in donor-identity.sealed.cms -inkey "$TMP/seal.key" \
    -recip "$TMP/seal.pem" -out "$TMP/sealed.json"
[ "$RC" -eq 0 ] && ok "openssl opens the sealed file" || not_ok "openssl cms -decrypt"
assert_contains "$(cat "$TMP/sealed.json")" "Ada Sealedname" "it holds the identity"
run python3 VERIFY.py --sealed "$TMP/sealed.json"
assert_contains "$OUT" "audit segment intact: $rows rows" "with it every row is recomputed"
assert_not_contains "$OUT" "not opened" "the identity rows too"
cd - >/dev/null || exit 1

# ---------------------------------------------------------------- tampering is detected
tamper() { rm -rf "$TMP/t"; cp -r "$A" "$TMP/t"; chmod -R u+w "$TMP/t"; }
remanifest() { (cd "$TMP/t" && sed -i "/  $1\$/d" MANIFEST && sha256sum "$1" >>MANIFEST); }
tamper
sed -i 's/Released for clinical use/Released for anything/' "$TMP/t/release_signatures.csv"
run sh -c "cd '$TMP/t' && sha256sum -c MANIFEST"
[ "$RC" -ne 0 ] && ok "sha256sum -c: a changed file fails" || not_ok "changed file undetected"
assert_contains "$OUT" "release_signatures.csv: FAILED" "names it"

tamper
victim=$(sql "SELECT max(id) FROM fmtbank.audit_log WHERE tbl = 'release_signature'")
python3 - "$TMP/t/audit.csv" "$victim" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))
for r in rows[1:]:
    if r[0] == sys.argv[2]:
        r[2] = 'mallory'
w = csv.writer(open(sys.argv[1], 'w', newline='', encoding='utf-8'))
w.writerows(rows)
EOF
remanifest audit.csv
run sh -c "cd '$TMP/t' && sha256sum -c MANIFEST >/dev/null && python3 VERIFY.py"
[ "$RC" -eq 1 ] && ok "VERIFY.py: a rewritten audit row fails, manifest recomputed or not" ||
    not_ok "rewritten audit row undetected"
assert_contains "$OUT" "audit chain broken at row $victim" "names the row"
run openssl pkeyutl -verify -pubin -inkey "$TMP/anchor.pub" -rawin -in "$TMP/t/MANIFEST" \
    -sigfile "$TMP/t/MANIFEST.sig"
[ "$RC" -ne 0 ] && ok "openssl: a recomputed MANIFEST no longer matches MANIFEST.sig" ||
    not_ok "recomputed MANIFEST still verifies"

tamper
head -n -1 "$TMP/t/audit.csv" >"$TMP/cut.csv" && cp "$TMP/cut.csv" "$TMP/t/audit.csv"
remanifest audit.csv
run sh -c "cd '$TMP/t' && python3 VERIFY.py"
[ "$RC" -eq 1 ] && ok "VERIFY.py: a segment cut short fails" || not_ok "cut segment undetected"
assert_contains "$OUT" "does not end as ARCHIVE.txt says" "says so"

tamper
sealed_id=$(sql "SELECT max(id) FROM fmtbank.audit_log WHERE pii")
python3 - "$TMP/t/audit.csv" "$sealed_id" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))
for r in rows[1:]:
    if r[0] == sys.argv[2]:
        r[10] = '0' * 64
csv.writer(open(sys.argv[1], 'w', newline='', encoding='utf-8')).writerows(rows)
EOF
run sh -c "cd '$TMP/t' && python3 VERIFY.py"
[ "$RC" -eq 1 ] && ok "VERIFY.py: a sealed row's hash changed breaks the next link" ||
    not_ok "sealed row hash change undetected"

# ---------------------------------------------------------------- an earlier date
expect 0 "archive --until 2020-01-01" fmtbank --user quinn archive --until 2020-01-01 \
    -o "$TMP/old" --seal-cert "$TMP/seal.pem"
assert_not_contains "$(cat "$TMP/old/donors.csv")" "D-0019001" "no donor registered since"
assert_contains "$(cat "$TMP/old/ARCHIVE.txt")" "audit_rows: 0" "nor any audit row"
run sh -c "cd '$TMP/old' && sha256sum -c MANIFEST >/dev/null && python3 VERIFY.py"
[ "$RC" -eq 0 ] && ok "an empty segment verifies" || not_ok "empty segment verify"

done_testing
