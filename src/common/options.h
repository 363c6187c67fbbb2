/* options.h: declarative option parsing for commands (long options, "--name=value" or
 * "--name value", one-letter aliases, repeatable options); positionals are collected in order. */
#ifndef FMTBANK_OPTIONS_H
#define FMTBANK_OPTIONS_H
#include "common/error.h"
#include <stdbool.h>
#include <stddef.h>

enum opt_type { OPT_STRING, OPT_FLAG, OPT_MULTI };

struct opt_list {
    const char **items;
    size_t n;
};

struct opt_spec {
    const char *name; /* long name without dashes */
    char short_name;  /* 0 if none */
    enum opt_type type;
    void *target; /* const char **, bool *, or struct opt_list * */
};

struct opt_args {
    char **items;
    size_t n;
};

/* Parses argv[first..argc-1]. "--" ends options. Returns 0, or -1 with a usage error in err. */
int opts_parse(int argc, char **argv, int first, const struct opt_spec *specs,
               struct opt_args *pos, struct fb_error *err);
void opt_list_free(struct opt_list *l);
void opt_args_free(struct opt_args *a);

#endif
