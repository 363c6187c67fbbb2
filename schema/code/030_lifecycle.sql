-- 030_lifecycle: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- 030_lifecycle: the state machines of lots and aliquots (product.md §3), and the tables of the
-- release path: release signatures (21 CFR Part 11) and every signing attempt, issues to
-- recipients, lookback cases and what each held.
--
-- States change only inside SECURITY DEFINER functions (031-035, and the inventory functions of
-- 022/023); application roles have no UPDATE privilege on lot or aliquot at all. The triggers
-- below are the second line: whatever function changes a state, only these transitions happen:
--   lot:     quarantine -> ready -> released;  ready -> quarantine (no longer releasable);
--            quarantine|ready -> rejected;  quarantine|ready|released -> recalled;
--            released -> rejected only as a void (reason entered_in_error, lot void, 120_entry);
--            never rejected while held or with issued doses (for every session, the superuser's too)
--   aliquot: quarantine -> released -> issued;  quarantine|released -> recalled|expired;
--            quarantine|released|recalled|expired -> discarded
-- and a lot becomes released only with its release signature, an aliquot only when its lot is
-- released (never the retained sample), issued only with its issue record. rejected, recalled,
-- issued and discarded are final. A superuser session (the DBA repairing data, test fixtures) is
-- not checked: it could disable the trigger anyway; every application role is. The trigger
-- functions are SECURITY DEFINER so that they read what they check whoever updates.

-- UTC ISO 8601 with microseconds: how the signed snapshot writes times, so that it reads the same
-- whatever the session's time zone.
CREATE OR REPLACE FUNCTION fmtbank.ts_utc(p timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');

-- Whether the session is a superuser's (exempt from the transition checks, see above).
CREATE OR REPLACE FUNCTION fmtbank.session_is_superuser() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
$$;

-- ---------------------------------------------------------------- state machines
CREATE OR REPLACE FUNCTION fmtbank.lot_transition_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE v text;
BEGIN
    -- holds bind everyone, the superuser too (product.md §11.0.1)
    IF NEW.status = 'released' THEN
        PERFORM fmtbank.hold_refuse(NEW.id, NULL, format('release lot "%s"', OLD.lot_id));
    END IF;
    -- held material and a lot with issued doses are never rejected (a void, product.md §11.2, or
    -- any other way), whoever updates: held material leaves the bank only by a signed decision
    IF NEW.status = 'rejected' THEN
        PERFORM fmtbank.hold_refuse(NEW.id, NULL, format('reject lot "%s"', OLD.lot_id));
        SELECT string_agg(DISTINCT c.case_code, ', ') INTO v FROM fmtbank.case_hold h
        JOIN fmtbank.safety_case c ON c.id = h.case_id
        WHERE h.lot = NEW.id AND h.aliquots IS NOT NULL AND h.ended_at IS NULL;
        IF v IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot reject lot "%s": aliquots of it are held by case %s', OLD.lot_id, v),
                HINT = 'Only a quality officer''s signed decision ends a hold: "fmtbank case decide CASE --lift|--recall|--discard".';
        END IF;
        SELECT string_agg(a.aliquot_id, ', ' ORDER BY a.idx) INTO v FROM fmtbank.aliquot a
        WHERE a.lot = NEW.id AND a.status = 'issued';
        IF v IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot reject lot "%s": doses of it were issued (%s)', OLD.lot_id, v),
                DETAIL = 'Issued material has reached recipients; rejecting the lot would hide that.',
                HINT = 'Open a case for the lot ("fmtbank hold add --lot LOT") and decide it (recall, notify the recipients).';
        END IF;
    END IF;
    -- (the release sweep's own moves, quarantine <-> ready, are allowed for everyone and never
    -- reach this function: the trigger's WHEN clause leaves them out, 370_transition_when.sql;
    -- the sweep may move 100,000 lots in one statement)
    IF fmtbank.session_is_superuser() THEN
        RETURN NEW;
    END IF;
    IF (OLD.status, NEW.status) NOT IN (('quarantine', 'ready'), ('ready', 'quarantine'),
                                        ('ready', 'released'), ('quarantine', 'rejected'),
                                        ('ready', 'rejected'), ('quarantine', 'recalled'),
                                        ('ready', 'recalled'), ('released', 'recalled'))
       -- a released lot entered in error is voided (lot void): rejected with that reason
       AND NOT ((OLD.status, NEW.status) = ('released', 'rejected')
                AND NEW.reject_reasons @> '[{"rule": "entered_in_error"}]'
                AND NOT OLD.reject_reasons @> '[{"rule": "entered_in_error"}]') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot change lot "%s" from %s to %s', OLD.lot_id, OLD.status,
                             NEW.status),
            DETAIL = 'A lot goes quarantine -> ready -> released, back to quarantine when it is no '
                     'longer releasable, or to rejected or recalled (a released lot to rejected only '
                     'when voided as entered in error); rejected and recalled are final.';
    END IF;
    IF NEW.status = 'released'
       AND NOT EXISTS (SELECT 1 FROM fmtbank.release_signature s WHERE s.lot = NEW.id) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot release lot "%s" without a release signature', OLD.lot_id),
            HINT = 'A quality officer signs the release with "fmtbank release sign".';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.aliquot_transition_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- holds bind everyone, the superuser too (product.md §11.0.1)
    IF NEW.status IN ('released', 'issued', 'discarded') THEN
        PERFORM fmtbank.hold_refuse(NEW.lot, NEW.id,
                                    format('%s aliquot "%s"', CASE NEW.status WHEN 'released' THEN 'release'
                                                                  WHEN 'issued' THEN 'issue'
                                                                  ELSE 'discard' END, OLD.aliquot_id));
    END IF;
    -- (expiry, quarantine or released -> expired, by the release sweep, up to every aliquot of a
    -- day, is allowed for everyone and never reaches this function: the trigger's WHEN clause
    -- leaves it out, 370_transition_when.sql)
    IF fmtbank.session_is_superuser() THEN
        RETURN NEW;
    END IF;
    IF (OLD.status, NEW.status) NOT IN (('quarantine', 'released'), ('quarantine', 'recalled'),
                                        ('quarantine', 'expired'), ('quarantine', 'discarded'),
                                        ('released', 'issued'), ('released', 'recalled'),
                                        ('released', 'expired'), ('released', 'discarded'),
                                        ('recalled', 'discarded'), ('expired', 'discarded')) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot change aliquot "%s" from %s to %s', OLD.aliquot_id,
                             OLD.status, NEW.status),
            DETAIL = 'An aliquot goes quarantine -> released -> issued, or to recalled, expired or '
                     'discarded; issued and discarded are final.';
    END IF;
    IF NEW.status = 'released' AND (OLD.retained OR NOT EXISTS (
            SELECT 1 FROM fmtbank.lot l WHERE l.id = NEW.lot AND l.status = 'released')) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot release aliquot "%s": %s', OLD.aliquot_id,
                             CASE WHEN OLD.retained THEN 'it is the retained sample'
                                  ELSE 'its lot is not released' END);
    END IF;
    IF NEW.status = 'issued'
       AND NOT EXISTS (SELECT 1 FROM fmtbank.aliquot_issue i WHERE i.aliquot = NEW.id) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot mark aliquot "%s" issued without its issue record', OLD.aliquot_id),
            HINT = 'Issue it with "fmtbank aliquot issue".';
    END IF;
    RETURN NEW;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.ts_utc(timestamp with time zone)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- not granted (owner only): session_is_superuser, lot_transition_check, aliquot_transition_check
