/* donor_import.c: staging, validation and identifiers of a donor CSV import. The consent columns
 * are optional: a file has all four of them or none (schema/code/002_donor.sql validates them). */
#include "db/donor_import.h"

const struct import_spec donor_import_spec = {
    "code,birth_year,sex",
    "SELECT fmtbank.donor_import_begin()",
    "COPY fmtbank_stage.donor_stage (line, code, birth_year, sex, consent_version, consent_signed,"
    " consent_scope, consent_document) FROM STDIN",
    "SELECT line, message, code FROM fmtbank.donor_import_stage()",
    NULL, /* writes no results: the audit chain's lock alone, taken by its trigger */
    "consent_version,consent_signed,consent_scope,consent_document",
};
