-- 270_trial: blinded trial dispensing (product.md Part II §14; tables in schema/270_trial.sql).
--
-- Who does what:
-- - fmtbank_unblinded (the stool-bank pharmacist, held in addition to a role): adds trials (their
--   sealed seed and allocation list), makes kits (it names the arm), reads the allocation, unblinds;
-- - fmtbank_site (blinded trial staff) and the unblinded: enrol participants and dispense kits;
-- - technicians register placebo preparations (donation add --placebo) and process them;
-- - an emergency unblinding (--emergency) may be done by the site or quality too; every
--   unblinding needs a reason and is recorded (trial_unblinding: who, when, why - never the arm).
-- Nothing a blinded session can read names an arm: the functions below that answer blinded
-- callers return kit numbers, visits and counts only.
--
-- The randomisation generator (reproducible by the unblinded role from the sealed seed, S =
-- trial_seed.seed, 32 bytes from pgcrypto's gen_random_bytes, a CSPRNG):
--   stream(msg, n)  = HMAC-SHA256(S, msg || ':0') || HMAC-SHA256(S, msg || ':1') || ...  (n bytes)
--   u16(b, k)       = 256 * b[k] + b[k+1]                                 (bytes 0-based)
--   block b (1, 2, ...) of stratum s of trial T: B = stream(T || '|' || s || '|' || b, 2 + 2*32)
--     size  = block_sizes[1 + u16(B, 0) mod #block_sizes]
--     start = each arm (in the order given to --arms) repeated ratio * size / sum(ratios) times
--     Fisher-Yates: for i = size down to 2: j = 1 + u16(B, 2 + 2*(size - i)) mod i; swap a[i], a[j]
--   The block is the list's next `size` positions in the stratum. (u16 mod i has a bias below
--   i/65536: at most 0.05% for the block sizes allowed, 32 at most.)
-- Lists are generated lazily: a stratum's next block when its first participant needs it (the
-- blocks depend only on the seed, so generating them later gives the list generating them all
-- at once would). An imported list (--list) is used as given; enrolment past its end is refused.
-- The stratum key is "factor=value,..." in the order of --strata ("" when not stratified).

-- ---------------------------------------------------------------- helpers
-- fmtbank.trial_blind() (code/001_foundation.sql): whether the session is blinded.

CREATE OR REPLACE FUNCTION fmtbank.trial_get(p_code text) RETURNS fmtbank.trial
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE t fmtbank.trial;
BEGIN
    SELECT * INTO t FROM fmtbank.trial x WHERE x.code = upper(btrim(coalesce(p_code, '')));
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('trial "%s" not found', p_code);
    END IF;
    RETURN t;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.trial_participant_get(p_trial fmtbank.trial, p_code text)
RETURNS fmtbank.trial_participant
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p fmtbank.trial_participant;
    c text := fmtbank.recipient_code_check(p_code);
BEGIN
    SELECT * INTO p FROM fmtbank.trial_participant x WHERE x.trial = p_trial.id AND x.code = c;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002',
            MESSAGE = format('participant "%s" is not enrolled in trial "%s"', c, p_trial.code);
    END IF;
    RETURN p;
END $$;

-- A stratum as typed ("site=S,sex=F", any order) in the canonical form of the trial's factors,
-- or NULL with *why when it does not fit (never raises: the list import reports it per line).
CREATE OR REPLACE FUNCTION fmtbank.trial_stratum_norm(p_strata text[], p text, OUT stratum text,
                                                      OUT why text)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    kv text[];
    pairs jsonb := '{}'::jsonb;
    f text;
    k text;
    v text;
BEGIN
    IF nullif(btrim(coalesce(p, '')), '') IS NOT NULL THEN
        FOREACH f IN ARRAY regexp_split_to_array(btrim(p), '\s*[,;]\s*') LOOP
            kv := regexp_match(f, '^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*([A-Za-z0-9._/-]{1,40})\s*$');
            IF kv IS NULL THEN
                why := format('"%s" is not factor=value', f);
                RETURN;
            END IF;
            k := lower(kv[1]);
            v := upper(kv[2]);
            IF NOT k = ANY (p_strata) THEN
                why := format('"%s" is not a stratification factor of the trial (%s)', k,
                              coalesce(nullif(array_to_string(p_strata, ', '), ''), 'none'));
                RETURN;
            END IF;
            IF pairs ? k THEN
                why := format('factor "%s" is given twice', k);
                RETURN;
            END IF;
            pairs := pairs || jsonb_build_object(k, v);
        END LOOP;
    END IF;
    FOREACH k IN ARRAY p_strata LOOP
        IF NOT pairs ? k THEN
            why := format('factor "%s" is missing', k);
            RETURN;
        END IF;
    END LOOP;
    SELECT coalesce(string_agg(s.k || '=' || (pairs ->> s.k), ',' ORDER BY s.n), '')
    INTO stratum FROM unnest(p_strata) WITH ORDINALITY AS s(k, n);
END $$;

-- n bytes of the keyed stream (see the generator above).
CREATE OR REPLACE FUNCTION fmtbank.trial_stream(p_seed bytea, p_msg text, p_n integer) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
    SELECT substr(string_agg(fmtbank.hmac(convert_to(p_msg || ':' || k, 'UTF8'), p_seed, 'sha256'),
                             ''::bytea ORDER BY k), 1, p_n)
    FROM generate_series(0, (p_n - 1) / 32) k
$$;

-- Block p_block of stratum p_stratum: its arms in list order (see the generator above).
CREATE OR REPLACE FUNCTION fmtbank.trial_block(p_trial fmtbank.trial, p_seed bytea, p_stratum text,
                                               p_block integer)
RETURNS TABLE (pos integer, arm text, block_size smallint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b bytea := fmtbank.trial_stream(p_seed, p_trial.code || '|' || p_stratum || '|' || p_block, 66);
    size integer;
    total integer;
    a text[];
    i integer;
    j integer;
    tmp text;
BEGIN
    size := p_trial.block_sizes[1 + ((get_byte(b, 0) * 256 + get_byte(b, 1))
                                      % cardinality(p_trial.block_sizes))];
    SELECT sum(x.ratio) INTO total FROM fmtbank.trial_arm x WHERE x.trial = p_trial.id;
    SELECT array_agg(x.arm ORDER BY x.ord, g) INTO a
    FROM fmtbank.trial_arm x, generate_series(1, x.ratio * size / total) g
    WHERE x.trial = p_trial.id;
    FOR i IN REVERSE size .. 2 LOOP
        j := 1 + ((get_byte(b, 2 + 2 * (size - i)) * 256 + get_byte(b, 3 + 2 * (size - i))) % i);
        tmp := a[i];
        a[i] := a[j];
        a[j] := tmp;
    END LOOP;
    RETURN QUERY SELECT g::integer, a[g], size::smallint FROM generate_series(1, size) g;
END $$;

-- The arm of position p_seq of a stratum, generating the stratum's next blocks when needed (a
-- generated list), or FB003 when an imported list ends before it.
CREATE OR REPLACE FUNCTION fmtbank.trial_allocation_at(p_trial fmtbank.trial, p_stratum text,
                                                       p_seq integer) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_arm text;
    prev record;
    s bytea;
