-- 220_desk2: functions (code: re-applied as a set by "fmtbank init", see README.md "SQL as code"):
-- what tube and box labels print (issue 14 item 7). The ZPL itself is made by the client
-- (src/common/zpl.c) from the rows these functions return.

-- The resolution labels are laid out for: p_dpi when given (--dpi), else the site setting
-- label_dpi. FB001 for anything but 203 or 300.
CREATE OR REPLACE FUNCTION fmtbank.label_dpi(p_dpi text) RETURNS integer
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE v text := coalesce(nullif(btrim(p_dpi), ''),
                           (SELECT s.value FROM fmtbank.site_setting s WHERE s.name = 'label_dpi'),
                           '300');
BEGIN
    IF v NOT IN ('203', '300') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid label resolution "%s" for --dpi', v),
            HINT = 'Zebra label printers print 203 or 300 dots per inch; give --dpi 203 or --dpi 300.';
    END IF;
    RETURN v::integer;
END $$;

-- A temperature as a label prints it: "-80 °C".
CREATE OR REPLACE FUNCTION fmtbank.label_temp(p_c numeric) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN fmtbank.num_text(p_c) || U&' \00B0C';

-- What the label of each box shows, in the order given (each ID checked first): its freezer,
-- rack, size and the freezer's set temperature, and the resolution to lay it out for. Nothing is
-- recorded: a box label names a container, not material (a tube's prints are recorded by
-- label_print).
CREATE OR REPLACE FUNCTION fmtbank.box_label(p_ids text[], p_dpi text)
RETURNS TABLE (box_id text, freezer text, freezer_id text, rack text, nrows integer,
               ncols integer, storage text, dpi integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ids uuid[] := '{}';
    b fmtbank.box;
    p text;
    d integer;
BEGIN
    PERFORM fmtbank.require_role('printing box labels', 'technician', 'quality', 'admin');
    IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'no box IDs to print';
    END IF;
    d := fmtbank.label_dpi(p_dpi);
    FOREACH p IN ARRAY p_ids LOOP
        b := fmtbank.box_get(p);
        ids := ids || b.id;
    END LOOP;
    RETURN QUERY
    SELECT x.box_id, f.name, f.freezer_id, x.rack, x.nrows::integer, x.ncols::integer,
           fmtbank.label_temp(f.temp_c), d
    FROM unnest(ids) WITH ORDINALITY AS u(id, ord)
    JOIN fmtbank.box x ON x.id = u.id
    JOIN fmtbank.freezer f ON f.id = x.freezer
    ORDER BY u.ord;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.label_dpi(text),
    fmtbank.label_temp(numeric),
    fmtbank.box_label(text[], text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
