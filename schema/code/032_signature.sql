-- 032_signature: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- 032_signature: the electronic signature of a release (21 CFR Part 11 §11.50, §11.70, §11.200,
-- §11.300) and the signed record the release report reads.
--
-- "fmtbank release sign" is one call of fmtbank.release_sign(), by the session user only (nobody
-- signs for someone else): the signer re-enters their own signature password (bcrypt, 001's
-- user_secret). A wrong password is not an error that rolls back: the function records the
-- failed attempt (signature_attempt row, app_user.failed_attempts + 1, both in the audit trail)
-- and returns 'wrong_password', which the CLI reports as refused (exit 5). The fifth consecutive
-- failure locks the signer (app_user.locked_at) until "fmtbank user unlock"; a good signature
-- resets the count. On success, in one transaction: the lot row is locked (two officers signing
-- at once: the second finds it released; UNIQUE(lot) backs this up), the lot is evaluated
-- (031) and must be releasable, the snapshot of that evaluation is built, signed and stored with
-- its SHA-256, and the lot (quarantine -> ready -> released) and its doses that are in
-- quarantine and unexpired become released. The retained sample stays in quarantine.

-- The evaluation a signature is bound to, as canonical JSON: the lot (donor code, collection,
-- processing), the rule-set version and the parameters used, the windows, every result of the
-- donor collected in the windows (phase, acceptable, and whether it is the result the panel uses:
-- the latest acceptable one before the donation, the first acceptable one after it), every rule
-- verdict, and the aliquots with where they are. Times in UTC.
CREATE OR REPLACE FUNCTION fmtbank.release_snapshot(p_at timestamptz, p_lot uuid) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH l AS (
        SELECT l.*, l.collected_at::date AS cd, d.code AS donor_code
        FROM fmtbank.lot l JOIN fmtbank.donor d ON d.id = l.donor_id WHERE l.id = p_lot),
    prm AS (
        SELECT fmtbank.rule_value('pre_window_days', p_at)::integer AS pre,
               fmtbank.rule_value('post_window_days', p_at)::integer AS post,
               fmtbank.rule_value('max_processing_hours', p_at) AS maxh,
               fmtbank.rule_value('lookback_min_days', p_at)::integer AS lookback,
               fmtbank.rule_set_version_at(p_at) AS ver),
    -- the results in force at p_at (as fmtbank.result_effective_at, through the donor index)
    res AS (
        SELECT r.id, t.code AS test, r.test_no, r.collected, r.result, r.unit, r.lab,
               r.recorded_at, r.recorded_by, a.ok AS acceptable,
               CASE WHEN a.ok THEN 'acceptable' WHEN r.result = 'indeterminate' THEN 'indeterminate'
                    WHEN r.value IS NOT NULL THEN 'out_of_limit' ELSE 'positive' END AS outcome,
               CASE WHEN r.collected <= l.cd THEN 'pre' ELSE 'post' END AS phase,
               CASE WHEN r.collected <= l.cd THEN t.required_pre ELSE t.required_post END AS required
        FROM l CROSS JOIN prm
        JOIN fmtbank.result r ON r.donor_id = l.donor_id AND r.collected >= l.cd - prm.pre
                             AND r.collected <= l.cd + prm.post
        JOIN fmtbank.screening_test_at(p_at) t ON t.test_no = r.test_no
        CROSS JOIN LATERAL (SELECT fmtbank.result_acceptable(r.result, r.value, t.accept_op,
                                                             t.accept_limit) AS ok) a
        WHERE r.recorded_at <= p_at AND (r.superseded_at IS NULL OR r.superseded_at > p_at)),
    used AS (
        SELECT res.*,
               res.acceptable AND res.required AND row_number() OVER (
                   PARTITION BY res.phase, res.test_no, res.acceptable
                   ORDER BY CASE WHEN res.phase = 'pre' THEN res.collected END DESC,
                            CASE WHEN res.phase = 'post' THEN res.collected END,
                            res.recorded_at DESC) = 1 AS used
        FROM res)
    SELECT jsonb_build_object(
        'lot', l.lot_id, 'donor', l.donor_code,
        'collected_at', fmtbank.ts_utc(l.collected_at), 'collection_day', l.cd,
        'processed_at', fmtbank.ts_utc(l.processed_at), 'mass_g', l.mass_g, 'bristol', l.bristol,
        'doses', l.doses, 'evaluated_at', fmtbank.ts_utc(p_at), 'rule_set_version', prm.ver,
        'parameters', jsonb_build_object('pre_window_days', prm.pre, 'post_window_days', prm.post,
                                         'max_processing_hours', prm.maxh,
                                         'lookback_min_days', prm.lookback),
        'windows', jsonb_build_object(
            'pre', jsonb_build_object('from', l.cd - prm.pre, 'to', l.cd),
            'post', jsonb_build_object('from', l.cd + 1, 'to', l.cd + prm.post)),
        'results', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'id', u.id, 'phase', u.phase, 'test', u.test, 'collected', u.collected,
                       'result', u.result, 'unit', u.unit, 'lab', u.lab,
                       'recorded_at', fmtbank.ts_utc(u.recorded_at), 'recorded_by', u.recorded_by,
                       'acceptable', u.acceptable, 'outcome', u.outcome, 'used', u.used)
                   ORDER BY u.phase DESC, u.test_no, u.collected, u.recorded_at)
            FROM used u), '[]'::jsonb),
        'rules', (
            SELECT jsonb_agg(jsonb_build_object('rule', c.rule,
                                                'verdict', CASE WHEN c.ok THEN 'pass' ELSE 'block' END,
                                                'detail', c.detail)
                             ORDER BY c.ord, c.detail)
            FROM fmtbank.lot_check_at(p_at, p_lot, NULL, true) c),
        'aliquots', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'id', a.aliquot_id, 'index', a.idx, 'retained', a.retained,
                       'status', fmtbank.aliquot_status_now(a.status, a.expires_at),
                       'expires_at', fmtbank.ts_utc(a.expires_at), 'volume_ml', a.volume_ml,
                       'glycerol_percent', a.glycerol_percent, 'freezer', f.freezer_id,
                       'freezer_name', f.name, 'rack', b.rack, 'box', b.box_id,
                       'position', fmtbank.position_text(p.prow, p.pcol))
                   ORDER BY a.idx)
            FROM fmtbank.aliquot a
            LEFT JOIN fmtbank.placement p ON p.aliquot = a.id
            LEFT JOIN fmtbank.box b ON b.id = p.box
            LEFT JOIN fmtbank.freezer f ON f.id = b.freezer
            WHERE a.lot = l.id), '[]'::jsonb))
    FROM l CROSS JOIN prm