BEGIN
    LOOP
        SELECT x.arm INTO v_arm FROM fmtbank.trial_allocation x
        WHERE x.trial = p_trial.id AND x.stratum = p_stratum AND x.seq = p_seq;
        IF FOUND THEN
            RETURN v_arm;
        END IF;
        IF p_trial.list_source = 'imported' THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot enrol in trial "%s": the imported allocation list has no position %s for stratum "%s"',
                                 p_trial.code, p_seq, p_stratum),
                HINT = 'The list given to "trial add --list" is used up for this stratum.';
        END IF;
        SELECT coalesce(max(x.seq), 0) AS seq, coalesce(max(x.block_no), 0) AS block_no INTO prev
        FROM fmtbank.trial_allocation x WHERE x.trial = p_trial.id AND x.stratum = p_stratum;
        SELECT x.seed INTO s FROM fmtbank.trial_seed x WHERE x.trial = p_trial.id;
        INSERT INTO fmtbank.trial_allocation (trial, stratum, seq, block_no, block_size, arm)
        SELECT p_trial.id, p_stratum, prev.seq + b.pos, prev.block_no + 1, b.block_size, b.arm
        FROM fmtbank.trial_block(p_trial, s, p_stratum, prev.block_no + 1) b;
    END LOOP;
END $$;

-- ---------------------------------------------------------------- trial add
-- "fmtbank trial add": the trial, its arms, and its sealed seed or imported list. p_list: the
-- rows of --list FILE.csv (stratum,block,arm) as [{line, stratum, block, arm}]; every bad line is
-- reported in one FB001 (DETAIL: one "line N: ..." per bad line) and nothing is stored.
CREATE OR REPLACE FUNCTION fmtbank.trial_add(p_code text, p_arms text, p_block_sizes text,
                                             p_strata text, p_doses text, p_donor_pool text,
                                             p_same_donor boolean, p_list jsonb)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c text := upper(btrim(coalesce(p_code, '')));
    t fmtbank.trial;
    arms jsonb := '[]'::jsonb;
    total integer;
    sizes smallint[];
    strata text[] := '{}';
    pool uuid[];
    n integer;
    f text;
    m text[];
    bad text;
