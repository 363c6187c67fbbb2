/* fmtbank.c: main() of the CLI; everything else is in the command table (src/cmd/). */
#include "cmd/cmd.h"

#include <locale.h>

int
main(int argc, char **argv)
{
    setlocale(LC_CTYPE, "");
    return cmd_main(argc, argv);
}
