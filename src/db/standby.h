/* standby.h: a streaming standby of the embedded instance in a second FMTBANK_HOME, and its
 * promotion (src/db/standby.c; README "Standby and failover"). */
#ifndef FMTBANK_STANDBY_H
#define FMTBANK_STANDBY_H
#include "common/error.h"
#include "db/embedded.h"

/* pg_basebackup -R of the primary named by from (a libpq connection string) into home/data, then
 * starts it as the embedded instance of home (sets FMTBANK_HOME to home). */
int standby_create(const char *from, const char *home, struct fb_error *err);
/* Promotes the running standby e, refused (FB_ERR_REFUSED) while its primary_conninfo answers. */
int standby_promote(struct embedded *e, struct fb_error *err);

#endif
