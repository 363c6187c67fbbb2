/* checkchar.h: ISO/IEC 7064 MOD 37-2 check characters (the ISBT 128 scheme) for every scanned ID. */
#ifndef FMTBANK_CHECKCHAR_H
#define FMTBANK_CHECKCHAR_H
#include <stdbool.h>

/* Check character for the characters of s (separators '-' ignored); '\0' if s has a character
 * outside 0-9, A-Z, '*'. */
char checkchar_compute(const char *s);
/* True when the last character of id is the check character of the characters before it. */
bool checkchar_valid(const char *id);

#endif