BEGIN
    PERFORM fmtbank.require_role('adding trials', 'unblinded');
    -- the list as the CLI sends it: an array of objects with a numeric line (a psql caller's
    -- anything else is invalid input, not an error of the function)
    IF p_list IS NOT NULL AND (jsonb_typeof(p_list) <> 'array'
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(p_list) x
                  WHERE jsonb_typeof(x) <> 'object' OR coalesce(x ->> 'line', '') !~ '^[0-9]{1,9}$')) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'invalid allocation list',
            HINT = 'Give an array of {"line": N, "stratum": S, "block": B, "arm": A} objects.';
    END IF;
    IF c !~ '^[A-Z][A-Z0-9-]{1,29}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid trial code "%s"', coalesce(p_code, '')),
            HINT = 'Use 2 to 30 upper-case letters, digits and "-", starting with a letter, e.g. MOOD-1.';
    END IF;
    IF EXISTS (SELECT 1 FROM fmtbank.trial x WHERE x.code = c) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('trial "%s" already exists', c);
    END IF;
    -- arms: NAME:RATIO,...
    FOREACH f IN ARRAY regexp_split_to_array(btrim(coalesce(p_arms, '')), '\s*,\s*') LOOP
        m := regexp_match(upper(f), '^([A-Z][A-Z0-9_-]{0,19}):([0-9]{1,2})$');
        IF m IS NULL OR m[2]::int NOT BETWEEN 1 AND 20 THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('invalid --arms "%s": "%s" is not ARM:RATIO', coalesce(p_arms, ''), f),
                HINT = 'Give each arm with its ratio (1 to 20), e.g. FMT:2,PLACEBO:1.';
        END IF;
        IF arms @> jsonb_build_array(jsonb_build_object('arm', m[1])) THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('invalid --arms "%s": arm "%s" is given twice', p_arms, m[1]);
        END IF;
        arms := arms || jsonb_build_array(jsonb_build_object('arm', m[1], 'ratio', m[2]::int));
    END LOOP;
    IF jsonb_array_length(arms) < 2 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid --arms "%s": a trial has at least two arms', coalesce(p_arms, ''));
    END IF;
    SELECT sum((x ->> 'ratio')::int) INTO total FROM jsonb_array_elements(arms) x;
    -- block sizes: multiples of the ratio sum, at most 32
    IF p_block_sizes IS NULL THEN
        IF p_list IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'missing --block-sizes',
                HINT = 'Give the permuted block sizes, e.g. 3,6, or an allocation list with --list.';
        END IF;
        sizes := ARRAY[total]::smallint[];
    ELSE
        FOREACH f IN ARRAY regexp_split_to_array(btrim(p_block_sizes), '\s*,\s*') LOOP
            IF f !~ '^[0-9]{1,2}$' OR f::int NOT BETWEEN 1 AND 32 OR f::int % total <> 0 THEN
                RAISE EXCEPTION USING ERRCODE = 'FB001',
                    MESSAGE = format('invalid --block-sizes "%s": "%s" is not a multiple of %s (the sum of the ratios) up to 32',
                                     p_block_sizes, f, total);
            END IF;
            IF f::smallint = ANY (sizes) THEN
                RAISE EXCEPTION USING ERRCODE = 'FB001',
                    MESSAGE = format('invalid --block-sizes "%s": %s is given twice', p_block_sizes, f);
            END IF;
            sizes := coalesce(sizes, '{}') || f::smallint;
        END LOOP;
    END IF;
    -- strata factors
    IF nullif(btrim(coalesce(p_strata, '')), '') IS NOT NULL THEN
        FOREACH f IN ARRAY regexp_split_to_array(lower(btrim(p_strata)), '\s*,\s*') LOOP
            IF f !~ '^[a-z][a-z0-9_]{0,19}$' OR f = ANY (strata) THEN
                RAISE EXCEPTION USING ERRCODE = 'FB001',
                    MESSAGE = format('invalid --strata "%s": "%s"', p_strata, f),
                    HINT = 'Give distinct factor names (letters, digits, _), e.g. site,sex.';
            END IF;
            strata := strata || f;
        END LOOP;
    END IF;
    IF p_doses IS NULL OR btrim(p_doses) !~ '^[0-9]{1,3}$' OR btrim(p_doses)::int NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid --doses "%s"', coalesce(p_doses, '')),
            HINT = 'Give the doses per participant, 1 to 100.';
    END IF;
    IF nullif(btrim(coalesce(p_donor_pool, '')), '') IS NOT NULL THEN
        SELECT array_agg((fmtbank.donor_get(fmtbank.donor_code_check(x, '--donor-pool donor code'))).id
                         ORDER BY o)
        INTO pool FROM unnest(regexp_split_to_array(btrim(p_donor_pool), '\s*,\s*')) WITH ORDINALITY u(x, o);
        IF EXISTS (SELECT 1 FROM fmtbank.trial_placebo_donor pd WHERE pd.donor = ANY (pool)) THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = 'invalid --donor-pool: it names a placebo preparation, not a donor';
        END IF;
    END IF;

    INSERT INTO fmtbank.trial (code, block_sizes, strata, doses, donor_pool, same_donor, list_source)
    VALUES (c, sizes, strata, btrim(p_doses)::smallint, pool, coalesce(p_same_donor, false),
            CASE WHEN p_list IS NULL THEN 'generated' ELSE 'imported' END)
    RETURNING * INTO t;
    INSERT INTO fmtbank.trial_arm (trial, arm, ratio, placebo, ord)
    SELECT t.id, x ->> 'arm', (x ->> 'ratio')::smallint, x ->> 'arm' = 'PLACEBO', o
    FROM jsonb_array_elements(arms) WITH ORDINALITY AS a(x, o);

    IF p_list IS NULL THEN
        INSERT INTO fmtbank.trial_seed (trial, seed, generator)
        VALUES (t.id, fmtbank.gen_random_bytes(32),
                'stratified permuted blocks: HMAC-SHA256(seed, trial|stratum|block:k) stream, '
                'block size by u16 mod, Fisher-Yates (schema/code/270_trial.sql)');
        RETURN c;
    END IF;

    -- the imported list: every line checked, all or nothing
    WITH rows AS (
        SELECT (x ->> 'line')::bigint AS line, x ->> 'stratum' AS stratum_in,
               btrim(coalesce(x ->> 'block', '')) AS block_in, upper(btrim(coalesce(x ->> 'arm', ''))) AS arm_in,
               (fmtbank.trial_stratum_norm(strata, x ->> 'stratum')).*
        FROM jsonb_array_elements(p_list) x),
    chk AS (
        SELECT r.*, CASE
                   WHEN r.why IS NOT NULL THEN format('invalid stratum "%s": %s', r.stratum_in, r.why)
                   WHEN r.block_in !~ '^[1-9][0-9]{0,5}$'
                     THEN format('invalid block "%s": give a block number from 1', r.block_in)
                   WHEN NOT EXISTS (SELECT 1 FROM fmtbank.trial_arm a WHERE a.trial = t.id AND a.arm = r.arm_in)
                     THEN format('unknown arm "%s" (the arms are %s)', r.arm_in,
                                 (SELECT string_agg(a.arm, ', ' ORDER BY a.ord) FROM fmtbank.trial_arm a
                                  WHERE a.trial = t.id))
               END AS msg
        FROM rows r),
    good AS (
        SELECT c2.*, c2.block_in::int AS block_no,
               lag(c2.block_in::int) OVER (PARTITION BY c2.stratum ORDER BY c2.line) AS prev_block
        FROM chk c2 WHERE c2.msg IS NULL),
    order_bad AS (
        SELECT g.line, format('block %s of stratum "%s" comes after block %s', g.block_no, g.stratum,
                              g.prev_block) AS msg
        FROM good g WHERE g.block_no < g.prev_block),
    blocks AS (
        SELECT g.stratum, g.block_no, min(g.line) AS line, count(*) AS size,
               jsonb_object_agg(g.arm_in, g.k) AS counts
        FROM (SELECT g2.*, count(*) OVER (PARTITION BY g2.stratum, g2.block_no, g2.arm_in) AS k
              FROM good g2) g
        GROUP BY g.stratum, g.block_no),
    balance_bad AS (
        SELECT b.line, format('block %s of stratum "%s" is not balanced: %s places for ratios %s',
                              b.block_no, b.stratum, b.size,
                              (SELECT string_agg(a.arm || ':' || a.ratio, ',' ORDER BY a.ord)
                               FROM fmtbank.trial_arm a WHERE a.trial = t.id)) AS msg
        FROM blocks b
        WHERE b.size % total <> 0
           OR EXISTS (SELECT 1 FROM fmtbank.trial_arm a WHERE a.trial = t.id
                      AND coalesce((b.counts ->> a.arm)::int, 0) <> a.ratio * b.size / total)),
    allbad AS (
        SELECT line, msg FROM chk WHERE msg IS NOT NULL
        UNION ALL SELECT line, msg FROM order_bad
        UNION ALL SELECT line, msg FROM balance_bad)
    SELECT string_agg(format('line %s: %s', line, msg), E'\n' ORDER BY line), count(*)
    INTO bad, n FROM allbad;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid allocation list: %s bad line%s', n, CASE WHEN n = 1 THEN '' ELSE 's' END),
            DETAIL = bad,
            HINT = 'Each line is stratum,block,arm (e.g. "site=A,sex=F",1,FMT); each block holds the arms in the trial''s ratio.';
    END IF;
    IF jsonb_array_length(p_list) = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'invalid allocation list: it has no lines';
    END IF;
    INSERT INTO fmtbank.trial_allocation (trial, stratum, seq, block_no, block_size, arm)
    SELECT t.id, r.stratum, row_number() OVER (PARTITION BY r.stratum ORDER BY r.line),
           r.block_in::int, count(*) OVER (PARTITION BY r.stratum, r.block_in::int), r.arm_in
    FROM (SELECT (x ->> 'line')::bigint AS line, upper(btrim(x ->> 'arm')) AS arm_in,
                 btrim(x ->> 'block') AS block_in,
                 (fmtbank.trial_stratum_norm(strata, x ->> 'stratum')).stratum
          FROM jsonb_array_elements(p_list) x) r;
    RETURN c;
END $$;

