-- 130_wording: how laboratories write results, as data (product.md §12 "Lab wordings"). A
-- qualitative result may be written in a lab's words ("Not detected", "Reactive"): result_wording
-- maps a word (for one test, or for every qualitative test when test is NULL) to negative,
-- positive or indeterminate. A number may come in another unit: unit_equivalence converts it into
-- the test's unit (mg/kg = µg/g; mg/dL x 10 = mg/L). A censored number ("<3", ">100") is kept as
-- written with its bound as the value, and compared with the limit correctly (010
-- result_acceptable). What the lab wrote is kept beside the stored result (result.reported) when it
-- differs. Unknown wordings and units are still refused, with the line named.
CREATE TABLE fmtbank.result_wording (
    id       bigserial PRIMARY KEY,
    test     text REFERENCES fmtbank.screening_test (code),
    wording  text NOT NULL CHECK (wording = lower(btrim(wording)) AND wording <> ''
                                  AND wording NOT IN ('negative', 'positive', 'indeterminate')),
    result   text NOT NULL CHECK (result IN ('negative', 'positive', 'indeterminate')),
    source   text NOT NULL
);
CREATE UNIQUE INDEX result_wording_once ON fmtbank.result_wording (coalesce(test, ''), wording);
SELECT fmtbank.audit_enable('fmtbank.result_wording', 'id');

CREATE TABLE fmtbank.unit_equivalence (
    from_unit text NOT NULL CHECK (from_unit = lower(btrim(from_unit)) AND from_unit <> ''),
    to_unit   text NOT NULL CHECK (to_unit = lower(btrim(to_unit)) AND to_unit <> ''),
    factor    numeric NOT NULL CHECK (factor > 0),
    source    text NOT NULL,
    PRIMARY KEY (from_unit, to_unit),
    CHECK (from_unit <> to_unit)
);
SELECT fmtbank.audit_enable('fmtbank.unit_equivalence', 'from_unit');

INSERT INTO fmtbank.result_wording (test, wording, result, source) VALUES
 (NULL, 'not detected', 'negative', 'common laboratory wording'),
 (NULL, 'detected', 'positive', 'common laboratory wording'),
 (NULL, 'neg', 'negative', 'common laboratory abbreviation'),
 (NULL, 'pos', 'positive', 'common laboratory abbreviation'),
 (NULL, 'non-reactive', 'negative', 'serology wording'),
 (NULL, 'nonreactive', 'negative', 'serology wording'),
 (NULL, 'reactive', 'positive', 'serology wording'),
 (NULL, 'equivocal', 'indeterminate', 'common laboratory wording'),
 (NULL, 'inconclusive', 'indeterminate', 'common laboratory wording'),
 (NULL, 'borderline', 'indeterminate', 'common laboratory wording');

INSERT INTO fmtbank.unit_equivalence (from_unit, to_unit, factor, source) VALUES
 ('mg/kg', 'µg/g', 1, 'identity of units (faecal calprotectin)'),
 ('mg/dl', 'mg/l', 10, '1 dL = 0.1 L (C-reactive protein)');

ALTER TABLE fmtbank.result ADD COLUMN reported text;

REVOKE ALL ON fmtbank.result_wording, fmtbank.unit_equivalence FROM PUBLIC;
REVOKE ALL ON SEQUENCE fmtbank.result_wording_id_seq FROM PUBLIC;
GRANT SELECT ON fmtbank.result_wording, fmtbank.unit_equivalence
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
ALTER TABLE fmtbank_stage.result_checked ADD COLUMN reported text;
-- result_validate_one also returns what the lab wrote (code set, 012).
DROP FUNCTION fmtbank.result_validate_one(text, text, text, text, text, text, boolean);
