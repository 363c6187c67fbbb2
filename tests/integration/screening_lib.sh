# screening_lib.sh: helpers for the screening tests (t01NN), sourced after lib.sh. The items,
# tests and periods here are written from domain.md, independently of the schema, so the tests
# also check the shipped defaults.

# today + N days (N may be negative), ISO 8601
d() { date -d "${1:-0} days" +%F; }
YEAR=$(date +%Y)

FULL_BOOL=(infection_history transplant_recipient prion_risk chronic_gi_disease gi_cancer_polyposis
           autoimmune_atopic neurological_disease psychiatric_condition metabolic_syndrome
           chronic_pain_syndrome malignancy chronic_ppi illicit_drug_injection healthcare_worker
           regular_outpatient_care)
# date items and their deferral periods (days)
declare -A FULL_DATE=([antibiotics_last]=90 [antiviral_antifungal_last]=90 [immunosuppressant_last]=90
                      [tattoo_piercing_acupuncture_last]=180 [needlestick_last]=180
                      [blood_products_last]=365 [hiv_hepatitis_exposure_last]=365
                      [high_risk_sex_last]=365 [tropical_travel_last]=180 [live_vaccine_last]=180
                      [hospitalisation_last]=180 [medical_tourism_last]=180 [gi_infection_last]=28
                      [covid_last]=28 [mpox_exposure_last]=21)
FULL_NUMBER=(bmi phq9 gad7)
declare -A SHORT=([new_gi_symptoms]=28 [fever_or_illness]=28 [antibiotics_since_last]=90
                  [travel_since_last]=180 [sick_contacts]=28 [new_medication]=28)
BLOOD_EXCLUDING=(HIV HBSAG ANTI_HBC HCV_AB HTLV SYPHILIS)
QUALITATIVE=(HIV HAV_IGM HBSAG ANTI_HBC HCV_AB HEV_IGM HTLV SYPHILIS CMV_IGM EBV_IGM STRONGY EHIST_SER
             CDIFF SALM SHIG CAMPY YERS STEC EPEC NORO ROTA ADENO ASTRO SAPO SARS2 GIARDIA CRYPTO
             CYCLO ISOSP MICROSP EHIST_AG DFRAG HELMINTH HPYLORI ESBL CRE VRE MRSA)
ALL_TESTS=("${QUALITATIVE[@]}" CRP CALPRO)

# write_full FILE [item=value ...]: a clear full questionnaire with the given answers changed
write_full() {
    local f=$1 kv item
    shift
    declare -A a=()
    for item in "${FULL_BOOL[@]}"; do a[$item]=no; done
    for item in "${!FULL_DATE[@]}"; do a[$item]=; done
    a[bmi]=23
    a[phq9]=3
    a[gad7]=2
    for kv in "$@"; do a[${kv%%=*}]=${kv#*=}; done
    {
        echo "item,answer"
        for item in "${FULL_BOOL[@]}" "${!FULL_DATE[@]}" "${FULL_NUMBER[@]}"; do
            echo "$item,${a[$item]}"
        done
    } >"$f"
}

# The follow-up items (after a donation) with their deferral periods.
declare -A FOLLOWUP=([followup_gi_symptoms]=28 [followup_fever]=28 [followup_covid_symptoms_or_contact]=28
    [followup_mpox_symptoms_or_contact]=21 [followup_antibiotics]=90 [followup_hospitalisation]=180
    [followup_travel]=180)

# write_followup FILE [item=yes ...]: a follow-up questionnaire, every answer no unless given
write_followup() {
    local f=$1
    shift
    write_answers "$f" FOLLOWUP "$@"
}

# write_answers FILE ITEMS [item=yes ...]: a yes/no questionnaire over the items of the
# associative array named ITEMS, every answer no unless given
write_answers() {
    local f=$1 kv item
    local -n items=$2
    shift 2
    declare -A a=()
    for item in "${!items[@]}"; do a[$item]=no; done
    for kv in "$@"; do a[${kv%%=*}]=${kv#*=}; done
    {
        echo "item,answer"
        for item in "${!items[@]}"; do echo "$item,${a[$item]}"; done
    } >"$f"
}

# write_short FILE [item=yes ...]: a donation-day questionnaire, every answer no unless given
write_short() {
    local f=$1
    shift
    write_answers "$f" SHORT "$@"
}

# panel_rows CODE DATE [omitted test ...]: result-import lines of an acceptable full panel
panel_rows() {
    local code=$1 day=$2 t
    shift 2
    local omit=" $* "
    for t in "${QUALITATIVE[@]}"; do
        [[ "$omit" == *" $t "* ]] || echo "$code,$t,$day,negative,,Lab A"
    done
    [[ "$omit" == *" CRP "* ]] || echo "$code,CRP,$day,1.5,mg/L,Lab A"
    [[ "$omit" == *" CALPRO "* ]] || echo "$code,CALPRO,$day,20,µg/g,Lab A"
}

# donor_field JSON_FILE CODE FIELD: one field of a donor in "donor list --format json" output;
# reasons prints one "rule<TAB>detail" line per reason
donor_field() {
    python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
rows = {r["code"]: r for r in json.load(open(sys.argv[1]))}
r = rows.get(sys.argv[2])
if r is None:
    print("<no such donor>")
elif sys.argv[3] == "reasons":
    for x in r["reasons"]:
        print(x["rule"] + "\t" + x["detail"])
else:
    v = r[sys.argv[3]]
    print("" if v is None else v)
EOF
}

# The failing rules of "donor show" (reasons) and of "donor explain" must be the same rows, for
# every donor: prints the number of (donor, rule, detail) rows found in one and not the other.
explain_mismatches() {
    sql "WITH s AS (SELECT e.code, r ->> 'rule' AS rule, r ->> 'detail' AS detail
                    FROM fmtbank.donor_eligibility_at() e, jsonb_array_elements(e.reasons) r),
              x AS (SELECT d.code, x.rule, x.detail
                    FROM fmtbank.eligibility_rules(clock_timestamp(), NULL) x
                    JOIN fmtbank.donor d ON d.id = x.donor_id
                    WHERE x.verdict IN ('screening', 'deferred', 'excluded'))
         SELECT count(*) FROM ((SELECT * FROM s EXCEPT ALL SELECT * FROM x)
                               UNION ALL (SELECT * FROM x EXCEPT ALL SELECT * FROM s)) m"
}