-- ---------------------------------------------------------------- reading (blinded)
-- "fmtbank trial list": every trial with its counts; nothing that names an arm.
CREATE OR REPLACE FUNCTION fmtbank.trial_list()
RETURNS TABLE (trial text, arms text, strata text, doses smallint, same_donor boolean,
               participants bigint, kits_available bigint, dispensed bigint, unblindings bigint,
               created_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM fmtbank.require_role('reading trials', 'technician', 'quality', 'auditor', 'admin',
                                 'site', 'unblinded');
    RETURN QUERY
    SELECT t.code,
           (SELECT string_agg(a.arm || ':' || a.ratio, ',' ORDER BY a.ord) FROM fmtbank.trial_arm a
            WHERE a.trial = t.id),
           array_to_string(t.strata, ','), t.doses, t.same_donor,
           (SELECT count(*) FROM fmtbank.trial_participant p WHERE p.trial = t.id),
           (SELECT count(*) FROM fmtbank.trial_kit k WHERE k.trial = t.id AND k.status = 'made'),
           (SELECT count(*) FROM fmtbank.trial_dispense d WHERE d.trial = t.id),
           (SELECT count(*) FROM fmtbank.trial_unblinding u WHERE u.trial = t.id),
           t.created_at
    FROM fmtbank.trial t ORDER BY t.code;
END $$;

-- "fmtbank trial show T": the protocol and counts; block sizes, the generator and the
-- allocation per arm only for the unblinded (block sizes help predict the next arm).
CREATE OR REPLACE FUNCTION fmtbank.trial_show(p_code text)
RETURNS TABLE (trial text, arms text, block_sizes text, strata text, doses smallint,
               same_donor boolean, donor_pool text, list_source text, participants bigint,
               kits jsonb, dispensed bigint, unblindings bigint, emergency_unblindings bigint,
               allocation jsonb, created_at timestamptz, created_by text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t fmtbank.trial;
    blind boolean := fmtbank.trial_blind();
BEGIN
    PERFORM fmtbank.require_role('reading trials', 'technician', 'quality', 'auditor', 'admin',
                                 'site', 'unblinded');
    t := fmtbank.trial_get(p_code);
    RETURN QUERY
    SELECT t.code,
           (SELECT string_agg(a.arm || ':' || a.ratio, ',' ORDER BY a.ord) FROM fmtbank.trial_arm a
            WHERE a.trial = t.id),
           CASE WHEN blind THEN 'concealed' ELSE array_to_string(t.block_sizes, ',') END,
           array_to_string(t.strata, ','), t.doses, t.same_donor,
           (SELECT string_agg(d.code, ',' ORDER BY u.o) FROM unnest(t.donor_pool) WITH ORDINALITY u(id, o)
            JOIN fmtbank.donor d ON d.id = u.id),
           t.list_source,
           (SELECT count(*) FROM fmtbank.trial_participant p WHERE p.trial = t.id),
           (SELECT jsonb_build_object(
                       'made', count(*), 'available', count(*) FILTER (WHERE k.status = 'made'),
                       'dispensed', count(*) FILTER (WHERE k.status = 'dispensed'),
                       'returned', count(*) FILTER (WHERE k.status = 'returned'),
                       'destroyed', count(*) FILTER (WHERE k.status = 'destroyed'))
            FROM fmtbank.trial_kit k WHERE k.trial = t.id),
           (SELECT count(*) FROM fmtbank.trial_dispense d WHERE d.trial = t.id),
           (SELECT count(*) FROM fmtbank.trial_unblinding u WHERE u.trial = t.id),
           (SELECT count(*) FROM fmtbank.trial_unblinding u WHERE u.trial = t.id AND u.emergency),
           CASE WHEN NOT blind THEN
               (SELECT coalesce(jsonb_object_agg(x.arm, x.n), '{}'::jsonb)
                FROM (SELECT al.arm, count(*) AS n FROM fmtbank.trial_participant p
                      JOIN fmtbank.trial_allocation al ON al.trial = p.trial AND al.stratum = p.stratum
                                                      AND al.seq = p.seq
                      WHERE p.trial = t.id GROUP BY al.arm) x) END,
           t.created_at, t.created_by;
END $$;

-- ---------------------------------------------------------------- placebo preparations
-- "fmtbank donation add CODE --placebo --trial T --collected TS --mass G --preparation TEXT": a
-- placebo lot. CODE is the preparation's pseudo-donor (donor format), registered for trial T the
-- first time; a real donor's code is refused. The lot gets an ordinary lot ID, is processed,
-- stored and released like any lot; its readiness is the preparation record instead of a donor
-- panel (031 lot_eval), and it is never issued but by dispensing in its trial (the trigger
-- aliquot_placebo_trial below).
CREATE OR REPLACE FUNCTION fmtbank.placebo_lot_add(p_code text, p_trial text, p_collected text,
                                                   p_mass text, p_preparation text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c text := fmtbank.donor_code_check(p_code, 'placebo code');
    t fmtbank.trial := fmtbank.trial_get(p_trial);
    d fmtbank.donor;
    pt uuid;
    i record;
    v_id text;
    lid uuid;
BEGIN
    PERFORM fmtbank.require_role('registering placebo preparations', 'technician');
    i := fmtbank.donation_input(p_collected, p_mass, NULL, false);
    IF i.mass IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'missing --mass';
    END IF;
    IF nullif(btrim(coalesce(p_preparation, '')), '') IS NULL OR length(p_preparation) > 2000 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'missing --preparation',
            HINT = 'Describe the placebo preparation (what it is made of, its batch): it is the lot''s preparation record.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM fmtbank.trial_arm a WHERE a.trial = t.id AND a.placebo) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot register a placebo preparation for trial "%s": it has no PLACEBO arm', t.code);
    END IF;
    SELECT * INTO d FROM fmtbank.donor x WHERE x.code = c;
    IF FOUND THEN
        SELECT pd.trial INTO pt FROM fmtbank.trial_placebo_donor pd WHERE pd.donor = d.id;
        IF pt IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot register "%s" as a placebo preparation: it is a donor', c),
                HINT = 'Give the placebo preparation its own code in the donor format.';
        ELSIF pt <> t.id THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot register placebo "%s" for trial "%s": it belongs to trial "%s"',
                                 c, t.code, (SELECT x.code FROM fmtbank.trial x WHERE x.id = pt));
        END IF;
    ELSE
        INSERT INTO fmtbank.donor (code) VALUES (c) RETURNING * INTO d;
        INSERT INTO fmtbank.trial_placebo_donor (donor, trial) VALUES (d.id, t.id);
    END IF;
    v_id := fmtbank.lot_next_id(i.collected);
    INSERT INTO fmtbank.lot (lot_id, donor_id, collected_at, mass_g, bristol, status,
                             rule_set_version)
    VALUES (v_id, d.id, i.collected, i.mass, NULL, 'quarantine',
            fmtbank.rule_set_version_at(i.collected))
    RETURNING id INTO lid;
    INSERT INTO fmtbank.trial_placebo_lot (lot, trial, preparation)
    VALUES (lid, t.id, btrim(p_preparation));
    RETURN v_id;
END $$;

-- A placebo lot's tubes are issued only by dispensing in its trial; a trial dose (use trial) only
-- from a kit of a trial. For every session and path (BEFORE INSERT on fmtbank.aliquot_issue; named
-- to run before consent_check).
CREATE OR REPLACE FUNCTION fmtbank.aliquot_placebo_trial() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_aliquot text;
    v_placebo_trial uuid;
    v_kit_trial uuid;
BEGIN
    SELECT a.aliquot_id, pl.trial, k.trial INTO v_aliquot, v_placebo_trial, v_kit_trial
    FROM fmtbank.aliquot a
    LEFT JOIN fmtbank.trial_placebo_lot pl ON pl.lot = a.lot
    LEFT JOIN fmtbank.trial_kit_content k ON k.aliquot = a.id
    WHERE a.id = NEW.aliquot;
    IF v_placebo_trial IS NOT NULL AND (NEW.use <> 'trial' OR v_kit_trial IS DISTINCT FROM v_placebo_trial) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot issue "%s": it is a placebo preparation of trial "%s"', v_aliquot,
                             (SELECT t.code FROM fmtbank.trial t WHERE t.id = v_placebo_trial)),
            DETAIL = 'Placebo doses are only dispensed in their trial ("fmtbank trial dispense").';
    END IF;
    IF NEW.use = 'trial' AND v_kit_trial IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot issue "%s" for trial use: it is in no trial kit', v_aliquot);
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER aliquot_placebo_trial BEFORE INSERT ON fmtbank.aliquot_issue
    FOR EACH ROW EXECUTE FUNCTION fmtbank.aliquot_placebo_trial();

