/* donor_import.h: the "donor import" CSV format (code,birth_year,sex), shared by the CLI and the
 * daemon's inbox. */
#ifndef FMTBANK_DONOR_IMPORT_H
#define FMTBANK_DONOR_IMPORT_H
#include "db/import.h"

extern const struct import_spec donor_import_spec;

#endif
