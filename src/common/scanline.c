/* scanline.c: the scan-line parser. It mirrors the shapes fmtbank.id_kind() and fmtbank.scan()
 * recognise, with the same messages, so a misread is answered at once without a round trip. */
#include "common/scanline.h"
#include "common/text.h"
#include "common/checkchar.h"
#include "common/idtext.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const mode_names[] = {"store", "retrieve", "audit", "issue"};

const char *
scan_mode_name(enum scan_mode m)
{
    return mode_names[m];
}

bool
scan_mode_parse(const char *s, enum scan_mode *m)
{
    for (int i = 0; i < (int)(sizeof(mode_names) / sizeof(mode_names[0])); i++)
        if (strcasecmp(s, mode_names[i]) == 0) {
            *m = (enum scan_mode)i;
            return true;
        }
    return false;
}

static bool
all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static bool
is_check(char c)
{
    return isdigit((unsigned char)c) || (c >= 'A' && c <= 'Z') || c == '*';
}

/* The kind of ID s has the shape of (before its check character is verified), or NULL. */
static const char *
id_shape(const char *s, enum scan_kind *kind)
{
    size_t n = strlen(s);
    if (n == 6 && s[0] == 'F' && all_digits(s + 1, 4) && is_check(s[5])) {
        *kind = SCAN_FREEZER;
        return "freezer";
    }
    if (n == 8 && s[0] == 'B' && all_digits(s + 1, 6) && is_check(s[7])) {
        *kind = SCAN_BOX;
        return "box";
    }
    if (n == 10 && s[0] == 'L' && all_digits(s + 1, 8) && is_check(s[9])) {
        *kind = SCAN_LOT;
        return "lot";
    }
    if (n == 14 && s[0] == 'L' && all_digits(s + 1, 8) && s[9] == '-' && all_digits(s + 10, 3) &&
        is_check(s[13])) {
        *kind = SCAN_ALIQUOT;
        return "aliquot";
    }
    return NULL;
}

static void
invalid(struct scan_line *out, const char *detail, const char *hint, const char *fmt,
        const char *arg)
{
    out->kind = SCAN_INVALID;
    snprintf(out->message, sizeof(out->message), fmt, arg);
    out->detail = detail;
    out->hint = hint;
}

const char *
scanline_unreadable(const char *line, size_t len)
{
    if (memchr(line, '\0', len))
        return "a NUL byte";
    for (size_t i = 0; i < len;) {
        size_t n = text_utf8_len(line + i, len - i);
        if (n == 0)
            return "invalid UTF-8";
        i += n;
    }
    return NULL;
}

void
scanline_parse(const char *line, struct scan_line *out)
{
    scanline_parse_n(line, strlen(line), out);
}

void
scanline_parse_n(const char *line, size_t len, struct scan_line *out)
{
    memset(out, 0, sizeof(*out));
    const char *b = line, *e = line + len;
    const char *bad = scanline_unreadable(line, len);
    if (bad) {
        out->kind = SCAN_INVALID;
        snprintf(out->message, sizeof(out->message), "unreadable scan (%s)", bad);
        out->hint = "Scan again; check the scanner's configuration if it persists.";
        return;
    }
    while (b < e && isspace((unsigned char)*b))
        b++;
    while (e > b && isspace((unsigned char)e[-1]))
        e--;
    size_t n = (size_t)(e - b);
    if (n == 0) {
        out->kind = SCAN_EMPTY;
        return;
    }
    if (n > SCANLINE_MAX) {
        char shown[41];
        snprintf(shown, sizeof(shown), "%.40s", b);
        invalid(out, NULL, "A scan is one ID per line.", "unrecognised scan \"%s\" (too long)",
                shown);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c < 0x20 || c == 0x7f) {
            out->kind = SCAN_INVALID;
            snprintf(out->message, sizeof(out->message), "unreadable scan (control character)");
            out->hint = "Scan again; check the scanner's configuration if it persists.";
            return;
        }
        out->text[i] = (char)toupper(c);
    }
    out->text[n] = '\0';
    /* an ID copied from a table or a label ("L26000001-001 ·1") is the plain ID */
    idtext_plain(out->text);
    const char *t = out->text;

    if (strcmp(t, "END") == 0) {
        out->kind = SCAN_END;
        return;
    }
    if (strncmp(t, "MODE", 4) == 0 && (t[4] == ' ' || t[4] == '\t' || t[4] == '\0')) {
        const char *w = t + 4;
        while (*w == ' ' || *w == '\t')
            w++;
        if (!scan_mode_parse(w, &out->mode)) {
            char lower[SCANLINE_MAX + 1];
            size_t k = 0;
            for (; w[k]; k++)
                lower[k] = (char)tolower((unsigned char)w[k]);
            lower[k] = '\0';
            invalid(out, NULL, "Scan MODE store, MODE retrieve or MODE audit.",
                    "invalid scan mode \"%s\"", lower);
            return;
        }
        out->kind = SCAN_MODE;
        return;
    }

    enum scan_kind kind;
    const char *what = id_shape(t, &kind);
    if (what) {
        if (!checkchar_valid(t)) {
            out->kind = SCAN_INVALID;
            snprintf(out->message, sizeof(out->message), "invalid check character in %s ID \"%s\"",
                     what, t);
            out->detail = "The ID was mistyped or misread; scan or type it again.";
            return;
        }
        out->kind = kind;
        if (kind == SCAN_LOT || kind == SCAN_FREEZER) {
            snprintf(out->message, sizeof(out->message),
                     "\"%s\" is a %s ID, not a box, position or tube", t, what);
            out->hint = "Scan a box, a position (e.g. C4) or the label of a tube.";
        }
        return;
    }

    if (n >= 2 && n <= 3 && t[0] >= 'A' && t[0] <= 'Z' && all_digits(t + 1, n - 1)) {
        int col = t[1] - '0';
        if (n == 3)
            col = col * 10 + (t[2] - '0');
        if (col > 0) {
            out->kind = SCAN_POSITION;
            out->row = t[0] - 'A' + 1;
            out->col = col;
            return;
        }
        invalid(out, NULL, "A position is a row letter and a column number, e.g. C4.",
                "invalid position \"%s\"", t);
        return;
    }
    invalid(out, NULL,
            "Scan a box, a position (e.g. C4), a tube, MODE store|retrieve|audit, or END.",
            "unrecognised scan \"%s\"", t);
}
