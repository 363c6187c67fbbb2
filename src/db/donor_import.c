/* donor_import.c: staging, validation and identifiers of a donor CSV import. */
#include "db/donor_import.h"

const struct import_spec donor_import_spec = {
    "code,birth_year,sex",
    "SELECT fmtbank.donor_import_begin()",
    "COPY fmtbank_stage.donor_stage (line, code, birth_year, sex) FROM STDIN",
    "SELECT line, message, code FROM fmtbank.donor_import_stage()",
};
