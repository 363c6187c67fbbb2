/* options.h: options declared once, in a table, and everything derived from that table: parsing
 * (long options, "--name=value" or "--name value", one-letter aliases, repeatable options, "--"
 * ends the options), the "missing --X" and "invalid value" refusals, the positional count check,
 * the usage line and the option list of --help. fmtbank's commands (src/cmd/cmd.h) and fmtbankd's
 * command line and configuration keys (src/daemon/config.c) both use it.
 *
 * One option is one line:
 *     {"until", 0, OPT_STRING, "DATE", .help = "the first day it no longer applies",
 *      .flags = OPT_REQUIRED},
 *     {"status", 0, OPT_STRING, "S", .help = "only lots in this state", .choices = "open|held"},
 *     {"output", 'o', OPT_STRING, "FILE.xlsx", .help = "the workbook to write"},
 * (designated from .help on: what is left out is 0 or NULL). OPT_STRING: the last one given
 * wins; OPT_FLAG: given or not; OPT_MULTI: every value, in order.
 * and the positionals of a command are one struct opt_pos: {"CODE", 1, 1, "donor CODE"}. */
#ifndef FMTBANK_OPTIONS_H
#define FMTBANK_OPTIONS_H
#include "common/error.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum opt_type { OPT_STRING, OPT_FLAG, OPT_MULTI };

#define OPT_REQUIRED 0x1 /* "missing --X" unless given */
#define OPT_KEY 0x2      /* fmtbankd: also a configuration file key (name with '_' for '-') */

struct opt_spec {
    const char *name;       /* long name without dashes */
    char short_name;        /* 0 if none; shown instead of the long name in the usage line */
    enum opt_type type;     /* OPT_STRING (the last one given wins), OPT_FLAG, OPT_MULTI */
    const char *value_name; /* "DATE"; NULL for a flag */
    const char *help;       /* one line for the option list */
    unsigned flags;         /* OPT_REQUIRED, OPT_KEY */
    const char *choices;    /* "a|b|c": the only values accepted; NULL: any */
    const char *with;       /* another option that must be given with this one, or NULL */
    const char *def;        /* the default value, shown in the help (fmtbankd applies it) */
};

#define OPT_ANY ((size_t)-1)

/* The positional arguments: how the usage line shows them ("CODE", "ID...", "[NAME]"), how many
 * (max OPT_ANY: no limit) and what "missing ..." names when there are too few ("donor CODE"). */
struct opt_pos {
    const char *usage;
    size_t min, max;
    const char *what;
};

struct opt_list {
    const char **items;
    size_t n;
};

struct opt_args {
    char **items;
    size_t n;
};

/* What opts_parse found: every value of each option, in table order, and the positionals. */
struct opt_values {
    const struct opt_spec *specs;
    struct opt_list *vals;
    struct opt_args pos;
};

/* Parses argv[first..argc-1] against specs (terminated by a zero entry; NULL: no options), then
 * checks the choices, the required options, the options that go together and, unless pos is
 * NULL, the positional count. Returns 0, or -1 with a usage error in err; out is to be freed
 * with opt_values_free either way. */
int opts_parse(int argc, char **argv, int first, const struct opt_spec *specs,
               const struct opt_pos *pos, struct opt_values *out, struct fb_error *err);
void opt_values_free(struct opt_values *v);

/* An option's value (the last one given) or NULL; whether it was given; all its values. Naming
 * an option the table does not declare is a programming error: the process aborts. */
const char *opt_get(const struct opt_values *v, const char *name);
bool opt_has(const struct opt_values *v, const char *name);
const struct opt_list *opt_all(const struct opt_values *v, const char *name);

/* The declaration of an option by long name, or NULL. */
const struct opt_spec *opt_find(const struct opt_spec *specs, const char *name);
/* Checks value against s->choices: 0, or -1 with 'invalid value "V" for "label"' and a hint
 * listing the choices. */
int opt_check_choice(const struct opt_spec *s, const char *label, const char *value,
                     struct fb_error *err);

/* The configuration key of an OPT_KEY option: its name with '_' for '-' (allocated). */
char *opt_key_name(const struct opt_spec *s);

/* The usage line after the program/command name: " CODE [--birth-year YEAR] --until DATE". */
char *opts_usage(const struct opt_spec *specs, const struct opt_pos *pos);
/* Prints text from column col, breaking lines at 100 columns and indenting the next ones; a
 * usage line breaks only before an option. Ends the line. */
void opts_print_wrapped(FILE *out, const char *text, size_t col, size_t indent, bool usage);
/* What the option list says of one option: its help, choices, (required), (repeatable), its
 * partner, configuration key and default (allocated). */
char *opt_describe(const struct opt_spec *s);
/* The option list of --help, one option per line (with its choices, default and partner). */
void opts_print_help(FILE *out, const struct opt_spec *specs);

#endif
