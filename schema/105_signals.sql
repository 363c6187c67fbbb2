-- 105_signals: the data the other safety signals need (product.md §11.1-11.3, domain.md).
-- Parameters: the post-donation health check, donation entry and freezer temperature. Catalog
-- items gain lookback_days (how far before an item's date, or before the previous questionnaire
-- of that kind, a lot is affected when the answer arrives after a donation). A third kind of
-- questionnaire, the follow-up after a donation (--followup), and the time of a questionnaire
-- (--time HH:MM; 00:00 for the donation day's interview).

SELECT fmtbank.rule_param_define('followup_min_days', 28, 'days', 0, 3650, true,
    'the post-donation health check (a follow-up or full questionnaire) is dated at least this long after collection',
    'FDA SARS-CoV-2 protections for FMT, 2020 [FDA20b] (4 weeks)');
SELECT fmtbank.rule_param_define('duplicate_donation_minutes', 60, 'minutes', 0, 1440, true,
    'a second donation of a donor this close to another is a probable duplicate',
    'site choice (domain.md)');
SELECT fmtbank.rule_param_define('max_entry_hours', 24, 'hours', 0, 720, false,
    'a donation entered later than this after its collection needs a reason',
    'site choice: contemporaneous records (domain.md)');
SELECT fmtbank.rule_param_define('excursion_margin_c', 20, 'degrees C', 0, 100, false,
    'a freezer''s limit is its set temperature plus this (-60 C for a -80 C freezer)',
    'site choice: common biobank alarm setting (domain.md)');
SELECT fmtbank.rule_param_define('excursion_max_minutes', 30, 'minutes', 0, 10080, true,
    'readings above the limit for longer than this are an excursion', 'site choice (domain.md)');
SELECT fmtbank.rule_param_define('reading_gap_minutes', 60, 'minutes', 1, 10080, true,
    'a longer gap between readings of a monitored freezer is an excursion', 'site choice (domain.md)');
SELECT fmtbank.rule_param_define('reading_grace_minutes', 120, 'minutes', 0, 10080, true,
    'readings are judged this long after the fact (monitoring systems export in batches)',
    'site choice (domain.md)');

SELECT fmtbank.rule_param_define(format('defer_days.%s', x.code), x.days, 'days', 0, 3650, true,
                                 format('deferral after a yes on the follow-up questionnaire: %s', x.what),
                                 'domain.md follow-up questionnaire')
FROM (VALUES ('followup_gi_symptoms', 28, 'gastrointestinal symptoms', 1),
             ('followup_fever', 28, 'fever', 2),
             ('followup_covid_symptoms_or_contact', 28, 'COVID-19 symptoms or contact', 3),
             ('followup_mpox_symptoms_or_contact', 21, 'mpox symptoms or contact', 4),
             ('followup_antibiotics', 90, 'antibiotics', 5),
             ('followup_hospitalisation', 180, 'hospitalisation', 6),
             ('followup_travel', 180, 'travel', 7)) AS x(code, days, what, n)
ORDER BY x.n;

ALTER TABLE fmtbank.question_item
    DROP CONSTRAINT question_item_questionnaire_check,
    ADD CONSTRAINT question_item_questionnaire_check
        CHECK (questionnaire IN ('full', 'short', 'followup')),
    ADD COLUMN lookback_days integer NOT NULL DEFAULT 0 CHECK (lookback_days BETWEEN 0 AND 3650);
UPDATE fmtbank.question_item SET lookback_days = 28 WHERE code IN ('covid_last', 'mpox_exposure_last');

INSERT INTO fmtbank.question_item (code, questionnaire, type, effect, text, defer_param, lookback_days,
                                   source, sort_order)
VALUES
 ('followup_gi_symptoms', 'followup', 'boolean', 'defer',
  'Since your donation, have you had diarrhoea, vomiting or other gastrointestinal symptoms?',
  'defer_days.followup_gi_symptoms', 0, 'domain.md follow-up questionnaire', 700),
 ('followup_fever', 'followup', 'boolean', 'defer', 'Since your donation, have you had a fever?',
  'defer_days.followup_fever', 0, 'domain.md follow-up questionnaire', 710),
 ('followup_covid_symptoms_or_contact', 'followup', 'boolean', 'defer',
  'Since your donation, have you had COVID-19 symptoms, a positive test or a close contact?',
  'defer_days.followup_covid_symptoms_or_contact', 28, 'domain.md; FDA20b', 720),
 ('followup_mpox_symptoms_or_contact', 'followup', 'boolean', 'defer',
  'Since your donation, have you had mpox symptoms or a close contact?',
  'defer_days.followup_mpox_symptoms_or_contact', 28, 'domain.md; FDA22', 730),
 ('followup_antibiotics', 'followup', 'boolean', 'defer', 'Since your donation, have you taken antibiotics?',
  'defer_days.followup_antibiotics', 0, 'domain.md follow-up questionnaire', 740),
 ('followup_hospitalisation', 'followup', 'boolean', 'defer',
  'Since your donation, have you been admitted to hospital or a care facility?',
  'defer_days.followup_hospitalisation', 0, 'domain.md follow-up questionnaire', 750),
 ('followup_travel', 'followup', 'boolean', 'defer', 'Since your donation, have you travelled abroad?',
  'defer_days.followup_travel', 0, 'domain.md follow-up questionnaire', 760);

ALTER TABLE fmtbank.questionnaire
    DROP CONSTRAINT questionnaire_kind_check,
    ADD CONSTRAINT questionnaire_kind_check CHECK (kind IN ('full', 'short', 'followup')),
    ADD COLUMN q_time time NOT NULL DEFAULT '00:00';

-- questionnaire_record takes the kind (full, short, followup) and the time (code set, 011).
DROP FUNCTION fmtbank.questionnaire_record(text, text, boolean, jsonb);
