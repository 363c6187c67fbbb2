/* report_find.c: where report definitions live. The reports directories are $FMTBANK_REPORTS (a
 * ':'-separated list) or the installed reports/ (common/paths.c); the first directory holding a
 * name wins, so a site overrides a shipped report by name. Also "report list". */
#include "report/report.h"
#include "report/report_int.h"
#include "common/json.h"
#include "common/paths.h"
#include "common/util.h"

#include <dirent.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char **
report_dirs(void)
{
    char *list = paths_data_dir("reports");
    size_t n = 0;
    char **dirs = xcalloc(strlen(list) + 2, sizeof(char *));
    char *save = NULL;
    for (char *d = strtok_r(list, ":", &save); d; d = strtok_r(NULL, ":", &save))
        if (*d)
            dirs[n++] = xstrdup(d);
    free(list);
    return dirs;
}

void
report_dirs_free(char **dirs)
{
    for (size_t i = 0; dirs && dirs[i]; i++)
        free(dirs[i]);
    free(dirs);
}

static bool
file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Loads report `name` from the first directory that has NAME.report. */
struct report_def *
report_find_def(const char *name, struct fb_error *err)
{
    struct report_def *def = NULL;
    char **dirs = report_dirs();
    bool found = false;
    for (size_t i = 0; report_name_valid(name) && dirs[i] && !found; i++) {
        char *p = xasprintf("%s/%s.report", dirs[i], name);
        if (file_exists(p)) {
            found = true;
            def = report_def_load(dirs[i], name, err);
        }
        free(p);
    }
    if (!found) {
        fb_error_set(err, FB_ERR_NOTFOUND, "report \"%s\" not found", name);
        fb_error_hint(err, "Run \"fmtbank report list\" for the reports defined here.");
    }
    report_dirs_free(dirs);
    return def;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of every definition, sorted, each once (the first directory holding a name wins). */
char **
report_all_names(size_t *count)
{
    char **dirs = report_dirs();
    char **names = NULL;
    size_t n = 0;
    for (size_t i = 0; dirs[i]; i++) {
        DIR *d = opendir(dirs[i]);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            size_t len = strlen(e->d_name);
            if (len <= 7 || strcmp(e->d_name + len - 7, ".report") != 0)
                continue;
            char *name = xstrndup(e->d_name, len - 7);
            bool dup = !report_name_valid(name);
            for (size_t k = 0; k < n && !dup; k++)
                dup = strcmp(names[k], name) == 0;
            if (dup) {
                free(name);
                continue;
            }
            names = xrealloc(names, (n + 1) * sizeof(char *));
            names[n++] = name;
        }
        closedir(d);
    }
    report_dirs_free(dirs);
    if (n > 1)
        qsort(names, n, sizeof(char *), cmp_str);
    *count = n;
    return names;
}

void
report_names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

int
report_list_json(struct strbuf *json, FILE *errout)
{
    size_t n;
    char **names = report_all_names(&n);
    int bad = 0;
    bool first = true;
    strbuf_addch(json, '[');
    for (size_t i = 0; i < n; i++) {
        struct fb_error e = {0};
        struct report_def *def = report_find_def(names[i], &e);
        if (!def) {
            fprintf(errout, "fmtbank: warning: report \"%s\" is left out: %s\n", names[i],
                    e.message ? e.message : "it does not parse");
            fb_error_clear(&e);
            bad++;
            continue;
        }
        struct strbuf sheets = STRBUF_INIT, pars = STRBUF_INIT;
        for (size_t s = 0; s < def->nsheets; s++)
            strbuf_addf(&sheets, "%s%s", s ? ", " : "", def->sheets[s].name);
        for (size_t k = 0; k < def->nparams; k++) {
            const struct report_param *p = &def->params[k];
            strbuf_addf(&pars, "%s%s (%s%s%s%s", k ? ", " : "", p->name, cell_type_name(p->type),
                        p->required ? ", required" : "", p->def ? ", default " : "",
                        p->def ? p->def : "");
            if (p->min && p->max)
                strbuf_addf(&pars, ", %s to %s", p->min, p->max);
            else if (p->min)
                strbuf_addf(&pars, ", at least %s", p->min);
            else if (p->max)
                strbuf_addf(&pars, ", at most %s", p->max);
            strbuf_addch(&pars, ')');
        }
        char *copy = xstrdup(def->layout_file);
        strbuf_adds(json, first ? "{" : ",{");
        first = false;
        strbuf_adds(json, "\"name\":");
        json_add_string(json, def->name);
        strbuf_adds(json, ",\"title\":");
        json_add_string(json, def->title);
        strbuf_adds(json, ",\"sheets\":");
        json_add_string(json, sheets.buf ? sheets.buf : "");
        strbuf_adds(json, ",\"parameters\":");
        json_add_string(json, pars.buf ? pars.buf : "");
        strbuf_adds(json, ",\"description\":");
        json_add_string(json, def->description ? def->description : "");
        strbuf_adds(json, ",\"directory\":");
        json_add_string(json, dirname(copy));
        strbuf_addch(json, '}');
        free(copy);
        strbuf_release(&sheets);
        strbuf_release(&pars);
        report_def_free(def);
    }
    strbuf_addch(json, ']');
    report_names_free(names, n);
    return bad;
}
