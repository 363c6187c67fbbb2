/* help.c: "fmtbank help": the help of fmtbank or of one command, the manual page (--man) and the
 * bash completion script (--bash-completion), all printed from the command table, so none of
 * them can drift from what the commands accept. The build writes the page and the script
 * (fmtbank.1, fmtbank.bash) and "cmake --install" installs them. */
#include "cmd/cmd.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Text for roff: backslashes doubled as \e, a leading '.' or '\'' protected, '-' as \-. */
static void
roff_text(FILE *out, const char *s, bool dashes)
{
    bool bol = true;
    for (; *s; s++) {
        if (bol && (*s == '.' || *s == '\''))
            fputs("\\&", out);
        bol = *s == '\n';
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-' && dashes)
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

static void
man_options(FILE *out, const struct opt_spec *specs)
{
    for (const struct opt_spec *s = specs; s && s->name; s++) {
        fputs(".TP\n", out);
        if (s->short_name)
            fprintf(out, "\\fB\\-%c\\fR, ", s->short_name);
        fputs("\\fB\\-\\-", out);
        roff_text(out, s->name, true);
        fputs("\\fR", out);
        if (s->value_name) {
            fputs(" \\fI", out);
            roff_text(out, s->value_name, true);
            fputs("\\fR", out);
        }
        fputc('\n', out);
        char *d = opt_describe(s);
        roff_text(out, d, false);
        fputc('\n', out);
        free(d);
    }
}

/* A --help paragraph block, kept as written (its lines are broken by hand). */
static void
man_block(FILE *out, const char *text)
{
    fputs(".PP\n.nf\n", out);
    roff_text(out, text, false);
    if (text[0] && text[strlen(text) - 1] != '\n')
        fputc('\n', out);
    fputs(".fi\n", out);
}

static void
print_man(FILE *out)
{
    fprintf(out, ".TH FMTBANK 1 \"\" \"fmtbank %s\" \"User Commands\"\n", FMTBANK_VERSION);
    fputs(".SH NAME\nfmtbank \\- donor screening and biobank inventory for a stool bank\n"
          ".SH SYNOPSIS\n.B fmtbank\n[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n"
          ".br\n.B fmtbank\n\\fICOMMAND\\fR \\fB\\-\\-help\\fR\n"
          ".SH DESCRIPTION\n"
          "fmtbank is the command line of a stool bank's donor screening and biobank inventory.\n"
          "PostgreSQL is the system of record and the rule engine: every command is carried out\n"
          "by the database, which refuses what the acting user's role may not do.\n"
          "This page is generated from the same command table that parses the commands\n"
          "(\\fBfmtbank help \\-\\-man\\fR).\n"
          ".SH GLOBAL OPTIONS\n"
          "Accepted before or after the command.\n",
          out);
    man_options(out, cmd_global_opts);
    fputs(".SH COMMANDS\n", out);
    for (size_t g = 0; g < cmd_ngroups; g++)
        for (const struct cmd_def *d = cmd_groups[g]; d->name; d++) {
            char *usage = cmd_usage(d);
            fputs(".SS \"", out);
            roff_text(out, d->name, true);
            fputs("\"\n.B ", out);
            roff_text(out, usage, true);
            fputc('\n', out);
            free(usage);
            fputs(".PP\n", out);
            roff_text(out, d->summary, false);
            fputc('\n', out);
            if (d->opts && d->opts->name) {
                fputs(".PP\nOptions:\n.RS\n", out);
                man_options(out, d->opts);
                fputs(".RE\n", out);
            }
            if (d->help)
                man_block(out, d->help);
        }
    fputs(".SH EXIT STATUS\n", out);
    char *codes = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&codes, &n);
    if (!mem)
        die("out of memory");
    fb_exit_codes_print(mem);
    fclose(mem);
    man_block(out, strchr(codes, '\n') ? strchr(codes, '\n') + 1 : codes);
    free(codes);
    fputs(".SH ENVIRONMENT\n"
          ".TP\n.B FMTBANK_DSN\nthe server to use when \\fB\\-\\-db\\fR is not given\n"
          ".TP\n.B FMTBANK_HOME\nthe embedded instance's directory\n"
          ".TP\n.B PGUSER\nthe acting user when \\fB\\-\\-user\\fR is not given\n"
          ".TP\n.B PGPASSFILE\nthe passwords file (mode 0600) libpq reads\n"
          ".TP\n.B COLUMNS\nthe width tables are fitted to at a terminal (else the terminal's)\n"
          ".SH SEE ALSO\n\\fBfmtbankd\\fR(8), \\fBpsql\\fR(1)\n",
          out);
}

/* A word list for compgen: the values of "a|b|c" separated by spaces. */
static void
add_words(struct strbuf *sb, const char *choices)
{
    for (const char *c = choices; *c; c++)
        strbuf_addch(sb, *c == '|' ? ' ' : *c);
}

/* The options' completions of one table: "--name" words, and a case arm per option that takes
 * a value (its choices, or file names). */
static void
completion_values(FILE *out, const struct opt_spec *specs, const char *indent)
{
    for (const struct opt_spec *s = specs; s && s->name; s++) {
        if (s->type == OPT_FLAG)
            continue;
        fprintf(out, "%s--%s) ", indent, s->name);
        if (s->choices) {
            struct strbuf w = STRBUF_INIT;
            add_words(&w, s->choices);
            fprintf(out, "COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return;;\n", strbuf_str(&w));
            strbuf_release(&w);
        } else {
            fputs("COMPREPLY=($(compgen -f -- \"$cur\")); return;;\n", out);
        }
    }
}

static void
print_completion(FILE *out)
{
    fputs("# bash completion for fmtbank, generated from its command table (fmtbank help "
          "--bash-completion)\n"
          "_fmtbank() {\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
          "    local commands='",
          out);
    for (size_t g = 0; g < cmd_ngroups; g++)
        for (const struct cmd_def *d = cmd_groups[g]; d->name; d++)
            fprintf(out, "%s%s", g || d != cmd_groups[0] ? "|" : "", d->name);
    fputs("'\n    local globals='", out);
    for (const struct opt_spec *s = cmd_global_opts; s->name; s++)
        fprintf(out, "%s--%s", s == cmd_global_opts ? "" : " ", s->name);
    fputs("'\n"
          "    case $prev in\n",
          out);
    completion_values(out, cmd_global_opts, "        ");
    fputs("    esac\n"
          "    # the words so far that are not options nor their values\n"
          "    local words=() i w\n"
          "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "        w=${COMP_WORDS[i]}\n"
          "        case $w in\n"
          "            --db|--user|--format|--reason) ((i++)); continue;;\n"
          "            -*) continue;;\n"
          "        esac\n"
          "        words+=(\"$w\")\n"
          "    done\n"
          "    local cmd='' n try\n"
          "    local -a list\n"
          "    IFS='|' read -r -a list <<<\"$commands\"\n"
          "    for n in 3 2 1; do\n"
          "        [ ${#words[@]} -ge $n ] || continue\n"
          "        try=\"${words[*]:0:n}\"\n"
          "        for w in \"${list[@]}\"; do [ \"$w\" = \"$try\" ] && cmd=$try && break 2; done\n"
          "    done\n"
          "    if [ -n \"$cmd\" ]; then\n"
          "        local opts=''\n"
          "        case $cmd in\n",
          out);
    for (size_t g = 0; g < cmd_ngroups; g++)
        for (const struct cmd_def *d = cmd_groups[g]; d->name; d++) {
            fprintf(out, "            '%s')\n                opts='", d->name);
            for (const struct opt_spec *s = d->opts; s && s->name; s++)
                fprintf(out, "%s--%s", s == d->opts ? "" : " ", s->name);
            fputs("'\n", out);
            bool values = false;
            for (const struct opt_spec *s = d->opts; s && s->name; s++)
                values |= s->type != OPT_FLAG;
            if (values) {
                fputs("                case $prev in\n", out);
                completion_values(out, d->opts, "                    ");
                fputs("                esac;;\n", out);
            } else {
                fputs("                ;;\n", out);
            }
        }
    fputs("        esac\n"
          "        if [[ $cur == -* ]]; then\n"
          "            COMPREPLY=($(compgen -W \"$opts $globals\" -- \"$cur\"))\n"
          "        else\n"
          "            COMPREPLY=($(compgen -f -- \"$cur\"))\n"
          "        fi\n"
          "        return\n"
          "    fi\n"
          "    # the next word of a command name\n"
          "    local prefix=\"${words[*]}\" next=''\n"
          "    for w in \"${list[@]}\"; do\n"
          "        if [ -z \"$prefix\" ]; then next+=\"${w%% *}\"$'\\n'\n"
          "        elif [[ $w == \"$prefix \"* ]]; then\n"
          "            w=${w#\"$prefix \"}; next+=\"${w%% *}\"$'\\n'\n"
          "        fi\n"
          "    done\n"
          "    if [[ $cur == -* ]]; then\n"
          "        COMPREPLY=($(compgen -W \"$globals\" -- \"$cur\"))\n"
          "    else\n"
          "        COMPREPLY=($(compgen -W \"$(sort -u <<<\"$next\")\" -- \"$cur\"))\n"
          "    fi\n"
          "}\n"
          "complete -F _fmtbank fmtbank\n",
          out);
}

static int
cmd_help(struct cmd_ctx *ctx)
{
    if (cmd_flag(ctx, "man") && cmd_flag(ctx, "bash-completion"))
        return cmd_usage_error(ctx, "--man and --bash-completion are two outputs: give one");
    if (ctx->nargs && (cmd_flag(ctx, "man") || cmd_flag(ctx, "bash-completion")))
        return cmd_usage_error(ctx, "--man and --bash-completion are for the whole of fmtbank");
    if (cmd_flag(ctx, "man")) {
        print_man(stdout);
        return 0;
    }
    if (cmd_flag(ctx, "bash-completion")) {
        print_completion(stdout);
        return 0;
    }
    if (ctx->nargs == 0) {
        cmd_print_main_help(stdout);
        return 0;
    }
    struct strbuf name = STRBUF_INIT;
    for (size_t i = 0; i < ctx->nargs; i++)
        strbuf_addf(&name, "%s%s", i ? " " : "", ctx->args[i]);
    for (size_t g = 0; g < cmd_ngroups; g++)
        for (const struct cmd_def *d = cmd_groups[g]; d->name; d++)
            if (strcmp(d->name, strbuf_str(&name)) == 0) {
                strbuf_release(&name);
                cmd_print_help(stdout, d);
                return 0;
            }
    int rc = cmd_usage_error(ctx, "unknown command \"%s\"", strbuf_str(&name));
    fb_error_hint(&ctx->err, "Run \"fmtbank --help\" for the list of commands.");
    strbuf_release(&name);
    return rc;
}

const struct cmd_def cmd_defs_help[] = {
    {"help", cmd_help, 0, {"[COMMAND...]", 0, OPT_ANY, NULL},
     (const struct opt_spec[]){
         {"man", 0, OPT_FLAG, NULL, .help = "print the manual page (roff, for man -l)"},
         {"bash-completion", 0, OPT_FLAG, NULL,
          .help = "print the bash completion script (for \"source\" or "
                  "share/bash-completion/completions)"},
         {0}},
     "help for fmtbank or one command; the manual page; the bash completion",
     "\"fmtbank help donor add\" is \"fmtbank donor add --help\". The build writes the manual\n"
     "page and the completion script from the same command table (build/fmtbank.1,\n"
     "build/fmtbank.bash) and \"make install\" installs them (share/man/man1,\n"
     "share/bash-completion/completions).\n"},
    {0},
};
