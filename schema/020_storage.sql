-- 020_storage: scannable identifiers (freezer, box, lot, aliquot), freezers, boxes and box
-- positions. IDs end in an ISO/IEC 7064 MOD 37-2 check character (fmtbank.check_char):
--   freezer F + 4 digits, box B + 6 digits, lot L + 2-digit year + 6-digit sequence,
--   aliquot = lot ID without its check character + '-' + 3-digit index (000 = retained sample).
-- Positions are row letter + column number (A1 .. P24); a position in a box is "BOXID:A1".

-- ---------------------------------------------------------------- identifiers
CREATE SEQUENCE fmtbank.freezer_seq MAXVALUE 9999;
CREATE SEQUENCE fmtbank.box_seq MAXVALUE 999999;

-- Per-year lot numbers (gapless within a year; the row lock serialises concurrent donations).
CREATE TABLE fmtbank.id_counter (
    kind  text NOT NULL,
    year  integer NOT NULL,
    last  integer NOT NULL,
    PRIMARY KEY (kind, year)
);
REVOKE ALL ON fmtbank.id_counter, fmtbank.freezer_seq, fmtbank.box_seq FROM PUBLIC;

-- body || its check character.
CREATE FUNCTION fmtbank.with_check(p_body text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog AS $$
    SELECT p_body || fmtbank.check_char(p_body)
$$;

-- The body pattern of each kind of scannable ID (without the check character).
CREATE FUNCTION fmtbank.id_pattern(p_kind text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog AS $$
    SELECT CASE p_kind WHEN 'freezer' THEN 'F[0-9]{4}' WHEN 'box' THEN 'B[0-9]{6}'
                       WHEN 'lot' THEN 'L[0-9]{8}' WHEN 'aliquot' THEN 'L[0-9]{8}-[0-9]{3}' END
$$;

-- Small helpers on the scan path are SQL-standard bodies (RETURN expr): their names are bound
-- when they are created (so no search_path can change them) and the planner inlines them. A
-- LANGUAGE sql function with SET search_path is neither inlined nor plan-cached: it is planned
-- afresh on every call (tens of microseconds each).

-- Which kind of scannable ID p looks like (by its shape, before any check), or NULL.
CREATE FUNCTION fmtbank.id_kind(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN upper(btrim(p)) ~ '^F[0-9]{4}[0-9A-Z*]$' THEN 'freezer'
            WHEN upper(btrim(p)) ~ '^B[0-9]{6}[0-9A-Z*]$' THEN 'box'
            WHEN upper(btrim(p)) ~ '^L[0-9]{8}[0-9A-Z*]$' THEN 'lot'
            WHEN upper(btrim(p)) ~ '^L[0-9]{8}-[0-9]{3}[0-9A-Z*]$' THEN 'aliquot' END;

-- ---------------------------------------------------------------- positions
CREATE FUNCTION fmtbank.position_text(p_row integer, p_col integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN chr(64 + p_row) || p_col::text;

-- ---------------------------------------------------------------- freezers and boxes
CREATE TABLE fmtbank.freezer (
    id          uuid PRIMARY KEY DEFAULT fmtbank.gen_random_uuid(),
    freezer_id  text NOT NULL UNIQUE CHECK (freezer_id ~ '^F[0-9]{4}[0-9A-Z*]$'),
    name        text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    temp_c      numeric(5, 1) NOT NULL CHECK (temp_c BETWEEN -200 AND 10),
    site        text,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by  text NOT NULL DEFAULT session_user
);
SELECT fmtbank.audit_enable('fmtbank.freezer', 'freezer_id');

CREATE TABLE fmtbank.box (
    id          uuid PRIMARY KEY DEFAULT fmtbank.gen_random_uuid(),
    box_id      text NOT NULL UNIQUE CHECK (box_id ~ '^B[0-9]{6}[0-9A-Z*]$'),
    freezer     uuid NOT NULL REFERENCES fmtbank.freezer,
    rack        text,
    nrows       smallint NOT NULL CHECK (nrows BETWEEN 1 AND 16),
    ncols       smallint NOT NULL CHECK (ncols BETWEEN 1 AND 24),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by  text NOT NULL DEFAULT session_user
);
CREATE INDEX box_freezer ON fmtbank.box (freezer);
SELECT fmtbank.audit_enable('fmtbank.box', 'box_id');

REVOKE ALL ON fmtbank.freezer, fmtbank.box FROM PUBLIC;
GRANT SELECT ON fmtbank.freezer, fmtbank.box
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- The freezer with this ID (check character verified) or name, or FB001/FB002.
CREATE FUNCTION fmtbank.freezer_get(p text) RETURNS fmtbank.freezer
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE f fmtbank.freezer;
BEGIN
    IF fmtbank.id_kind(p) = 'freezer' THEN
        SELECT * INTO f FROM fmtbank.freezer
        WHERE freezer_id = fmtbank.check_id(p, 'freezer', fmtbank.id_pattern('freezer'));
    ELSE
        SELECT * INTO f FROM fmtbank.freezer WHERE name = btrim(p);
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('freezer "%s" not found', p);
    END IF;
    RETURN f;
END $$;

-- The box with this ID, or FB001 (malformed, bad check character) / FB002 (unknown). A stored
-- ID always has a valid check character, so the check is only computed when the lookup misses.
CREATE FUNCTION fmtbank.box_get(p text) RETURNS fmtbank.box
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
    v_id text;
    b fmtbank.box;
BEGIN
    SELECT * INTO b FROM fmtbank.box WHERE box_id = upper(btrim(p));
    IF FOUND THEN
        RETURN b;
    END IF;
    v_id := fmtbank.check_id(p, 'box', 'B[0-9]{6}');
    RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('box "%s" not found', v_id);
END $$;

-- Parses a position ("C4") inside box b: FB001 when malformed or outside the box.
CREATE FUNCTION fmtbank.position_parse(p text, b fmtbank.box, OUT prow smallint, OUT pcol smallint)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
DECLARE u text := upper(btrim(coalesce(p, '')));
BEGIN
    IF u !~ '^[A-Z][0-9]{1,2}$' OR substr(u, 2)::int = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid position "%s"', p),
            HINT = 'A position is a row letter and a column number, e.g. C4.';
    END IF;
    prow := ascii(u) - 64;
    pcol := substr(u, 2)::int;
    IF prow > b.nrows OR pcol > b.ncols THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('position "%s" is outside box "%s"', u, b.box_id),
            DETAIL = format('The box has rows A to %s and columns 1 to %s.',
                            chr(64 + b.nrows), b.ncols);
    END IF;
END $$;

-- "BOXID:A1" → the box and the position in it.
CREATE FUNCTION fmtbank.location_parse(p text, p_field text, OUT box fmtbank.box,
                                       OUT prow smallint, OUT pcol smallint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE u text := upper(btrim(coalesce(p, '')));
BEGIN
    IF u !~ '^[^:]+:[^:]+$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid location "%s" for %s', coalesce(p, ''), p_field),
            HINT = 'Write a position in a box as BOXID:POSITION, e.g. B0000127:C4.';
    END IF;
    box := fmtbank.box_get(split_part(u, ':', 1));
    SELECT * INTO prow, pcol FROM fmtbank.position_parse(split_part(u, ':', 2), box);
END $$;

CREATE FUNCTION fmtbank.freezer_add(p_name text, p_temp text, p_site text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    n text := btrim(coalesce(p_name, ''));
    t numeric;
    fid text;
BEGIN
    PERFORM fmtbank.require_role('adding freezers', 'admin');
    IF n = '' OR length(n) > 100 OR fmtbank.id_kind(n) IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid freezer name "%s"', n),
            HINT = 'Give a name of 1 to 100 characters that does not look like an ID.';
    END IF;
    IF p_temp IS NULL OR btrim(p_temp) !~ '^[-+]?[0-9]+(\.[0-9])?$'
       OR btrim(p_temp)::numeric NOT BETWEEN -200 AND 10 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid --temp "%s"', coalesce(p_temp, '')),
            HINT = 'Give the set temperature in degrees Celsius, -200 to 10 (e.g. -80).';
    END IF;
    t := btrim(p_temp)::numeric;
    IF EXISTS (SELECT 1 FROM fmtbank.freezer WHERE name = n) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('freezer "%s" already exists', n);
    END IF;
    fid := fmtbank.with_check('F' || lpad(nextval('fmtbank.freezer_seq')::text, 4, '0'));
    INSERT INTO fmtbank.freezer (freezer_id, name, temp_c, site)
    VALUES (fid, n, t, nullif(btrim(p_site), ''));
    RETURN fid;
END $$;

-- Entry points check the acting role themselves (require_role names the role needed), so every
-- application role may call them and be told why not.
GRANT EXECUTE ON FUNCTION fmtbank.freezer_add(text, text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.with_check(text), fmtbank.id_pattern(text), fmtbank.id_kind(text),
    fmtbank.position_text(integer, integer), fmtbank.freezer_get(text), fmtbank.box_get(text),
    fmtbank.position_parse(text, fmtbank.box), fmtbank.location_parse(text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- EXECUTE from PUBLIC: 001's "ALTER DEFAULT PRIVILEGES IN SCHEMA ... REVOKE" cannot take away
-- the global default (per-schema defaults only add), so every function is revoked explicitly;
-- the GRANTs above are what each role may call.
REVOKE EXECUTE ON FUNCTION fmtbank.with_check(text), fmtbank.id_pattern(text), fmtbank.id_kind(text),
    fmtbank.position_text(integer, integer), fmtbank.freezer_get(text), fmtbank.box_get(text),
    fmtbank.position_parse(text, fmtbank.box), fmtbank.location_parse(text, text),
    fmtbank.freezer_add(text, text, text)
    FROM PUBLIC;
