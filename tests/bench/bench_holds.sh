#!/usr/bin/env bash
# bench_holds.sh [BUILD]: times what holds cost (product.md §11.0.1, issue 10): a manual case on a
# donor with 200 lots, a freezer hold over every tube that was in a freezer holding TUBES aliquots,
# and the same freezer's excursion found by the daemon's judging (readings above the limit: the
# case §16 wants opened on 1,000,000 aliquots within 5 s), then release check, lot list --held and
# the release sweep with the holds in force. A storage hold is one row per case and lot. A
# benchmark, not a test: nothing is asserted. Use a build without sanitizers.
#   DONORS=100000   donors to generate (5 aliquots per lot, 2 lots per donor: 10 x DONORS tubes)
#   TUBES=N         tubes in the freezer (default 10 x DONORS); more than the donors' lots give are
#                   made as extra lots of 4 doses + the retained sample, spread over the donors, so
#                   that DONORS=20000 TUBES=1000000 measures a million-tube freezer quickly
set -euo pipefail
BUILD=${1:-build}
DONORS=${DONORS:-100000}
TUBES=${TUBES:-$((DONORS * 10))}
HERE=$(cd "$(dirname "$0")" && pwd)
export PATH="$(cd "$BUILD" && pwd):$PATH"
unset FMTBANK_DSN PGHOST PGHOSTADDR PGPORT PGDATABASE PGSERVICE PGUSER
. "$HERE/pgpass.sh"
export FMTBANK_HOME=$(mktemp -d /tmp/fmtbank-bench.XXXXXX)
trap 'fmtbank db stop >/dev/null 2>&1 || true; rm -rf "$FMTBANK_HOME"' EXIT
chmod 755 "$FMTBANK_HOME"

