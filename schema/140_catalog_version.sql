-- 140_catalog_version: the catalog of screening tests and questionnaire items as versioned,
-- audited data (product.md §12 "Catalog changes"), like the rule set (010).
--
-- catalog_version lists the changes: each "fmtbank catalog test|question add|change|retire" is a
-- new version, effective now or from a future --effective time; version 1 is the catalog shipped
-- with fmtbank (effective from -infinity). screening_test_def and question_item_def hold the whole
-- definition a version gave one test or item (only those it changed): the definition in force at
-- T is, per code, the row of the version with the latest effective_from <= T; a retired row ends
-- it. screening_test and question_item stay the identities (the code and, for a test, its
-- number: results name test_no); their other columns are the definition as first shipped and are
-- read by nothing that evaluates (the code set reads the _def tables through screening_test_at
-- and question_item_at).
--
-- Version order is creation order; effect order is effective_from (a change made now may take
-- effect before an earlier one scheduled for next month). No limit on the number of tests: the
-- test number is any non-negative integer (the engines use unbounded bit strings, 010).

CREATE TABLE fmtbank.catalog_version (
    version        integer PRIMARY KEY CHECK (version >= 1),
    effective_from timestamptz NOT NULL UNIQUE,
    subject        text CHECK (subject IN ('test', 'question')),
    code           text,
    action         text NOT NULL CHECK (action IN ('ship', 'add', 'change', 'retire')),
    -- a test made required: the stock collected on or after this day is concerned (default:
    -- every lot); the catalog case is opened when the change takes effect (case_id, taken_at)
    applies_from   date,
    taken_at       timestamptz,
    case_id        bigint REFERENCES fmtbank.safety_case,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by     text NOT NULL DEFAULT session_user,
    reason         text NOT NULL CHECK (btrim(reason) <> ''),
    CHECK ((action = 'ship') = (subject IS NULL AND version = 1)),
    CHECK ((action = 'ship') = (code IS NULL))
);
CREATE INDEX catalog_version_pending ON fmtbank.catalog_version (effective_from) WHERE taken_at IS NULL;
SELECT fmtbank.audit_enable('fmtbank.catalog_version', 'version');

INSERT INTO fmtbank.catalog_version (version, effective_from, action, taken_at, reason)
VALUES (1, '-infinity', 'ship', '-infinity', 'catalog shipped with fmtbank (domain.md)');

-- Any number of tests (was 0 to 62: a bigint bitmask).
ALTER TABLE fmtbank.screening_test DROP CONSTRAINT screening_test_test_no_check,
    ADD CONSTRAINT screening_test_test_no_check CHECK (test_no >= 0);

CREATE TABLE fmtbank.screening_test_def (
    code                 text NOT NULL REFERENCES fmtbank.screening_test,
    version              integer NOT NULL REFERENCES fmtbank.catalog_version,
    name                 text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    specimen             text NOT NULL
                         CHECK (specimen IN ('serum', 'stool', 'nasal swab', 'rectal swab', 'urine')),
    kind                 text NOT NULL CHECK (kind IN ('qualitative', 'numeric')),
    unit                 text,
    unit_aliases         text[] NOT NULL DEFAULT '{}',
    accept_op            text NOT NULL CHECK (accept_op IN ('negative', '<=', '<')),
    limit_param          text REFERENCES fmtbank.rule_param,   -- the limit from the rule set, or
    accept_limit         numeric CHECK (accept_limit >= 0),    -- the limit given with the test
    validity_days        integer CHECK (validity_days BETWEEN 1 AND 3650), -- NULL: screen_validity_days
    required_pre         boolean NOT NULL,
    required_post        boolean NOT NULL,
    excludes_permanently boolean NOT NULL,
    source               text NOT NULL CHECK (btrim(source) <> ''),
    retired              boolean NOT NULL DEFAULT false,
    PRIMARY KEY (code, version),
    CHECK ((kind = 'qualitative') = (accept_op = 'negative')),
    CHECK ((kind = 'numeric') = (unit IS NOT NULL AND (limit_param IS NOT NULL OR accept_limit IS NOT NULL))),
    CHECK (limit_param IS NULL OR accept_limit IS NULL)
);
SELECT fmtbank.audit_enable('fmtbank.screening_test_def', 'code');

