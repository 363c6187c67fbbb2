/* reading_import.h: freezer temperature readings as CSV (freezer,at,temp_c), the format that
 * monitoring systems export into fmtbankd's inbox. Validation and storage are
 * fmtbank.reading_import_stage() (schema/code/110_freezer.sql). */
#ifndef FMTBANK_READING_IMPORT_H
#define FMTBANK_READING_IMPORT_H
#include "db/import.h"

extern const struct import_spec reading_import_spec;

#endif
