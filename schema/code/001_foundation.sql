-- 001_foundation: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- ---------------------------------------------------------------- acting role
-- PL/pgSQL, not SQL: a SQL function with a SET clause is planned again on every call (~150 us),
-- a PL/pgSQL one keeps its plans for the session.
CREATE OR REPLACE FUNCTION fmtbank.acting_is(VARIADIC p_roles text[]) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
        OR EXISTS (SELECT 1 FROM unnest(p_roles) r
                   WHERE pg_has_role(session_user, 'fmtbank_' || r, 'MEMBER'));
END $$;

CREATE OR REPLACE FUNCTION fmtbank.require_role(p_action text, VARIADIC p_roles text[]) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT fmtbank.acting_is(VARIADIC p_roles) THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
            MESSAGE = format('permission denied: %s requires the %s role', p_action,
                             array_to_string(p_roles, ' or ')),
            DETAIL = format('The acting user "%s" has none of them.', session_user);
    END IF;
END $$;

-- The --reason of the current command (set by the CLI for the session), or an error naming why
-- it is needed when p_required.
CREATE OR REPLACE FUNCTION fmtbank.acting_reason(p_required boolean, p_action text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE r text := nullif(btrim(current_setting('fmtbank.reason', true)), '');
BEGIN
    IF r IS NULL AND p_required THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('%s requires a reason', p_action),
            HINT = 'Give one with --reason TEXT; it is kept in the audit trail.';
    END IF;
    RETURN r;
END $$;

-- Whether the session is blinded to trial arms (product.md §14, code/270_trial.sql): it holds no
-- fmtbank_unblinded (a superuser is a member of every role, so not blinded). Read by every
-- display that could link a trial participant to a tube, lot or donor.
CREATE OR REPLACE FUNCTION fmtbank.trial_blind() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT NOT pg_has_role(session_user, 'fmtbank_unblinded', 'MEMBER')
$$;

-- ---------------------------------------------------------------- input parsing
CREATE OR REPLACE FUNCTION fmtbank.parse_date(p text, p_field text) RETURNS date
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p IS NULL OR p !~ '^\d{4}-\d{2}-\d{2}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid date "%s" for %s', coalesce(p, ''), p_field),
            HINT = 'Use ISO 8601, e.g. 2026-11-27.';
    END IF;
    RETURN p::date;
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
    RAISE EXCEPTION USING ERRCODE = 'FB001',
        MESSAGE = format('invalid date "%s" for %s', p, p_field),
        HINT = 'Use ISO 8601, e.g. 2026-11-27.';
END $$;

-- A date, or a timestamp with or without an offset (local time zone of the session when none).
CREATE OR REPLACE FUNCTION fmtbank.parse_ts(p text, p_field text) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p IS NULL OR p !~ '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid timestamp "%s" for %s', coalesce(p, ''), p_field),
            HINT = 'Use ISO 8601, e.g. 2026-11-27 08:30 or 2026-11-27T08:30:00+01:00.';
    END IF;
    RETURN p::timestamptz;
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
    RAISE EXCEPTION USING ERRCODE = 'FB001',
        MESSAGE = format('invalid timestamp "%s" for %s', p, p_field),
        HINT = 'Use ISO 8601, e.g. 2026-11-27 08:30 or 2026-11-27T08:30:00+01:00.';
END $$;

-- ---------------------------------------------------------------- identifiers
-- ISO/IEC 7064 MOD 37-2 over the characters of p ('-' ignored): acc = sum v_i * 2^(n-i+1) mod 37,
-- the closed form of acc = ((acc + v) * 2) mod 37; check = (38 - acc) mod 37.
-- (A SQL-standard body: bound when created, no SET clause, so the planner inlines it: one call
-- per scan less.)
CREATE OR REPLACE FUNCTION fmtbank.check_char(p text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT pg_catalog.substr(a, ((38 - (pg_catalog.sum((pg_catalog.strpos(a, c) - 1)
                                                           * ((1::bigint << (n - i + 1)::int) % 37))
                                             % 37)::int) % 37) + 1, 1)
        FROM (SELECT '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*'::text AS a) k,
             LATERAL (SELECT c, i, pg_catalog.count(*) OVER () AS n
                      FROM pg_catalog.regexp_split_to_table(pg_catalog.replace(p, '-', ''), '')
                           WITH ORDINALITY AS t(c, i)) s
        GROUP BY a);

