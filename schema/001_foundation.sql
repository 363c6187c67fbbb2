-- 001_foundation: roles, privileges, helpers, the hash-chained append-only audit trail, users,
-- daemon heartbeat and the status view. Every later business table calls fmtbank.audit_enable().
--
-- Conventions for every migration:
--  * application roles get no INSERT/UPDATE/DELETE on any table; changes go through SECURITY
--    DEFINER functions that check the rules and the acting role (session_user);
--  * EXECUTE is revoked from PUBLIC by default: grant each function to the roles that may call it;
--  * rules raise SQLSTATE FB001 (invalid input), FB002 (not found), FB003 (refused by a rule) or
--    42501 (permission denied) with a message written for the person at the terminal.

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA fmtbank;

DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['fmtbank_technician', 'fmtbank_quality', 'fmtbank_auditor',
                             'fmtbank_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END $$;

REVOKE ALL ON SCHEMA fmtbank FROM PUBLIC;
GRANT USAGE ON SCHEMA fmtbank TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
-- Functions are executable by PUBLIC by default, and a per-schema default privilege cannot take
-- that away: revoke it for the role running the migrations, and the migration runner revokes it
-- again for everything in schema fmtbank at the end of every migration (src/db/migrate.c).
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA fmtbank FROM PUBLIC;
REVOKE ALL ON fmtbank.schema_migration FROM PUBLIC;
GRANT SELECT ON fmtbank.schema_migration
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- ---------------------------------------------------------------- acting role
-- PL/pgSQL, not SQL: a SQL function with a SET clause is planned again on every call (~150 us),
-- a PL/pgSQL one keeps its plans for the session.
CREATE FUNCTION fmtbank.acting_is(VARIADIC p_roles text[]) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
    RETURN coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
        OR EXISTS (SELECT 1 FROM unnest(p_roles) r
                   WHERE pg_has_role(session_user, 'fmtbank_' || r, 'MEMBER'));
END $$;

CREATE FUNCTION fmtbank.require_role(p_action text, VARIADIC p_roles text[]) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
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
CREATE FUNCTION fmtbank.acting_reason(p_required boolean, p_action text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE r text := nullif(btrim(current_setting('fmtbank.reason', true)), '');
BEGIN
    IF r IS NULL AND p_required THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('%s requires a reason', p_action),
            HINT = 'Give one with --reason TEXT; it is kept in the audit trail.';
    END IF;
    RETURN r;
END $$;

-- ---------------------------------------------------------------- input parsing
CREATE FUNCTION fmtbank.parse_date(p text, p_field text) RETURNS date
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
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
CREATE FUNCTION fmtbank.parse_ts(p text, p_field text) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
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
CREATE FUNCTION fmtbank.check_char(p text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog AS $$
    SELECT substr(a, ((38 - (sum((strpos(a, c) - 1) * ((1::bigint << (n - i + 1)::int) % 37))
                            % 37)::int) % 37) + 1, 1)
    FROM (SELECT '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*'::text AS a) k,
         LATERAL (SELECT c, i, count(*) OVER () AS n
                  FROM regexp_split_to_table(replace(p, '-', ''), '') WITH ORDINALITY AS t(c, i)) s
    GROUP BY a
$$;

-- Validates a scanned or typed ID of a kind (p_pattern describes its body) and returns it
-- normalised (upper case, trimmed), or raises FB001 naming the field.
CREATE FUNCTION fmtbank.check_id(p text, p_kind text, p_pattern text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
DECLARE id text := upper(btrim(coalesce(p, '')));
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

-- ---------------------------------------------------------------- audit trail
CREATE TABLE fmtbank.audit_log (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL,
    who      text NOT NULL,
    tbl      text NOT NULL,
    op       text NOT NULL CHECK (op IN ('INSERT', 'UPDATE', 'DELETE')),
    key      text,
    old_row  jsonb,
    new_row  jsonb,
    reason   text,
    pii      boolean NOT NULL DEFAULT false,
    hash     bytea NOT NULL
);
CREATE INDEX audit_log_tbl_key ON fmtbank.audit_log (tbl, key);
CREATE INDEX audit_log_at ON fmtbank.audit_log (at);

-- The exact text each row's hash covers (timestamps in UTC so the session zone cannot change it).
-- A STABLE SQL function without a SET clause (every name qualified) so that the planner inlines
-- it into the audit INSERT: no call per audited row.
CREATE FUNCTION fmtbank.audit_content(p_id bigint, p_at timestamptz, p_who text, p_tbl text,
                                      p_op text, p_key text, p_old jsonb, p_new jsonb,
                                      p_reason text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.concat_ws(E'\x1f', p_id::text,
                     pg_catalog.to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
                     p_who, p_tbl, p_op, coalesce(p_key, ''), coalesce(p_old::text, ''),
                     coalesce(p_new::text, ''), coalesce(p_reason, ''))
$$;

CREATE FUNCTION fmtbank.hash_chain_step(p_state bytea, p_seed bytea, p_content text)
RETURNS bytea LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
BEGIN
    RETURN sha256(coalesce(p_state, p_seed) || convert_to(p_content, 'UTF8'));
END $$;

-- hash_chain(seed, content) OVER (ORDER BY id): each row's SHA-256 covers the previous row's.
CREATE AGGREGATE fmtbank.hash_chain(bytea, text) (SFUNC = fmtbank.hash_chain_step, STYPE = bytea);

-- Appends audit rows for one statement's changed rows, chained to the last row. The advisory
-- lock (held to commit) serialises writers so ids follow commit order and the chain never forks.
CREATE FUNCTION fmtbank.audit_write(p_tbl text, p_op text, p_keycol text, p_pii boolean,
                                               p_old jsonb[], p_new jsonb[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(70640001);
    INSERT INTO fmtbank.audit_log (id, at, who, tbl, op, key, old_row, new_row, reason, pii, hash)
    SELECT s.id, s.at, s.who, p_tbl, p_op, s.key, s.o, s.n, s.why, p_pii,
           fmtbank.hash_chain(seed.h, fmtbank.audit_content(s.id, s.at, s.who, p_tbl, p_op, s.key,
                                                            s.o, s.n, s.why)) OVER (ORDER BY s.id)
    FROM (SELECT nextval('fmtbank.audit_log_id_seq') AS id, clock_timestamp() AS at,
                 session_user::text AS who, coalesce(u.n, u.o) ->> p_keycol AS key, u.o, u.n,
                 nullif(btrim(current_setting('fmtbank.reason', true)), '') AS why
          FROM unnest(p_old, p_new) WITH ORDINALITY AS u(o, n, ord)) s,
         (SELECT coalesce((SELECT hash FROM fmtbank.audit_log ORDER BY id DESC LIMIT 1),
                          '\x'::bytea) AS h) seed;
END $$;

CREATE FUNCTION fmtbank.audit_stmt() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    k text := TG_ARGV[0];
    pii boolean := TG_ARGV[1]::boolean;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM fmtbank.audit_write(TG_TABLE_NAME, TG_OP, k, pii,
                                    array(SELECT NULL::jsonb FROM new_rows),
                                    array(SELECT to_jsonb(t) FROM new_rows t));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM fmtbank.audit_write(TG_TABLE_NAME, TG_OP, k, pii, array_agg(o.j ORDER BY o.j ->> k),
                                    array_agg(n.j ORDER BY o.j ->> k))
        FROM (SELECT to_jsonb(t) AS j FROM old_rows t) o
        JOIN (SELECT to_jsonb(t) AS j FROM new_rows t) n ON n.j -> k = o.j -> k;
    ELSE
        PERFORM fmtbank.audit_write(TG_TABLE_NAME, TG_OP, k, pii,
                                    array(SELECT to_jsonb(t) FROM old_rows t),
                                    array(SELECT NULL::jsonb FROM old_rows));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION fmtbank.refuse_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'FB003',
        MESSAGE = format('cannot delete from "%s": records are never deleted', TG_TABLE_NAME),
        HINT = 'Supersede, discard or disable the record instead.';
END $$;

-- Gives a business table its audit triggers (insert, update, delete) and refuses DELETE and
-- TRUNCATE on it. p_pii marks tables whose audit rows only quality and admin may read.
CREATE FUNCTION fmtbank.audit_enable(p_table regclass, p_keycol text, p_pii boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog AS $$
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

CREATE FUNCTION fmtbank.audit_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'FB003',
        MESSAGE = format('cannot %s the audit trail: it is append-only', lower(TG_OP));
END $$;

CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON fmtbank.audit_log
    FOR EACH ROW EXECUTE FUNCTION fmtbank.audit_append_only();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON fmtbank.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.audit_append_only();

REVOKE ALL ON fmtbank.audit_log FROM PUBLIC;
REVOKE ALL ON SEQUENCE fmtbank.audit_log_id_seq FROM PUBLIC;
GRANT SELECT ON fmtbank.audit_log TO fmtbank_quality, fmtbank_auditor, fmtbank_admin;
ALTER TABLE fmtbank.audit_log ENABLE ROW LEVEL SECURITY;
-- Audit rows of donor identity (PII) are for quality and admin only.
CREATE POLICY audit_read ON fmtbank.audit_log FOR SELECT
    USING (NOT pii OR fmtbank.acting_is('quality', 'admin'));

-- Recomputes the chain from the first row; names the first row whose hash does not match.
CREATE FUNCTION fmtbank.audit_verify(OUT ok boolean, OUT rows_checked bigint,
                                     OUT first_broken bigint, OUT last_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    WITH c AS (
        SELECT id, hash,
               fmtbank.hash_chain('\x'::bytea, fmtbank.audit_content(id, at, who, tbl, op, key,
                                                                     old_row, new_row, reason))
                   OVER (ORDER BY id) AS expect
        FROM fmtbank.audit_log)
    SELECT bool_and(hash = expect) IS NOT FALSE, count(*), min(id) FILTER (WHERE hash <> expect),
           max(id)
    FROM c
$$;

-- ---------------------------------------------------------------- users
CREATE TABLE fmtbank.app_user (
    name            text PRIMARY KEY,
    role            text NOT NULL CHECK (role IN ('technician', 'quality', 'auditor', 'admin')),
    printed_name    text NOT NULL CHECK (btrim(printed_name) <> ''),
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by      text NOT NULL DEFAULT session_user,
    disabled_at     timestamptz,
    failed_attempts integer NOT NULL DEFAULT 0,
    locked_at       timestamptz
);
SELECT fmtbank.audit_enable('fmtbank.app_user', 'name');

-- The signature password hash (bcrypt), apart so only the signing functions ever read it.
CREATE TABLE fmtbank.user_secret (
    name     text PRIMARY KEY REFERENCES fmtbank.app_user,
    sig_hash text NOT NULL,
    set_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
SELECT fmtbank.audit_enable('fmtbank.user_secret', 'name', true);

CREATE FUNCTION fmtbank.check_password(p_password text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
    IF p_password IS NULL OR length(p_password) < 8 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = 'signature password must have at least 8 characters';
    END IF;
    RETURN fmtbank.crypt(p_password, fmtbank.gen_salt('bf', 10));
END $$;

CREATE FUNCTION fmtbank.user_add(p_name text, p_role text, p_printed text, p_password text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    PERFORM fmtbank.require_role('adding users', 'admin');
    IF p_name IS NULL OR p_name !~ '^[a-z_][a-z0-9_]{0,62}$' OR p_name LIKE 'pg\_%'
       OR p_name LIKE 'fmtbank\_%' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid user name "%s"', p_name),
            HINT = 'Use lower-case letters, digits and underscores, starting with a letter.';
    END IF;
    IF p_role IS NULL OR p_role NOT IN ('technician', 'quality', 'auditor', 'admin') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid role "%s"', p_role),
            HINT = 'Use technician, quality, auditor or admin.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_name) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('user "%s" already exists', p_name);
    END IF;
    EXECUTE format('CREATE ROLE %I LOGIN IN ROLE %I', p_name, 'fmtbank_' || p_role);
    INSERT INTO fmtbank.app_user (name, role, printed_name)
    VALUES (p_name, p_role, coalesce(nullif(btrim(p_printed), ''), p_name));
    IF p_password IS NOT NULL THEN
        INSERT INTO fmtbank.user_secret (name, sig_hash)
        VALUES (p_name, fmtbank.check_password(p_password));
    END IF;
    RETURN p_name;
END $$;

CREATE FUNCTION fmtbank.user_get(p_name text) RETURNS fmtbank.app_user
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE u fmtbank.app_user;
BEGIN
    SELECT * INTO u FROM fmtbank.app_user WHERE name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('user "%s" not found', p_name);
    END IF;
    RETURN u;
END $$;

CREATE FUNCTION fmtbank.user_disable(p_name text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
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

-- Sets the signature password: an admin for anyone, or a user for themself.
CREATE FUNCTION fmtbank.user_set_password(p_name text, p_password text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE u fmtbank.app_user := fmtbank.user_get(p_name);
BEGIN
    IF p_name <> session_user THEN
        PERFORM fmtbank.require_role('setting another user''s signature password', 'admin');
    END IF;
    IF u.disabled_at IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('user "%s" is disabled', p_name);
    END IF;
    INSERT INTO fmtbank.user_secret (name, sig_hash) VALUES (p_name, fmtbank.check_password(p_password))
    ON CONFLICT (name) DO UPDATE SET sig_hash = excluded.sig_hash, set_at = clock_timestamp();
    RETURN p_name;
END $$;

CREATE FUNCTION fmtbank.user_unlock(p_name text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE u fmtbank.app_user := fmtbank.user_get(p_name);
BEGIN
    PERFORM fmtbank.require_role('unlocking users', 'admin');
    IF u.locked_at IS NULL AND u.failed_attempts = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('user "%s" is not locked', p_name);
    END IF;
    PERFORM fmtbank.acting_reason(true, 'unlocking a user');
    UPDATE fmtbank.app_user SET locked_at = NULL, failed_attempts = 0 WHERE name = p_name;
    RETURN p_name;
END $$;

CREATE VIEW fmtbank.user_list AS
    SELECT u.name, u.role, u.printed_name,
           EXISTS (SELECT 1 FROM fmtbank.user_secret s WHERE s.name = u.name) AS has_signature,
           u.disabled_at IS NOT NULL AS disabled, u.locked_at IS NOT NULL AS locked,
           u.created_at
    FROM fmtbank.app_user u;

REVOKE ALL ON fmtbank.app_user, fmtbank.user_secret, fmtbank.user_list FROM PUBLIC;
GRANT SELECT ON fmtbank.app_user, fmtbank.user_list
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.user_add(text, text, text, text), fmtbank.user_disable(text),
    fmtbank.user_unlock(text) TO fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.user_set_password(text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.audit_verify() TO fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.acting_is(text[]), fmtbank.require_role(text, text[]),
    fmtbank.acting_reason(boolean, text), fmtbank.parse_date(text, text),
    fmtbank.parse_ts(text, text), fmtbank.check_char(text), fmtbank.check_id(text, text, text),
    fmtbank.user_get(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- ---------------------------------------------------------------- daemon heartbeat, status
CREATE TABLE fmtbank.daemon_heartbeat (
    host        text NOT NULL,
    pid         integer NOT NULL,
    started_at  timestamptz NOT NULL,
    beat_at     timestamptz NOT NULL,
    last_sweep  timestamptz,
    last_import timestamptz,
    errors      bigint NOT NULL DEFAULT 0,
    active      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (host, pid)
);
REVOKE ALL ON fmtbank.daemon_heartbeat FROM PUBLIC;
GRANT SELECT ON fmtbank.daemon_heartbeat
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- Counts by state for "fmtbank status"; later migrations replace it as entities are added.
CREATE VIEW fmtbank.status_counts AS
    SELECT 'user'::text AS entity, CASE WHEN disabled_at IS NULL THEN 'active' ELSE 'disabled' END AS state,
           count(*) AS n
    FROM fmtbank.app_user GROUP BY 2;
REVOKE ALL ON fmtbank.status_counts FROM PUBLIC;
GRANT SELECT ON fmtbank.status_counts
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
