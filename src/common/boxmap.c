/* boxmap.c: rendering of the box map for "fmtbank location show". Pure text; colour follows the
 * NO_COLOR convention (https://no-color.org) and is only used on a terminal. */
#include "common/boxmap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct state_style {
    char code;
    const char *name;
    const char *sgr; /* colour when colour is wanted */
};

static const struct state_style styles[] = {
    {'Q', "quarantine", "\033[33m"},      {'R', "released", "\033[32m"},
    {'C', "recalled", "\033[1;31m"},      {'X', "expired", "\033[35m"},
    {'S', "retained sample", "\033[36m"}, {'I', "issued", "\033[34m"},
    {'D', "discarded", "\033[90m"},       {'?', "unknown", "\033[1;37;41m"},
    {BOXMAP_FREE, "free", "\033[2m"},
};

#define NSTYLES (sizeof(styles) / sizeof(styles[0]))
#define SGR_RESET "\033[0m"

char
boxmap_code(const char *status, bool retained)
{
    if (!status)
        return '?';
    /* The retained sample is shown as such unless it has left the normal stock. */
    if (retained && (strcmp(status, "quarantine") == 0 || strcmp(status, "released") == 0))
        return 'S';
    static const struct {
        const char *status;
        char code;
    } map[] = {{"quarantine", 'Q'}, {"released", 'R'}, {"recalled", 'C'},
               {"expired", 'X'},    {"issued", 'I'},   {"discarded", 'D'}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(status, map[i].status) == 0)
            return map[i].code;
    return '?';
}

static const struct state_style *
style_for(char code)
{
    for (size_t i = 0; i < NSTYLES; i++)
        if (styles[i].code == code)
            return &styles[i];
    return &styles[NSTYLES - 2]; /* '?' */
}

static void
cell(struct strbuf *out, char code, bool colour)
{
    if (colour) {
        strbuf_adds(out, style_for(code)->sgr);
        strbuf_addch(out, code);
        strbuf_adds(out, SGR_RESET);
    } else {
        strbuf_addch(out, code);
    }
}

void
boxmap_render(struct strbuf *out, int rows, int cols, const char *codes, bool colour)
{
    strbuf_adds(out, "   ");
    for (int c = 1; c <= cols; c++)
        strbuf_addf(out, "%3d", c);
    strbuf_addch(out, '\n');
    for (int r = 0; r < rows; r++) {
        strbuf_addf(out, " %c ", 'A' + r);
        for (int c = 0; c < cols; c++) {
            strbuf_adds(out, "  ");
            cell(out, codes[r * cols + c], colour);
        }
        strbuf_addch(out, '\n');
    }
    /* Legend: the letters that occur, in the fixed order of the table. */
    bool first = true;
    size_t n = (size_t)rows * (size_t)cols;
    for (size_t i = 0; i < NSTYLES; i++) {
        if (!memchr(codes, styles[i].code, n))
            continue;
        strbuf_adds(out, first ? "\n" : "  ");
        cell(out, styles[i].code, colour);
        strbuf_addf(out, " %s", styles[i].name);
        first = false;
    }
    if (!first)
        strbuf_addch(out, '\n');
}

bool
boxmap_colour_wanted(int fd)
{
    const char *no = getenv("NO_COLOR");
    return isatty(fd) && (no == NULL || no[0] == '\0');
}
