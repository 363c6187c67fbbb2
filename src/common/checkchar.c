/* checkchar.c: ISO/IEC 7064 MOD 37-2, as domain.md gives it. */
#include "common/checkchar.h"

#include <string.h>

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";

static int
char_value(char c)
{
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

static char
compute_n(const char *s, size_t n)
{
    int acc = 0;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-')
            continue;
        int v = char_value(s[i]);
        if (v < 0)
            return '\0';
        acc = ((acc + v) * 2) % 37;
        used++;
    }
    if (used == 0)
        return '\0';
    return alphabet[(38 - acc) % 37];
}

char
checkchar_compute(const char *s)
{
    return compute_n(s, strlen(s));
}

bool
checkchar_valid(const char *id)
{
    size_t n = strlen(id);
    if (n < 2)
        return false;
    char want = compute_n(id, n - 1);
    return want != '\0' && want == id[n - 1];
}
