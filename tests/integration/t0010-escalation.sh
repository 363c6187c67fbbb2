#!/usr/bin/env bash
# t0010-escalation: no path from an application role to the superuser or to the objects' owner
# (issue 15, item 1). Every SECURITY DEFINER function belongs to fmtbank_owner (NOLOGIN,
# NOSUPERUSER) and pins search_path = pg_catalog, ..., pg_temp; imports are staged in the owner's
# schema fmtbank_stage by backend pid, never in the caller's pg_temp. Each attack below is tried
# as every role; a malicious body, had it run as the definer, would have changed a site setting,
# made its caller a superuser or written the audit trail: none of that happens.
. "$(dirname "$0")/lib.sh"
setup_db

ROLES="alice quinn audrey adam"
d() { date -d "$1 day" +%F; }

# psql_as ROLE STATEMENT...: the statements in one session (autocommit each), stop at the first error.
psql_as() {
    local role=$1
    shift
    local args=()
    for c in "$@"; do args+=(-c "$c"); done
    run fmtbank --user "$role" db psql -X -A -t -q -v ON_ERROR_STOP=1 "${args[@]}"
}

# What a body running as the definer would have changed.
state() {
    sql "SELECT (SELECT value FROM fmtbank.site_setting WHERE name = 'donor_code_pattern')
            || '|' || (SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolsuper)
            || '|' || (SELECT count(*) FROM fmtbank.audit_log)
            || '|' || (SELECT count(*) FROM fmtbank.result)
            || '|' || (SELECT count(*) FROM fmtbank.donor)
            || '|' || (SELECT count(*) FROM pg_class WHERE relname = 'pwned')"
}

# A body that needs the definer's rights: as the caller it fails, as the definer it leaves marks.
EVIL_BODY="BEGIN
    UPDATE fmtbank.site_setting SET value = 'PWNED' WHERE name = 'donor_code_pattern';
    EXECUTE 'ALTER ROLE ' || quote_ident(session_user) || ' SUPERUSER';
    EXECUTE 'CREATE TABLE public.pwned AS SELECT pg_read_file(''/etc/passwd'') AS f';
    RETURN 1;
END"

# ---- the catalog: owner, search_path
assert_eq "$(sql "SELECT rolsuper || ',' || rolcanlogin || ',' || rolcreatedb || ',' || rolbypassrls
                  FROM pg_roles WHERE rolname = 'fmtbank_owner'")" "false,false,false,false" \
    "fmtbank_owner: no superuser, no login, no createdb, no bypassrls"
assert_eq "$(sql "SELECT count(*) FROM pg_auth_members WHERE roleid = 'fmtbank_owner'::regrole
                     OR member = 'fmtbank_owner'::regrole")" "0" "nobody is a member of fmtbank_owner, it is a member of nothing"
assert_eq "$(sql "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  JOIN pg_roles r ON r.oid = p.proowner
                  WHERE n.nspname IN ('fmtbank', 'fmtbank_stage') AND r.rolsuper
                    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                                    AND d.objid = p.oid AND d.deptype = 'e')")" "0" \
    "no function of fmtbank is owned by a superuser (but pgcrypto's own)"
assert_eq "$(sql "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  JOIN pg_roles r ON r.oid = p.proowner
                  WHERE n.nspname IN ('fmtbank', 'fmtbank_stage') AND r.rolsuper AND p.prosecdef")" "0" \
    "no SECURITY DEFINER function is owned by a superuser"
assert_eq "$(sql "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  JOIN pg_roles r ON r.oid = c.relowner
                  WHERE n.nspname IN ('fmtbank', 'fmtbank_stage') AND r.rolsuper
                    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                    AND d.objid = c.oid AND d.deptype = 'e')")" "0" \
    "no table, view, sequence or index of fmtbank is owned by a superuser"
ndef=$(sql "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname IN ('fmtbank', 'fmtbank_stage') AND p.prosecdef")
[ "$ndef" -ge 40 ] && ok "there are SECURITY DEFINER functions to check ($ndef)" || not_ok "SECURITY DEFINER count" "$ndef"
assert_eq "$(sql "SELECT string_agg(p.oid::regprocedure::text || ' ' || coalesce(array_to_string(p.proconfig, ';'), 'none'), E'\n')
                  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname IN ('fmtbank', 'fmtbank_stage') AND p.prosecdef
                    AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c
                                    WHERE c ~ '^search_path=pg_catalog(, *[^,]+)*, *pg_temp\$')")" "" \
    "every SECURITY DEFINER function pins search_path = pg_catalog, ..., pg_temp"