INSERT INTO fmtbank.screening_test_def (code, version, name, specimen, kind, unit, unit_aliases,
                                        accept_op, limit_param, required_pre, required_post,
                                        excludes_permanently, source)
SELECT code, 1, name, specimen, kind, unit, unit_aliases, accept_op, limit_param, required_pre,
       required_post, excludes_permanently, source
FROM fmtbank.screening_test;

CREATE TABLE fmtbank.question_item_def (
    code          text NOT NULL REFERENCES fmtbank.question_item,
    version       integer NOT NULL REFERENCES fmtbank.catalog_version,
    questionnaire text NOT NULL CHECK (questionnaire IN ('full', 'short', 'followup')),
    type          text NOT NULL CHECK (type IN ('boolean', 'date', 'number')),
    effect        text NOT NULL CHECK (effect IN ('exclude', 'defer', 'range')),
    text          text NOT NULL CHECK (btrim(text) <> '' AND length(text) <= 1000),
    defer_param   text REFERENCES fmtbank.rule_param,         -- the period from the rule set, or
    defer_days    integer CHECK (defer_days BETWEEN 0 AND 3650), -- the period given with the item
    min_param     text REFERENCES fmtbank.rule_param,
    max_param     text REFERENCES fmtbank.rule_param,
    answer_min    numeric,
    answer_max    numeric,
    integral      boolean NOT NULL DEFAULT false,
    derived       text CHECK (derived IN ('birth_year')),
    lookback_days integer NOT NULL DEFAULT 0 CHECK (lookback_days BETWEEN 0 AND 3650),
    source        text NOT NULL CHECK (btrim(source) <> ''),
    sort_order    integer NOT NULL,
    retired       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (code, version),
    CHECK ((effect = 'defer') = (defer_param IS NOT NULL OR defer_days IS NOT NULL)),
    CHECK (defer_param IS NULL OR defer_days IS NULL),
    CHECK ((effect = 'range') = (type = 'number')),
    CHECK (effect <> 'exclude' OR (type = 'boolean' AND questionnaire = 'full')),
    CHECK (type <> 'number' OR (answer_min IS NOT NULL AND answer_max IS NOT NULL))
);
SELECT fmtbank.audit_enable('fmtbank.question_item_def', 'code');

INSERT INTO fmtbank.question_item_def (code, version, questionnaire, type, effect, text, defer_param,
                                       min_param, max_param, answer_min, answer_max, integral,
                                       derived, lookback_days, source, sort_order)
SELECT code, 1, questionnaire, type, effect, text, defer_param, min_param, max_param, answer_min,
       answer_max, integral, derived, lookback_days, source, sort_order
FROM fmtbank.question_item;

-- The identity rows of tests and items added later carry their first definition too (the columns
-- are NOT NULL), but a limit or a period may now be a number instead of a rule parameter and the
-- specimens are more: the definition's checks live on the _def tables.
ALTER TABLE fmtbank.screening_test DROP CONSTRAINT screening_test_specimen_check,
    DROP CONSTRAINT screening_test_check1;
ALTER TABLE fmtbank.question_item DROP CONSTRAINT question_item_check;

-- The daemon carries out the changes whose time has come in every pass: a test made required
-- opens its catalog case then (the code set replaces this placeholder).
CREATE FUNCTION fmtbank.sweep_catalog() RETURNS TABLE (what text, n bigint)
LANGUAGE sql AS $$ SELECT NULL::text, NULL::bigint WHERE false $$;
SELECT fmtbank.sweep_register('catalog', 'fmtbank.sweep_catalog()', 5,
                              'catalog changes taking effect (a newly required test holds untested stock)');

GRANT SELECT ON fmtbank.catalog_version, fmtbank.screening_test_def, fmtbank.question_item_def
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