$$;

-- Consecutive wrong signature passwords that lock a signer.
CREATE OR REPLACE FUNCTION fmtbank.signature_max_failures() RETURNS integer
LANGUAGE sql IMMUTABLE RETURN 5;

CREATE OR REPLACE FUNCTION fmtbank.release_sign(p_lot text, p_meaning text, p_password text)
RETURNS TABLE (outcome text, signature uuid, sha256 text, released integer, message text,
               detail text, hint text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'FB003',
        MESSAGE = 'fmtbank.release_sign(lot, meaning, password) is withdrawn',
        DETAIL = 'A failed signature attempt must be committed on its own, where no caller can roll it back.',
        HINT = 'Call fmtbank.sign_attempt(lot, meaning, password) and commit; then, in a new transaction, '
               'fmtbank.release_sign(lot, meaning, attempt) with the id it returned.';
END $$;

-- ---------------------------------------------------------------- the signed record
-- One row per signed release, as signed (the report reads this, not the current state):
-- verified is whether the stored snapshot still hashes to the stored SHA-256.
CREATE OR REPLACE VIEW fmtbank.release_record AS
    SELECT l.lot_id AS lot, d.code AS donor, s.snapshot ->> 'collected_at' AS collected_at,
           s.snapshot ->> 'processed_at' AS processed_at, s.printed_name, s.signer,
           s.signed_at, s.meaning, s.rule_set_version, s.sha256,
           encode(sha256(convert_to(s.snapshot::text, 'UTF8')), 'hex') = s.sha256 AS verified,
           jsonb_array_length(s.snapshot -> 'releases') AS released_aliquots,
           s.snapshot, s.id AS signature, l.id AS lot_uuid
    FROM fmtbank.release_signature s
    JOIN fmtbank.lot l ON l.id = s.lot
    JOIN fmtbank.donor d ON d.id = l.donor_id;

-- Its parts, one row each, from the snapshot.
CREATE OR REPLACE VIEW fmtbank.release_record_result AS
    SELECT r.lot, x.ord, x.e ->> 'phase' AS phase, x.e ->> 'test' AS test,
           (x.e ->> 'collected')::date AS collected, x.e ->> 'result' AS result, x.e ->> 'unit' AS unit,
           x.e ->> 'lab' AS lab, (x.e ->> 'acceptable')::boolean AS acceptable,
           (x.e ->> 'used')::boolean AS used, x.e ->> 'recorded_at' AS recorded_at
    FROM fmtbank.release_record r
    CROSS JOIN LATERAL jsonb_array_elements(r.snapshot -> 'results') WITH ORDINALITY AS x(e, ord);

CREATE OR REPLACE VIEW fmtbank.release_record_rule AS
    SELECT r.lot, x.ord, x.e ->> 'rule' AS rule, x.e ->> 'verdict' AS verdict,
           x.e ->> 'detail' AS detail
    FROM fmtbank.release_record r
    CROSS JOIN LATERAL jsonb_array_elements(r.snapshot -> 'rules') WITH ORDINALITY AS x(e, ord);

CREATE OR REPLACE VIEW fmtbank.release_record_aliquot AS
    SELECT r.lot, x.ord, x.e ->> 'id' AS aliquot, (x.e ->> 'retained')::boolean AS retained,
           x.e ->> 'status' AS status_at_signing,
           (x.e ->> 'id') IN (SELECT jsonb_array_elements_text(r.snapshot -> 'releases')) AS released,
           x.e ->> 'freezer' AS freezer, x.e ->> 'freezer_name' AS freezer_name,
           x.e ->> 'rack' AS rack, x.e ->> 'box' AS box, x.e ->> 'position' AS position,
           x.e ->> 'expires_at' AS expires_at
    FROM fmtbank.release_record r
    CROSS JOIN LATERAL jsonb_array_elements(r.snapshot -> 'aliquots') WITH ORDINALITY AS x(e, ord);

-- The signed record of one lot (FB001/FB002 for a bad or unknown lot, FB002 when unsigned).
CREATE OR REPLACE FUNCTION fmtbank.release_record_of(p_lot text) RETURNS SETOF fmtbank.release_record
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE l fmtbank.lot := fmtbank.lot_get(p_lot);
BEGIN
    RETURN QUERY SELECT * FROM fmtbank.release_record r WHERE r.lot_uuid = l.id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002',
            MESSAGE = format('lot "%s" has no signed release', l.lot_id),
            DETAIL = format('It is %s.', l.status);
    END IF;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.release_snapshot(timestamp with time zone, uuid),
    fmtbank.signature_max_failures(),
    fmtbank.release_sign(text, text, text),
    fmtbank.release_record_of(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

GRANT SELECT ON fmtbank.release_record, fmtbank.release_record_result, fmtbank.release_record_rule, fmtbank.release_record_aliquot
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
