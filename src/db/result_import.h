/* result_import.h: the staging-table import of screening results (header
 * donor,test,collected,result,unit,lab), shared by "fmtbank result import" and the daemon's inbox.
 * Validation and storage are fmtbank.result_import_stage() (schema/060_owner_stage.sql). */
#ifndef FMTBANK_RESULT_IMPORT_H
#define FMTBANK_RESULT_IMPORT_H
#include "db/import.h"

/* For import_csv(): ids_sql yields the new result IDs in file order. */
extern const struct import_spec result_import_spec;

#endif
