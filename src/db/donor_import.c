/* donor_import.c: staging, validation and identifiers of a donor CSV import. */
#include "db/donor_import.h"

const struct import_spec donor_import_spec = {
    "CREATE TEMP TABLE donor_stage (line bigint GENERATED ALWAYS AS IDENTITY, code text,"
    " birth_year text, sex text) ON COMMIT DROP",
    "COPY pg_temp.donor_stage (code, birth_year, sex) FROM STDIN WITH (FORMAT csv, HEADER MATCH)",
    "SELECT line, message FROM fmtbank.donor_import_stage()",
    "SELECT upper(btrim(code)) FROM pg_temp.donor_stage ORDER BY line",
    NULL, /* writes no results: the audit chain's lock alone, taken by its trigger */
};
