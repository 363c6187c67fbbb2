-- 170_vigilance: recipients and vigilance (product.md Part II §13, issue 12). Adverse events a
-- hospital reports about a recipient (a pseudonymous code from "aliquot issue --recipient"), their
-- append-only history of imputability grades and outcomes, the adverse_event cases they open on
-- the donors of the doses, and optional outcome follow-up scores per recipient and visit from a
-- small catalog of score instruments. The rules are code: schema/code/170_vigilance.sql.

-- An adverse event (reaction) in a recipient. ID: E + 2-digit year + 6-digit sequence + MOD 37-2
-- check character (per-year counter, like cases). kind: infection (a suspected transmitted
-- infection), gi_symptoms, fever, allergic, death, other. serious (given by the reporter): death,
-- life threat, hospitalisation, disability or a transmitted infection; a death is serious. A
-- follow-up may make an event serious (never the reverse). imputability, outcome and serious are
-- the current values; every value they had is in recipient_event_history.
CREATE TABLE fmtbank.recipient_event (
    id            bigserial PRIMARY KEY,
    event_code    text NOT NULL UNIQUE CHECK (event_code ~ '^E[0-9]{8}[0-9A-Z*]$'),
    recipient     text NOT NULL CHECK (btrim(recipient) <> ''),
    event_date    date NOT NULL,
    kind          text NOT NULL
        CHECK (kind IN ('infection', 'gi_symptoms', 'fever', 'allergic', 'death', 'other')),
    serious       boolean NOT NULL,
    severity      text NOT NULL CHECK (severity IN ('mild', 'moderate', 'severe')),
    description   text NOT NULL CHECK (btrim(description) <> ''),
    imputability  text NOT NULL DEFAULT 'not_assessable'
        CHECK (imputability IN ('not_assessable', 'excluded', 'unlikely', 'possible', 'probable',
                                'definite')),
    outcome       text CHECK (outcome IN ('recovering', 'recovered', 'recovered_with_sequelae',
                                          'not_recovered', 'fatal', 'unknown')),
    recorded_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by   text NOT NULL DEFAULT session_user,
    CHECK (serious OR (kind <> 'death' AND outcome IS DISTINCT FROM 'fatal'))
);
CREATE INDEX recipient_event_recipient ON fmtbank.recipient_event (recipient);
CREATE INDEX recipient_event_date ON fmtbank.recipient_event (event_date);
SELECT fmtbank.audit_enable('fmtbank.recipient_event', 'id');
-- the event as reported never changes; only its grade and outcome do, and a non-serious event may
-- become serious (by recipient_event_update)
CREATE FUNCTION fmtbank.recipient_event_fixed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot delete adverse event "%s": nothing is ever deleted', OLD.event_code);
    END IF;
    IF (NEW.id, NEW.event_code, NEW.recipient, NEW.event_date, NEW.kind, NEW.severity,
        NEW.description, NEW.recorded_at, NEW.recorded_by)
       IS DISTINCT FROM (OLD.id, OLD.event_code, OLD.recipient, OLD.event_date, OLD.kind,
                         OLD.severity, OLD.description, OLD.recorded_at, OLD.recorded_by)
       OR (OLD.serious AND NOT NEW.serious) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot change adverse event "%s" as reported: only its imputability and outcome change, and it may become serious',
                             OLD.event_code);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER recipient_event_fixed BEFORE UPDATE OR DELETE ON fmtbank.recipient_event
    FOR EACH ROW EXECUTE FUNCTION fmtbank.recipient_event_fixed();

-- Every grade, outcome and seriousness an event had, append-only: the values recorded with the event, then one
-- row per update (who, when, why). Never updated, never deleted.
CREATE TABLE fmtbank.recipient_event_history (
    id            bigserial PRIMARY KEY,
    event_id      bigint NOT NULL REFERENCES fmtbank.recipient_event,
    action        text NOT NULL CHECK (action IN ('recorded', 'updated')),
    imputability  text NOT NULL,
    outcome       text,
    serious       boolean NOT NULL,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    by_user       text NOT NULL DEFAULT session_user,
    reason        text
);
CREATE INDEX recipient_event_history_event ON fmtbank.recipient_event_history (event_id, id);
SELECT fmtbank.audit_enable('fmtbank.recipient_event_history', 'id');
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON fmtbank.recipient_event_history
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();

