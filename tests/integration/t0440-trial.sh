#!/usr/bin/env bash
# t0440-trial: blinded trial dispensing through the CLI (product.md §14): the site and unblinded
# roles; "trial add" with its sealed seed and with an imported --list (bad lines named, nothing
# stored); a placebo preparation ("donation add --placebo") released on its own readiness and
# never issued outside its trial; "trial kits make" with kit labels identical for every arm but
# the kit number; enrol, dispense (recorded as a trial issue), an emergency unblinding; what the
# site cannot read (psql, trial show, reports); the reports read back with openpyxl; exit codes
# 2, 3, 4, 5 and 6. The rule scenarios in full are tests/sql/sql/trial.sql.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db
DUMP() { /usr/bin/python3 "$FMTBANK_SRC/tests/integration/xlsxdump.py" "$1"; }

# --- people: a site nurse (blinded) and the bank's pharmacist (quality + unblinded)
expect 0 "admin adds a site user" bash -c "echo 'nina-signs-12' | fmtbank --user adam user add nina --role site --name 'Nina Nurse' --password-stdin"
pgpass_add nina nina-signs-12
expect 0 "admin adds a pharmacist" bash -c "echo 'phil-signs-12' | fmtbank --user adam user add phil --role quality --name 'Phil Pharm' --password-stdin"
pgpass_add phil phil-signs-12
expect 3 "user add: an unknown role" fmtbank --user adam user add zed --role nurse
expect 6 "quality does not grant the unblinded role" fmtbank --user quinn --reason "trial pharmacist" user unblinded phil yes
expect 3 "the unblinded role needs a reason" fmtbank --user adam user unblinded phil yes
expect 5 "a site user is never unblinded" fmtbank --user adam --reason "trial pharmacist" user unblinded nina yes
expect 0 "admin grants phil the unblinded role" fmtbank --user adam --reason "trial pharmacist of MOOD-1" user unblinded phil yes
expect 0 "user list" fmtbank --user adam --format json user list
assert_eq "$(echo "$OUT" | /usr/bin/python3 -c 'import json,sys; print(" ".join(u["name"] + ":" + u["role"] + ":" + str(u["unblinded"]) for u in json.load(sys.stdin) if u["name"] in ("nina", "phil")))')" \
    "nina:site:False phil:quality:True" "user list shows the role and the unblinded role"

# --- trial add
before=$(audit_count)
expect 6 "a technician adds no trial" fmtbank --user alice trial add MOOD-1 --arms FMT:2,PLACEBO:1 --block-sizes 3,6 --strata site,sex --doses 2
expect 6 "quality without the unblinded role adds no trial" fmtbank --user quinn trial add MOOD-1 --arms FMT:2,PLACEBO:1 --block-sizes 3,6 --strata site,sex --doses 2
assert_contains "$ERR" "permission denied for function trial_add" "the function is not theirs"
expect 2 "no --doses" fmtbank --user phil trial add MOOD-1 --arms FMT:2,PLACEBO:1 --block-sizes 3,6
expect 3 "block sizes not multiples of the ratio sum" fmtbank --user phil trial add MOOD-1 --arms FMT:2,PLACEBO:1 --block-sizes 3,4 --strata site,sex --doses 2
assert_contains "$ERR" '"4" is not a multiple of 3' "names the bad size"
expect 3 "a malformed arm" fmtbank --user phil trial add MOOD-1 --arms FMT,PLACEBO:1 --block-sizes 3 --doses 2
expect 4 "an unknown pool donor" fmtbank --user phil trial add MOOD-1 --arms FMT:2,PLACEBO:1 --block-sizes 3,6 --doses 2 --donor-pool D-9999
sql_as alice "INSERT INTO fmtbank.trial (code, block_sizes, strata, doses, list_source) VALUES ('X-1', '{3}', '{}', 1, 'generated')"
assert_contains "$ERR" "permission denied for table trial" "psql: no direct write"
assert_eq "$(audit_count)" "$before" "no refused command changed anything"
expect 0 "the pharmacist adds the trial" fmtbank --user phil trial add mood-1 --arms FMT:2,PLACEBO:1 --block-sizes 3,6 --strata site,sex --doses 2 --same-donor
assert_eq "$OUT" "MOOD-1" "prints the trial code"
expect 5 "the same trial twice" fmtbank --user phil trial add MOOD-1 --arms FMT:2,PLACEBO:1 --block-sizes 3,6 --doses 2

