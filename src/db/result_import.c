/* result_import.c: the import_spec of screening results. Each result gets its ID when validated
 * (fmtbank.result_stage_validate); the stage function returns them in file order. */
#include "db/result_import.h"

const struct import_spec result_import_spec = {
    "donor,test,collected,result,unit,lab",
    "SELECT fmtbank.result_import_begin()",
    "COPY fmtbank_stage.result_stage (line, donor, test, collected, result, unit, lab) FROM STDIN",
    "SELECT line, message, id FROM fmtbank.result_import_stage()",
    "SELECT fmtbank.write_lock()",
    NULL,
};
