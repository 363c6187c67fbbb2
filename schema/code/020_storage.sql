-- 020_storage: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- body || its check character.
CREATE OR REPLACE FUNCTION fmtbank.with_check(p_body text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN p_body || fmtbank.check_char(p_body);

-- The body pattern of each kind of scannable ID (without the check character).
CREATE OR REPLACE FUNCTION fmtbank.id_pattern(p_kind text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE p_kind WHEN 'freezer' THEN 'F[0-9]{4}' WHEN 'box' THEN 'B[0-9]{6}'
                       WHEN 'lot' THEN 'L[0-9]{8}' WHEN 'aliquot' THEN 'L[0-9]{8}-[0-9]{3}' END
$$;

-- Small helpers on the scan path are SQL-standard bodies (RETURN expr): their names are bound
-- when they are created (so no search_path can change them) and the planner inlines them. A
-- LANGUAGE sql function with SET search_path is neither inlined nor plan-cached: it is planned
-- afresh on every call (tens of microseconds each).

-- Which kind of scannable ID p looks like (by its shape, before any check), or NULL.
CREATE OR REPLACE FUNCTION fmtbank.id_kind(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN fmtbank.id_input(p) ~ '^F[0-9]{4}[0-9A-Z*]$' THEN 'freezer'
            WHEN fmtbank.id_input(p) ~ '^B[0-9]{6}[0-9A-Z*]$' THEN 'box'
            WHEN fmtbank.id_input(p) ~ '^L[0-9]{8}[0-9A-Z*]$' THEN 'lot'
            WHEN fmtbank.id_input(p) ~ '^L[0-9]{8}-[0-9]{3}[0-9A-Z*]$' THEN 'aliquot' END;

-- ---------------------------------------------------------------- positions
CREATE OR REPLACE FUNCTION fmtbank.position_text(p_row integer, p_col integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN chr(64 + p_row) || p_col::text;

-- The freezer with this ID (check character verified) or name, or FB001/FB002.
CREATE OR REPLACE FUNCTION fmtbank.freezer_get(p text) RETURNS fmtbank.freezer
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
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
CREATE OR REPLACE FUNCTION fmtbank.box_get(p text) RETURNS fmtbank.box
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id text;
    b fmtbank.box;
BEGIN
    SELECT * INTO b FROM fmtbank.box WHERE box_id = fmtbank.id_input(p);
    IF FOUND THEN
        RETURN b;
    END IF;
    v_id := fmtbank.check_id(p, 'box', 'B[0-9]{6}');
    RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('box "%s" not found', v_id);
END $$;

-- Parses a position ("C4") inside box b: FB001 when malformed or outside the box.
CREATE OR REPLACE FUNCTION fmtbank.position_parse(p text, b fmtbank.box, OUT prow smallint, OUT pcol smallint)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
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
CREATE OR REPLACE FUNCTION fmtbank.location_parse(p text, p_field text, OUT box fmtbank.box,
                                       OUT prow smallint, OUT pcol smallint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
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

CREATE OR REPLACE FUNCTION fmtbank.freezer_add(p_name text, p_temp text, p_site text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.with_check(text),
    fmtbank.id_pattern(text),
    fmtbank.id_kind(text),
    fmtbank.position_text(integer, integer),
    fmtbank.freezer_get(text),
    fmtbank.box_get(text),
    fmtbank.position_parse(text, fmtbank.box),
    fmtbank.location_parse(text, text),
    fmtbank.freezer_add(text, text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