# --- an imported list: the CSV path refuses bad bytes and bad lines with their numbers
printf 'stratum,block,arm\n"site=A",1,FMT\n"site=A",1,\xff\n' >"$TMP/bytes.csv"
expect 3 "a list with invalid UTF-8" fmtbank --user phil trial add LIST-1 --arms FMT:1,PLACEBO:1 --strata site --doses 1 --list "$TMP/bytes.csv"
assert_contains "$ERR" "bytes.csv:3:" "names the line"
printf 'stratum,block,arm\nsite=A,1,FMT\nsite=A,1,PLACEBO\nsite=A,2,ACTIVE\nsite=B,x,FMT\n' >"$TMP/bad.csv"
expect 3 "a list with bad lines" fmtbank --user phil trial add LIST-1 --arms FMT:1,PLACEBO:1 --strata site --doses 1 --list "$TMP/bad.csv"
assert_contains "$ERR" "invalid allocation list: 2 bad lines" "counts the bad lines"
assert_contains "$ERR" 'line 4: unknown arm "ACTIVE"' "line 4 named"
assert_contains "$ERR" 'line 5: invalid block "x"' "line 5 named"
printf 'arm,block\nFMT,1\n' >"$TMP/header.csv"
expect 3 "a list with the wrong header" fmtbank --user phil trial add LIST-1 --arms FMT:1,PLACEBO:1 --strata site --doses 1 --list "$TMP/header.csv"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.trial WHERE code = 'LIST-1'")" "0" "nothing stored"
printf 'stratum,block,arm\n"site=A",1,PLACEBO\n"site=A",1,FMT\n' >"$TMP/good.csv"
expect 0 "a good list" fmtbank --user phil trial add LIST-1 --arms FMT:1,PLACEBO:1 --strata site --doses 1 --list "$TMP/good.csv"
expect 0 "enrol from the list" fmtbank --user nina trial enrol LIST-1 Q-1 --stratum site=A
expect 0 "enrol from the list" fmtbank --user nina trial enrol LIST-1 Q-2 --stratum site=A
expect 5 "the list is used up" fmtbank --user nina trial enrol LIST-1 Q-3 --stratum site=A
assert_eq "$(sql "SELECT string_agg(al.arm, ',' ORDER BY p.seq) FROM fmtbank.trial_participant p JOIN fmtbank.trial t ON t.id = p.trial
                  JOIN fmtbank.trial_allocation al ON al.trial = p.trial AND al.stratum = p.stratum AND al.seq = p.seq WHERE t.code = 'LIST-1'")" \
    "PLACEBO,FMT" "the imported order is used"

# --- stock: two donors' released lots, and a placebo preparation released on its own readiness
A1=$(ready_lot D-4401); B1=$(ready_lot D-4402)
for l in "$A1" "$B1"; do sign "$l"; assert_eq "$RC" "0" "lot $l released"; done
expect 3 "a placebo without its preparation record" fmtbank --user alice donation add D-9901 --placebo --trial MOOD-1 --collected "$(d -40) 08:30" --mass 400
expect 2 "--placebo without --trial" fmtbank --user alice donation add D-9901 --placebo --collected "$(d -40) 08:30" --mass 400
expect 2 "a donation without --bristol" fmtbank --user alice donation add D-4401 --collected "$(d -1) 08:30" --mass 200
expect 5 "a donor is no placebo" fmtbank --user alice donation add D-4401 --placebo --trial MOOD-1 --collected "$(d -40) 08:30" --mass 400 --preparation saline
expect 0 "a placebo preparation" fmtbank --user alice donation add D-9901 --placebo --trial MOOD-1 --collected "$(d -40) 08:30" --mass 400 \
    --preparation "saline 0.9% + glycerol 10% + colouring, batch PB-17"