-- ---------------------------------------------------------------- kits
-- The handling text printed on every kit label (the same for every arm).
CREATE OR REPLACE FUNCTION fmtbank.trial_kit_handling() RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'Store at -80 C or colder. Thaw at 2-8 C; use within the time stated in the protocol. For clinical trial use only.'::text
$$;

-- "fmtbank trial kits make T --arm A --aliquots ID,...": one kit per dose, each with a random kit
-- number (K, 7 random digits, a MOD 37-2 check character), unblinded role only. The aliquots: doses
-- (not the retained sample) in stock (quarantine or released, never thawed), in no kit yet; for the
-- placebo arm, of this trial's placebo preparations, for the other arms of real donors (of the
-- donor pool when the trial has one). Prints the kit numbers in the order of the aliquots given.
CREATE OR REPLACE FUNCTION fmtbank.trial_kits_make(p_trial text, p_arm text, p_aliquots text)
RETURNS TABLE (kit text, trial text, handling text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t fmtbank.trial := fmtbank.trial_get(p_trial);
    ar fmtbank.trial_arm;
    a fmtbank.aliquot;
    x text;
    k text;
    kid uuid;
    v_donor uuid;
    v_placebo uuid;
BEGIN
    PERFORM fmtbank.require_role('making trial kits', 'unblinded');
    SELECT * INTO ar FROM fmtbank.trial_arm y WHERE y.trial = t.id AND y.arm = upper(btrim(coalesce(p_arm, '')));
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid --arm "%s" for trial "%s"', coalesce(p_arm, ''), t.code),
            HINT = format('The arms are %s.', (SELECT string_agg(y.arm, ', ' ORDER BY y.ord)
                                               FROM fmtbank.trial_arm y WHERE y.trial = t.id));
    END IF;
    IF nullif(btrim(coalesce(p_aliquots, '')), '') IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'missing --aliquots';
    END IF;
    FOREACH x IN ARRAY regexp_split_to_array(btrim(p_aliquots), '\s*,\s*') LOOP
        a := fmtbank.aliquot_get(x);
        SELECT * INTO a FROM fmtbank.aliquot y WHERE y.id = a.id FOR UPDATE;
        SELECT l.donor_id, pl.trial INTO v_donor, v_placebo
        FROM fmtbank.lot l LEFT JOIN fmtbank.trial_placebo_lot pl ON pl.lot = l.id WHERE l.id = a.lot;
        IF a.retained THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot put "%s" in a kit: it is a retained sample', a.aliquot_id);
        END IF;
        IF a.status NOT IN ('quarantine', 'released') OR a.thawed_at IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot put "%s" in a kit: it is %s', a.aliquot_id,
                                 CASE WHEN a.thawed_at IS NOT NULL THEN 'thawed' ELSE a.status END);
        END IF;
        IF EXISTS (SELECT 1 FROM fmtbank.trial_kit_content c WHERE c.aliquot = a.id) THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot put "%s" in a kit: it is in a kit already', a.aliquot_id);
        END IF;
        IF ar.placebo AND v_placebo IS DISTINCT FROM t.id THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot put "%s" in a %s kit of trial "%s": it is not a placebo preparation of the trial',
                                 a.aliquot_id, ar.arm, t.code);
        END IF;
        IF NOT ar.placebo AND v_placebo IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot put "%s" in a %s kit: it is a placebo preparation', a.aliquot_id, ar.arm);
        END IF;
        IF NOT ar.placebo AND t.donor_pool IS NOT NULL AND NOT v_donor = ANY (t.donor_pool) THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot put "%s" in a kit of trial "%s": its donor "%s" is not in the donor pool',
                                 a.aliquot_id, t.code, (SELECT d.code FROM fmtbank.donor d WHERE d.id = v_donor));
        END IF;
        LOOP
            k := fmtbank.with_check('K' || lpad(((('x' || encode(fmtbank.gen_random_bytes(4), 'hex'))::bit(32)::bigint
                                                  & 2147483647) % 10000000)::text, 7, '0'));
            EXIT WHEN NOT EXISTS (SELECT 1 FROM fmtbank.trial_kit y WHERE y.kit_no = k);
        END LOOP;
        INSERT INTO fmtbank.trial_kit (trial, kit_no) VALUES (t.id, k) RETURNING id INTO kid;
        INSERT INTO fmtbank.trial_kit_content (kit, trial, arm, aliquot) VALUES (kid, t.id, ar.arm, a.id);
        kit := k;
        trial := t.code;
        handling := fmtbank.trial_kit_handling();
        RETURN NEXT;
    END LOOP;
END $$;

-- A kit by its number (check character verified).
CREATE OR REPLACE FUNCTION fmtbank.trial_kit_get(p text) RETURNS fmtbank.trial_kit
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    k fmtbank.trial_kit;
    v text := fmtbank.check_id(p, 'kit', 'K[0-9]{7}');
BEGIN
    SELECT * INTO k FROM fmtbank.trial_kit x WHERE x.kit_no = v;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('kit "%s" not found', v);
    END IF;
    RETURN k;
END $$;

