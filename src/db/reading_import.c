/* reading_import.c: the import_spec of freezer temperature readings. */
#include "db/reading_import.h"

const struct import_spec reading_import_spec = {
    "freezer,at,temp_c",
    "SELECT fmtbank.reading_import_begin()",
    "COPY fmtbank_stage.reading_stage (line, freezer, at, temp_c) FROM STDIN",
    "SELECT line, message, id FROM fmtbank.reading_import_stage()",
    NULL, /* writes no results: the audit chain's lock alone, taken by its trigger */
    NULL,
};
