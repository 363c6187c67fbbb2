/* daemon.h: the batch daemon fmtbankd (options, loop). */
#ifndef FMTBANK_DAEMON_H
#define FMTBANK_DAEMON_H

int daemon_main(int argc, char **argv);

#endif