assert_eq "$(sql "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'fmtbank' AND p.prosqlbody IS NULL
                    AND p.prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql'))
                    AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c
                                    WHERE c ~ '^search_path=pg_catalog(, *[^,]+)*, *pg_temp\$')")" "0" \
    "every SQL and PL/pgSQL function (but SQL-standard bodies) pins it too"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_verify() v WHERE NOT v.ok" 2>/dev/null || echo skip)" "0" \
    "the audit chain verifies after the reassignment"

base=$(state)

# ---- 1. a temporary VIEW named result_stage / donor_stage over a malicious function
for u in $ROLES; do
    psql_as "$u" "CREATE FUNCTION pg_temp.evil() RETURNS int LANGUAGE plpgsql AS \$\$ $EVIL_BODY \$\$" \
        "CREATE TEMP VIEW result_stage AS SELECT 1::bigint AS line, gen_random_uuid() AS id,
                'D-0001'::text AS donor, 'HIV'::text AS test, (current_date - 1)::text AS collected,
                pg_temp.evil()::text AS result, ''::text AS unit, ''::text AS lab, pg_backend_pid() AS pid" \
        "CREATE TEMP VIEW donor_stage AS SELECT 1::bigint AS line, 'D-0777'::text AS code,
                pg_temp.evil()::text AS birth_year, ''::text AS sex, pg_backend_pid() AS pid" \
        "CREATE TEMP VIEW result_checked AS SELECT pg_temp.evil() AS x" \
        "SELECT count(*) FROM fmtbank.result_import_stage()" \
        "SELECT count(*) FROM fmtbank.donor_import_stage()"
    if [ "$u" = audrey ]; then
        assert_contains "$ERR" "requires the technician or quality or admin role" "$u: temp view stage: refused by role"
    else
        assert_eq "$RC/$(tail -2 <<<"$OUT" | tr '\n' ' ')" "0/0 0 " "$u: temp views result_stage/donor_stage are not read (nothing staged)"
    fi
    assert_eq "$(state)" "$base" "$u: the malicious view's function did not run as the definer"
done

# ---- 2. shadowing functions and operators in pg_temp, search_path tricks
n=0
for u in $ROLES; do
    n=$((n + 1))
    before=$(state)
    psql_as "$u" "SET search_path = pg_temp, public, fmtbank" \
        "CREATE FUNCTION pg_temp.upper(text) RETURNS text LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_temp.evil(); RETURN \$1; END \$\$" \
        "CREATE FUNCTION pg_temp.btrim(text) RETURNS text LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_temp.evil(); RETURN \$1; END \$\$" \
        "CREATE FUNCTION pg_temp.lower(text) RETURNS text LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_temp.evil(); RETURN \$1; END \$\$" \
        "CREATE FUNCTION pg_temp.coalesce(text, text) RETURNS text LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_temp.evil(); RETURN \$1; END \$\$" \
        "CREATE FUNCTION pg_temp.format(text, VARIADIC text[]) RETURNS text LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_temp.evil(); RETURN \$1; END \$\$" \
        "CREATE FUNCTION pg_temp.evil() RETURNS int LANGUAGE plpgsql AS \$\$ $EVIL_BODY \$\$" \
        "CREATE FUNCTION pg_temp.evil_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_temp.evil(); RETURN \$1 OPERATOR(pg_catalog.=) \$2; END \$\$" \
        "CREATE OPERATOR pg_temp.= (LEFTARG = text, RIGHTARG = text, FUNCTION = pg_temp.evil_eq)" \
        "CREATE OPERATOR pg_temp.~ (LEFTARG = text, RIGHTARG = text, FUNCTION = pg_temp.evil_eq)" \
        "CREATE TEMP TABLE site_setting (name text, value text, note text)" \
        "CREATE TEMP TABLE donor (id uuid, code text)" \
        "CREATE TEMP TABLE pg_roles (rolname text, rolsuper boolean)" \
        "INSERT INTO pg_temp.pg_roles VALUES ('$u', true)" \
        "SELECT fmtbank.result_import_begin()" \
        "INSERT INTO fmtbank_stage.result_stage (line, donor, test, collected, result, unit, lab)
             VALUES (2, ' d-0001 ', 'hbsag', '$(d -30)', 'Negative', '', 'Shadow lab $u')" \
        "SELECT count(*) FROM fmtbank.result_import_stage() WHERE message IS NULL" \
        "SELECT fmtbank.result_add('D-0001', 'hcv_ab', '$(d -31)', 'negative', NULL, 'Shadow lab $u') IS NOT NULL" \
        "SELECT fmtbank.donor_add(' d-080$n ', '1990', 'f') IS NOT NULL"
    if [ "$u" = audrey ]; then
        assert_contains "$ERR" "requires the technician or quality or admin role" "$u: shadowing: refused by role"
        assert_eq "$(state)" "$before" "$u: nothing changed"
    else
        assert_eq "$RC/$(grep -v '^$' <<<"$OUT" | tr '\n' ' ')" "0/1 t t " "$u: shadowed upper/btrim/lower/coalesce/format, operators = and ~ and tables in pg_temp are never used: import, add work"
        assert_eq "$(sql "SELECT count(*) FROM fmtbank.result WHERE lab = 'Shadow lab $u'")" "2" "$u: both results stored by the real functions"
        assert_eq "$(sql "SELECT value FROM fmtbank.site_setting WHERE name = 'donor_code_pattern'")" "${base%%|*}" "$u: site setting untouched"
        assert_eq "$(sql "SELECT rolsuper FROM pg_roles WHERE rolname = '$u'")" "f" "$u: still no superuser"
    fi
