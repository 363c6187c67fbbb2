#!/usr/bin/env bash
# demo.sh: the demonstration workflow on the embedded database (README "make demo").
# Each step is a real fmtbank command; the users are the demo users of "fmtbank init --demo".
set -euo pipefail
BUILD=${1:-build}
export PATH="$(cd "$BUILD" && pwd):$PATH"
step() { printf '\n== %s\n' "$*"; }

step "create (first time) and start the embedded database, apply the schema, load demo data"
fmtbank init --demo
fmtbank status

step "people and roles"
fmtbank user list

step "the donor registry (pseudonymous codes)"
fmtbank --user alice donor list

step "audit trail integrity"
fmtbank --user audrey audit verify

step "screening: D-0001's full questionnaire and screening panel make the donor eligible"
today=$(date +%F)
if [ "$(fmtbank --user alice --format tsv donor show D-0001 | awk -F'\t' 'NR == 2 { print $2 }')" != eligible ]; then
    sdir=$(mktemp -d)
    # a clear full questionnaire: every item of the catalog answered
    { echo "item,answer"
      fmtbank --user alice --format tsv catalog questions |
          awk -F'\t' 'NR > 1 && $2 == "full" && $12 == "" {
              a = ($3 == "boolean") ? "no" : ($3 == "date") ? "" : ($1 == "bmi") ? "22.5" : "2"
              print $1 "," a }'; } >"$sdir/questionnaire.csv"
    # an acceptable result for every test of the catalog, collected yesterday
    { echo "donor,test,collected,result,unit,lab"
      fmtbank --user alice --format tsv catalog tests |
          awk -F'\t' -v day="$(date -d yesterday +%F)" 'NR > 1 {
              print "D-0001," $1 "," day "," ($7 == "" ? "negative" : "1") "," $7 ",Demo Lab" }'; } >"$sdir/panel.csv"
    fmtbank --user alice --reason "demo questionnaire" questionnaire record D-0001 --date "$today" --file "$sdir/questionnaire.csv"
    fmtbank --user alice result import "$sdir/panel.csv" >/dev/null
    rm -rf "$sdir"
fi
fmtbank --user alice donor explain D-0001
fmtbank --user alice donor list

step "the audit trail as an xlsx report (reports/audit.report)"
fmtbank --user audrey report audit -o "$(cd "$BUILD" && pwd)/demo-audit.xlsx"
echo "audit report: $(cd "$BUILD" && pwd)/demo-audit.xlsx"

step "inventory: a freezer box, D-0001's donation processed into labelled doses, scanned in"
demo_out=$(cd "$BUILD" && pwd)
# Storage (admin): the freezer (once) and a box of 4 x 6.
if ! fmtbank --user adam --format tsv location list | grep -q "Demo freezer"; then
    fmtbank --user adam freezer add "Demo freezer" --temp -80 --site "Main lab"
fi
box=$(fmtbank --user adam box add --freezer "Demo freezer" --rack R1 --rows 4 --cols 6)
echo "box $box"
# Donation day: the donation-day questionnaire (once a day), then the donation. Eligibility is
# judged on what was recorded by the collection time, so it is collected after the screening above.
sleep 1
collected=$(date '+%Y-%m-%d %H:%M:%S')
if ! fmtbank --user alice --format tsv questionnaire list D-0001 |
        awk -F'\t' -v d="${collected:0:10}" '$2 == "donation-day" && $3 == d' | grep -q .; then
    { echo "item,answer"
      fmtbank --user alice --format tsv catalog questions |
          awk -F'\t' 'NR > 1 && $2 == "donation-day" { print $1 ",no" }'; } |
        fmtbank --user alice questionnaire record D-0001 --date "${collected:0:10}" --short --file - >/dev/null
fi
lot=$(fmtbank --user alice donation add D-0001 --collected "$collected" --mass 180 --bristol 4)
echo "lot $lot"
# Processing: 3 doses and the retained sample, with their labels (ZPL II).
fmtbank --user alice donation process "$lot" --processed "$(date '+%Y-%m-%d %H:%M:%S')" --doses 3 \
    --labels "$demo_out/demo-labels.zpl" >"$demo_out/demo-tubes.txt"
cat "$demo_out/demo-tubes.txt"
# The scan session: the box, then every tube (a scanner types each ID and Enter).
{ echo "$box"; cat "$demo_out/demo-tubes.txt"; } | fmtbank --user alice scan
fmtbank --user alice location show "$box"
fmtbank --user alice aliquot history "$(head -1 "$demo_out/demo-tubes.txt")"
echo "labels: $demo_out/demo-labels.zpl"

printf '\nEmbedded database: %s\n' "$(fmtbank db url)"