-- "fmtbank trial kits return|destroy KIT --reason R": a dispensed kit comes back unused
-- (returned), or a kit not dispensed is destroyed (its tube discarded). Site or unblinded.
CREATE OR REPLACE FUNCTION fmtbank.trial_kit_set(p_kit text, p_status text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    k fmtbank.trial_kit := fmtbank.trial_kit_get(p_kit);
    why text;
    v_aliquot uuid;
    v_lot uuid;
BEGIN
    PERFORM fmtbank.require_role('returning or destroying trial kits', 'site', 'unblinded');
    why := fmtbank.acting_reason(true, format('marking kit "%s" %s', k.kit_no, p_status));
    SELECT * INTO k FROM fmtbank.trial_kit x WHERE x.id = k.id FOR UPDATE;
    IF p_status = 'returned' AND k.status <> 'dispensed' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot return kit "%s": it is %s, not dispensed', k.kit_no, k.status);
    ELSIF p_status = 'destroyed' AND k.status NOT IN ('made', 'returned') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot destroy kit "%s": it is %s', k.kit_no, k.status);
    ELSIF p_status NOT IN ('returned', 'destroyed') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid kit state "%s"', p_status);
    END IF;
    IF p_status = 'destroyed' AND k.status = 'made' THEN
        SELECT c.aliquot, a.lot INTO v_aliquot, v_lot
        FROM fmtbank.trial_kit_content c JOIN fmtbank.aliquot a ON a.id = c.aliquot WHERE c.kit = k.id;
        PERFORM fmtbank.hold_refuse(v_lot, v_aliquot, format('destroy kit "%s"', k.kit_no));
        PERFORM 1 FROM fmtbank.placement p WHERE p.aliquot = v_aliquot;
        IF FOUND THEN
            PERFORM fmtbank.tube_unplace(v_aliquot, 'discard', format('trial kit destroyed: %s', why));
        END IF;
        UPDATE fmtbank.aliquot SET status = 'discarded', status_at = clock_timestamp(),
               status_reason = format('trial kit destroyed: %s', why)
        WHERE id = v_aliquot AND status IN ('quarantine', 'released', 'expired');
    END IF;
    UPDATE fmtbank.trial_kit SET status = p_status, status_at = clock_timestamp(), status_reason = why
    WHERE id = k.id;
    RETURN k.kit_no;
END $$;

-- ---------------------------------------------------------------- enrol, dispense, unblind
-- "fmtbank trial enrol T P --stratum site=S,sex=F": the participant takes the next position of
-- the stratum's list (a per-trial lock orders concurrent enrolments). Prints the participant.
CREATE OR REPLACE FUNCTION fmtbank.trial_enrol(p_trial text, p_participant text, p_stratum text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t fmtbank.trial := fmtbank.trial_get(p_trial);
    c text := fmtbank.recipient_code_check(p_participant);
    s record;
    n integer;
BEGIN
    PERFORM fmtbank.require_role('enrolling trial participants', 'site', 'unblinded');
    s := fmtbank.trial_stratum_norm(t.strata, p_stratum);
    IF s.why IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid --stratum "%s": %s', coalesce(p_stratum, ''), s.why),
            HINT = format('Give %s.', coalesce(nullif((SELECT string_agg(f || '=VALUE', ',')
                                                      FROM unnest(t.strata) f), ''), 'no stratum'));
    END IF;
    PERFORM 1 FROM fmtbank.trial x WHERE x.id = t.id FOR UPDATE;
    IF EXISTS (SELECT 1 FROM fmtbank.trial_participant p WHERE p.trial = t.id AND p.code = c) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot enrol "%s" in trial "%s": already enrolled', c, t.code);
    END IF;
    SELECT count(*) + 1 INTO n FROM fmtbank.trial_participant p WHERE p.trial = t.id AND p.stratum = s.stratum;
    PERFORM fmtbank.trial_allocation_at(t, s.stratum, n);
    INSERT INTO fmtbank.trial_participant (trial, code, stratum, seq) VALUES (t.id, c, s.stratum, n);
    RETURN c;
END $$;

-- The participant's arm (owner only; never granted).
CREATE OR REPLACE FUNCTION fmtbank.trial_arm_of(p fmtbank.trial_participant) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT al.arm FROM fmtbank.trial_allocation al
    WHERE al.trial = p.trial AND al.stratum = p.stratum AND al.seq = p.seq
$$;

-- "fmtbank trial dispense T P --visit N [--site S]": names the kit to give and records it: a kit
-- of the participant's arm whose tube is released (lot and tube), not held, not expired, never
-- thawed, of a donor whose consent in force covers trial use, and - when the trial keeps one donor
-- per participant - of the donor of the participant's earlier doses; the first to expire first.
-- Recorded as an issue with use 'trial' to the participant (so recall and vigilance reach it), the
-- tube leaving its box, the kit dispensed. The refusals never name the arm. Prints the kit number.
CREATE OR REPLACE FUNCTION fmtbank.trial_dispense(p_trial text, p_participant text, p_visit text,
                                                  p_site text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t fmtbank.trial := fmtbank.trial_get(p_trial);
    p fmtbank.trial_participant;
    v integer;
    s text;
    v_arm text;
    v_donor uuid;
    k record;
    v_at timestamptz := clock_timestamp();
BEGIN
    PERFORM fmtbank.require_role('dispensing trial kits', 'site', 'unblinded');
    p := fmtbank.trial_participant_get(t, p_participant);
    IF p_visit IS NULL OR btrim(p_visit) !~ '^[0-9]{1,3}$' OR btrim(p_visit)::int NOT BETWEEN 1 AND t.doses THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid --visit "%s"', coalesce(p_visit, '')),
            HINT = format('Trial "%s" gives %s doses: visits 1 to %s.', t.code, t.doses, t.doses);
    END IF;
    v := btrim(p_visit)::int;
    s := coalesce(nullif(btrim(coalesce(p_site, '')), ''),
                  substring(p.stratum FROM '(?:^|,)site=([^,]+)'), t.code);
    s := fmtbank.issue_site_check(s);
    PERFORM 1 FROM fmtbank.trial_participant x WHERE x.id = p.id FOR UPDATE;
    IF EXISTS (SELECT 1 FROM fmtbank.trial_dispense d WHERE d.participant = p.id AND d.visit = v) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot dispense visit %s of "%s" in trial "%s": it was dispensed already (kit %s)',
                             v, p.code, t.code,
                             (SELECT kk.kit_no FROM fmtbank.trial_dispense d JOIN fmtbank.trial_kit kk ON kk.id = d.kit
                              WHERE d.participant = p.id AND d.visit = v));
    END IF;
    v_arm := fmtbank.trial_arm_of(p);
    IF t.same_donor THEN
        SELECT l.donor_id INTO v_donor
        FROM fmtbank.trial_dispense d JOIN fmtbank.trial_kit_content c ON c.kit = d.kit
        JOIN fmtbank.aliquot a ON a.id = c.aliquot JOIN fmtbank.lot l ON l.id = a.lot
        WHERE d.participant = p.id ORDER BY d.dispensed_at LIMIT 1;
    END IF;
    SELECT kk.id AS kit, kk.kit_no, a.id AS aliquot, a.lot INTO k
    FROM fmtbank.trial_kit kk
    JOIN fmtbank.trial_kit_content c ON c.kit = kk.id
    JOIN fmtbank.aliquot a ON a.id = c.aliquot
    JOIN fmtbank.lot l ON l.id = a.lot
    WHERE kk.trial = t.id AND kk.status = 'made' AND c.arm = v_arm
      AND a.status = 'released' AND l.status = 'released' AND a.expires_at > v_at
      AND a.thawed_at IS NULL AND NOT a.retained
      AND fmtbank.holds_of(l.id, a.id) = '[]'::jsonb
      AND (v_donor IS NULL OR l.donor_id = v_donor)
      AND (EXISTS (SELECT 1 FROM fmtbank.trial_placebo_lot pl WHERE pl.lot = l.id)
           OR fmtbank.consent_missing(l.donor_id, v_at, v_at, 'trial', 'the dispensing') IS NULL)
    ORDER BY a.expires_at, kk.kit_no
    LIMIT 1
    FOR UPDATE OF kk SKIP LOCKED;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot dispense visit %s of "%s" in trial "%s": no kit available', v, p.code, t.code),
            DETAIL = 'No kit for this participant is released, unheld and unexpired in stock'
                     || CASE WHEN v_donor IS NOT NULL THEN ' from the donor of the participant''s earlier doses' ELSE '' END
                     || '.',
            HINT = 'Ask the stool bank''s unblinded pharmacist to make kits ("fmtbank trial kits make").';
    END IF;
    PERFORM 1 FROM fmtbank.lot l WHERE l.id = k.lot FOR SHARE;
    PERFORM 1 FROM fmtbank.aliquot a WHERE a.id = k.aliquot FOR UPDATE;
    INSERT INTO fmtbank.trial_dispense (trial, participant, visit, kit, site, dispensed_at)
    VALUES (t.id, p.id, v, k.kit, s, v_at);
    INSERT INTO fmtbank.aliquot_issue (aliquot, recipient, site, issued_at, use)
    VALUES (k.aliquot, p.code, s, v_at, 'trial');
    IF EXISTS (SELECT 1 FROM fmtbank.placement pl WHERE pl.aliquot = k.aliquot) THEN
        PERFORM fmtbank.tube_unplace(k.aliquot, 'issue', format('dispensed in trial %s', t.code));
    END IF;
    UPDATE fmtbank.aliquot SET status = 'issued', status_at = v_at,
           status_reason = format('dispensed in trial %s', t.code)
    WHERE id = k.aliquot;
    UPDATE fmtbank.trial_kit SET status = 'dispensed', status_at = v_at WHERE id = k.kit;
    RETURN k.kit_no;
END $$;

-- "fmtbank trial unblind T P --reason R [--emergency]": the participant's arm, recorded (who, when,
-- why, emergency) before it is returned. The unblinded role may always; in an emergency the site
-- and quality may too.
CREATE OR REPLACE FUNCTION fmtbank.trial_unblind(p_trial text, p_participant text, p_emergency boolean)
RETURNS TABLE (trial text, participant text, arm text, emergency boolean, unblinded_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t fmtbank.trial := fmtbank.trial_get(p_trial);
    p fmtbank.trial_participant;
    why text;
    v_at timestamptz := clock_timestamp();
BEGIN
    IF coalesce(p_emergency, false) THEN
        PERFORM fmtbank.require_role('emergency unblinding', 'unblinded', 'site', 'quality');
    ELSE
        PERFORM fmtbank.require_role('unblinding a participant', 'unblinded');
    END IF;
    p := fmtbank.trial_participant_get(t, p_participant);
    why := fmtbank.acting_reason(true, 'unblinding a participant');
    INSERT INTO fmtbank.trial_unblinding (trial, participant, emergency, reason, unblinded_at)
    VALUES (t.id, p.id, coalesce(p_emergency, false), why, v_at);
    RETURN QUERY SELECT t.code, p.code, fmtbank.trial_arm_of(p), coalesce(p_emergency, false), v_at;
END $$;

-- ---------------------------------------------------------------- reports
-- The trial a report names, for the roles that read the blinded reports (or FB002).
CREATE OR REPLACE FUNCTION fmtbank.trial_for_report(p_trial text) RETURNS fmtbank.trial
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM fmtbank.require_role('reading trials', 'quality', 'auditor', 'admin', 'site', 'unblinded');
    RETURN fmtbank.trial_get(p_trial);
END $$;

-- The blinded dispensing log of a trial: participant, visit, kit, site, when, by whom.
CREATE OR REPLACE FUNCTION fmtbank.report_trial_dispensing(p_trial text)
RETURNS TABLE (trial text, participant text, stratum text, visit smallint, kit text, site text,
               dispensed_at timestamptz, dispensed_by text, kit_status text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE t fmtbank.trial := fmtbank.trial_for_report(p_trial);
BEGIN
    RETURN QUERY
    SELECT t.code, p.code, p.stratum, d.visit, k.kit_no, d.site, d.dispensed_at, d.dispensed_by, k.status
    FROM fmtbank.trial_dispense d JOIN fmtbank.trial_participant p ON p.id = d.participant
    JOIN fmtbank.trial_kit k ON k.id = d.kit
    WHERE d.trial = t.id ORDER BY d.dispensed_at, d.id;
END $$;

-- The unblindings of a trial: who, when, why, emergency; never the arm.
CREATE OR REPLACE FUNCTION fmtbank.report_trial_unblindings(p_trial text)
RETURNS TABLE (participant text, emergency boolean, reason text, unblinded_at timestamptz,
               unblinded_by text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE t fmtbank.trial := fmtbank.trial_for_report(p_trial);
BEGIN
    RETURN QUERY
    SELECT p.code, u.emergency, u.reason, u.unblinded_at, u.unblinded_by
    FROM fmtbank.trial_unblinding u JOIN fmtbank.trial_participant p ON p.id = u.participant
    WHERE u.trial = t.id ORDER BY u.unblinded_at, u.id;
END $$;

-- Kit accountability: every kit with its state; no arm.
CREATE OR REPLACE FUNCTION fmtbank.report_trial_kits(p_trial text)
RETURNS TABLE (trial text, kit text, status text, made_at timestamptz, made_by text,
               participant text, visit smallint, dispensed_at timestamptz, status_at timestamptz,
               status_reason text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE t fmtbank.trial := fmtbank.trial_for_report(p_trial);
BEGIN
    RETURN QUERY
    SELECT t.code, k.kit_no, k.status, k.made_at, k.made_by, p.code, d.visit, d.dispensed_at,
           k.status_at, k.status_reason
    FROM fmtbank.trial_kit k
    LEFT JOIN fmtbank.trial_dispense d ON d.kit = k.id
    LEFT JOIN fmtbank.trial_participant p ON p.id = d.participant
    WHERE k.trial = t.id ORDER BY k.kit_no;
END $$;

-- The unblinded allocation (unblinded role only): every participant with stratum, list position,
-- block, arm, and the kits, lots and donors dispensed to them, and the unblindings.
CREATE OR REPLACE FUNCTION fmtbank.report_trial_allocation(p_trial text)
RETURNS TABLE (trial text, participant text, stratum text, seq integer, block_no integer,
               block_size smallint, arm text, kits text, lots text, donors text, unblindings bigint,
               enrolled_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE t fmtbank.trial;
BEGIN
    PERFORM fmtbank.require_role('reading the unblinded allocation', 'unblinded');
    t := fmtbank.trial_get(p_trial);
    RETURN QUERY
    SELECT t.code, p.code, p.stratum, p.seq, al.block_no, al.block_size, al.arm,
           (SELECT string_agg(k.kit_no, ', ' ORDER BY d.visit) FROM fmtbank.trial_dispense d
            JOIN fmtbank.trial_kit k ON k.id = d.kit WHERE d.participant = p.id),
           (SELECT string_agg(DISTINCT l.lot_id, ', ') FROM fmtbank.trial_dispense d
            JOIN fmtbank.trial_kit_content c ON c.kit = d.kit JOIN fmtbank.aliquot a ON a.id = c.aliquot
            JOIN fmtbank.lot l ON l.id = a.lot WHERE d.participant = p.id),
           (SELECT string_agg(DISTINCT dn.code, ', ') FROM fmtbank.trial_dispense d
            JOIN fmtbank.trial_kit_content c ON c.kit = d.kit JOIN fmtbank.aliquot a ON a.id = c.aliquot
            JOIN fmtbank.lot l ON l.id = a.lot JOIN fmtbank.donor dn ON dn.id = l.donor_id
            WHERE d.participant = p.id),
           (SELECT count(*) FROM fmtbank.trial_unblinding u WHERE u.participant = p.id),
           p.enrolled_at
    FROM fmtbank.trial_participant p
    JOIN fmtbank.trial_allocation al ON al.trial = p.trial AND al.stratum = p.stratum AND al.seq = p.seq
    WHERE p.trial = t.id ORDER BY p.stratum, p.seq;
END $$;

-- "fmtbank status": trial kits by state (no arm).
CREATE OR REPLACE FUNCTION fmtbank.status_trial_kits() RETURNS TABLE (entity text, state text, n bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'trial kit', k.status, count(*) FROM fmtbank.trial_kit k GROUP BY 2;
$$;
SELECT fmtbank.status_register('trial_kit', 'fmtbank.status_trial_kits()');

-- ---------------------------------------------------------------- the unblinded role
-- "fmtbank user unblinded NAME yes|no --reason R" (admin): grants or revokes fmtbank_unblinded, held
-- in addition to the person's role (app_user.unblinded, audited). Never for a site person (the
-- site stays blind; a site person with an emergency unblinds by "trial unblind --emergency").
CREATE OR REPLACE FUNCTION fmtbank.user_unblinded(p_name text, p_on text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u fmtbank.app_user := fmtbank.user_get(p_name);
    v boolean;
BEGIN
    PERFORM fmtbank.require_role('granting the unblinded role', 'admin');
    v := CASE lower(btrim(coalesce(p_on, ''))) WHEN 'yes' THEN true WHEN 'no' THEN false END;
    IF v IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid value "%s"', coalesce(p_on, '')),
            HINT = 'Use yes (grant) or no (revoke).';
    END IF;
    IF v AND u.role = 'site' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot make "%s" unblinded: trial site staff stay blind', u.name);
    END IF;
    IF u.unblinded = v THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('user "%s" %s the unblinded role', u.name,
                             CASE WHEN v THEN 'already holds' ELSE 'does not hold' END);
    END IF;
    PERFORM fmtbank.acting_reason(true, 'granting or revoking the unblinded role');
    IF v THEN
        EXECUTE format('GRANT %I TO %I', 'fmtbank_unblinded', u.name);
    ELSE
        EXECUTE format('REVOKE %I FROM %I', 'fmtbank_unblinded', u.name);
    END IF;
    UPDATE fmtbank.app_user SET unblinded = v WHERE name = u.name;
    RETURN u.name;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.trial_blind(),
    fmtbank.trial_list(),
    fmtbank.trial_show(text),
    fmtbank.trial_enrol(text, text, text),
    fmtbank.trial_dispense(text, text, text, text),
    fmtbank.trial_unblind(text, text, boolean),
    fmtbank.trial_kit_set(text, text),
    fmtbank.trial_kit_handling(),
    fmtbank.report_trial_dispensing(text),
    fmtbank.report_trial_unblindings(text),
    fmtbank.report_trial_kits(text),
    fmtbank.report_trial_allocation(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin, fmtbank_site,
       fmtbank_unblinded;

GRANT EXECUTE ON FUNCTION
    fmtbank.trial_add(text, text, text, text, text, text, boolean, jsonb),
    fmtbank.trial_kits_make(text, text, text)
    TO fmtbank_unblinded;

GRANT EXECUTE ON FUNCTION
    fmtbank.placebo_lot_add(text, text, text, text, text)
    TO fmtbank_technician;

GRANT EXECUTE ON FUNCTION fmtbank.user_unblinded(text, text) TO fmtbank_admin;

-- The helpers the CLI and the report engine call, for the two trial roles (the other roles have
-- them from their own groups' grant lists).
GRANT EXECUTE ON FUNCTION
    fmtbank.acting_is(text[]), fmtbank.require_role(text, text[]),
    fmtbank.acting_reason(boolean, text), fmtbank.check_char(text),
    fmtbank.check_id(text, text, text), fmtbank.report_as_of(),
    fmtbank.report_param(text, text, text, boolean)
    TO fmtbank_site, fmtbank_unblinded;

-- not granted (owner only): status_trial_kits, trial_for_report, trial_get, trial_participant_get, trial_stratum_norm, trial_stream,
-- trial_block, trial_allocation_at, trial_arm_of, trial_kit_get, aliquot_placebo_trial
