/* result_import.c: the import_spec of screening results. Each staged row gets its result ID as it
 * is copied in (a column default), so the IDs can be printed in file order after the commit. */
#include "db/result_import.h"

const struct import_spec result_import_spec = {
    "CREATE TEMP TABLE result_stage (line bigint GENERATED ALWAYS AS IDENTITY,"
    " id uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(), donor text, test text,"
    " collected text, result text, unit text, lab text) ON COMMIT DROP",
    "COPY pg_temp.result_stage (donor, test, collected, result, unit, lab) FROM STDIN"
    " WITH (FORMAT csv, HEADER MATCH)",
    "SELECT line, message FROM fmtbank.result_import_stage()",
    "SELECT id FROM pg_temp.result_stage ORDER BY line",
    "SELECT fmtbank.write_lock()",
};
