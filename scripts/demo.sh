#!/usr/bin/env bash
# demo.sh: the demonstration workflow on the embedded database (README "make demo").
# Each step is a real fmtbank command; the users are the demo users of "fmtbank init --demo".
set -euo pipefail
BUILD=${1:-build}
export PATH="$(cd "$BUILD" && pwd):$PATH"
step() { printf '\n== %s\n' "$*"; }

# Everyone authenticates with a password (scram): the demo users' passwords in a mode-0600
# PGPASSFILE (README "Authentication"); only the service account uses peer ("fmtbank init").
if [ -z "${PGPASSFILE:-}" ]; then
    PGPASSFILE=$(mktemp)
    trap 'rm -f "$PGPASSFILE"' EXIT
    export PGPASSFILE
fi
unset PGPASSWORD
chmod 600 "$PGPASSFILE"
printf '%s\n' '*:*:*:alice:alice-signs-1' '*:*:*:quinn:quinn-signs-1' \
    '*:*:*:audrey:audrey-signs-1' '*:*:*:adam:adam-signs-1' >>"$PGPASSFILE"

step "create (first time) and start the embedded database, apply the schema, load demo data"
fmtbank init --demo
fmtbank --user adam status

step "people and roles"
fmtbank --user adam user list

step "the donor registry (pseudonymous codes)"
fmtbank --user alice donor list

step "audit trail integrity"
fmtbank --user audrey audit verify

step "the catalog as data: an administrator adds a screening test (mpox PCR) in one command"
# A new catalog version: donors need the test from now on, unreleased lots are not ready until
# tested, and released stock collected from --applies-from that was never tested is held by a
# catalog case. (Once: a later run finds it in force.)
if ! fmtbank --user audrey --format tsv catalog tests | cut -f1 | grep -qx MPOX; then
    fmtbank --user adam --reason "FDA 2022 safety alert: mpox screening of stool donors" \
        catalog test add MPOX --name "mpox PCR" --specimen rectal_swab --phases pre,post \
        --accept negative --validity-days 60 --source FDA22 --applies-from 2022-03-15 >/dev/null
fi
fmtbank --user audrey catalog history

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
# Donation day: the donation-day questionnaire (once a day), then the donation, judged on the facts
# valid at the collection as known now (product.md §11.2).
collected=$(date '+%Y-%m-%d %H:%M:%S')
if ! fmtbank --user alice --format tsv questionnaire list D-0001 |
        awk -F'\t' -v d="${collected:0:10}" '$2 == "donation-day" && $3 == d' | grep -q .; then
    { echo "item,answer"
      fmtbank --user alice --format tsv catalog questions |
          awk -F'\t' 'NR > 1 && $2 == "donation-day" { print $1 ",no" }'; } |
        fmtbank --user alice questionnaire record D-0001 --date "${collected:0:10}" --short --file - >/dev/null
fi
# "donation check" answers what "donation add" would do, creating nothing; run again within
# duplicate_donation_minutes, the demo's donation is a probable duplicate of the last run's.
again=()
if ! fmtbank --user alice donation check D-0001 --collected "$collected" --mass 180 --bristol 4 2>/dev/null |
        grep -q '^would *quarantine$'; then
    again=(--not-duplicate --reason "the demo run again")
fi
lot=$(fmtbank --user alice donation add D-0001 --collected "$collected" --mass 180 --bristol 4 "${again[@]}")
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

step "the inventory as an xlsx report (reports/inventory.report): by state, freezer, box; box map"
fmtbank --user alice report inventory -o "$(cd "$BUILD" && pwd)/demo-inventory.xlsx"
echo "inventory report: $(cd "$BUILD" && pwd)/demo-inventory.xlsx"

printf '\nEmbedded database: %s\n' "$(fmtbank db url)"

# ---------------------------------------------------------------- the release path
# One new donor (a new code each run, so the demo can run again on the same database) from
# screening to a signed release, with dates relative to today.
step "the release path: a new donor, screened, donating, released"
DEMO_TMP=$(mktemp -d)
trap 'rm -rf "$DEMO_TMP"' EXIT
day() { date -d "$1 days" +%F; }
CODE="D-$(date +%s | tail -c 9)"
fmtbank --user alice donor add "$CODE" --birth-year 1990 --sex F
# The signed consent form (its scan's SHA-256 kept with it): clinical use, research and trials. Without a
# consent in force at the collection the donation would be recorded as a rejected lot.
printf 'demo consent form of %s\n' "$CODE" >"$DEMO_TMP/consent.txt"
fmtbank --user alice donor consent "$CODE" --version 2026-1 --signed "$(day -50)" --scope clinical,research,trial \
    --document "$(sha256sum "$DEMO_TMP/consent.txt" | cut -c1-64)"