q() { fmtbank db psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
secs() { printf '%.3f' "$(echo "$2 - $1" | bc)"; }
timed() { # LABEL COMMAND...: wall time of one command
    local t0 t1
    t0=$(now)
    "${@:2}" >/dev/null 2>"$FMTBANK_HOME/err" || { echo "$1: failed: $(cat "$FMTBANK_HOME/err")"; return 0; }
    t1=$(now)
    echo "$1: $(secs "$t0" "$t1") s"
}

echo "# fmtbank holds benchmark: $DONORS donors, $TUBES tubes in the freezer; $(nproc) CPUs"
fmtbank init --demo >/dev/null 2>&1
t0=$(now)
q -v donors="$DONORS" -f "$HERE/gen_screening.sql" >/dev/null
q -f "$HERE/gen_release.sql" >/dev/null
# extra lots (L24xxxxxx, 5 aliquots each) until the bank holds TUBES tubes
q -v tubes="$TUBES" <<'SQL' >/dev/null
SET session_replication_role = replica;
BEGIN;
CREATE TEMP TABLE dn AS
SELECT id, (row_number() OVER (ORDER BY code) - 1)::integer AS r FROM fmtbank.donor WHERE code ~ '^D-1';
CREATE TEMP TABLE x AS
SELECT gen_random_uuid() AS id, k, 'L24' || lpad(k::text, 6, '0') AS body
FROM generate_series(1, greatest(0, (:tubes - (SELECT count(*) FROM fmtbank.aliquot)) / 5)) k;
INSERT INTO fmtbank.lot (id, lot_id, donor_id, collected_at, mass_g, bristol, status, rule_set_version,
                         processed_at, processed_rule_set_version, doses, created_at, created_by)
SELECT x.id, fmtbank.with_check(x.body), dn.id,
       current_date - 20 + time '08:30', 250, 4, 'quarantine', 1, current_date - 20 + time '09:30', 1, 4,
       current_date - 20 + time '08:35', 'bench'
FROM x JOIN dn ON dn.r = x.k % (SELECT count(*) FROM dn);
INSERT INTO fmtbank.aliquot (aliquot_id, lot, idx, retained, status, expires_at, volume_ml,
                             glycerol_percent, created_at, created_by)
SELECT fmtbank.with_check(x.body || '-' || lpad(i::text, 3, '0')), x.id, i, i = 0, 'quarantine',
       current_date + 700, 200, 10, current_date - 20 + time '09:31', 'bench'
FROM x CROSS JOIN generate_series(0, 4) i;
COMMIT;
VACUUM ANALYZE fmtbank.lot;
VACUUM ANALYZE fmtbank.aliquot;
SQL
# every tube placed in one freezer (81 to a box), and one donor with 200 more lots
q <<'SQL' >/dev/null
SET session_replication_role = replica;
BEGIN;
INSERT INTO fmtbank.freezer (freezer_id, name, temp_c) VALUES (fmtbank.with_check('F9000'), 'Bench freezer', -80);
CREATE TEMP TABLE t AS
SELECT a.id, (row_number() OVER (ORDER BY a.id) - 1) AS n FROM fmtbank.aliquot a;
INSERT INTO fmtbank.box (box_id, freezer, rack, nrows, ncols)
SELECT fmtbank.with_check('B' || lpad(b::text, 6, '0')), f.id, 'R1', 9, 9
FROM fmtbank.freezer f, generate_series(0, (SELECT max(n) FROM t) / 81) b WHERE f.name = 'Bench freezer';
-- join on the box number (a join on a computed ID made a nested loop: hours for 1,000,000 tubes)
CREATE TEMP TABLE bn AS
SELECT b.id, substr(b.box_id, 2, 6)::integer AS n FROM fmtbank.box b JOIN fmtbank.freezer f ON f.id = b.freezer
WHERE f.name = 'Bench freezer';
INSERT INTO fmtbank.custody_event (aliquot, kind, box, prow, pcol, at, who)
SELECT t.id, 'place', bn.id, (t.n % 81) / 9 + 1, t.n % 9 + 1, now() - interval '30 days', 'bench'
FROM t JOIN bn ON bn.n = t.n / 81;
INSERT INTO fmtbank.lot (lot_id, donor_id, collected_at, mass_g, bristol, rule_set_version, status, created_by)
SELECT fmtbank.with_check('L' || to_char(current_date, 'YY') || lpad((900000 + k)::text, 6, '0')), d.id,
       now() - (k || ' days')::interval, 200, 4, 1, 'quarantine', 'bench'
FROM fmtbank.donor d, generate_series(1, 200) k WHERE d.code = 'D-10000001';
COMMIT;
VACUUM ANALYZE fmtbank.custody_event;
VACUUM ANALYZE fmtbank.lot;
SQL
t1=$(now)
echo "generate: $(q -c 'select count(*) from fmtbank.aliquot') aliquots in one freezer, $(q -c 'select count(*) from fmtbank.box') boxes in $(secs "$t0" "$t1") s"

timed "hold add --donor (a donor with $(q -c "select count(*) from fmtbank.lot l join fmtbank.donor d on d.id = l.donor_id where d.code = 'D-10000001'") lots)" \
    fmtbank --user alice hold add --donor D-10000001 --reason "bench: suspicion"
echo "  holds stored: $(q -c "select count(*) from fmtbank.case_hold h join fmtbank.safety_case c on c.id = h.case_id where c.reason = 'bench: suspicion'") rows"
timed "hold add --freezer (every tube that was in it in the last hour)" \
    fmtbank --user alice hold add --freezer "$(q -c "select freezer_id from fmtbank.freezer where name = 'Bench freezer'")" \
    --from "$(date -u -d '-1 hour' '+%F %T')" --reason "bench: excursion"
echo "  holds stored: $(q -c "select count(*) || ' rows holding ' || sum(cardinality(h.aliquots)) || ' tubes' from fmtbank.case_hold h join fmtbank.safety_case c on c.id = h.case_id where c.reason = 'bench: excursion'")"
# the excursion as the daemon finds it: readings every 10 minutes for a day, above the limit for
# 40 minutes 10 hours ago (the tubes were placed 30 days ago), judged by fmtbank.freezer_judge
F=$(q -c "select freezer_id from fmtbank.freezer where name = 'Bench freezer'")
q -c "SELECT count(*) FROM (SELECT fmtbank.freezer_reading_add('$F', (now() - make_interval(mins => m))::text,
          CASE WHEN m BETWEEN 560 AND 600 THEN '-50' ELSE '-80' END) FROM generate_series(1440, 130, -10) m) x" >/dev/null
timed "excursion judged and its case opened (fmtbank.freezer_judge, every tube in the freezer)" \
    q -c "SELECT fmtbank.freezer_judge(clock_timestamp())"
echo "  holds stored: $(q -c "select count(*) || ' rows holding ' || sum(cardinality(h.aliquots)) || ' tubes' from fmtbank.case_hold h join fmtbank.safety_case c on c.id = h.case_id where c.source = 'excursion'")"
timed "a second judging (nothing new)" q -c "SELECT fmtbank.freezer_judge(clock_timestamp())"
lot=$(q -c "SELECT lot_id FROM fmtbank.lot WHERE lot_id LIKE 'L2%' ORDER BY lot_id LIMIT 1 OFFSET 1001")
timed "release check of a lot (held)" sh -c "fmtbank --user quinn release check $lot || true"
timed "lot list --held" fmtbank --user quinn --format tsv lot list --held
timed "aliquot show of a held tube" fmtbank --user alice --format json aliquot show "$(q -c "select aliquot_id from fmtbank.aliquot order by id limit 1")"
timed "release sweep with the holds in force" fmtbank --user quinn db psql -X -q -A -t -c "SELECT * FROM fmtbank.sweep_release()"
