/* fuzz_options.c: the option parser every command and fmtbankd use, over an argv made of the
 * input's lines. Invariants: on success every positional and every value points into argv, in
 * order; a flag is only set when given; the error names the usage kind. */
#include "fuzz.h"

#include "common/options.h"
#include "common/util.h"

#define MAX_ARGS 32

static bool
in_argv(const char *p, int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (p >= argv[i] && p <= argv[i] + strlen(argv[i]))
            return true;
    return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    argv[argc++] = "prog";
    for (char *line = text, *next; line && argc < MAX_ARGS; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        argv[argc++] = line;
    }
    argv[argc] = NULL;

    const char *str = NULL;
    bool flag = false, verbose = false;
    struct opt_list multi = {0};
    const struct opt_spec specs[] = {{"name", 'n', OPT_STRING, &str},
                                     {"force", 0, OPT_FLAG, &flag},
                                     {"verbose", 'v', OPT_FLAG, &verbose},
                                     {"id", 'i', OPT_MULTI, &multi},
                                     {0}};
    struct opt_args pos = {0};
    struct fb_error err = {0};
    int rc = opts_parse(argc, argv, 1, specs, &pos, &err);
    if (rc == 0) {
        CHECK(err.message == NULL);
        CHECK(pos.n < (size_t)argc);
        for (size_t i = 0; i < pos.n; i++)
            CHECK(in_argv(pos.items[i], argc, argv));
        for (size_t i = 0; i < multi.n; i++)
            CHECK(in_argv(multi.items[i], argc, argv));
        CHECK(pos.n + multi.n + (str != NULL) + flag + verbose <= (size_t)argc - 1);
        if (str)
            CHECK(in_argv(str, argc, argv));
        bool dashdash = false;
        for (int i = 1; i < argc; i++)
            dashdash |= strcmp(argv[i], "--") == 0;
        if (flag && !dashdash) {
            bool given = false;
            for (int i = 1; i < argc; i++)
                given |= strcmp(argv[i], "--force") == 0;
            CHECK(given);
        }
    } else {
        CHECK(rc == -1);
        CHECK(err.kind == FB_ERR_USAGE && err.message != NULL);
    }
    fb_error_clear(&err);
    opt_args_free(&pos);
    opt_list_free(&multi);
    free(text);
    return 0;
}