P1=$OUT
expect 5 "a placebo preparation has no donations" fmtbank --user alice donation add D-9901 --collected "$(d -40) 08:30" --mass 400 --bristol 4
assert_contains "$ERR" "it is a placebo preparation" "says why"
assert_eq "$(lot_rules "$P1")" "processing" "before processing only processing blocks it"
rel_process "$P1" "$(d -40) 09:30" 3 >/dev/null
assert_eq "$(lot_shown "$P1")" "ready" "processed, it is ready: no donor panel, a preparation record"
sign "$P1"; assert_eq "$RC" "0" "placebo lot released"
mapfile -t AA < <(aliquots_of "$A1"); mapfile -t BB < <(aliquots_of "$B1"); mapfile -t PP < <(aliquots_of "$P1")
expect 5 "a placebo dose is never issued outside its trial" fmtbank --user alice aliquot issue "${PP[1]}" --recipient R-0001 --site "Hospital A"
assert_contains "$ERR" "placebo preparation of trial \"MOOD-1\"" "says why"
expect 2 "use trial is only for dispensing" fmtbank --user alice aliquot issue "${AA[1]}" --recipient R-0001 --site "Hospital A" --use trial

# --- kits: random numbers with check characters, labels identical in layout for every arm
expect 6 "a technician makes no kit" fmtbank --user alice trial kits make MOOD-1 --arm FMT --aliquots "${AA[1]}"
expect 5 "a donor's dose is no placebo kit" fmtbank --user phil trial kits make MOOD-1 --arm PLACEBO --aliquots "${AA[1]}"
expect 3 "an unknown arm" fmtbank --user phil trial kits make MOOD-1 --arm ACTIVE --aliquots "${AA[1]}"
expect 0 "FMT kits" fmtbank --user phil trial kits make MOOD-1 --arm FMT --aliquots "${AA[1]},${AA[2]},${AA[3]},${BB[1]},${BB[2]},${BB[3]}" --labels "$TMP/fmt.zpl"
mapfile -t KF <<<"$OUT"
expect 0 "placebo kits" fmtbank --user phil trial kits make MOOD-1 --arm PLACEBO --aliquots "${PP[1]},${PP[2]},${PP[3]}" --labels "$TMP/placebo.zpl"
mapfile -t KP <<<"$OUT"
assert_eq "${#KF[@]} ${#KP[@]}" "6 3" "one kit per dose"
assert_eq "$(sql "SELECT bool_and(fmtbank.with_check(left(k, 8)) = k) FROM unnest(string_to_array('${KF[*]} ${KP[*]}', ' ')) k")" "t" "kit numbers carry their check character"
assert_eq "$(grep -c '^\^XA' "$TMP/fmt.zpl") $(grep -c '^\^XA' "$TMP/placebo.zpl")" "6 3" "a label per kit"
# the first label of each file, its kit number replaced literally (a check character may be "*")
first_label() { awk '/\^XA/{n++} n==1' "$1"; }
lf=$(first_label "$TMP/fmt.zpl"); lp=$(first_label "$TMP/placebo.zpl")
printf '%s\n' "${lf//"${KF[0]}"/KIT}" >"$TMP/one_fmt.zpl"
printf '%s\n' "${lp//"${KP[0]}"/KIT}" >"$TMP/one_placebo.zpl"
assert_eq "$(diff "$TMP/one_fmt.zpl" "$TMP/one_placebo.zpl" && echo same)" "same" "an FMT and a placebo kit label differ only in the kit number"
assert_contains "$(cat "$TMP/one_fmt.zpl")" "KIT" "the kit number was on the label"
assert_contains "$(cat "$TMP/one_fmt.zpl")" "Trial MOOD-1" "the label names the trial"
assert_contains "$(cat "$TMP/one_fmt.zpl")" "Store at -80 C" "the label carries the handling text"
assert_not_contains "$(cat "$TMP/fmt.zpl" "$TMP/placebo.zpl")" "$A1" "no lot on a kit label"
assert_not_contains "$(cat "$TMP/fmt.zpl" "$TMP/placebo.zpl")" "D-99" "no placebo code on a kit label"
assert_not_contains "$(cat "$TMP/fmt.zpl" "$TMP/placebo.zpl")" "PLACEBO" "no arm on a kit label"