-- A case opened by an adverse event names it (one case per event and donor; a new one when the
-- event is graded back to a plausible imputability after its case was withdrawn).
ALTER TABLE fmtbank.safety_case
    ADD COLUMN event_id bigint REFERENCES fmtbank.recipient_event,
    ADD CONSTRAINT safety_case_event CHECK (source <> 'adverse_event'
        OR (event_id IS NOT NULL AND donor_id IS NOT NULL));
CREATE INDEX safety_case_event ON fmtbank.safety_case (event_id) WHERE event_id IS NOT NULL;

-- The catalog of outcome score instruments (data, like questionnaire items): a score is a number
-- in [min_value, max_value], an integer when integral.
CREATE TABLE fmtbank.score_instrument (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    min_value   numeric NOT NULL,
    max_value   numeric NOT NULL,
    integral    boolean NOT NULL,
    source      text NOT NULL CHECK (btrim(source) <> ''),
    CHECK (min_value < max_value)
);
SELECT fmtbank.audit_enable('fmtbank.score_instrument', 'code');
INSERT INTO fmtbank.score_instrument (code, name, min_value, max_value, integral, source) VALUES
    ('phq9', 'Patient Health Questionnaire-9 (depression)', 0, 27, true,
     'Kroenke K, Spitzer RL, Williams JB. J Gen Intern Med 2001;16:606-613'),
    ('gad7', 'Generalized Anxiety Disorder-7 (anxiety)', 0, 21, true,
     'Spitzer RL, Kroenke K, Williams JB, Lowe B. Arch Intern Med 2006;166:1092-1097');

-- An outcome follow-up score of a recipient at a visit (e.g. PHQ-9 at weeks 2, 8 and 26).
-- Append-only; one value per recipient, visit and instrument.
CREATE TABLE fmtbank.recipient_score (
    id           bigserial PRIMARY KEY,
    recipient    text NOT NULL CHECK (btrim(recipient) <> ''),
    visit        text NOT NULL CHECK (visit ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
    visit_date   date NOT NULL,
    instrument   text NOT NULL REFERENCES fmtbank.score_instrument,
    value        numeric NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by  text NOT NULL DEFAULT session_user,
    UNIQUE (recipient, visit, instrument)
);
SELECT fmtbank.audit_enable('fmtbank.recipient_score', 'id');
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON fmtbank.recipient_score
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();

REVOKE ALL ON fmtbank.recipient_event, fmtbank.recipient_event_history, fmtbank.score_instrument,
    fmtbank.recipient_score FROM PUBLIC;
REVOKE ALL ON SEQUENCE fmtbank.recipient_event_id_seq, fmtbank.recipient_event_history_id_seq,
    fmtbank.recipient_score_id_seq FROM PUBLIC;
GRANT SELECT ON fmtbank.recipient_event, fmtbank.recipient_event_history,
    fmtbank.score_instrument, fmtbank.recipient_score
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- "recipient score import FILE.csv" (recipient,visit,date,item,value) is staged like the other
-- imports (060_owner_stage): one row per line, validated set-wise, stored all or nothing.
CREATE UNLOGGED TABLE fmtbank_stage.score_stage (
    pid        integer NOT NULL DEFAULT pg_catalog.pg_backend_pid()
               CHECK (pid = pg_catalog.pg_backend_pid()),
    line       bigint NOT NULL,
    recipient  text,
    visit      text,
    visit_date text,
    item       text,
    value      text
);
ALTER TABLE fmtbank_stage.score_stage OWNER TO fmtbank_owner;
REVOKE ALL ON fmtbank_stage.score_stage FROM PUBLIC;
GRANT INSERT ON fmtbank_stage.score_stage TO fmtbank_technician, fmtbank_quality, fmtbank_admin;
