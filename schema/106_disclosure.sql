-- 106_disclosure: a questionnaire answer recorded after a donation that reveals an event near it
-- opens a case (source disclosure, or followup for the follow-up questionnaire) on the lots it
-- concerns (product.md §11.0). The case names the questionnaire and the item that opened it, so a
-- questionnaire recorded again without that answer withdraws the signal (lift proposed).
ALTER TABLE fmtbank.safety_case
    ADD COLUMN questionnaire_id uuid REFERENCES fmtbank.questionnaire,
    ADD COLUMN item text REFERENCES fmtbank.question_item,
    ADD CONSTRAINT safety_case_answer CHECK (source NOT IN ('disclosure', 'followup')
        OR (questionnaire_id IS NOT NULL AND item IS NOT NULL AND donor_id IS NOT NULL));
CREATE INDEX safety_case_questionnaire ON fmtbank.safety_case (questionnaire_id)
    WHERE questionnaire_id IS NOT NULL;