-- A typed, scanned or pasted ID as stored: trimmed, upper case, and the displayed form of tables,
-- labels and reports ("L26000001-001 ·1", the check character set apart; src/common/idtext.h)
-- read back as the plain ID ("L26000001-0011"). Anything else is only trimmed and upper-cased.
-- (A SQL-standard body, inlined; the regular expression runs only when a middle dot is there.)
CREATE OR REPLACE FUNCTION fmtbank.id_input(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.upper(pg_catalog.btrim(
    CASE WHEN pg_catalog.strpos(p, U&'\00B7') > 0
         THEN pg_catalog.regexp_replace(p, U&'[[:blank:]]*\00B7[[:blank:]]*([^[:blank:]])[[:blank:]]*$', '\1')
         ELSE p END));

-- An ID as a person reads it, the check character set apart: "L26000001-001 ·1" for
-- "L26000001-0011" (the rendering of src/common/idtext.c, for text composed in SQL such as the box
-- captions of the inventory report); anything that is not a valid ID is returned unchanged.
CREATE OR REPLACE FUNCTION fmtbank.id_display(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p ~ '^(F[0-9]{4}|B[0-9]{6}|L[0-9]{8}(-[0-9]{3})?|C[0-9]{8}|E[0-9]{8})[0-9A-Z*]$'
                 AND fmtbank.check_char(pg_catalog.left(p, -1)) = pg_catalog.right(p, 1)
            THEN pg_catalog.left(p, -1) || U&' \00B7' || pg_catalog.right(p, 1)
            ELSE p END;

-- Validates a scanned or typed ID of a kind (p_pattern describes its body) and returns it
-- normalised (upper case, trimmed), or raises FB001 naming the field.
CREATE OR REPLACE FUNCTION fmtbank.check_id(p text, p_kind text, p_pattern text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE id text := fmtbank.id_input(coalesce(p, ''));
BEGIN
    IF id !~ ('^' || p_pattern || '[0-9A-Z*]$') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('"%s" is not a valid %s ID', p, p_kind);
    END IF;
    IF fmtbank.check_char(left(id, -1)) <> right(id, 1) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid check character in %s ID "%s"', p_kind, p),
            DETAIL = 'The ID was mistyped or misread; scan or type it again.';
    END IF;
    RETURN id;
END $$;

-- Time-ordered UUIDs for rows written in bulk (RFC 9562 version 7): uuid_v7_prefix gives, once
-- per statement, the first 20 hex digits - the Unix time in milliseconds (48 bits), the version,
-- the fraction of the millisecond in 12 bits (the RFC's "increased clock precision"), the
-- variant and 14 random bits - and uuid_v7(prefix, n) appends a counter n (a line number, 48
-- bits: its "fixed-length dedicated counter"). The IDs of one import follow its lines and those
-- of a later statement come after them, so the primary key and the audit trail's (tbl, key)
-- index grow at their right edge instead of taking 100,000 random pages. Two statements share
-- a prefix only in the same quarter microsecond with the same random bits; the writers of
-- results take their prefix under the results lock, one after the other.
CREATE OR REPLACE FUNCTION fmtbank.uuid_v7_prefix(p_at timestamptz) RETURNS text
LANGUAGE sql VOLATILE PARALLEL SAFE
RETURN pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.floor(EXTRACT(epoch FROM p_at) * 1000)::bigint), 12, '0')
       || '7'
       || pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.floor(
              pg_catalog.mod(EXTRACT(epoch FROM p_at) * 1000, 1) * 4096)::int), 3, '0')
       || pg_catalog.substr(pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''), 17, 4);