done
base=$(state)

# ---- 3. objects in public or fmtbank schemas, owner role, ALTER/GRANT
for u in $ROLES; do
    for stmt in "CREATE TABLE public.pwned (x int)" \
                "CREATE FUNCTION public.upper(text) RETURNS text LANGUAGE sql AS 'SELECT \$1'" \
                "CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = pg_catalog.texteq)" \
                "CREATE TABLE fmtbank.pwned (x int)" \
                "CREATE FUNCTION fmtbank.pwned() RETURNS int LANGUAGE sql AS 'SELECT 1'" \
                "CREATE TABLE fmtbank_stage.pwned (x int)" \
                "CREATE VIEW fmtbank_stage.result_stage_v AS SELECT 1" \
                "SET ROLE fmtbank_owner" \
                "SET SESSION AUTHORIZATION fmtbank_owner" \
                "GRANT fmtbank_owner TO $u" \
                "GRANT fmtbank_admin TO $u" \
                "ALTER ROLE $u SUPERUSER" \
                "ALTER ROLE fmtbank_owner LOGIN" \
                "ALTER FUNCTION fmtbank.result_import_stage() SECURITY INVOKER" \
                "ALTER FUNCTION fmtbank.result_import_stage() SET search_path = pg_temp, pg_catalog" \
                "ALTER FUNCTION fmtbank.result_import_stage() OWNER TO $u" \
                "CREATE OR REPLACE FUNCTION fmtbank.result_import_begin() RETURNS void LANGUAGE sql AS 'SELECT'" \
                "ALTER TABLE fmtbank_stage.result_stage DROP CONSTRAINT result_stage_pid_check" \
                "ALTER TABLE fmtbank.site_setting DISABLE TRIGGER ALL" \
                "DROP FUNCTION fmtbank.result_stage_validate(boolean)"; do
        psql_as "$u" "$stmt"
        if [ "$RC" -ne 0 ]; then ok "$u refused: ${stmt:0:60}"; else not_ok "$u refused: $stmt" "it succeeded"; fi
    done
    # GRANT of a privilege one holds without grant option only warns: check its effect.
    psql_as "$u" "GRANT EXECUTE ON FUNCTION fmtbank.result_stage_validate(boolean) TO $u" \
        "GRANT SELECT, UPDATE, DELETE ON fmtbank_stage.result_stage TO $u" \
        "GRANT ALL ON SCHEMA fmtbank TO $u"
    assert_eq "$(sql "SELECT has_function_privilege('$u', 'fmtbank.result_stage_validate(boolean)', 'EXECUTE')
                      || ',' || has_table_privilege('$u', 'fmtbank_stage.result_stage', 'SELECT')
                      || ',' || has_table_privilege('$u', 'fmtbank_stage.result_stage', 'DELETE')
                      || ',' || has_schema_privilege('$u', 'fmtbank', 'CREATE')
                      || ',' || pg_has_role('$u', 'fmtbank_owner', 'USAGE')")" "false,false,false,false,false" \
        "$u: grants gave nothing"
done
assert_eq "$(state)" "$base" "nothing changed by the DDL attempts"
assert_eq "$(sql "SELECT count(*) FROM pg_proc WHERE proname = 'pwned'")" "0" "no function created"

# ---- 4. other sessions' staging rows; direct calls of the stage functions with crafted rows
psql_as quinn "SELECT fmtbank.result_import_begin()" \
    "INSERT INTO fmtbank_stage.result_stage (line, donor, test, collected, result, unit, lab)
         VALUES (2, 'D-0001', 'NORO', '$(d -40)', 'negative', '', 'Quinn left it')"