# The full questionnaire (every item clear: no, never, numbers inside their range), from the catalog.
fmtbank --user alice --format tsv catalog questions | awk -F'\t' '
    NR == 1 { print "item,answer"; next }
    $2 != "full" || $12 != "" { next }
    $3 == "boolean" { print $1 ",no"; next }
    $3 == "date" { print $1 ","; next }
    { v = $6; if ($1 == "bmi") v = 23; if ($1 == "phq9") v = 3; if ($1 == "gad7") v = 2; print $1 "," v }' \
    >"$DEMO_TMP/full.csv"
fmtbank --user alice questionnaire record "$CODE" --date "$(day -45)" --file "$DEMO_TMP/full.csv" >/dev/null
# A panel (every test of the catalog, acceptable: negative, or half its limit) collected on a day.
panel() {
    fmtbank --user alice --format tsv catalog tests | awk -F'\t' -v code="$CODE" -v day="$1" '
        NR == 1 { print "donor,test,collected,result,unit,lab"; next }
        { if ($6 == "negative") r = "negative"; else { l = $6; sub(/^[<=]+/, "", l); r = l / 2 }
          print code "," $1 "," day "," r "," $7 ",Demo Lab" }' >"$DEMO_TMP/panel-$1.csv"
    fmtbank --user alice result import "$DEMO_TMP/panel-$1.csv" >/dev/null
}
step "pre-donation panel collected $(day -44); the donor is eligible"
panel "$(day -44)"
fmtbank --user alice donor show "$CODE" | head -3

step "donation-day questionnaire and the donation of $(day -40) 08:30"
fmtbank --user alice --format tsv catalog questions | awk -F'\t' 'NR == 1 { print "item,answer"; next }
    $2 == "donation-day" { print $1 ",no" }' >"$DEMO_TMP/short.csv"
fmtbank --user alice questionnaire record "$CODE" --date "$(day -40)" --short --file "$DEMO_TMP/short.csv" >/dev/null
# A donation of 40 days ago, entered today: judged on the facts valid at its collection as known
# now (the screening recorded above), and entered later than max_entry_hours, so with a reason.
LOT=$(fmtbank --user alice --reason "demo: a past donation entered today" donation add "$CODE" \
          --collected "$(day -40) 08:30" --mass 180 --bristol 4)
echo "lot $LOT"

step "processing into 3 doses and a retained sample, labels printed"
IDS=$(fmtbank --user alice donation process "$LOT" --processed "$(day -40) 10:05" --doses 3 \
          --labels "$DEMO_TMP/labels.zpl")
echo "$IDS"

step "scanning the tubes into a freezer box"
fmtbank --user adam freezer add "Demo freezer" --temp -80 --site "Main lab" >/dev/null 2>&1 || true
BOX=$(fmtbank --user adam box add --freezer "Demo freezer" --rack R1 --rows 9 --cols 9)
printf '%s\n' "$BOX" $IDS END | fmtbank --user alice scan
fmtbank --user alice location show "$BOX"

step "the lot in quarantine: what blocks its release"
fmtbank --user alice lot show "$LOT" || true

step "post-donation panel collected $(day -1); release check"
panel "$(day -1)"
fmtbank --user quinn release check "$LOT" || true

step "the post-donation health check: the follow-up questionnaire of $(day -12), 28 days after the donation"
fmtbank --user alice --format tsv catalog questions | awk -F'\t' 'NR == 1 { print "item,answer"; next }
    $2 == "follow-up" { print $1 ",no" }' >"$DEMO_TMP/followup.csv"
fmtbank --user alice questionnaire record "$CODE" --date "$(day -12)" --followup --file "$DEMO_TMP/followup.csv" >/dev/null
fmtbank --user quinn release check "$LOT"

step "a suspicion holds the lot at once (a manual case); only quality's signed decision lifts it"
CASE=$(fmtbank --user alice hold add --lot "$LOT" --reason "donor phoned: a household member has diarrhoea")
fmtbank --user quinn release check "$LOT" || true
fmtbank --user quinn case decide "$CASE" --lift --meaning "Household contact tested negative" \
    --password-stdin <<<'quinn-signs-1'
fmtbank --user quinn case close "$CASE" --reason "lifted: no risk to the lot"
fmtbank --user quinn case show "$CASE"
fmtbank --user quinn release check "$LOT"

step "quinn signs the release (re-entering the signature password)"
fmtbank --user quinn release sign "$LOT" --meaning "Released for clinical use" --password-stdin \
    <<<'quinn-signs-1'
fmtbank --user alice aliquot list --lot "$LOT"

