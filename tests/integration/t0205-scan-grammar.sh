#!/usr/bin/env bash
# t0205-scan-grammar: the scan grammar is written twice, in C (src/common/scanline.c answers a
# misread at once, without a round trip) and in SQL (fmtbank.scan(), the rule); they must agree,
# message for message. A corpus of hand-written lines (tests/integration/data/scan-corpus.txt)
# and generated ones (valid IDs of every kind, every wrong check character, every transposition)
# goes through both: a line C refuses must be refused by fmtbank.scan() with the same message,
# and a line C accepts must not be refused as malformed by fmtbank.scan().
. "$(dirname "$0")/lib.sh"
setup_db

box=$(fmtbank --user adam freezer add "Freezer 1" --temp -80 >/dev/null &&
      fmtbank --user adam box add --freezer "Freezer 1" --rack R1 --rows 16 --cols 24)
[ -n "$box" ] && ok "a 16 x 24 box to scan into" || not_ok "box add failed"

# Generated lines: for a few IDs of each kind, the valid ID, every other check character, and
# every transposition of two neighbouring characters.
corpus=$TMP/corpus.txt
cp "$FMTBANK_SRC/tests/integration/data/scan-corpus.txt" "$corpus"
sql "WITH ids(body) AS (VALUES ('B000001'), ('B123456'), ('L26000001'), ('L25999999-012'),
                                ('L26000001-001'), ('F0001'), ('F9999')),
          valid AS (SELECT body || fmtbank.check_char(body) AS id FROM ids),
          alphabet AS (SELECT substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*', i, 1) AS c
                       FROM generate_series(1, 37) i)
     SELECT id FROM valid
     UNION ALL
     SELECT left(v.id, -1) || a.c FROM valid v, alphabet a WHERE a.c <> right(v.id, 1)
     UNION ALL
     SELECT left(v.id, i - 1) || substr(v.id, i + 1, 1) || substr(v.id, i, 1) || substr(v.id, i + 2)
     FROM valid v, generate_series(1, length(v.id) - 1) i
     WHERE substr(v.id, i, 1) <> substr(v.id, i + 1, 1)" >>"$corpus"
n=$(wc -l <"$corpus")
[ "$n" -gt 300 ] && ok "corpus of $n lines" || not_ok "corpus too small: $n"

"$FMTBANK_BIN/tests/scanline_dump" <"$corpus" >"$TMP/c.out"
assert_eq "$(wc -l <"$TMP/c.out")" "$n" "the C grammar classifies every line"

# The same lines through fmtbank.scan() in store mode with the box selected, each in its own
# subtransaction; FB001 is "malformed" (the C grammar's REFUSED), anything else is not.
fmtbank --user postgres db psql -X -q -A -t -v ON_ERROR_STOP=1 -v box="$box" -v corpus="$(cat "$corpus")" \
    >"$TMP/sql.out" 2>"$TMP/sql.err" <<'EOF'
BEGIN;
CREATE FUNCTION pg_temp.classify(p_line text, p_box text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF btrim(p_line) = '' THEN
        RETURN 'EMPTY';
    END IF;
    PERFORM * FROM fmtbank.scan('store', p_box, NULL, p_line);
    RETURN 'OK';
EXCEPTION WHEN SQLSTATE 'FB001' THEN
    RETURN 'REFUSED' || chr(9) || SQLERRM;
WHEN OTHERS THEN
    RETURN 'OK';
END $$;
SELECT pg_temp.classify(l, :'box') FROM regexp_split_to_table(:'corpus', E'\n') WITH ORDINALITY x(l, n)
ORDER BY n;
ROLLBACK;
EOF
assert_eq "$(cat "$TMP/sql.err")" "" "fmtbank.scan() answered every line"
assert_eq "$(wc -l <"$TMP/sql.out")" "$n" "one answer per line"

# Compare line by line. A position outside this box is the one thing only the database knows.
paste -d '\n' "$corpus" "$TMP/c.out" "$TMP/sql.out" | awk -F'\t' '
    NR % 3 == 1 { line = $0; next }
    NR % 3 == 2 { c = $0; ck = $1; next }
    {
        s = $0; sk = $1
        if (ck == "OK" && sk == "REFUSED" && $2 ~ /^position ".*" is outside/) next
        if ((ck == "REFUSED" || sk == "REFUSED" || ck == "EMPTY" || sk == "EMPTY") && c != s)
            printf "line \"%s\": C says [%s], fmtbank.scan() says [%s]\n", line, c, s
    }' >"$TMP/diff"
assert_eq "$(cat "$TMP/diff")" "" "C and SQL agree on every line"
refused=$(grep -c '^REFUSED' "$TMP/c.out")
[ "$refused" -gt 250 ] && [ "$(grep -c "^OK" "$TMP/c.out")" -ge 12 ] &&
    ok "both verdicts are exercised ($refused refused)" || not_ok "corpus exercises too little: $refused refused"

done_testing
