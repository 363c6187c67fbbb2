/* log.h: levelled, timestamped log lines on stderr (the daemon's; systemd and Docker capture them). */
#ifndef FMTBANK_LOG_H
#define FMTBANK_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERROR };

void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