# ---------------------------------------------------------------- a small blinded trial
# The bank's pharmacist (quality + the unblinded role) adds a 1:1 trial, prepares placebo, makes
# kits from two doses of each arm; the site nurse (blinded) enrols two participants, dispenses
# their first visit, and unblinds one in an emergency (product.md §14; README "Blinded trials").
step "a blinded trial: users, randomisation, a placebo preparation, kits"
printf '%s\n' '*:*:*:nina:nina-signs-12' '*:*:*:phil:phil-signs-12' >>"$PGPASSFILE"
if ! fmtbank --user adam --format tsv user list | cut -f1 | grep -qx nina; then
    echo 'nina-signs-12' | fmtbank --user adam user add nina --role site --name "Nina Nurse" --password-stdin
    echo 'phil-signs-12' | fmtbank --user adam user add phil --role quality --name "Phil Pharm" --password-stdin
    fmtbank --user adam --reason "trial pharmacist" user unblinded phil yes
fi
TRIAL="DEMO-$(date +%s | tail -c 9)"
fmtbank --user phil trial add "$TRIAL" --arms FMT:1,PLACEBO:1 --block-sizes 2,4 --strata site --doses 1
PLACEBO_CODE="D-9$(date +%s | tail -c 8)"
PLOT=$(fmtbank --user alice donation add "$PLACEBO_CODE" --placebo --trial "$TRIAL" \
           --collected "$(day -40) 09:00" --mass 200 --preparation "saline 0.9% + glycerol 10% + colouring, batch demo")
fmtbank --user alice donation process "$PLOT" --processed "$(day -40) 10:00" --doses 2 >/dev/null
fmtbank --user quinn release sign "$PLOT" --meaning "Released for clinical trial use" --password-stdin <<<'quinn-signs-1'
mapfile -t FMT_DOSES < <(fmtbank --user alice --format tsv aliquot list --lot "$LOT" | awk -F'\t' 'NR > 1 && $1 !~ /-000.$/ { print $1 }' | head -2)
mapfile -t PL_DOSES < <(fmtbank --user alice --format tsv aliquot list --lot "$PLOT" | awk -F'\t' 'NR > 1 && $1 !~ /-000.$/ { print $1 }')
fmtbank --user phil trial kits make "$TRIAL" --arm FMT --aliquots "$(IFS=,; echo "${FMT_DOSES[*]}")" \
    --labels "$DEMO_TMP/kits-fmt.zpl"
fmtbank --user phil trial kits make "$TRIAL" --arm PLACEBO --aliquots "$(IFS=,; echo "${PL_DOSES[*]}")" \
    --labels "$DEMO_TMP/kits-placebo.zpl"

step "the site enrols and dispenses (blinded: kit numbers only), then an emergency unblinding"
for p in P-001 P-002; do
    fmtbank --user nina trial enrol "$TRIAL" "$p" --stratum site=OSLO
    fmtbank --user nina trial dispense "$TRIAL" "$p" --visit 1
done
fmtbank --user nina trial show "$TRIAL"
fmtbank --user nina --reason "severe colitis: the treating physician needs the arm" \
    trial unblind "$TRIAL" P-001 --emergency
fmtbank --user nina report trial_dispensing --param trial="$TRIAL" -o "$(cd "$BUILD" && pwd)/demo-trial-dispensing.xlsx"
echo "dispensing log: $(cd "$BUILD" && pwd)/demo-trial-dispensing.xlsx"

step "the audit chain head signed with a key outside the database (Ed25519 anchor), then verified"
# In production the signer runs as its own OS user (dist/fmtbank-anchor.service) and the key never
# lies where the database's OS user can read it; the demo keeps both keys beside the build.
# One anchor log per audit chain (named by its first row's hash), so a database made anew starts
# a new log.
chain=$(fmtbank --user audrey db psql -X -A -t -c "SELECT left(encode(hash, 'hex'), 16) FROM fmtbank.audit_log ORDER BY id LIMIT 1")
adir="$(cd "$BUILD" && pwd)/demo-anchor/$chain"
mkdir -p "$adir" && chmod 700 "$(dirname "$adir")" "$adir"
[ -f "$adir/anchor.key" ] || fmtbank audit keygen --private "$adir/anchor.key" --public "$adir/anchor.pub"
fmtbank --user audrey audit anchor --key "$adir/anchor.key" --log "$adir/anchors.log"
fmtbank --user audrey audit verify --anchors "$adir/anchors.log" --pub "$adir/anchor.pub"

step "the signed release report of lot $LOT (and the inventory report when defined)"
rel_xlsx="$(cd "$BUILD" && pwd)/release-$LOT.xlsx"
fmtbank --user quinn release report "$LOT" -o "$rel_xlsx"
echo "release report: $rel_xlsx"
if [ -f "$(dirname "$0")/../reports/inventory.report" ]; then
    inv_xlsx="$(cd "$BUILD" && pwd)/inventory.xlsx"
    fmtbank --user quinn report inventory -o "$inv_xlsx"
    echo "inventory report: $inv_xlsx"
fi
