/* fuzz_options.c: the option layer every command and fmtbankd use, over an argv made of the
 * input's lines. Invariants: on success every positional and every value points into argv, a
 * declared choice, the required option and the positional count hold, a flag is only set when
 * given and its partner too; a refusal is a usage error with a message. */
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

    static const struct opt_spec specs[] = {
        {"name", 'n', OPT_STRING, "N", .help = "a name", .choices = "a|bb"},
        {"force", 0, OPT_FLAG, NULL, .help = "force", .with = "name"},
        {"verbose", 'v', OPT_FLAG, NULL, .help = "verbose"},
        {"id", 'i', OPT_MULTI, "ID", .help = "ids"},
        {"out", 'o', OPT_STRING, "FILE", .help = "output", .flags = OPT_REQUIRED},
        {0}};
    static const struct opt_pos pos = {"ARG...", 1, 4, "ARG"};
    struct opt_values v;
    struct fb_error err = {0};
    int rc = opts_parse(argc, argv, 1, specs, &pos, &v, &err);
    if (rc == 0) {
        const char *str = opt_get(&v, "name"), *out = opt_get(&v, "out");
        bool flag = opt_has(&v, "force"), verbose = opt_has(&v, "verbose");
        const struct opt_list *multi = opt_all(&v, "id");
        CHECK(err.message == NULL);
        CHECK(v.pos.n >= 1 && v.pos.n <= 4);
        for (size_t i = 0; i < v.pos.n; i++)
            CHECK(in_argv(v.pos.items[i], argc, argv));
        for (size_t i = 0; i < multi->n; i++)
            CHECK(in_argv(multi->items[i], argc, argv));
        CHECK(v.pos.n + multi->n + (str != NULL) + flag + verbose + 1 <= (size_t)argc - 1);
        CHECK(out && in_argv(out, argc, argv));
        if (str)
            CHECK(in_argv(str, argc, argv) &&
                  (strcmp(str, "a") == 0 || strcmp(str, "bb") == 0));
        CHECK(!flag || str); /* --force goes with --name */
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
    opt_values_free(&v);
    free(text);
    return 0;
}
