# upgrade_lib.sh: shared by the upgrade tests (t0004-upgrade, t0006-upgrade-v210), sourced after
# lib.sh. A fixture is pg_dumpall --roles-only + pg_dump of a demo database made by an earlier
# fmtbank (tests/integration/data/upgrade/vNNN-demo.sql.gz); @PGMODULE@ stands for the server
# module's path.

# restore_fixture FILE: starts the instance and loads the fixture's roles and database.
restore_fixture() {
    fmtbank db start >/dev/null 2>&1
    zcat "$FMTBANK_SRC/tests/integration/data/upgrade/$1" |
        sed "s|@PGMODULE@|$FMTBANK_HOME/lib/fmtbank_auth.so|g" |
        fmtbank db psql -X -q -v ON_ERROR_STOP=1 -f - >"$TMP/restore.out" 2>&1 ||
        { cat "$TMP/restore.out"; exit 1; }
}

# snapshot URL: every function and view of the fmtbank schemas with its definition's digest,
# owner, settings and privileges, one per line, sorted.
snapshot() {
    fmtbank db psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$1" -c "
      SELECT 'f ' || p.oid::regprocedure || ' ' || md5(pg_get_functiondef(p.oid)) || ' '
             || p.proowner::regrole || ' ' || coalesce(p.proconfig::text, '') || ' '
             || coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(p.proacl) a), '')
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname IN ('fmtbank', 'fmtbank_stage') AND p.prokind <> 'a'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
      UNION ALL
      SELECT 'v ' || c.oid::regclass || ' ' || md5(pg_get_viewdef(c.oid)) || ' ' || c.relowner::regrole
             || ' ' || coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(c.relacl) a), '')
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('fmtbank', 'fmtbank_stage') AND c.relkind = 'v'
      ORDER BY 1"
}

# same_as_fresh: the upgraded database has exactly the functions, views, owners, settings and
# privileges of a database this fmtbank creates from nothing, and nothing executable by PUBLIC.
same_as_fresh() {
    local url fresh_url n
    sql "create database fmtbank_fresh" >/dev/null
    url=$(fmtbank db url)
    fresh_url=$(echo "$url" | sed 's|^postgresql:///fmtbank?|postgresql:///fmtbank_fresh?|')
    expect 0 "init of a fresh database beside it" fmtbank --db "$fresh_url" init
    snapshot "$url" >"$TMP/upgraded.txt"
    snapshot "$fresh_url" >"$TMP/fresh.txt"
    n=$(wc -l <"$TMP/fresh.txt")
    assert_eq "$([ "$n" -gt 150 ] && echo yes)" "yes" "the fresh database has its functions and views ($n)"
    assert_eq "$(wc -l <"$TMP/upgraded.txt")" "$n" "as many in the upgraded one"
    run diff "$TMP/fresh.txt" "$TMP/upgraded.txt"
    assert_eq "$RC" "0" "the same definitions, owners, settings and privileges: $OUT"
    assert_eq "$(sql "select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname in ('fmtbank', 'fmtbank_stage') and has_function_privilege('public', p.oid, 'EXECUTE')
          and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')")" "0" \
        "nothing is executable by PUBLIC after the upgrade"
}