assert_eq "$RC" "0" "quinn stages a row and leaves (no stage call)"
assert_eq "$(sql "SELECT count(*) FROM fmtbank_stage.result_stage WHERE lab = 'Quinn left it'")" "1" "the row stays, under quinn's dead pid"
for u in $ROLES; do
    for stmt in "SELECT * FROM fmtbank_stage.result_stage" \
                "SELECT * FROM fmtbank_stage.donor_stage" \
                "SELECT * FROM fmtbank_stage.result_checked" \
                "UPDATE fmtbank_stage.result_stage SET pid = pg_backend_pid()" \
                "DELETE FROM fmtbank_stage.result_stage" \
                "TRUNCATE fmtbank_stage.result_stage" \
                "COPY fmtbank_stage.result_stage TO STDOUT" \
                "INSERT INTO fmtbank_stage.result_stage (pid, line, donor) SELECT pid, 2, 'D-0001' FROM pg_stat_activity WHERE pid <> pg_backend_pid() LIMIT 1" \
                "INSERT INTO fmtbank_stage.result_stage (pid, line, donor) VALUES (pg_backend_pid() + 1, 2, 'D-0001')" \
                "INSERT INTO fmtbank_stage.donor_stage (pid, line, code) VALUES (1, 2, 'D-0999')" \
                "INSERT INTO fmtbank_stage.result_checked (pid, line, id) VALUES (pg_backend_pid(), 2, gen_random_uuid())" \
                "INSERT INTO fmtbank_stage.result_stage (line, donor) VALUES (2, 'x') RETURNING *" \
                "SELECT fmtbank.result_stage_validate(false)" \
                "SELECT fmtbank.result_validate_one('D-0001', 'HIV', '$(d -1)', 'negative', NULL, NULL, false)" \
                "SELECT * FROM fmtbank.result_import_stage(1)" \
                "SELECT * FROM fmtbank.donor_import_stage('x')"; do
        psql_as "$u" "$stmt"
        if [ "$RC" -ne 0 ]; then ok "$u refused: ${stmt:0:70}"; else not_ok "$u refused: $stmt" "it succeeded: $OUT"; fi
    done
    psql_as "$u" "SELECT count(*) FROM fmtbank.result_import_stage()"
    if [ "$u" = audrey ]; then
        assert_contains "$ERR" "requires the technician or quality or admin role" "$u: import stage refused by role"
    else
        assert_eq "$RC/$OUT" "0/0" "$u: another session's staged row is not imported"
    fi
done
assert_eq "$(sql "SELECT count(*) FROM fmtbank.result WHERE lab = 'Quinn left it'")" "0" "quinn's row was never imported"
assert_eq "$(state)" "$base" "nothing changed by the staging attempts"

# crafted rows of one's own: odd line numbers, huge fields, \. and backslashes are just data
psql_as alice "SELECT fmtbank.result_import_begin()" \
    "INSERT INTO fmtbank_stage.result_stage (line, donor, test, collected, result, unit, lab)
         VALUES (-5, E'\\\\.', 'HIV', '$(d -1)', 'negative', NULL, NULL),
                (9223372036854775807, 'D-0001', repeat('X', 100000), '$(d -1)', 'negative', NULL, NULL),
                (7, 'D-0001', 'HIV', '$(d -1)', 'negative', NULL, repeat('L', 300)),
                (8, 'D-0001', 'HIV', E'2026-01-01\\');--', 'negative', NULL, NULL)" \
    "SELECT line || ': ' || message FROM fmtbank.result_import_stage()"
assert_contains "$OUT" '-5: invalid donor code "\."' "a crafted line -5 with \\. is reported as data"
assert_contains "$OUT" '9223372036854775807: unknown test' "a huge line number and test name are data"
assert_contains "$OUT" '7: lab name is longer than 200 characters' "a long lab is refused"
assert_contains "$OUT" "8: invalid collected date" "an injection attempt is a bad date"
assert_eq "$(state)" "$base" "nothing stored"
assert_eq "$(sql "SELECT count(*) FROM fmtbank_stage.result_stage s WHERE s.lab IS DISTINCT FROM 'Quinn left it'")" "0" "the stage function removed the caller's rows"

# a legitimate import still works end to end (staging, validation, IDs in file order)
printf 'donor,test,collected,result,unit,lab\nD-0001,NORO,%s,negative,,Lab E\nD-0001,HEV_IGM,%s,negative,,Lab E\n' "$(d -50)" "$(d -50)" >"$TMP/ok.csv"
expect 0 "a good file still imports" fmtbank --user alice result import "$TMP/ok.csv"
assert_eq "$(sql "SELECT string_agg(id::text, E'\n' ORDER BY recorded_at, (SELECT code FROM fmtbank.screening_test t WHERE t.test_no = r.test_no) = 'HEV_IGM')
                  FROM fmtbank.result r WHERE lab = 'Lab E'")" "$OUT" "the printed IDs are the stored ones"

done_testing
