/* cell.c: PostgreSQL text output → spreadsheet cell values, and Excel's naming limits. Hand-made
 * parsers rather than sscanf/strptime: they run once per cell of million-row reports, and must
 * reject anything Excel would misread rather than guess. */
#include "report/cell.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

static bool
leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
cell_parse_datetime(const char *s, bool with_time, struct cell_datetime *out)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s;
    memset(out, 0, sizeof(*out));
    /* Years of five or more digits exist in PostgreSQL but not in Excel (max 9999). */
    int y = digits(&p, 4);
    if (y < 1900 || *p++ != '-')
        return -1;
    int m = digits(&p, 2);
    if (m < 1 || m > 12 || *p++ != '-')
        return -1;
    int d = digits(&p, 2);
    if (d < 1 || d > mdays[m - 1] + (m == 2 && leap(y)))
        return -1;
    out->year = y;
    out->month = m;
    out->day = d;
    if (*p == '\0')
        return 0;
    if (!with_time || (*p != ' ' && *p != 'T'))
        return -1;
    p++;
    int h = digits(&p, 2);
    if (h < 0 || h > 23 || *p++ != ':')
        return -1;
    int mi = digits(&p, 2);
    if (mi < 0 || mi > 59)
        return -1;
    double sec = 0;
    if (*p == ':') {
        p++;
        int si = digits(&p, 2);
        if (si < 0 || si > 60)
            return -1;
        sec = si;
        if (*p == '.') {
            double scale = 0.1;
            p++;
            if (*p < '0' || *p > '9')
                return -1;
            /* Digits past the nanosecond are checked but not added: summed in floating point,
             * a long run of nines would round up into the next second. */
            for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
                if (scale > 1e-10)
                    sec += (*p - '0') * scale;
        }
    }
    /* An offset ("+01", "-05:30", "+05:45:00") or nothing; a BC suffix is refused. */
    if (*p == '+' || *p == '-') {
        char sign = *p++;
        int oh = digits(&p, 2), om = 0;
        if (oh < 0)
            return -1;
        for (int k = 0; *p == ':'; k++) {
            p++;
            int x = digits(&p, 2);
            if (x < 0)
                return -1;
            if (k == 0)
                om = x;
        }
        snprintf(out->offset, sizeof(out->offset), "%c%02u:%02u", sign, (unsigned)oh % 100u,
                 (unsigned)om % 100u);
    }
    if (*p != '\0')
        return -1;
    out->hour = h;
    out->min = mi;
    out->sec = sec;
    return 0;
}

int
cell_parse_number(const char *s, double *out)
{
    /* strtod would accept "nan", "inf" and hexadecimal; PostgreSQL's numbers never look so,
     * except NaN and Infinity, which Excel cannot hold. */
    if (!s || !*s || strpbrk(s, "nNiIxX"))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int
cell_parse_bool(const char *s, bool *out)
{
    if (strcmp(s, "t") == 0 || strcmp(s, "true") == 0)
        *out = true;
    else if (strcmp(s, "f") == 0 || strcmp(s, "false") == 0)
        *out = false;
    else
        return -1;
    return 0;
}

size_t
cell_utf8_prefix(const char *s, size_t max_chars)
{
    size_t i = 0, n = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (n == max_chars)
                break;
            n++;
        }
    }
    return i;
}

size_t
cell_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

const char *
cell_sheet_name_problem(const char *name)
{
    size_t n = cell_utf8_len(name);
    if (n == 0)
        return "it is empty";
    if (n > 31)
        return "it is longer than 31 characters";
    if (strpbrk(name, "[]:*?/\\"))
        return "it contains one of []:*?/\\";
    if (name[0] == '\'' || name[strlen(name) - 1] == '\'')
        return "it begins or ends with an apostrophe";
    return NULL;
}

void
cell_row_label(int row, char *buf)
{
    char tmp[8];
    int n = 0;
    if (row < 1) {
        strcpy(buf, "?");
        return;
    }
    while (row > 0 && n < 7) {
        row--;
        tmp[n++] = (char)('A' + row % 26);
        row /= 26;
    }
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
}
