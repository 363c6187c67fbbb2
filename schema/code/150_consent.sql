-- 150_consent: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- Donor consent (product.md §12; migration 150). A consent is signed on a day with a version and a
-- scope (clinical, research, trial: what the donor's material may be used for); a withdrawal takes
-- effect from its day. The consent in force at a time T, as known at K, is the last event dated
-- on or before T's day among those recorded by K (ties: the one recorded last): a signed consent
-- gives its scope, a withdrawal gives none. Who records it: technicians, quality and admin (the
-- signed form is collected at the desk; recording it is what the desk does), never the auditor; a
-- withdrawal needs --reason (how it was received), a signature does not (the form is the record,
-- its SHA-256 with --document). Rules that use it:
-- - a donation needs a consent in force at the collection (any scope), as known at the entry, or
--   its lot is recorded as rejected with the rule consent (022 donation_judge);
-- - an issue needs the use (clinical, research) in the scope in force at the issue: the trigger
--   aliquot_issue_consent below refuses any other insert into fmtbank.aliquot_issue, whatever
--   the path ("aliquot issue", "scan --mode issue", a superuser's INSERT).
-- A withdrawal touches nothing already issued or recorded; it refuses further issue.

-- The uses a consent may cover, in their display order.
CREATE OR REPLACE FUNCTION fmtbank.consent_uses() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT ARRAY['clinical', 'research', 'trial']::text[]
$$;

-- A scope as typed ("clinical,research", "research; clinical", any case, duplicates allowed),
-- normalised to the uses in display order; NULL when empty or when a word is not a use. Never
-- raises, so set-based validation reports it per line.
CREATE OR REPLACE FUNCTION fmtbank.consent_scope_norm(p text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN bool_and(w = ANY (fmtbank.consent_uses()))
                THEN array_agg(DISTINCT w ORDER BY w) END
    FROM (SELECT lower(btrim(x)) AS w
          FROM unnest(regexp_split_to_array(btrim(coalesce(p, '')), '\s*[,;]\s*')) x) s
    WHERE nullif(btrim(coalesce(p, '')), '') IS NOT NULL
$$;

-- The same, raising FB001 naming the field.
CREATE OR REPLACE FUNCTION fmtbank.consent_scope_check(p text, p_field text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE s text[] := fmtbank.consent_scope_norm(p);
BEGIN
    IF s IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid %s "%s"', p_field, coalesce(p, '')),
            HINT = 'Give one or more of clinical, research, trial, separated by commas.';
    END IF;
    RETURN s;
END $$;

-- A document hash: 64 hexadecimal digits (SHA-256), stored in lower case; NULL when not valid.
CREATE OR REPLACE FUNCTION fmtbank.consent_sha256_norm(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN btrim(p) ~ '^[0-9A-Fa-f]{64}$' THEN lower(btrim(p)) END
$$;

-- A day typed for p_field that is not in the future (FB001 with p_hint otherwise).
CREATE OR REPLACE FUNCTION fmtbank.consent_day(p text, p_field text, p_hint text) RETURNS date
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE day date := fmtbank.parse_date(p, p_field);
BEGIN
    IF day > current_date THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('%s %s is in the future', p_field, day), HINT = p_hint;
    END IF;
    RETURN day;
END $$;

-- The consent in force for a donor at p_at (valid time: its day), as known at p_known (only the
-- events recorded by then; NULL: as known at p_at, what "--as-of" means). One row always:
-- status none (no consent dated by then), in_force, or withdrawn; version, signed_on, scope and
-- document of the last consent signed (for withdrawn: the consent that was withdrawn);
-- withdrawn_on; in_force: the scope in force (NULL unless status is in_force); signed_later: the
-- day of the first consent known but dated after p_at (why a donation before it has none).
CREATE OR REPLACE FUNCTION fmtbank.consent_at(p_donor uuid, p_at timestamptz,
                                              p_known timestamptz DEFAULT NULL)
RETURNS TABLE (status text, version text, signed_on date, scope text[], document_sha256 text,
               withdrawn_on date, in_force text[], signed_later date)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH e AS (
        SELECT c.*, row_number() OVER (ORDER BY c.effective_on DESC, c.recorded_at DESC, c.id) AS n
        FROM fmtbank.donor_consent c
        WHERE c.donor_id = p_donor AND c.recorded_at <= coalesce(p_known, p_at)
          AND c.effective_on <= p_at::date),
    last AS (SELECT * FROM e WHERE n = 1),
    signed AS (SELECT * FROM e WHERE event = 'signed' ORDER BY n LIMIT 1)
    SELECT CASE (SELECT event FROM last) WHEN 'signed' THEN 'in_force' WHEN 'withdrawn' THEN 'withdrawn'
                ELSE 'none' END,
           s.version, s.effective_on, s.scope, s.document_sha256,
           (SELECT effective_on FROM last WHERE event = 'withdrawn'),
           (SELECT scope FROM last WHERE event = 'signed'),
           (SELECT min(c.effective_on) FROM fmtbank.donor_consent c
            WHERE c.donor_id = p_donor AND c.event = 'signed'
              AND c.recorded_at <= coalesce(p_known, p_at) AND c.effective_on > p_at::date)
    FROM (SELECT 1) one LEFT JOIN signed s ON true
$$;

-- The scope in force for a donor at p_at as known at p_known (NULL: at p_at); NULL when none.
CREATE OR REPLACE FUNCTION fmtbank.consent_in_force(p_donor uuid, p_at timestamptz,
                                                    p_known timestamptz DEFAULT NULL)
RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT in_force FROM fmtbank.consent_at(p_donor, p_at, p_known)
$$;

-- A donor's consent now, as "donor consent" prints it (the row of "donor show" too).
CREATE OR REPLACE FUNCTION fmtbank.consent_now(p_donor uuid)
RETURNS TABLE (code text, consent text, version text, signed_on date, scope text[], document text,
               withdrawn_on date, in_force text[])
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT d.code, c.status, c.version, c.signed_on, c.scope, c.document_sha256, c.withdrawn_on, c.in_force
    FROM fmtbank.donor d, fmtbank.consent_at(p_donor, clock_timestamp(), clock_timestamp()) c
    WHERE d.id = p_donor
$$;

-- Why the consent does not cover p_use (NULL: any use, what a donation needs) at p_at as known at
-- p_known, in words naming the donor; NULL when it does. p_what: "the collection", "the issue".
CREATE OR REPLACE FUNCTION fmtbank.consent_missing(p_donor uuid, p_at timestamptz, p_known timestamptz,
                                                   p_use text, p_what text)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
             WHEN c.status = 'in_force' AND (p_use IS NULL OR p_use = ANY (c.in_force)) THEN NULL
             WHEN c.status = 'in_force'
               THEN format('Donor %s''s consent (version %s, signed %s) covers %s, not %s use.', d.code,
                           c.version, c.signed_on, array_to_string(c.scope, ', '), p_use)
             WHEN c.status = 'withdrawn'
               THEN format('Donor %s withdrew consent (version %s, signed %s) from %s, before %s (%s).',
                           d.code, c.version, c.signed_on, c.withdrawn_on, p_what, fmtbank.ts_text(p_at))
             WHEN c.signed_later IS NOT NULL
               THEN format('Donor %s''s consent was signed on %s, after %s (%s).', d.code,
                           c.signed_later, p_what, fmtbank.ts_text(p_at))
             ELSE format('No consent is recorded for donor %s at %s (%s).', d.code, p_what,
                         fmtbank.ts_text(p_at))
           END
    FROM fmtbank.donor d, fmtbank.consent_at(p_donor, p_at, p_known) c
    WHERE d.id = p_donor
$$;

-- "fmtbank donor consent CODE --version V --signed DATE --scope S [--document SHA256]": records a
-- signed consent. The day is not in the future; the same consent (version, day, scope) recorded
-- twice is refused. A later consent (a new version, a wider or narrower scope, or consent given
-- again after a withdrawal) supersedes the earlier one from its day. --reason is optional (kept).
CREATE OR REPLACE FUNCTION fmtbank.donor_consent_sign(p_code text, p_version text, p_signed text,
                                                      p_scope text, p_document text)
RETURNS TABLE (code text, consent text, version text, signed_on date, scope text[], document text,
               withdrawn_on date, in_force text[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.donor;
    v text := btrim(coalesce(p_version, ''));
    day date;
    s text[];
    doc text;
BEGIN
    PERFORM fmtbank.require_role('recording donor consent', 'technician', 'quality', 'admin');
    d := fmtbank.donor_get(p_code);
    IF v = '' OR length(v) > 100 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid --version "%s"', coalesce(p_version, '')),
            HINT = 'Give the version of the consent form the donor signed (1 to 100 characters), e.g. 2026-03.';
    END IF;
    day := fmtbank.consent_day(p_signed, '--signed', 'Give the day the donor signed the form.');
    s := fmtbank.consent_scope_check(p_scope, '--scope');
    IF p_document IS NOT NULL THEN
        doc := fmtbank.consent_sha256_norm(p_document);
        IF doc IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('invalid --document "%s"', p_document),
                HINT = 'Give the SHA-256 of the scanned signed form: 64 hexadecimal digits (sha256sum FILE).';
        END IF;
    END IF;
    PERFORM 1 FROM fmtbank.donor WHERE id = d.id FOR UPDATE;
    IF EXISTS (SELECT 1 FROM fmtbank.donor_consent c
               WHERE c.donor_id = d.id AND c.event = 'signed' AND c.version = v
                 AND c.effective_on = day AND c.scope = s) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('the consent of donor "%s" (version %s, signed %s, %s) is already recorded',
                             d.code, v, day, array_to_string(s, ', '));
    END IF;
    INSERT INTO fmtbank.donor_consent (donor_id, event, effective_on, version, scope, document_sha256, reason)
    VALUES (d.id, 'signed', day, v, s, doc, fmtbank.acting_reason(false, NULL));
    RETURN QUERY SELECT * FROM fmtbank.consent_now(d.id);
END $$;

-- "fmtbank donor consent CODE --withdraw --date D": the donor withdraws the consent in force, from
-- day D (not in the future, not before that consent was signed). --reason is required: how the
-- withdrawal was received. Refused when no consent is in force.
CREATE OR REPLACE FUNCTION fmtbank.donor_consent_withdraw(p_code text, p_date text)
RETURNS TABLE (code text, consent text, version text, signed_on date, scope text[], document text,
               withdrawn_on date, in_force text[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.donor;
    day date;
    cur record;
    why text;
BEGIN
    PERFORM fmtbank.require_role('recording a consent withdrawal', 'technician', 'quality', 'admin');
    d := fmtbank.donor_get(p_code);
    day := fmtbank.consent_day(p_date, '--date',
                               'Give the day the donor withdrew consent (record it when it happens).');
    why := fmtbank.acting_reason(true, 'recording a consent withdrawal');
    PERFORM 1 FROM fmtbank.donor WHERE id = d.id FOR UPDATE;
    SELECT * INTO cur FROM fmtbank.consent_at(d.id, clock_timestamp(), clock_timestamp());
    IF cur.status = 'none' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('donor "%s" has no consent to withdraw', d.code),
            DETAIL = 'No consent is recorded for the donor.';
    ELSIF cur.status = 'withdrawn' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('donor "%s" has no consent to withdraw', d.code),
            DETAIL = format('The consent (version %s, signed %s) was withdrawn from %s.', cur.version,
                            cur.signed_on, cur.withdrawn_on);
    END IF;
    IF day < cur.signed_on THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('--date %s is before the signing of the consent in force (version %s, signed %s)',
                             day, cur.version, cur.signed_on),
            HINT = 'A withdrawal takes effect on or after the day the consent was signed.';
    END IF;
    INSERT INTO fmtbank.donor_consent (donor_id, event, effective_on, reason)
    VALUES (d.id, 'withdrawn', day, why);
    RETURN QUERY SELECT * FROM fmtbank.consent_now(d.id);
END $$;

-- The consent rule of every issue, in the database: an issue record (fmtbank.aliquot_issue, what
-- "aliquot issue" and "scan --mode issue" insert) whose use is not in the scope of the donor's
-- consent in force at the issue is refused (FB003), for every session, the superuser's too.
CREATE OR REPLACE FUNCTION fmtbank.aliquot_issue_consent() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_donor uuid;
    v_aliquot text;
    why text;
BEGIN
    SELECT l.donor_id, a.aliquot_id INTO v_donor, v_aliquot
    FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot WHERE a.id = NEW.aliquot;
    -- a placebo preparation (270) has no donor to consent; its trigger keeps it in its trial
    IF EXISTS (SELECT 1 FROM fmtbank.trial_placebo_donor pd WHERE pd.donor = v_donor) THEN
        RETURN NEW;
    END IF;
    why := fmtbank.consent_missing(v_donor, NEW.issued_at, clock_timestamp(), NEW.use, 'the issue');
    IF why IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot issue "%s": donor "%s" has no consent in force for %s use', v_aliquot,
                             (SELECT d.code FROM fmtbank.donor d WHERE d.id = v_donor), NEW.use),
            DETAIL = why,
            HINT = 'Record the donor''s signed consent covering that use ("fmtbank donor consent"), or issue for a use it covers.';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER consent_check BEFORE INSERT ON fmtbank.aliquot_issue
    FOR EACH ROW EXECUTE FUNCTION fmtbank.aliquot_issue_consent();

-- Every consent event with its donor, for "donor show" and reading (no PII).
CREATE OR REPLACE VIEW fmtbank.consent_list AS
    SELECT d.code AS donor, c.event, c.effective_on, c.version, c.scope, c.document_sha256, c.reason,
           c.recorded_by, c.recorded_at
    FROM fmtbank.donor_consent c JOIN fmtbank.donor d ON d.id = c.donor_id;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.consent_uses(),
    fmtbank.consent_scope_norm(text),
    fmtbank.consent_scope_check(text, text),
    fmtbank.consent_sha256_norm(text),
    fmtbank.consent_day(text, text, text),
    fmtbank.consent_at(uuid, timestamptz, timestamptz),
    fmtbank.consent_in_force(uuid, timestamptz, timestamptz),
    fmtbank.consent_now(uuid),
    fmtbank.consent_missing(uuid, timestamptz, timestamptz, text, text),
    fmtbank.donor_consent_sign(text, text, text, text, text),
    fmtbank.donor_consent_withdraw(text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

GRANT SELECT ON fmtbank.consent_list
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