# --- enrol and dispense (the site)
expect 6 "a technician enrols no one" fmtbank --user alice trial enrol MOOD-1 P-001 --stratum site=OSLO,sex=F
expect 3 "a stratum missing a factor" fmtbank --user nina trial enrol MOOD-1 P-001 --stratum site=OSLO
expect 4 "an unknown trial" fmtbank --user nina trial enrol MOOD-9 P-001 --stratum site=OSLO,sex=F
for i in 1 2 3 4 5 6; do
    expect 0 "enrol P-00$i" fmtbank --user nina trial enrol MOOD-1 "P-00$i" --stratum "site=OSLO,sex=F"
    assert_eq "$OUT" "P-00$i" "prints the participant"
done
expect 5 "enrolled twice" fmtbank --user nina trial enrol MOOD-1 P-001 --stratum site=OSLO,sex=F
arm_of() { sql "SELECT al.arm FROM fmtbank.trial_participant p JOIN fmtbank.trial t ON t.id = p.trial
                JOIN fmtbank.trial_allocation al ON al.trial = p.trial AND al.stratum = p.stratum AND al.seq = p.seq
                WHERE t.code = 'MOOD-1' AND p.code = '$1'"; }
FMTP=""; PLAP=""
for i in 1 2 3 4 5 6; do
    a=$(arm_of "P-00$i")
    if [ "$a" = FMT ] && [ -z "$FMTP" ]; then FMTP=P-00$i; fi
    if [ "$a" = PLACEBO ] && [ -z "$PLAP" ]; then PLAP=P-00$i; fi
done
assert_eq "$(sql "SELECT bool_and(n = 3 * f / 2 AND f = 2 * p) FROM (SELECT al.block_no, count(*) AS n,
                  count(*) FILTER (WHERE al.arm = 'FMT') AS f, count(*) FILTER (WHERE al.arm = 'PLACEBO') AS p, max(al.block_size) AS s
                  FROM fmtbank.trial_allocation al JOIN fmtbank.trial t ON t.id = al.trial WHERE t.code = 'MOOD-1'
                  GROUP BY al.block_no) b WHERE n = s")" "t" "every block drawn holds the arms 2:1"
expect 2 "dispense without --visit" fmtbank --user nina trial dispense MOOD-1 "$FMTP"
expect 3 "a visit beyond the doses" fmtbank --user nina trial dispense MOOD-1 "$FMTP" --visit 3
expect 6 "a technician dispenses nothing" fmtbank --user alice trial dispense MOOD-1 "$FMTP" --visit 1
expect 0 "dispense visit 1 (FMT participant)" fmtbank --user nina trial dispense MOOD-1 "$FMTP" --visit 1
K1=$OUT
assert_contains " ${KF[*]} " " $K1 " "an FMT kit"
expect 0 "dispense visit 2 (same donor)" fmtbank --user nina trial dispense MOOD-1 "$FMTP" --visit 2
K2=$OUT
assert_eq "$(sql "SELECT count(DISTINCT l.donor_id) FROM fmtbank.trial_kit k JOIN fmtbank.trial_kit_content c ON c.kit = k.id
                  JOIN fmtbank.aliquot a ON a.id = c.aliquot JOIN fmtbank.lot l ON l.id = a.lot WHERE k.kit_no IN ('$K1', '$K2')")" "1" "both doses from one donor"
expect 5 "the same visit twice" fmtbank --user nina trial dispense MOOD-1 "$FMTP" --visit 2
expect 0 "dispense visit 1 (placebo participant)" fmtbank --user nina --format json trial dispense MOOD-1 "$PLAP" --visit 1
KP1=$OUT
assert_contains " ${KP[*]} " " $KP1 " "a placebo kit"
assert_eq "$(sql "SELECT i.use || ' ' || i.recipient || ' ' || i.site || ' ' || a.status FROM fmtbank.aliquot_issue i
                  JOIN fmtbank.aliquot a ON a.id = i.aliquot JOIN fmtbank.trial_kit_content c ON c.aliquot = a.id
                  JOIN fmtbank.trial_kit k ON k.id = c.kit WHERE k.kit_no = '$KP1'")" "trial $PLAP OSLO issued" "recorded as a trial issue to the participant at the stratum's site"
# a hold on every lot of D-4402 and D-4401: no FMT kit can be dispensed any more
expect 0 "hold D-4401" fmtbank --user quinn --reason "suspected contamination" hold add --donor D-4401
expect 0 "hold D-4402" fmtbank --user quinn --reason "suspected contamination" hold add --donor D-4402
FMTQ=""
for i in 1 2 3 4 5 6; do p=P-00$i; if [ "$p" != "$FMTP" ] && [ "$(arm_of $p)" = FMT ]; then FMTQ=$p; break; fi; done
expect 5 "held kits are never dispensed" fmtbank --user nina trial dispense MOOD-1 "$FMTQ" --visit 1
assert_contains "$ERR" "no kit available" "says so, without the arm"
assert_not_contains "$ERR" "FMT" "the refusal names no arm"

# --- what the site cannot read
sql_as nina "SELECT count(*) FROM fmtbank.trial_allocation"
assert_contains "$ERR" "permission denied for table trial_allocation" "psql: no allocation"
sql_as nina "SELECT count(*) FROM fmtbank.trial_kit_content"
assert_contains "$ERR" "permission denied for table trial_kit_content" "psql: no kit contents"
sql_as nina "SELECT count(*) FROM fmtbank.aliquot_issue"
assert_contains "$ERR" "permission denied for table aliquot_issue" "psql: no issues"
sql_as nina "SELECT count(*) FROM fmtbank.audit_log"
assert_contains "$ERR" "permission denied for table audit_log" "psql: no audit trail"
sql_as audrey "SELECT count(*) FROM fmtbank.audit_log WHERE tbl IN ('trial_allocation', 'trial_kit_content', 'trial_seed')"
assert_eq "$OUT" "0" "psql: a blinded auditor reads no audit row of the allocation, seed or kit contents"
sql_as phil "SELECT count(*) > 0 FROM fmtbank.audit_log WHERE tbl IN ('trial_allocation', 'trial_kit_content', 'trial_seed')"
assert_eq "$OUT" "t" "psql: the unblinded quality officer reads them"
expect 0 "trial show (site)" fmtbank --user nina --format json trial show MOOD-1
assert_eq "$(echo "$OUT" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["block_sizes"], d["allocation"], d["participants"], d["dispensed"], d["kits"]["made"])')" \
    "concealed None 6 3 9" "the site sees counts, no block sizes, no allocation"
expect 0 "trial show (pharmacist)" fmtbank --user phil --format json trial show MOOD-1
assert_eq "$(echo "$OUT" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["block_sizes"], sum(d["allocation"].values()))')" \
    "3,6 6" "the unblinded see block sizes and allocation"
expect 0 "status counts kits" fmtbank --user alice --format tsv status
assert_contains "$OUT" 'trial kit made: 6' "six kits in stock"
expect 0 "trial list" fmtbank --user nina trial list
assert_contains "$OUT" "MOOD-1" "lists the trial"
expect 0 "recipient show of a participant (technician)" fmtbank --user alice --format json recipient show "$PLAP"
assert_eq "$(echo "$OUT" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["donors"], d["doses"][0]["lot"], d["doses"][0]["use"])')" \
    "blinded blinded trial" "recipient show hides lot and donor of a trial dose"
expect 0 "donor recipients of the placebo (technician)" fmtbank --user alice --format json donor recipients D-9901
assert_eq "$OUT" "[]" "no participant behind the placebo preparation for a blinded reader"
expect 0 "donor recipients of the placebo (pharmacist)" fmtbank --user phil --format json donor recipients D-9901
assert_contains "$OUT" "$PLAP" "the unblinded see the participant"

# --- unblinding
expect 6 "a routine unblinding by the site" fmtbank --user nina --reason "curious" trial unblind MOOD-1 "$PLAP"
expect 6 "a technician never unblinds" fmtbank --user alice --reason "x" trial unblind MOOD-1 "$PLAP" --emergency
expect 3 "an emergency unblinding needs a reason" fmtbank --user nina trial unblind MOOD-1 "$PLAP" --emergency
expect 4 "an unknown participant" fmtbank --user nina --reason "x" trial unblind MOOD-1 P-999 --emergency
expect 0 "an emergency unblinding by the site" fmtbank --user nina --reason "severe colitis, the treating physician needs the arm" --format json trial unblind MOOD-1 "$PLAP" --emergency
assert_eq "$(echo "$OUT" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["participant"], d["arm"], d["emergency"])')" \
    "$PLAP PLACEBO True" "the arm, to the one who asked"
assert_eq "$(sql "SELECT who || ' ' || (new_row ->> 'emergency') || ' ' || reason FROM fmtbank.audit_log WHERE tbl = 'trial_unblinding'")" \
    "nina true severe colitis, the treating physician needs the arm" "audited: who, emergency, why"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE tbl = 'trial_unblinding' AND new_row ? 'arm'")" "0" "the audit row holds no arm"

# --- vigilance: the site records a serious event of a participant; the case opens on the donor,
# but the site learns neither the donor nor the stock
expect 6 "the site records events of participants only" fmtbank --user nina recipient event add R-0001 --date "$(d 0)" --kind fever --serious no --severity mild --description x
expect 0 "the site records a serious event" fmtbank --user nina recipient event add "$FMTP" --date "$(d 0)" --kind infection --serious yes --severity severe --description "bacteraemia after the second enema"
assert_contains "$ERR" "(donor and stock blinded)" "the case is named, donor and stock blinded"
assert_not_contains "$ERR" "D-44" "no donor code"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.safety_case WHERE source = 'adverse_event'")" "1" "a case opened on the participant's donor"

# --- reports, read back with openpyxl
expect 0 "report check" fmtbank --user quinn report check
assert_contains "$OUT" "trial_dispensing: ok" "the dispensing log definition is valid"
assert_contains "$OUT" "trial_allocation: ok" "the allocation definition is valid"
expect 0 "dispensing log (site)" fmtbank --user nina report trial_dispensing --param trial=MOOD-1 -o "$TMP/disp.xlsx"
D=$(DUMP "$TMP/disp.xlsx")
assert_contains "$D" "$K1" "the log names the kit"
assert_contains "$D" "$FMTP" "the log names the participant"
assert_contains "$D" "severe colitis" "the unblinding is on the log"
assert_not_contains "$D" "PLACEBO" "the log names no arm"
assert_not_contains "$D" "$A1" "the log names no lot"
assert_not_contains "$D" "D-44" "the log names no donor"
expect 0 "kit accountability (site)" fmtbank --user nina report trial_kits --param trial=MOOD-1 -o "$TMP/kits.xlsx"
D=$(DUMP "$TMP/kits.xlsx")
assert_contains "$D" "cell Summary!B4 int 9 " "9 kits made"
assert_contains "$D" "cell Summary!B6 int 3 " "3 dispensed"
assert_contains "$D" "cell Summary!B10 int 1 " "1 emergency unblinding"
assert_not_contains "$D" "PLACEBO" "kit accountability names no arm"
expect 6 "the unblinded allocation is refused to the site" fmtbank --user nina report trial_allocation --param trial=MOOD-1 -o "$TMP/alloc.xlsx"
expect 6 "and to quality without the unblinded role" fmtbank --user quinn report trial_allocation --param trial=MOOD-1 -o "$TMP/alloc.xlsx"
assert_eq "$(ls "$TMP"/alloc.xlsx 2>/dev/null | wc -l)" "0" "no file left"
expect 0 "the unblinded allocation (pharmacist)" fmtbank --user phil report trial_allocation --param trial=MOOD-1 -o "$TMP/alloc.xlsx"
D=$(DUMP "$TMP/alloc.xlsx")
assert_contains "$D" "PLACEBO" "the allocation names the arms"
assert_contains "$D" "D-9901" "and the placebo preparation"
assert_contains "$D" "UNBLINDED - RESTRICTED" "with its banner"
expect 4 "an unknown trial" fmtbank --user nina report trial_kits --param trial=MOOD-9 -o "$TMP/x.xlsx"

expect 0 "audit verify" fmtbank --user audrey audit verify
done_testing
