/* fmtbankd.c: main() of the batch daemon. */
#include "daemon/daemon.h"

int
main(int argc, char **argv)
{
    return daemon_main(argc, argv);
}
