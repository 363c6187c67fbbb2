-- 131_specimen: a result may name the aliquot it was tested on (product.md §12 "Specimen";
-- "fmtbank result add --specimen ALIQUOT"), typically a lot's retained sample tested for a test
-- added later. The specimen is the donor's, and its collection day is its lot's.
ALTER TABLE fmtbank.result ADD COLUMN specimen uuid REFERENCES fmtbank.aliquot;
CREATE INDEX result_specimen ON fmtbank.result (specimen) WHERE specimen IS NOT NULL;
-- result_add takes the specimen (code set, 012).
DROP FUNCTION fmtbank.result_add(text, text, text, text, text, text);