CREATE OR REPLACE FUNCTION fmtbank.uuid_v7(p_prefix text, p_n bigint) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (p_prefix || pg_catalog.lpad(pg_catalog.to_hex(p_n), 12, '0'))::uuid;

-- The exact text each row's hash covers (timestamps in UTC so the session zone cannot change it).
-- A SQL-standard body (RETURN, bound when created, every name qualified), so that it keeps no SET
-- clause (migrate.c) and the planner inlines it into the audit INSERT and audit_verify_sql: no
-- function call per audited row (a SET clause had kept it from being inlined: 0.8 s per 100,000
-- rows instead of 0.3 s).
CREATE OR REPLACE FUNCTION fmtbank.audit_content(p_id bigint, p_at timestamptz, p_who text, p_tbl text,
                                      p_op text, p_key text, p_old jsonb, p_new jsonb,
                                      p_reason text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN pg_catalog.concat_ws(E'\x1f', p_id::text,
                            pg_catalog.to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
                            p_who, p_tbl, p_op, coalesce(p_key, ''), coalesce(p_old::text, ''),
                            coalesce(p_new::text, ''), coalesce(p_reason, ''));

CREATE OR REPLACE FUNCTION fmtbank.hash_chain_step(p_state bytea, p_seed bytea, p_content text)
RETURNS bytea LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN sha256(coalesce(p_state, p_seed) || convert_to(p_content, 'UTF8'));
END $$;

-- hash_chain(seed, content) OVER (ORDER BY id): each row's SHA-256 covers the previous row's.
-- Its step is the server module's C function when the instance has it (190_audit_chain.sql: the
-- same value, 3 times faster per row), else the PL/pgSQL step above. The C step keeps no SET
-- clause (190 gave it one; migrate.c's policy leaves IMMUTABLE C functions without): saving and
-- restoring search_path on each call took 0.2-0.3 s of an import of 100,000 results. It looks no
-- name up (a database not in UTF-8 converts the text with the caller's search path: its only
-- caller, audit_stmt, runs with the audit trigger's pinned one).
DO $$
BEGIN
    IF pg_catalog.to_regprocedure('fmtbank.hash_chain_step_raw(bytea,bytea,text)') IS NOT NULL THEN
        ALTER FUNCTION fmtbank.hash_chain_step_raw(bytea, bytea, text) RESET ALL;
        CREATE OR REPLACE AGGREGATE fmtbank.hash_chain(bytea, text)
            (SFUNC = fmtbank.hash_chain_step_raw, STYPE = bytea);
    ELSE
        CREATE OR REPLACE AGGREGATE fmtbank.hash_chain(bytea, text)
            (SFUNC = fmtbank.hash_chain_step, STYPE = bytea);
    END IF;
END $$;

-- audit_chain(seed, id, at, who, tbl, op, key, old_row, new_row, reason) in id order: the
-- same chain as hash_chain(seed, audit_content(id, ..., reason)), the content text built by the
-- step. Its step is the server module's C function when the instance has it
-- (340_audit_chain_step.sql: the content built in C, as "audit verify"'s C loop builds it, not by
-- concat_ws, to_char and jsonb's output function per audited row), else the SQL step below.
CREATE OR REPLACE FUNCTION fmtbank.audit_chain_step(p_state bytea, p_seed bytea, p_id bigint,
                                                    p_at timestamptz, p_who text, p_tbl text,
                                                    p_op text, p_key text, p_old jsonb,
                                                    p_new jsonb, p_reason text) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE
RETURN fmtbank.hash_chain_step(p_state, p_seed,
                               fmtbank.audit_content(p_id, p_at, p_who, p_tbl, p_op, p_key, p_old,
                                                     p_new, p_reason));

DO $$
BEGIN
    IF pg_catalog.to_regprocedure('fmtbank.audit_chain_step_raw(bytea,bytea,bigint,timestamptz,'
                                  'text,text,text,text,jsonb,jsonb,text)') IS NOT NULL THEN
        CREATE OR REPLACE AGGREGATE fmtbank.audit_chain(bytea, bigint, timestamptz, text, text,
                                                        text, text, jsonb, jsonb, text)
            (SFUNC = fmtbank.audit_chain_step_raw, STYPE = bytea);
    ELSE
        CREATE OR REPLACE AGGREGATE fmtbank.audit_chain(bytea, bigint, timestamptz, text, text,
                                                        text, text, jsonb, jsonb, text)
            (SFUNC = fmtbank.audit_chain_step, STYPE = bytea);
    END IF;
END $$;

-- The audit trigger (audit_enable below): appends an audit row for each row the statement changed,
-- chained to the last row. The advisory lock (held to commit) serialises writers so ids follow
-- commit order and the chain never forks. Two paths, the same rows:
--  - a statement of up to 1,000 rows (a scan, a command) goes through audit_write: static
--    statements whose plans the session keeps (planning the bulk path's dynamic INSERT on every
--    statement tripled the trigger's cost: 0.45 ms against 0.17 ms per one-row statement);
--  - a bigger one (an import, a sweep) writes its rows straight from the transition tables in one
--    dynamic INSERT (they are visible to this function's own statements only, hence here): no
--    arrays of jsonb built, passed and unnested, no sort of the wide rows by id (making 96,800
--    lots ready, those cost more than the rows' content and hashes). Each row's JSON is
--    to_jsonb's, from the server module's C function when the instance has it
--    (340_audit_chain_step.sql, fmtbank.row_jsonb_raw: the same value, each column's type looked
--    up once per statement instead of once per row: 0.23 s instead of 0.33 s per 100,000 results).
--    Why its chain follows the ids without a sort: the window has no ORDER BY, so the WindowAgg
--    consumes the rows in the order the subquery below it numbers them (nextval, volatile: never
--    pulled up, never parallel), and each row's hash covers the row before it in that order.
-- Both chain with audit_chain (its content text built in C with the module) and order an UPDATE's
-- rows by key. tests/sql/sql/audit_verify.sql verifies multi-row inserts and updates on both
-- paths link by link, and that they write the same rows.
CREATE OR REPLACE FUNCTION fmtbank.audit_write(p_tbl text, p_op text, p_keycol text, p_pii boolean,
                                               p_old jsonb[], p_new jsonb[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM fmtbank.lock_wait(70640001, 'the audit chain');
    INSERT INTO fmtbank.audit_log (id, at, who, tbl, op, key, old_row, new_row, reason, pii, hash)
    SELECT s.id, s.at, s.who, p_tbl, p_op, s.key, s.o, s.n, s.why, p_pii,
           fmtbank.audit_chain(seed.h, s.id, s.at, s.who, p_tbl, p_op, s.key, s.o, s.n, s.why)
               OVER (ORDER BY s.id)
    FROM (SELECT nextval('fmtbank.audit_log_id_seq') AS id, clock_timestamp() AS at,
                 session_user::text AS who, coalesce(u.n, u.o) ->> p_keycol AS key, u.o, u.n,
                 nullif(btrim(current_setting('fmtbank.reason', true)), '') AS why
          FROM unnest(p_old, p_new) WITH ORDINALITY AS u(o, n, ord)) s,
         (SELECT coalesce((SELECT hash FROM fmtbank.audit_log ORDER BY id DESC LIMIT 1),
                          '\x'::bytea) AS h) seed;
END $$;

-- No JIT for its statements (nor for the version triggers', 160_asof): they are planned with the
-- transition tables' row counts but no statistics, so the bulk INSERT of a 96,800-lot UPDATE was
-- estimated at 46 million joined rows and compiled with full optimization, 0.24 s of the first
-- pass for a statement that runs in 1.9 s (0.07 s for the lot versions').
CREATE OR REPLACE FUNCTION fmtbank.audit_stmt() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
    k text := TG_ARGV[0];
    pii boolean := TG_ARGV[1]::boolean;
    j regproc;
    n bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        n := (SELECT count(*) FROM old_rows);
    ELSE
        n := (SELECT count(*) FROM new_rows);
    END IF;
    IF n <= 1000 THEN
        IF TG_OP = 'INSERT' THEN
            PERFORM fmtbank.audit_write(TG_TABLE_NAME, TG_OP, k, pii,
                                        array(SELECT NULL::jsonb FROM new_rows),
                                        array(SELECT to_jsonb(t) FROM new_rows t));
        ELSIF TG_OP = 'UPDATE' THEN
            -- old and new rows paired by key, in key order: one sort feeding both arrays
            PERFORM fmtbank.audit_write(TG_TABLE_NAME, TG_OP, k, pii, array_agg(x.o), array_agg(x.n))
            FROM (SELECT o.j AS o, n.j AS n
                  FROM (SELECT to_jsonb(t) AS j FROM old_rows t) o
                  JOIN (SELECT to_jsonb(t) AS j FROM new_rows t) n ON n.j ->> k = o.j ->> k
                  ORDER BY o.j ->> k) x;
        ELSE
            PERFORM fmtbank.audit_write(TG_TABLE_NAME, TG_OP, k, pii,
                                        array(SELECT to_jsonb(t) FROM old_rows t),
                                        array(SELECT NULL::jsonb FROM old_rows));
        END IF;
        RETURN NULL;
    END IF;
    j := coalesce(pg_catalog.to_regproc('fmtbank.row_jsonb_raw'), 'pg_catalog.to_jsonb');
    PERFORM fmtbank.lock_wait(70640001, 'the audit chain');
    EXECUTE format($f$
    INSERT INTO fmtbank.audit_log (id, at, who, tbl, op, key, old_row, new_row, reason, pii, hash)
    SELECT s.id, s.at, s.who, $1, $2, s.key, s.o, s.n, s.why, $3,
           fmtbank.audit_chain(seed.h, s.id, s.at, s.who, $1, $2, s.key, s.o, s.n, s.why)
               OVER (ROWS UNBOUNDED PRECEDING)
    FROM (SELECT nextval('fmtbank.audit_log_id_seq') AS id, clock_timestamp() AS at,
                 session_user::text AS who, coalesce(x.n, x.o) ->> $4 AS key, x.o, x.n,
                 nullif(btrim(current_setting('fmtbank.reason', true)), '') AS why
          FROM (%s) x) s,
         (SELECT coalesce((SELECT hash FROM fmtbank.audit_log ORDER BY id DESC LIMIT 1),
                          '\x'::bytea) AS h) seed$f$,
        CASE TG_OP
        WHEN 'INSERT' THEN format('SELECT NULL::jsonb AS o, %s(n) AS n FROM new_rows n', j)
        -- old and new rows paired by key (the column itself: no jsonb built to be compared), in
        -- key order
        WHEN 'UPDATE' THEN format('SELECT %2$s(o) AS o, %2$s(n) AS n FROM old_rows o '
                                  'JOIN new_rows n ON n.%1$I = o.%1$I ORDER BY o.%1$I::text', k, j)
        ELSE format('SELECT %s(o) AS o, NULL::jsonb AS n FROM old_rows o', j) END)
    USING TG_TABLE_NAME, TG_OP, pii, k;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.refuse_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'FB003',
        MESSAGE = format('cannot delete from "%s": records are never deleted', TG_TABLE_NAME),
        HINT = 'Supersede, discard or disable the record instead.';
END $$;

-- Gives a business table its audit triggers (insert, update, delete) and refuses DELETE and
-- TRUNCATE on it. p_pii marks tables whose audit rows only quality and admin may read.
CREATE OR REPLACE FUNCTION fmtbank.audit_enable(p_table regclass, p_keycol text, p_pii boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER audit_ins AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.audit_stmt(%L, %L)',
                   p_table, p_keycol, p_pii);
    EXECUTE format('CREATE TRIGGER audit_upd AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows '
                   'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.audit_stmt(%L, %L)',
                   p_table, p_keycol, p_pii);
    EXECUTE format('CREATE TRIGGER audit_del AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.audit_stmt(%L, %L)',
                   p_table, p_keycol, p_pii);
    EXECUTE format('CREATE TRIGGER no_delete BEFORE DELETE ON %s FOR EACH ROW '
                   'EXECUTE FUNCTION fmtbank.refuse_delete()', p_table);
    EXECUTE format('CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT '
                   'EXECUTE FUNCTION fmtbank.refuse_delete()', p_table);
END $$;

CREATE OR REPLACE FUNCTION fmtbank.audit_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'FB003',
        MESSAGE = format('cannot %s the audit trail: it is append-only', lower(TG_OP));
END $$;

-- 053_audit_verify_links.sql: "audit verify" checks each link of the chain on its own: row i is
-- intact when its hash is SHA-256(stored hash of row i-1 || content of row i). Every link holding
-- is the same as the chain recomputed from the first row (the first failing link is the first row
-- the recomputed chain disagrees with). Because each link reads only stored data, any id range
-- (p_after, p_upto] verifies on its own: its first row chains from the stored hash of the last
-- row at or before p_after (none: the empty string); NULL bounds are open.
-- audit_verify_sql is the plain SQL definition, the reference. JIT off: compiling the
-- expressions costs more than it saves here (0.86 s vs 0.66 s at 100,000 rows).
CREATE OR REPLACE FUNCTION fmtbank.audit_verify_sql(p_after bigint, p_upto bigint,
                                                    OUT ok boolean, OUT rows_checked bigint,
                                                    OUT first_broken bigint, OUT last_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
    WITH c AS (
        SELECT id, hash,
               sha256(coalesce(lag(hash, 1, (SELECT b.hash FROM fmtbank.audit_log b
                                             WHERE b.id <= p_after ORDER BY b.id DESC LIMIT 1))
                                   OVER (ORDER BY id), '\x'::bytea)
                      || convert_to(fmtbank.audit_content(id, at, who, tbl, op, key, old_row,
                                                          new_row, reason), 'UTF8')) AS expect
        FROM fmtbank.audit_log
        WHERE (p_after IS NULL OR id > p_after) AND (p_upto IS NULL OR id <= p_upto))
    SELECT bool_and(hash = expect) IS NOT FALSE, count(*), min(id) FILTER (WHERE hash <> expect),
           max(id)
    FROM c
$$;

-- The same answer, from the server module's C loop (src/pgmodule/audit_chain.c: the same
-- content rebuilt from the stored columns and hashed, 190_audit_chain.sql) when the instance
-- preloads it, else from audit_verify_sql. tests/sql/sql/audit_verify.sql holds them equal.
CREATE OR REPLACE FUNCTION fmtbank.audit_verify_range(p_after bigint, p_upto bigint,
                                                      OUT ok boolean, OUT rows_checked bigint,
                                                      OUT first_broken bigint, OUT last_id bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
    IF to_regprocedure('fmtbank.audit_chain_raw(bigint,bigint)') IS NOT NULL THEN
        SELECT r.ok, r.rows_checked, r.first_broken, r.last_id
        INTO ok, rows_checked, first_broken, last_id
        FROM fmtbank.audit_chain_raw(p_after, p_upto) r;
    ELSE
        SELECT r.ok, r.rows_checked, r.first_broken, r.last_id
        INTO ok, rows_checked, first_broken, last_id
        FROM fmtbank.audit_verify_sql(p_after, p_upto) r;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.audit_verify(OUT ok boolean, OUT rows_checked bigint,
                                                OUT first_broken bigint, OUT last_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.ok, r.rows_checked, r.first_broken, r.last_id
    FROM fmtbank.audit_verify_range(NULL, NULL) r
$$;

CREATE OR REPLACE FUNCTION fmtbank.check_password(p_password text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_password IS NULL OR length(p_password) < 8 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = 'signature password must have at least 8 characters';
    END IF;
    RETURN fmtbank.crypt(p_password, fmtbank.gen_salt('bf', 10));
END $$;

CREATE OR REPLACE FUNCTION fmtbank.user_add(p_name text, p_role text, p_printed text, p_password text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM fmtbank.require_role('adding users', 'admin');
    IF p_name IS NULL OR p_name !~ '^[a-z_][a-z0-9_]{0,62}$' OR p_name LIKE 'pg\_%'
       OR p_name LIKE 'fmtbank\_%' OR p_name IN ('postgres', 'fmtbankd') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid user name "%s"', p_name),
            HINT = 'Use lower-case letters, digits and underscores, starting with a letter.';
    END IF;
    IF p_role IS NULL OR p_role NOT IN ('technician', 'quality', 'auditor', 'admin', 'site') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid role "%s"', p_role),
            HINT = 'Use technician, quality, auditor, admin or site.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_name) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('user "%s" already exists', p_name);
    END IF;
    EXECUTE format('CREATE ROLE %I LOGIN IN ROLE %I', p_name, 'fmtbank_' || p_role);
    INSERT INTO fmtbank.app_user (name, role, printed_name)
    VALUES (p_name, p_role, coalesce(nullif(btrim(p_printed), ''), p_name));
    IF p_password IS NOT NULL THEN
        PERFORM fmtbank.password_apply(p_name, p_password);
    END IF;
    RETURN p_name;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.user_get(p_name text) RETURNS fmtbank.app_user
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE u fmtbank.app_user;
BEGIN
    SELECT * INTO u FROM fmtbank.app_user WHERE name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('user "%s" not found', p_name);
    END IF;
    RETURN u;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.user_disable(p_name text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE u fmtbank.app_user := fmtbank.user_get(p_name);
BEGIN
    PERFORM fmtbank.require_role('disabling users', 'admin');
    IF u.disabled_at IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('user "%s" is already disabled', p_name);
    END IF;
    IF p_name = session_user THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = 'cannot disable yourself';
    END IF;
    PERFORM fmtbank.acting_reason(true, 'disabling a user');
    EXECUTE format('ALTER ROLE %I NOLOGIN', p_name);
    UPDATE fmtbank.app_user SET disabled_at = clock_timestamp() WHERE name = p_name;
    RETURN p_name;
END $$;

-- The old two-argument form: an admin resetting someone else's password.
CREATE OR REPLACE FUNCTION fmtbank.user_set_password(p_name text, p_password text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN fmtbank.user_password(p_name, p_password, NULL);
END $$;

-- Unlocks the login lockout (server module) and the signature lockout (070's signature_reset,
-- which settles first; guarded so this file also works without 070).
CREATE OR REPLACE FUNCTION fmtbank.user_unlock(p_name text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u fmtbank.app_user := fmtbank.user_get(p_name);
    unsettled boolean := false;
BEGIN
    PERFORM fmtbank.require_role('unlocking users', 'admin');
    IF to_regprocedure('fmtbank.signature_unsettled_failures(text)') IS NOT NULL THEN
        EXECUTE 'SELECT fmtbank.signature_unsettled_failures($1)' INTO unsettled USING p_name;
    END IF;
    IF u.locked_at IS NULL AND u.failed_attempts = 0 AND NOT coalesce(unsettled, false)
       AND fmtbank.user_login_failures(p_name) = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('user "%s" is not locked', p_name);
    END IF;
    PERFORM fmtbank.acting_reason(true, 'unlocking a user');
    IF to_regprocedure('fmtbank.signature_reset(text)') IS NOT NULL THEN
        EXECUTE 'SELECT fmtbank.signature_reset($1)' USING p_name;
    ELSIF u.locked_at IS NOT NULL OR u.failed_attempts <> 0 THEN
        UPDATE fmtbank.app_user SET locked_at = NULL, failed_attempts = 0 WHERE name = p_name;
    END IF;
    IF to_regprocedure('fmtbank.login_reset_raw(text)') IS NOT NULL THEN
        EXECUTE 'SELECT fmtbank.login_reset_raw($1)' USING p_name;
    END IF;
    RETURN p_name;
END $$;

-- "locked" also covers the login lockout of the server module.
CREATE OR REPLACE VIEW fmtbank.user_list AS
    SELECT u.name, u.role, u.printed_name,
           EXISTS (SELECT 1 FROM fmtbank.user_secret s WHERE s.name = u.name) AS has_signature,
           u.disabled_at IS NOT NULL AS disabled,
           u.locked_at IS NOT NULL
               OR fmtbank.user_login_failures(u.name)
                  >= coalesce(current_setting('fmtbank_auth.login_max_failures', true)::integer,
                              fmtbank.rule_value('login_max_failures')::integer) AS locked,
           u.created_at, u.unblinded
    FROM fmtbank.app_user u;

-- ---------------------------------------------------------------- status counts (a registry)
-- "fmtbank status" counts by contribution: a group of code registers a function that returns
-- (entity, state, n) rows; fmtbank.status_counts reads every registered one (in name order).
-- Registering is part of the code set (owner only); it replaces the source of the same name.
CREATE OR REPLACE FUNCTION fmtbank.status_register(p_name text, p_fn regprocedure) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO fmtbank.status_source (name, fn) VALUES (p_name, p_fn)
    ON CONFLICT (name) DO UPDATE SET fn = EXCLUDED.fn;
$$;

CREATE OR REPLACE FUNCTION fmtbank.status_counts_all() RETURNS TABLE (entity text, state text, n bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT s.fn FROM fmtbank.status_source s ORDER BY s.name LOOP
        RETURN QUERY EXECUTE format('SELECT s.entity, s.state, s.n FROM %s s', f);
    END LOOP;
END $$;

CREATE OR REPLACE VIEW fmtbank.status_counts AS
    SELECT c.entity, c.state, c.n FROM fmtbank.status_counts_all() c;

CREATE OR REPLACE FUNCTION fmtbank.status_users() RETURNS TABLE (entity text, state text, n bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'user', CASE WHEN u.disabled_at IS NULL THEN 'active' ELSE 'disabled' END, count(*)
    FROM fmtbank.app_user u GROUP BY 2;
$$;
SELECT fmtbank.status_register('user', 'fmtbank.status_users()');

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.acting_is(text[]),
    fmtbank.require_role(text, text[]),
    fmtbank.acting_reason(boolean, text),
    fmtbank.trial_blind(),
    fmtbank.parse_date(text, text),
    fmtbank.parse_ts(text, text),
    fmtbank.check_char(text),
    fmtbank.check_id(text, text, text),
    fmtbank.id_input(text),
    fmtbank.id_display(text),
    fmtbank.user_add(text, text, text, text),
    fmtbank.user_get(text),
    fmtbank.user_disable(text),
    fmtbank.user_set_password(text, text),
    fmtbank.user_unlock(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- not granted (owner only): uuid_v7_prefix, uuid_v7, audit_chain_raw and hash_chain_step_raw (190), audit_chain_step_raw and row_jsonb_raw (340), audit_content, hash_chain_step, hash_chain, audit_chain_step, audit_chain, audit_write, audit_stmt, refuse_delete, audit_enable, audit_append_only, check_password

GRANT EXECUTE ON FUNCTION
    fmtbank.audit_verify(),
    fmtbank.audit_verify_range(bigint, bigint),
    fmtbank.audit_verify_sql(bigint, bigint)
    TO fmtbank_quality, fmtbank_auditor, fmtbank_admin;

GRANT SELECT ON fmtbank.user_list
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.status_counts_all()
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT SELECT ON fmtbank.status_counts
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
-- not granted (owner only): status_register, status_users
